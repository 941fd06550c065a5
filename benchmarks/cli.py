"""What the benchmark commands share: their common options and clean exits."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from benchmarks.datasets import DATA_SETS
from benchmarks.stores import OUT_DIR


def parser(description: str) -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parsed.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite", help="database to measure")
    parsed.add_argument("--set", choices=tuple(DATA_SETS), default="small", help="data set (see benchmarks/datasets.py)")
    parsed.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    parsed.add_argument("--out", type=Path, default=OUT_DIR, help="where results (JSON lines) and SQLite files go")
    return parsed


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks drop the PostgreSQL databases."""
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(128 + signal.SIGTERM))


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"
