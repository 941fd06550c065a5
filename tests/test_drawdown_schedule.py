"""The drawdown schedule rules (``ledger.loads.schedule``), pure: periods, amounts, revisions,
pauses, the float, due days and clock changes.

The property tests run the schedule the way the service does — a run every few days that
posts what is due and feeds the loads made back in — while plan versions are agreed and
pauses recorded along the way, and check the result against what the rules promise: the
loads come to the net amount exactly, no period is paid twice, no gap at a revision and no
lump after a pause.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.working_days import is_working_day
from ledger.loads.schedule import (
    LoadStatus,
    LoadTime,
    PartTerms,
    Pause,
    VersionTerms,
    due_at,
    part_nets,
    periods_of,
    schedule,
)

WEEKLY_ISF = PartTerms(part_id=1)
APRIL_2026 = (date(2026, 4, 1), date(2027, 3, 31))


# --- periods -----------------------------------------------------------------------------


def test_a_year_from_a_wednesday_is_a_stub_then_mondays() -> None:
    periods = periods_of(*APRIL_2026, WEEKLY_ISF)
    assert periods[0].starts_on == date(2026, 4, 1) and periods[0].ends_on == date(2026, 4, 5)
    assert all(p.starts_on.weekday() == 0 for p in periods[1:])
    assert periods[-1].ends_on == date(2027, 3, 31)
    assert sum(p.weight for p in periods) == 365
    assert len(periods) == 53


def test_a_year_from_a_monday_has_53_loads_the_last_one_day() -> None:
    periods = periods_of(date(2024, 4, 1), date(2025, 3, 31), WEEKLY_ISF)  # 365 days from Monday 1 April 2024
    assert len(periods) == 53 and periods[-1].weight == 1


def test_a_leap_year_counts_its_extra_day() -> None:
    periods = periods_of(date(2023, 4, 1), date(2024, 3, 31), WEEKLY_ISF)
    assert sum(p.weight for p in periods) == 366


@pytest.mark.parametrize("cadence, length", [("two_weekly", 14), ("four_weekly", 28)])
def test_longer_cadences_align_to_the_load_day(cadence: str, length: int) -> None:
    periods = periods_of(*APRIL_2026, PartTerms(1, cadence=cadence))
    assert all((p.ends_on - p.starts_on).days + 1 == length for p in periods[1:-1])
    assert periods[1].starts_on == date(2026, 4, 6)


def test_loads_due_on_bank_holidays_go_the_working_day_before() -> None:
    due = {p.starts_on: p.due_on for p in periods_of(*APRIL_2026, WEEKLY_ISF)}
    assert due[date(2026, 4, 6)] == date(2026, 4, 2)  # Easter Monday, and Good Friday before it
    assert due[date(2026, 5, 4)] == date(2026, 5, 1)  # early May bank holiday
    assert due[date(2026, 12, 28)] == date(2026, 12, 24)  # Boxing Day (substitute) after Christmas Day
    assert due[date(2027, 3, 29)] == date(2027, 3, 25)  # Easter Monday 2027


def test_a_christmas_day_load_goes_on_christmas_eve() -> None:
    friday_loads = periods_of(date(2026, 12, 1), date(2027, 1, 31), WEEKLY_ISF, load_weekday=4)
    due = {p.starts_on: p.due_on for p in friday_loads}
    assert due[date(2026, 12, 25)] == date(2026, 12, 24)
    assert due[date(2027, 1, 1)] == date(2026, 12, 31)


def test_a_first_load_never_goes_before_the_plan_period() -> None:
    periods = periods_of(date(2027, 1, 1), date(2027, 12, 31), WEEKLY_ISF)  # New Year's Day, a Friday
    assert periods[0].due_on == date(2027, 1, 4)


def test_in_arrears_pays_the_next_load_day_and_the_last_on_the_final_day() -> None:
    periods = periods_of(date(2026, 4, 6), date(2027, 4, 4), PartTerms(1, timing="in_arrears"))
    assert periods[0].due_on == date(2026, 4, 13)
    assert periods[-1].due_on == date(2027, 4, 2)  # the plan ends on a Sunday: the Friday before


def test_the_float_rides_on_the_first_load_and_pays_for_the_last_weeks() -> None:
    periods = periods_of(date(2026, 4, 6), date(2027, 4, 4), PartTerms(1, initial_float_weeks=11))
    assert periods[0].weight == 7 + 77
    assert [p.weight for p in periods[-11:]] == [0] * 11
    loads = schedule(date(2026, 4, 6), date(2027, 4, 4), PartTerms(1, initial_float_weeks=11), [VersionTerms(1, date(2026, 4, 6), 52_000_00)])
    assert loads[0].amount_pence == 12 * 1_000_00
    assert {load.status for load in loads[-11:]} == {LoadStatus.COVERED_BY_FLOAT}
    assert sum(load.amount_pence for load in loads) == 52_000_00


# --- clock changes --------------------------------------------------------------------------


def test_load_time_is_local_across_clock_changes() -> None:
    six = LoadTime(at=time(6, 0))
    assert due_at(date(2026, 3, 23), six) == datetime(2026, 3, 23, 6, 0, tzinfo=UTC)  # GMT
    assert due_at(date(2026, 3, 30), six) == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)  # BST
    assert due_at(date(2026, 10, 26), six) == datetime(2026, 10, 26, 6, 0, tzinfo=UTC)


def test_a_load_time_that_does_not_exist_goes_an_hour_later() -> None:
    # 01:30 on 29 March 2026 never happens in England: 01:00 GMT becomes 02:00 BST.
    assert due_at(date(2026, 3, 29), LoadTime(6, time(1, 30))) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_load_time_that_happens_twice_is_the_first() -> None:
    # 01:30 on 25 October 2026 happens in BST and again in GMT: the first is 00:30 UTC.
    assert due_at(date(2026, 10, 25), LoadTime(6, time(1, 30))) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# --- amounts ---------------------------------------------------------------------------------


def test_part_nets_take_each_parts_share_of_the_deductions() -> None:
    nets = part_nets(
        {1: 30_000_00, 2: 10_000_00},
        top_slice_pence=2_000_00,
        contingency_pence=1_000_00,
        contribution_pence=1_000_00,
        transition_by_part={2: 500_00, None: 0},
    )
    assert nets == {1: 27_000_00, 2: 8_500_00}


def test_a_revision_changes_the_amount_from_its_first_period_without_a_gap() -> None:
    start, end = date(2026, 4, 6), date(2027, 4, 4)  # 52 whole weeks
    versions = [VersionTerms(1, start, 52_000_00), VersionTerms(2, date(2026, 10, 5), 65_000_00)]
    loads = schedule(start, end, WEEKLY_ISF, versions)
    assert [load.amount_pence for load in loads[:26]] == [1_000_00] * 26
    assert [load.amount_pence for load in loads[26:]] == [1_500_00] * 26
    assert sum(load.amount_pence for load in loads) == 65_000_00


def test_a_revision_mid_week_applies_from_the_next_week() -> None:
    start, end = date(2026, 4, 6), date(2027, 4, 4)
    loads = schedule(start, end, WEEKLY_ISF, [VersionTerms(1, start, 52_000_00), VersionTerms(2, date(2026, 10, 7), 78_000_00)])
    assert loads[26].version_id == 1 and loads[27].version_id == 2


def test_a_pause_loads_nothing_and_resumes_without_a_lump() -> None:
    start, end = date(2026, 4, 6), date(2027, 4, 4)
    pause = Pause(date(2026, 6, 1), date(2026, 6, 21))
    loads = schedule(start, end, WEEKLY_ISF, [VersionTerms(1, start, 52_000_00)], pauses=[pause])
    paused = [load for load in loads if load.status is LoadStatus.PAUSED]
    assert [load.period.starts_on for load in paused] == [date(2026, 6, 1), date(2026, 6, 8), date(2026, 6, 15)]
    assert loads[11].amount_pence == 1_000_00 and loads[11].status is LoadStatus.DUE  # 22 June: as usual
    assert sum(load.amount_pence for load in loads if load.status is not LoadStatus.PAUSED) == 49_000_00


def test_a_revision_below_what_was_loaded_loads_nothing_more() -> None:
    start, end = date(2026, 4, 6), date(2027, 4, 4)
    loads = schedule(start, end, WEEKLY_ISF, [VersionTerms(1, start, 52_000_00), VersionTerms(2, date(2026, 10, 5), 20_000_00)])
    assert sum(load.amount_pence for load in loads) == 26_000_00
    assert all(load.status is LoadStatus.NOTHING_DUE for load in loads[26:])


def test_a_load_made_at_another_amount_is_absorbed_by_the_next_ones() -> None:
    start, end = date(2026, 4, 6), date(2027, 4, 4)
    versions = [VersionTerms(1, start, 52_000_00)]
    loads = schedule(start, end, WEEKLY_ISF, versions, posted={start: 1_200_00})
    assert loads[0].status is LoadStatus.POSTED and loads[0].amount_pence == 1_200_00
    assert sum(load.amount_pence for load in loads) == 52_000_00


def test_nothing_is_due_before_a_plan_takes_effect() -> None:
    start, end = date(2026, 4, 6), date(2027, 4, 4)
    loads = schedule(start, end, WEEKLY_ISF, [VersionTerms(1, date(2026, 5, 4), 48_000_00)])
    assert all(load.status is LoadStatus.NOTHING_DUE for load in loads[:4])
    assert [load.amount_pence for load in loads[4:]] == [1_000_00] * 48


# --- properties ----------------------------------------------------------------------------

plan_periods = st.builds(
    lambda start, days: (start, start + timedelta(days=days - 1)),
    st.dates(date(2023, 1, 1), date(2031, 12, 31)),
    st.one_of(st.sampled_from([365, 366, 364, 371]), st.integers(14, 420)),
)
parts = st.builds(
    PartTerms,
    part_id=st.just(7),
    cadence=st.sampled_from(["weekly", "two_weekly", "four_weekly"]),
    timing=st.sampled_from(["in_advance", "in_arrears"]),
    initial_float_weeks=st.integers(0, 12) | st.just(0),
)


@st.composite
def scenarios(draw: st.DrawFn, *, rising: bool) -> dict:  # type: ignore[type-arg]
    start, end = draw(plan_periods)
    days = (end - start).days
    count = draw(st.integers(1, 4))
    offsets = sorted(draw(st.lists(st.integers(0, days), min_size=count, max_size=count)))
    if draw(st.booleans()):
        offsets[0] = 0
    nets = draw(st.lists(st.integers(0, 20_000_000), min_size=count, max_size=count))
    if rising:
        nets = sorted(nets)
    versions = []
    for number, (offset, net) in enumerate(zip(offsets, nets), 1):
        effective = start + timedelta(days=offset)
        # Rising scenarios agree each version ten days before it takes effect (a load due on
        # the Friday before a bank-holiday Monday must know of it); the others may agree late.
        # Versions are agreed in their order (a budget has one draft at a time).
        agreed_on = effective - timedelta(days=10) if rising else effective + timedelta(days=draw(st.integers(0, 60)))
        if versions:
            agreed_on = max(agreed_on, versions[-1][0])
        versions.append((agreed_on, VersionTerms(number, effective, net)))
    pauses = []
    for _ in range(draw(st.integers(0, 2))):
        first = start + timedelta(days=draw(st.integers(0, days)))
        length = draw(st.integers(0, 60))
        pauses.append(Pause(first, first + timedelta(days=length)))
    return {
        "start": start,
        "end": end,
        "part": draw(parts),
        "versions": versions,
        "pauses": pauses,
        "weekday": draw(st.integers(0, 6)),
        "run_every": draw(st.integers(1, 40)),
    }


def _run_service_like(scenario: dict) -> tuple[dict[date, int], list]:  # type: ignore[type-arg]
    """Runs every ``run_every`` days to after the plan ends: each posts the due loads and
    feeds them back as made. Returns the loads made and the final schedule."""
    posted: dict[date, int] = {}
    day = scenario["start"]
    final_day = scenario["end"] + timedelta(days=61)
    while True:
        known = [terms for agreed_on, terms in scenario["versions"] if agreed_on <= day]
        loads = schedule(scenario["start"], scenario["end"], scenario["part"], known,
                         load_weekday=scenario["weekday"], pauses=scenario["pauses"], posted=posted)  # fmt: skip
        for load in loads:
            if load.status is LoadStatus.DUE and load.period.due_on <= day:
                assert load.period.starts_on not in posted, "a period paid twice"
                posted[load.period.starts_on] = load.amount_pence
        if day >= final_day:
            break
        day = min(day + timedelta(days=scenario["run_every"]), final_day)
    final = schedule(scenario["start"], scenario["end"], scenario["part"], [v for _, v in scenario["versions"]],
                     load_weekday=scenario["weekday"], pauses=scenario["pauses"], posted=posted)  # fmt: skip
    return posted, final


def _final_net(scenario: dict, loads: list) -> int:  # type: ignore[type-arg]
    """The net amount of the version that pays the last period: the latest to take effect on
    or before the last period's first day (a version taking effect later pays no period)."""
    last_start = loads[-1].period.starts_on
    ordered = sorted((terms for _, terms in scenario["versions"]), key=lambda v: (v.effective_from, v.version_id))
    in_force = [v for v in ordered if v.effective_from <= last_start] or ordered[:1]
    return in_force[-1].net_pence


