"""Contingency used, top-slice taken month by month, and notional costs recorded.

Each row names the journal entry that moved the money (``entry_id``, unique), and each
carries a database unique constraint on what makes it one thing (a use's key, a budget's
month, a supplier's reference), so two racing requests cannot record it twice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow


class ContingencyUse(SQLModel, table=True):
    """A recorded decision to use contingency: how much, why, who agreed it and when, and
    where the money went (onto the card, or straight to a spend category)."""

    __tablename__ = "contingency_use"
    __table_args__ = (
        UniqueConstraint("budget_id", "idempotency_key"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("agreed_on <= used_on", name="agreed_before_use"),
        CheckConstraint(
            "(destination = 'card' AND category_id IS NULL) OR (destination = 'spend' AND category_id IS NOT NULL)",
            name="destination_category",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    amount_pence: int = Field(sa_type=Pence)
    reason: str = Field(max_length=1000)
    agreed_by_name: str = Field(max_length=200)
    agreed_by_role: str = Field(max_length=200)
    agreed_on: date
    used_on: date
    destination: str = Field(max_length=10)
    """``card`` or ``spend``."""
    category_id: int | None = Field(default=None, foreign_key="category.id")
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, unique=True))
    idempotency_key: str = Field(max_length=255)
    """The journal entry's key: a replay of the same decision finds this row."""
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class TopSliceTaken(SQLModel, table=True):
    """One month's top-slice, taken once (a negative amount returns what a revision no
    longer allows)."""

    __tablename__ = "top_slice_taken"
    __table_args__ = (
        UniqueConstraint("budget_id", "month_starts_on"),
        CheckConstraint("amount_pence <> 0", name="amount_not_zero"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id")
    month_starts_on: date
    amount_pence: int = Field(sa_type=Pence)
    plan_version_id: int = Field(foreign_key="support_plan_version.id")
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, unique=True))
    posted_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class NotionalCost(SQLModel, table=True):
    """The cost of a service a funder arranged and paid itself (a notional part): no money
    moves, but the cost is recorded so that "money left" is true."""

    __tablename__ = "notional_cost"
    __table_args__ = (
        UniqueConstraint("budget_id", "supplier", "reference"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    funder_id: int = Field(foreign_key="funder.id")
    category_id: int = Field(foreign_key="category.id")
    amount_pence: int = Field(sa_type=Pence)
    incurred_on: date
    supplier: str = Field(max_length=200)
    reference: str = Field(max_length=100)
    """The supplier's invoice or order number."""
    description: str = Field(max_length=500)
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, unique=True))
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
