"""The measured ways of writing a batch of journal entries, one transaction per batch:

- through the service layer, ``ledger.core.journal.post_entries`` inside ``Database.write()``
  (checks, idempotency look-up, hash chain, rows, book head, commit);
- raw ``sqlite3`` ``executemany`` of the rows the service stored;
- raw psycopg ``executemany`` (pipelined) and COPY of the rows the service stored.

Only the write transaction is timed: making the entries (or reading back the rows for a raw
baseline) happens between timings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from time import perf_counter

import psycopg

from ledger.core import journal
from ledger.core.entries import NewEntry, PostOutcome
from ledger.core.journal_rows import ENTRY_COLUMNS, POSTING_COLUMNS
from ledger.store.database import Database

RowBatch = tuple[list[tuple], list[tuple]]
"""A batch's journal_entry rows and posting rows, in column order."""

_ENTRY_SELECT = f"SELECT {', '.join(ENTRY_COLUMNS)} FROM journal_entry WHERE id >= {{p}} AND id < {{p}} ORDER BY id"
_POSTING_SELECT = (
    f"SELECT {', '.join(POSTING_COLUMNS)} FROM posting WHERE entry_id >= {{p}} AND entry_id < {{p}} ORDER BY entry_id, line_no"
)


@dataclass
class PostingRun:
    entries: int = 0
    postings: int = 0
    batch_seconds: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(self.batch_seconds)

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.seconds

    @property
    def postings_per_second(self) -> float:
        return self.postings / self.seconds

    def add(self, entries: int, postings: int, seconds: float) -> None:
        self.entries += entries
        self.postings += postings
        self.batch_seconds.append(seconds)


def post_through_service(database: Database, batches: Iterable[list[NewEntry]]) -> PostingRun:
    run = PostingRun()
    for batch in batches:
        started = perf_counter()
        with database.write() as session:
            results = journal.post_entries(session, batch)
        elapsed = perf_counter() - started
        assert all(result.outcome is PostOutcome.CREATED for result in results), "every entry should be new"
        run.add(len(batch), sum(len(entry.postings) for entry in batch), elapsed)
    return run


# --- reading back what the service stored --------------------------------------------------


def entry_id_range(connection: sqlite3.Connection | psycopg.Connection, after_id: int) -> tuple[int, int]:
    """The first and last journal entry id above ``after_id`` (the set-up's own entries)."""
    low, high = connection.execute(f"SELECT min(id), max(id) FROM journal_entry WHERE id > {int(after_id)}").fetchone()
    assert low is not None, "nothing was posted"
    return low, high


def stored_row_batches(connection: sqlite3.Connection | psycopg.Connection, after_id: int, batch_size: int) -> Iterator[RowBatch]:
    """The rows posted after ``after_id``, ``batch_size`` entries at a time, exactly as stored
    (on SQLite dates and timestamps are the stored text; on PostgreSQL, date objects)."""
    placeholder = "?" if isinstance(connection, sqlite3.Connection) else "%s"
    entry_select = _ENTRY_SELECT.format(p=placeholder)
    posting_select = _POSTING_SELECT.format(p=placeholder)
    low, high = entry_id_range(connection, after_id)
    for start in range(low, high + 1, batch_size):
        bounds = (start, start + batch_size)
        yield connection.execute(entry_select, bounds).fetchall(), connection.execute(posting_select, bounds).fetchall()


# --- raw baselines -------------------------------------------------------------------------


def _insert(table: str, columns: tuple[str, ...], placeholder: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholder for _ in columns)})"


def raw_sqlite_executemany(target: sqlite3.Connection, batches: Iterable[RowBatch]) -> PostingRun:
    entry_insert = _insert("journal_entry", ENTRY_COLUMNS, "?")
    posting_insert = _insert("posting", POSTING_COLUMNS, "?")
    run = PostingRun()
    for entries, postings in batches:
        started = perf_counter()
        target.execute("BEGIN IMMEDIATE")
        target.executemany(entry_insert, entries)
        target.executemany(posting_insert, postings)
        target.execute("COMMIT")
        run.add(len(entries), len(postings), perf_counter() - started)
    return run


def raw_postgres_executemany(target: psycopg.Connection, batches: Iterable[RowBatch]) -> PostingRun:
    entry_insert = _insert("journal_entry", ENTRY_COLUMNS, "%s")
    posting_insert = _insert("posting", POSTING_COLUMNS, "%s")
    run = PostingRun()
    with target.cursor() as cursor:
        for entries, postings in batches:
            started = perf_counter()
            with target.transaction():
                cursor.executemany(entry_insert, entries)
                cursor.executemany(posting_insert, postings)
            run.add(len(entries), len(postings), perf_counter() - started)
    return run


def raw_postgres_copy(target: psycopg.Connection, batches: Iterable[RowBatch]) -> PostingRun:
    entry_copy = f"COPY journal_entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN"
    posting_copy = f"COPY posting ({', '.join(POSTING_COLUMNS)}) FROM STDIN"
    run = PostingRun()
    with target.cursor() as cursor:
        for entries, postings in batches:
            started = perf_counter()
            with target.transaction():
                for statement, rows in ((entry_copy, entries), (posting_copy, postings)):
                    with cursor.copy(statement) as copy:
                        for row in rows:
                            copy.write_row(row)
            run.add(len(entries), len(postings), perf_counter() - started)
    return run
