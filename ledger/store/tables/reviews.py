"""Reviews due: default intervals per funding stream, reviews held, reviews asked for.

Only the fact that a review of a kind was held (when, by whom, a short note) is kept here,
so "due" and "overdue" can be worked out; the full quarterly quality review record
(outcomes, actions, attendance) is a later table.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Timestamp, utcnow

REVIEW_KINDS_SQL = "'plan', 'quarterly_quality', 'significant_change', 'requested'"
QUARTERLY_ONLY = "kind = 'quarterly_quality'"


class ReviewInterval(SQLModel, table=True):
    """How often a funding stream (a funder kind) wants a budget's plan reviewed, and what
    counts as a significant change. Shipped defaults are seeded by migration 0007."""

    __tablename__ = "review_interval"
    __table_args__ = (
        CheckConstraint("first_after_months >= 1 AND first_after_months <= 24", name="first_after_range"),
        CheckConstraint("then_every_months >= 1 AND then_every_months <= 24", name="then_every_range"),
        CheckConstraint("significant_change_days >= 1 AND significant_change_days <= 365", name="significant_change_days_range"),
        CheckConstraint(
            "significant_change_basis_points >= 1 AND significant_change_basis_points <= 10000",
            name="significant_change_basis_points_range",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    funder_kind: str = Field(max_length=40, unique=True)
    first_after_months: int
    """The first plan review falls this many months after the plan starts."""
    then_every_months: int
    """Later plan reviews fall this many months after the last one held."""
    significant_change_days: int = 28
    """A significant change is reviewed within this many days of the revision's agreement."""
    significant_change_basis_points: int = 1000
    """A revision moving the budget total by this share or more (1000 = 10%) is significant."""
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class BudgetReview(SQLModel, table=True):
    """A review that was held. ``due_on`` says which due review it answered: for a
    quarterly quality review, its quarter's due date, so no quarter is answered twice."""

    __tablename__ = "budget_review"
    __table_args__ = (
        CheckConstraint(f"kind IN ({REVIEW_KINDS_SQL})", name="kind_known"),
        # One held review per quarter: the quarter is named by its review's due date.
        Index(
            "uq_budget_review_quarter",
            "budget_id",
            "due_on",
            unique=True,
            sqlite_where=text(QUARTERLY_ONLY),
            postgresql_where=text(QUARTERLY_ONLY),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    kind: str = Field(max_length=30)
    due_on: date | None = None
    held_on: date
    recorded_by: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=1000)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class ReviewRequest(SQLModel, table=True):
    """A family asking for a change or a review between reviews. Answered by the next plan
    or requested review held."""

    __tablename__ = "review_request"

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    asked_by: str = Field(max_length=200)
    recorded_by: str = Field(max_length=200)
    """The signed-in user who recorded the request (``asked_by`` is who asked)."""
    asked_on: date
    reason: str = Field(max_length=1000)
    answered_review_id: int | None = Field(default=None, foreign_key="budget_review.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
