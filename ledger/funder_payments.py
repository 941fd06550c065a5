"""Money coming in: what funders (and the person) are expected to pay, and its receipt.

DESIGN.md §3:

- a funder payment received: debit ``B:cash``, credit ``B:receivable:F`` — one bank line
  may pay for many budgets: one entry, one balanced pair per budget; what cannot be put to a
  budget goes to the holder's own fund: debit ``holder:H:unallocated``, credit
  ``holder:H:unidentified``;
- money later found to be a budget's: both pairs at once (``MONEY_IDENTIFIED``);
- a client contribution received: debit ``B:cash``, credit ``B:receivable:contribution``.

The schedule of instalments (``expected_payment``) spreads each funder's agreed allocation
over the plan period, so that it always sums to the allocation, also after a revision.
What was received against an instalment is the sum of the receipt shares naming it.

Exactly once: each receipt is unique per its bank line (a database constraint) and its
entry's idempotency key comes from the same fields, so recording the same line again returns
the original. Every decision read from balances is taken under the book's lock.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from ledger import checks
from ledger.accounts import CONTRIBUTION_CODE, account_ids_by_code, budget_account_code, holder_account_code
from ledger.balances import signed_sums
from ledger.budgets import get_budget
from ledger.entries import ENTRY_DATE_MAX, ENTRY_DATE_MIN, NewEntry, NewPosting, PostOutcome
from ledger.errors import Conflict, InvalidInput
from ledger.funder_payment_split import Instalment, RemittanceLine, Share, Split, fill_oldest_first, oldest_first, split_receipt
from ledger.journal import lock_book, post_entry
from ledger.money import AMOUNT_PENCE_MAX, format_gbp, split_pence
from ledger.parties import get_funder, get_holder
from ledger.plans import LONDON, latest_agreed, version_allocations
from ledger.tables import Account, Budget, Funder, Holder, JournalEntry, utcnow
from ledger.tables.funder_payments import (
    ContributionReceipt,
    ExpectedPayment,
    FunderReceipt,
    MoneyAttribution,
    ReceiptShare,
)
from ledger.vocabulary import AccountKind, EntryKind

EARLY_PAYMENT_DAYS = 14
"""A payment without a remittance list pays the instalments due up to a fortnight after it
arrives: funders often pay a little early."""
FIRST_DUE_BEFORE_PLAN_DAYS_MAX = 366
REFERENCE_LENGTH_MAX = 140
REMITTANCE_LINES_MAX = 1000
DESCRIPTION_LENGTH_MAX = 500


class PaymentFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    FOUR_WEEKLY = "four_weekly"
    ANNUAL = "annual"


_MONTHS = {PaymentFrequency.MONTHLY: 1, PaymentFrequency.QUARTERLY: 3, PaymentFrequency.ANNUAL: 12}
_FOUR_WEEKS = timedelta(weeks=4)


# --- what callers get back ---------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class ShareView:
    budget_id: int | None
    """``None``: the holder's unallocated account."""
    budget_reference: str | None
    expected_payment_id: int | None
    due_on: date | None
    amount_pence: int


