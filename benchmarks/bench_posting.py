"""Bulk posting: the service layer against raw driver inserts of the very same rows.

    python -m benchmarks.bench_posting --db sqlite --set reference --repeat 3

Each run starts from a copy of the set-up database (parties, budgets, agreed plans; see
``snapshots.py``) and posts the whole set with ``ledger.core.journal.post_entries`` inside
``Database.write()``, one transaction per batch (``--batch-size`` entries, default 50,000:
a statement import or payroll run posts its whole file in one transaction, since it must
land whole or not at all; 10,000 shows the cost of more, smaller commits).
Then, in the same process, the rows the service stored are read back and written into
another copy of the set-up database by the raw driver, batch for batch: ``sqlite3``
``executemany`` on SQLite (same PRAGMAs as ``ledger/store/database.py``); psycopg ``executemany``
and COPY on PostgreSQL. Runs alternate (service, raw, service, raw …) so that a busy spell
on the machine hits both sides. Last, a separate pass times each phase of the service.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from itertools import islice

import psycopg

from benchmarks import budget_setup, phases, snapshots
from benchmarks.cli import exit_cleanly_on_sigterm, parser, verdict
from benchmarks.datasets import DATA_SETS, DataSetSpec, FundedBudget, entry_batches
from benchmarks.posting import (
    PostingRun,
    post_through_service,
    raw_postgres_copy,
    raw_postgres_executemany,
    raw_sqlite_executemany,
    stored_row_batches,
)
from benchmarks.results import Recorder, load_average, spread
from benchmarks.stores import PostgresScratch, copy_sqlite, postgres_scratch, raw_sqlite, remove_sqlite, sqlite_url
from ledger.store.database import Database

BATCH_SIZE_DEFAULT = 50_000
PROFILE_BATCHES_DEFAULT = 10
TARGET_SERVICE_ENTRIES_PER_S = 20_000
TARGET_SHARE_OF_RAW = 0.25

JOURNAL_TABLES = ("journal_entry", "posting")
RawInsert = Callable[[psycopg.Connection, object], PostingRun]
FreshDatabase = Callable[[str], AbstractContextManager[Database]]
"""Gives a fresh copy of the set-up database for the block, then throws it away."""


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--batch-size", type=int, default=BATCH_SIZE_DEFAULT, help="entries per transaction")
    options.add_argument("--max-batches", type=int, default=None, help="post only the first N batches of the set (default: all)")
    options.add_argument(
        "--profile-batches", type=int, default=PROFILE_BATCHES_DEFAULT, help="batches in the per-phase pass (0: none)"
    )
    options.add_argument("--pyinstrument", action="store_true", help="also profile the phase-pass batches with pyinstrument")
    options.add_argument(
        "--diagnose-triggers", action="store_true", help="PostgreSQL: also COPY with the journal tables' own triggers disabled"
    )
    options.add_argument(
        "--no-analyze", action="store_true", help="PostgreSQL: post into a set-up database without planner statistics"
    )
    args = options.parse_args(argv)
    exit_cleanly_on_sigterm()
    spec = DATA_SETS[args.set]
    settings = {"db": args.db, "set": spec.name, "batch_size": args.batch_size, "max_batches": args.max_batches}
    recorder = Recorder(args.out, "posting", {**settings, "analyzed": not args.no_analyze})
    try:
        runs = _run_sqlite(spec, args, recorder) if args.db == "sqlite" else _run_postgresql(spec, args, recorder)
        _summarise(recorder, args.db, runs)
    finally:
        recorder.finish()
    return 0


def _batches(spec: DataSetSpec, funded: list[FundedBudget], args) -> Iterator[list]:  # type: ignore[no-untyped-def]
    """The set's batches, or only the first ``--max-batches`` of them."""
    return islice(entry_batches(spec, funded, args.batch_size), args.max_batches)


def _record(recorder: Recorder, runs: dict[str, list[PostingRun]], method: str, run: PostingRun) -> None:
    runs.setdefault(method, []).append(run)
    number = len(runs[method])
    recorder.write(
        {
            "event": "run",
            "method": method,
            "run": number,
            "entries": run.entries,
            "postings": run.postings,
            "seconds": round(run.seconds, 3),
            "entries_per_s": round(run.entries_per_second),
            "slowest_batch_s": round(max(run.batch_seconds), 3),
            "load_average": load_average(),
        }
    )
    rate = f"{run.entries:,} entries in {run.seconds:7.2f} s = {run.entries_per_second:9,.0f} entries/s"
    print(f"  {method:<16} run {number}: {rate}", flush=True)


