"""The drawdown schedule, pure (no I/O): which loads go onto a person's prepaid card, when,
and for how much.

**Periods.** A budget part's plan period is cut into periods of its cadence (1, 2 or 4
weeks) aligned to the holder's load weekday (Monday by default). If the plan period does not
start on that weekday, the first period is the short stub up to it; the last period ends
with the plan period, so nothing falls outside it. A 365-day year from a Monday is 52 weeks
and a one-day stub: 53 periods.

**Amounts.** Each period is weighted by the days it pays for, and the part's *net amount*
for the plan period (its amount less its share of top-slice, contingency, transition costs
and client contribution, see :func:`part_nets`) is spread over the periods with the one
split rule, so a year's loads sum to the net amount exactly, to the penny.

**Initial float.** The first load carries the days of the final ``float_weeks`` (rounded
down to whole periods) too, and those final periods load nothing: the float pays for them.

**Timing.** In advance: due on the period's first day. In arrears: due on the day after it
ends (the next load day), the final period on the plan's last day. A load due on a weekend
or an England bank holiday goes on the working day before; the very first goes on the first
working day instead if that would fall before the plan period.

**Plan revisions.** A period is paid under the agreed version in force on its first day (the
first version also pays the period it takes effect in). When the version changes, what that
version still owes — its net amount less everything already accounted for — is spread over
the periods left, so the amount changes from the first period of the revision and the
year's loads come to the latest version's net amount, with no gap and no lump. If a
revision leaves less than has been loaded, the remaining periods load nothing (the excess is
on the card, a surplus for the review).

**Pauses.** A load due while the budget is paused (a hospital stay) is not made and never
made up: its amount stays in held funds. Loads resume at their usual amount.

**Surplus offsets.** When money has built up on the card, a funder can offset it against
the next loads: the offset's amount is withheld from the loads due from its start, the
earliest first, until it is used up (a load can be withheld whole). The withheld money stays
in held funds; the loads after are not raised to make up for it.

**Loads already made** are facts: a made load keeps its amount. If it differs from what the
schedule now says (a revision agreed after the load, with an earlier effective date), the
periods after it absorb the difference. A period left unloaded before the latest load made
(held back, or given money by a late revision after its time) is *skipped*: it is never
loaded late, and its money goes to the loads still to come. So running the schedule again is stable: as long as
nothing changes, it yields the same amounts it yielded before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ledger.core.money import split_pence
from ledger.core.vocabulary import Cadence, DrawdownTiming
from ledger.core.working_days import working_day_on_or_after, working_day_on_or_before

LONDON = ZoneInfo("Europe/London")
MONDAY = 0
DEFAULT_LOAD_TIME = time(6, 0)
CADENCE_WEEKS = {Cadence.WEEKLY: 1, Cadence.TWO_WEEKLY: 2, Cadence.FOUR_WEEKLY: 4}
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LoadTime:
    """When a holder's loads go onto cards, in England's local time."""

    weekday: int = MONDAY
    at: time = DEFAULT_LOAD_TIME


@dataclass(frozen=True, slots=True)
class PartTerms:
    part_id: int
    cadence: str = Cadence.WEEKLY
    timing: str = DrawdownTiming.IN_ADVANCE
    initial_float_weeks: int = 0


@dataclass(frozen=True, slots=True)
class VersionTerms:
    """An agreed plan version as far as one part's loads go."""

    version_id: int
    effective_from: date
    net_pence: int
    """What the part loads over the whole plan period under this version."""


@dataclass(frozen=True, slots=True)
class Pause:
    starts_on: date
    ends_on: date | None = None
    """Last paused day; ``None`` while the pause is open."""

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Period(NamedTuple):
    starts_on: date
    ends_on: date
    due_on: date
    """The working day the load goes on."""
    weight: int
    """Days the load pays for: the period's days, plus the float's on the first load, and
    zero on the final periods the float pays for."""


class LoadStatus(StrEnum):
    DUE = "due"
    """To be loaded on its due day (or now, if that has passed)."""
    POSTED = "posted"
    PAUSED = "paused"
    """Not loaded: the budget was paused on the due day. Never made up."""
    COVERED_BY_FLOAT = "covered_by_float"
    SKIPPED = "skipped"
    """Not loaded, and a later period has been loaded since (it was held back, or a late
    revision gave it money after its time): it stays unloaded and its money goes to the
    loads still to come."""
    NOTHING_DUE = "nothing_due"
    """No agreed plan in force yet, or nothing left for this part to load."""


