"""A funder's payment received, and money later found to be a budget's.

DESIGN.md §3:

- a funder payment received: debit ``B:cash``, credit ``B:receivable:F`` — one bank line
  may pay for many budgets: one entry, one balanced pair per budget; what cannot be put to a
  budget goes to the holder's own fund: debit ``holder:H:unallocated``, credit
  ``holder:H:unidentified``;
- money later found to be a budget's: both pairs at once (``MONEY_IDENTIFIED``).

How a payment is split over budgets and instalments is ``ledger.money_in.funder_payment_split``.

Exactly once: each receipt is unique per its bank line (a database constraint) and its
entry's idempotency key comes from the same fields, so recording the same line again returns
the original. Every decision read from balances is taken under the book's lock.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.budgets.parties import get_funder, get_holder
from ledger.core import checks
from ledger.core.accounts import CONTRIBUTION_CODE, account_ids_by_code, budget_account_code, holder_account_code
from ledger.core.balances import signed_sums
from ledger.core.entries import ENTRY_DATE_MAX, ENTRY_DATE_MIN, NewEntry, NewPosting
from ledger.core.journal import lock_book
from ledger.core.money import format_gbp
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.errors import InvalidInput
from ledger.money_in.funder_payment_split import RemittanceLine, Split, split_receipt
from ledger.money_in.receipt_shares import (
    REFERENCE_LENGTH_MAX,
    add_budget_shares,
    add_shares,
    fitted,
    outstanding_instalments,
    positive_amount,
    post_new,
    receivable_balances,
    refuse_beyond,
    refuse_other_amount,
    share_views,
)
from ledger.money_in.receipt_views import AttributionView, ReceiptView, Recorded
from ledger.store.tables import Account, Budget, Funder, Holder, JournalEntry
from ledger.store.tables.funder_payments import ExpectedPayment, FunderReceipt, MoneyAttribution, ReceiptShare

EARLY_PAYMENT_DAYS = 14
"""A payment without a remittance list pays the instalments due up to a fortnight after it
arrives: funders often pay a little early."""
REMITTANCE_LINES_MAX = 1000


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
    due (see ``ledger.money_in.funder_payment_split``). The same bank line (holder, funder, day,
    reference) recorded again returns the original; with another amount it is a conflict."""
    holder = get_holder(session, holder_id)
    funder = get_funder(session, funder_id)
    checks.date_between(received_on, "received_on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    amount = positive_amount(amount_pence, "amount")
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
        refuse_other_amount(existing.amount_pence, amount, f"{funder.name}'s payment {ref!r} of {received_on}")
        return Recorded(_receipt_view(session, existing, funder.code), created=False)
    receivables = receivable_balances(session, list(funded.values()), funder.code)
    instalments = outstanding_instalments(session, and_(Budget.holder_id == holder.id, ExpectedPayment.funder_id == funder.id))
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
    entry_id = post_new(session, entry, f"{funder.name}'s payment {ref!r}")
    receipt = FunderReceipt(
        holder_id=holder.id, funder_id=funder.id, received_on=received_on, amount_pence=amount, reference=ref,
        by_remittance=lines is not None, entry_id=entry_id, created_by=author,
    )  # fmt: skip
    session.add(receipt)
    session.flush()
    add_shares(session, split.shares, split.unallocated_pence, funder_receipt_id=receipt.id)
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
        lines.append(RemittanceLine(budget.id, positive_amount(pence, f"remittance[{index}].amount")))
    listed = sum(line.amount_pence for line in lines)
    if listed > amount:
        raise InvalidInput(
            f"the remittance lines add up to {format_gbp(listed)}, more than the payment of {format_gbp(amount)}",
            code="remittance_exceeds_payment",
            field="remittance",
        )
    return lines


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
    return fitted(f"Payment from {funder.name}, {format_gbp(amount)}, ref {reference}: {'; '.join(parts)}")


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
    amount = positive_amount(amount_pence, "amount")
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
    refuse_beyond(amount, balances.get(ids[unallocated_code], 0), f"{holder.name}'s unallocated money", "exceeds_unallocated")
    refuse_beyond(amount, balances.get(ids[receivable_code], 0), f"what {budget.reference} is still owed by {qualifier}", "exceeds_receivable")
    entry = NewEntry(
        book_id=holder.id,
        entry_date=on,
        description=fitted(f"Money identified as {budget.reference}'s from {qualifier}, {format_gbp(amount)}: {why}"),
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
    entry_id = post_new(session, entry, f"the attribution to {budget.reference}")
    attribution = MoneyAttribution(
        holder_id=holder.id, budget_id=budget.id, funder_id=funder_id, attributed_on=on, amount_pence=amount, reason=why,
        entry_id=entry_id, created_by=author,
    )  # fmt: skip
    session.add(attribution)
    session.flush()
    add_budget_shares(session, budget.id, funder_id, amount, attribution_id=attribution.id)
    return Recorded(_attribution_view(session, attribution, budget), created=True)


# --- reading back -------------------------------------------------------------------------


def _receipt_view(session: Session, receipt: FunderReceipt, funder_code: str) -> ReceiptView:
    return ReceiptView(
        id=receipt.id, holder_id=receipt.holder_id, funder_id=receipt.funder_id, funder_code=funder_code,
        received_on=receipt.received_on, amount_pence=receipt.amount_pence, reference=receipt.reference,
        by_remittance=receipt.by_remittance, entry_id=receipt.entry_id, created_by=receipt.created_by,
        shares=share_views(session, ReceiptShare.funder_receipt_id == receipt.id),
    )  # fmt: skip


def _attribution_view(session: Session, attribution: MoneyAttribution, budget: Budget) -> AttributionView:
    return AttributionView(
        id=attribution.id, holder_id=attribution.holder_id, budget_id=budget.id, budget_reference=budget.reference,
        funder_id=attribution.funder_id, attributed_on=attribution.attributed_on, amount_pence=attribution.amount_pence,
        reason=attribution.reason, entry_id=attribution.entry_id, created_by=attribution.created_by,
        shares=share_views(session, ReceiptShare.attribution_id == attribution.id),
    )  # fmt: skip
