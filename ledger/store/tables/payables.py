"""Wages, invoices, payroll runs and pooled costs: approved (committed) and paid.

A ``payable`` is one thing the holder has approved to pay from the client bank account: an
agency's invoice, a worker's wages, a whole payroll run, or a pooled cost. Its lines say which
budget (and spend category) bears how much; one payable can cover many budgets. Approving it
posts one journal entry (``B:spend:<c>`` / ``B:payable`` per budget and category), paying it
another (``B:payable`` / ``B:cash`` per budget); the rows here remember which.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import BigId, Pence, Timestamp, utcnow

PAYABLE_KINDS = ("invoice", "wages", "payroll", "pooled")
PAYABLE_STATUSES = ("approved", "paid", "cancelled")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Payable(SQLModel, table=True):
    """An invoice, wages, a payroll run or a pooled cost, approved and perhaps paid.

    ``supplier_key`` and ``number_key`` are the supplier and number with case and spacing
    normalised; they are unique per holder among payables not cancelled, whatever the kind,
    so an agency's invoice 123 cannot be approved (and paid) twice, while a cancelled one can
    be approved again, corrected. A payroll file is unique per holder by its SHA-256.
    """

    __tablename__ = "payable"
    __table_args__ = (
        Index(
            "uq_payable_holder_id_supplier_key_number_key",
            "holder_id",
            "supplier_key",
            "number_key",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        UniqueConstraint("holder_id", "source_sha256"),
        CheckConstraint("total_pence > 0", name="total_positive"),
        CheckConstraint(_one_of("kind", PAYABLE_KINDS), name="kind_known"),
        CheckConstraint(_one_of("status", PAYABLE_STATUSES), name="status_known"),
        CheckConstraint("status <> 'paid' OR payment_entry_id IS NOT NULL", name="paid_has_payment"),
    )

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id", index=True)
    kind: str = Field(max_length=20)
    supplier: str = Field(max_length=200)
    """The agency or supplier, the worker for wages, "Payroll" for a payroll run."""
    supplier_key: str = Field(max_length=200)
    number: str = Field(max_length=100)
    """The invoice number, or the payroll reference."""
    number_key: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    dated_on: date
    approved_by: str = Field(max_length=200)
    approved_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    total_pence: int = Field(sa_type=Pence)
    status: str = Field(default="approved", max_length=20, index=True)
    approval_entry_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("journal_entry.id"), unique=True))
    """Set in the same transaction as the row is made (the entry's key needs the row's id)."""
    payment_entry_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("journal_entry.id"), index=True))
    """One bank payment may pay several payables, so several rows may share it."""
    paid_on: date | None = None
    paid_by: str | None = Field(default=None, max_length=200)
    bank_reference: str | None = Field(default=None, max_length=100)
    cancel_entry_id: int | None = Field(default=None, sa_column=Column(BigId, ForeignKey("journal_entry.id"), unique=True))
    cancelled_on: date | None = None
    cancelled_by: str | None = Field(default=None, max_length=200)
    source_file: str | None = Field(default=None, max_length=500)
    source_sha256: str | None = Field(default=None, max_length=64)


class PayableLine(SQLModel, table=True):
    """What one budget bears of a payable, in one spend category. A payroll line also keeps
    the worker, hours, rate and employer's costs it was worked out from; a pooled cost's line
    names the pool it was split from."""

    __tablename__ = "payable_line"
    __table_args__ = (
        UniqueConstraint("payable_id", "line_no"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("line_no >= 1", name="line_no_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payable_id: int = Field(foreign_key="payable.id")
    line_no: int
    """The line's number: the CSV line it came from for a payroll run, else 1, 2, …"""
    budget_id: int = Field(foreign_key="budget.id", index=True)
    category_id: int = Field(foreign_key="category.id")
    amount_pence: int = Field(sa_type=Pence)
    description: str | None = Field(default=None, max_length=500)
    worker: str | None = Field(default=None, max_length=200)
    hours_hundredths: int | None = None
    rate_pence: int | None = Field(default=None, sa_type=Pence)
    employer_costs_pence: int | None = Field(default=None, sa_type=Pence)
    pool_id: int | None = Field(default=None, foreign_key="pool.id")


class Pool(SQLModel, table=True):
    """People who pool part of their budgets for shared support (e.g. a shared night
    worker). A cost approved for the pool splits over its budgets by their shares."""

    __tablename__ = "pool"
    __table_args__ = (UniqueConstraint("holder_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="holder.id")
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=Timestamp)
    shares_changed_at: datetime | None = Field(default=None, sa_type=Timestamp)


class PoolShare(SQLModel, table=True):
    """One budget's agreed share of a pool: a positive whole-number weight (basis points,
    hours a week, anything) — its part of a cost is weight ÷ the pool's total weight."""

    __tablename__ = "pool_share"
    __table_args__ = (
        UniqueConstraint("pool_id", "budget_id"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pool_id: int = Field(foreign_key="pool.id")
    budget_id: int = Field(foreign_key="budget.id")
    weight: int
