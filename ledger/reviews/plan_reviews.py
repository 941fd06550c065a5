"""Reviews due, held and asked for: the database side of ``ledger.reviews.due``.

``reviews_due`` reads everything it needs for a whole holder or funder in six queries (the
budgets, their agreed versions, which have a third-party part, the reviews held, the
requests, the intervals), then works out each budget's reviews in memory with the pure
rules: no query per budget, so an ICB's 2,500 budgets take a fraction of a second.

Recording a held review takes the holder's book lock first (read, decide, write): two
people recording the same quarter's review at once cannot both answer it; a unique index
on (budget, due date) of quarterly reviews refuses it as well.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from ledger.budgets.budget import BUDGET_DATE_EARLIEST, BUDGET_DATE_LATEST, get_budget
from ledger.budgets.plans import london_date
from ledger.core import checks
from ledger.core.journal import lock_book
from ledger.core.vocabulary import BudgetStatus, FunderKind, ManagementOption, PlanStatus
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.reviews.due import (
    ANSWERS_REQUESTS,
    SHIPPED_INTERVALS,
    AgreedVersion,
    BudgetFacts,
    HeldReview,
    IntervalRule,
    Request,
    ReviewDue,
    ReviewKind,
    outstanding_reviews,
    review_to_answer,
)
from ledger.reviews.due import reviews_due as due_for_budget
from ledger.store.tables import Budget, BudgetPart, Funder, FundingLine, Holder, SupportPlanVersion, utcnow
from ledger.store.tables.reviews import BudgetReview, ReviewInterval, ReviewRequest

log = logging.getLogger(__name__)

UPCOMING_DAYS_MAX = 366
REQUEST_LEAD_DAYS_MAX = 366
"""A family can ask for a review up to a year before its budget's period starts."""


@dataclass(frozen=True, slots=True)
class HolderReviewCount:
    holder_id: int
    holder_code: str
    due: int
    overdue: int


@dataclass(frozen=True, slots=True)
class ReviewsDueSummary:
    """Reviews due and overdue per holder: what the scheduler's daily job logs."""

    as_of: date
    holders: tuple[HolderReviewCount, ...]

    @property
    def due(self) -> int:
        return sum(count.due for count in self.holders)

    @property
    def overdue(self) -> int:
        return sum(count.overdue for count in self.holders)

    def lines(self) -> list[str]:
        head = f"Reviews as at {self.as_of}: {self.overdue} overdue, {self.due} due within the next weeks"
        return [head, *(f"  {c.holder_code}: {c.overdue} overdue, {c.due} due" for c in self.holders)]


def reviews_due(
    session: Session,
    *,
    as_of: date,
    holder_id: int | None = None,
    funder_id: int | None = None,
    budget_id: int | None = None,
    include_upcoming_days: int = 30,
) -> list[ReviewDue]:
    """Every review overdue on ``as_of`` or due within ``include_upcoming_days`` after it, for
    every budget, one holder's, the budgets one funder leads or funds, or one budget.
    Overdue first, then by due date."""
    checks.date_between(as_of, "as_of", earliest=BUDGET_DATE_EARLIEST, latest=BUDGET_DATE_LATEST)
    checks.whole_number(include_upcoming_days, "include_upcoming_days", minimum=0, maximum=UPCOMING_DAYS_MAX)
    found: list[ReviewDue] = []
    for facts in budget_facts(session, as_of=as_of, holder_id=holder_id, funder_id=funder_id, budget_id=budget_id):
        found.extend(due_for_budget(facts, as_of, upcoming_days=include_upcoming_days))
    return sorted(found, key=lambda r: (not r.is_overdue, r.due_on, r.reference, r.kind, r.request_id or 0))


def log_reviews_due(session: Session, as_of: date, *, include_upcoming_days: int = 30) -> ReviewsDueSummary:
    """Count the reviews due and overdue per holder, log the counts, and return them."""
    found = reviews_due(session, as_of=as_of, include_upcoming_days=include_upcoming_days)
    due = Counter(r.holder_id for r in found if not r.is_overdue)
    overdue = Counter(r.holder_id for r in found if r.is_overdue)
    holder_ids = sorted(set(due) | set(overdue))
    codes = {row.id: row.code for row in session.execute(select(Holder.id, Holder.code).where(Holder.id.in_(holder_ids)))} if holder_ids else {}
    summary = ReviewsDueSummary(
        as_of=as_of,
        holders=tuple(HolderReviewCount(h, codes.get(h, str(h)), due[h], overdue[h]) for h in sorted(holder_ids, key=lambda h: codes.get(h, ""))),
    )
    for line in summary.lines():
        log.info(line)
    return summary


