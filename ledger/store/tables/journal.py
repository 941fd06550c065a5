"""The chart of accounts and the journal: books, accounts, entries, postings, closed periods.

Journal rows (``journal_entry``, ``posting``) are append-only: the database refuses UPDATE
and DELETE on them (triggers on both databases; on PostgreSQL the application role is also
granted neither). A correction is a reversing entry.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry in every book."""


class LedgerBook(SQLModel, table=True):
    """One holder's book: the head of its hash chain. Posting locks this row (PostgreSQL)
    or the whole database (SQLite), which is what serialises the chain and the idempotency
    check; see ``ledger.core.journal``."""

    __tablename__ = "ledger_book"

    holder_id: int = Field(foreign_key="holder.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    head_seq: int = Field(default=0, sa_type=Pence)
    head_hash: str = Field(default=GENESIS_HASH, max_length=64)


class Account(SQLModel, table=True):
    """One account of the chart of DESIGN.md §3. ``budget_id`` is the fund: every budget is
    its own fund; a null ``budget_id`` is the holder's own fund (unallocated money)."""

    __tablename__ = "account"
    __table_args__ = (Index("ix_account_budget_id_kind", "budget_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    budget_id: int | None = Field(default=None, foreign_key="budget.id")
    code: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=20)
    type: str = Field(max_length=10)
    funder_id: int | None = Field(default=None, foreign_key="funder.id")
    is_person_contribution: bool = False
    """Receivable, allocation or returned account whose counterparty is the person
    (their client contribution) rather than a funder."""
    category_id: int | None = Field(default=None, foreign_key="category.id")
    name: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class JournalEntry(SQLModel, table=True):
    """An entry: two or more postings that sum to zero within each fund they touch."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        UniqueConstraint("book_id", "seq"),
        UniqueConstraint("book_id", "idempotency_key"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        # Partial, so the many entries that reverse nothing cost this index nothing.
        Index(
            "uq_journal_entry_reverses_entry_id",
            "reverses_entry_id",
            unique=True,
            sqlite_where=text("reverses_entry_id IS NOT NULL"),
            postgresql_where=text("reverses_entry_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    book_id: int = Field(foreign_key="ledger_book.holder_id")
    seq: int = Field(sa_type=Pence)
    """Position in the book's hash chain, from 1 with no gaps."""
    entry_date: date
    kind: str = Field(max_length=40)
    description: str = Field(max_length=500)
    idempotency_key: str = Field(max_length=255)
    reverses_entry_id: int | None = Field(
        default=None,
        sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=True),
    )
    """Set on a reversal; unique (a partial index), so an entry is reversed at most once."""
    source_file: str | None = Field(default=None, max_length=500)
    source_line: int | None = None
    source_format: str | None = Field(default=None, max_length=40)
    importer: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    created_by: str = Field(max_length=200)
    content_hash: str = Field(max_length=64)
    """SHA-256 of what the entry says (see ``ledger.core.entries.content_hash``)."""
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)
    """SHA-256 linking this entry to the previous one in its book."""


class Posting(SQLModel, table=True):
    """One line of an entry: an account and a signed amount (debit positive, credit
    negative). A posting is identified by its entry and line number; the table is clustered
    on that key (WITHOUT ROWID on SQLite), so an entry's postings sit together and new ones
    are appended at the end. ``entry_date`` repeats the entry's date so that as-at balances
    read one covering index and never join."""

    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("amount_pence <> 0", name="amount_not_zero"),
        CheckConstraint("line_no >= 1", name="line_no_positive"),
        Index("ix_posting_account_date", "account_id", "entry_date", "entry_id", "amount_pence"),
        {"sqlite_with_rowid": False},
    )

    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), primary_key=True, autoincrement=False))
    line_no: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    account_id: int = Field(foreign_key="account.id")
    amount_pence: int = Field(sa_type=Pence)
    entry_date: date = Field(sa_column=Column(Date, nullable=False))


class ClosedPeriod(SQLModel, table=True):
    """A closed quarter of a book: no entry dated inside it is accepted any more."""

    __tablename__ = "closed_period"
    __table_args__ = (UniqueConstraint("book_id", "quarter"),)

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="ledger_book.holder_id")
    quarter: str = Field(sa_column=Column(String(6), nullable=False))
    """Financial-year quarter, e.g. ``2026Q1`` = April to June 2026."""
    starts_on: date
    ends_on: date
    closed_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    closed_by: str = Field(max_length=200)
    reason: str | None = Field(default=None, max_length=1000)
