"""Recording a quarterly quality review (``ledger.reviews.quality_reviews``), on both databases:
every outcome of the plan rated, who attended, actions carried from one review to the next,
the decision about money left, new revisions beside the old, the reviews-due list answered —
and bad input refused with the field named, changing nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets import plans
from ledger.core.periods import parse_quarter
from ledger.errors import Conflict, InvalidInput
from ledger.reviews.plan_reviews import reviews_due
from ledger.reviews.quality_reviews import (
    ActionSpec,
    AttendeeSpec,
    OutcomeRatingSpec,
    QualityReviewSpec,
    open_actions_before,
    quality_review_of,
    record_quality_review,
)
from ledger.store.database import Database
from ledger.store.tables import PlanOutcome
from ledger.store.tables.quality_reviews import QualityReview
from tests.support.builders import AGREED_AT, World, make_world

TODAY = date(2026, 11, 24)
PEOPLE = (AttendeeSpec("Alex Smith", "The person"), AttendeeSpec("Jo Smith", "Mother"), AttendeeSpec("Sam Reed", "Support manager"))


def world_with_outcomes(session: Session) -> World:
    world = make_world(session, agree=False, council_pence=0)
    plans.replace_draft(session, world.version.id, plans.PlanVersionSpec(
        effective_from=date(2026, 4, 1), total_pence=5_200_000,
        funding_lines=[plans.FundingLineSpec(world.icb.id, 5_200_000, 0)],
        lines=[plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=5_050_000),
               plans.PlanLineSpec("activities", "Swimming", "recurring", annual_amount_pence=50_000)],
        contingency_pence=100_000, outcomes=["Go swimming every week", "Cook a meal for friends once a month"],
    ))  # fmt: skip
    plans.agree(session, world.version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)
    return world


def outcome_ids(session: Session, world: World) -> list[int]:
    return list(session.scalars(select(PlanOutcome.id).where(PlanOutcome.plan_version_id == world.version.id).order_by(PlanOutcome.position)))


def a_review(session: Session, world: World, **changes) -> QualityReviewSpec:  # type: ignore[no-untyped-def]
    first, second = outcome_ids(session, world)
    values = dict(
        held_on=date(2026, 7, 20), attendees=PEOPLE,
        outcomes=(OutcomeRatingSpec("achieved", first), OutcomeRatingSpec("partly", second, note="Twice, not three times")),
        working="Swimming on Tuesdays", not_working="Evening cover", to_change="Train a second worker",
        actions=(ActionSpec("Team leader", "Train a second worker for evenings", date(2026, 9, 1)),),
    )
    values.update(changes)
    return QualityReviewSpec(**values)  # type: ignore[arg-type]


def test_a_review_is_recorded_and_answers_the_quarter_in_the_reviews_due_list(db: Database) -> None:
    with db.write() as session:
        world = world_with_outcomes(session)
        due_before = [r for r in reviews_due(session, as_of=TODAY, budget_id=world.budget.id) if r.kind == "quarterly_quality"]
        view = record_quality_review(session, world.budget.id, "2026Q1", a_review(session, world), recorded_by="Sam Reed", today=TODAY)
        due_after = [r for r in reviews_due(session, as_of=TODAY, budget_id=world.budget.id) if r.kind == "quarterly_quality"]
    assert view.review.revision == 1 and view.review.budget_review_id is not None
    assert [o.rating for o in view.outcomes] == ["achieved", "partly"]
    assert [a.name for a in view.attendees] == ["Alex Smith", "Jo Smith", "Sam Reed"]
    assert any(r.quarter == parse_quarter("2026Q1") for r in due_before)
    assert not any(r.quarter == parse_quarter("2026Q1") for r in due_after)


def test_actions_left_open_are_carried_to_the_next_review(db: Database) -> None:
    with db.write() as session:
        world = world_with_outcomes(session)
        first = record_quality_review(session, world.budget.id, "2026Q1", a_review(session, world), recorded_by="Sam", today=TODAY)
        (open_action,) = open_actions_before(session, world.budget.id, parse_quarter("2026Q2"))
        assert open_action.id == first.actions[0].id
        # The next review does not mention it: it is carried unchanged, not lost.
        second = record_quality_review(session, world.budget.id, "2026Q2", a_review(session, world, held_on=date(2026, 10, 20), actions=()), recorded_by="Sam", today=TODAY)
        (carried,) = second.actions
        assert (carried.carried_from_id, carried.status, carried.what) == (open_action.id, "carried", open_action.what)
        # The one after marks it done.
        third = record_quality_review(
            session, world.budget.id, "2026Q3",
            a_review(session, world, held_on=date(2026, 11, 20), actions=(ActionSpec(carried.who, carried.what, carried.by_when, "done", carried.id),)),
            recorded_by="Sam", today=TODAY,
        )  # fmt: skip
        assert [a.status for a in third.actions] == ["done"]
        assert open_actions_before(session, world.budget.id, parse_quarter("2026Q4")) == []


def test_recording_again_keeps_the_first_revision(db: Database) -> None:
    with db.write() as session:
        world = world_with_outcomes(session)
        record_quality_review(session, world.budget.id, "2026Q1", a_review(session, world), recorded_by="Sam", today=TODAY)
        again = record_quality_review(session, world.budget.id, "2026Q1", a_review(session, world, working="Much better"), recorded_by="Sam", today=TODAY)
        first = quality_review_of(session, world.budget.id, "2026Q1", revision=1)
    assert again.review.revision == 2 and again.review.working == "Much better"
    assert first is not None and first.review.working == "Swimming on Tuesdays"
    assert again.review.budget_review_id == first.review.budget_review_id


def test_the_money_decision_needs_an_amount_and_a_reason(db: Database) -> None:
    with db.write() as session:
        world = world_with_outcomes(session)
        view = record_quality_review(
            session, world.budget.id, "2026Q1",
            a_review(session, world, money_decision="reallocate", money_decision_amount_pence=120_000, money_decision_note="A sensory lamp"),
            recorded_by="Sam", today=TODAY,
        )  # fmt: skip
    assert (view.review.money_decision, view.review.money_decision_amount_pence) == ("reallocate", 120_000)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"held_on": date(2026, 12, 1)}, "held_in_future", "held_on"),
        ({"held_on": date(2026, 3, 1)}, "date_out_of_range", "held_on"),
        ({"attendees": ()}, "attendees_missing", "attendees"),
        ({"outcomes": ()}, "outcome_not_rated", "outcomes"),
        ({"money_decision": "return"}, "amount_missing", "money_decision_amount"),
        ({"money_decision": "spend it"}, "field_not_allowed", "money_decision"),
        ({"money_decision": "keep", "money_decision_amount_pence": 5_000}, "field_required", "money_decision_note"),
        ({"actions": (ActionSpec("Sam", "Something", date(2026, 9, 1), "done"),)}, "new_action_not_open", "actions[0].status"),
        ({"actions": (ActionSpec("Sam", "Something", date(2026, 9, 1), carried_from_id=999),)}, "action_not_open", "actions[0].carried_from_id"),
    ],
)
def test_bad_reviews_are_refused_naming_the_field_and_nothing_is_kept(db: Database, changes: dict, code: str, field: str) -> None:
    with db.write() as session:
        world = world_with_outcomes(session)
        spec = a_review(session, world, **changes)
        with pytest.raises((InvalidInput, Conflict)) as refused:
            with session.begin_nested():
                record_quality_review(session, world.budget.id, "2026Q1", spec, recorded_by="Sam", today=TODAY)
        assert session.scalar(select(func.count()).select_from(QualityReview)) == 0
    assert (refused.value.code, refused.value.field) == (code, field)


def test_an_outcome_of_another_plan_is_refused(db: Database) -> None:
    with db.write() as session:
        world = world_with_outcomes(session)
        first, second = outcome_ids(session, world)
        spec = a_review(session, world, outcomes=(OutcomeRatingSpec("achieved", first), OutcomeRatingSpec("partly", second), OutcomeRatingSpec("partly", 99_999)))
        with pytest.raises(InvalidInput) as refused:
            record_quality_review(session, world.budget.id, "2026Q1", spec, recorded_by="Sam", today=TODAY)
    assert refused.value.code == "outcome_not_in_plan"


def test_a_quarter_outside_the_plan_is_refused(db: Database) -> None:
    with db.write() as session:
        world = world_with_outcomes(session)
        with pytest.raises(InvalidInput) as refused:
            record_quality_review(session, world.budget.id, "2025Q4", a_review(session, world), recorded_by="Sam", today=TODAY)
    assert refused.value.code == "quarter_outside_plan"
