"""Closing a budget, surplus decisions and surplus thresholds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow

SURPLUS_ACTIONS = ("accept", "reallocate", "return", "offset")


class BudgetClosure(SQLModel, table=True):
    """The end of a budget: one per budget (a second close returns this one).

    What closing moved back into held funds is recorded with what was left: the surplus
    (held funds after the returns, less unspent transition money, which is never surplus)
    and, when held funds went below zero, the amount to recover."""

    __tablename__ = "budget_closure"
    __table_args__ = (
        CheckConstraint("surplus_pence >= 0", name="surplus_not_negative"),
        CheckConstraint("to_recover_pence >= 0", name="to_recover_not_negative"),
        CheckConstraint("allocation_released_pence >= 0", name="released_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", unique=True)
    closed_on: date
    reason: str = Field(max_length=1000)
    closed_by: str = Field(max_length=200)
    contingency_returned_pence: int = Field(sa_type=Pence)
    """Unused contingency moved back to held funds."""
    card_returned_pence: int = Field(sa_type=Pence)
    """The card's money swept back to held funds (negative: the card was overdrawn)."""
    allocation_released_pence: int = Field(sa_type=Pence)
    """Allocation never received, released so that nothing is owed for a closed budget."""
    surplus_pence: int = Field(sa_type=Pence)
    to_recover_pence: int = Field(sa_type=Pence)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class SurplusDecision(SQLModel, table=True):
    """What was decided about money left: accepted with a reason, reallocated by a plan
    revision, returned to the funders (with the journal entry that returned it), or offset
    against the next loads (recorded by the load offsets)."""

    __tablename__ = "surplus_decision"
    __table_args__ = (
        CheckConstraint("action IN ('accept', 'reallocate', 'return', 'offset')", name="action_known"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("action <> 'return' OR entry_id IS NOT NULL", name="return_has_entry"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    action: str = Field(max_length=20)
    amount_pence: int = Field(sa_type=Pence)
    reason: str = Field(max_length=1000)
    decided_by: str = Field(max_length=200)
    decided_on: date
    recorded_by: str = Field(max_length=200)
    """The signed-in user who recorded the decision (``decided_by`` is whose it was)."""
    plan_version_id: int | None = Field(default=None, foreign_key="support_plan_version.id")
    """For ``reallocate``: the plan revision (draft or agreed) that spends the money."""
    entry_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=True, unique=True))
    """For ``return``: the entry that returned the money."""
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class SurplusThreshold(SQLModel, table=True):
    """A funder's own weeks-held thresholds, in tenths of a week. Without a row the
    defaults apply: warn above 4 weeks, act above 8."""

    __tablename__ = "surplus_threshold"
    __table_args__ = (
        CheckConstraint("warn_weeks_tenths >= 0", name="warn_not_negative"),
        CheckConstraint("act_weeks_tenths > warn_weeks_tenths", name="act_above_warn"),
    )

    funder_id: int = Field(foreign_key="funder.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    warn_weeks_tenths: int
    act_weeks_tenths: int
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
