"""Where the service layer spends its time when it posts a batch, phase by phase.

:class:`PhaseTimer` swaps timing wrappers in for the functions ``ledger.core.journal`` calls
(for the duration of a ``with`` block only; nothing in ``ledger/`` is changed) and
records each phase's *own* time, without the phases it calls. The wrappers cost about a
microsecond per call, so this pass is kept apart from the throughput runs.

:func:`pyinstrument_profile` gives the same picture as a sampled call tree.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from ledger.core import journal, journal_rows
from ledger.core.entries import NewEntry
from ledger.store.database import Database

# (module, function, phase label), in the order a post goes through them.
PHASES = (
    (journal, "post_entries", "post_entries: grouping by book, results (own time)"),
    (journal, "_assert_write_transaction", "open transaction (connection, BEGIN)"),
    (journal, "check_shape", "check shape (per entry)"),
    (journal, "_load_accounts", "load accounts (SELECT … IN)"),
    (journal, "_post_to_book", "per-book loop: results, replays (own time)"),
    (journal, "_lock_book", "lock book, read chain head"),
    (journal, "_check_accounts", "check accounts exist and are in the book"),
    (journal, "check_balanced", "check balanced within each fund"),
    (journal, "new_entry_content_hash", "content hash (SHA-256)"),
    (journal, "_sort_out_replays", "idempotency look-up (SELECT keys)"),
    (journal, "_check_state", "state checks: closed periods, agreed plans"),
    (journal_rows, "reserve_ids", "reserve entry ids"),
    (journal, "chain_hash_with", "chain hash (SHA-256)"),
    (journal_rows, "entry_row", "build entry rows"),
    (journal, "_append", "append: stored values, posting rows, book head UPDATE (own time)"),
    (journal_rows, "insert_rows", "insert rows"),
    (journal_rows, "load_entries", "load replayed originals"),
)
OPEN_SESSION = "open session (Database.write)"
COMMIT = "commit"


@dataclass(frozen=True)
class PhaseTime:
    label: str
    seconds: float
    calls: int


class PhaseTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._children: list[float] = []

    def add(self, label: str, seconds: float) -> None:
        self.seconds[label] += seconds
        self.calls[label] += 1

    def _wrap(self, label: str, function: Callable, by_table: bool) -> Callable:
        @functools.wraps(function)
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = perf_counter()
            self._children.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = perf_counter() - started
                children = self._children.pop()
                self.add(f"{label}: {args[1]}" if by_table else label, elapsed - children)
                if self._children:
                    self._children[-1] += elapsed

        return timed

    @contextmanager
    def installed(self) -> Iterator[PhaseTimer]:
        present = [(module, name, label) for module, name, label in PHASES if hasattr(module, name)]
        for module, name, _ in sorted(set(PHASES) - set(present), key=str):
            print(f"  (phase {module.__name__}.{name} no longer exists; not timed)")
        originals = [(module, name, getattr(module, name)) for module, name, _ in present]
        try:
            for (module, name, label), (_, _, original) in zip(present, originals, strict=True):
                setattr(module, name, self._wrap(label, original, by_table=name == "insert_rows"))
            yield self
        finally:
            for module, name, original in originals:
                setattr(module, name, original)

    def table(self) -> list[PhaseTime]:
        return sorted((PhaseTime(label, self.seconds[label], self.calls[label]) for label in self.seconds), key=lambda p: -p.seconds)


def time_phases(database: Database, batches: Iterable[list[NewEntry]]) -> tuple[PhaseTimer, int]:
    """Post ``batches`` through the service with every phase timed; returns the timer and
    how many entries were posted."""
    timer = PhaseTimer()
    entries = 0
    with timer.installed():
        for batch in batches:
            started = perf_counter()
            with database.write() as session:
                opened = perf_counter()
                journal.post_entries(session, batch)
                posted = perf_counter()
            timer.add(OPEN_SESSION, opened - started)
            timer.add(COMMIT, perf_counter() - posted)
            entries += len(batch)
    return timer, entries


def describe(timer: PhaseTimer, entries: int) -> list[str]:
    total = sum(timer.seconds.values())
    lines = [f"{'phase':<70} {'s':>8} {'%':>6} {'µs/entry':>9} {'calls':>8}"]
    for phase in timer.table():
        lines.append(
            f"{phase.label:<70} {phase.seconds:8.3f} {100 * phase.seconds / total:6.1f}"
            f" {1e6 * phase.seconds / entries:9.2f} {phase.calls:8d}"
        )
    lines.append(f"{'total':<70} {total:8.3f} {100.0:6.1f} {1e6 * total / entries:9.2f}")
    return lines


def pyinstrument_profile(database: Database, batches: Iterable[list[NewEntry]], out_stem: Path) -> Path:
    """Post ``batches`` under pyinstrument; writes ``<out_stem>.txt`` and ``.html``."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    for batch in batches:
        profiler.start()
        with database.write() as session:
            journal.post_entries(session, batch)
        profiler.stop()
    text_path = out_stem.with_suffix(".txt")
    text_path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    out_stem.with_suffix(".html").write_text(profiler.output_html())
    return text_path
