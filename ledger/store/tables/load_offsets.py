"""Surplus offset against the next card loads, and what was withheld from each load.

A funder may decide that money built up on a person's card pays for the next loads: the
offset says how much, from when. Each load it shortens gets a ``withheld_load`` row in the
same transaction as the load (or alone, when the whole load is withheld), so the schedule
knows, run after run, how much of the offset is used.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Pence, Timestamp, utcnow


class LoadOffset(SQLModel, table=True):
    __tablename__ = "load_offset"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    budget_part_id: int = Field(foreign_key="budget_part.id", index=True)
    starts_on: date
    """The offset shortens the loads of periods starting on or after this day."""
    amount_pence: int = Field(sa_type=Pence)
    reason: str = Field(max_length=1000)
    decided_by: str = Field(max_length=200)
    recorded_by: str = Field(max_length=200)
    """The signed-in user who recorded the decision (``decided_by`` is whose it was)."""
    decided_on: date
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class WithheldLoad(SQLModel, table=True):
    __tablename__ = "withheld_load"
    __table_args__ = (
        UniqueConstraint("budget_part_id", "period_starts_on"),
        CheckConstraint("withheld_pence > 0", name="withheld_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_part_id: int = Field(foreign_key="budget_part.id")
    period_starts_on: date
    due_on: date
    withheld_pence: int = Field(sa_type=Pence)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
