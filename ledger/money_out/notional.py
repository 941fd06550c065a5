"""Notional costs: services a funder arranged and paid for itself.

In a notional part no money moves (DESIGN.md §1), but the cost is recorded so that "money
left" is true. §3: debit ``B:spend:<category>``, credit ``B:receivable:F`` — the cost uses up
what the funder allocated and will never pay over. So a cost beyond what that receivable still
holds is refused: the plan must be revised first. The receivable is read after the book's lock
is taken, so two costs racing for the last of an allocation cannot both pass.

A cost is one supplier's invoice or order: ``(budget, supplier, reference)`` is unique in the
database, and recording the same cost again returns the original.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.budget import category_by_code, get_budget, parts_of
from ledger.budgets.parties import get_funder
from ledger.core import checks
from ledger.core.accounts import account_ids_by_code, budget_account_code
from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal import lock_book, post_entry
from ledger.core.money import format_gbp
from ledger.core.vocabulary import AccountKind, BudgetStatus, EntryKind, ManagementOption
from ledger.errors import Conflict, InvalidInput
from ledger.store.tables import Account, Budget, Category, Funder
from ledger.store.tables.budget_money import NotionalCost

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class RecordedCost:
    cost: NotionalCost
    created: bool
    """False: the same cost was recorded before; the original is returned."""


@dataclass(frozen=True, slots=True)
class _Cost:
    funder: Funder
    category: Category
    amount_pence: int
    on: date
    supplier: str
    reference: str
    description: str
    recorded_by: str


def record_notional_cost(
    session: Session,
    budget_id: int,
    *,
    funder_id: int,
    category_code: str,
    amount_pence: int,
    on: date,
    supplier: str,
    reference: str,
    description: str,
    recorded_by: str,
    today: date | None = None,
) -> RecordedCost:
    """Record the cost of a service ``funder_id`` arranged for the budget's notional part."""
    budget = get_budget(session, budget_id)
    cost = _checked_cost(
        session, budget, funder_id, category_code, amount_pence, on, supplier, reference, description, recorded_by,
        today or datetime.now(LONDON).date(),
    )  # fmt: skip
    lock_book(session, budget.holder_id)
    existing = session.execute(
        select(NotionalCost).where(
            NotionalCost.budget_id == budget.id, NotionalCost.supplier == cost.supplier, NotionalCost.reference == cost.reference
        )
    ).scalar_one_or_none()
    if existing is not None:
        return RecordedCost(_same_cost(existing, cost), created=False)
    receivable_code = budget_account_code(budget.reference, AccountKind.RECEIVABLE, cost.funder.code)
    spend_code = budget_account_code(budget.reference, AccountKind.SPEND, cost.category.code)
    ids = account_ids_by_code(session, [receivable_code, spend_code])
    still_to_come = signed_sums(session, [ids[receivable_code]]).get(ids[receivable_code], 0)
    if cost.amount_pence > still_to_come:
        raise Conflict(
            f"{cost.funder.name} has {format_gbp(still_to_come)} of its allocation to {budget.reference} left;"
            f" a cost of {format_gbp(cost.amount_pence)} is more than that: revise the plan first",
            code="notional_exceeds_allocation",
            field="amount",
            details={"left": still_to_come},
        )
    entry_id = _post_cost(session, budget, cost, ids[spend_code], ids[receivable_code])
    row = NotionalCost(
        budget_id=budget.id,
        funder_id=cost.funder.id,
        category_id=cost.category.id,
        amount_pence=cost.amount_pence,
        incurred_on=cost.on,
        supplier=cost.supplier,
        reference=cost.reference,
        description=cost.description,
        entry_id=entry_id,
        recorded_by=cost.recorded_by,
    )
    session.add(row)
    session.flush()
    return RecordedCost(row, created=True)


def _checked_cost(
    session: Session,
    budget: Budget,
    funder_id: int,
    category_code: str,
    amount_pence: int,
    on: date,
    supplier: str,
    reference: str,
    description: str,
    recorded_by: str,
    today: date,
) -> _Cost:
    if not any(part.management_option == ManagementOption.NOTIONAL for part in parts_of(session, budget.id)):
        raise Conflict(
            f"{budget.reference} has no notional part: its costs are paid from the money it holds, not recorded as notional",
            code="budget_not_notional",
        )
    if budget.status != BudgetStatus.OPEN:
        raise Conflict(f"{budget.reference} is closed", code="budget_closed")
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
        raise InvalidInput("amount must be more than zero", code="amount_not_positive", field="amount")
    if not budget.period_start <= on <= budget.period_end:
        raise InvalidInput(
            f"on {on} is outside the plan period {budget.period_start} to {budget.period_end}",
            code="date_outside_plan_period",
            field="on",
        )
    if on > today:
        raise InvalidInput(f"on {on} is in the future; record a cost once it is incurred", code="date_in_future", field="on")
    funder = get_funder(session, funder_id)
    receivable_code = budget_account_code(budget.reference, AccountKind.RECEIVABLE, funder.code)
    if session.execute(select(Account.id).where(Account.code == receivable_code)).first() is None:
        raise InvalidInput(f"{funder.name} does not fund {budget.reference}", code="funder_not_on_budget", field="funder_id")
    category = category_by_code(session, budget.holder_id, checks.category_code(category_code, "category"), field="category")
    return _Cost(
        funder=funder,
        category=category,
        amount_pence=amount_pence,
        on=on,
        supplier=checks.required_text(supplier, "supplier", max_length=200),
        reference=checks.required_text(reference, "reference", max_length=100),
        description=checks.required_text(description, "description", max_length=500),
        recorded_by=checks.required_text(recorded_by, "recorded_by", max_length=200),
    )


def _same_cost(existing: NotionalCost, cost: _Cost) -> NotionalCost:
    stored = (existing.funder_id, existing.category_id, existing.amount_pence, existing.incurred_on, existing.description)
    given = (cost.funder.id, cost.category.id, cost.amount_pence, cost.on, cost.description)
    if stored != given:
        raise Conflict(
            f"{cost.supplier}'s {cost.reference} was recorded before (cost {existing.id}) with other details",
            code="notional_cost_conflict",
            field="reference",
            details={"notional_cost_id": existing.id},
        )
    return existing


def _post_cost(session: Session, budget: Budget, cost: _Cost, spend: int, receivable: int) -> int:
    digest = hashlib.sha256(f"{cost.supplier}\x1f{cost.reference}".encode()).hexdigest()[:32]
    result = post_entry(
        session,
        NewEntry(
            book_id=budget.holder_id,
            entry_date=cost.on,
            description=f"Notional cost, {cost.supplier} {cost.reference}: {cost.description}"[:500],
            idempotency_key=f"notional:budget-{budget.id}:{digest}",
            postings=(NewPosting(spend, cost.amount_pence), NewPosting(receivable, -cost.amount_pence)),
            kind=EntryKind.NOTIONAL_COST,
            created_by=cost.recorded_by,
        ),
    )
    if result.outcome is not PostOutcome.CREATED:
        raise Conflict(
            f"the journal already holds entry {result.entry.id} under this cost's key ({result.outcome})",
            code="notional_cost_conflict",
            details={"entry_id": result.entry.id},
        )
    return result.entry.id


def notional_costs(session: Session, budget_id: int) -> list[NotionalCost]:
    return list(
        session.execute(
            select(NotionalCost).where(NotionalCost.budget_id == budget_id).order_by(NotionalCost.incurred_on, NotionalCost.id)
        ).scalars()
    )
