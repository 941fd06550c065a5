"""A budget's position on both databases, against figures worked out by hand: a jointly
funded ISF with a client contribution, transition money spent before the plan period,
funder payments, card loads, card spend and fees, wages approved and part paid,
contingency ring-fenced and used, a top-slice, and a payment posted in error and reversed.
Each funder's share of every figure adds up exactly to the whole (a property test with an
in-memory tally as the oracle)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ledger.budgets import parties, plans
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal import post_entry, reverse_entry
from ledger.core.verify import verify
from ledger.errors import InvalidInput
from ledger.loads.runs import post_due_drawdowns
from ledger.loads.schedule import LoadStatus
from ledger.position.figures import (
    DEFAULT_ACT_WEEKS_TENTHS,
    DEFAULT_WARN_WEEKS_TENTHS,
    MoneyFigures,
    SurplusState,
    Thresholds,
    budget_position,
    holder_positions,
    set_surplus_thresholds,
    tenths_text,
    weeks_held_tenths,
)
from ledger.store.database import Database
from ledger.store.tables import Budget, Funder, Holder
from tests.support.builders import AGREED_AT, PLAN_START, make_budget, make_person

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)

ICB_PENCE = 3_000_000
COUNCIL_PENCE = 2_200_000
CONTRIBUTION_PENCE = 200_000
TOTAL_PENCE = ICB_PENCE + COUNCIL_PENCE
CONTINGENCY_PENCE = 104_000
TOP_SLICE_PENCE = 260_000
TRANSITION_PENCE = 520_000
ACTIVITIES_PENCE = 52_000


@dataclass
class Setup:
    icb: Funder
    council: Funder
    holder: Holder
    budget: Budget

    def account_id(self, session: Session, suffix: str, budget: Budget | None = None) -> int:
        from ledger.core.accounts import account_ids_by_code

        code = f"{(budget or self.budget).reference}:{suffix}"
        return account_ids_by_code(session, [code])[code]


def make_setup(session: Session, **plan: int) -> Setup:
    icb = parties.create_funder(session, parties.FunderSpec("icb-devon", "NHS Devon ICB", "icb"))
    council = parties.create_funder(session, parties.FunderSpec("plymouth-asc", "Plymouth City Council", "council_adult_social_care"))
    holder = parties.create_holder(session, parties.HolderSpec("sunrise", "Sunrise Support", "isf_provider"))
    setup = Setup(icb, council, holder, None)  # type: ignore[arg-type]
    setup.budget = add_budget(session, setup, "ISF-0001", **plan)
    return setup


def add_budget(
    session: Session,
    setup: Setup,
    reference: str,
    *,
    icb: int = ICB_PENCE,
    council: int = COUNCIL_PENCE,
    contribution: int = CONTRIBUTION_PENCE,
    contingency: int = CONTINGENCY_PENCE,
    top_slice: int = TOP_SLICE_PENCE,
    transition: int = TRANSITION_PENCE,
    activities: int = ACTIVITIES_PENCE,
    equipment: int = 0,
) -> Budget:
    """A budget with an agreed plan: staff pay takes whatever the other lines leave;
    ``equipment`` is a one-off line."""
    budget = make_budget(session, setup.holder, make_person(session, f"Person {reference}"), setup.icb, reference=reference)
    total = icb + council
    lines = [plans.PlanLineSpec("activities", "Swimming", "recurring", annual_amount_pence=activities)]
    staff = total - contingency - top_slice - transition - activities - equipment
    if equipment:
        lines.append(plans.PlanLineSpec("equipment", "Sensory lamp", "one_off", amount_pence=equipment, starts_on=date(2026, 6, 1)))
    if staff:
        lines.append(plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=staff))
    if transition:
        lines.append(
            plans.PlanLineSpec("transition", "Staff recruited before the move", "one_off", amount_pence=transition,
                               starts_on=date(2026, 2, 1), ends_on=date(2026, 3, 31))
        )  # fmt: skip
    funding = [plans.FundingLineSpec(setup.icb.id, icb)]
    if council:
        funding.append(plans.FundingLineSpec(setup.council.id, council, contribution))
    version = plans.create_draft(
        session,
        budget.id,
        plans.PlanVersionSpec(
            effective_from=PLAN_START, total_pence=total, funding_lines=funding, lines=lines,
            contingency_pence=contingency, top_slice_fixed_pence=top_slice,
        ),
    )
    plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)
    return budget


def post(session: Session, setup: Setup, key: str, day: date, kind: str, *pairs: tuple[str, int], budget: Budget | None = None):  # type: ignore[no-untyped-def]
    """Post a plain entry: (account suffix, signed pence) pairs on one budget."""
    budget = budget or setup.budget
    result = post_entry(
        session,
        NewEntry(
            book_id=setup.holder.id,
            entry_date=day,
            description=f"{kind} {key}",
            idempotency_key=f"{budget.reference}:{key}",
            postings=tuple(NewPosting(setup.account_id(session, suffix, budget), pence) for suffix, pence in pairs),
            kind=kind,
            created_by="test",
        ),
    )
    assert result.outcome is PostOutcome.CREATED
    return result


def london(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=LONDON)


def post_the_year_so_far(db: Database, world: Setup) -> int:
    """Everything of the module docstring; returns what the card loads came to."""
    with db.write() as session:
        post(session, world, "transition-1", date(2026, 3, 2), "transition_spend", ("spend:transition", 300_000), ("cash", -300_000))
        post(session, world, "icb-april", date(2026, 4, 1), "funder_payment", ("cash", 1_500_000), ("receivable:icb-devon", -1_500_000))
        post(session, world, "council-april", date(2026, 4, 1), "funder_payment", ("cash", 1_000_000), ("receivable:plymouth-asc", -1_000_000))
        wrong = post(session, world, "icb-wrong", date(2026, 4, 2), "funder_payment", ("cash", 1_000), ("receivable:icb-devon", -1_000))
        reverse_entry(session, wrong.entry.id, entry_date=date(2026, 4, 3), idempotency_key="reverse-wrong", created_by="test")
        post(session, world, "contribution", date(2026, 4, 10), "contribution_received", ("cash", 50_000), ("receivable:contribution", -50_000))
        post(session, world, "ring-fence", date(2026, 4, 1), "contingency_ring_fence", ("contingency", CONTINGENCY_PENCE), ("cash", -CONTINGENCY_PENCE))
        post(session, world, "top-slice", date(2026, 4, 1), "top_slice", ("top_slice", TOP_SLICE_PENCE), ("cash", -TOP_SLICE_PENCE))
        loads = post_due_drawdowns(session, london(date(2026, 4, 14)), now=NOW, budget_id=world.budget.id).total_pence
        post(session, world, "swim", date(2026, 4, 5), "card_purchase", ("spend:activities", 4_500), ("card", -4_500))
        post(session, world, "swim-fee", date(2026, 4, 5), "fee", ("fees", 3), ("card", -3))
        post(session, world, "wages-approved", date(2026, 4, 30), "payable_approved", ("spend:staff_pay", 250_000), ("payable", -250_000))
        post(session, world, "wages-paid", date(2026, 5, 1), "payable_paid", ("payable", 150_000), ("cash", -150_000))
        post(session, world, "boiler", date(2026, 5, 2), "contingency_use", ("spend:equipment", 20_000), ("contingency", -20_000))
    return loads


@pytest.fixture
def world(db: Database) -> Setup:
    with db.write() as session:
        return make_setup(session)


def test_the_position_matches_the_figures_worked_by_hand(db: Database, world: Setup) -> None:
    loads = post_the_year_so_far(db, world)
    assert 3 * 70_000 < loads < 3 * 90_000  # three weekly loads (1, 6 and 13 April)
    with db.read() as session:
        position = budget_position(session, world.budget.id)
        assert verify(session) == []
    f = position.figures
    assert (f.allocated_pence, f.received_pence, f.receivable_pence, f.notional_pence) == (5_200_000, 2_550_000, 2_650_000, 0)
    assert f.held_pence == -300_000 + 2_550_000 - CONTINGENCY_PENCE - TOP_SLICE_PENCE - loads - 150_000 == 1_736_000 - loads
    assert f.card_pence == loads - 4_503
    assert f.committed_pence == 100_000
    assert (f.contingency_planned_pence, f.contingency_ring_fenced_pence, f.contingency_used_pence, f.contingency_left_pence) == (
        104_000, 104_000, 20_000, 84_000,
    )  # fmt: skip
    assert (f.top_slice_planned_pence, f.top_slice_taken_pence) == (260_000, 260_000)
    assert (f.transition_planned_pence, f.transition_spent_pence, f.transition_left_pence) == (520_000, 300_000, 220_000)
    assert f.spent_by_category == {"activities": 4_500, "equipment": 20_000, "staff_pay": 250_000, "transition": 300_000}
    assert (f.spent_pence, f.fees_pence, f.returned_pence) == (574_500, 3, 0)
    assert f.money_left_pence == 5_200_000 - 574_500 - 3 - 260_000 == 4_365_497
    # the ledger's own balance: still to come + held + contingency + card − committed
    assert f.money_left_pence == f.receivable_pence + f.held_pence + f.contingency_left_pence + f.card_pence - f.committed_pence
    # (£52,000 − £1,040 − £2,600 − £5,200) × 7 ÷ 365 days = £827.726… → £827.73
    assert f.weekly_amount_pence == 82_773
    idle = (1_736_000 - loads) - 100_000 - 220_000  # held − committed − unspent transition
    assert f.surplus_pence == idle
    assert f.weeks_held_tenths == (2 * idle * 10 + 82_773) // (2 * 82_773)
    assert f.weeks_held_tenths > 80 and f.surplus_state is SurplusState.ACT
    assert f.thresholds == Thresholds(DEFAULT_WARN_WEEKS_TENTHS, DEFAULT_ACT_WEEKS_TENTHS, is_default=True)
    (part,) = position.schedule
    assert [load.status for load in part.loads[:4]] == [LoadStatus.POSTED] * 3 + [LoadStatus.DUE]


def test_each_funder_share_adds_up_to_the_whole(db: Database, world: Setup) -> None:
    post_the_year_so_far(db, world)
    with db.read() as session:
        position = budget_position(session, world.budget.id)
    by_code = {share.funder_code: share.figures for share in position.shares}
    assert list(by_code) == ["icb-devon", "plymouth-asc", "contribution"]
    assert {code: f.allocated_pence for code, f in by_code.items()} == {"icb-devon": 3_000_000, "plymouth-asc": 2_000_000, "contribution": 200_000}
    assert {code: f.received_pence for code, f in by_code.items()} == {"icb-devon": 1_500_000, "plymouth-asc": 1_000_000, "contribution": 50_000}
    # the top-slice, £2,600, split 30 : 20 : 2
    assert {code: f.top_slice_taken_pence for code, f in by_code.items()} == {"icb-devon": 150_000, "plymouth-asc": 100_000, "contribution": 10_000}
    assert_shares_add_up(position.figures, [share.figures for share in position.shares])


def assert_shares_add_up(whole: MoneyFigures, shares: list[MoneyFigures]) -> None:
    for field in fields(MoneyFigures):
        value = getattr(whole, field.name)
        if field.name.endswith("_pence"):
            assert sum(getattr(share, field.name) for share in shares) == value, field.name
    categories = {code for share in shares for code in share.spent_by_category}
    assert {code: sum(s.spent_by_category.get(code, 0) for s in shares) for code in categories} == {
        code: pence for code, pence in whole.spent_by_category.items()
    }


def test_as_of_a_date_before_the_plan_period_shows_the_transition_spent(db: Database, world: Setup) -> None:
    post_the_year_so_far(db, world)
    with db.read() as session:
        march = budget_position(session, world.budget.id, as_of=date(2026, 3, 31)).figures
    assert (march.held_pence, march.transition_spent_pence, march.transition_left_pence) == (-300_000, 300_000, 220_000)
    assert march.received_pence == 0 and march.surplus_pence == 0 and march.surplus_state is SurplusState.OK


def test_a_funders_own_thresholds_decide_the_state(db: Database, world: Setup) -> None:
    post_the_year_so_far(db, world)
    with db.write() as session:
        weeks = budget_position(session, world.budget.id).figures.weeks_held_tenths
        assert weeks is not None
        set_surplus_thresholds(session, world.icb.id, warn_weeks_tenths=weeks - 1, act_weeks_tenths=weeks, updated_by="ICB finance")
    with db.read() as session:
        position = budget_position(session, world.budget.id)
    assert position.figures.surplus_state is SurplusState.WARN  # above warn, not above act
    assert position.figures.thresholds == Thresholds(weeks - 1, weeks, is_default=False)
    council = next(s for s in position.shares if s.funder_code == "plymouth-asc").figures
    assert council.thresholds.is_default  # the council keeps the defaults
    with db.write() as session:
        set_surplus_thresholds(session, world.icb.id, warn_weeks_tenths=weeks, act_weeks_tenths=weeks + 10, updated_by="ICB finance")
    with db.read() as session:
        assert budget_position(session, world.budget.id).figures.surplus_state is SurplusState.OK


@pytest.mark.parametrize(
    ("warn", "act", "field"),
    [(80, 40, "act_weeks_tenths"), (40, 40, "act_weeks_tenths"), (-1, 40, "warn_weeks_tenths"), (40, 10_000, "act_weeks_tenths")],
)
def test_thresholds_out_of_order_or_range_are_refused(db: Database, world: Setup, warn: int, act: int, field: str) -> None:
    with db.write() as session, pytest.raises(InvalidInput) as error:
        set_surplus_thresholds(session, world.icb.id, warn_weeks_tenths=warn, act_weeks_tenths=act, updated_by="x")
    assert error.value.field == field


def test_weeks_held_are_tenths_worked_in_integers() -> None:
    assert weeks_held_tenths(82_773 * 4, 82_773) == 40
    assert weeks_held_tenths(82_773 * 4 + 4_139, 82_773) == 41  # 4.05 rounds half up
    assert weeks_held_tenths(82_773 * 4 + 4_138, 82_773) == 40
    assert weeks_held_tenths(-82_773, 82_773) == -10
    assert weeks_held_tenths(1_000, 0) is None
    assert Thresholds().state(40) is SurplusState.OK and Thresholds().state(41) is SurplusState.WARN
    assert Thresholds().state(81) is SurplusState.ACT and Thresholds().state(None) is SurplusState.OK
    assert [tenths_text(t) for t in (43, 0, -5, 120)] == ["4.3", "0.0", "-0.5", "12.0"]


def test_holder_positions_read_every_budget_at_once(db: Database, world: Setup) -> None:
    post_the_year_so_far(db, world)
    with db.write() as session:
        other = add_budget(session, world, "ISF-0002", council=0, contribution=0, transition=0)
        post(session, world, "icb", date(2026, 4, 1), "funder_payment", ("cash", 700_000), ("receivable:icb-devon", -700_000), budget=other)
    with db.read() as session:
        positions = holder_positions(session, world.holder.id)
        one = budget_position(session, world.budget.id)
    assert [p.reference for p in positions] == ["ISF-0001", "ISF-0002"]
    assert positions[0].figures == one.figures and positions[0].shares == [] and positions[0].schedule == []
    assert (positions[1].figures.held_pence, positions[1].figures.transition_planned_pence) == (700_000, 0)


# --- property: shares add up exactly, and each is its funder's pro-rata share ------------

pence = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, int]:
    icb = draw(st.integers(500_000, 6_000_000))
    council = draw(st.sampled_from([0, draw(st.integers(1, 4_000_000))]))
    contribution = draw(st.integers(0, council)) if council else 0
    total = icb + council
    contingency = draw(st.integers(0, total // 10))
    top_slice = draw(st.integers(0, total // 10))
    transition = draw(st.integers(0, total // 10))
    return {
        "icb": icb, "council": council, "contribution": contribution, "contingency": contingency, "top_slice": top_slice,
        "transition": transition, "activities": 10_000,
        "paid_icb": draw(st.integers(0, icb)), "paid_council": draw(st.integers(0, council - contribution)),
        "ring_fence": draw(st.integers(0, contingency)), "used": draw(st.integers(0, 1_000)),
        "load": draw(pence), "card_spend": draw(pence), "fee": draw(st.integers(0, 300)), "approved": draw(pence),
        "paid": draw(pence), "transition_spent": draw(st.integers(0, transition)),
    }  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(scenario=scenarios())
def test_property_shares_add_up_and_are_pro_rata(sqlite_template, tmp_path_factory, scenario: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    db = Database(sqlite_template.copy_to(Path(tmp_path_factory.mktemp("position")) / "p.db"))
    try:
        s = scenario
        plan = {k: s[k] for k in ("icb", "council", "contribution", "contingency", "top_slice", "transition", "activities")}
        with db.write() as session:
            setup = make_setup(session, **plan)
            day = date(2026, 4, 1)
            moves = [
                ("a", "funder_payment", ("cash", s["paid_icb"]), ("receivable:icb-devon", -s["paid_icb"])),
                ("b", "funder_payment", ("cash", s["paid_council"]), ("receivable:plymouth-asc", -s["paid_council"])),
                ("c", "contingency_ring_fence", ("contingency", s["ring_fence"]), ("cash", -s["ring_fence"])),
                ("d", "contingency_use", ("spend:equipment", min(s["used"], s["ring_fence"])), ("contingency", -min(s["used"], s["ring_fence"]))),
                ("e", "drawdown", ("card", s["load"]), ("cash", -s["load"])),
                ("f", "card_purchase", ("spend:activities", s["card_spend"]), ("card", -s["card_spend"])),
                ("g", "fee", ("fees", s["fee"]), ("card", -s["fee"])),
                ("h", "payable_approved", ("spend:staff_pay", s["approved"]), ("payable", -s["approved"])),
                ("i", "payable_paid", ("payable", s["paid"]), ("cash", -s["paid"])),
                ("j", "transition_spend", ("spend:transition", s["transition_spent"]), ("cash", -s["transition_spent"])),
                ("k", "top_slice", ("top_slice", s["top_slice"]), ("cash", -s["top_slice"])),
            ]
            for key, kind, *pairs in moves:
                if pairs[0][1]:
                    post(session, setup, key, day, kind, *pairs)
        with db.read() as session:
            position = budget_position(session, setup.budget.id)
        whole = position.figures
        # the oracle: an in-memory tally of what was posted
        used = min(s["used"], s["ring_fence"])
        held = s["paid_icb"] + s["paid_council"] - s["ring_fence"] - s["load"] - s["paid"] - s["transition_spent"] - s["top_slice"]
        assert whole.held_pence == held
        assert whole.card_pence == s["load"] - s["card_spend"] - s["fee"]
        assert whole.committed_pence == s["approved"] - s["paid"]
        assert whole.contingency_left_pence == s["ring_fence"] - used
        assert whole.money_left_pence == s["icb"] + s["council"] - used - s["card_spend"] - s["approved"] - s["transition_spent"] - s["fee"] - s["top_slice"]
        transition_left = s["transition"] - s["transition_spent"]
        assert whole.surplus_pence == max(0, held - (s["approved"] - s["paid"]) - transition_left)
        assert_shares_add_up(whole, [share.figures for share in position.shares])
        total_allocated = sum(share.figures.allocated_pence for share in position.shares)
        for share in position.shares:
            weight = share.figures.allocated_pence
            for name in ("held_pence", "card_pence", "committed_pence", "contingency_left_pence", "weekly_amount_pence", "surplus_pence", "spent_pence"):
                pennies = max(1, len(whole.spent_by_category)) if name == "spent_pence" else 1  # spend: split per category
                error = abs(getattr(share.figures, name) * total_allocated - getattr(whole, name) * weight)
                assert error < pennies * total_allocated, (name, share.funder_code)
    finally:
        db.dispose()
