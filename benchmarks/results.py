"""Recording benchmark results: statistics over repeated runs, what machine they ran on, and
one JSON object per line in ``benchmarks/out/<bench>.jsonl``."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path


@dataclass(frozen=True)
class Spread:
    """The median of repeated measurements, their range, and the range as a share of the median."""

    median: float
    low: float
    high: float
    spread_percent: float
    runs: int

    def describe(self, unit: str = "", digits: int = 3) -> str:
        return (
            f"{self.median:,.{digits}f}{unit} (min {self.low:,.{digits}f}, max {self.high:,.{digits}f},"
            f" spread {self.spread_percent:.1f} %, n={self.runs})"
        )


def spread(values: Sequence[float]) -> Spread:
    assert values, "no measurements"
    middle = statistics.median(values)
    return Spread(middle, min(values), max(values), 100 * (max(values) - min(values)) / middle if middle else 0.0, len(values))


def percentile(values: Sequence[float], percent: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * (len(ordered) - 1))))
    return ordered[index]


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine() -> dict[str, object]:
    """What the numbers were measured on, and how busy it was when they started."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git": git_state(),
        "load_average_at_start": load_average(),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def git_state() -> dict[str, object]:
    """The commit, and whether ``ledger/`` had uncommitted changes (others work in this
    checkout at the same time, so the code measured can differ from the commit)."""
    return {"commit": _git("rev-parse", "--short", "HEAD"), "ledger_changed": bool(_git("status", "--porcelain", "--", "ledger"))}


def _git(*arguments: str) -> str | None:
    try:
        found = subprocess.run(["git", *arguments], capture_output=True, text=True, check=True, cwd=Path(__file__).parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return found.stdout.strip()


class Recorder:
    """Appends one JSON line per measurement; every line carries the run's id and settings."""

    def __init__(self, out_dir: Path, bench: str, settings: dict[str, object]) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / f"{bench}.jsonl"
        self.started = datetime.now(UTC)
        self.common = {"bench": bench, "run_id": self.started.strftime("%Y%m%dT%H%M%SZ"), **settings}
        self.write({"event": "start", "machine": machine(), "argv": sys.argv[1:]})

    def write(self, record: dict[str, object]) -> None:
        line = {**self.common, "at": datetime.now(UTC).isoformat(timespec="seconds"), **record}
        with self.path.open("a") as out:
            out.write(json.dumps(line, default=_jsonable) + "\n")

    def finish(self) -> None:
        self.write({"event": "finish", "load_average_at_end": load_average()})


def _jsonable(value: object) -> object:
    if isinstance(value, Spread):
        return asdict(value)
    if isinstance(value, Path | date):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
