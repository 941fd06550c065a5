"""Imported statements: each import (one file into one ledger account) and the lines it
stored, with the provenance every line keeps (DESIGN.md §3).

A line is stored once per account, whatever file brings it again: ``dedupe_key`` is unique
per account (see ``ledger.statements.keys``). Lines are facts, never changed or deleted
(PostgreSQL: the application role may only insert and read them).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow


class StatementImport(SQLModel, table=True):
    __tablename__ = "statement_import"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    file_name: str = Field(max_length=500)
    file_sha256: str = Field(max_length=64, index=True)
    file_bytes: int = Field(sa_type=Pence)
    format: str = Field(max_length=20)
    layout: str | None = Field(default=None, max_length=120)
    """A CSV layout's name (a provider's own: ``name@version``)."""
    currency: str = Field(max_length=3)
    account_in_file: str = Field(max_length=300)
    """How the file names the account (sort code and number, IBAN, card)."""
    period_start: date | None = None
    period_end: date | None = None
    opening_pence: int | None = Field(default=None, sa_type=Pence)
    closing_pence: int | None = Field(default=None, sa_type=Pence)
    closing_on: date | None = None
    balances_stated: bool = False
    """True where the file states its balances; false where they come from running balances."""
    line_count: int = 0
    new_count: int = 0
    duplicate_count: int = 0
    lines_total_pence: int = Field(default=0, sa_type=Pence)
    new_total_pence: int = Field(default=0, sa_type=Pence)
    ledger_closing_pence: int | None = Field(default=None, sa_type=Pence)
    """The ledger's balance of the account on ``closing_on``, when the import was made."""
    warnings: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    """A JSON list of plain-English warnings."""
    imported_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    imported_by: str = Field(max_length=200)


class StatementLineRecord(SQLModel, table=True):
    __tablename__ = "statement_line"
    __table_args__ = (
        UniqueConstraint("account_id", "dedupe_key"),
        Index("ix_statement_line_account_id_posted_on", "account_id", "posted_on"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    import_id: int = Field(sa_column=Column(ForeignKey("statement_import.id"), nullable=False, index=True))
    account_id: int = Field(foreign_key="account.id")
    line_no: int
    part: int = 0
    posted_on: date
    amount_pence: int = Field(sa_type=Pence)
    description: str = Field(max_length=500)
    payee: str | None = Field(default=None, max_length=300)
    mcc: str | None = Field(default=None, max_length=4)
    bank_id: str | None = Field(default=None, max_length=200)
    balance_pence: int | None = Field(default=None, sa_type=Pence)
    kind: str | None = Field(default=None, max_length=60)
    is_fee: bool = False
    raw: str = Field(sa_column=Column(Text, nullable=False))
    dedupe_key: str = Field(max_length=80)


class CsvLayoutDefinition(SQLModel, table=True):
    """A CSV layout a provider defined through the API, versioned: a new definition under
    the same name is the next version, and imports name the version that read them."""

    __tablename__ = "csv_layout_definition"
    __table_args__ = (UniqueConstraint("holder_id", "name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    name: str = Field(max_length=80)
    version: int
    definition: str = Field(sa_column=Column(Text, nullable=False))
    """The layout as JSON, validated by ``importers.csv_layouts`` before it is stored."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    created_by: str = Field(max_length=200)