@dataclass(frozen=True, slots=True)
class ReceiptView:
    id: int
    holder_id: int
    funder_id: int
    funder_code: str
    received_on: date
    amount_pence: int
    reference: str
    by_remittance: bool
    entry_id: int
    created_by: str
    shares: list[ShareView]

    @property
    def unallocated_pence(self) -> int:
        return sum(share.amount_pence for share in self.shares if share.budget_id is None)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A receipt, contribution or attribution, and whether this call made it (``False``:
    it was recorded before and this is the original)."""

    receipt: ReceiptView | ContributionView | AttributionView
    created: bool


@dataclass(frozen=True, slots=True)
class ContributionView:
    id: int
    budget_id: int
    budget_reference: str
    received_on: date
    amount_pence: int
    reference: str
    entry_id: int
    created_by: str
    shares: list[ShareView]


@dataclass(frozen=True, slots=True)
class AttributionView:
    id: int
    holder_id: int
    budget_id: int
    budget_reference: str
    funder_id: int | None
    attributed_on: date
    amount_pence: int
    reason: str
    entry_id: int
    created_by: str
    shares: list[ShareView]


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
    allocation = _allocation(session, budget, funder_id, payer)
    lock_book(session, budget.holder_id)
    rows = _instalments_of(session, budget.id, funder_id)
    received = _received_by_instalment(session, [row.id for row in rows])
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
    amount = _positive_amount(amount_pence, "amount")
    text = checks.required_text(description, "description", max_length=300)
    author = checks.required_text(created_by, "created_by", max_length=200)
    payer = _payer_name(session, funder_id)
    allocation = _allocation(session, budget, funder_id, payer)
    lock_book(session, budget.holder_id)
    rows = _instalments_of(session, budget.id, funder_id)
    received = _received_by_instalment(session, [row.id for row in rows])
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


def _received_by_instalment(session: Session, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    query = (
        select(ReceiptShare.expected_payment_id, func.sum(ReceiptShare.amount_pence))
        .where(ReceiptShare.expected_payment_id.in_(ids))
        .group_by(ReceiptShare.expected_payment_id)
    )
    return {instalment_id: int(pence) for instalment_id, pence in session.execute(query)}


def _outstanding(session: Session, condition: ColumnElement[bool]) -> list[Instalment]:
    """The instalments not replaced, matching ``condition``, with something outstanding."""
    rows = list(
        session.execute(
            select(ExpectedPayment).join(Budget, Budget.id == ExpectedPayment.budget_id).where(ExpectedPayment.replaced_at.is_(None), condition)
        ).scalars()
    )
    received = _received_by_instalment(session, [row.id for row in rows])
    return oldest_first(
        Instalment(row.id, row.budget_id, row.due_on, row.amount_pence - received.get(row.id, 0))
        for row in rows
        if row.amount_pence > received.get(row.id, 0)
    )


def _payer_name(session: Session, funder_id: int | None) -> str:
    return "the client contribution" if funder_id is None else get_funder(session, funder_id).name


def _allocation(session: Session, budget: Budget, funder_id: int | None, payer: str, *, field: str = "funder_id") -> int:
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


# --- a funder's payment -------------------------------------------------------------------


def record_funder_receipt(
    session: Session,
    holder_id: int,
    funder_id: int,
    *,
    received_on: date,
    amount_pence: int,
    reference: str,
    remittance: list[tuple[str, int]] | None,
    created_by: str,
) -> Recorded:
    """Record one funder payment into the holder's client bank account and post it, split
    over budgets by ``remittance`` ([(budget reference, pence), …]) or else by the amounts
    due (see ``ledger.funder_payment_split``). The same bank line (holder, funder, day,
    reference) recorded again returns the original; with another amount it is a conflict."""
    holder = get_holder(session, holder_id)
    funder = get_funder(session, funder_id)
    checks.date_between(received_on, "received_on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    amount = _positive_amount(amount_pence, "amount")
    ref = checks.required_text(reference, "reference", max_length=REFERENCE_LENGTH_MAX)
    author = checks.required_text(created_by, "created_by", max_length=200)
    funded = _funded_budgets(session, holder.id, funder)
    lines = _remittance_lines(remittance, amount, funded, funder, holder)
    lock_book(session, holder.id)
    existing = session.execute(
        select(FunderReceipt).where(
            FunderReceipt.holder_id == holder.id,
            FunderReceipt.funder_id == funder.id,
            FunderReceipt.received_on == received_on,
            FunderReceipt.reference == ref,
        )
    ).scalar_one_or_none()
    if existing is not None:
        _refuse_other_amount(existing.amount_pence, amount, f"{funder.name}'s payment {ref!r} of {received_on}")
        return Recorded(_receipt_view(session, existing, funder.code), created=False)
    receivables = _receivable_balances(session, list(funded.values()), funder.code)
    instalments = _outstanding(session, and_(Budget.holder_id == holder.id, ExpectedPayment.funder_id == funder.id))
    split = split_receipt(
        amount, instalments=instalments, receivable_by_budget=receivables,
        due_by=received_on + timedelta(days=EARLY_PAYMENT_DAYS), remittance=lines,
    )  # fmt: skip
    by_id = {budget.id: budget for budget in funded.values()}
    entry = NewEntry(
        book_id=holder.id,
        entry_date=received_on,
        description=_receipt_description(funder, amount, ref, split, by_id),
        idempotency_key=f"funder-receipt:funder-{funder.id}:{received_on.isoformat()}:{ref}",
        postings=_receipt_postings(session, holder, funder.code, split, by_id),
        kind=EntryKind.FUNDER_PAYMENT,
        created_by=author,
    )
    entry_id = _post_new(session, entry, f"{funder.name}'s payment {ref!r}")
    receipt = FunderReceipt(
        holder_id=holder.id, funder_id=funder.id, received_on=received_on, amount_pence=amount, reference=ref,
        by_remittance=lines is not None, entry_id=entry_id, created_by=author,
    )  # fmt: skip
    session.add(receipt)
    session.flush()
    _add_shares(session, split.shares, split.unallocated_pence, funder_receipt_id=receipt.id)
    return Recorded(_receipt_view(session, receipt, funder.code), created=True)


def funder_receipts(session: Session, holder_id: int, *, funder_id: int | None = None) -> list[ReceiptView]:
    get_holder(session, holder_id)
    query = select(FunderReceipt, Funder.code).join(Funder, Funder.id == FunderReceipt.funder_id).where(FunderReceipt.holder_id == holder_id)
    if funder_id is not None:
        query = query.where(FunderReceipt.funder_id == funder_id)
    rows = session.execute(query.order_by(FunderReceipt.received_on, FunderReceipt.id)).all()
    return [_receipt_view(session, receipt, code) for receipt, code in rows]


def _funded_budgets(session: Session, holder_id: int, funder: Funder) -> dict[str, Budget]:
    """The holder's budgets the funder funds (they have a receivable from it), by reference."""
    query = (
        select(Budget)
        .join(Account, Account.budget_id == Budget.id)
        .where(Budget.holder_id == holder_id, Account.kind == AccountKind.RECEIVABLE, Account.funder_id == funder.id)
        .order_by(Budget.reference)
    )
    return {budget.reference: budget for budget in session.execute(query).scalars()}


