"""Which reviews a budget is due, worked out from dates alone (pure: no I/O).

Four kinds of review (DESIGN.md §1, Reviews):

- **plan** — the plan's own review date (``next_review_on``) or interval
  (``review_every_months``) when the agreed version in force states them; otherwise the lead
  funder kind's default: the first review N months after the plan starts, then every M
  months after the last plan review held. One plan review is outstanding at a time.
- **quarterly quality** — for a budget with a third-party (ISF) part, one per UK financial
  quarter the budget is open in, due by the end of the month after the quarter ends.
- **significant change** — a revision moving the budget total by the threshold or more
  from the version before it, due within N days of its agreement, unless a review (plan,
  significant change or requested) was held on or after that agreement. A quarterly
  quality review does not count: it is the provider's routine look at outcomes, not a
  look at the changed plan.
- **requested** — each open request from the family, due within 28 days.

The view is as at ``as_of``: versions agreed, reviews held and requests made after it are
not known yet. Nothing is due before the first agreed version's effective date, and a
closed budget has nothing due after its end (nor anything at all once its end has passed).
An outstanding review is *overdue* when its due date is before ``as_of``, else *due*.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from ledger.core.money import format_gbp
from ledger.core.periods import Quarter, quarter_of
from ledger.core.vocabulary import DEFAULT_FUNDER_LABEL, FunderKind

REQUEST_ANSWER_DAYS = 28
"""A family's request for a review is answered within this many days."""
BASIS_POINTS_WHOLE = 10_000


class ReviewKind(StrEnum):
    PLAN = "plan"
    QUARTERLY_QUALITY = "quarterly_quality"
    SIGNIFICANT_CHANGE = "significant_change"
    REQUESTED = "requested"