def budget_facts(
    session: Session,
    *,
    as_of: date,
    holder_id: int | None = None,
    funder_id: int | None = None,
    budget_id: int | None = None,
) -> list[BudgetFacts]:
    """The facts the pure rules need, for every budget in scope, in six queries. Closed
    budgets whose end has passed are left out: nothing is due for them."""
    scope = _scope(as_of, holder_id, funder_id, budget_id)
    rules = _interval_rules(session)
    budgets = session.execute(
        select(Budget.id, Budget.reference, Budget.holder_id, Budget.period_start, Budget.period_end, Budget.status, Funder.kind)
        .join(Funder, Funder.id == Budget.lead_funder_id)
        .where(Budget.id.in_(scope))
        .order_by(Budget.id)
    ).all()
    if not budgets:
        return []
    versions = _agreed_versions(session, scope)
    third_party = set(
        session.execute(
            select(BudgetPart.budget_id).where(BudgetPart.budget_id.in_(scope), BudgetPart.management_option == ManagementOption.THIRD_PARTY)
        ).scalars()
    )
    held: dict[int, list[HeldReview]] = defaultdict(list)
    for row in session.execute(
        select(BudgetReview.budget_id, BudgetReview.kind, BudgetReview.held_on, BudgetReview.due_on).where(BudgetReview.budget_id.in_(scope))
    ):
        held[row.budget_id].append(HeldReview(ReviewKind(row.kind), row.held_on, row.due_on))
    requests = _requests(session, scope)
    return [
        BudgetFacts(
            budget_id=row.id,
            reference=row.reference,
            holder_id=row.holder_id,
            period_start=row.period_start,
            period_end=row.period_end,
            closed=row.status == BudgetStatus.CLOSED,
            funder_kind=row.kind,
            rule=rules.get(row.kind) or SHIPPED_INTERVALS.get(row.kind) or SHIPPED_INTERVALS[FunderKind.ICB],
            has_third_party_part=row.id in third_party,
            versions=tuple(versions.get(row.id, ())),
            held=tuple(held.get(row.id, ())),
            requests=tuple(requests.get(row.id, ())),
        )
        for row in budgets
    ]


def record_review_held(
    session: Session,
    budget_id: int,
    *,
    kind: str,
    held_on: date,
    recorded_by: str,
    note: str | None,
    due_on: date | None = None,
    today: date | None = None,
) -> BudgetReview:
    """Record that a review of ``kind`` was held. ``due_on`` says which due review it
    answers; without it, the earliest outstanding one of its kind. A plan or requested
    review also answers every open request asked on or before ``held_on``."""
    budget = get_budget(session, budget_id)
    review_kind = checks.choice(kind, ReviewKind, "kind")
    recorded_by = checks.required_text(recorded_by, "recorded_by", max_length=200)
    note = checks.text(note, "note", max_length=1000, required=False)
    latest = min(today, BUDGET_DATE_LATEST) if today is not None else BUDGET_DATE_LATEST
    if budget.status == BudgetStatus.CLOSED:
        latest = min(latest, budget.period_end)  # a closed budget's reviews end with it
    if today is not None and held_on > today:
        raise InvalidInput(f"held_on {held_on} is in the future; record a review once it has been held", code="held_in_future", field="held_on")
    checks.date_between(held_on, "held_on", earliest=budget.period_start, latest=latest)
    if due_on is not None:
        checks.date_between(due_on, "due_on", earliest=BUDGET_DATE_EARLIEST, latest=BUDGET_DATE_LATEST)
    lock_book(session, budget.holder_id)
    (facts,) = budget_facts(session, as_of=held_on, budget_id=budget.id) or (None,)
    if facts is None or not any(v.agreed_on <= held_on for v in facts.versions):
        raise Conflict(
            f"{budget.reference} had no agreed plan on {held_on}: there was nothing to review yet", code="plan_not_agreed", field="held_on"
        )
    due_on = _answered_due_on(facts, review_kind, held_on, due_on)
    if review_kind is ReviewKind.REQUESTED and not _open_requests_by(session, budget.id, held_on):
        raise Conflict(f"{budget.reference} has no open request for a review asked on or before {held_on}", code="no_open_request", field="kind")
    review = BudgetReview(budget_id=budget.id, kind=review_kind, due_on=due_on, held_on=held_on, recorded_by=recorded_by, note=note)
    session.add(review)
    session.flush()
    if review_kind in ANSWERS_REQUESTS:
        session.execute(
            update(ReviewRequest)
            .where(ReviewRequest.budget_id == budget.id, ReviewRequest.answered_review_id.is_(None), ReviewRequest.asked_on <= held_on)
            .values(answered_review_id=review.id)
        )
    return review


