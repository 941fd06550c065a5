"""Drawdown runs through the service (``ledger.loads.runs.post_due_drawdowns``): a 52-week
catch-up for every budget of a set, then one weekly run, on SQLite.

Targets (issue 10): a weekly run for 2,500 budgets (the ``icb`` set) < 5 s; a 52-week
catch-up for 2,500 budgets < 60 s. Each measurement starts from a copy of the set's set-up
snapshot (budgets agreed and funded, nothing loaded); schedules, the book lock, posting with
its hash chain and the ``drawdown`` rows are all inside the timing.

    python -m benchmarks.bench_drawdowns --set icb
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from benchmarks.cli import exit_cleanly_on_sigterm, parser, verdict
from benchmarks.datasets import DATA_SETS, PERIOD_START
from benchmarks.snapshots import setup_snapshot
from benchmarks.stores import copy_sqlite, sqlite_url
from ledger.loads.runs import DrawdownRun, post_due_drawdowns
from ledger.store.database import Database

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # the data sets lie in the past: any later clock will do
WEEKLY_TARGET_S = 5.0
CATCH_UP_TARGET_S = 60.0


def main(argv: list[str] | None = None) -> int:
    exit_cleanly_on_sigterm()
    args = parser(__doc__ or "").parse_args(argv)
    spec = DATA_SETS[args.set]
    setup_path, _ = setup_snapshot(spec, args.out)
    end_of_week_52 = datetime.combine(PERIOD_START + timedelta(weeks=52) - timedelta(days=1), datetime.max.time(), tzinfo=LONDON)
    catch_ups, weeklies = [], []
    for attempt in range(args.repeat):
        work = copy_sqlite(setup_path, args.out / "db" / f"{spec.name}-drawdowns.sqlite")
        database = Database(sqlite_url(work))
        try:
            seconds, run = _timed(database, end_of_week_52)
            catch_ups.append(seconds)
            _report(f"catch-up of 52 weeks, run {attempt + 1}", seconds, run)
            # Easter Monday 2024 (1 April) was loaded early, on the Thursday, by the catch-up;
            # the next weekly run is the one for 8 April.
            seconds, run = _timed(database, end_of_week_52 + timedelta(weeks=1, days=1))
            weeklies.append(seconds)
            _report(f"weekly run, run {attempt + 1}", seconds, run)
        finally:
            database.dispose()
    catch_up, weekly = sorted(catch_ups)[len(catch_ups) // 2], sorted(weeklies)[len(weeklies) // 2]
    print(f"{spec.name}: median 52-week catch-up {catch_up:.2f} s ({verdict(catch_up < CATCH_UP_TARGET_S)} < {CATCH_UP_TARGET_S:.0f} s),"
          f" median weekly run {weekly:.2f} s ({verdict(weekly < WEEKLY_TARGET_S)} < {WEEKLY_TARGET_S:.0f} s)")  # fmt: skip
    return 0


def _timed(database: Database, as_of: datetime) -> tuple[float, DrawdownRun]:
    started = time.perf_counter()
    with database.write() as session:
        run = post_due_drawdowns(session, as_of, now=NOW, created_by="benchmark")
    return time.perf_counter() - started, run


def _report(label: str, seconds: float, run: DrawdownRun) -> None:
    budgets = len({load.budget_reference for load in run.posted})
    print(f"{label}: {len(run.posted):,} loads for {budgets:,} budgets ({run.parts_checked:,} parts checked) in {seconds:.2f} s"
          f" = {len(run.posted) / seconds:,.0f} loads/s")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
