"""Transition costs on both databases: planned, spent (before the plan period too) and left,
never surplus; and the first year against the previous placement, so the year-two saving
shows."""

from __future__ import annotations

from datetime import date

from ledger.budgets.budget import PartSpec
from ledger.position.figures import budget_position
from ledger.position.transition import placement_comparison, transition_position
from ledger.store.database import Database
from tests.support.builders import make_budget, make_person
from tests.test_position import TRANSITION_PENCE, Setup, add_budget, make_setup, post


def test_transition_spent_before_the_plan_period_and_what_is_left(db: Database) -> None:
    with db.write() as session:
        world = make_setup(session)
        post(session, world, "t1", date(2026, 2, 15), "transition_spend", ("spend:transition", 120_000), ("cash", -120_000))
        post(session, world, "t2", date(2026, 3, 20), "transition_spend", ("spend:transition", 80_000), ("cash", -80_000))
        post(session, world, "icb", date(2026, 4, 1), "funder_payment", ("cash", 900_000), ("receivable:icb-devon", -900_000))
    with db.read() as session:
        now = transition_position(session, world.budget.id)
        february = transition_position(session, world.budget.id, as_of=date(2026, 2, 28))
        figures = budget_position(session, world.budget.id).figures
    assert (now.planned_pence, now.spent_pence, now.left_pence, now.overspent_pence) == (TRANSITION_PENCE, 200_000, 320_000, 0)
    assert (february.spent_pence, february.left_pence) == (120_000, 400_000)
    # held £7,000 of which £3,200 is transition money not yet spent: never surplus
    assert figures.held_pence == 700_000 and figures.surplus_pence == 700_000 - 320_000


def test_transition_spent_beyond_its_lines_is_shown_and_leaves_nothing(db: Database) -> None:
    with db.write() as session:
        world = make_setup(session)
        post(session, world, "t1", date(2026, 3, 1), "transition_spend", ("spend:transition", TRANSITION_PENCE + 5_000), ("cash", -TRANSITION_PENCE - 5_000))
    with db.read() as session:
        position = transition_position(session, world.budget.id)
    assert (position.left_pence, position.overspent_pence) == (0, 5_000)


def test_the_year_two_saving_shows_against_the_previous_placement(db: Database) -> None:
    with db.write() as session:
        world = make_setup(session)
        budget = add_budget(session, world, "ISF-0002", equipment=30_000)
        budget.previous_placement_annual_cost_pence = 4_800_000
        budget.previous_placement_description = "Residential placement out of area"
        session.flush()
    with db.read() as session:
        comparison = placement_comparison(session, budget.id)
        unknown = placement_comparison(session, world.budget.id)
    assert comparison.year_one_cost_pence == 5_200_000
    assert (comparison.transition_pence, comparison.one_off_pence) == (TRANSITION_PENCE, 30_000)
    assert comparison.recurring_cost_pence == 5_200_000 - 520_000 - 30_000 == 4_650_000
    assert comparison.year_one_saving_pence == 4_800_000 - 5_200_000 == -400_000  # the move costs money in year one
    assert comparison.year_two_saving_pence == 4_800_000 - 4_650_000 == 150_000
    assert comparison.previous_placement_description == "Residential placement out of area"
    assert unknown.previous_placement_annual_cost_pence is None
    assert unknown.year_one_saving_pence is None and unknown.year_two_saving_pence is None


def test_a_budget_without_an_agreed_plan_has_nothing_planned(db: Database) -> None:
    with db.write() as session:
        world: Setup = make_setup(session)
        bare = make_budget(session, world.holder, make_person(session, "Sam"), world.icb, reference="ISF-0009",
                           parts=(PartSpec("third_party", "prepaid_card"),))  # fmt: skip
    with db.read() as session:
        position = transition_position(session, bare.id)
        comparison = placement_comparison(session, bare.id)
    assert (position.plan_version_id, position.planned_pence, position.left_pence) == (None, 0, 0)
    assert comparison.year_one_cost_pence == 0
