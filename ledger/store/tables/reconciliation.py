"""Reconciliation: which ledger entries each statement line stands for, how each spend was
categorised and by which rule, the rules holders define, remittance advices awaiting their
bank line, locks on reconciled periods, and the audit trail of every manual step.

A statement line is matched at most once, and an entry is the ledger side of at most one
line of each statement account (a card load is a line on the card's statement and part of a
transfer on the bank's): ``active_line_id`` and ``active_entry_id`` carry the id while the
match stands and NULL once it is undone, under unique constraints (NULLs never collide), so
the database itself refuses a second match.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow


class ReconciliationMatch(SQLModel, table=True):
    """One statement line and what it was matched to (its parts)."""

    __tablename__ = "reconciliation_match"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    statement_line_id: int = Field(sa_column=Column(BigId, ForeignKey("statement_line.id"), nullable=False, index=True))
    active_line_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True, unique=True))
    method: str = Field(max_length=30)
    """How it was matched: see ``ledger.reconcile.lines.MatchMethod``."""
    generation: int = 0
    """How many earlier matches of the same line were undone: keeps posted keys unique."""
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    undone_at: datetime | None = Field(default=None, sa_type=Timestamp)
    undone_by: str | None = Field(default=None, max_length=200)
    undo_reason: str | None = Field(default=None, max_length=1000)


class ReconciliationMatchPart(SQLModel, table=True):
    """One ledger entry a matched line stands for (a split line has several)."""

    __tablename__ = "reconciliation_match_part"
    __table_args__ = (UniqueConstraint("account_id", "active_entry_id"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    match_id: int = Field(sa_column=Column(BigId, ForeignKey("reconciliation_match.id"), nullable=False, index=True))
    account_id: int = Field(foreign_key="account.id")
    """The statement account (as the match's): an entry stands for one line of each."""
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, index=True))
    active_entry_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    budget_id: int | None = Field(default=None, foreign_key="budget.id", index=True)
    amount_pence: int = Field(sa_type=Pence)
    """The part of the line's amount this entry stands for (signed as the line)."""
    posted_here: bool = False
    """True when reconciliation posted the entry; unmatching reverses it."""


class Categorisation(SQLModel, table=True):
    """A decision that a matched spend belongs to a category, and who or what made it:
    a rule (id and version) or a person. Appended, never changed: the latest one for a part
    is the category in force."""

    __tablename__ = "categorisation"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    match_part_id: int = Field(sa_column=Column(BigId, ForeignKey("reconciliation_match_part.id"), nullable=False, index=True))
    budget_id: int = Field(foreign_key="budget.id", index=True)
    category_id: int = Field(foreign_key="category.id")
    merchant_key: str = Field(max_length=200)
    rule_id: str = Field(max_length=80)
    rule_version: str = Field(max_length=80)
    decided_by: str = Field(max_length=200)
    by_person: bool = False
    entry_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=True))
    """The entry that moved the money into this category (the purchase, or a re-categorisation)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class CategoryRule(SQLModel, table=True):
    """A holder's own categorisation rule, versioned: changing a rule adds its next version
    and retires the one before; a learned rule comes from two re-categorisations alike."""

    __tablename__ = "category_rule"
    __table_args__ = (UniqueConstraint("holder_id", "rule_key", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    rule_key: str = Field(max_length=80)
    version: int
    match_on: str = Field(max_length=10)
    """``merchant`` (a normalised merchant-name pattern) or ``mcc``."""
    pattern: str = Field(max_length=200)
    category_id: int = Field(foreign_key="category.id")
    origin: str = Field(max_length=10)
    """``holder`` (made through the API) or ``learned``."""
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    retired_at: datetime | None = Field(default=None, sa_type=Timestamp)
    retired_by: str | None = Field(default=None, max_length=200)


class RemittanceAdvice(SQLModel, table=True):
    """A funder's remittance advice (which budgets a payment is for), recorded before its
    bank line arrives; reconciliation uses it when the line carries its reference."""

    __tablename__ = "remittance_advice"
    __table_args__ = (UniqueConstraint("holder_id", "funder_id", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    funder_id: int = Field(foreign_key="funder.id")
    reference: str = Field(max_length=140)
    total_pence: int = Field(sa_type=Pence)
    lines: str = Field(sa_column=Column(Text, nullable=False))
    """JSON: [[budget reference, pence], …]."""
    receipt_id: int | None = Field(default=None, foreign_key="funder_receipt.id")
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class ReconciliationLock(SQLModel, table=True):
    """An account reconciled and locked up to a day; reopening (for an audit) is recorded
    on the lock and in the events."""

    __tablename__ = "reconciliation_lock"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    through_on: date
    reason: str | None = Field(default=None, max_length=1000)
    locked_by: str = Field(max_length=200)
    locked_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    reopened_at: datetime | None = Field(default=None, sa_type=Timestamp)
    reopened_by: str | None = Field(default=None, max_length=200)
    reopen_reason: str | None = Field(default=None, max_length=1000)


class ReconciliationEvent(SQLModel, table=True):
    """The audit trail: every match, unmatch, split, re-categorisation, lock and reopening,
    who did it and when. Appended, never changed."""

    __tablename__ = "reconciliation_event"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id")
    statement_line_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("statement_line.id"), nullable=True, index=True))
    match_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("reconciliation_match.id"), nullable=True))
    action: str = Field(max_length=30)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
