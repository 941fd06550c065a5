"""Reviews due on both databases: the shipped defaults per funding stream, a changed
interval, significant changes, requests answered by a held review, quarterly reviews held
once, and a whole ICB's 2,500 budgets in a handful of queries."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime

import pytest
from sqlalchemy import event, insert, select
from typer.testing import CliRunner

from ledger.budgets import budget as budgets
from ledger.budgets import parties, plans
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.reviews.due import ReviewKind, ReviewStatus
from ledger.reviews.plan_reviews import (
    log_reviews_due,
    record_review_held,
    request_review,
    review_interval,
    review_intervals,
    review_requests,
    reviews_due,
    reviews_held,
    set_review_interval,
)
from ledger.store.database import Database
from ledger.store.tables import Budget, BudgetPart, SupportPlanVersion, utcnow
from ledger.store.tables.reviews import BudgetReview, ReviewRequest
from tests.support.builders import PLAN_END, PLAN_START, World, make_budget, make_person, make_plan, make_world
from tests.support.review_intervals import reset_review_intervals
from web.cli import app


@pytest.fixture
def world(db: Database) -> World:
    reset_review_intervals(db)
    with db.write() as session:
        return make_world(session)


def council_led_budget(db: Database, world: World, reference: str = "DP-0002") -> int:
    """A council-led budget with a direct payment only (no quarterly quality reviews)."""
    with db.write() as session:
        person = make_person(session, "Robin Green")
        budget = make_budget(
            session, world.holder, person, world.council, reference=reference,
            parts=(budgets.PartSpec("direct_payment", "prepaid_card"),),
        )  # fmt: skip
        make_plan(session, budget, [(world.council, 2_000_000, 0)], total_pence=2_000_000)
        return budget.id


def revise(db: Database, world: World, total_pence: int, agreed_at: datetime = datetime(2026, 9, 1, 10, 0)) -> None:
    with db.write() as session:
        budget = session.get(Budget, world.budget.id)
        draft = make_plan(
            session, budget, [(world.icb, total_pence - 2_000_000, 0), (world.council, 2_000_000, 0)],
            total_pence=total_pence, agree=False, effective_from=date(2026, 9, 1),
        )  # fmt: skip
        plans.agree(session, draft.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=agreed_at)


def due(db: Database, as_of: date, **kwargs):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return reviews_due(session, as_of=as_of, **kwargs)


def kinds(items) -> list[tuple[str, str, date, str]]:  # type: ignore[no-untyped-def]
    return [(item.reference, item.kind.value, item.due_on, item.status.value) for item in items]


def test_the_shipped_defaults_are_seeded_with_their_sources(db: Database, backend: str) -> None:
    if backend == "postgresql":
        reset_review_intervals(db)  # the PostgreSQL test database is reused: another test may have changed them
    with db.read() as session:
        rows = {r.funder_kind: (r.first_after_months, r.then_every_months, r.significant_change_days, r.significant_change_basis_points)
                for r in review_intervals(session)}  # fmt: skip
    assert rows == {
        "icb": (3, 12, 28, 1000),
        "council_adult_social_care": (6, 12, 28, 1000),
        "council_children_education": (6, 12, 28, 1000),
    }


def test_an_icb_led_and_a_council_led_budget_get_their_own_defaults(db: Database, world: World) -> None:
    council_led = council_led_budget(db, world)
    items = due(db, date(2026, 7, 2))
    assert kinds(items) == [("ISF-0001", "plan", date(2026, 7, 1), "overdue"), ("ISF-0001", "quarterly_quality", date(2026, 7, 31), "due")]
    later = due(db, date(2026, 7, 2), budget_id=council_led, include_upcoming_days=100)
    assert kinds(later) == [("DP-0002", "plan", date(2026, 10, 1), "due")]
    assert "6 months after the plan started on 1 April 2026" in later[0].reason


def test_a_changed_interval_takes_effect(db: Database, world: World) -> None:
    with db.write() as session:
        set_review_interval(session, "icb", first_after_months=2, then_every_months=6, updated_by="ICB PHB lead")
    with db.read() as session:
        interval = review_interval(session, "icb")
        assert (interval.first_after_months, interval.then_every_months, interval.significant_change_days) == (2, 6, 28)
    assert kinds(due(db, date(2026, 5, 15))) == [("ISF-0001", "plan", date(2026, 6, 1), "due")]
    with db.write() as session:
        record_review_held(session, world.budget.id, kind="plan", held_on=date(2026, 6, 1), recorded_by="Pat Jones", note=None)
    assert [i.due_on for i in due(db, date(2026, 11, 20)) if i.kind is ReviewKind.PLAN] == [date(2026, 12, 1)]


def test_bad_intervals_are_refused(db: Database) -> None:
    with db.write() as session:
        with pytest.raises(InvalidInput) as error:
            set_review_interval(session, "icb", first_after_months=0, then_every_months=12, updated_by="x")
        assert error.value.field == "first_after_months"
        with pytest.raises(NotFound):
            set_review_interval(session, "parish", first_after_months=3, then_every_months=12, updated_by="x")
        with pytest.raises(InvalidInput):
            set_review_interval(session, "icb", first_after_months=3, then_every_months=12, updated_by="  ")


def test_a_revision_of_twelve_percent_triggers_a_significant_change_review(db: Database, world: World) -> None:
    revise(db, world, 5_824_000)  # +12%
    (change,) = [i for i in due(db, date(2026, 9, 2)) if i.kind is ReviewKind.SIGNIFICANT_CHANGE]
    assert (change.due_on, change.status, change.plan_version) == (date(2026, 9, 29), ReviewStatus.DUE, 2)
    assert "(+12.0%)" in change.reason
    with db.write() as session:
        held = record_review_held(session, world.budget.id, kind="significant_change", held_on=date(2026, 9, 20), recorded_by="Pat", note="Agreed")
        assert held.due_on == date(2026, 9, 29)
    assert not [i for i in due(db, date(2026, 10, 2)) if i.kind is ReviewKind.SIGNIFICANT_CHANGE]


def test_a_revision_of_five_percent_does_not(db: Database, world: World) -> None:
    revise(db, world, 5_460_000)  # +5%
    assert not [i for i in due(db, date(2026, 9, 2), include_upcoming_days=200) if i.kind is ReviewKind.SIGNIFICANT_CHANGE]


def test_a_request_is_answered_by_a_held_review(db: Database, world: World) -> None:
    with db.write() as session:
        request = request_review(session, world.budget.id, asked_by="Sam Smith (mum)", reason="More PA hours", asked_on=date(2026, 5, 1))
    requested = [i for i in due(db, date(2026, 5, 10)) if i.kind is ReviewKind.REQUESTED]
    assert [(i.due_on, i.request_id) for i in requested] == [(date(2026, 5, 29), request.id)]
    with db.write() as session:
        held = record_review_held(session, world.budget.id, kind="plan", held_on=date(2026, 5, 20), recorded_by="Pat", note="Hours up")
    assert held.due_on == date(2026, 7, 1)  # the plan review it answered
    with db.read() as session:
        (answered,) = review_requests(session, world.budget.id)
        assert answered.answered_review_id == held.id
        assert [r.id for r in reviews_held(session, world.budget.id)] == [held.id]
    assert not [i for i in due(db, date(2026, 6, 1)) if i.kind is ReviewKind.REQUESTED]
    # The plan review answered early: the next falls 12 months after it, beyond the period.
    assert not [i for i in due(db, date(2026, 7, 2)) if i.kind is ReviewKind.PLAN]
    # As at a day before it was answered, the request still shows.
    assert [i.kind for i in due(db, date(2026, 5, 19)) if i.kind is ReviewKind.REQUESTED] == [ReviewKind.REQUESTED]


def test_a_requested_review_needs_an_open_request(db: Database, world: World) -> None:
    with db.write() as session:
        with pytest.raises(Conflict) as error:
            record_review_held(session, world.budget.id, kind="requested", held_on=date(2026, 5, 20), recorded_by="Pat", note=None)
    assert error.value.code == "no_open_request"
    with db.write() as session:
        request_review(session, world.budget.id, asked_by="Alex", reason="Change my swimming day", asked_on=date(2026, 6, 1))
        review = record_review_held(session, world.budget.id, kind="requested", held_on=date(2026, 6, 10), recorded_by="Pat", note=None)
        assert review.due_on == date(2026, 6, 29)
        assert review_requests(session, world.budget.id)[0].answered_review_id == review.id


def test_a_quarterly_review_answers_one_quarter_once(db: Database, world: World) -> None:
    with db.write() as session:
        first = record_review_held(session, world.budget.id, kind="quarterly_quality", held_on=date(2026, 7, 10), recorded_by="Pat", note=None)
        assert first.due_on == date(2026, 7, 31)
    with db.write() as session:
        with pytest.raises(Conflict) as error:
            record_review_held(session, world.budget.id, kind="quarterly_quality", held_on=date(2026, 7, 12), recorded_by="Pat", note=None,
                               due_on=date(2026, 7, 31))  # fmt: skip
        assert error.value.code == "review_already_held"
    with db.write() as session:
        with pytest.raises(InvalidInput) as error:
            record_review_held(session, world.budget.id, kind="quarterly_quality", held_on=date(2026, 7, 12), recorded_by="Pat", note=None,
                               due_on=date(2026, 8, 15))  # fmt: skip
        assert error.value.code == "review_not_due"
    with db.write() as session:
        # A second review in July with no date answers the next quarter begun: Q2.
        second = record_review_held(session, world.budget.id, kind="quarterly_quality", held_on=date(2026, 7, 20), recorded_by="Pat", note=None)
        assert second.due_on == date(2026, 10, 31)
    assert [i.due_on for i in due(db, date(2027, 1, 10)) if i.kind is ReviewKind.QUARTERLY_QUALITY] == [date(2027, 1, 31)]


def test_quarterly_reviews_are_for_isf_budgets_only(db: Database, world: World) -> None:
    council_led = council_led_budget(db, world)
    with db.write() as session:
        with pytest.raises(InvalidInput) as error:
            record_review_held(session, council_led, kind="quarterly_quality", held_on=date(2026, 7, 10), recorded_by="Pat", note=None)
    assert error.value.code == "no_third_party_part"


def test_bad_held_reviews_change_nothing(db: Database, world: World) -> None:
    with db.write() as session:
        unagreed = make_budget(session, world.holder, make_person(session, "Kit"), world.icb, reference="ISF-0009")
        make_plan(session, unagreed, [(world.icb, 1_000_000, 0)], total_pence=1_000_000, agree=False)
        unagreed_id = unagreed.id
    cases = [
        (dict(budget_id=unagreed_id, kind="plan", held_on=date(2026, 6, 1)), "plan_not_agreed"),
        (dict(budget_id=world.budget.id, kind="annual", held_on=date(2026, 6, 1)), "field_not_allowed"),
        (dict(budget_id=world.budget.id, kind="plan", held_on=date(2026, 12, 1), today=date(2026, 11, 24)), "held_in_future"),
        (dict(budget_id=world.budget.id, kind="plan", held_on=date(2025, 12, 1)), "date_out_of_range"),
    ]
    for arguments, code in cases:
        budget_id = arguments.pop("budget_id")
        with db.write() as session:
            with pytest.raises((InvalidInput, Conflict)) as error:
                record_review_held(session, budget_id, recorded_by="Pat", note=None, **arguments)
        assert error.value.code == code
    with db.read() as session:
        assert session.execute(select(BudgetReview.id)).first() is None
    with db.write() as session:
        with pytest.raises(InvalidInput) as error:
            request_review(session, world.budget.id, asked_by="Sam", reason="", asked_on=date(2026, 5, 1))
        assert error.value.field == "reason"


def test_scopes_by_holder_and_funder(db: Database, world: World) -> None:
    council_led_budget(db, world)
    as_of, ahead = date(2026, 7, 2), 100
    everything = {i.reference for i in due(db, as_of, include_upcoming_days=ahead)}
    assert everything == {"ISF-0001", "DP-0002"}
    assert {i.reference for i in due(db, as_of, include_upcoming_days=ahead, funder_id=world.icb.id)} == {"ISF-0001"}
    # The council leads DP-0002 and pays part of ISF-0001.
    assert {i.reference for i in due(db, as_of, include_upcoming_days=ahead, funder_id=world.council.id)} == everything
    with db.write() as session:
        other = parties.create_holder(session, parties.HolderSpec("other", "Other", "isf_provider"))
    assert due(db, as_of, holder_id=other.id) == []
    assert {i.reference for i in due(db, as_of, holder_id=world.holder.id, include_upcoming_days=ahead)} == everything


def test_log_reviews_due_counts_per_holder(db: Database, world: World, caplog: pytest.LogCaptureFixture) -> None:
    council_led_budget(db, world)
    with db.read() as session, caplog.at_level(logging.INFO, logger="ledger.reviews.plan_reviews"):
        summary = log_reviews_due(session, date(2026, 10, 2))
    # ISF-0001: plan (1 July) and Q2's review... Q1 (31 July) overdue, Q2 (31 Oct) due; DP-0002: plan (1 Oct) overdue.
    assert (summary.overdue, summary.due) == (3, 1)
    assert [(c.holder_code, c.overdue, c.due) for c in summary.holders] == [("sunrise", 3, 1)]
    assert "Reviews as at 2026-10-02: 3 overdue" in caplog.text and "sunrise: 3 overdue, 1 due" in caplog.text


def test_a_closed_budget_after_its_end_has_nothing_due(db: Database, world: World) -> None:
    with db.write() as session:
        session.get(Budget, world.budget.id).status = "closed"
    assert due(db, date(2027, 4, 2)) == []
    assert due(db, date(2026, 7, 2))  # before its end, what was due then still shows


def test_two_thousand_five_hundred_budgets_in_a_handful_of_queries(db: Database, world: World) -> None:
    with db.write() as session:
        now = utcnow()
        rows = [
            {"reference": f"ISF-{n:05d}", "holder_id": world.holder.id, "person_id": world.person.id, "lead_funder_id": world.icb.id,
             "period_start": PLAN_START, "period_end": PLAN_END, "status": "open", "created_at": now}
            for n in range(2, 2502)
        ]  # fmt: skip
        session.execute(insert(Budget), rows)
        ids = list(session.execute(select(Budget.id).where(Budget.reference != "ISF-0001")).scalars())
        session.execute(
            insert(BudgetPart),
            [{"budget_id": b, "management_option": "third_party", "holding": "prepaid_card", "cadence": "weekly", "timing": "in_advance",
              "initial_float_weeks": 0} for b in ids],
        )  # fmt: skip
        session.execute(
            insert(SupportPlanVersion),
            [{"budget_id": b, "version": 1, "status": "agreed", "effective_from": PLAN_START, "total_pence": 5_200_000, "contingency_pence": 0,
              "top_slice_pence": 0, "created_at": now, "agreed_at": datetime(2026, 3, 20, 10, 0), "agreed_by_name": "Jo",
              "agreed_by_role": "ICB"} for b in ids],
        )  # fmt: skip
        session.execute(
            insert(BudgetReview),
            [{"budget_id": b, "kind": "quarterly_quality", "due_on": date(2026, 7, 31), "held_on": date(2026, 7, 10), "recorded_by": "Pat",
              "recorded_at": now} for b in ids[::2]],
        )  # fmt: skip
        session.execute(
            insert(ReviewRequest),
            [{"budget_id": b, "asked_by": "Sam", "asked_on": date(2026, 9, 20), "reason": "More hours", "recorded_at": now, "recorded_by": "Sam (sam@test)"} for b in ids[::5]],
        )  # fmt: skip
    statements: list[str] = []

    def count(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with db.read() as session:
        engine = session.get_bind().engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = reviews_due(session, as_of=date(2026, 10, 2), funder_id=world.icb.id)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len({i.reference for i in found}) == 2501
    overdue_q1 = [i for i in found if i.kind is ReviewKind.QUARTERLY_QUALITY and i.due_on == date(2026, 7, 31)]
    assert len(overdue_q1) == 2501 - 1250
    assert len([i for i in found if i.kind is ReviewKind.REQUESTED]) == 500
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 8


def test_nothing_is_due_as_at_a_date_outside_the_range(db: Database, world: World) -> None:
    with db.read() as session:
        with pytest.raises(InvalidInput):
            reviews_due(session, as_of=date(1, 1, 1))
        with pytest.raises(InvalidInput):
            reviews_due(session, as_of=date(2026, 1, 1), include_upcoming_days=-1)
    assert due(db, date(2026, 1, 1)) == []  # before the plan was agreed


# --- the command line -----------------------------------------------------------------------

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_due_held_and_request_round_trip(db: Database, world: World) -> None:
    code, out, _ = cli("reviews", "due", "--db", db.url, "--as-of", "2026-07-02", "--json")
    assert code == 0
    assert [(i["kind"], i["due_on"], i["status"]) for i in json.loads(out)] == [
        ("plan", "2026-07-01", "overdue"),
        ("quarterly_quality", "2026-07-31", "due"),
    ]
    code, out, _ = cli("reviews", "due", "--db", db.url, "--as-of", "2026-07-02", "--overdue", "--funder", "icb-devon")
    assert code == 0 and "ISF-0001" in out and "overdue" in out and "quarterly" not in out
    asking = ("--by", "Sam Smith", "--reason", "More hours", "--on", "2026-06-20", "--json")
    code, out, _ = cli("reviews", "request", "ISF-0001", "--db", db.url, *asking)
    assert code == 0 and json.loads(out)["asked_on"] == "2026-06-20"
    holding = ("--kind", "plan", "--on", "2026-07-03", "--by", "Pat", "--note", "Fine", "--json")
    code, out, _ = cli("reviews", "held", "ISF-0001", "--db", db.url, *holding)
    assert code == 0
    held = json.loads(out)
    assert (held["due_on"], len(held["answered_request_ids"])) == ("2026-07-01", 1)
    code, out, _ = cli("reviews", "held", "ISF-0001", "--db", db.url, "--kind", "quarterly_quality", "--on", "2026-07-10", "--by", "Pat")
    assert code == 0 and "answering the review due on 2026-07-31" in out
    code, out, _ = cli("reviews", "due", "--db", db.url, "--as-of", "2026-07-11", "--holder", "sunrise")
    assert code == 0 and "No reviews overdue or due" in out
    code, _, err = cli("reviews", "held", "ISF-0001", "--db", db.url, "--kind", "annual", "--on", "2026-07-03", "--by", "Pat")
    assert code == 1 and "kind must be one of" in err
    code, _, err = cli("reviews", "due", "--db", db.url, "--as-of", "July")
    assert code == 1 and "--as-of must be a date" in err
