"""Changing journal rows behind the application's back, for the tamper-evidence tests.

The application cannot alter the journal (append-only triggers on both databases, and on
PostgreSQL no UPDATE or DELETE grant for its role), so a tamperer needs more than the
application has: the SQLite file itself, or PostgreSQL's owner role. :class:`Tamperer` does
what such a person would — drops (SQLite) or disables (PostgreSQL) the triggers, changes
rows, and puts the triggers back — all in one transaction, so the database is left exactly
as before except for the change.

Statements are written with ``?`` placeholders; on PostgreSQL they become ``%s``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ledger.store.database import Database
from tests.support.databases import PostgresTestDatabase

JOURNAL_TABLES = ("journal_entry", "posting")
Statement = tuple[str, Sequence[object]]


class Tamperer:
    def __init__(self, database: Database, postgres: PostgresTestDatabase | None = None) -> None:
        self.database = database
        self.postgres = postgres
        assert database.is_sqlite or postgres is not None, "PostgreSQL tampering needs the owner connection"

    def execute(self, *statements: Statement) -> None:
        if self.database.is_sqlite:
            self._on_sqlite(statements)
        else:
            self._on_postgres(statements)

    def _on_sqlite(self, statements: Sequence[Statement]) -> None:
        path = self.database.engine.url.database
        assert path, "a file database"
        connection = sqlite3.connect(path, isolation_level=None, timeout=15)
        try:
            connection.execute("BEGIN IMMEDIATE")
            placeholders = ", ".join("?" for _ in JOURNAL_TABLES)
            triggers = connection.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({placeholders})",
                JOURNAL_TABLES,
            ).fetchall()
            assert triggers, "the append-only triggers should be there to drop"
            for name, _ in triggers:
                connection.execute(f'DROP TRIGGER "{name}"')
            for sql, parameters in statements:
                connection.execute(sql, tuple(parameters))
            for _, sql in triggers:
                connection.execute(sql)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def _on_postgres(self, statements: Sequence[Statement]) -> None:
        assert self.postgres is not None
        with self.postgres.owner_connection() as connection:
            with connection.transaction():
                for table in JOURNAL_TABLES:
                    connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                for sql, parameters in statements:
                    connection.execute(sql.replace("?", "%s"), tuple(parameters))
                for table in JOURNAL_TABLES:
                    connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
