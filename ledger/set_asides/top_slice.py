"""The top-slice: taken monthly in advance, exactly once per month.

The rules (pure: :func:`monthly_top_slices`):

- month ``k`` of the plan period starts ``k`` calendar months after ``period_start`` (the day
  of the month kept where the month has it, else its last day: 31 January, 28 February,
  31 March) and ends the day before month ``k + 1``; the last month ends with the plan
  period and may be short;
- each month's top-slice is taken on its first day, by the one split rule, so that the months
  sum exactly to the agreed version's ``top_slice_pence``. Full months weigh the same; a short
  last month weighs in proportion to the days it covers;
- a month takes its share of the version in force on its first day (the first version also
  pays the month it takes effect in, as loads do). When the version changes, what was taken
  is fact and the rest of the new figure is spread over the months left; if more was taken
  than the new figure allows, the next month returns the excess at once (a top-slice
  return: debit ``B:cash``, credit ``B:top_slice``). A revision that takes effect after the
  last month has begun changes nothing.

Posting (:func:`take_due_top_slices`) takes each holder's book lock before it reads what was
taken; each month's entry has the key ``top-slice:budget-<id>:<month start>`` and its
``top_slice_taken`` row is unique per (budget, month): a month is never taken twice, however
many runs race. A month dated in a closed quarter is held for a person to post by hand.

This module also ring-fences contingency on the same schedule
(:func:`due_contingency_ring_fences`), so one scheduler job can call both.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.budgets.plans import agreed_version_on
from ledger.core.accounts import account_ids_by_code, budget_account_code
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal import lock_book, post_entries
from ledger.core.money import split_pence
from ledger.core.periods import closed_quarter_containing, closed_quarters
from ledger.core.vocabulary import AccountKind, BudgetStatus, EntryKind, PlanStatus
from ledger.errors import Conflict, InvalidInput
from ledger.set_asides.contingency import ring_fence_contingency
from ledger.store.tables import Budget, SupportPlanVersion, utcnow
from ledger.store.tables.budget_money import TopSliceTaken

LONDON = ZoneInfo("Europe/London")
FULL_MONTH_WEIGHT = 10_000


class MonthStatus(StrEnum):
    TAKEN = "taken"
    DUE = "due"
    """To be taken on its first day (or already past it and not yet taken)."""
    NOTHING_DUE = "nothing_due"


@dataclass(frozen=True, slots=True)
class VersionFigure:
    """An agreed version's top-slice and when it takes effect."""

    version_id: int
    effective_from: date
    top_slice_pence: int


@dataclass(frozen=True, slots=True)
class Month:
    starts_on: date
    ends_on: date
    weight: int


@dataclass(frozen=True, slots=True)
class TopSliceMonth:
    month: Month
    amount_pence: int
    """Negative: a return of top-slice taken beyond a lowered figure."""
    status: MonthStatus
    version_id: int | None


def months_of(period_start: date, period_end: date) -> list[Month]:
    """The calendar months of a plan period, the last one possibly short."""
    starts: list[date] = []
    k = 0
    while (start := _add_months(period_start, k)) <= period_end:
        starts.append(start)
        k += 1
    months = []
    for index, start in enumerate(starts):
        next_start = _add_months(period_start, index + 1)
        ends_on = min(next_start - timedelta(days=1), period_end)
        full_days = (next_start - start).days
        covered = (ends_on - start).days + 1
        weight = FULL_MONTH_WEIGHT if covered == full_days else max(1, FULL_MONTH_WEIGHT * covered // full_days)
        months.append(Month(start, ends_on, weight))
    return months


def _add_months(day: date, count: int) -> date:
    month_index = day.month - 1 + count
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def monthly_top_slices(
    period_start: date, period_end: date, versions: Sequence[VersionFigure], taken: Mapping[date, int]
) -> list[TopSliceMonth]:
    """Every month of the plan period with its top-slice: taken (``taken``, by month start:
    facts, whatever they were), due, or nothing due. See the module docstring."""
    months = months_of(period_start, period_end)
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version_id))
    result: list[TopSliceMonth] = []
    accounted = 0
    planned: list[int] | None = None
    planned_from = 0
    current: VersionFigure | None = None
    for index, month in enumerate(months):
        version = _version_for(ordered, month, first=current is None)
        if version is not current:
            current, planned = version, None
        if version is not None and planned is None:
            planned = _spread(version.top_slice_pence - accounted, [m.weight for m in months[index:]])
            planned_from = index
        amount = planned[index - planned_from] if planned is not None else 0
        version_id = version.version_id if version is not None else None
        if month.starts_on in taken:
            made = taken[month.starts_on]
            accounted += made
            if made != amount:
                planned = None  # the months after this one absorb the difference
            result.append(TopSliceMonth(month, made, MonthStatus.TAKEN, version_id))
            continue
        accounted += amount
        result.append(TopSliceMonth(month, amount, MonthStatus.DUE if amount else MonthStatus.NOTHING_DUE, version_id))
    return result


