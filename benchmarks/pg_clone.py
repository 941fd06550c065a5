"""Copying a posted SQLite snapshot into a migrated PostgreSQL database, row for row, so the
balance benchmarks read exactly the data the service posted (ids, hashes and all) without
posting it all again at PostgreSQL's much slower rate.

The rows were checked when the service posted them, so the copy runs with
``session_replication_role = replica``, which skips foreign-key and user triggers; it needs
a superuser (the benchmark connects as the cluster owner). Afterwards each id sequence is
moved past the copied ids, as if the service had written them.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from time import perf_counter

import psycopg
from psycopg import sql

from ledger.store.tables import metadata

FETCH_ROWS = 50_000


def clone_sqlite_to_postgres(source_path: Path, target_url: str) -> dict[str, int]:
    """Copy every ledger table; returns rows copied per table."""
    tables = metadata.sorted_tables
    copied: dict[str, int] = {}
    started = perf_counter()
    with closing(sqlite3.connect(source_path)) as source, psycopg.connect(target_url) as target:
        with target.transaction():
            target.execute("SET LOCAL session_replication_role = replica")
            target.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t.name) for t in tables)))
            for table in tables:
                copied[table.name] = _copy_table(source, target, table.name, [column.name for column in table.columns])
        _move_sequences(target, [table.name for table in tables if "id" in table.columns])
    print(f"  copied {sum(copied.values()):,} rows to PostgreSQL in {perf_counter() - started:.1f} s", flush=True)
    return copied


def _copy_table(source: sqlite3.Connection, target: psycopg.Connection, table: str, columns: list[str]) -> int:
    column_list = ", ".join(columns)
    cursor = source.execute(f"SELECT {column_list} FROM {table}")
    count = 0
    with target.cursor() as out, out.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
        while rows := cursor.fetchmany(FETCH_ROWS):
            for row in rows:
                copy.write_row(row)
            count += len(rows)
    return count


def _move_sequences(target: psycopg.Connection, tables: list[str]) -> None:
    with target.transaction():
        for table in tables:
            sequence = target.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
            if sequence and sequence[0]:
                target.execute(
                    sql.SQL("SELECT setval(%s, coalesce((SELECT max(id) FROM {}), 0) + 1, false)").format(sql.Identifier(table)),
                    (sequence[0],),
                )