def _withheld(loads: list) -> int:  # type: ignore[type-arg]
    return sum(load.amount_pence for load in loads if load.status is LoadStatus.PAUSED)


@settings(max_examples=300, deadline=None)
@given(scenarios(rising=True))
def test_loads_come_to_the_net_amount_exactly_with_no_gap_or_lump(scenario: dict) -> None:  # type: ignore[type-arg]
    posted, loads = _run_service_like(scenario)
    final_net = _final_net(scenario, loads)
    assert all(load.status is not LoadStatus.DUE for load in loads), "a load was left unposted"
    assert sum(posted.values()) + _withheld(loads) == final_net
    # No gap: once a plan is in force, every period that pays for days is loaded (or paused),
    # as long as the money is at least a penny a day.
    if final_net >= (scenario["end"] - scenario["start"]).days + 1 and all(v.net_pence >= 400 * 400 for _, v in scenario["versions"]):
        started = False
        for load in loads:
            started = started or load.version_id is not None
            if started and load.period.weight > 0:
                assert load.status in (LoadStatus.POSTED, LoadStatus.PAUSED), load
    # No lump: under one version, periods of equal weight load within a penny of each other.
    by_version_weight: dict[tuple[int | None, int], list[int]] = {}
    for load in loads:
        if load.period.weight > 0 and load.amount_pence > 0:
            by_version_weight.setdefault((load.version_id, load.period.weight), []).append(load.amount_pence)
    for amounts in by_version_weight.values():
        assert max(amounts) - min(amounts) <= 1


