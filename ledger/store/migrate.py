"""Bringing a database's schema up to date (the app does this on start; so does
``phb-ledger db upgrade``), as the owner. A database already at the head is left alone, so
the service's own login — which may create nothing — starts on a database the owner has
upgraded, and is told to ask the owner when it has not."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import ProgrammingError

from ledger.store.database import OWNER_URL_ENV, Database, DatabaseConfigError

INSUFFICIENT_PRIVILEGE = "42501"

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database.owner_url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Apply every migration up to ``revision``, as the owner, in one transaction."""
    config = alembic_config(database)
    engine = database.migration_engine()
    current = None
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if revision == "head" and current == ScriptDirectory.from_config(config).get_current_head():
                return
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise DatabaseConfigError(
            f"the database is at revision {current or 'none'} and needs upgrading, which its owner does:"
            f" set {OWNER_URL_ENV}, or run 'phb-ledger db upgrade --db OWNER_URL'"
        ) from None
    finally:
        engine.dispose()


def current_revision(database: Database) -> str | None:
    engine = database.migration_engine()
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()
