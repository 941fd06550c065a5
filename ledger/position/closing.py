"""The end of a budget (issue 10 item 11): stop the loads, bring the money home, and leave
either nothing, a surplus or an amount to recover — all by postings.

Closing, under the book's lock, posts (each entry dated on the closing day):

- unused contingency back to held funds: debit ``B:cash``, credit ``B:contingency``
  (``contingency_return``);
- the card's money swept back: debit ``B:cash``, credit ``B:card`` (``card_unload``). An
  overdrawn card posts the other way round: its overdraft comes out of held funds, and
  if held funds go below zero that is an amount to recover;
- each funder's allocation not yet received, released: debit ``B:allocation:F``, credit
  ``B:receivable:F`` (``allocation``), so nothing is owed for a closed budget. A funder
  that paid more than it allocated is left as it is: the overpayment is in held funds, part
  of the surplus, to be returned.

Then ``Budget.status`` becomes ``closed`` (the drawdown run loads open budgets only) and a
``budget_closure`` row records what was done. Closing is refused while money is committed
(approved wages or invoices not yet paid): pay or cancel them first.

The entries' keys come from the budget (``budget:<id>:close:…``) and the closure is one per
budget, so closing twice returns the first closure and posts nothing. Closing does not
return the surplus: that is a decision (``ledger.position.surplus``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.core import checks
from ledger.core.accounts import budget_account_code
from ledger.core.balances import budget_balances
from ledger.core.entries import ENTRY_DATE_MAX, ENTRY_DATE_MIN, NewEntry, NewPosting, PostResult
from ledger.core.journal import lock_book, post_entries
from ledger.core.money import format_gbp
from ledger.core.vocabulary import AccountKind, BudgetStatus, EntryKind
from ledger.errors import Conflict
from ledger.position.figures import budget_figures
from ledger.store.tables import Account, Budget, Posting
from ledger.store.tables.closing import BudgetClosure


def close_budget(session: Session, budget_id: int, *, closed_on: date, reason: str, closed_by: str) -> BudgetClosure:
    budget = get_budget(session, budget_id)
    reason = checks.required_text(reason, "reason", max_length=1000)
    closed_by = checks.required_text(closed_by, "closed_by", max_length=200)
    checks.date_between(closed_on, "closed_on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    lock_book(session, budget.holder_id)
    existing = closure_of(session, budget.id)
    if existing is not None:
        return existing
    figures = budget_figures(session, budget)
    if figures.committed_pence != 0:
        raise Conflict(
            f"{budget.reference} has {format_gbp(figures.committed_pence)} committed (approved wages or invoices not yet"
            " paid): pay or cancel them first, then close the budget",
            code="budget_has_committed_money",
            details={"committed_pence": figures.committed_pence},
        )
    last_entry_on = _last_entry_date(session, budget.id)
    if last_entry_on is not None and closed_on < last_entry_on:
        raise Conflict(
            f"closed_on {closed_on} is before the budget's last entry ({last_entry_on}): close it on or after that day",
            code="closing_before_last_entry",
            field="closed_on",
        )
    entries, released = _closing_entries(session, budget, closed_on, closed_by)
    results = post_entries(session, entries)
    _check_posted(results, budget)
    held_after = figures.held_pence + figures.contingency_left_pence + figures.card_pence
    closure = BudgetClosure(
        budget_id=budget.id,
        closed_on=closed_on,
        reason=reason,
        closed_by=closed_by,
        contingency_returned_pence=figures.contingency_left_pence,
        card_returned_pence=figures.card_pence,
        allocation_released_pence=released,
        surplus_pence=max(0, held_after - figures.transition_left_pence),
        to_recover_pence=max(0, -held_after),
    )
    budget.status = BudgetStatus.CLOSED
    session.add(closure)
    session.flush()
    return closure


def closure_of(session: Session, budget_id: int) -> BudgetClosure | None:
    return session.execute(select(BudgetClosure).where(BudgetClosure.budget_id == budget_id)).scalar_one_or_none()


def _closing_entries(session: Session, budget: Budget, closed_on: date, closed_by: str) -> tuple[list[NewEntry], int]:
    """The entries that close ``budget``, and how much allocation they release."""
    balances = budget_balances(session, budget.id)
    by_code = {balance.code: balance for balance in balances}
    cash = by_code[budget_account_code(budget.reference, AccountKind.CASH)]
    contingency = by_code[budget_account_code(budget.reference, AccountKind.CONTINGENCY)]
    card = by_code[budget_account_code(budget.reference, AccountKind.CARD)]

    def entry(suffix: str, description: str, kind: EntryKind, postings: list[NewPosting]) -> NewEntry:
        return NewEntry(
            book_id=budget.holder_id,
            entry_date=closed_on,
            description=f"{description} on closing {budget.reference}",
            idempotency_key=f"budget:{budget.id}:close:{suffix}",
            postings=tuple(postings),
            kind=kind,
            created_by=closed_by,
        )

    entries = []
    if contingency.balance_pence:
        amount = contingency.balance_pence
        postings = [NewPosting(cash.account_id, amount), NewPosting(contingency.account_id, -amount)]
        entries.append(entry("contingency-return", "Unused contingency returned to held funds", EntryKind.CONTINGENCY_RETURN, postings))
    if card.balance_pence:
        amount = card.balance_pence
        words = "Card money swept back to held funds" if amount > 0 else "Card overdraft met from held funds"
        entries.append(entry("card-unload", words, EntryKind.CARD_UNLOAD, [NewPosting(cash.account_id, amount), NewPosting(card.account_id, -amount)]))
    release: list[NewPosting] = []
    released = 0
    receivables = sorted((b for b in balances if b.kind == AccountKind.RECEIVABLE and b.balance_pence > 0), key=lambda b: b.code)
    for receivable in receivables:
        qualifier = receivable.code.rsplit(":", 1)[1]
        allocation = by_code[budget_account_code(budget.reference, AccountKind.ALLOCATION, qualifier)]
        release += [NewPosting(allocation.account_id, receivable.balance_pence), NewPosting(receivable.account_id, -receivable.balance_pence)]
        released += receivable.balance_pence
    if release:
        entries.append(entry("allocation-release", "Allocation not received released", EntryKind.ALLOCATION, release))
    return entries, released


def _check_posted(results: list[PostResult], budget: Budget) -> None:
    for result in results:
        if result.outcome.is_conflict:
            raise Conflict(
                f"closing {budget.reference}: entry {result.entry.idempotency_key} was posted before with other content"
                f" ({result.outcome}); look at entry {result.entry.id}",
                code="closing_conflict",
                details={"entry_id": result.entry.id},
            )


def _last_entry_date(session: Session, budget_id: int) -> date | None:
    return session.execute(
        select(func.max(Posting.entry_date)).join(Account, Account.id == Posting.account_id).where(Account.budget_id == budget_id)
    ).scalar_one()
