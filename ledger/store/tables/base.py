"""What every table shares: the metadata with constraint names Alembic can rely on."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer
from sqlmodel import SQLModel

# Named constraints, so that migrations on SQLite (batch mode) and PostgreSQL agree.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is the rowid and
# autoincrements (SQLite integers are 64-bit either way).
BigId = BigInteger().with_variant(Integer(), "sqlite")
Pence = BigInteger


def utcnow() -> datetime:
    """Now, in UTC, without a zone: how every timestamp is stored."""
    return datetime.now(UTC).replace(tzinfo=None)

# Stored in UTC, without a zone: the same bytes on SQLite and PostgreSQL, so entry hashes
# that include a timestamp verify on both.
Timestamp = DateTime(timezone=False)
