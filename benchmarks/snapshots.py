"""SQLite snapshots of a data set, kept under ``benchmarks/out/db/`` between runs:

- ``<set>-setup.sqlite``: migrated and set up (parties, budgets, agreed plans, funding),
  nothing of the set's entries posted yet; every posting run starts from a copy;
- ``<set>-posted.sqlite``: the whole set posted through the service; the balance
  benchmarks read it (and clone it to PostgreSQL).

Each has a ``.json`` marker saying what it holds. A snapshot is reused only if its marker
names the current data-set spec and its schema is exactly what the migrations make today
(compared table by table, index by index, trigger by trigger), so a change to the ledger's
SQLite schema forces a rebuild while changes elsewhere (e.g. PostgreSQL-only SQL) do not.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from time import perf_counter

from benchmarks import budget_setup
from benchmarks.datasets import DATA_SET_VERSION, DataSetSpec, FundedBudget, entry_batches
from benchmarks.posting import PostingRun, post_through_service
from benchmarks.results import git_state
from benchmarks.stores import checkpoint_sqlite, copy_sqlite, migrated_sqlite, sqlite_url
from ledger.store.database import Database

DB_DIR_NAME = "db"


def fingerprint(spec: DataSetSpec) -> dict[str, object]:
    """What a snapshot's marker must say to be reused."""
    return {"spec": asdict(spec), "data_set_version": DATA_SET_VERSION}


def sqlite_schema(path: Path) -> list[tuple[str, str, str | None]]:
    """Every table, index and trigger with its SQL, the lines of each in order. Order is all
    that may differ between two equal schemas: a table Alembic's batch mode has copied lists
    its constraints in whatever order the process's string hashing gave."""
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    return [(kind, name, "\n".join(sorted(line.strip().rstrip(",") for line in sql.splitlines())) if sql else sql) for kind, name, sql in rows]


@functools.cache
def migrated_schema() -> list[tuple[str, str, str | None]]:
    """The schema the migrations make now, from a scratch database."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "schema.sqlite"
        migrated_sqlite(path).dispose()
        return sqlite_schema(path)


def _marker(path: Path) -> Path:
    return path.with_suffix(".json")


def _is_current(path: Path, expected: dict[str, object]) -> bool:
    marker = _marker(path)
    if not path.exists() or not marker.exists():
        return False
    recorded = json.loads(marker.read_text())
    if any(recorded.get(key) != value for key, value in expected.items()):
        return False
    return sqlite_schema(path) == migrated_schema()


def _write_marker(path: Path, facts: dict[str, object]) -> None:
    _marker(path).write_text(json.dumps(facts, indent=2, default=str) + "\n")


def setup_snapshot(spec: DataSetSpec, out_dir: Path) -> tuple[Path, dict[str, object]]:
    """The set-up snapshot of ``spec`` (built if missing or stale) and its marker facts."""
    path = out_dir / DB_DIR_NAME / f"{spec.name}-setup.sqlite"
    expected = fingerprint(spec)
    if not _is_current(path, expected):
        print(f"setting up the {spec.name} set through the service functions ({spec.budgets} budgets) …", flush=True)
        started = perf_counter()
        database = migrated_sqlite(path)
        budget_setup.set_up(database, spec)
        with database.read() as session:
            last_id = session.connection().exec_driver_sql("SELECT coalesce(max(id), 0) FROM journal_entry").scalar_one()
        database.dispose()
        checkpoint_sqlite(path)
        facts = {**expected, "last_setup_entry_id": last_id, "setup_seconds": round(perf_counter() - started, 1), "git": git_state()}
        _write_marker(path, facts)
        print(f"  set up in {perf_counter() - started:.1f} s", flush=True)
    return path, json.loads(_marker(path).read_text())


def funded_budgets(path: Path, spec: DataSetSpec) -> list[FundedBudget]:
    database = Database(sqlite_url(path))
    try:
        with database.read() as session:
            return budget_setup.funded_budgets(session, spec)
    finally:
        database.dispose()


def posted_path(spec: DataSetSpec, out_dir: Path) -> Path:
    return out_dir / DB_DIR_NAME / f"{spec.name}-posted.sqlite"


def posted_snapshot(spec: DataSetSpec, out_dir: Path) -> tuple[Path, dict[str, object]] | None:
    """The posted snapshot of ``spec`` if a current one exists."""
    path = posted_path(spec, out_dir)
    if not _is_current(path, fingerprint(spec)):
        return None
    return path, json.loads(_marker(path).read_text())


def keep_as_posted(service_path: Path, spec: DataSetSpec, out_dir: Path, facts: dict[str, object]) -> Path:
    """Move a database the service has posted the whole set into to the posted snapshot."""
    target = posted_path(spec, out_dir)
    checkpoint_sqlite(service_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{service_path}{suffix}").unlink(missing_ok=True)
    service_path.replace(target)
    _write_marker(target, facts)
    return target


def posted_facts(run: PostingRun, built_by: str) -> dict[str, object]:
    return {
        "entries": run.entries,
        "postings": run.postings,
        "built_by": built_by,
        "service_seconds": round(run.seconds, 1),
        "service_entries_per_s": round(run.entries_per_second),
        "posted_with": git_state(),
    }


def build_posted(spec: DataSetSpec, out_dir: Path, batch_size: int) -> tuple[Path, dict[str, object], PostingRun]:
    """Post the whole set through the service into a copy of the set-up snapshot, and keep
    it as the posted snapshot."""
    setup_path, facts = setup_snapshot(spec, out_dir)
    funded = funded_budgets(setup_path, spec)
    service_path = copy_sqlite(setup_path, setup_path.with_name(f"{spec.name}-service.sqlite"))
    print(f"posting the {spec.name} set through the service (≈ {spec.approximate_entries:,} entries) …", flush=True)
    database = Database(sqlite_url(service_path))
    try:
        run = post_through_service(database, entry_batches(spec, funded, batch_size))
    finally:
        database.dispose()
    print(f"  {run.entries:,} entries in {run.seconds:.1f} s = {run.entries_per_second:,.0f} entries/s", flush=True)
    facts = {**facts, **posted_facts(run, "snapshots.build_posted")}
    return keep_as_posted(service_path, spec, out_dir, facts), facts, run
