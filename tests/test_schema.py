"""The migrations and the table models describe the same schema, on both databases, and
the journal's database-level guards are in place."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from ledger.store import migrate, tables
from ledger.store.database import Database


def test_migrated_schema_matches_the_models(db: Database) -> None:
    engine = db.migration_engine()
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, tables.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_database_is_at_the_head_revision(db: Database) -> None:
    assert migrate.current_revision(db) == migrate.head_revision(db)


def test_upgrading_again_changes_nothing(db: Database) -> None:
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision(db)


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(sqlite_template, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(sqlite_template.copy_to(tmp_path / "settings.db"))
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000


def test_postgres_sessions_act_as_the_application_role(pg: Database) -> None:
    with pg.read() as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == "phb_ledger_app"
        for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
            for table in ("journal_entry", "posting"):
                assert not session.execute(
                    text("SELECT has_table_privilege(current_user, :t, :p)"), {"t": table, "p": privilege}
                ).scalar_one(), f"{privilege} on {table}"
        assert session.execute(text("SELECT has_table_privilege(current_user, 'posting', 'INSERT')")).scalar_one()