@settings(max_examples=300, deadline=None)
@given(scenarios(rising=False))
def test_late_and_downward_revisions_never_pay_twice_or_more_than_agreed(scenario: dict) -> None:  # type: ignore[type-arg]
    posted, loads = _run_service_like(scenario)
    final_net = _final_net(scenario, loads)
    accounted = sum(posted.values()) + _withheld(loads)
    assert sum(posted.values()) <= max(v.net_pence for _, v in scenario["versions"])
    if all(agreed_on < loads[-1].period.due_on for agreed_on, _ in scenario["versions"]):
        assert accounted >= final_net  # short only if a revision came after the last load
    assert accounted <= max(v.net_pence for _, v in scenario["versions"])
    assert len({load.period.starts_on for load in loads}) == len(loads)
    assert all(load.status is not LoadStatus.DUE for load in loads), "a load was left unposted"


@settings(max_examples=300, deadline=None)
@given(plan_periods, parts, st.integers(0, 6))
def test_periods_cover_the_plan_period_once_and_loads_go_on_working_days(period, part, weekday) -> None:  # type: ignore[no-untyped-def]
    start, end = period
    periods = periods_of(start, end, part, weekday)
    assert periods[0].starts_on == start and periods[-1].ends_on == end
    for before, after in zip(periods, periods[1:]):
        assert after.starts_on == before.ends_on + timedelta(days=1)
        assert after.due_on >= before.due_on
    assert sum(p.weight for p in periods) == (end - start).days + 1
    for p in periods:
        assert start <= p.due_on <= end
        assert is_working_day(p.due_on) or not any(is_working_day(start + timedelta(days=d)) for d in range((end - start).days + 1))
