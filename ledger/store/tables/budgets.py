"""Budgets, their parts and contacts, and the spend categories plans use."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Pence, Timestamp, utcnow


class Category(SQLModel, table=True):
    """A spend category. ``holder_id`` is null for the standard list of DESIGN.md §1; a
    holder may add its own, which only its budgets use."""

    __tablename__ = "category"
    __table_args__ = (
        UniqueConstraint("holder_id", "code"),
        Index(
            "uq_category_standard_code",
            "code",
            unique=True,
            sqlite_where=text("holder_id IS NULL"),
            postgresql_where=text("holder_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int | None = Field(default=None, foreign_key="holder.id")
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    plain_name: str = Field(max_length=120)
    """The words a family reads on the balance page."""


class Budget(SQLModel, table=True):
    """One person's personal health budget for one plan period."""

    __tablename__ = "budget"
    __table_args__ = (CheckConstraint("period_end > period_start", name="period_order"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=32, unique=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    lead_funder_id: int = Field(foreign_key="funder.id", index=True)
    period_start: date
    period_end: date
    """Last day of the plan period (inclusive)."""
    status: str = Field(default="open", max_length=20)
    previous_placement_annual_cost_pence: int | None = Field(default=None, sa_type=Pence)
    """What the person's previous placement cost a year, so the saving can be shown."""
    previous_placement_description: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class BudgetPart(SQLModel, table=True):
    """A management option × holding within a budget. Its amount is set per plan version
    (``PlanPartAmount``), so "start small" moves money between parts by plan revision."""

    __tablename__ = "budget_part"
    __table_args__ = (
        UniqueConstraint("budget_id", "management_option", "holding"),
        CheckConstraint("initial_float_weeks >= 0 AND initial_float_weeks <= 52", name="float_weeks"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id")
    management_option: str = Field(max_length=20)
    holding: str = Field(max_length=20)
    cadence: str = Field(default="weekly", max_length=20)
    timing: str = Field(default="in_advance", max_length=20)
    initial_float_weeks: int = 0


class BudgetContact(SQLModel, table=True):
    """A person a family can contact about the budget (shown on the balance page)."""

    __tablename__ = "budget_contact"

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    role: str = Field(max_length=30)
    name: str = Field(max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