def _version_for(ordered: Sequence[VersionFigure], month: Month, *, first: bool) -> VersionFigure | None:
    in_force = None
    for version in ordered:
        if version.effective_from > month.starts_on:
            break
        in_force = version
    if in_force is None and first and ordered and ordered[0].effective_from <= month.ends_on:
        return ordered[0]  # the first version pays the month it takes effect in
    return in_force


def _spread(remaining: int, weights: list[int]) -> list[int]:
    if remaining < 0:  # taken beyond a lowered figure: returned at once
        return [remaining] + [0] * (len(weights) - 1)
    return split_pence(remaining, weights)


# --- posting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakenMonth:
    budget_reference: str
    month_starts_on: date
    amount_pence: int
    entry_id: int


@dataclass(frozen=True, slots=True)
class HeldMonth:
    """A month due that the run could not take, and why (a person must act)."""

    budget_reference: str
    month_starts_on: date
    amount_pence: int
    reason: str


@dataclass
class TopSliceRun:
    as_of: date
    budgets_checked: int = 0
    posted: list[TakenMonth] = field(default_factory=list)
    held: list[HeldMonth] = field(default_factory=list)

    @property
    def total_pence(self) -> int:
        return sum(month.amount_pence for month in self.posted)


def take_due_top_slices(
    session: Session,
    as_of: date,
    *,
    holder_id: int | None = None,
    budget_id: int | None = None,
    created_by: str = "scheduler",
    today: date | None = None,
) -> TopSliceRun:
    """Take every month's top-slice due on or before ``as_of`` not yet taken, for every open
    budget (or one holder's, or one budget's). Refuses an ``as_of`` after today: a month is
    taken on its first day, never before. Running it again posts nothing."""
    today = today or datetime.now(LONDON).date()
    if as_of > today:
        raise InvalidInput(f"as_of {as_of} is in the future; the top-slice is taken when due", code="as_of_in_future", field="as_of")
    run = TopSliceRun(as_of=as_of)
    by_holder: dict[int, list[Budget]] = defaultdict(list)
    for budget in _open_budgets_started(session, as_of, holder_id, budget_id):
        by_holder[budget.holder_id].append(budget)
    for book_id in sorted(by_holder):
        lock_book(session, book_id)
        closed = [(q.quarter, q.starts_on, q.ends_on) for q in closed_quarters(session, book_id)]
        for budget in by_holder[book_id]:
            run.budgets_checked += 1
            _take_for_budget(session, budget, closed, run, created_by)
    return run


def _take_for_budget(session: Session, budget: Budget, closed: list[tuple[str, date, date]], run: TopSliceRun, created_by: str) -> None:
    due: list[TopSliceMonth] = []
    for month in _schedule(session, budget):
        if month.status is not MonthStatus.DUE or month.month.starts_on > run.as_of:
            continue
        quarter = closed_quarter_containing(closed, month.month.starts_on)
        if quarter is not None:
            reason = f"due in {quarter}, which is closed: post it by hand in an open period"
            run.held.append(HeldMonth(budget.reference, month.month.starts_on, month.amount_pence, reason))
            continue
        due.append(month)
    if not due:
        return
    codes = [budget_account_code(budget.reference, AccountKind.TOP_SLICE), budget_account_code(budget.reference, AccountKind.CASH)]
    ids = account_ids_by_code(session, codes)
    top_slice, cash = ids[codes[0]], ids[codes[1]]
    results = post_entries(session, [_month_entry(budget, month, top_slice, cash, created_by) for month in due])
    rows = []
    for month, result in zip(due, results, strict=True):
        if result.outcome.is_conflict:
            raise Conflict(
                f"the top-slice of {budget.reference} for the month from {month.month.starts_on} was posted before with other"
                f" content ({result.outcome}); run `phb-ledger verify` and look at entry {result.entry.id}",
                code="top_slice_conflict",
            )
        if result.outcome is PostOutcome.EXISTS:
            continue
        assert month.version_id is not None
        rows.append(
            {"budget_id": budget.id, "month_starts_on": month.month.starts_on, "amount_pence": month.amount_pence,
             "plan_version_id": month.version_id, "entry_id": result.entry.id, "posted_at": utcnow()}
        )  # fmt: skip
        run.posted.append(TakenMonth(budget.reference, month.month.starts_on, month.amount_pence, result.entry.id))
    if rows:
        session.execute(insert(TopSliceTaken), rows)


