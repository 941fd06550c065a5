"""Payables as read back: the statuses a payable can be in, one payable with its lines, or a
holder's or budget's payables.

Read for one budget, a payable shows only that budget's lines and total: a family sees its
own share, not others'.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import InvalidInput, NotFound
from ledger.store.tables import Budget, Category
from ledger.store.tables.payables import Payable, PayableLine


class PayableStatus:
    APPROVED = "approved"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PayableLineView:
    line_no: int
    budget_id: int
    budget_reference: str
    category_code: str
    amount_pence: int
    description: str | None
    worker: str | None
    hours_hundredths: int | None
    rate_pence: int | None
    employer_costs_pence: int | None
    pool_id: int | None


@dataclass(frozen=True, slots=True)
class PayableView:
    """A payable as read back. Read for one budget, ``lines`` and ``total_pence`` are only
    that budget's (``payable_total_pence`` is the whole payable's)."""

    payable: Payable
    lines: tuple[PayableLineView, ...]
    total_pence: int

    @property
    def id(self) -> int:
        assert self.payable.id is not None
        return self.payable.id

    def totals_by_budget(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.budget_reference] = totals.get(line.budget_reference, 0) + line.amount_pence
        return totals


# --- reading --------------------------------------------------------------------------------


def get_payable(session: Session, payable_id: int) -> PayableView:
    payable = session.get(Payable, payable_id)
    if payable is None:
        raise NotFound(f"there is no payable {payable_id}", code="payable_not_found")
    lines = tuple(lines_of(session, [payable_id]))
    return PayableView(payable, lines, payable.total_pence)


def payables_of(
    session: Session, *, holder_id: int | None = None, budget_id: int | None = None, status: str | None = None
) -> list[PayableView]:
    """Payables, newest first. For one budget, only the payables with a line for it, each
    with only that budget's lines and total: a family sees its own share, not others'."""
    if status is not None and status not in (PayableStatus.APPROVED, PayableStatus.PAID, PayableStatus.CANCELLED):
        raise InvalidInput("status must be one of: approved, paid, cancelled", code="field_not_allowed", field="status")
    query = select(Payable).order_by(Payable.dated_on.desc(), Payable.id.desc())
    if holder_id is not None:
        query = query.where(Payable.holder_id == holder_id)
    if status is not None:
        query = query.where(Payable.status == status)
    if budget_id is not None:
        query = query.where(Payable.id.in_(select(PayableLine.payable_id).where(PayableLine.budget_id == budget_id)))
    payables = list(session.execute(query).scalars())
    lines_by_payable: dict[int, list[PayableLineView]] = {}
    ids = [p.id for p in payables if p.id is not None]
    for start in range(0, len(ids), 500):
        for payable_id, line in _line_rows(session, ids[start : start + 500], budget_id):
            lines_by_payable.setdefault(payable_id, []).append(line)
    views = []
    for payable in payables:
        lines = tuple(lines_by_payable.get(payable.id, []))  # type: ignore[arg-type]
        total = sum(line.amount_pence for line in lines) if budget_id is not None else payable.total_pence
        views.append(PayableView(payable, lines, total))
    return views


def lines_of(session: Session, payable_ids: list[int]) -> list[PayableLineView]:
    return [line for _, line in _line_rows(session, payable_ids, None)]


def _line_rows(session: Session, payable_ids: list[int], budget_id: int | None) -> list[tuple[int, PayableLineView]]:
    line_table, budget_table, category_table = PayableLine.__table__, Budget.__table__, Category.__table__
    line, budget, category = line_table.c, budget_table.c, category_table.c
    query = (
        select(line.payable_id, line.line_no, line.budget_id, budget.reference, category.code, line.amount_pence, line.description,
               line.worker, line.hours_hundredths, line.rate_pence, line.employer_costs_pence, line.pool_id)
        .join(budget_table, budget.id == line.budget_id)
        .join(category_table, category.id == line.category_id)
        .where(line.payable_id.in_(payable_ids))
        .order_by(line.payable_id, line.line_no)
    )  # fmt: skip
    if budget_id is not None:
        query = query.where(line.budget_id == budget_id)
    return [(row[0], PayableLineView(*row[1:])) for row in session.execute(query)]