class ScheduledLoad(NamedTuple):
    part_id: int
    period: Period
    amount_pence: int
    """What goes onto the card: the period's share less what is withheld."""
    status: LoadStatus
    version_id: int | None
    withheld_pence: int = 0
    """Held back from this load by a surplus offset: the card's surplus pays for it."""


class Offset(NamedTuple):
    """A surplus on the card offset against the loads: ``amount_pence`` is withheld from the
    loads of the periods starting on or after ``starts_on``, the earliest first."""

    starts_on: date
    amount_pence: int


def due_at(due_on: date, load_time: LoadTime) -> datetime:
    """The moment (UTC) a load due on ``due_on`` goes, at the holder's local load time.

    Clock changes: a local time that does not exist (01:30 on the last Sunday of March) is
    read with the offset before the change, i.e. an hour later on the new clock (02:30 BST);
    a local time that happens twice (01:30 on the last Sunday of October) is its first
    occurrence (BST). That is Python's ``fold=0``, stated here because it is a decision.
    """
    return datetime.combine(due_on, load_time.at, tzinfo=LONDON).astimezone(UTC)


def part_nets(
    part_amounts: Mapping[int, int],
    *,
    top_slice_pence: int,
    contingency_pence: int,
    contribution_pence: int,
    transition_by_part: Mapping[int | None, int],
) -> dict[int, int]:
    """What each part of a plan version loads over the plan period: its amount less its
    transition lines and its share (by part amounts, one split) of the top-slice, the
    contingency, the client contribution and the transition lines no part was named for."""
    parts = sorted(part_amounts)
    weights = [part_amounts[part] for part in parts]
    shared = top_slice_pence + contingency_pence + contribution_pence + transition_by_part.get(None, 0)
    shares = split_pence(shared, weights) if shared and sum(weights) else [0] * len(parts)
    return {
        part: max(0, part_amounts[part] - share - transition_by_part.get(part, 0)) for part, share in zip(parts, shares)
    }


def periods_of(plan_start: date, plan_end: date, part: PartTerms, load_weekday: int = MONDAY) -> tuple[Period, ...]:
    return _periods(plan_start, plan_end, CADENCE_WEEKS[Cadence(part.cadence)], DrawdownTiming(part.timing), part.initial_float_weeks, load_weekday)


