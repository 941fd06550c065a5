"""Alembic migrations: one set for SQLite and PostgreSQL (see ``ledger.store.migrate``)."""
