"""Funder payments expected and received, and how a receipt splits over budgets.

``expected_payment`` is the schedule of what a funder (or the person, for the client
contribution) is to pay towards a budget: the receivable, by due date. What has been
received against an instalment is never stored on it: it is the sum of the
``receipt_share`` rows that name it, so it cannot drift from the receipts.

Three things receive money, each kept with its journal entry: a funder's bank payment
(``funder_receipt``: one bank line, possibly over many budgets), a person's contribution
(``contribution_receipt``) and money in the holder's unallocated account later found to be a
budget's (``money_attribution``). Each splits into ``receipt_share`` rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow


class ExpectedPayment(SQLModel, table=True):
    """One instalment a funder (``funder_id``; null for the person's client contribution)
    is to pay towards a budget.

    A revision of the plan replaces the instalments not yet received: ``replaced_at`` is
    set, and from then on the instalment counts only for what was received against it."""

    __tablename__ = "expected_payment"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    funder_id: int | None = Field(default=None, foreign_key="funder.id", index=True)
    due_on: date
    amount_pence: int = Field(sa_type=Pence)
    description: str = Field(max_length=300)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    replaced_at: datetime | None = Field(default=None, sa_type=Timestamp)
    replaced_by: str | None = Field(default=None, max_length=200)


class FunderReceipt(SQLModel, table=True):
    """One funder payment as it arrived in the holder's client bank account.

    Unique per (holder, funder, day, reference): the same bank line recorded again is the
    same receipt, never a second one."""

    __tablename__ = "funder_receipt"
    __table_args__ = (
        UniqueConstraint("holder_id", "funder_id", "received_on", "reference"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id")
    funder_id: int = Field(foreign_key="funder.id", index=True)
    received_on: date
    amount_pence: int = Field(sa_type=Pence)
    reference: str = Field(max_length=140)
    by_remittance: bool = False
    """Split by the funder's remittance list (else by the amounts due)."""
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, unique=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class ContributionReceipt(SQLModel, table=True):
    """A client contribution the person paid towards their budget."""

    __tablename__ = "contribution_receipt"
    __table_args__ = (
        UniqueConstraint("budget_id", "received_on", "reference"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id")
    received_on: date
    amount_pence: int = Field(sa_type=Pence)
    reference: str = Field(max_length=140)
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, unique=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class MoneyAttribution(SQLModel, table=True):
    """Money in the holder's unallocated account found to belong to a budget (from a
    funder, or the person's contribution when ``funder_id`` is null)."""

    __tablename__ = "money_attribution"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    budget_id: int = Field(foreign_key="budget.id")
    funder_id: int | None = Field(default=None, foreign_key="funder.id")
    attributed_on: date
    amount_pence: int = Field(sa_type=Pence)
    reason: str = Field(max_length=1000)
    entry_id: int = Field(sa_column=Column(BigId, ForeignKey("journal_entry.id"), nullable=False, unique=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)


class ReceiptShare(SQLModel, table=True):
    """The part of one receipt that went to one budget (null: the holder's unallocated
    account), and to which instalment it counts (null: none was due)."""

    __tablename__ = "receipt_share"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint(
            "(CASE WHEN funder_receipt_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN contribution_receipt_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN attribution_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_source",
        ),
        CheckConstraint("expected_payment_id IS NULL OR budget_id IS NOT NULL", name="instalment_has_budget"),
    )

    id: int | None = Field(default=None, primary_key=True)
    funder_receipt_id: int | None = Field(default=None, foreign_key="funder_receipt.id", index=True)
    contribution_receipt_id: int | None = Field(default=None, foreign_key="contribution_receipt.id", index=True)
    attribution_id: int | None = Field(default=None, foreign_key="money_attribution.id", index=True)
    budget_id: int | None = Field(default=None, foreign_key="budget.id")
    expected_payment_id: int | None = Field(default=None, foreign_key="expected_payment.id", index=True)
    amount_pence: int = Field(sa_type=Pence)
