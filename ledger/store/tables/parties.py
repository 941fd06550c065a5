"""Funders, holders, people and their representatives (DESIGN.md §1, people and organisations)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Column, Time, text
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Timestamp, utcnow


class Funder(SQLModel, table=True):
    """A body that pays for budgets: an ICB or a council."""

    __tablename__ = "funder"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    label: str = Field(max_length=60)
    """How the service names this kind of funder to people ("ICB", "CCG", "Council")."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class Holder(SQLModel, table=True):
    """Who holds the money: an ISF provider, a managed-account service, a family, or the
    commissioner for notional budgets. Each holder keeps one book (hash chain)."""

    __tablename__ = "holder"
    __table_args__ = (CheckConstraint("load_weekday >= 0 AND load_weekday <= 6", name="load_weekday_range"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    load_weekday: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    """The weekday cards are loaded (0 = Monday), in England's local time."""
    load_time: time = Field(
        default=time(6, 0), sa_column=Column(Time(), nullable=False, server_default=text("'06:00:00'"))
    )
    """The local time of day (Europe/London) loads go onto cards."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class Person(SQLModel, table=True):
    """Whose budget it is."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    preferred_name: str | None = Field(default=None, max_length=100)
    date_of_birth: date
    eligibility_group: str = Field(max_length=40)
    registered_by_holder_id: int | None = Field(default=None, foreign_key="holder.id", index=True)
    """The holder whose user registered the person (None: the system admin or the demo). Until
    the person has a budget, only that holder's users see them."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class Representative(SQLModel, table=True):
    """Someone who manages or watches the budget for the person, on a recorded legal basis."""

    __tablename__ = "representative"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=200)
    relationship: str | None = Field(default=None, max_length=100)
    legal_basis: str = Field(max_length=60)
    speaks_for_person: bool = False
    """Speaks on the person's behalf when they lack capacity to decide."""
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
