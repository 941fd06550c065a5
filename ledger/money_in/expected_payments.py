"""What funders (and the person) are expected to pay: the schedule of instalments.

The schedule of instalments (``expected_payment``) spreads each funder's agreed allocation
over the plan period, so that it always sums to the allocation, also after a revision.
What was received against an instalment is the sum of the receipt shares naming it
(``ledger.money_in.receipt_shares``).

The schedule is changed under the book's lock.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.budgets.parties import get_funder
from ledger.budgets.plans import LONDON, latest_agreed, version_allocations
from ledger.core import checks
from ledger.core.accounts import CONTRIBUTION_CODE
from ledger.core.entries import ENTRY_DATE_MAX, ENTRY_DATE_MIN
from ledger.core.journal import lock_book
from ledger.core.money import format_gbp, split_pence
from ledger.errors import Conflict, InvalidInput
from ledger.money_in.receipt_shares import positive_amount, received_by_instalment
from ledger.store.tables import Budget, Funder, utcnow
from ledger.store.tables.funder_payments import ExpectedPayment, ReceiptShare

FIRST_DUE_BEFORE_PLAN_DAYS_MAX = 366


class PaymentFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    FOUR_WEEKLY = "four_weekly"
    ANNUAL = "annual"


_MONTHS = {PaymentFrequency.MONTHLY: 1, PaymentFrequency.QUARTERLY: 3, PaymentFrequency.ANNUAL: 12}
_FOUR_WEEKS = timedelta(weeks=4)


# --- what callers get back ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpectedPaymentView:
    id: int
    budget_id: int
    budget_reference: str
    holder_id: int
    funder_id: int | None
    """``None``: the person's client contribution."""
    funder_code: str
    due_on: date
    amount_pence: int
    """What is expected; for an instalment replaced by a revision, what was received on it."""
    received_pence: int
    outstanding_pence: int
    overdue: bool
    description: str
    replaced: bool


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    instalments: list[ExpectedPaymentView]
    """The budget's whole schedule for this funder after the call."""
    created: int
    replaced: int


# --- the schedule of expected payments ----------------------------------------------------


def schedule_expected_payments(
    session: Session,
    budget_id: int,
    funder_id: int | None,
    *,
    frequency: str,
    first_due_on: date,
    created_by: str,
) -> ScheduleResult:
    """Spread what the funder's agreed allocation (``funder_id=None``: the person's client
    contribution) still has not been scheduled over instalments from ``first_due_on`` to the
    plan period's end, with ``split_pence`` so they sum exactly.

    Instalments due on or after ``first_due_on`` not yet fully received are replaced (a
    partly received one keeps what was received), so after a revision the schedule again
    sums to the allocation. Calling it again with nothing changed changes nothing."""
    budget = get_budget(session, budget_id)
    cadence = checks.choice(frequency, PaymentFrequency, "frequency")
    author = checks.required_text(created_by, "created_by", max_length=200)
    checks.date_between(
        first_due_on,
        "first_due_on",
        earliest=max(ENTRY_DATE_MIN, budget.period_start - timedelta(days=FIRST_DUE_BEFORE_PLAN_DAYS_MAX)),
        latest=budget.period_end,
    )
    payer = _payer_name(session, funder_id)
    allocation = agreed_allocation(session, budget, funder_id, payer)
    lock_book(session, budget.holder_id)
    rows = _instalments_of(session, budget.id, funder_id)
    received = received_by_instalment(session, [row.id for row in rows])
    to_replace = [r for r in rows if r.replaced_at is None and r.due_on >= first_due_on and received.get(r.id, 0) < r.amount_pence]
    replacing = {r.id for r in to_replace}
    kept = sum(received.get(r.id, 0) if r.id in replacing else _effective(r, received) for r in rows)
    if kept > allocation:
        raise Conflict(
            f"{format_gbp(kept)} of {budget.reference}'s schedule from {payer} is already received or due before"
            f" {first_due_on}, more than the agreed allocation of {format_gbp(allocation)}; schedule from an earlier date",
            code="schedule_exceeds_allocation",
            field="first_due_on",
        )
    dates = due_dates(first_due_on, budget.period_end, cadence)
    amounts = split_pence(allocation - kept, len(dates))
    wanted = [(day, pence) for day, pence in zip(dates, amounts) if pence > 0]
    unchanged = all(received.get(r.id, 0) == 0 for r in to_replace) and [(r.due_on, r.amount_pence) for r in to_replace] == wanted
    if not unchanged:
        now = utcnow()
        for row in to_replace:
            row.replaced_at, row.replaced_by = now, author
        for number, (day, pence) in enumerate(wanted, start=1):
            session.add(
                ExpectedPayment(
                    budget_id=budget.id, funder_id=funder_id, due_on=day, amount_pence=pence,
                    description=f"{payer[0].upper()}{payer[1:]}: instalment {number} of {len(wanted)}", created_by=author,
                )
            )  # fmt: skip
        session.flush()
    return ScheduleResult(
        instalments=expected_payments(session, budget_id=budget.id, funder_id=funder_id, contribution=funder_id is None),
        created=0 if unchanged else len(wanted),
        replaced=0 if unchanged else len(to_replace),
    )