@lru_cache(maxsize=4096)
def _periods(
    plan_start: date, plan_end: date, cadence_weeks: int, timing: DrawdownTiming, float_weeks: int, load_weekday: int
) -> tuple[Period, ...]:
    """Cached: thousands of budgets share a handful of plan periods and cadences."""
    assert plan_start <= plan_end
    length = timedelta(days=7 * cadence_weeks)
    starts = [plan_start]
    first_load_day = plan_start + timedelta(days=(load_weekday - plan_start.weekday()) % 7)
    following = first_load_day if first_load_day > plan_start else plan_start + length
    while following <= plan_end:
        starts.append(following)
        following += length
    ends = [start - _ONE_DAY for start in starts[1:]] + [plan_end]
    days = [(end - start).days + 1 for start, end in zip(starts, ends)]
    covered = min(float_weeks * 7 // length.days, len(starts) - 1)
    if covered:
        days[0] += sum(days[-covered:])
        days[-covered:] = [0] * covered
    last = len(starts) - 1
    return tuple(
        Period(start, end, _due_on(start, end, timing, index == last, plan_start, plan_end), weight)
        for index, (start, end, weight) in enumerate(zip(starts, ends, days))
    )


def _due_on(start: date, end: date, timing: DrawdownTiming, is_last: bool, plan_start: date, plan_end: date) -> date:
    nominal = start if timing is DrawdownTiming.IN_ADVANCE else (end if is_last else end + _ONE_DAY)
    due = working_day_on_or_before(nominal)
    if due < plan_start:
        due = working_day_on_or_after(nominal)
        if due > plan_end:
            due = nominal
    return due


def schedule(
    plan_start: date,
    plan_end: date,
    part: PartTerms,
    versions: Sequence[VersionTerms],
    *,
    load_weekday: int = MONDAY,
    pauses: Sequence[Pause] = (),
    posted: Mapping[date, int] | None = None,
    offsets: Sequence[Offset] = (),
    withheld: Mapping[date, int] | None = None,
) -> list[ScheduledLoad]:
    """Every period of the part with its load: made (``posted``, by period start), due,
    paused, covered by the float, or nothing due. ``withheld`` is what was withheld from
    loads already made (a fully withheld period is in ``posted`` with 0). See the module
    docstring for the rules."""
    periods = periods_of(plan_start, plan_end, part, load_weekday)
    made = posted or {}
    held_back = withheld or {}
    last_made = max(made, default=None)
    to_withhold = _Withholding(offsets, sum(held_back.values()))
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version_id))
    loads: list[ScheduledLoad] = []
    accounted = 0
    planned: list[int] | None = None
    planned_from = 0
    current: VersionTerms | None = None
    for index, period in enumerate(periods):
        version = _version_for(ordered, period, first=current is None)
        if version is not current:
            current, planned = version, None
        if version is not None and planned is None:
            planned = _spread(version.net_pence - accounted, [p.weight for p in periods[index:]])
            planned_from = index
        amount = planned[index - planned_from] if planned is not None else 0
        version_id = version.version_id if version is not None else None
        made_amount = made.get(period.starts_on)
        if made_amount is not None:
            made_withheld = held_back.get(period.starts_on, 0)
            accounted += made_amount + made_withheld
            if made_amount + made_withheld != amount:
                planned = None  # the periods after this one absorb the difference
            loads.append(ScheduledLoad(part.part_id, period, made_amount, LoadStatus.POSTED, version_id, made_withheld))
            continue
        status = _status(period, amount, pauses)
        if status is LoadStatus.DUE and last_made is not None and period.starts_on < last_made:
            status, planned = LoadStatus.SKIPPED, None
            loads.append(ScheduledLoad(part.part_id, period, 0, status, version_id))
            continue
        accounted += amount
        held = to_withhold.take(period.starts_on, amount) if offsets and status is LoadStatus.DUE else 0
        loads.append(ScheduledLoad(part.part_id, period, amount - held, status, version_id, held))
    return loads


class _Withholding:
    """How much of the offsets is still to withhold, taken from the earliest loads due on or
    after each offset's start; what was withheld from loads already made counts first."""

    def __init__(self, offsets: Sequence[Offset], already_withheld: int) -> None:
        self._offsets = sorted(offsets)
        self._used = already_withheld

    def take(self, period_start: date, amount: int) -> int:
        active = sum(offset.amount_pence for offset in self._offsets if offset.starts_on <= period_start)
        held = max(0, min(amount, active - self._used))
        self._used += held
        return held


def _version_for(ordered: Sequence[VersionTerms], period: Period, *, first: bool) -> VersionTerms | None:
    in_force = None
    for version in ordered:
        if version.effective_from > period.starts_on:
            break
        in_force = version
    if in_force is None and first and ordered and ordered[0].effective_from <= period.ends_on:
        return ordered[0]  # the first version pays the period it takes effect in
    return in_force


def _spread(remaining: int, weights: list[int]) -> list[int]:
    if remaining <= 0:
        return [0] * len(weights)
    if not sum(weights):  # only float-covered periods left: one top-up load
        return [remaining] + [0] * (len(weights) - 1)
    return split_pence(remaining, weights)


def _status(period: Period, amount: int, pauses: Sequence[Pause]) -> LoadStatus:
    if amount <= 0:
        return LoadStatus.COVERED_BY_FLOAT if period.weight == 0 else LoadStatus.NOTHING_DUE
    if any(pause.covers(period.due_on) for pause in pauses):
        return LoadStatus.PAUSED
    return LoadStatus.DUE


def due_loads(loads: Sequence[ScheduledLoad], as_of: datetime, load_time: LoadTime) -> list[ScheduledLoad]:
    """The loads of a schedule that are due and not yet made by ``as_of`` (aware)."""
    return [load for load in loads if load.status is LoadStatus.DUE and due_at(load.period.due_on, load_time) <= as_of]
