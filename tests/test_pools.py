"""Pooled costs: split by agreed shares into one line per budget, summing exactly to the
cost (checked against an independent model), each family seeing only its own line."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledger.budgets.parties import HolderSpec, create_holder
from ledger.core.money import AMOUNT_PENCE_MAX
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput
from ledger.money_out.payable_views import payables_of
from ledger.money_out.pools import approve_pooled_cost, change_shares, create_pool, pool_split, pools_of
from ledger.store.database import Database
from ledger.store.tables import Budget
from tests.support.payables_world import balance, world_with_budgets

JUNE = date(2026, 6, 30)


def model_split(amount: int, weights: list[int]) -> list[int]:
    """The oracle: exact shares as fractions; everyone gets the whole pennies of their share,
    then the pennies left go one each to the largest fractional parts, earlier first."""
    total = sum(weights)
    exact = [Fraction(amount * weight, total) for weight in weights]
    parts = [share.numerator // share.denominator for share in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: amount - sum(parts)]:
        parts[i] += 1
    return parts


@settings(max_examples=400, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=AMOUNT_PENCE_MAX),
    weights=st.lists(st.integers(min_value=1, max_value=1_000_000_000), min_size=1, max_size=30),
)
def test_a_pooled_split_sums_exactly_and_matches_the_model(amount: int, weights: list[int]) -> None:
    parts = pool_split(amount, weights)
    assert sum(parts) == amount
    assert parts == model_split(amount, weights)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(Fraction(amount * weight, total) - part) < 1  # within a penny of the exact share


@pytest.fixture
def world(db: Database) -> int:
    with db.write() as session:
        world, _ = world_with_budgets(session, 3)
        return world.holder.id


def test_a_pooled_cost_splits_into_one_line_per_budget_and_each_budget_sees_its_own(db: Database, world: int) -> None:
    with db.write() as session:
        pool = create_pool(session, world, "Shared night worker", [("ISF-0001", 5000), ("ISF-0002", 3000), ("ISF-0003", 2000)])
    with db.write() as session:
        result = approve_pooled_cost(
            session, pool.id, supplier="Night Owls Agency", number="NO-77", dated_on=JUNE, amount_pence=100_001,
            category_code="agency_support", description="Waking nights, June", approved_by="Sam",
        )  # fmt: skip
    assert result.payable.payable.kind == "pooled"
    assert [(line.budget_reference, line.amount_pence, line.pool_id) for line in result.payable.lines] == [
        ("ISF-0001", 50_001, pool.id),
        ("ISF-0002", 30_000, pool.id),
        ("ISF-0003", 20_000, pool.id),
    ]
    with db.read() as session:
        assert balance(session, "ISF-0001:spend:agency_support") == 50_001
        assert sum(balance(session, f"ISF-000{n}:payable") for n in (1, 2, 3)) == -100_001
        budget_three = session.execute(select(Budget.id).where(Budget.reference == "ISF-0003")).scalar_one()
        (seen,) = payables_of(session, budget_id=budget_three)
        assert [line.budget_reference for line in seen.lines] == ["ISF-0003"] and seen.total_pence == 20_000
        assert verify(session) == []


def test_new_shares_apply_to_costs_approved_after(db: Database, world: int) -> None:
    with db.write() as session:
        pool = create_pool(session, world, "Shared house", [("ISF-0001", 1), ("ISF-0002", 1)])
        first = approve_pooled_cost(
            session, pool.id, supplier="Agency", number="A-1", dated_on=JUNE, amount_pence=1_000,
            category_code="agency_support", description=None, approved_by="Sam",
        )  # fmt: skip
    with db.write() as session:
        changed = change_shares(session, pool.id, [("ISF-0001", 3), ("ISF-0003", 1)])
        second = approve_pooled_cost(
            session, pool.id, supplier="Agency", number="A-2", dated_on=JUNE, amount_pence=1_000,
            category_code="agency_support", description=None, approved_by="Sam",
        )  # fmt: skip
    assert [(s.budget_reference, s.weight) for s in changed.shares] == [("ISF-0001", 3), ("ISF-0003", 1)]
    assert [(line.budget_reference, line.amount_pence) for line in second.payable.lines] == [("ISF-0001", 750), ("ISF-0003", 250)]
    with db.read() as session:
        (kept,) = [view for view in payables_of(session, holder_id=world) if view.id == first.payable.id]
        assert [(line.budget_reference, line.amount_pence) for line in kept.lines] == [("ISF-0001", 500), ("ISF-0002", 500)]
        assert [p.name for p in (view.pool for view in pools_of(session, world))] == ["Shared house"]


def test_a_part_that_rounds_to_nothing_gets_no_line(db: Database, world: int) -> None:
    with db.write() as session:
        pool = create_pool(session, world, "Tiny", [("ISF-0001", 1), ("ISF-0002", 1), ("ISF-0003", 1)])
        result = approve_pooled_cost(
            session, pool.id, supplier="Agency", number="A-1", dated_on=JUNE, amount_pence=2,
            category_code="activities", description="Two pennies", approved_by="Sam",
        )  # fmt: skip
    assert [(line.budget_reference, line.amount_pence) for line in result.payable.lines] == [("ISF-0001", 1), ("ISF-0002", 1)]


def test_bad_shares_are_refused(db: Database, world: int) -> None:
    with db.write() as session:
        other = create_holder(session, HolderSpec("other", "Other Provider", "isf_provider"))
    cases = [
        ([], "shares_empty"),
        ([("ISF-0001", 0)], "number_out_of_range"),
        ([("ISF-0001", 1), ("ISF-0001", 2)], "share_twice"),
        ([("ISF-0404", 1)], "budget_unknown"),
    ]
    for shares, code in cases:
        with pytest.raises(InvalidInput) as refused, db.write() as session:
            create_pool(session, world, "Pool", shares)
        assert refused.value.code == code
    with pytest.raises(InvalidInput) as not_theirs, db.write() as session:
        create_pool(session, other.id, "Pool", [("ISF-0001", 1)])
    assert not_theirs.value.code == "budget_unknown"
    with db.write() as session:
        create_pool(session, world, "Pool", [("ISF-0001", 1)])
    with pytest.raises(Conflict) as twice, db.write() as session:
        create_pool(session, world, "Pool", [("ISF-0002", 1)])
    assert twice.value.code == "pool_exists"
