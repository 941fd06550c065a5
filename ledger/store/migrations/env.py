"""Alembic environment: runs on the connection ``ledger.store.migrate`` hands over, or on the
URL from ``alembic.ini`` / ``$PHB_LEDGER_DATABASE_URL`` when run as ``alembic`` directly."""

from __future__ import annotations

from alembic import context

from ledger.store import tables
from ledger.store.database import Database

config = context.config
target_metadata = tables.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = Database(config.get_main_option("sqlalchemy.url") or None).migration_engine()
    with engine.connect() as own_connection:
        _run(own_connection)
