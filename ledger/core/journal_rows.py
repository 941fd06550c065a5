"""Reading and writing journal rows: the low-level half of ``ledger.core.journal``.

Writes go straight to the driver with ``executemany`` (or COPY for large batches on
PostgreSQL): the ORM's unit of work costs ~40× raw insert speed on this path (see
``../shared/research/perf.md``), and journal rows are never updated, so nothing is lost by
not tracking them as objects.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.core.entries import Provenance, StoredEntry, StoredPosting, iso_date
from ledger.store.tables import JournalEntry, Posting

SQLITE_IN_CHUNK = 500
COPY_THRESHOLD_ROWS = 2000

ENTRY_COLUMNS = (
    "id",
    "book_id",
    "seq",
    "entry_date",
    "kind",
    "description",
    "idempotency_key",
    "reverses_entry_id",
    "source_file",
    "source_line",
    "source_format",
    "importer",
    "created_at",
    "created_by",
    "content_hash",
    "prev_hash",
    "entry_hash",
)
POSTING_COLUMNS = ("entry_id", "line_no", "account_id", "amount_pence", "entry_date")

_entry = JournalEntry.__table__
_posting = Posting.__table__


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def chunks(items: Sequence, size: int = SQLITE_IN_CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


RESERVABLE_TABLES = frozenset({"journal_entry", "reconciliation_match", "reconciliation_match_part", "flag"})
"""Tables whose rows are never deleted, so that on SQLite max(id) + 1 is never an id used before."""


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` fresh ids of ``table``. On SQLite the caller holds the write lock
    (BEGIN IMMEDIATE), so max(id) cannot move under it; these rows are never deleted, so
    ids are never reused. On PostgreSQL each id comes from the table's sequence."""
    assert table in RESERVABLE_TABLES, table
    if count == 0:
        return []
    if is_sqlite(session):
        top = session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
        return list(range(top + 1, top + 1 + count))
    rows = session.execute(
        text(f"SELECT nextval('{table}_id_seq') FROM generate_series(1, :n)"), {"n": count}
    ).scalars()
    return list(rows)


def account_facts(session: Session, account_ids: Sequence[int]) -> list[tuple[int, int, int | None, str]]:
    """(id, holder id, budget id, code) of each existing account in ``account_ids``."""
    if not account_ids:
        return []
    if is_sqlite(session):
        sql = "SELECT id, holder_id, budget_id, code FROM account WHERE id IN (SELECT value FROM json_each(?))"
        return _driver_rows(session, sql, (json.dumps(list(account_ids)),))
    sql = (
        "SELECT a.id, a.holder_id, a.budget_id, a.code FROM unnest(%s::int[]) AS k(id)"
        " JOIN LATERAL (SELECT id, holder_id, budget_id, code FROM account WHERE id = k.id) AS a ON true"
    )
    return _driver_rows(session, sql, (list(account_ids),))


def keys_in_book(session: Session, book_id: int, keys: Sequence[str]) -> dict[str, int]:
    """Which of ``keys`` the book has used already, and for which entry.

    Each key is one probe of the unique (book, key) index. The list travels as one
    parameter (JSON on SQLite, an array on PostgreSQL) rather than as an IN list: on
    PostgreSQL an IN list is planned from table statistics, and statistics gathered while a
    book was small make it scan the whole book with a many-way filter instead.
    """
    if not keys:
        return {}
    if is_sqlite(session):
        sql = (
            "SELECT idempotency_key, id FROM journal_entry"
            " WHERE book_id = ? AND idempotency_key IN (SELECT value FROM json_each(?))"
        )
        return dict(_driver_rows(session, sql, (book_id, json.dumps(list(keys)))))
    sql = (
        "SELECT e.idempotency_key, e.id FROM unnest(%s::text[]) AS k(key)"
        " JOIN LATERAL (SELECT id, idempotency_key FROM journal_entry"
        " WHERE book_id = %s AND idempotency_key = k.key) AS e ON true"
    )
    return dict(_driver_rows(session, sql, (list(keys), book_id)))


def _driver_rows(session: Session, sql: str, parameters: tuple) -> list[tuple]:
    return [tuple(row) for row in session.connection().exec_driver_sql(sql, parameters)]


def insert_rows(session: Session, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, dates and timestamps already passed
    through :func:`date_encoder`) in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    if is_sqlite(session):
        placeholders = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)
        return
    if len(rows) >= COPY_THRESHOLD_ROWS:
        driver_connection = connection.connection.driver_connection
        with driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    placeholders = ", ".join("%s" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)


def _same(value: object) -> object:
    return value




def _sqlite_timestamp(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime type writes and parses back.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def date_encoder(session: Session) -> tuple[Callable[[date], object], Callable[[datetime], object]]:
    """How to pass a date and a timestamp to the driver: as text on SQLite (what SQLAlchemy
    stores there), as themselves on PostgreSQL."""
    if is_sqlite(session):
        return iso_date, _sqlite_timestamp
    return _same, _same


def load_entries(session: Session, entry_ids: Iterable[int]) -> dict[int, StoredEntry]:
    """Stored entries with their postings, by id. Missing ids are simply absent."""
    ids = sorted(set(entry_ids))
    postings: dict[int, list[StoredPosting]] = defaultdict(list)
    heads = []
    for chunk in chunks(ids):
        heads.extend(session.execute(select(_entry).where(_entry.c.id.in_(chunk))).all())
        for row in session.execute(
            select(_posting.c.entry_id, _posting.c.line_no, _posting.c.account_id, _posting.c.amount_pence)
            .where(_posting.c.entry_id.in_(chunk))
            .order_by(_posting.c.entry_id, _posting.c.line_no)
        ):
            postings[row.entry_id].append(StoredPosting(row.line_no, row.account_id, row.amount_pence))
    return {row.id: stored_entry_from_row(row, postings[row.id]) for row in heads}


def stored_entry_from_row(row, postings: Iterable[StoredPosting]) -> StoredEntry:  # type: ignore[no-untyped-def]
    return StoredEntry(
        id=row.id,
        book_id=row.book_id,
        seq=row.seq,
        entry_date=row.entry_date,
        kind=row.kind,
        description=row.description,
        idempotency_key=row.idempotency_key,
        reverses_entry_id=row.reverses_entry_id,
        provenance=Provenance(row.source_file, row.source_line, row.source_format, row.importer),
        created_at=row.created_at,
        created_by=row.created_by,
        content_hash=row.content_hash,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
        postings=tuple(postings),
    )


def entry_row(entry: StoredEntry, entry_date: object, created_at: object) -> tuple:
    """The row for ``entry``, with its date and timestamp already encoded for the driver."""
    p = entry.provenance
    return (
        entry.id,
        entry.book_id,
        entry.seq,
        entry_date,
        entry.kind,
        entry.description,
        entry.idempotency_key,
        entry.reverses_entry_id,
        p.source_file,
        p.source_line,
        p.source_format,
        p.importer,
        created_at,
        entry.created_by,
        entry.content_hash,
        entry.prev_hash,
        entry.entry_hash,
    )