def request_review(
    session: Session, budget_id: int, *, asked_by: str, reason: str, asked_on: date, today: date | None = None, recorded_by: str | None = None
) -> ReviewRequest:
    """A family asks for a change or a review between reviews: due within 28 days.
    ``recorded_by``: the signed-in user who recorded it, where that is not who asked."""
    budget = get_budget(session, budget_id)
    if budget.status == BudgetStatus.CLOSED:
        raise Conflict(f"{budget.reference} is closed: ask for a review of the budget that follows it", code="budget_closed")
    asked_by = checks.required_text(asked_by, "asked_by", max_length=200)
    reason = checks.required_text(reason, "reason", max_length=1000)
    if today is not None and asked_on > today:
        raise InvalidInput(f"asked_on {asked_on} is in the future", code="asked_in_future", field="asked_on")
    checks.date_between(asked_on, "asked_on", earliest=budget.period_start - timedelta(days=REQUEST_LEAD_DAYS_MAX), latest=budget.period_end)
    recorded_by = checks.required_text(recorded_by, "recorded_by", max_length=200) if recorded_by is not None else asked_by
    request = ReviewRequest(budget_id=budget.id, asked_by=asked_by, asked_on=asked_on, reason=reason, recorded_by=recorded_by)
    session.add(request)
    session.flush()
    return request


def set_review_interval(
    session: Session,
    funder_kind: str,
    *,
    first_after_months: int,
    then_every_months: int,
    significant_change_days: int = 28,
    significant_change_basis_points: int = 1000,
    updated_by: str,
) -> ReviewInterval:
    """Replace a funding stream's review defaults (every field: a PUT)."""
    kind = _funder_kind(funder_kind)
    values = {
        "first_after_months": checks.whole_number(first_after_months, "first_after_months", minimum=1, maximum=24),
        "then_every_months": checks.whole_number(then_every_months, "then_every_months", minimum=1, maximum=24),
        "significant_change_days": checks.whole_number(significant_change_days, "significant_change_days", minimum=1, maximum=365),
        "significant_change_basis_points": checks.whole_number(
            significant_change_basis_points, "significant_change_basis_points", minimum=1, maximum=10_000
        ),
        "updated_by": checks.required_text(updated_by, "updated_by", max_length=200),
    }
    interval = session.execute(select(ReviewInterval).where(ReviewInterval.funder_kind == kind)).scalar_one_or_none()
    if interval is None:
        interval = ReviewInterval(funder_kind=kind, **values)
        session.add(interval)
    else:
        for name, value in values.items():
            setattr(interval, name, value)
        interval.updated_at = utcnow()
    session.flush()
    return interval


def review_intervals(session: Session) -> list[ReviewInterval]:
    return list(session.execute(select(ReviewInterval).order_by(ReviewInterval.funder_kind)).scalars())


def review_interval(session: Session, funder_kind: str) -> ReviewInterval:
    kind = _funder_kind(funder_kind)
    interval = session.execute(select(ReviewInterval).where(ReviewInterval.funder_kind == kind)).scalar_one_or_none()
    if interval is None:
        rule = SHIPPED_INTERVALS[kind]
        return ReviewInterval(funder_kind=kind, updated_by="shipped default", **_rule_values(rule))
    return interval


def reviews_held(session: Session, budget_id: int) -> list[BudgetReview]:
    return list(
        session.execute(
            select(BudgetReview).where(BudgetReview.budget_id == budget_id).order_by(BudgetReview.held_on, BudgetReview.id)
        ).scalars()
    )


def review_requests(session: Session, budget_id: int) -> list[ReviewRequest]:
    return list(
        session.execute(
            select(ReviewRequest).where(ReviewRequest.budget_id == budget_id).order_by(ReviewRequest.asked_on, ReviewRequest.id)
        ).scalars()
    )


def _answered_due_on(facts: BudgetFacts, kind: ReviewKind, held_on: date, due_on: date | None) -> date | None:
    if due_on is None:
        answered = review_to_answer(facts, kind, held_on)
        if answered is None and kind is ReviewKind.QUARTERLY_QUALITY:
            raise _no_quarter(facts, held_on)
        return answered.due_on if answered is not None else None
    if kind is ReviewKind.QUARTERLY_QUALITY:
        quarters = [
            r for r in outstanding_reviews(facts, held_on)
            if r.kind is kind and r.quarter is not None and r.quarter.starts_on <= held_on
        ]  # fmt: skip
        if any(h.kind is kind and h.due_on == due_on for h in facts.held):
            raise Conflict(f"the quarterly quality review due on {due_on} is already recorded as held", code="review_already_held", field="due_on")
        if not any(r.due_on == due_on for r in quarters):
            raise InvalidInput(
                f"due_on {due_on} is not the due date of a quarterly quality review outstanding for {facts.reference} on {held_on}",
                code="review_not_due",
                field="due_on",
            )
    return due_on


