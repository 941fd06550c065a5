"""Pooled support: people who pool part of their budgets, and the costs they share.

Several people may share support (a night worker for a shared house, a group activity) and
pool part of their budgets for it. The pool records each budget's agreed share as a positive
whole-number weight; a cost approved for the pool splits by those weights with
``ledger.core.money.split_pence`` (the largest-remainder rule, so the parts sum to the cost
exactly) into one payable line per budget. Each family's budget sees only its own line.

Changing the shares applies to costs approved afterwards: a cost already approved keeps the
split it was approved with, since its lines are stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ledger.budgets.parties import get_holder
from ledger.core import checks
from ledger.core.journal import lock_book
from ledger.core.money import AMOUNT_PENCE_MAX, split_pence
from ledger.core.vocabulary import BudgetStatus
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.money_out.payable_lines import REFERENCE_RE, LineSpec
from ledger.money_out.payables import ApprovalResult, PayableKind, approve_lines
from ledger.store.tables import Budget, utcnow
from ledger.store.tables.payables import Pool, PoolShare

SHARES_MAX = 100
WEIGHT_MAX = 1_000_000_000
NAME_LENGTH_MAX = 200


@dataclass(frozen=True, slots=True)
class ShareView:
    budget_id: int
    budget_reference: str
    weight: int


@dataclass(frozen=True, slots=True)
class PoolView:
    pool: Pool
    shares: tuple[ShareView, ...]

    @property
    def id(self) -> int:
        assert self.pool.id is not None
        return self.pool.id


def create_pool(session: Session, holder_id: int, name: str, shares: Sequence[tuple[str, int]]) -> PoolView:
    """A pool of the holder's budgets, each with its weight."""
    holder = get_holder(session, holder_id)
    pool_name = checks.required_text(name, "name", max_length=NAME_LENGTH_MAX)
    checked = _checked_shares(session, holder.id, shares)  # type: ignore[arg-type]
    lock_book(session, holder_id)
    taken = session.execute(select(Pool.id).where(Pool.holder_id == holder_id, Pool.name == pool_name)).first()
    if taken is not None:
        raise Conflict(f"this holder already has a pool named {pool_name!r}", code="pool_exists", field="name")
    pool = Pool(holder_id=holder_id, name=pool_name)
    session.add(pool)
    session.flush()
    assert pool.id is not None
    _write_shares(session, pool.id, checked)
    return get_pool(session, pool.id)


def change_shares(session: Session, pool_id: int, shares: Sequence[tuple[str, int]]) -> PoolView:
    """Replace the pool's shares. Costs approved before keep the split they were approved with."""
    pool = _pool(session, pool_id)
    checked = _checked_shares(session, pool.holder_id, shares)
    lock_book(session, pool.holder_id)
    session.execute(delete(PoolShare).where(PoolShare.pool_id == pool_id))
    _write_shares(session, pool_id, checked)
    pool.shares_changed_at = utcnow()
    session.flush()
    return get_pool(session, pool_id)


def approve_pooled_cost(
    session: Session,
    pool_id: int,
    *,
    supplier: str,
    number: str,
    dated_on: date,
    amount_pence: int,
    category_code: str,
    description: str | None,
    approved_by: str,
) -> ApprovalResult:
    """Approve a cost the pool shares: split by the current shares into one payable line per
    budget (a budget whose part rounds to nothing gets no line), approved as one payable of
    kind ``pooled``."""
    pool = _pool(session, pool_id)
    if type(amount_pence) is not int or not 0 < amount_pence <= AMOUNT_PENCE_MAX:
        raise InvalidInput("amount must be more than £0.00", code="amount_not_positive", field="amount")
    shares = get_pool(session, pool_id).shares
    parts = pool_split(amount_pence, [share.weight for share in shares])
    about = checks.text(description, "description", max_length=500, required=False)
    lines = [
        LineSpec(share.budget_reference, category_code, part, about, pool_id=pool_id)
        for share, part in zip(shares, parts, strict=True)
        if part > 0
    ]
    return approve_lines(
        session, pool.holder_id, kind=PayableKind.POOLED, supplier=supplier, number=number, dated_on=dated_on, lines=lines,
        approved_by=approved_by, description=about or f"Shared by the pool {pool.name}",
    )  # fmt: skip


def pool_split(amount_pence: int, weights: Sequence[int]) -> list[int]:
    """Each share's part of a pooled cost, in the shares' order (by budget reference)."""
    return split_pence(amount_pence, list(weights))


def get_pool(session: Session, pool_id: int) -> PoolView:
    pool = _pool(session, pool_id)
    rows = session.execute(
        select(PoolShare.budget_id, Budget.reference, PoolShare.weight)
        .join(Budget, Budget.id == PoolShare.budget_id)
        .where(PoolShare.pool_id == pool_id)
        .order_by(Budget.reference)
    )
    return PoolView(pool, tuple(ShareView(*row) for row in rows))


def pools_of(session: Session, holder_id: int) -> list[PoolView]:
    get_holder(session, holder_id)
    ids = session.execute(select(Pool.id).where(Pool.holder_id == holder_id).order_by(Pool.name)).scalars().all()
    return [get_pool(session, pool_id) for pool_id in ids]


def _pool(session: Session, pool_id: int) -> Pool:
    pool = session.get(Pool, pool_id)
    if pool is None:
        raise NotFound(f"there is no pool {pool_id}", code="pool_not_found")
    return pool


def _checked_shares(session: Session, holder_id: int, shares: Sequence[tuple[str, int]]) -> list[tuple[int, int]]:
    """(budget id, weight) per share; each budget the holder's own, open, named once."""
    if not shares:
        raise InvalidInput("a pool needs at least one share", code="shares_empty", field="shares")
    if len(shares) > SHARES_MAX:
        raise InvalidInput(f"a pool has at most {SHARES_MAX} shares", code="shares_too_many", field="shares")
    references = [reference for reference, _ in shares if isinstance(reference, str) and REFERENCE_RE.fullmatch(reference)]
    budgets = {
        budget.reference: budget
        for budget in session.execute(select(Budget).where(Budget.reference.in_(references))).scalars()
    }
    checked: list[tuple[int, int]] = []
    seen: set[str] = set()
    for index, (reference, weight) in enumerate(shares):
        where = f"shares[{index}]"
        budget = budgets.get(reference)
        if budget is None or budget.holder_id != holder_id:
            raise InvalidInput(f"{where}.budget: there is no budget {reference!r} held by this holder", code="budget_unknown", field=f"{where}.budget")
        if budget.status != BudgetStatus.OPEN:
            raise InvalidInput(f"{where}.budget: budget {reference} is closed", code="budget_closed", field=f"{where}.budget")
        if reference in seen:
            raise InvalidInput(f"{where}.budget: {reference} has two shares; give it one", code="share_twice", field=f"{where}.budget")
        seen.add(reference)
        checks.whole_number(weight, f"{where}.weight", minimum=1, maximum=WEIGHT_MAX)
        assert budget.id is not None
        checked.append((budget.id, weight))
    return checked


def _write_shares(session: Session, pool_id: int, shares: list[tuple[int, int]]) -> None:
    session.execute(insert(PoolShare), [{"pool_id": pool_id, "budget_id": b, "weight": w} for b, w in shares])
    session.flush()