# --- SQLite -------------------------------------------------------------------------------


def _run_sqlite(spec: DataSetSpec, args, recorder: Recorder) -> dict[str, list[PostingRun]]:  # type: ignore[no-untyped-def]
    setup_path, facts = snapshots.setup_snapshot(spec, args.out)
    funded = snapshots.funded_budgets(setup_path, spec)
    after_id = int(facts["last_setup_entry_id"])
    service_path = setup_path.with_name(f"{spec.name}-service.sqlite")
    raw_path = setup_path.with_name(f"{spec.name}-raw.sqlite")
    runs: dict[str, list[PostingRun]] = {}
    print(f"posting the {spec.name} set on SQLite, {args.batch_size:,} entries per transaction", flush=True)
    for _ in range(args.repeat):
        database = Database(sqlite_url(copy_sqlite(setup_path, service_path)))
        try:
            service = post_through_service(database, _batches(spec, funded, args))
        finally:
            database.dispose()
        _record(recorder, runs, "service", service)
        copy_sqlite(setup_path, raw_path)
        with closing(sqlite3.connect(service_path)) as source, closing(raw_sqlite(raw_path)) as target:
            raw = raw_sqlite_executemany(target, stored_row_batches(source, after_id, args.batch_size))
        remove_sqlite(raw_path)
        assert (raw.entries, raw.postings) == (service.entries, service.postings)
        _record(recorder, runs, "raw_executemany", raw)
    if args.max_batches is None:
        snapshots.keep_as_posted(service_path, spec, args.out, {**facts, **snapshots.posted_facts(service, "bench_posting")})
    else:
        remove_sqlite(service_path)

    @contextmanager
    def fresh(suffix: str) -> Iterator[Database]:
        path = copy_sqlite(setup_path, setup_path.with_name(f"{spec.name}-{suffix}.sqlite"))
        database = Database(sqlite_url(path))
        try:
            yield database
        finally:
            database.dispose()
            remove_sqlite(path)

    _profile(spec, funded, args, recorder, fresh)
    return runs


# --- PostgreSQL ---------------------------------------------------------------------------


def _run_postgresql(spec: DataSetSpec, args, recorder: Recorder) -> dict[str, list[PostingRun]]:  # type: ignore[no-untyped-def]
    runs: dict[str, list[PostingRun]] = {}
    with postgres_scratch() as scratch:
        setup_name, funded, after_id = _postgres_setup(scratch, spec, analyze=not args.no_analyze)
        print(f"posting the {spec.name} set on PostgreSQL, {args.batch_size:,} entries per transaction", flush=True)
        for _ in range(args.repeat):
            service_name = scratch.create("service", template=setup_name)
            database = Database(scratch.sqlalchemy_url(service_name))
            try:
                service = post_through_service(database, _batches(spec, funded, args))
            finally:
                database.dispose()
            _record(recorder, runs, "service", service)
            for method, insert, without in _postgres_baselines(args.diagnose_triggers):
                raw = _raw_postgres(scratch, setup_name, service_name, after_id, args.batch_size, insert, without)
                assert (raw.entries, raw.postings) == (service.entries, service.postings)
                _record(recorder, runs, method, raw)
            scratch.drop(service_name)

        @contextmanager
        def fresh(suffix: str) -> Iterator[Database]:
            name = scratch.create(suffix, template=setup_name)
            database = Database(scratch.sqlalchemy_url(name))
            try:
                yield database
            finally:
                database.dispose()
                scratch.drop(name)

        _profile(spec, funded, args, recorder, fresh)
    return runs


def _postgres_setup(scratch: PostgresScratch, spec: DataSetSpec, *, analyze: bool) -> tuple[str, list[FundedBudget], int]:
    """A migrated, set-up database to copy for every run (``CREATE DATABASE … TEMPLATE``).

    With ``analyze``, the set-up tables get planner statistics, as autovacuum gives a live
    database within a minute or so. Without them the journal's queries and its commit-time
    balance trigger are planned with no statistics at all (see the README)."""
    print(f"setting up the {spec.name} set on PostgreSQL through the service functions …", flush=True)
    setup_name = scratch.create_migrated("setup")
    database = Database(scratch.sqlalchemy_url(setup_name))
    try:
        funded = budget_setup.set_up(database, spec)
        with database.read() as session:
            after_id = session.connection().exec_driver_sql("SELECT coalesce(max(id), 0) FROM journal_entry").scalar_one()
    finally:
        database.dispose()
    if analyze:
        scratch.vacuum_analyze(setup_name)
    return setup_name, funded, int(after_id)