def _remittance_lines(
    remittance: list[tuple[str, int]] | None, amount: int, funded: dict[str, Budget], funder: Funder, holder: Holder
) -> list[RemittanceLine] | None:
    if remittance is None:
        return None
    if not remittance:
        raise InvalidInput("remittance has no lines; leave it out to split by the amounts due", code="remittance_empty", field="remittance")
    if len(remittance) > REMITTANCE_LINES_MAX:
        raise InvalidInput(f"remittance has more than {REMITTANCE_LINES_MAX} lines", code="remittance_too_long", field="remittance")
    lines = []
    for index, (reference, pence) in enumerate(remittance):
        budget = funded.get(reference) if isinstance(reference, str) else None
        if budget is None:
            raise InvalidInput(
                f"remittance[{index}].budget: {reference!r} is not a budget of {holder.name} that {funder.name} funds",
                code="remittance_budget_unknown",
                field=f"remittance[{index}].budget",
            )
        lines.append(RemittanceLine(budget.id, _positive_amount(pence, f"remittance[{index}].amount")))
    listed = sum(line.amount_pence for line in lines)
    if listed > amount:
        raise InvalidInput(
            f"the remittance lines add up to {format_gbp(listed)}, more than the payment of {format_gbp(amount)}",
            code="remittance_exceeds_payment",
            field="remittance",
        )
    return lines


def _receivable_balances(session: Session, budgets: Sequence[Budget], qualifier: str) -> dict[int, int]:
    """What each budget's receivable from the funder (``qualifier``: its code, or
    ``contribution``) still holds, by budget id. Call under the book's lock."""
    codes = {budget_account_code(b.reference, AccountKind.RECEIVABLE, qualifier): b.id for b in budgets}
    if not codes:
        return {}
    ids = account_ids_by_code(session, codes)
    sums = signed_sums(session, list(ids.values()))
    return {budget_id: sums.get(ids[code], 0) for code, budget_id in codes.items()}


def _receipt_postings(session: Session, holder: Holder, qualifier: str, split: Split, by_id: dict[int, Budget]) -> tuple[NewPosting, ...]:
    per_budget = split.by_budget()
    codes: list[str] = []
    for budget_id in per_budget:
        reference = by_id[budget_id].reference
        codes += [budget_account_code(reference, AccountKind.CASH), budget_account_code(reference, AccountKind.RECEIVABLE, qualifier)]
    unallocated = holder_account_code(holder.code, AccountKind.UNALLOCATED)
    unidentified = holder_account_code(holder.code, AccountKind.UNIDENTIFIED)
    ids = account_ids_by_code(session, [*codes, unallocated, unidentified])
    postings: list[NewPosting] = []
    for budget_id, pence in sorted(per_budget.items(), key=lambda item: by_id[item[0]].reference):
        reference = by_id[budget_id].reference
        postings += [
            NewPosting(ids[budget_account_code(reference, AccountKind.CASH)], pence),
            NewPosting(ids[budget_account_code(reference, AccountKind.RECEIVABLE, qualifier)], -pence),
        ]
    if split.unallocated_pence:
        postings += [NewPosting(ids[unallocated], split.unallocated_pence), NewPosting(ids[unidentified], -split.unallocated_pence)]
    return tuple(postings)


