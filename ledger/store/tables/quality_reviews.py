"""Quarterly quality reviews as held: how the outcomes are going, what is working and what
is not, the actions agreed, who came, and what was decided about money left.

A review is never edited: recording it again for the same budget and quarter makes the next
revision, and the latest revision is the review (on PostgreSQL the application role may only
insert and read these rows). The money part of the review document is worked out from the
ledger when the document is made; only what people said and decided is kept here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Pence, Timestamp, utcnow

OUTCOME_RATINGS = ("achieved", "partly", "not_achieved")
MONEY_DECISIONS = ("none", "keep", "reallocate", "return")
ACTION_STATUSES = ("open", "done", "carried", "dropped")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class QualityReview(SQLModel, table=True):
    __tablename__ = "quality_review"
    __table_args__ = (
        UniqueConstraint("budget_id", "quarter", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint(_one_of("money_decision", MONEY_DECISIONS), name="money_decision_known"),
        CheckConstraint("money_decision_amount_pence IS NULL OR money_decision_amount_pence >= 0", name="money_amount_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    quarter: str = Field(sa_column=Column(String(6), nullable=False))
    """Financial-year quarter reviewed, e.g. ``2026Q1`` = April to June 2026."""
    revision: int
    held_on: date
    plan_version_id: int | None = Field(default=None, foreign_key="support_plan_version.id")
    """The agreed plan whose outcomes were reviewed (in force at the quarter's end)."""
    working: str = Field(default="", sa_column=Column(Text, nullable=False))
    not_working: str = Field(default="", sa_column=Column(Text, nullable=False))
    to_change: str = Field(default="", sa_column=Column(Text, nullable=False))
    money_decision: str = Field(default="none", max_length=20)
    money_decision_amount_pence: int | None = Field(default=None, sa_type=Pence)
    money_decision_note: str | None = Field(default=None, max_length=2000)
    budget_review_id: int | None = Field(default=None, foreign_key="budget_review.id")
    """The held review it answers in the reviews-due list (ISF budgets; the first revision)."""
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class QualityReviewOutcome(SQLModel, table=True):
    __tablename__ = "quality_review_outcome"
    __table_args__ = (
        UniqueConstraint("review_id", "position"),
        CheckConstraint(_one_of("rating", OUTCOME_RATINGS), name="rating_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="quality_review.id", index=True)
    position: int
    plan_outcome_id: int | None = Field(default=None, foreign_key="plan_outcome.id")
    description: str = Field(max_length=1000)
    """The outcome's words as the plan had them when it was reviewed."""
    rating: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)


class QualityReviewAction(SQLModel, table=True):
    """Something someone will do by a date. An action still open is carried to the next
    review, which says what became of it (``carried_from_id`` names the earlier one)."""

    __tablename__ = "quality_review_action"
    __table_args__ = (
        UniqueConstraint("review_id", "position"),
        CheckConstraint(_one_of("status", ACTION_STATUSES), name="status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="quality_review.id", index=True)
    position: int
    who: str = Field(max_length=200)
    what: str = Field(max_length=1000)
    by_when: date
    status: str = Field(default="open", max_length=20)
    carried_from_id: int | None = Field(default=None, foreign_key="quality_review_action.id")
    note: str | None = Field(default=None, max_length=1000)


class QualityReviewAttendee(SQLModel, table=True):
    __tablename__ = "quality_review_attendee"
    __table_args__ = (UniqueConstraint("review_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="quality_review.id", index=True)
    position: int
    name: str = Field(max_length=200)
    role: str = Field(max_length=200)
    """Their part: the person, a parent, the support worker, the care coordinator, …"""