def _no_quarter(facts: BudgetFacts, held_on: date) -> Conflict | InvalidInput:
    if not facts.has_third_party_part:
        return InvalidInput(
            f"{facts.reference} has no third-party (ISF) part: quarterly quality reviews are for ISF budgets",
            code="no_third_party_part",
            field="kind",
        )
    return Conflict(
        f"{facts.reference} has no quarterly quality review outstanding for a quarter begun by {held_on}", code="no_review_due", field="held_on"
    )


def _open_requests_by(session: Session, budget_id: int, held_on: date) -> bool:
    return (
        session.execute(
            select(ReviewRequest.id).where(
                ReviewRequest.budget_id == budget_id, ReviewRequest.answered_review_id.is_(None), ReviewRequest.asked_on <= held_on
            )
        ).first()
        is not None
    )


def _scope(as_of: date, holder_id: int | None, funder_id: int | None, budget_id: int | None) -> Select:
    scope = select(Budget.id).where(or_(Budget.status != BudgetStatus.CLOSED, Budget.period_end >= as_of))
    if holder_id is not None:
        scope = scope.where(Budget.holder_id == holder_id)
    if budget_id is not None:
        scope = scope.where(Budget.id == budget_id)
    if funder_id is not None:
        funded = (
            select(SupportPlanVersion.budget_id)
            .join(FundingLine, FundingLine.plan_version_id == SupportPlanVersion.id)
            .where(FundingLine.funder_id == funder_id, SupportPlanVersion.status == PlanStatus.AGREED)
        )
        scope = scope.where(or_(Budget.lead_funder_id == funder_id, Budget.id.in_(funded)))
    return scope


def _agreed_versions(session: Session, scope: Select) -> dict[int, list[AgreedVersion]]:
    versions: dict[int, list[AgreedVersion]] = defaultdict(list)
    v = SupportPlanVersion
    rows = session.execute(
        select(v.budget_id, v.version, v.effective_from, v.agreed_at, v.total_pence, v.review_every_months, v.next_review_on)
        .where(v.budget_id.in_(scope), v.status == PlanStatus.AGREED)
        .order_by(v.budget_id, v.version)
    )
    agreed_days: dict[datetime, date] = {}  # converting a time zone is the slow part; many plans share a moment
    for row in rows:
        if row.agreed_at is None:
            agreed_on = row.effective_from
        else:
            agreed_on = agreed_days.get(row.agreed_at) or agreed_days.setdefault(row.agreed_at, london_date(row.agreed_at))
        versions[row.budget_id].append(
            AgreedVersion(row.version, row.effective_from, agreed_on, row.total_pence, row.review_every_months, row.next_review_on)
        )
    return versions


def _requests(session: Session, scope: Select) -> dict[int, list[Request]]:
    requests: dict[int, list[Request]] = defaultdict(list)
    rows = session.execute(
        select(ReviewRequest.id, ReviewRequest.budget_id, ReviewRequest.asked_on, ReviewRequest.asked_by, ReviewRequest.reason, BudgetReview.held_on)
        .outerjoin(BudgetReview, BudgetReview.id == ReviewRequest.answered_review_id)
        .where(ReviewRequest.budget_id.in_(scope))
    )
    for row in rows:
        requests[row.budget_id].append(Request(row.id, row.asked_on, row.asked_by, row.reason, row.held_on))
    return requests


def _interval_rules(session: Session) -> dict[str, IntervalRule]:
    return {
        interval.funder_kind: IntervalRule(
            interval.first_after_months,
            interval.then_every_months,
            interval.significant_change_days,
            interval.significant_change_basis_points,
        )
        for interval in session.execute(select(ReviewInterval)).scalars()
    }


def _rule_values(rule: IntervalRule) -> dict[str, int]:
    return {
        "first_after_months": rule.first_after_months,
        "then_every_months": rule.then_every_months,
        "significant_change_days": rule.significant_change_days,
        "significant_change_basis_points": rule.significant_change_basis_points,
    }


def _funder_kind(value: str) -> FunderKind:
    try:
        return FunderKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in FunderKind)
        raise NotFound(f"there is no funding stream {value!r}; the funder kinds are: {kinds}", code="funder_kind_not_found") from None