def _receipt_description(funder: Funder, amount: int, reference: str, split: Split, by_id: dict[int, Budget]) -> str:
    parts = [f"{by_id[b].reference} {format_gbp(p)}" for b, p in sorted(split.by_budget().items(), key=lambda i: by_id[i[0]].reference)]
    if split.unallocated_pence:
        parts.append(f"unallocated {format_gbp(split.unallocated_pence)}")
    return _fit(f"Payment from {funder.name}, {format_gbp(amount)}, ref {reference}: {'; '.join(parts)}")


# --- money found to be a budget's ---------------------------------------------------------


def attribute_unallocated(
    session: Session,
    holder_id: int,
    *,
    budget_id: int,
    funder_id: int | None,
    amount_pence: int,
    on: date,
    reason: str,
    created_by: str,
) -> Recorded:
    """Move money from the holder's unallocated account to a budget it was found to be for,
    from a funder (``funder_id=None``: the person's contribution). Refused beyond what is
    unallocated and beyond what the budget's receivable still holds. The same attribution
    (budget, payer, day, amount, reason) made again returns the original."""
    holder = get_holder(session, holder_id)
    budget = get_budget(session, budget_id)
    if budget.holder_id != holder.id:
        raise InvalidInput(f"{budget.reference} is not a budget of {holder.name}", code="budget_of_other_holder", field="budget_id")
    qualifier = CONTRIBUTION_CODE if funder_id is None else get_funder(session, funder_id).code
    checks.date_between(on, "on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    amount = _positive_amount(amount_pence, "amount")
    why = checks.required_text(reason, "reason", max_length=1000)
    author = checks.required_text(created_by, "created_by", max_length=200)
    receivable_code = budget_account_code(budget.reference, AccountKind.RECEIVABLE, qualifier)
    if session.execute(select(Account.id).where(Account.code == receivable_code)).first() is None:
        raise InvalidInput(f"{budget.reference} has no receivable from {qualifier}", code="funder_not_funding", field="funder_id")
    digest = hashlib.sha256(why.encode()).hexdigest()[:16]
    key = f"money-identified:budget-{budget.id}:{qualifier}:{on.isoformat()}:{amount}:{digest}"
    lock_book(session, holder.id)
    existing = session.execute(
        select(MoneyAttribution)
        .join(JournalEntry, JournalEntry.id == MoneyAttribution.entry_id)
        .where(JournalEntry.book_id == holder.id, JournalEntry.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return Recorded(_attribution_view(session, existing, budget), created=False)
    unallocated_code = holder_account_code(holder.code, AccountKind.UNALLOCATED)
    unidentified_code = holder_account_code(holder.code, AccountKind.UNIDENTIFIED)
    cash_code = budget_account_code(budget.reference, AccountKind.CASH)
    ids = account_ids_by_code(session, [unallocated_code, unidentified_code, cash_code, receivable_code])
    balances = signed_sums(session, [ids[unallocated_code], ids[receivable_code]])
    _refuse_beyond(amount, balances.get(ids[unallocated_code], 0), f"{holder.name}'s unallocated money", "exceeds_unallocated")
    _refuse_beyond(amount, balances.get(ids[receivable_code], 0), f"what {budget.reference} is still owed by {qualifier}", "exceeds_receivable")
    entry = NewEntry(
        book_id=holder.id,
        entry_date=on,
        description=_fit(f"Money identified as {budget.reference}'s from {qualifier}, {format_gbp(amount)}: {why}"),
        idempotency_key=key,
        postings=(
            NewPosting(ids[cash_code], amount),
            NewPosting(ids[receivable_code], -amount),
            NewPosting(ids[unidentified_code], amount),
            NewPosting(ids[unallocated_code], -amount),
        ),
        kind=EntryKind.MONEY_IDENTIFIED,
        created_by=author,
    )
    entry_id = _post_new(session, entry, f"the attribution to {budget.reference}")
    attribution = MoneyAttribution(
        holder_id=holder.id, budget_id=budget.id, funder_id=funder_id, attributed_on=on, amount_pence=amount, reason=why,
        entry_id=entry_id, created_by=author,
    )  # fmt: skip
    session.add(attribution)
    session.flush()
    _add_budget_shares(session, budget.id, funder_id, amount, attribution_id=attribution.id)
    return Recorded(_attribution_view(session, attribution, budget), created=True)


# --- the person's client contribution -----------------------------------------------------


def record_contribution(
    session: Session, budget_id: int, *, received_on: date, amount_pence: int, reference: str, created_by: str
) -> Recorded:
    """Record a client contribution the person paid. Refused when the agreed plan has no
    client contribution, and beyond what the person still owes. Counts against the person's
    instalments, oldest first. Unique per (budget, day, reference)."""
    budget = get_budget(session, budget_id)
    checks.date_between(received_on, "received_on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    amount = _positive_amount(amount_pence, "amount")
    ref = checks.required_text(reference, "reference", max_length=REFERENCE_LENGTH_MAX)
    author = checks.required_text(created_by, "created_by", max_length=200)
    _allocation(session, budget, None, "the client contribution", field="budget_id")
    lock_book(session, budget.holder_id)
    existing = session.execute(
        select(ContributionReceipt).where(
            ContributionReceipt.budget_id == budget.id, ContributionReceipt.received_on == received_on, ContributionReceipt.reference == ref
        )
    ).scalar_one_or_none()
    if existing is not None:
        _refuse_other_amount(existing.amount_pence, amount, f"the contribution {ref!r} of {received_on}")
        return Recorded(_contribution_view(session, existing, budget), created=False)
    (owed,) = _receivable_balances(session, [budget], CONTRIBUTION_CODE).values()
    _refuse_beyond(amount, owed, f"what the person still owes towards {budget.reference}", "exceeds_receivable")
    cash_code = budget_account_code(budget.reference, AccountKind.CASH)
    receivable_code = budget_account_code(budget.reference, AccountKind.RECEIVABLE, CONTRIBUTION_CODE)
    ids = account_ids_by_code(session, [cash_code, receivable_code])
    entry = NewEntry(
        book_id=budget.holder_id,
        entry_date=received_on,
        description=_fit(f"Client contribution to {budget.reference}, {format_gbp(amount)}, ref {ref}"),
        idempotency_key=f"contribution:budget-{budget.id}:{received_on.isoformat()}:{ref}",
        postings=(NewPosting(ids[cash_code], amount), NewPosting(ids[receivable_code], -amount)),
        kind=EntryKind.CONTRIBUTION_RECEIVED,
        created_by=author,
    )
    entry_id = _post_new(session, entry, f"the contribution {ref!r}")
    receipt = ContributionReceipt(
        budget_id=budget.id, received_on=received_on, amount_pence=amount, reference=ref, entry_id=entry_id, created_by=author
    )
    session.add(receipt)
    session.flush()
    _add_budget_shares(session, budget.id, None, amount, contribution_receipt_id=receipt.id)
    return Recorded(_contribution_view(session, receipt, budget), created=True)


def contributions_of(session: Session, budget_id: int) -> list[ContributionView]:
    budget = get_budget(session, budget_id)
    rows = session.execute(
        select(ContributionReceipt).where(ContributionReceipt.budget_id == budget.id).order_by(ContributionReceipt.received_on, ContributionReceipt.id)
    ).scalars()
    return [_contribution_view(session, row, budget) for row in rows]


# --- shared -------------------------------------------------------------------------------


def _positive_amount(pence: int, field: str) -> int:
    if not isinstance(pence, int) or isinstance(pence, bool) or not 0 < pence <= AMOUNT_PENCE_MAX:
        raise InvalidInput(f"{field} must be more than £0.00 and at most {format_gbp(AMOUNT_PENCE_MAX)}", code="amount_not_positive", field=field)
    return pence


def _refuse_other_amount(recorded: int, given: int, what: str) -> None:
    if recorded != given:
        raise Conflict(
            f"{what} was recorded before for {format_gbp(recorded)}, not {format_gbp(given)}; a different payment needs its own reference",
            code="receipt_exists_with_other_amount",
            field="amount",
            details={"recorded_pence": recorded},
        )


def _refuse_beyond(amount: int, available: int, what: str, code: str) -> None:
    if amount > available:
        raise InvalidInput(
            f"{format_gbp(amount)} is more than {what} ({format_gbp(max(available, 0))})",
            code=code,
            field="amount",
            details={"available_pence": max(available, 0)},
        )


def _post_new(session: Session, entry: NewEntry, what: str) -> int:
    """Post an entry that must be new: its receipt row did not exist, so its key must not
    either (anything else means the ledger and the receipts disagree)."""
    result = post_entry(session, entry)
    if result.outcome is not PostOutcome.CREATED:
        raise Conflict(
            f"the journal already holds an entry for {what} (entry {result.entry.id}, {result.outcome}) with no receipt"
            " recorded for it; run `phb-ledger verify` and look at that entry",
            code="receipt_entry_conflict",
        )
    return result.entry.id


def _add_budget_shares(session: Session, budget_id: int, funder_id: int | None, amount: int, **source: int) -> None:
    """Money for one budget from one payer: against its outstanding instalments, oldest
    first (whatever their due date); any rest against no instalment."""
    payer = ExpectedPayment.funder_id.is_(None) if funder_id is None else ExpectedPayment.funder_id == funder_id
    instalments = _outstanding(session, and_(ExpectedPayment.budget_id == budget_id, payer))
    filled, rest = fill_oldest_first(amount, instalments)
    shares = [Share(budget_id, instalment_id, pence) for instalment_id, pence in filled]
    if rest:
        shares.append(Share(budget_id, None, rest))
    _add_shares(session, shares, 0, **source)


def _add_shares(session: Session, shares: Sequence[Share], unallocated: int, **source: int) -> None:
    for share in shares:
        session.add(ReceiptShare(budget_id=share.budget_id, expected_payment_id=share.expected_payment_id, amount_pence=share.amount_pence, **source))
    if unallocated:
        session.add(ReceiptShare(budget_id=None, expected_payment_id=None, amount_pence=unallocated, **source))
    session.flush()


def _share_views(session: Session, condition: ColumnElement[bool]) -> list[ShareView]:
    rows = session.execute(
        select(ReceiptShare, Budget.reference, ExpectedPayment.due_on)
        .outerjoin(Budget, Budget.id == ReceiptShare.budget_id)
        .outerjoin(ExpectedPayment, ExpectedPayment.id == ReceiptShare.expected_payment_id)
        .where(condition)
        .order_by(ReceiptShare.id)
    ).all()
    return [ShareView(share.budget_id, reference, share.expected_payment_id, due_on, share.amount_pence) for share, reference, due_on in rows]


def _receipt_view(session: Session, receipt: FunderReceipt, funder_code: str) -> ReceiptView:
    return ReceiptView(
        id=receipt.id, holder_id=receipt.holder_id, funder_id=receipt.funder_id, funder_code=funder_code,
        received_on=receipt.received_on, amount_pence=receipt.amount_pence, reference=receipt.reference,
        by_remittance=receipt.by_remittance, entry_id=receipt.entry_id, created_by=receipt.created_by,
        shares=_share_views(session, ReceiptShare.funder_receipt_id == receipt.id),
    )  # fmt: skip


def _contribution_view(session: Session, receipt: ContributionReceipt, budget: Budget) -> ContributionView:
    return ContributionView(
        id=receipt.id, budget_id=budget.id, budget_reference=budget.reference, received_on=receipt.received_on,
        amount_pence=receipt.amount_pence, reference=receipt.reference, entry_id=receipt.entry_id, created_by=receipt.created_by,
        shares=_share_views(session, ReceiptShare.contribution_receipt_id == receipt.id),
    )  # fmt: skip


def _attribution_view(session: Session, attribution: MoneyAttribution, budget: Budget) -> AttributionView:
    return AttributionView(
        id=attribution.id, holder_id=attribution.holder_id, budget_id=budget.id, budget_reference=budget.reference,
        funder_id=attribution.funder_id, attributed_on=attribution.attributed_on, amount_pence=attribution.amount_pence,
        reason=attribution.reason, entry_id=attribution.entry_id, created_by=attribution.created_by,
        shares=_share_views(session, ReceiptShare.attribution_id == attribution.id),
    )  # fmt: skip


def _fit(description: str) -> str:
    if len(description) <= DESCRIPTION_LENGTH_MAX:
        return description
    return description[: DESCRIPTION_LENGTH_MAX - 1] + "…"