def _month_entry(budget: Budget, month: TopSliceMonth, top_slice: int, cash: int, created_by: str) -> NewEntry:
    start, amount = month.month.starts_on, month.amount_pence
    if amount > 0:
        description, kind = f"Top-slice for {start:%B %Y}: {budget.reference}", EntryKind.TOP_SLICE
    else:
        description, kind = f"Top-slice returned after a plan revision, {start:%B %Y}: {budget.reference}", EntryKind.TOP_SLICE_RETURN
    return NewEntry(
        book_id=budget.holder_id,
        entry_date=start,
        description=description,
        idempotency_key=f"top-slice:budget-{budget.id}:{start.isoformat()}",
        postings=(NewPosting(top_slice, amount), NewPosting(cash, -amount)),
        kind=kind,
        created_by=created_by,
    )


def _open_budgets_started(session: Session, as_of: date, holder_id: int | None, budget_id: int | None) -> list[Budget]:
    query = select(Budget).where(Budget.status == BudgetStatus.OPEN, Budget.period_start <= as_of).order_by(Budget.id)
    if holder_id is not None:
        query = query.where(Budget.holder_id == holder_id)
    if budget_id is not None:
        query = query.where(Budget.id == budget_id)
    return list(session.execute(query).scalars())


def _schedule(session: Session, budget: Budget) -> list[TopSliceMonth]:
    versions = [
        VersionFigure(version_id, effective_from, top_slice)
        for version_id, effective_from, top_slice in session.execute(
            select(SupportPlanVersion.id, SupportPlanVersion.effective_from, SupportPlanVersion.top_slice_pence).where(
                SupportPlanVersion.budget_id == budget.id, SupportPlanVersion.status == PlanStatus.AGREED
            )
        )
    ]
    taken = dict(
        session.execute(
            select(TopSliceTaken.month_starts_on, TopSliceTaken.amount_pence).where(TopSliceTaken.budget_id == budget.id)
        ).all()
    )
    return monthly_top_slices(budget.period_start, budget.period_end, versions, taken)


def top_slice_schedule(session: Session, budget_id: int) -> list[TopSliceMonth]:
    """Every month of the budget's plan period: taken, and to come."""
    return _schedule(session, get_budget(session, budget_id))


# --- contingency on the same schedule ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RingFenced:
    budget_reference: str
    change_pence: int
    entry_id: int


@dataclass(frozen=True, slots=True)
class HeldRingFence:
    budget_reference: str
    reason: str


@dataclass
class RingFenceRun:
    as_of: date
    budgets_checked: int = 0
    posted: list[RingFenced] = field(default_factory=list)
    held: list[HeldRingFence] = field(default_factory=list)


def due_contingency_ring_fences(
    session: Session,
    as_of: date,
    *,
    holder_id: int | None = None,
    budget_id: int | None = None,
    created_by: str = "scheduler",
) -> RingFenceRun:
    """Ring-fence contingency (or release it after a revision lowered it) for every open
    budget whose plan period has started and which has an agreed version in force on
    ``as_of``. A budget whose entry would fall in a closed quarter is held, not failed."""
    run = RingFenceRun(as_of=as_of)
    budgets = _open_budgets_started(session, as_of, holder_id, budget_id)
    for book_id in sorted({budget.holder_id for budget in budgets}):
        lock_book(session, book_id)
    for budget in budgets:
        run.budgets_checked += 1
        if agreed_version_on(session, budget.id, as_of) is None:
            continue
        try:
            fence = ring_fence_contingency(session, budget.id, on=as_of, created_by=created_by)
        except Conflict as error:
            if error.code != "period_closed":  # refused before anything was written: safe to go on
                raise
            run.held.append(HeldRingFence(budget.reference, error.message))
            continue
        if fence.entry_id is not None:
            run.posted.append(RingFenced(budget.reference, fence.change_pence, fence.entry_id))
    return run
