"""The person's client contribution received.

DESIGN.md §3: a client contribution received: debit ``B:cash``, credit
``B:receivable:contribution``. It counts against the person's instalments
(``ledger.money_in.expected_payments``), oldest first.

Exactly once: a contribution is unique per (budget, day, reference) and its entry's
idempotency key comes from the same fields, so recording it again returns the original.
Every decision read from balances is taken under the book's lock.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.core import checks
from ledger.core.accounts import CONTRIBUTION_CODE, account_ids_by_code, budget_account_code
from ledger.core.entries import ENTRY_DATE_MAX, ENTRY_DATE_MIN, NewEntry, NewPosting
from ledger.core.journal import lock_book
from ledger.core.money import format_gbp
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.money_in.expected_payments import agreed_allocation
from ledger.money_in.receipt_shares import (
    REFERENCE_LENGTH_MAX,
    add_budget_shares,
    fitted,
    positive_amount,
    post_new,
    receivable_balances,
    refuse_beyond,
    refuse_other_amount,
    share_views,
)
from ledger.money_in.receipt_views import ContributionView, Recorded
from ledger.store.tables import Budget
from ledger.store.tables.funder_payments import ContributionReceipt, ReceiptShare

# --- the person's client contribution -----------------------------------------------------


def record_contribution(
    session: Session, budget_id: int, *, received_on: date, amount_pence: int, reference: str, created_by: str
) -> Recorded:
    """Record a client contribution the person paid. Refused when the agreed plan has no
    client contribution, and beyond what the person still owes. Counts against the person's
    instalments, oldest first. Unique per (budget, day, reference)."""
    budget = get_budget(session, budget_id)
    checks.date_between(received_on, "received_on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    amount = positive_amount(amount_pence, "amount")
    ref = checks.required_text(reference, "reference", max_length=REFERENCE_LENGTH_MAX)
    author = checks.required_text(created_by, "created_by", max_length=200)
    agreed_allocation(session, budget, None, "the client contribution", field="budget_id")
    lock_book(session, budget.holder_id)
    existing = session.execute(
        select(ContributionReceipt).where(
            ContributionReceipt.budget_id == budget.id, ContributionReceipt.received_on == received_on, ContributionReceipt.reference == ref
        )
    ).scalar_one_or_none()
    if existing is not None:
        refuse_other_amount(existing.amount_pence, amount, f"the contribution {ref!r} of {received_on}")
        return Recorded(_contribution_view(session, existing, budget), created=False)
    (owed,) = receivable_balances(session, [budget], CONTRIBUTION_CODE).values()
    refuse_beyond(amount, owed, f"what the person still owes towards {budget.reference}", "exceeds_receivable")
    cash_code = budget_account_code(budget.reference, AccountKind.CASH)
    receivable_code = budget_account_code(budget.reference, AccountKind.RECEIVABLE, CONTRIBUTION_CODE)
    ids = account_ids_by_code(session, [cash_code, receivable_code])
    entry = NewEntry(
        book_id=budget.holder_id,
        entry_date=received_on,
        description=fitted(f"Client contribution to {budget.reference}, {format_gbp(amount)}, ref {ref}"),
        idempotency_key=f"contribution:budget-{budget.id}:{received_on.isoformat()}:{ref}",
        postings=(NewPosting(ids[cash_code], amount), NewPosting(ids[receivable_code], -amount)),
        kind=EntryKind.CONTRIBUTION_RECEIVED,
        created_by=author,
    )
    entry_id = post_new(session, entry, f"the contribution {ref!r}")
    receipt = ContributionReceipt(
        budget_id=budget.id, received_on=received_on, amount_pence=amount, reference=ref, entry_id=entry_id, created_by=author
    )
    session.add(receipt)
    session.flush()
    add_budget_shares(session, budget.id, None, amount, contribution_receipt_id=receipt.id)
    return Recorded(_contribution_view(session, receipt, budget), created=True)


def contributions_of(session: Session, budget_id: int) -> list[ContributionView]:
    budget = get_budget(session, budget_id)
    rows = session.execute(
        select(ContributionReceipt).where(ContributionReceipt.budget_id == budget.id).order_by(ContributionReceipt.received_on, ContributionReceipt.id)
    ).scalars()
    return [_contribution_view(session, row, budget) for row in rows]


def _contribution_view(session: Session, receipt: ContributionReceipt, budget: Budget) -> ContributionView:
    return ContributionView(
        id=receipt.id, budget_id=budget.id, budget_reference=budget.reference, received_on=receipt.received_on,
        amount_pence=receipt.amount_pence, reference=receipt.reference, entry_id=receipt.entry_id, created_by=receipt.created_by,
        shares=share_views(session, ReceiptShare.contribution_receipt_id == receipt.id),
    )  # fmt: skip
