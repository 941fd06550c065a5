"""Card loads made, and pauses that stop them (a hospital stay)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow


class Drawdown(SQLModel, table=True):
    """One load made onto a prepaid card: a budget part's period, paid once.

    The unique (part, period) pair and the journal entry's idempotency key
    (``drawdown:<part>:<period start>``) each refuse a second load of the same period, so
    racing schedulers cannot pay a period twice.
    """

    __tablename__ = "drawdown"
    __table_args__ = (
        UniqueConstraint("budget_part_id", "period_starts_on"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("period_ends_on >= period_starts_on", name="period_order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_part_id: int = Field(foreign_key="budget_part.id")
    period_starts_on: date
    period_ends_on: date
    due_on: date
    amount_pence: int = Field(sa_type=Pence)
    plan_version_id: int = Field(foreign_key="support_plan_version.id")
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, unique=True))
    posted_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class BudgetPause(SQLModel, table=True):
    """A time when no loads are made (a hospital stay). Loads due in it are never made up."""

    __tablename__ = "budget_pause"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="pause_order"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    starts_on: date
    ends_on: date | None = None
    """Last paused day; null while the pause is open."""
    reason: str = Field(max_length=1000)
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    ended_by: str | None = Field(default=None, max_length=200)