def add_expected_payment(
    session: Session,
    budget_id: int,
    funder_id: int | None,
    *,
    due_on: date,
    amount_pence: int,
    description: str,
    created_by: str,
) -> ExpectedPaymentView:
    """One more instalment (a one-off), refused if the schedule would then expect more than
    the agreed allocation."""
    budget = get_budget(session, budget_id)
    checks.date_between(due_on, "due_on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    amount = positive_amount(amount_pence, "amount")
    text = checks.required_text(description, "description", max_length=300)
    author = checks.required_text(created_by, "created_by", max_length=200)
    payer = _payer_name(session, funder_id)
    allocation = agreed_allocation(session, budget, funder_id, payer)
    lock_book(session, budget.holder_id)
    rows = _instalments_of(session, budget.id, funder_id)
    received = received_by_instalment(session, [row.id for row in rows])
    scheduled = sum(_effective(row, received) for row in rows)
    if scheduled + amount > allocation:
        raise InvalidInput(
            f"{budget.reference} already expects {format_gbp(scheduled)} from {payer}; another {format_gbp(amount)} would"
            f" be more than the agreed allocation of {format_gbp(allocation)}",
            code="schedule_exceeds_allocation",
            field="amount",
        )
    row = ExpectedPayment(budget_id=budget.id, funder_id=funder_id, due_on=due_on, amount_pence=amount, description=text, created_by=author)
    session.add(row)
    session.flush()
    (view,) = [v for v in expected_payments(session, budget_id=budget.id) if v.id == row.id]
    return view


def expected_payments(
    session: Session,
    *,
    budget_id: int | None = None,
    holder_id: int | None = None,
    funder_id: int | None = None,
    contribution: bool = False,
    as_of: date | None = None,
) -> list[ExpectedPaymentView]:
    """Instalments with what was received, what is outstanding and whether overdue (due
    before ``as_of``, default today, and not fully received). ``contribution=True`` lists
    only the person's. Instalments replaced before anything was received are left out."""
    as_of = as_of or datetime.now(LONDON).date()
    received = (
        select(ReceiptShare.expected_payment_id.label("id"), func.sum(ReceiptShare.amount_pence).label("pence"))
        .where(ReceiptShare.expected_payment_id.is_not(None))
        .group_by(ReceiptShare.expected_payment_id)
        .subquery()
    )
    query = (
        select(ExpectedPayment, Budget.reference, Budget.holder_id, Funder.code, func.coalesce(received.c.pence, 0))
        .join(Budget, Budget.id == ExpectedPayment.budget_id)
        .outerjoin(Funder, Funder.id == ExpectedPayment.funder_id)
        .outerjoin(received, received.c.id == ExpectedPayment.id)
        .order_by(ExpectedPayment.due_on, Budget.reference, ExpectedPayment.id)
    )
    if budget_id is not None:
        query = query.where(ExpectedPayment.budget_id == budget_id)
    if holder_id is not None:
        query = query.where(Budget.holder_id == holder_id)
    if funder_id is not None:
        query = query.where(ExpectedPayment.funder_id == funder_id)
    if contribution:
        query = query.where(ExpectedPayment.funder_id.is_(None))
    views = []
    for row, reference, holder, code, got in session.execute(query).all():
        got = int(got)
        amount = row.amount_pence if row.replaced_at is None else got
        if amount == 0:
            continue
        outstanding = max(amount - got, 0)
        views.append(
            ExpectedPaymentView(
                id=row.id, budget_id=row.budget_id, budget_reference=reference, holder_id=holder, funder_id=row.funder_id,
                funder_code=code or CONTRIBUTION_CODE, due_on=row.due_on, amount_pence=amount, received_pence=got,
                outstanding_pence=outstanding, overdue=outstanding > 0 and row.due_on < as_of, description=row.description,
                replaced=row.replaced_at is not None,
            )
        )  # fmt: skip
    return views


def due_dates(first: date, last: date, frequency: PaymentFrequency) -> list[date]:
    """The due dates from ``first`` to ``last`` (inclusive). Each is counted from the first,
    so a month-end day is kept where the month has it (31 Jan, 28 Feb, 31 Mar), never
    drifting to the 28th."""
    days: list[date] = []
    while (day := _nth_due_date(first, frequency, len(days))) <= last:
        days.append(day)
    return days


def _nth_due_date(first: date, frequency: PaymentFrequency, n: int) -> date:
    if frequency is PaymentFrequency.FOUR_WEEKLY:
        return first + _FOUR_WEEKS * n
    months = first.year * 12 + first.month - 1 + _MONTHS[frequency] * n
    year, month = divmod(months, 12)
    if year > ENTRY_DATE_MAX.year:
        return date.max
    return date(year, month + 1, min(first.day, calendar.monthrange(year, month + 1)[1]))


def _effective(row: ExpectedPayment, received: dict[int, int]) -> int:
    return row.amount_pence if row.replaced_at is None else received.get(row.id, 0)


def _instalments_of(session: Session, budget_id: int, funder_id: int | None) -> list[ExpectedPayment]:
    payer: ColumnElement[bool] = (
        ExpectedPayment.funder_id.is_(None) if funder_id is None else ExpectedPayment.funder_id == funder_id
    )
    query = select(ExpectedPayment).where(ExpectedPayment.budget_id == budget_id, payer)
    return list(session.execute(query.order_by(ExpectedPayment.due_on, ExpectedPayment.id)).scalars())


def _payer_name(session: Session, funder_id: int | None) -> str:
    return "the client contribution" if funder_id is None else get_funder(session, funder_id).name


def agreed_allocation(session: Session, budget: Budget, funder_id: int | None, payer: str, *, field: str = "funder_id") -> int:
    version = latest_agreed(session, budget.id)
    if version is None:
        raise Conflict(f"{budget.reference} has no agreed plan: nothing is expected yet", code="plan_not_agreed")
    allocation = version_allocations(session, version).get(funder_id, 0)
    if allocation <= 0:
        if funder_id is None:
            raise InvalidInput(
                f"the agreed plan of {budget.reference} has no client contribution", code="no_client_contribution", field=field
            )
        raise InvalidInput(f"{payer} pays nothing towards {budget.reference} in its agreed plan", code="funder_not_in_plan", field="funder_id")
    return allocation
