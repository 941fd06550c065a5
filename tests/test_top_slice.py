"""The top-slice, taken monthly in advance: the pure month rules (with a property test against
an independent oracle) and the run on both databases — each month exactly once, revisions
absorbed by the months left, closed quarters held — plus contingency ring-fenced on the same
schedule."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledger.budgets import plans
from ledger.core import balances, periods
from ledger.core.verify import verify
from ledger.errors import InvalidInput
from ledger.set_asides.top_slice import (
    MonthStatus,
    VersionFigure,
    due_contingency_ring_fences,
    monthly_top_slices,
    months_of,
    take_due_top_slices,
    top_slice_schedule,
)
from ledger.store.database import Database
from ledger.store.tables import Budget, JournalEntry
from ledger.store.tables.budget_money import TopSliceTaken
from tests.support.builders import PLAN_END, PLAN_START, TODAY, World, make_world
from web.cli import app

TOP_SLICE = 416_000  # £4,160: 8% of £52,000
LATER = date(2027, 6, 1)  # a "today" past the whole plan period


# --- pure rules ----------------------------------------------------------------------------


def test_a_plan_year_has_twelve_equal_months_that_sum_to_the_top_slice() -> None:
    months = monthly_top_slices(PLAN_START, PLAN_END, [VersionFigure(1, PLAN_START, TOP_SLICE)], {})
    assert [m.month.starts_on for m in months] == [date(2026 + (3 + k) // 12, (3 + k) % 12 + 1, 1) for k in range(12)]
    assert [m.amount_pence for m in months] == [34_667] * 8 + [34_666] * 4
    assert sum(m.amount_pence for m in months) == TOP_SLICE


def test_months_keep_the_day_and_the_last_one_can_be_short() -> None:
    months = months_of(date(2028, 1, 31), date(2028, 5, 9))
    assert [(m.starts_on, m.ends_on) for m in months] == [
        (date(2028, 1, 31), date(2028, 2, 28)),
        (date(2028, 2, 29), date(2028, 3, 30)),  # a leap year: 29 February
        (date(2028, 3, 31), date(2028, 4, 29)),
        (date(2028, 4, 30), date(2028, 5, 9)),
    ]
    assert [m.weight for m in months][:3] == [10_000] * 3 and 0 < months[-1].weight < 10_000


def test_a_revision_spreads_the_new_figure_over_the_months_left() -> None:
    versions = [VersionFigure(1, PLAN_START, 120_000), VersionFigure(2, date(2026, 10, 1), 60_000)]
    taken = {date(2026, 4 + k, 1): 10_000 for k in range(6)}  # April to September: £600 taken
    months = monthly_top_slices(PLAN_START, PLAN_END, versions, taken)
    assert [m.amount_pence for m in months[6:]] == [0] * 6  # the new figure is already met
    lowered = monthly_top_slices(PLAN_START, PLAN_END, [versions[0], VersionFigure(2, date(2026, 10, 1), 45_000)], taken)
    assert [m.amount_pence for m in lowered[6:]] == [-15_000, 0, 0, 0, 0, 0]  # the excess comes back at once
    raised = monthly_top_slices(PLAN_START, PLAN_END, [versions[0], VersionFigure(2, date(2026, 10, 1), 180_000)], taken)
    assert [m.amount_pence for m in raised[6:]] == [20_000] * 6


@st.composite
def plan_periods(draw: st.DrawFn) -> tuple[date, date]:
    start = draw(st.dates(min_value=date(2023, 1, 1), max_value=date(2030, 12, 31)))
    return start, start + timedelta(days=draw(st.integers(min_value=27, max_value=3 * 366)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[date, date, list[VersionFigure], list[int], list[date]]:
    start, end = draw(plan_periods())
    figure = st.integers(min_value=0, max_value=5_000_000)
    first_effective = start + timedelta(days=draw(st.integers(min_value=0, max_value=20)))
    first_effective = min(first_effective, end)
    effective = sorted(draw(st.lists(st.dates(min_value=first_effective, max_value=end), max_size=4)))
    versions = [VersionFigure(1, first_effective, draw(figure))]
    versions += [VersionFigure(n, day, draw(figure)) for n, day in enumerate(effective, 2)]
    last_start = months_of(start, end)[-1].starts_on
    runs = sorted(draw(st.lists(st.dates(min_value=start, max_value=last_start - timedelta(days=1)), max_size=8))) if last_start > start else []
    # The run at which each version becomes known (agreed): earlier runs do not see it.
    known_from = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(runs)), min_size=len(versions), max_size=len(versions))))
    known_from[0] = 0
    return start, end, versions, known_from, runs + [end + timedelta(days=1)]


def oracle_final_figure(start: date, end: date, versions: list[VersionFigure]) -> int:
    """The figure of the version in force when the last month begins (the first version if it
    takes effect within the only months there are): worked out without the schedule code."""
    last = months_of(start, end)[-1]
    in_force = [v for v in versions if v.effective_from <= last.starts_on]
    if in_force:
        return max(in_force, key=lambda v: (v.effective_from, v.version_id)).top_slice_pence
    return versions[0].top_slice_pence if versions[0].effective_from <= last.ends_on else 0


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_months_sum_to_the_final_figure_and_none_is_taken_twice(scenario) -> None:  # type: ignore[no-untyped-def]
    start, end, versions, known_from, runs = scenario
    months = months_of(start, end)
    assert months[0].starts_on == start and months[-1].ends_on == end
    for earlier, later in zip(months, months[1:]):
        assert earlier.ends_on + timedelta(days=1) == later.starts_on
    taken: dict[date, int] = {}
    for run_index, as_of in enumerate(runs):
        known = [v for v, known_at in zip(versions, known_from) if known_at <= run_index]
        for month in monthly_top_slices(start, end, known, taken):
            if month.status is MonthStatus.DUE and month.month.starts_on <= as_of:
                assert month.month.starts_on not in taken, "a month taken twice"
                taken[month.month.starts_on] = month.amount_pence
    assert sum(taken.values()) == oracle_final_figure(start, end, versions)
    final = monthly_top_slices(start, end, versions, taken)
    assert all(m.status is not MonthStatus.DUE for m in final), "nothing left to take after the period"


@settings(max_examples=200, deadline=None)
@given(plan_periods(), st.integers(min_value=0, max_value=5_000_000))
def test_property_one_version_splits_by_weight_within_a_penny(period: tuple[date, date], figure: int) -> None:
    start, end = period
    months = monthly_top_slices(start, end, [VersionFigure(1, start, figure)], {})
    total_weight = sum(m.month.weight for m in months)
    assert sum(m.amount_pence for m in months) == figure
    for month in months:
        assert abs(month.amount_pence * total_weight - figure * month.month.weight) < total_weight


# --- the run, on both databases ------------------------------------------------------------


def plan_with_top_slice(  # type: ignore[no-untyped-def]
    session, world: World, *, top_slice: int, effective_from: date = PLAN_START, agreed_at: datetime | None = None
):
    total, contingency = 5_200_000, 100_000
    version = plans.create_draft(
        session,
        world.budget.id,
        plans.PlanVersionSpec(
            effective_from=effective_from,
            total_pence=total,
            funding_lines=[plans.FundingLineSpec(world.icb.id, 3_200_000), plans.FundingLineSpec(world.council.id, 2_000_000)],
            lines=[plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=total - contingency - top_slice)],
            contingency_pence=contingency,
            top_slice_fixed_pence=top_slice,
        ),
    )
    plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager",
                agreed_at=agreed_at or datetime(2026, 3, 20, 10))  # fmt: skip
    return version


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        world = make_world(session, agree=False)
        plans.withdraw_draft(session, world.version.id)
        plan_with_top_slice(session, world, top_slice=TOP_SLICE)
        return world


def run(db: Database, as_of: date, **kwargs):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return take_due_top_slices(session, as_of, today=LATER, **kwargs)


def account(db: Database, world: World, suffix: str) -> int:
    with db.read() as session:
        account_id = world.account_id(session, suffix)
        return balances.signed_sums(session, [account_id]).get(account_id, 0)


def test_a_run_takes_each_month_due_on_its_first_day_once(db: Database, world: World) -> None:
    first = run(db, date(2026, 6, 15))
    assert [(m.month_starts_on, m.amount_pence) for m in first.posted] == [
        (date(2026, 4, 1), 34_667), (date(2026, 5, 1), 34_667), (date(2026, 6, 1), 34_667),
    ]  # fmt: skip
    assert run(db, date(2026, 6, 30)).posted == []
    assert [m.month_starts_on for m in run(db, date(2026, 7, 1)).posted] == [date(2026, 7, 1)]
    with db.read() as session:
        entries = session.execute(select(JournalEntry).where(JournalEntry.kind == "top_slice").order_by(JournalEntry.seq)).scalars().all()
        assert [e.entry_date for e in entries] == [date(2026, m, 1) for m in (4, 5, 6, 7)]
        assert entries[0].idempotency_key == f"top-slice:budget-{world.budget.id}:2026-04-01"
        assert verify(session) == []
    assert account(db, world, "top_slice") == 4 * 34_667
    assert account(db, world, "cash") == -4 * 34_667


def test_a_whole_year_takes_the_top_slice_to_the_penny_and_then_nothing(db: Database, world: World) -> None:
    assert run(db, date(2027, 4, 30)).total_pence == TOP_SLICE
    assert run(db, date(2027, 5, 30)).posted == []
    assert account(db, world, "top_slice") == TOP_SLICE
    with db.read() as session:
        schedule = top_slice_schedule(session, world.budget.id)
        assert [m.status for m in schedule] == [MonthStatus.TAKEN] * 12


def test_a_revision_changes_the_months_left_so_the_year_sums_to_the_new_figure(db: Database, world: World) -> None:
    run(db, date(2026, 9, 30))  # April to September taken under the first version
    with db.write() as session:
        plan_with_top_slice(session, world, top_slice=500_000, effective_from=date(2026, 10, 1), agreed_at=datetime(2026, 10, 10))
    result = run(db, date(2027, 3, 31))
    assert len(result.posted) == 6
    assert account(db, world, "top_slice") == 500_000
    with db.read() as session:
        assert verify(session) == []


def test_a_revision_below_what_was_taken_returns_the_excess_once(db: Database, world: World) -> None:
    run(db, date(2026, 11, 1))  # eight months: £2,773.36
    with db.write() as session:
        plan_with_top_slice(session, world, top_slice=200_000, effective_from=date(2026, 11, 15), agreed_at=datetime(2026, 11, 16))
    result = run(db, date(2027, 3, 31))
    assert [(m.month_starts_on, m.amount_pence) for m in result.posted] == [(date(2026, 12, 1), 200_000 - 8 * 34_667)]
    assert account(db, world, "top_slice") == 200_000
    with db.read() as session:
        kinds = session.execute(select(JournalEntry.kind).where(JournalEntry.entry_date == date(2026, 12, 1))).scalars().all()
        assert kinds == ["top_slice_return"]
        assert verify(session) == []


def test_a_month_in_a_closed_quarter_is_held_and_closed_budgets_are_skipped(db: Database, world: World) -> None:
    with db.write() as session:
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="Finance", today=TODAY)
    result = run(db, date(2026, 7, 1))
    assert [m.month_starts_on for m in result.posted] == [date(2026, 7, 1)]
    assert [h.month_starts_on for h in result.held] == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    with db.write() as session:
        session.get(Budget, world.budget.id).status = "closed"
    assert run(db, date(2026, 8, 1)).budgets_checked == 0


def test_a_run_in_the_future_is_refused(db: Database, world: World) -> None:
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        take_due_top_slices(session, date(2026, 12, 1), today=TODAY)
    assert refused.value.code == "as_of_in_future"


def test_two_racing_runs_take_each_month_once(db: Database, world: World) -> None:
    start_together = threading.Barrier(2, timeout=60)

    def attempt(_: int) -> int:
        start_together.wait()
        return len(run(db, date(2027, 3, 31), created_by="racer").posted)

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sorted(pool.map(attempt, range(2))) == [0, 12]
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(TopSliceTaken)).scalar_one() == 12
        assert verify(session) == []


def test_contingency_is_ring_fenced_on_the_same_schedule(db: Database, world: World) -> None:
    with db.write() as session:
        before_start = due_contingency_ring_fences(session, date(2026, 3, 31))
        first = due_contingency_ring_fences(session, date(2026, 4, 1))
        again = due_contingency_ring_fences(session, date(2026, 4, 8))
    assert before_start.budgets_checked == 0
    assert [(r.budget_reference, r.change_pence) for r in first.posted] == [("ISF-0001", 100_000)]
    assert again.posted == [] and again.budgets_checked == 1
    assert account(db, world, "contingency") == 100_000


def test_the_cli_runs_and_shows_the_top_slice(db: Database, world: World) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["top-slice", "run", "--as-of", "2026-05-01", "--db", db.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["posted"] == 2 and json.loads(result.stdout)["total"] == "693.34"
    again = runner.invoke(app, ["top-slice", "run", "--as-of", "2026-05-01", "--db", db.url, "--json"])
    assert json.loads(again.stdout)["posted"] == 0
    shown = json.loads(runner.invoke(app, ["top-slice", "show", "ISF-0001", "--db", db.url, "--json"]).stdout)
    assert [m["status"] for m in shown[:3]] == ["taken", "taken", "due"]
    fenced = runner.invoke(app, ["contingency", "ring-fence", "--as-of", "2026-04-01", "--db", db.url, "--json"])
    assert json.loads(fenced.stdout)["posted"] == 1


def test_a_ring_fence_due_in_a_closed_quarter_is_dated_on_the_run_day_or_held(db: Database, world: World) -> None:
    with db.write() as session:
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="Finance", today=TODAY)
        held = due_contingency_ring_fences(session, date(2026, 5, 1))
    assert held.posted == [] and [h.budget_reference for h in held.held] == ["ISF-0001"]
    with db.write() as session:
        later = due_contingency_ring_fences(session, date(2026, 7, 6))
        (fenced,) = later.posted
        assert session.get(JournalEntry, fenced.entry_id).entry_date == date(2026, 7, 6)
        assert verify(session) == []
