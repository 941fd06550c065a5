"""The databases the benchmarks run on: migrated SQLite files under ``benchmarks/out/`` and
throwaway PostgreSQL databases named ``phb_bench_<pid>_…`` that are always dropped.

Raw connections here use the same settings as ``ledger/store/database.py``, so a raw baseline
differs from the service layer only in what the service does, not in how the database is
configured.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from ledger.store import migrate
from ledger.store.database import SQLITE_BUSY_TIMEOUT_MS, SQLITE_PRAGMAS, Database
from ledger.store.roles import ensure_application_login

OUT_DIR = Path(__file__).parent / "out"
POSTGRES_ADMIN_URL_ENV = "PHB_BENCH_POSTGRES_URL"
POSTGRES_ADMIN_URL_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_LOGIN = "phb_ledger_bench_login"


# --- SQLite -------------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def migrated_sqlite(path: Path) -> Database:
    """A new, empty SQLite database at ``path`` at the head migration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_sqlite(path)
    database = Database(sqlite_url(path))
    migrate.upgrade(database)
    return database


def checkpoint_sqlite(path: Path) -> None:
    """Fold the WAL into the main file, so the file alone is the whole database."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def copy_sqlite(source: Path, target: Path) -> Path:
    checkpoint_sqlite(source)
    remove_sqlite(target)
    shutil.copyfile(source, target)
    return target


def raw_sqlite(path: Path) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection configured as the service's, in autocommit mode so
    the caller writes its own ``BEGIN IMMEDIATE`` and ``COMMIT``."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    for pragma in SQLITE_PRAGMAS:
        connection.execute(pragma)
    return connection


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_admin_url() -> str:
    return os.environ.get(POSTGRES_ADMIN_URL_ENV, POSTGRES_ADMIN_URL_DEFAULT)


def _with_database(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


class PostgresScratch:
    """Databases created for one benchmark process; :meth:`drop_all` removes every one."""

    def __init__(self, admin_url: str | None = None) -> None:
        self.admin_url = admin_url or postgres_admin_url()
        self.prefix = f"phb_bench_{os.getpid()}"
        self.created: list[str] = []
        self._login_ready = False

    def libpq_url(self, name: str) -> str:
        return _with_database(self.admin_url, name)

    def owner_sqlalchemy_url(self, name: str) -> str:
        return self.libpq_url(name).replace("postgresql://", "postgresql+psycopg://", 1)

    def sqlalchemy_url(self, name: str) -> str:
        """The service's login to ``name``, as in production: a member of the application
        role that is not a superuser and owns nothing (the admin URL's user owns the tables)."""
        if not self._login_ready:
            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                ensure_application_login(connection, BENCH_LOGIN)
            self._login_ready = True
        owner = make_url(self.owner_sqlalchemy_url(name))
        return owner.set(username=BENCH_LOGIN, password=None).render_as_string(hide_password=False)

    def create(self, suffix: str, *, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); returns its name."""
        name = f"{self.prefix}_{suffix}"
        self.drop(name)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(statement)
        self.created.append(name)
        return name

    def create_migrated(self, suffix: str) -> str:
        name = self.create(suffix)
        database = Database(self.sqlalchemy_url(name), owner_url=self.owner_sqlalchemy_url(name))
        try:
            migrate.upgrade(database)
        finally:
            database.dispose()
        return name

    def vacuum_analyze(self, name: str) -> None:
        with psycopg.connect(self.libpq_url(name), autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)


@contextmanager
def postgres_scratch() -> Iterator[PostgresScratch]:
    """Throwaway databases, dropped when the block ends, whatever happens in it."""
    scratch = PostgresScratch()
    try:
        yield scratch
    finally:
        scratch.drop_all()


def raw_postgres(url: str) -> psycopg.Connection:
    """A plain psycopg connection as the owner, outside autocommit (one transaction per
    ``with connection.transaction()``)."""
    return psycopg.connect(url)