class ReviewStatus(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"


_OVERDUE, _DUE = ReviewStatus.OVERDUE, ReviewStatus.DUE
_MONTH_NAMES = (
    "", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
)  # fmt: skip
ANSWERS_REQUESTS = (ReviewKind.PLAN, ReviewKind.REQUESTED)
ANSWERS_SIGNIFICANT_CHANGE = (ReviewKind.PLAN, ReviewKind.SIGNIFICANT_CHANGE, ReviewKind.REQUESTED)
_KIND_ORDER = {kind: position for position, kind in enumerate(ReviewKind)}


@dataclass(frozen=True, slots=True)
class IntervalRule:
    """A funding stream's defaults (the ``review_interval`` row of its funder kind)."""

    first_after_months: int
    then_every_months: int
    significant_change_days: int = 28
    significant_change_basis_points: int = 1000


SHIPPED_INTERVALS: dict[str, IntervalRule] = {
    # NHS England PHB guidance: reviewed within 3 months of being set up, then at least yearly.
    FunderKind.ICB: IntervalRule(3, 12),
    # Care and Support (Direct Payments) Regulations 2014 reg. 7(1)(a): within 6 months, then
    # at intervals of no more than 12 months.
    FunderKind.COUNCIL_ADULT_SOCIAL_CARE: IntervalRule(6, 12),
    FunderKind.COUNCIL_CHILDREN_EDUCATION: IntervalRule(6, 12),
}
"""The defaults migration 0007 seeds; used only for a funder kind with no row."""


@dataclass(frozen=True, slots=True)
class AgreedVersion:
    version: int
    effective_from: date
    agreed_on: date
    """The day in England the version was agreed."""
    total_pence: int
    review_every_months: int | None = None
    next_review_on: date | None = None


@dataclass(frozen=True, slots=True)
class HeldReview:
    kind: ReviewKind
    held_on: date
    due_on: date | None = None
    """Which due review it answered; for a quarterly review, its quarter's due date."""


@dataclass(frozen=True, slots=True)
class Request:
    request_id: int
    asked_on: date
    asked_by: str
    reason: str
    answered_on: date | None = None
    """When the review answering it was held; None while open."""


@dataclass(frozen=True, slots=True)
class BudgetFacts:
    budget_id: int
    reference: str
    holder_id: int
    period_start: date
    period_end: date
    closed: bool
    funder_kind: str
    """The lead funder's kind: whose default intervals apply."""
    rule: IntervalRule
    has_third_party_part: bool
    versions: tuple[AgreedVersion, ...]
    held: tuple[HeldReview, ...] = ()
    requests: tuple[Request, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewDue:
    budget_id: int
    reference: str
    holder_id: int
    kind: ReviewKind
    due_on: date
    status: ReviewStatus
    reason: str
    quarter: Quarter | None = None
    request_id: int | None = None
    plan_version: int | None = None

    @property
    def is_overdue(self) -> bool:
        return self.status is _OVERDUE


def reviews_due(facts: BudgetFacts, as_of: date, *, upcoming_days: int = 30) -> list[ReviewDue]:
    """The reviews outstanding on ``as_of`` that are overdue or due within ``upcoming_days``."""
    horizon = as_of + timedelta(days=upcoming_days)
    return [review for review in outstanding_reviews(facts, as_of) if review.due_on <= horizon]


def outstanding_reviews(facts: BudgetFacts, as_of: date) -> list[ReviewDue]:
    """Every review not yet held as at ``as_of``, however far ahead, earliest first."""
    versions = sorted((v for v in facts.versions if v.agreed_on <= as_of), key=lambda v: v.version)
    if not versions or (facts.closed and as_of > facts.period_end):
        return []
    held = [review for review in facts.held if review.held_on <= as_of]
    plan_start = min(v.effective_from for v in versions)
    found = [
        *_plan_review(facts, versions, held, plan_start, as_of),
        *_quarterly_reviews(facts, held, plan_start),
        *_significant_changes(facts, versions, held, plan_start),
        *_requested_reviews(facts, plan_start, as_of),
    ]
    items = [
        ReviewDue(
            facts.budget_id, facts.reference, facts.holder_id, kind, due_on,
            _OVERDUE if due_on < as_of else _DUE, reason, quarter, request_id, plan_version,
        )  # fmt: skip
        for kind, due_on, reason, quarter, request_id, plan_version in found
        if not (facts.closed and due_on > facts.period_end)
    ]
    return sorted(items, key=lambda item: (item.due_on, _KIND_ORDER[item.kind], item.request_id or 0))


def review_to_answer(facts: BudgetFacts, kind: ReviewKind, held_on: date) -> ReviewDue | None:
    """The outstanding review a review of ``kind`` held on ``held_on`` answers when nobody
    says which: the earliest outstanding one of its kind (for a quarterly review, of the
    quarters that had started by then, and not answered by a review recorded since). A
    late review catches up the oldest first."""
    taken = {r.due_on for r in facts.held if r.kind is ReviewKind.QUARTERLY_QUALITY and kind is ReviewKind.QUARTERLY_QUALITY}
    for review in outstanding_reviews(facts, held_on):
        if review.kind is not kind or review.due_on in taken:
            continue
        if review.quarter is not None and review.quarter.starts_on > held_on:
            continue
        return review
    return None


@lru_cache(maxsize=512)
def quarterly_review_due_on(quarter: Quarter) -> date:
    """Due by the end of the month after the quarter: Q1 (April–June) by 31 July."""
    return month_end(quarter.ends_on + timedelta(days=1))


@lru_cache(maxsize=512)
def quarter_words(quarter: Quarter) -> str:
    """``Q2 2026/27 (July–September)``."""
    first, last = quarter.starts_on, quarter.ends_on
    year = quarter.financial_year
    return f"Q{quarter.number} {year}/{(year + 1) % 100:02d} ({_MONTH_NAMES[first.month]}–{_MONTH_NAMES[last.month]})"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_significant(previous_pence: int, total_pence: int, basis_points: int) -> bool:
    """Whether a revision from ``previous_pence`` to ``total_pence`` moves the total by
    ``basis_points`` (1000 = 10%) or more. From zero, any change is significant."""
    change = abs(total_pence - previous_pence)
    return change > 0 and change * BASIS_POINTS_WHOLE >= basis_points * previous_pence


def words_for_day(day: date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month]} {day.year}"


# Each finder yields (kind, due_on, reason, quarter, request_id, plan_version).
_Found = tuple[ReviewKind, date, str, Quarter | None, int | None, int | None]


def _version_in_force(versions: list[AgreedVersion], as_of: date) -> AgreedVersion:
    in_force = [v for v in versions if v.effective_from <= as_of]
    return in_force[-1] if in_force else versions[0]


def _plan_review(
    facts: BudgetFacts, versions: list[AgreedVersion], held: list[HeldReview], plan_start: date, as_of: date
) -> Iterable[_Found]:
    version = _version_in_force(versions, as_of)
    held_days = sorted(review.held_on for review in held if review.kind is ReviewKind.PLAN)
    last = held_days[-1] if held_days else None
    if version.next_review_on is not None and (last is None or last < min(version.agreed_on, version.next_review_on)):
        due_on = version.next_review_on
        reason = f"Plan review: plan version {version.version} says review by {words_for_day(due_on)}"
    else:
        if version.review_every_months is not None:
            source = f"as plan version {version.version} says"
        else:
            source = f"the {_funder_words(facts.funder_kind)} default"
        if last is not None:
            months = version.review_every_months or facts.rule.then_every_months
            due_on = add_months(last, months)
            reason = f"Plan review: {months} months after the last plan review on {words_for_day(last)} ({source})"
        else:
            months = version.review_every_months or facts.rule.first_after_months
            due_on = add_months(plan_start, months)
            reason = f"Plan review: first review, {months} months after the plan started on {words_for_day(plan_start)} ({source})"
    due_on = max(due_on, plan_start)
    if due_on <= facts.period_end:
        yield ReviewKind.PLAN, due_on, reason, None, None, version.version


def _quarterly_reviews(facts: BudgetFacts, held: list[HeldReview], plan_start: date) -> Iterable[_Found]:
    if not facts.has_third_party_part:
        return
    quarters = _quarters_between(plan_start, facts.period_end)
    by_due_on = {quarterly_review_due_on(quarter): quarter for quarter in quarters}
    answered: set[Quarter] = set()
    unplaced: list[HeldReview] = []
    quarterly = sorted((r for r in held if r.kind is ReviewKind.QUARTERLY_QUALITY), key=lambda r: r.held_on)
    for review in quarterly:
        quarter = by_due_on.get(review.due_on) if review.due_on is not None else None
        if quarter is not None and quarter not in answered:
            answered.add(quarter)
        else:
            unplaced.append(review)
    for review in unplaced:
        for quarter in quarters:
            if quarter not in answered and quarter.starts_on <= review.held_on:
                answered.add(quarter)
                break
    for quarter in quarters:
        if quarter not in answered:
            reason = f"Quarterly quality review for {quarter_words(quarter)}"
            yield ReviewKind.QUARTERLY_QUALITY, quarterly_review_due_on(quarter), reason, quarter, None, None


@lru_cache(maxsize=1024)
def _quarters_between(first_day: date, last_day: date) -> tuple[Quarter, ...]:
    quarters = [quarter_of(first_day)]
    while quarters[-1].ends_on < last_day:
        quarters.append(quarters[-1].next())
    return tuple(quarters)


def _significant_changes(
    facts: BudgetFacts, versions: list[AgreedVersion], held: list[HeldReview], plan_start: date
) -> Iterable[_Found]:
    points = facts.rule.significant_change_basis_points
    for previous, revision in zip(versions, versions[1:], strict=False):
        if not is_significant(previous.total_pence, revision.total_pence, points):
            continue
        if any(r.kind in ANSWERS_SIGNIFICANT_CHANGE and r.held_on >= revision.agreed_on for r in held):
            continue
        due_on = max(revision.agreed_on, plan_start) + timedelta(days=facts.rule.significant_change_days)
        reason = (
            f"Significant change: plan version {revision.version}, agreed on {words_for_day(revision.agreed_on)}, moved the"
            f" budget from {format_gbp(previous.total_pence)} to {format_gbp(revision.total_pence)}"
            f"{_percent_change(previous.total_pence, revision.total_pence)}"
        )
        yield ReviewKind.SIGNIFICANT_CHANGE, due_on, reason, None, None, revision.version


def _requested_reviews(facts: BudgetFacts, plan_start: date, as_of: date) -> Iterable[_Found]:
    for request in sorted(facts.requests, key=lambda r: (r.asked_on, r.request_id)):
        if request.asked_on > as_of or (request.answered_on is not None and request.answered_on <= as_of):
            continue
        due_on = max(request.asked_on, plan_start) + timedelta(days=REQUEST_ANSWER_DAYS)
        reason = f"Review asked for by {request.asked_by} on {words_for_day(request.asked_on)}: {_shortened(request.reason)}"
        yield ReviewKind.REQUESTED, due_on, reason, None, request.request_id, None


def _percent_change(previous: int, total: int) -> str:
    if previous == 0:
        return ""
    tenths = (abs(total - previous) * 2000 + previous) // (2 * previous)  # tenths of a percent, rounded half up
    sign = "+" if total > previous else "-"
    return f" ({sign}{tenths // 10}.{tenths % 10}%)"


def _funder_words(kind: str) -> str:
    try:
        label = DEFAULT_FUNDER_LABEL[FunderKind(kind)]
    except ValueError:
        return kind
    return label if label.isupper() else label[0].lower() + label[1:]


def _shortened(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
