"""Test databases: a migrated SQLite template copied per test, and one PostgreSQL database
per test session (created from PHB_LEDGER_TEST_POSTGRES_URL, dropped afterwards) that is
emptied between tests.

Without a PostgreSQL server the PostgreSQL tests skip with the reason — unless CI=true,
where they fail: CI must prove the suite on both databases.
"""

from __future__ import annotations

import importlib
import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from ledger.core.vocabulary import SEEDED_CATEGORIES
from ledger.store import migrate
from ledger.store.database import Database
from ledger.store.roles import ensure_application_login
from ledger.store.tables import metadata

REVIEW_INTERVAL_SEED = importlib.import_module("ledger.store.migrations.versions.0007_reviews").SEED

POSTGRES_URL_ENV = "PHB_LEDGER_TEST_POSTGRES_URL"
POSTGRES_URL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Tables whose rows the migrations own and tests leave alone; every other table is emptied
# between tests (the seeded ones are seeded again).
_TABLES_KEPT = frozenset({"alembic_version", "scheduler_lease", "apscheduler_jobs"})


def admin_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV, POSTGRES_URL_DEFAULT)
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlalchemy(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def postgres_unavailable_reason() -> str | None:
    try:
        with psycopg.connect(admin_url(), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL is not reachable at {admin_url()} ({POSTGRES_URL_ENV}): {str(error).strip()}"
    return None


def require_postgres() -> None:
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


TEST_LOGIN = "phb_ledger_test_login"
"""The service's login in the tests, as in production: a member of the application role,
not a superuser, owning nothing (the server's administrator from the test URL owns the
tables and runs the migrations)."""


class PostgresTestDatabase:
    """One database for the test session: created and migrated once, emptied per test.
    ``url`` is the service's login, ``owner_url`` the owner's."""

    def __init__(self) -> None:
        self.name = f"phb_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        owner = make_url(admin_url()).set(database=self.name)
        self.owner_url = _sqlalchemy(owner.render_as_string(hide_password=False))
        self.url = _sqlalchemy(owner.set(username=TEST_LOGIN, password=None).render_as_string(hide_password=False))
        with psycopg.connect(admin_url(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
            ensure_application_login(connection, TEST_LOGIN)
        database = self.database()
        migrate.upgrade(database)
        database.dispose()

    def database(self) -> Database:
        return Database(self.url, owner_url=self.owner_url)

    def empty(self) -> None:
        """Empty every table, restart every sequence and put the seeded rows back.

        DELETE, children before parents, with triggers off (``session_replication_role``, as a
        superuser): on tables this small it is a quarter of the time of TRUNCATE, which makes
        new files for every table, and the suite empties the database several hundred times.
        """
        tables = [table.name for table in reversed(metadata.sorted_tables) if table.name not in _TABLES_KEPT]
        with psycopg.connect(_libpq(self.owner_url), autocommit=True) as connection, connection.transaction():
            connection.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            sequences = connection.execute(
                "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'"
            ).fetchall()
            for (sequence,) in sequences:
                connection.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(sequence)))
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO category (holder_id, code, name, plain_name) VALUES (NULL, %s, %s, %s)",
                    list(SEEDED_CATEGORIES),
                )
            connection.execute(REVIEW_INTERVAL_SEED)

    def drop(self) -> None:
        with psycopg.connect(admin_url(), autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.name,),
            )
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.name)))

    def owner_connection(self) -> psycopg.Connection:
        """A connection as the owner (not the application role): for tests that tamper."""
        return psycopg.connect(_libpq(self.owner_url), autocommit=True)


class SqliteTemplate:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        database = Database(f"sqlite:///{self.path}")
        migrate.upgrade(database)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.dispose()

    def copy_to(self, target: Path) -> str:
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"
