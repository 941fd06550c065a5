"""Who may sign in and what they may see: user accounts with a role, the budgets a family
member is linked to (on a recorded legal basis), sessions, API tokens, failed sign-ins (for
throttling) and the append-only record of every family view and auditor export.

Secrets are never stored: a session's or an API token's value is kept as its SHA-256, a
password as its argon2id hash.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Timestamp, utcnow

ROLES = ("holder_admin", "holder_staff", "funder_auditor", "family", "system_admin")
FAMILY_BASES = ("person", "representative")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class UserAccount(SQLModel, table=True):
    """Someone who signs in. A holder's admin and staff belong to one holder; a funder's
    auditor to one funder; a family member reaches only the budgets linked to them."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="role_known"),
        CheckConstraint(
            "(role IN ('holder_admin', 'holder_staff')) = (holder_id IS NOT NULL)", name="holder_roles_have_a_holder"
        ),
        CheckConstraint("(role = 'funder_auditor') = (funder_id IS NOT NULL)", name="auditors_have_a_funder"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120, unique=True)
    """Lower case: an email address or a short name."""
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    holder_id: int | None = Field(default=None, foreign_key="holder.id", index=True)
    funder_id: int | None = Field(default=None, foreign_key="funder.id", index=True)
    password_hash: str = Field(max_length=300)
    active: bool = True
    """False from deactivation (a leaver): no sign-in, no session, no token acts as them."""
    must_change_password: bool = False
    """The password is a one-time one an admin set: nothing but choosing a new one until then."""
    password_changed_at: datetime | None = Field(default=None, sa_type=Timestamp)
    deactivated_at: datetime | None = Field(default=None, sa_type=Timestamp)
    deactivated_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    created_by: str = Field(max_length=200)


class FamilyLink(SQLModel, table=True):
    """A family member's reach: one budget, as the person themself (16 or over) or as one of
    their recorded representatives (nominated family member, appointee, attorney, deputy)."""

    __tablename__ = "family_link"
    __table_args__ = (
        UniqueConstraint("user_id", "budget_id"),
        CheckConstraint(_one_of("basis", FAMILY_BASES), name="basis_known"),
        CheckConstraint("(basis = 'representative') = (representative_id IS NOT NULL)", name="representative_named"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    basis: str = Field(max_length=20)
    representative_id: int | None = Field(default=None, foreign_key="representative.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    created_by: str = Field(max_length=200)


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    expires_at: datetime = Field(sa_type=Timestamp)
    ended_at: datetime | None = Field(default=None, sa_type=Timestamp)


class ApiToken(SQLModel, table=True):
    """A machine client's credential: sent as ``Authorization: Bearer <token>``; acts as its
    user until it expires or is revoked."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    last_used_at: datetime | None = Field(default=None, sa_type=Timestamp)
    """Recorded on use, at most once a minute."""
    expires_at: datetime = Field(sa_type=Timestamp)
    revoked_at: datetime | None = Field(default=None, sa_type=Timestamp)
    revoked_by: str | None = Field(default=None, max_length=200)


class SignInFailure(SQLModel, table=True):
    """A failed sign-in, counted by the username tried and by the connecting address."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_username_at", "username", "at"), Index("ix_sign_in_failure_address_at", "address", "at"))

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120)
    address: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class AccessRecord(SQLModel, table=True):
    """Who saw which budget, when and why (every family view and every auditor export), and
    every change to a sign-in: who deactivated, reactivated, reset or revoked whose, and why.
    A change made at the command line has no signed-in user: ``user_id`` is then empty and
    ``actor`` says who ran it."""

    __tablename__ = "access_record"
    __table_args__ = (Index("ix_access_record_budget_id_at", "budget_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    role: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    """Who did it, as every ``*_by`` column keeps it."""
    subject_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    """Whose sign-in a change was to."""
    budget_id: int | None = Field(default=None, foreign_key="budget.id")
    funder_id: int | None = Field(default=None, foreign_key="funder.id")
    action: str = Field(max_length=60)
    """``family_balance_page``, ``auditor_export``, ``user_deactivated``, ``api_token_revoked``, …"""
    reason: str = Field(max_length=300)
    at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
