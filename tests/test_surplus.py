"""Surplus on both databases: returned to the funders pro rata (to the penny) or in named
shares, refused beyond the surplus — transition money is never surplus — and accepted or
reallocated by a plan revision; on open budgets (mid-year) and closed ones."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.budgets import plans
from ledger.core import periods
from ledger.core.balances import budget_balances
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.position.closing import close_budget
from ledger.position.figures import budget_position
from ledger.position.surplus import record_surplus_decision, return_surplus, surplus_decisions, surplus_shares
from ledger.store.database import Database
from ledger.store.tables import JournalEntry
from tests.test_position import TRANSITION_PENCE, Setup, make_setup, post

ON = date(2026, 10, 5)


@pytest.fixture
def world(db: Database) -> Setup:
    with db.write() as session:
        world = make_setup(session)
        post(session, world, "icb", date(2026, 4, 1), "funder_payment", ("cash", 1_500_000), ("receivable:icb-devon", -1_500_000))
        post(session, world, "council", date(2026, 4, 1), "funder_payment", ("cash", 1_000_000), ("receivable:plymouth-asc", -1_000_000))
        post(session, world, "contribution", date(2026, 4, 1), "contribution_received", ("cash", 100_000), ("receivable:contribution", -100_000))
        post(session, world, "transition", date(2026, 3, 1), "transition_spend", ("spend:transition", 120_000), ("cash", -120_000))
        post(session, world, "wages", date(2026, 9, 30), "payable_approved", ("spend:staff_pay", 80_000), ("payable", -80_000))
    return world


# held £26,000 − £1,200 transition spent = £24,800; committed £800; unspent transition £4,000
SURPLUS = 2_480_000 - 80_000 - (TRANSITION_PENCE - 120_000)


def returned(db: Database, world: Setup) -> dict[str, int]:
    with db.read() as session:
        return {b.code.rsplit(":", 1)[1]: b.balance_pence for b in budget_balances(session, world.budget.id) if b.kind == "returned"}


def entries(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


def test_an_open_budget_returns_its_surplus_pro_rata_to_the_penny(db: Database, world: Setup) -> None:
    with db.read() as session:
        assert budget_position(session, world.budget.id).figures.surplus_pence == SURPLUS == 2_000_000
    with db.write() as session:
        result = return_surplus(session, world.budget.id, amount_pence=1_000_001, on=ON, reason="Mid-year review", decided_by="ICB")
    # allocations 30,000 : 20,000 : 2,000 → 576,923.65 : 384,615.77 : 38,461.58; the two pennies
    # the floors leave go to the largest remainders (.77, then .65)
    assert returned(db, world) == {"icb-devon": 576_924, "plymouth-asc": 384_616, "contribution": 38_461}
    assert sum(returned(db, world).values()) == 1_000_001
    assert [(s.funder_code, s.amount_pence) for s in result.shares] == list(returned(db, world).items())
    assert (result.decision.action, result.decision.amount_pence, result.created) == ("return", 1_000_001, True)
    with db.read() as session:
        figures = budget_position(session, world.budget.id).figures
        assert verify(session) == []
    assert figures.surplus_pence == SURPLUS - 1_000_001 and figures.returned_pence == 1_000_001


def test_the_default_returns_all_of_the_surplus_and_a_retry_returns_the_first(db: Database, world: Setup) -> None:
    with db.write() as session:
        first = return_surplus(session, world.budget.id, on=ON, reason="Year end", decided_by="ICB")
    count = entries(db)
    with db.write() as session:
        again = return_surplus(session, world.budget.id, on=ON, reason="Year end", decided_by="ICB")
    assert first.decision.amount_pence == SURPLUS and again.decision.id == first.decision.id and not again.created
    assert entries(db) == count and sum(returned(db, world).values()) == SURPLUS
    with db.write() as session, pytest.raises(Conflict) as error:
        return_surplus(session, world.budget.id, on=ON, reason="Another go", decided_by="ICB")
    assert error.value.code == "no_surplus"


def test_a_return_beyond_the_surplus_is_refused_and_posts_nothing(db: Database, world: Setup) -> None:
    count = entries(db)
    with db.write() as session, pytest.raises(Conflict) as error:
        return_surplus(session, world.budget.id, amount_pence=SURPLUS + 1, on=ON, reason="Too much", decided_by="ICB")
    assert error.value.code == "beyond_surplus" and error.value.details["surplus_pence"] == SURPLUS
    assert entries(db) == count


def test_transition_money_is_never_surplus(db: Database) -> None:
    with db.write() as session:
        world = make_setup(session)
        post(session, world, "icb", date(2026, 3, 1), "funder_payment", ("cash", 400_000), ("receivable:icb-devon", -400_000))
    with db.read() as session:
        figures = budget_position(session, world.budget.id).figures
    assert figures.held_pence == 400_000 and figures.transition_left_pence == TRANSITION_PENCE and figures.surplus_pence == 0
    with db.write() as session, pytest.raises(Conflict) as error:
        return_surplus(session, world.budget.id, amount_pence=1, on=ON, reason="x", decided_by="ICB")
    assert error.value.code == "beyond_surplus"
    with db.write() as session, pytest.raises(Conflict) as error:
        return_surplus(session, world.budget.id, on=ON, reason="x", decided_by="ICB")
    assert error.value.code == "no_surplus"


def test_a_closed_budget_returns_what_closing_left(db: Database, world: Setup) -> None:
    with db.write() as session:
        post(session, world, "wages-paid", date(2026, 10, 1), "payable_paid", ("payable", 80_000), ("cash", -80_000))
        closure = close_budget(session, world.budget.id, closed_on=date(2026, 10, 2), reason="Moved away", closed_by="ICB")
    assert closure.surplus_pence == SURPLUS  # transition money is not surplus ...
    with db.write() as session:
        result = return_surplus(session, world.budget.id, on=ON, reason="Closed", decided_by="ICB")
    # ... but a closed budget can no longer spend it, so the return takes it too and leaves nothing
    assert result.decision.amount_pence == SURPLUS + TRANSITION_PENCE - 120_000
    assert sum(share.amount_pence for share in result.shares) == result.decision.amount_pence
    with db.read() as session:
        figures = budget_position(session, world.budget.id).figures
        assert verify(session) == []
    assert figures.held_pence == 0


def test_named_shares_must_add_up_and_name_this_budgets_funders(db: Database, world: Setup) -> None:
    with db.write() as session:
        result = return_surplus(
            session, world.budget.id, amount_pence=300_000, on=ON, reason="Council only", decided_by="ICB",
            shares={world.council.id: 250_000, None: 50_000},
        )  # fmt: skip
    assert returned(db, world) == {"icb-devon": 0, "plymouth-asc": 250_000, "contribution": 50_000}
    assert [s.funder_code for s in result.shares] == ["plymouth-asc", "contribution"]
    count = entries(db)
    for shares, code in (({world.icb.id: 1}, "shares_do_not_add_up"), ({999: 300_000}, "funder_not_funding"), ({world.icb.id: -1, None: 300_001}, "amount_negative")):
        with db.write() as session, pytest.raises(InvalidInput) as error:
            return_surplus(session, world.budget.id, amount_pence=300_000, on=date(2026, 10, 6), reason="x", decided_by="ICB", shares=shares)
        assert error.value.code == code
    assert entries(db) == count


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(1, 10**10),
    allocations=st.dictionaries(st.one_of(st.none(), st.integers(1, 50)), st.integers(0, 10**9), min_size=1, max_size=5),
)
def test_property_pro_rata_shares_sum_exactly_and_are_within_a_penny(amount: int, allocations: dict[int | None, int]) -> None:
    if not any(v > 0 for v in allocations.values()):
        with pytest.raises(Conflict):
            surplus_shares(allocations, amount, None)
        return
    parts = surplus_shares(allocations, amount, None)
    assert sum(parts.values()) == amount
    total = sum(v for v in allocations.values() if v > 0)
    for key, part in parts.items():
        assert abs(part * total - amount * allocations[key]) < total  # within a penny of the exact share
    assert all(allocations[key] > 0 for key in parts)


def test_accepting_and_reallocating_are_recorded_and_checked(db: Database, world: Setup) -> None:
    with db.write() as session:
        accepted = record_surplus_decision(
            session, world.budget.id, action="accept", amount_pence=500_000, reason="Saving for a short break", decided_by="ICB", decided_on=ON
        )
        again = record_surplus_decision(
            session, world.budget.id, action="accept", amount_pence=500_000, reason="Saving for a short break", decided_by="ICB", decided_on=ON
        )
        draft = plans.create_draft(
            session, world.budget.id,
            plans.PlanVersionSpec(
                effective_from=date(2026, 11, 1), total_pence=5_200_000,
                funding_lines=[plans.FundingLineSpec(world.icb.id, 3_000_000), plans.FundingLineSpec(world.council.id, 2_200_000, 200_000)],
                lines=[plans.PlanLineSpec("activities", "More swimming", "recurring", annual_amount_pence=5_200_000 - 104_000 - 260_000)],
                contingency_pence=104_000, top_slice_fixed_pence=260_000,
            ),
        )  # fmt: skip
        reallocated = record_surplus_decision(
            session, world.budget.id, action="reallocate", amount_pence=400_000, reason="More swimming", decided_by="ICB",
            decided_on=ON, plan_version_id=draft.id,
        )  # fmt: skip
    assert again.id == accepted.id and reallocated.plan_version_id == draft.id
    count = entries(db)
    cases = [
        ({"action": "reallocate", "amount_pence": 1}, InvalidInput, "plan_version_required"),
        ({"action": "reallocate", "amount_pence": 1, "plan_version_id": 99_999}, NotFound, "plan_version_not_found"),
        ({"action": "accept", "amount_pence": 1, "plan_version_id": draft.id}, InvalidInput, "plan_version_not_wanted"),
        ({"action": "offset", "amount_pence": 1}, InvalidInput, "field_not_allowed"),
        ({"action": "accept", "amount_pence": 0}, InvalidInput, "amount_out_of_range"),
        ({"action": "accept", "amount_pence": SURPLUS + 1}, Conflict, "beyond_surplus"),
    ]
    for kwargs, error_type, code in cases:
        with db.write() as session, pytest.raises(error_type) as error:
            record_surplus_decision(session, world.budget.id, reason="r", decided_by="ICB", decided_on=ON, **kwargs)  # type: ignore[arg-type]
        assert error.value.code == code, kwargs
    with db.write() as session:
        returned_decision = record_surplus_decision(
            session, world.budget.id, action="return", amount_pence=52_000, reason="Returned", decided_by="ICB", decided_on=ON
        )
    assert returned_decision.entry_id is not None and entries(db) == count + 1
    with db.read() as session:
        listed = surplus_decisions(session, world.budget.id)
    assert [d.action for d in listed] == ["accept", "reallocate", "return"]


def test_a_return_dated_in_a_closed_quarter_is_refused(db: Database, world: Setup) -> None:
    with db.write() as session:
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="Finance", today=date(2026, 7, 10))
    count = entries(db)
    with db.write() as session, pytest.raises(Conflict) as error:
        return_surplus(session, world.budget.id, amount_pence=1_000, on=date(2026, 6, 30), reason="Late", decided_by="ICB")
    assert error.value.code == "period_closed" and entries(db) == count