def _postgres_baselines(diagnose_triggers: bool) -> list[tuple[str, RawInsert, tuple[str, ...]]]:
    """(method, insert, tables whose user triggers to disable first). The last is a
    diagnosis, not a baseline: COPY into the same schema less the journal's own triggers
    (the commit-time balance check and its companions; foreign keys stay)."""
    baselines: list[tuple[str, RawInsert, tuple[str, ...]]] = [
        ("raw_executemany", raw_postgres_executemany, ()),
        ("raw_copy", raw_postgres_copy, ()),
    ]
    if diagnose_triggers:
        baselines.append(("copy_no_journal_triggers", raw_postgres_copy, JOURNAL_TABLES))
    return baselines


def _raw_postgres(
    scratch: PostgresScratch, setup_name: str, service_name: str, after_id: int, batch_size: int,
    insert: RawInsert, without_triggers_on: tuple[str, ...],
) -> PostingRun:  # fmt: skip
    target_name = scratch.create("raw", template=setup_name)
    try:
        with psycopg.connect(scratch.libpq_url(target_name), autocommit=True) as owner:
            for table in without_triggers_on:
                owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        with psycopg.connect(scratch.libpq_url(service_name)) as source, psycopg.connect(
            scratch.libpq_url(target_name), autocommit=True
        ) as target:
            return insert(target, stored_row_batches(source, after_id, batch_size))
    finally:
        scratch.drop(target_name)


# --- per-phase profile and summary --------------------------------------------------------


def _profile(  # type: ignore[no-untyped-def]
    spec: DataSetSpec, funded: list[FundedBudget], args, recorder: Recorder, fresh: FreshDatabase
) -> None:
    """Time each phase of the service over the first ``--profile-batches`` batches of the
    set, posted into a fresh copy of the set-up database."""
    if args.profile_batches <= 0:
        return
    with fresh("phases") as database:
        timer, entries = phases.time_phases(database, islice(entry_batches(spec, funded, args.batch_size), args.profile_batches))
    table = phases.describe(timer, entries)
    print(f"\nservice layer, time per phase over {entries:,} entries ({args.db}):\n" + "\n".join(table), flush=True)
    recorder.write(
        {
            "event": "phases",
            "entries": entries,
            "phases": [{"phase": p.label, "seconds": round(p.seconds, 4), "calls": p.calls} for p in timer.table()],
        }
    )
    if args.pyinstrument:
        stem = args.out / f"posting-profile-{args.db}-{spec.name}"
        with fresh("pyinstrument") as database:
            batches = islice(entry_batches(spec, funded, args.batch_size), args.profile_batches)
            report = phases.pyinstrument_profile(database, batches, stem)
        print(f"pyinstrument profile: {report} (and .html)", flush=True)


def _summarise(recorder: Recorder, db: str, runs: dict[str, list[PostingRun]]) -> None:
    print(f"\nsummary ({db}; median of {len(runs['service'])} runs, spread = (max − min) / median):")
    medians: dict[str, float] = {}
    for method, method_runs in runs.items():
        rate = spread([run.entries_per_second for run in method_runs])
        medians[method] = rate.median
        seconds = spread([run.seconds for run in method_runs])
        recorder.write({"event": "summary", "method": method, "entries_per_s": rate, "seconds": seconds})
        print(f"  {method:<16} {rate.describe(' entries/s', 0)}")
    for baseline in (m for m in runs if m != "service"):
        paired = [s.entries_per_second / r.entries_per_second for s, r in zip(runs["service"], runs[baseline], strict=True)]
        ratio = medians["service"] / medians[baseline]
        recorder.write({"event": "ratio", "service_over": baseline, "ratio_of_medians": round(ratio, 4), "paired_ratios": paired})
        print(f"  service / {baseline}: {ratio:.1%} (paired runs: {', '.join(f'{p:.1%}' for p in paired)})")
    if db == "sqlite":
        fast = medians["service"] >= TARGET_SERVICE_ENTRIES_PER_S
        share = medians["service"] / medians["raw_executemany"] >= TARGET_SHARE_OF_RAW
        print(f"  target ≥ {TARGET_SERVICE_ENTRIES_PER_S:,} entries/s: {verdict(fast)}")
        print(f"  target ≥ {TARGET_SHARE_OF_RAW:.0%} of raw: {verdict(share)}")
        recorder.write({"event": "targets", "entries_per_s_pass": fast, "share_of_raw_pass": share})


if __name__ == "__main__":
    raise SystemExit(main())
