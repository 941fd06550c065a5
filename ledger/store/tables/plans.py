"""Support plans, versioned: draft until agreed; only agreed versions move money.

A version states the whole plan period: the budget total, each funder's line, each part's
amount, contingency, top-slice and the plan lines. Its money adds up (checked when it is
saved and again when agreed): funding lines = parts = plan lines + contingency + top-slice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Pence, Timestamp, utcnow


class SupportPlanVersion(SQLModel, table=True):
    __tablename__ = "support_plan_version"
    __table_args__ = (
        UniqueConstraint("budget_id", "version"),
        CheckConstraint("total_pence >= 0", name="total_not_negative"),
        CheckConstraint("contingency_pence >= 0", name="contingency_not_negative"),
        CheckConstraint("top_slice_pence >= 0", name="top_slice_not_negative"),
        CheckConstraint(
            "top_slice_basis_points IS NULL OR (top_slice_basis_points >= 0 AND top_slice_basis_points <= 10000)",
            name="top_slice_percent_range",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    version: int
    status: str = Field(default="draft", max_length=20)
    effective_from: date
    total_pence: int = Field(sa_type=Pence)
    contingency_pence: int = Field(default=0, sa_type=Pence)
    top_slice_basis_points: int | None = None
    """Top-slice as a percentage of the total in hundredths of a percent (750 = 7.5%);
    null when the top-slice is a fixed sum."""
    top_slice_pence: int = Field(default=0, sa_type=Pence)
    """The top-slice in money: the fixed sum, or the percentage worked out."""
    speaks_for_representative_id: int | None = Field(default=None, foreign_key="representative.id")
    cash_withdrawal_daily_cap_pence: int | None = Field(default=None, sa_type=Pence)
    """Cash from a machine is allowed only where the plan says so, up to this much a day."""
    review_every_months: int | None = None
    next_review_on: date | None = None
    change_reason: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    agreed_by_name: str | None = Field(default=None, max_length=200)
    agreed_by_role: str | None = Field(default=None, max_length=200)
    agreed_at: datetime | None = Field(default=None, sa_type=Timestamp)
    agreement_funder_id: int | None = Field(default=None, foreign_key="funder.id")
    """The funder whose decision the agreement was."""
    agreement_document: str | None = Field(default=None, max_length=500)
    """What shows the funder agreed, where a holder's admin recorded it (a letter, minutes)."""
    agreement_recorded_by: str | None = Field(default=None, max_length=200)
    """The signed-in user who agreed it (a funder's) or recorded the funder's agreement."""


class FundingLine(SQLModel, table=True):
    """What one funder pays towards the budget in this plan version. A client contribution
    (means-tested) can only reduce a social-care line: the funder pays ``amount −
    contribution`` and the person pays the contribution."""

    __tablename__ = "funding_line"
    __table_args__ = (
        UniqueConstraint("plan_version_id", "funder_id"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        CheckConstraint(
            "client_contribution_pence >= 0 AND client_contribution_pence <= amount_pence",
            name="contribution_range",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_version_id: int = Field(foreign_key="support_plan_version.id")
    funder_id: int = Field(foreign_key="funder.id", index=True)
    amount_pence: int = Field(sa_type=Pence)
    client_contribution_pence: int = Field(default=0, sa_type=Pence)


class PlanPartAmount(SQLModel, table=True):
    """How much of the version's total goes through one budget part."""

    __tablename__ = "plan_part_amount"
    __table_args__ = (
        UniqueConstraint("plan_version_id", "budget_part_id"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_version_id: int = Field(foreign_key="support_plan_version.id")
    budget_part_id: int = Field(foreign_key="budget_part.id", index=True)
    amount_pence: int = Field(sa_type=Pence)


class PlanLine(SQLModel, table=True):
    """One thing the plan pays for. Recurring lines give an amount for the plan period, or
    weekly hours × hourly rate × weeks; one-off lines give an amount with a date or a date
    range (transition lines may be dated before the plan period)."""

    __tablename__ = "plan_line"
    __table_args__ = (
        UniqueConstraint("plan_version_id", "position"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_version_id: int = Field(foreign_key="support_plan_version.id")
    position: int
    category_id: int = Field(foreign_key="category.id", index=True)
    budget_part_id: int | None = Field(default=None, foreign_key="budget_part.id")
    description: str = Field(max_length=500)
    kind: str = Field(max_length=20)
    annual_amount_pence: int | None = Field(default=None, sa_type=Pence)
    weekly_hours_hundredths: int | None = None
    """Hours a week in hundredths of an hour (7.5 hours = 750), so no float is stored."""
    hourly_rate_pence: int | None = Field(default=None, sa_type=Pence)
    weeks: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    amount_pence: int = Field(sa_type=Pence)
    """The line's cost over the plan period, worked out when the line is saved."""


class PlanOutcome(SQLModel, table=True):
    """An outcome the plan is for, reviewed at each quarterly quality review."""

    __tablename__ = "plan_outcome"
    __table_args__ = (UniqueConstraint("plan_version_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_version_id: int = Field(foreign_key="support_plan_version.id")
    position: int
    description: str = Field(max_length=1000)
