"""What the ways money comes in share: receipt shares, and the checks and postings common
to funder receipts, contributions and attributions.

Money coming in: what funders (and the person) are expected to pay
(``ledger.money_in.expected_payments``), and its receipt: a funder's payment and money later found to
be a budget's (``ledger.money_in.funder_receipts``), and the person's client contribution
(``ledger.money_in.contributions``). Each records receipt shares: what it put to each budget and
instalment, and what to the holder's unallocated account. What was received against an
instalment is the sum of the receipt shares naming it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from ledger.core.accounts import account_ids_by_code, budget_account_code
from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, PostOutcome
from ledger.core.journal import post_entry
from ledger.core.money import AMOUNT_PENCE_MAX, format_gbp
from ledger.core.vocabulary import AccountKind
from ledger.errors import Conflict, InvalidInput
from ledger.money_in.funder_payment_split import Instalment, Share, fill_oldest_first, oldest_first
from ledger.money_in.receipt_views import ShareView
from ledger.store.tables import Budget
from ledger.store.tables.funder_payments import ExpectedPayment, ReceiptShare

REFERENCE_LENGTH_MAX = 140
DESCRIPTION_LENGTH_MAX = 500


# --- what was received --------------------------------------------------------------------


def received_by_instalment(session: Session, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    query = (
        select(ReceiptShare.expected_payment_id, func.sum(ReceiptShare.amount_pence))
        .where(ReceiptShare.expected_payment_id.in_(ids))
        .group_by(ReceiptShare.expected_payment_id)
    )
    return {instalment_id: int(pence) for instalment_id, pence in session.execute(query)}


def outstanding_instalments(session: Session, condition: ColumnElement[bool]) -> list[Instalment]:
    """The instalments not replaced, matching ``condition``, with something outstanding."""
    rows = list(
        session.execute(
            select(ExpectedPayment).join(Budget, Budget.id == ExpectedPayment.budget_id).where(ExpectedPayment.replaced_at.is_(None), condition)
        ).scalars()
    )
    received = received_by_instalment(session, [row.id for row in rows])
    return oldest_first(
        Instalment(row.id, row.budget_id, row.due_on, row.amount_pence - received.get(row.id, 0))
        for row in rows
        if row.amount_pence > received.get(row.id, 0)
    )


def receivable_balances(session: Session, budgets: Sequence[Budget], qualifier: str) -> dict[int, int]:
    """What each budget's receivable from the funder (``qualifier``: its code, or
    ``contribution``) still holds, by budget id. Call under the book's lock."""
    codes = {budget_account_code(b.reference, AccountKind.RECEIVABLE, qualifier): b.id for b in budgets}
    if not codes:
        return {}
    ids = account_ids_by_code(session, codes)
    sums = signed_sums(session, list(ids.values()))
    return {budget_id: sums.get(ids[code], 0) for code, budget_id in codes.items()}


# --- shared -------------------------------------------------------------------------------


def positive_amount(pence: int, field: str) -> int:
    if not isinstance(pence, int) or isinstance(pence, bool) or not 0 < pence <= AMOUNT_PENCE_MAX:
        raise InvalidInput(f"{field} must be more than £0.00 and at most {format_gbp(AMOUNT_PENCE_MAX)}", code="amount_not_positive", field=field)
    return pence


def refuse_other_amount(recorded: int, given: int, what: str) -> None:
    if recorded != given:
        raise Conflict(
            f"{what} was recorded before for {format_gbp(recorded)}, not {format_gbp(given)}; a different payment needs its own reference",
            code="receipt_exists_with_other_amount",
            field="amount",
            details={"recorded_pence": recorded},
        )


def refuse_beyond(amount: int, available: int, what: str, code: str) -> None:
    if amount > available:
        raise InvalidInput(
            f"{format_gbp(amount)} is more than {what} ({format_gbp(max(available, 0))})",
            code=code,
            field="amount",
            details={"available_pence": max(available, 0)},
        )


def post_new(session: Session, entry: NewEntry, what: str) -> int:
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


def add_budget_shares(session: Session, budget_id: int, funder_id: int | None, amount: int, **source: int) -> None:
    """Money for one budget from one payer: against its outstanding instalments, oldest
    first (whatever their due date); any rest against no instalment."""
    payer = ExpectedPayment.funder_id.is_(None) if funder_id is None else ExpectedPayment.funder_id == funder_id
    instalments = outstanding_instalments(session, and_(ExpectedPayment.budget_id == budget_id, payer))
    filled, rest = fill_oldest_first(amount, instalments)
    shares = [Share(budget_id, instalment_id, pence) for instalment_id, pence in filled]
    if rest:
        shares.append(Share(budget_id, None, rest))
    add_shares(session, shares, 0, **source)


def add_shares(session: Session, shares: Sequence[Share], unallocated: int, **source: int) -> None:
    for share in shares:
        session.add(ReceiptShare(budget_id=share.budget_id, expected_payment_id=share.expected_payment_id, amount_pence=share.amount_pence, **source))
    if unallocated:
        session.add(ReceiptShare(budget_id=None, expected_payment_id=None, amount_pence=unallocated, **source))
    session.flush()


def share_views(session: Session, condition: ColumnElement[bool]) -> list[ShareView]:
    rows = session.execute(
        select(ReceiptShare, Budget.reference, ExpectedPayment.due_on)
        .outerjoin(Budget, Budget.id == ReceiptShare.budget_id)
        .outerjoin(ExpectedPayment, ExpectedPayment.id == ReceiptShare.expected_payment_id)
        .where(condition)
        .order_by(ReceiptShare.id)
    ).all()
    return [ShareView(share.budget_id, reference, share.expected_payment_id, due_on, share.amount_pence) for share, reference, due_on in rows]


def fitted(description: str) -> str:
    if len(description) <= DESCRIPTION_LENGTH_MAX:
        return description
    return description[: DESCRIPTION_LENGTH_MAX - 1] + "…"
