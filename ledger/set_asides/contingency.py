"""Contingency: ring-fenced out of held funds, used only by a recorded decision.

DESIGN.md §1: contingency is the part of a budget kept for when things go wrong; using it is a
decision with a reason, who agreed it and when. §3 gives the postings:

- ring-fenced: debit ``B:contingency``, credit ``B:cash``. :func:`ring_fence_contingency`
  keeps the total ring-fenced so far equal to the contingency of the agreed plan in force. A
  revision can raise it (more is ring-fenced) or lower it (the difference is released back to
  held funds, but never more than is still unused);
- used: debit ``B:card`` or ``B:spend:<category>``, credit ``B:contingency``.
  :func:`use_contingency` refuses more than ``B:contingency`` holds, reading that balance
  only after taking the book's lock, so two uses racing for the last pounds cannot both pass.

Whatever is refused posts nothing: every input is checked before anything is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import category_by_code, get_budget, parts_of
from ledger.budgets.plans import agreed_version_on, latest_agreed, london_date
from ledger.core import checks
from ledger.core.accounts import account_ids_by_code, budget_account_code
from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal import lock_book, post_entry
from ledger.core.money import format_gbp
from ledger.core.periods import closed_quarter_containing, closed_quarters
from ledger.core.vocabulary import AccountKind, BudgetStatus, EntryKind, Holding
from ledger.errors import Conflict, InvalidInput
from ledger.store.tables import Budget, Category, JournalEntry, Posting
from ledger.store.tables.budget_money import ContingencyUse

LONDON = ZoneInfo("Europe/London")
REASON_LENGTH_MAX = 1000
KEY_LENGTH_MAX = 120


class Destination(StrEnum):
    """Where used contingency goes."""

    CARD = "card"
    """Onto the person's prepaid card, for them to spend."""
    SPEND = "spend"
    """Straight to a spend category (the holder paid for something)."""


@dataclass(frozen=True, slots=True)
class RingFence:
    """What one ring-fencing did: ``change_pence`` > 0 ring-fenced more, < 0 released."""

    budget_reference: str
    plan_version_id: int
    change_pence: int
    ring_fenced_pence: int
    entry_id: int | None
    """``None`` when nothing needed to move."""


@dataclass(frozen=True, slots=True)
class RecordedUse:
    use: ContingencyUse
    created: bool
    """False: the same decision was submitted again; the original is returned."""


@dataclass(frozen=True, slots=True)
class ContingencyPosition:
    """A budget's contingency: what the plan says, what was ring-fenced, used and returned,
    and what is left (the ``B:contingency`` balance)."""

    planned_pence: int
    ring_fenced_pence: int
    used_pence: int
    returned_pence: int
    left_pence: int


# --- ring-fencing --------------------------------------------------------------------------


def ring_fence_contingency(session: Session, budget_id: int, *, on: date, created_by: str) -> RingFence:
    """Bring the total ring-fenced for the budget to the contingency of the agreed version
    in force on ``on``. Posts nothing when it is already right.

    The entry is dated on the day the version came to be in force and agreed (or the start
    of the plan period), unless that day is in a closed quarter: then on ``on``. Its key is
    ``contingency-ring-fence:budget-<id>:version-<id>:step-<n>``, ``n`` counting the
    ring-fence entries (and their reversals) so far: read under the book's lock, so each step
    has its own key and a replay of the same step returns the original.
    """
    budget = get_budget(session, budget_id)
    _require_open(budget)
    version = agreed_version_on(session, budget.id, on)
    if version is None:
        raise Conflict(
            f"{budget.reference} has no agreed support plan in force on {on}; only agreed plans move money",
            code="plan_not_agreed",
            field="on",
        )
    lock_book(session, budget.holder_id)
    movements = _contingency_movements(session, budget)
    ring_fenced = movements.by_kind.get(EntryKind.CONTINGENCY_RING_FENCE, 0)
    target = version.contingency_pence
    change = target - ring_fenced
    if change < 0:
        change = -min(-change, contingency_left(session, budget.id))  # only what is unused goes back
    if change == 0:
        return RingFence(budget.reference, version.id, 0, ring_fenced, None)
    accounts = _accounts(session, budget, AccountKind.CONTINGENCY, AccountKind.CASH)
    contingency, cash = accounts[AccountKind.CONTINGENCY], accounts[AccountKind.CASH]
    words = "Contingency ring-fenced" if change > 0 else "Contingency released after a plan revision"
    result = post_entry(
        session,
        NewEntry(
            book_id=budget.holder_id,
            entry_date=_ring_fence_day(session, budget, version.effective_from, version.agreed_at, on),
            description=f"{words}: {budget.reference}, support plan version {version.version}",
            idempotency_key=f"contingency-ring-fence:budget-{budget.id}:version-{version.id}:step-{movements.ring_fence_entries + 1}",
            postings=(NewPosting(contingency, change), NewPosting(cash, -change)),
            kind=EntryKind.CONTINGENCY_RING_FENCE,
            created_by=created_by,
        ),
    )
    if result.outcome.is_conflict:
        raise Conflict(
            f"the ring-fence of {budget.reference} was posted before with other content ({result.outcome})",
            code="ring_fence_conflict",
            details={"entry_id": result.entry.id},
        )
    return RingFence(budget.reference, version.id, change, ring_fenced + change, result.entry.id)


