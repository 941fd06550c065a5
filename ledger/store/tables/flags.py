"""Spend flags and their review: the flag (one per cause), its append-only history, the
evidence attached to flags and statement lines, repayment notices (regulation 15), each
funder's settings and its own versioned copy of the spend-check rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow


class Flag(SQLModel, table=True):
    """Something for a person to look at. ``cause_key`` names the cause (the statement
    line, entry, budget and quarter, …) so that running the rules again raises nothing new."""

    __tablename__ = "flag"
    __table_args__ = (Index("ix_flag_holder_id_state", "holder_id", "state"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    cause_key: str = Field(max_length=200, unique=True)
    holder_id: int = Field(foreign_key="holder.id")
    budget_id: int | None = Field(default=None, foreign_key="budget.id", index=True)
    funder_id: int | None = Field(default=None, foreign_key="funder.id", index=True)
    """The budget's lead funder, whose rules raised it (for a funder's list)."""
    code: str = Field(max_length=40, index=True)
    severity: str = Field(max_length=10)
    rule_id: str = Field(max_length=80)
    rule_version: str = Field(max_length=80)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    amount_pence: int | None = Field(default=None, sa_type=Pence)
    occurred_on: date
    account_id: int | None = Field(default=None, foreign_key="account.id")
    statement_line_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("statement_line.id"), nullable=True, index=True))
    entry_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=True, index=True))
    state: str = Field(default="open", max_length=30)
    raised_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    state_changed_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class FlagEvent(SQLModel, table=True):
    """One step of a flag's life: who moved it from which state to which, when and why."""

    __tablename__ = "flag_event"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    flag_id: int = Field(sa_column=Column(BigId, ForeignKey("flag.id"), nullable=False, index=True))
    action: str = Field(max_length=30)
    from_state: str | None = Field(default=None, max_length=30)
    to_state: str = Field(max_length=30)
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=20)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    evidence_ids: str = Field(default="[]", max_length=500)
    entry_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=True))
    load_offset_id: int | None = Field(default=None, foreign_key="load_offset.id")
    notice_id: int | None = Field(default=None, foreign_key="repayment_notice.id")
    plan_version_id: int | None = Field(default=None, foreign_key="support_plan_version.id")
    at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class Evidence(SQLModel, table=True):
    """A receipt, invoice or timesheet, attached to a flag or a statement line."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    budget_id: int | None = Field(default=None, foreign_key="budget.id")
    flag_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("flag.id"), nullable=True, index=True))
    statement_line_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("statement_line.id"), nullable=True, index=True))
    kind: str = Field(max_length=20)
    file_name: str = Field(max_length=300)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str | None = Field(default=None, max_length=1000)
    uploaded_by: str = Field(max_length=200)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class RepaymentNotice(SQLModel, table=True):
    """A written notice requiring repayment (NHS (Direct Payments) Regulations 2013, reg. 15):
    the reasons, the amount, the date by which to repay and who repays."""

    __tablename__ = "repayment_notice"

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(sa_column=Column(BigId, ForeignKey("flag.id"), nullable=False, index=True))
    budget_id: int = Field(foreign_key="budget.id")
    funder_id: int | None = Field(default=None, foreign_key="funder.id")
    amount_pence: int = Field(sa_type=Pence)
    reasons: str = Field(sa_column=Column(Text, nullable=False))
    repay_by: date
    repayer: str = Field(max_length=200)
    issued_by: str = Field(max_length=200)
    issued_on: date
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class FlagSettings(SQLModel, table=True):
    """A funder's thresholds for the flags it wants raised (defaults in ``ledger.flags.raising``)."""

    __tablename__ = "flag_settings"

    funder_id: int = Field(foreign_key="funder.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    large_spend_pence: int = Field(sa_type=Pence)
    duplicate_window_days: int
    over_plan_tolerance_basis_points: int
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class FunderRuleSet(SQLModel, table=True):
    """A funder's own copy of the spend checks, versioned: each edit is the next version;
    the shipped default is never changed in place."""

    __tablename__ = "funder_rule_set"
    __table_args__ = (UniqueConstraint("funder_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    funder_id: int = Field(foreign_key="funder.id", index=True)
    version: int
    definition: str = Field(sa_column=Column(Text, nullable=False))
    based_on: str = Field(max_length=80)
    note: str | None = Field(default=None, max_length=1000)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
