"""Connecting to the database: SQLite (embedded default) or PostgreSQL (production).

One code base and one set of migrations serve both. The caller owns the transaction
(services never commit): :meth:`Database.write` and :meth:`Database.read` give a session in
a transaction that commits (write) or rolls back (read) when the block ends.

SQLite: WAL journal, ``synchronous=FULL`` (a committed entry survives a power cut),
foreign keys on, a 15 s busy timeout, and ``BEGIN IMMEDIATE`` for every write transaction —
a deferred transaction that later upgrades to a write gets SQLITE_BUSY at once and ignores
the busy timeout, which is how "database is locked" errors happen under concurrency.

Statements' parameters are never logged, nor shown in an error's message (``hide_parameters``):
they carry people's names.

PostgreSQL: psycopg 3. Three roles (README, "PostgreSQL roles"): the owner, which owns the
tables and runs the migrations (``owner_url``, ``$PHB_LEDGER_OWNER_DATABASE_URL``); the
application role ``phb_ledger_app`` (no login), which the migrations grant INSERT but no
UPDATE or DELETE on journal rows and evidence; and the service's login, a member of the
application role that is not a superuser and owns nothing. Runtime sessions ``SET ROLE`` to
the application role, and a login that is a superuser or owns the database or its tables is
refused: a superuser can step out of any role, an owner can change its own tables' grants.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ledger.errors import LedgerError

DEFAULT_SQLITE_PATH = Path("var") / "phb-ledger.db"
DATABASE_URL_ENV = "PHB_LEDGER_DATABASE_URL"
OWNER_URL_ENV = "PHB_LEDGER_OWNER_DATABASE_URL"
APP_ROLE_ENV = "PHB_LEDGER_APP_ROLE"
APP_ROLE_DEFAULT = "phb_ledger_app"
SQLITE_BUSY_TIMEOUT_MS = 15_000


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA cache_size=-65536",  # 64 MiB page cache
)
"""Set on every SQLite connection (benchmarks use the same list for their raw baseline)."""


class DatabaseConfigError(LedgerError):
    status_code = 500
    default_code = "database_config"


def resolve_url(url: str | None = None) -> str:
    """The database to use: ``url``, else ``$PHB_LEDGER_DATABASE_URL``, else SQLite in ./var/.
    ``postgres://`` and ``postgresql://`` URLs get the psycopg 3 driver."""
    chosen = url or os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    for prefix in ("postgres://", "postgresql://"):
        if chosen.startswith(prefix):
            chosen = "postgresql+psycopg://" + chosen[len(prefix) :]
    return chosen


class Database:
    """Engines and sessions for one database URL."""

    def __init__(self, url: str | None = None, *, owner_url: str | None = None, app_role: str | None = None) -> None:
        """``url``: the service's login. ``owner_url``: the owner's, for migrations — by default
        ``$PHB_LEDGER_OWNER_DATABASE_URL`` when ``url`` comes from the environment too, else ``url``
        (on SQLite, and for ``phb-ledger db upgrade --db OWNER_URL``)."""
        self.url = resolve_url(url)
        from_environment = os.environ.get(OWNER_URL_ENV) if url is None and os.environ.get(DATABASE_URL_ENV) else None
        self.owner_url = resolve_url(owner_url or from_environment or self.url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise DatabaseConfigError(f"unsupported database {self.dialect!r}: use SQLite or PostgreSQL")
        if app_role is None:
            app_role = os.environ.get(APP_ROLE_ENV, APP_ROLE_DEFAULT)
        self.app_role = app_role or None
        if self.dialect == "sqlite":
            self._prepare_sqlite_file(parsed.database)
        self.engine = self._create_engine(runtime=True)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @staticmethod
    def _prepare_sqlite_file(path: str | None) -> None:
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    def _create_engine(self, *, runtime: bool) -> Engine:
        url = self.url if runtime else self.owner_url
        if self.is_sqlite:
            engine = create_engine(
                url,
                hide_parameters=True,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            )
            _configure_sqlite(engine)
            return engine
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)
        if runtime:
            _refuse_powerful_login(engine)
            if self.app_role:
                _act_as_app_role(engine, self.app_role)
        return engine

    def migration_engine(self) -> Engine:
        """An engine that connects as the owner (``owner_url``, no ``SET ROLE``): for migrations only."""
        return self._create_engine(runtime=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction; commits when the block ends, rolls back on error."""
        engine = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading. Closing it ends its transaction without keeping anything,
        and (unlike a rollback) leaves the records it loaded readable afterwards."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control away from the sqlite3 module so that "begin" below
        # decides between BEGIN and BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        assert mode in ("DEFERRED", "IMMEDIATE"), mode
        connection.exec_driver_sql(f"BEGIN {mode}")


POWERFUL_LOGIN_SQL = """
SELECT r.rolsuper,
       EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = current_database() AND pg_has_role(r.oid, d.datdba, 'MEMBER'))
       OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND pg_has_role(r.oid, c.relowner, 'MEMBER'))
  FROM pg_roles r WHERE r.rolname = session_user
"""
"""Whether the login is a superuser, and whether it owns — or is a member of a role that owns
— the database or a table of it (a member may act as the owner)."""


def _refuse_powerful_login(engine: Engine) -> None:
    """The service's login must not be a superuser nor own the database or its tables."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute(POWERFUL_LOGIN_SQL)
            superuser, owner = cursor.fetchone() or (False, False)
            login = dbapi_connection.info.user
        dbapi_connection.rollback()
        if superuser or owner:
            what = "a superuser" if superuser else "the owner of the database or its tables"
            raise DatabaseConfigError(
                f"the service connects to PostgreSQL as {login!r}, {what}: give it a login that is neither,"
                f" a member of {APP_ROLE_DEFAULT!r}, and run migrations as the owner"
                f" ({OWNER_URL_ENV}, or 'phb-ledger db upgrade --db OWNER_URL'); README, PostgreSQL roles"
            )


def _act_as_app_role(engine: Engine, role: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)"
                " AND pg_has_role(current_user, %s, 'MEMBER')",
                (role, role),
            )
            row = cursor.fetchone()
            if not row or not row[0]:
                dbapi_connection.rollback()
                raise DatabaseConfigError(
                    f"the database user cannot act as the application role {role!r}: run"
                    f" 'phb-ledger db upgrade' as the owner, then GRANT {role} TO <user>"
                    f" (or set {APP_ROLE_ENV}= to run without it)"
                )
            cursor.execute(f'SET ROLE "{role}"')
        dbapi_connection.commit()


def ping(database: Database) -> None:
    """Fail fast with a clear reason if the database cannot be reached."""
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