def _ring_fence_day(session: Session, budget: Budget, effective_from: date, agreed_at: datetime | None, on: date) -> date:
    due = max(budget.period_start, effective_from, london_date(agreed_at) if agreed_at else effective_from)
    due = min(due, on)
    closed = [(q.quarter, q.starts_on, q.ends_on) for q in closed_quarters(session, budget.holder_id)]
    if not closed_quarter_containing(closed, due):
        return due
    quarter = closed_quarter_containing(closed, on)
    if quarter:
        raise Conflict(
            f"the ring-fence of {budget.reference} would be dated {on}, inside {quarter}, which is closed;"
            " ring-fence it on a day in an open period",
            code="period_closed",
            field="on",
        )
    return on


# --- using it ------------------------------------------------------------------------------


def use_contingency(
    session: Session,
    budget_id: int,
    *,
    amount_pence: int,
    reason: str,
    agreed_by_name: str,
    agreed_by_role: str,
    agreed_on: date,
    used_on: date,
    to: str,
    category_code: str | None = None,
    recorded_by: str,
    idempotency_key: str | None = None,
    today: date | None = None,
) -> RecordedUse:
    """Record a decision to use contingency and move the money (onto the card, or straight
    to a spend category). A second submission of the same decision returns the first."""
    budget = get_budget(session, budget_id)
    decision = _checked_decision(
        session, budget, amount_pence, reason, agreed_by_name, agreed_by_role, agreed_on, used_on, to, category_code,
        recorded_by, today or datetime.now(LONDON).date(),
    )  # fmt: skip
    key = _use_key(budget, decision, idempotency_key)
    lock_book(session, budget.holder_id)
    existing = session.execute(
        select(ContingencyUse).where(ContingencyUse.budget_id == budget.id, ContingencyUse.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return RecordedUse(_same_decision(existing, decision), created=False)
    left = contingency_left(session, budget.id)
    if decision.amount_pence > left:
        raise Conflict(
            f"{budget.reference} has {format_gbp(left)} of contingency left; {format_gbp(decision.amount_pence)} is more than that",
            code="contingency_exceeded",
            field="amount",
            details={"left": left},
        )
    entry_id = _post_use(session, budget, decision, key)
    use = ContingencyUse(
        budget_id=budget.id,
        amount_pence=decision.amount_pence,
        reason=decision.reason,
        agreed_by_name=decision.agreed_by_name,
        agreed_by_role=decision.agreed_by_role,
        agreed_on=decision.agreed_on,
        used_on=decision.used_on,
        destination=decision.destination,
        category_id=decision.category.id if decision.category else None,
        entry_id=entry_id,
        idempotency_key=key,
        recorded_by=decision.recorded_by,
    )
    session.add(use)
    session.flush()
    return RecordedUse(use, created=True)


@dataclass(frozen=True, slots=True)
class _Decision:
    amount_pence: int
    reason: str
    agreed_by_name: str
    agreed_by_role: str
    agreed_on: date
    used_on: date
    destination: Destination
    category: Category | None
    recorded_by: str


def _checked_decision(
    session: Session,
    budget: Budget,
    amount_pence: int,
    reason: str,
    agreed_by_name: str,
    agreed_by_role: str,
    agreed_on: date,
    used_on: date,
    to: str,
    category_code: str | None,
    recorded_by: str,
    today: date,
) -> _Decision:
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
        raise InvalidInput("amount must be more than zero", code="contingency_amount_not_positive", field="amount")
    if reason is None or not str(reason).strip():
        raise InvalidInput("reason is required: say why the contingency is used", code="reason_required", field="reason")
    checked_reason = checks.required_text(reason, "reason", max_length=REASON_LENGTH_MAX)
    name = _agreed_by(agreed_by_name, "agreed_by_name", "who agreed it")
    role = _agreed_by(agreed_by_role, "agreed_by_role", "in what role they agreed it")
    if agreed_on > today:
        raise InvalidInput(f"agreed_on {agreed_on} is in the future", code="agreed_in_future", field="agreed_on")
    if used_on > today:
        raise InvalidInput(f"used_on {used_on} is in the future; record a use when it happens", code="used_in_future", field="used_on")
    if agreed_on > used_on:
        raise InvalidInput(
            f"agreed_on {agreed_on} is after used_on {used_on}; contingency is used only after it is agreed",
            code="agreed_after_use",
            field="agreed_on",
        )
    destination = checks.choice(to, Destination, "to")
    category = _destination_category(session, budget, destination, category_code)
    _require_open(budget)
    if agreed_version_on(session, budget.id, used_on) is None:
        raise Conflict(
            f"{budget.reference} has no agreed support plan in force on {used_on}; only agreed plans move money",
            code="plan_not_agreed",
            field="used_on",
        )
    by = checks.required_text(recorded_by, "recorded_by", max_length=200)
    return _Decision(amount_pence, checked_reason, name, role, agreed_on, used_on, destination, category, by)


def _agreed_by(value: str | None, field: str, what: str) -> str:
    if value is None or not str(value).strip():
        raise InvalidInput(f"{field} is required: say {what}", code="agreed_by_required", field=field)
    return checks.required_text(value, field, max_length=200)


def _destination_category(session: Session, budget: Budget, destination: Destination, code: str | None) -> Category | None:
    if destination is Destination.CARD:
        if code is not None:
            raise InvalidInput(
                "category is only for contingency paid straight to a spend category; money onto the card is spent from the card",
                code="category_not_for_card",
                field="category",
            )
        if not any(part.holding == Holding.PREPAID_CARD for part in parts_of(session, budget.id)):
            raise InvalidInput(
                f"{budget.reference} has no prepaid-card part, so contingency cannot go onto a card; use it for a spend category",
                code="no_card_part",
                field="to",
            )
        return None
    if code is None or not str(code).strip():
        raise InvalidInput("category is required when contingency goes straight to a spend category", code="category_required", field="category")
    code = checks.category_code(code.strip(), "category")
    return category_by_code(session, budget.holder_id, code, field="category")


def _use_key(budget: Budget, decision: _Decision, given: str | None) -> str:
    if given is not None:
        key = checks.required_text(given, "idempotency_key", max_length=KEY_LENGTH_MAX)
        return f"contingency-use:budget-{budget.id}:key-{key}"
    # A double-submitted form carries no key: the decision itself names the use.
    words = "\x1f".join((decision.reason, decision.agreed_by_name, decision.agreed_by_role))
    digest = hashlib.sha256(words.encode()).hexdigest()[:32]
    return f"contingency-use:budget-{budget.id}:{decision.used_on.isoformat()}:{decision.amount_pence}:{digest}"


def _same_decision(existing: ContingencyUse, decision: _Decision) -> ContingencyUse:
    stored = (
        existing.amount_pence, existing.reason, existing.agreed_by_name, existing.agreed_by_role, existing.agreed_on,
        existing.used_on, existing.destination, existing.category_id,
    )  # fmt: skip
    given = (
        decision.amount_pence, decision.reason, decision.agreed_by_name, decision.agreed_by_role, decision.agreed_on,
        decision.used_on, str(decision.destination), decision.category.id if decision.category else None,
    )  # fmt: skip
    if stored != given:
        raise Conflict(
            f"this key was used for contingency use {existing.id}, which says something else; use a new key for a new decision",
            code="contingency_use_conflict",
            field="idempotency_key",
            details={"contingency_use_id": existing.id},
        )
    return existing


def _post_use(session: Session, budget: Budget, decision: _Decision, key: str) -> int:
    if decision.category is None:
        debit_code = budget_account_code(budget.reference, AccountKind.CARD)
        where = "onto the card"
    else:
        debit_code = budget_account_code(budget.reference, AccountKind.SPEND, decision.category.code)
        where = f"for {decision.category.name.lower()}"
    contingency_code = budget_account_code(budget.reference, AccountKind.CONTINGENCY)
    ids = account_ids_by_code(session, [debit_code, contingency_code])
    result = post_entry(
        session,
        NewEntry(
            book_id=budget.holder_id,
            entry_date=decision.used_on,
            description=f"Contingency used {where}: {budget.reference}: {decision.reason}"[:500],
            idempotency_key=key,
            postings=(NewPosting(ids[debit_code], decision.amount_pence), NewPosting(ids[contingency_code], -decision.amount_pence)),
            kind=EntryKind.CONTINGENCY_USE,
            created_by=decision.recorded_by,
        ),
    )
    if result.outcome is not PostOutcome.CREATED:
        raise Conflict(
            f"the journal already holds entry {result.entry.id} under this contingency use's key ({result.outcome})",
            code="contingency_use_conflict",
            details={"entry_id": result.entry.id},
        )
    return result.entry.id


# --- reading -------------------------------------------------------------------------------


def contingency_left(session: Session, budget_id: int) -> int:
    """What ``B:contingency`` holds: ring-fenced and not yet used or returned."""
    budget = get_budget(session, budget_id)
    account_id = _accounts(session, budget, AccountKind.CONTINGENCY)[AccountKind.CONTINGENCY]
    return signed_sums(session, [account_id]).get(account_id, 0)


def contingency_uses(session: Session, budget_id: int) -> list[ContingencyUse]:
    return list(
        session.execute(
            select(ContingencyUse)
            .where(ContingencyUse.budget_id == budget_id)
            .order_by(ContingencyUse.used_on, ContingencyUse.id)
        ).scalars()
    )


def contingency_position(session: Session, budget_id: int, *, on: date | None = None) -> ContingencyPosition:
    """The budget's contingency, with the plan's figure from the version in force on ``on``
    (default: the latest agreed version)."""
    budget = get_budget(session, budget_id)
    version = agreed_version_on(session, budget.id, on) if on else latest_agreed(session, budget.id)
    by_kind = dict(_contingency_movements(session, budget).by_kind)
    ring_fenced = by_kind.pop(EntryKind.CONTINGENCY_RING_FENCE, 0)
    used = -by_kind.pop(EntryKind.CONTINGENCY_USE, 0)
    returned = -by_kind.pop(EntryKind.CONTINGENCY_RETURN, 0)
    left = ring_fenced - used - returned + sum(by_kind.values())  # reversals and corrections
    return ContingencyPosition(version.contingency_pence if version else 0, ring_fenced, used, returned, left)


@dataclass(frozen=True, slots=True)
class _Movements:
    by_kind: dict[str, int]
    """Net postings on ``B:contingency`` by what moved them; a reversal counts under the
    kind of the entry it reverses (a reversed use is no longer used)."""
    ring_fence_entries: int


def _contingency_movements(session: Session, budget: Budget) -> _Movements:
    account_id = _accounts(session, budget, AccountKind.CONTINGENCY)[AccountKind.CONTINGENCY]
    entry, original = JournalEntry.__table__.alias("entry"), JournalEntry.__table__.alias("original")
    kind = func.coalesce(original.c.kind, entry.c.kind)
    rows = session.execute(
        select(kind, func.sum(Posting.amount_pence), func.count())
        .select_from(Posting)
        .join(entry, entry.c.id == Posting.entry_id)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(Posting.account_id == account_id)
        .group_by(kind)
    ).all()
    counts = {kind: count for kind, _total, count in rows}
    return _Movements({kind: int(total) for kind, total, _count in rows}, counts.get(EntryKind.CONTINGENCY_RING_FENCE, 0))


def _accounts(session: Session, budget: Budget, *kinds: AccountKind) -> dict[AccountKind, int]:
    codes = {kind: budget_account_code(budget.reference, kind) for kind in kinds}
    ids = account_ids_by_code(session, codes.values())
    return {kind: ids[code] for kind, code in codes.items()}


def _require_open(budget: Budget) -> None:
    if budget.status != BudgetStatus.OPEN:
        raise Conflict(f"{budget.reference} is closed; its contingency was settled when it closed", code="budget_closed")
