"""Recording a quarterly quality review: the people's part of the review (DESIGN.md §1
"Reviews") — each outcome of the plan marked achieved, partly or not with a note, what is
working, what is not, what needs to change, actions (who, what, by when), who attended, and
what was decided about money left.

Actions still open from the budget's previous review are carried: the new review says what
became of each (done, carried again, dropped); one it does not mention is carried as it was,
so nothing agreed is lost between reviews. Recording a quarter again makes a new revision
(the old one is kept). The first revision for an ISF budget also records the quarter's
quality review as held, so it leaves the reviews-due list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.budgets.plans import agreed_version_on
from ledger.core import checks
from ledger.core.journal import lock_book
from ledger.core.periods import Quarter, parse_quarter
from ledger.core.vocabulary import ManagementOption
from ledger.errors import Conflict, InvalidInput
from ledger.reviews.due import ReviewKind, quarterly_review_due_on
from ledger.reviews.plan_reviews import record_review_held
from ledger.store.tables import Budget, BudgetPart, PlanOutcome, SupportPlanVersion
from ledger.store.tables.quality_reviews import (
    ACTION_STATUSES,
    MONEY_DECISIONS,
    OUTCOME_RATINGS,
    QualityReview,
    QualityReviewAction,
    QualityReviewAttendee,
    QualityReviewOutcome,
)
from ledger.store.tables.reviews import BudgetReview

TEXT_MAX = 4000
ITEMS_MAX = 50
OPEN_STATUSES = ("open", "carried")


@dataclass(frozen=True, slots=True)
class OutcomeRatingSpec:
    rating: str
    plan_outcome_id: int | None = None
    description: str | None = None
    """Only for an outcome that is not in the plan (one the review adds)."""
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ActionSpec:
    who: str
    what: str
    by_when: date
    status: str = "open"
    carried_from_id: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AttendeeSpec:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class QualityReviewSpec:
    held_on: date
    attendees: tuple[AttendeeSpec, ...]
    outcomes: tuple[OutcomeRatingSpec, ...] = ()
    working: str = ""
    not_working: str = ""
    to_change: str = ""
    actions: tuple[ActionSpec, ...] = ()
    money_decision: str = "none"
    money_decision_amount_pence: int | None = None
    money_decision_note: str | None = None


@dataclass(frozen=True)
class QualityReviewView:
    review: QualityReview
    outcomes: list[QualityReviewOutcome] = field(default_factory=list)
    actions: list[QualityReviewAction] = field(default_factory=list)
    attendees: list[QualityReviewAttendee] = field(default_factory=list)


def record_quality_review(
    session: Session, budget_id: int, quarter_text: str, spec: QualityReviewSpec, *, recorded_by: str, today: date
) -> QualityReviewView:
    budget = get_budget(session, budget_id)
    quarter = parse_quarter(quarter_text)
    who = checks.required_text(recorded_by, "recorded_by", max_length=200)
    _check_quarter(budget, quarter)
    if spec.held_on > today:
        raise InvalidInput(f"held_on {spec.held_on} is in the future; record a review once it has been held", code="held_in_future", field="held_on")
    checks.date_between(spec.held_on, "held_on", earliest=quarter.starts_on, latest=today)
    lock_book(session, budget.holder_id)
    plan = agreed_version_on(session, budget.id, min(quarter.ends_on, budget.period_end))
    if plan is None:
        raise Conflict(f"{budget.reference} had no agreed plan in {quarter.label}: there was nothing to review", code="plan_not_agreed", field="quarter")
    outcomes = _checked_outcomes(session, plan, spec.outcomes)
    attendees = _checked_attendees(spec.attendees)
    decision = _checked_decision(spec)
    previous_open = open_actions_before(session, budget.id, quarter)
    actions = _checked_actions(spec.actions, {a.id: a for a in previous_open}, quarter)
    revision = (session.scalar(select(func.max(QualityReview.revision)).where(QualityReview.budget_id == budget.id, QualityReview.quarter == quarter.label)) or 0) + 1
    review = QualityReview(
        budget_id=budget.id, quarter=quarter.label, revision=revision, held_on=spec.held_on, plan_version_id=plan.id,
        working=_long_text(spec.working, "working"), not_working=_long_text(spec.not_working, "not_working"),
        to_change=_long_text(spec.to_change, "to_change"), money_decision=decision[0], money_decision_amount_pence=decision[1],
        money_decision_note=decision[2], recorded_by=who,
        budget_review_id=_held_review_id(session, budget, quarter, spec.held_on, who, today) if revision == 1 else _first_revision_link(session, budget.id, quarter),
    )  # fmt: skip
    session.add(review)
    session.flush()
    rows: list = []
    rows += [QualityReviewOutcome(review_id=review.id, position=i, **values) for i, values in enumerate(outcomes, start=1)]
    rows += [QualityReviewAttendee(review_id=review.id, position=i, name=n, role=r) for i, (n, r) in enumerate(attendees, start=1)]
    rows += [QualityReviewAction(review_id=review.id, position=i, **values) for i, values in enumerate(actions, start=1)]
    session.add_all(rows)
    session.flush()
    view = quality_review_of(session, budget.id, quarter.label)
    assert view is not None
    return view


def quality_review_of(session: Session, budget_id: int, quarter_text: str, *, revision: int | None = None) -> QualityReviewView | None:
    """The review recorded for a budget and quarter (its latest revision unless told)."""
    query = select(QualityReview).where(QualityReview.budget_id == budget_id, QualityReview.quarter == parse_quarter(quarter_text).label)
    query = query.where(QualityReview.revision == revision) if revision is not None else query.order_by(QualityReview.revision.desc())
    review = session.scalars(query.limit(1)).first()
    if review is None:
        return None
    return QualityReviewView(
        review,
        list(session.scalars(select(QualityReviewOutcome).where(QualityReviewOutcome.review_id == review.id).order_by(QualityReviewOutcome.position))),
        list(session.scalars(select(QualityReviewAction).where(QualityReviewAction.review_id == review.id).order_by(QualityReviewAction.position))),
        list(session.scalars(select(QualityReviewAttendee).where(QualityReviewAttendee.review_id == review.id).order_by(QualityReviewAttendee.position))),
    )


def open_actions_before(session: Session, budget_id: int, quarter: Quarter) -> list[QualityReviewAction]:
    """Actions left open by the budget's latest review of an earlier quarter."""
    earlier = session.execute(
        select(QualityReview.quarter).where(QualityReview.budget_id == budget_id, QualityReview.quarter < quarter.label)
        .order_by(QualityReview.quarter.desc()).limit(1)
    ).scalar()  # fmt: skip
    if earlier is None:
        return []
    view = quality_review_of(session, budget_id, earlier)
    assert view is not None
    return [action for action in view.actions if action.status in OPEN_STATUSES]


def _check_quarter(budget: Budget, quarter: Quarter) -> None:
    if quarter.ends_on < budget.period_start or quarter.starts_on > budget.period_end:
        raise InvalidInput(
            f"{budget.reference}'s plan runs {budget.period_start} to {budget.period_end}: {quarter.label} is outside it",
            code="quarter_outside_plan",
            field="quarter",
        )


def _checked_outcomes(session: Session, plan: SupportPlanVersion, given: tuple[OutcomeRatingSpec, ...]) -> list[dict]:
    planned = {o.id: o for o in session.scalars(select(PlanOutcome).where(PlanOutcome.plan_version_id == plan.id).order_by(PlanOutcome.position))}
    if len(given) > ITEMS_MAX:
        raise InvalidInput(f"at most {ITEMS_MAX} outcomes", code="too_many_items", field="outcomes")
    rated: set[int] = set()
    values = []
    for index, outcome in enumerate(given):
        where = f"outcomes[{index}]"
        rating = checks.text(outcome.rating, f"{where}.rating", max_length=20)
        if rating not in OUTCOME_RATINGS:
            raise InvalidInput(f"{where}.rating must be one of: {', '.join(OUTCOME_RATINGS)}", code="field_not_allowed", field=f"{where}.rating")
        note = checks.text(outcome.note, f"{where}.note", max_length=2000, required=False)
        if outcome.plan_outcome_id is not None:
            found = planned.get(outcome.plan_outcome_id)
            if found is None:
                raise InvalidInput(
                    f"{where}.plan_outcome_id {outcome.plan_outcome_id} is not an outcome of the plan in force (version {plan.version})",
                    code="outcome_not_in_plan",
                    field=f"{where}.plan_outcome_id",
                )
            if found.id in rated:
                raise InvalidInput(f"{where}: outcome {found.id} is rated twice", code="outcome_rated_twice", field=f"{where}.plan_outcome_id")
            rated.add(found.id)
            description = found.description
        else:
            description = checks.required_text(outcome.description, f"{where}.description", max_length=1000)
        values.append({"plan_outcome_id": outcome.plan_outcome_id, "description": description, "rating": rating, "note": note})
    missing = [o for o in planned.values() if o.id not in rated]
    if missing:
        raise InvalidInput(
            f"every outcome of the plan is reviewed: rate {', '.join(repr(o.description) for o in missing[:3])} too (plan_outcome_id "
            f"{', '.join(str(o.id) for o in missing[:3])})",
            code="outcome_not_rated",
            field="outcomes",
        )
    return values


def _checked_attendees(given: tuple[AttendeeSpec, ...]) -> list[tuple[str, str]]:
    if not given:
        raise InvalidInput("say who attended the review (at least one person)", code="attendees_missing", field="attendees")
    if len(given) > ITEMS_MAX:
        raise InvalidInput(f"at most {ITEMS_MAX} attendees", code="too_many_items", field="attendees")
    return [
        (checks.required_text(a.name, f"attendees[{i}].name", max_length=200), checks.required_text(a.role, f"attendees[{i}].role", max_length=200))
        for i, a in enumerate(given)
    ]


def _checked_decision(spec: QualityReviewSpec) -> tuple[str, int | None, str | None]:
    decision = spec.money_decision
    if decision not in MONEY_DECISIONS:
        raise InvalidInput(f"money_decision must be one of: {', '.join(MONEY_DECISIONS)}", code="field_not_allowed", field="money_decision")
    amount = spec.money_decision_amount_pence
    if amount is not None and amount < 0:
        raise InvalidInput("money_decision_amount must not be negative", code="amount_negative", field="money_decision_amount")
    if decision in ("reallocate", "return") and not amount:
        raise InvalidInput(f"say how much money is to {'be reallocated' if decision == 'reallocate' else 'go back'}", code="amount_missing", field="money_decision_amount")
    if decision == "none" and amount:
        raise InvalidInput("an amount needs a decision (keep, reallocate or return)", code="decision_missing", field="money_decision")
    note = checks.text(spec.money_decision_note, "money_decision_note", max_length=2000, required=decision != "none")
    return decision, amount, note


def _checked_actions(given: tuple[ActionSpec, ...], previous_open: dict[int, QualityReviewAction], quarter: Quarter) -> list[dict]:
    if len(given) > ITEMS_MAX:
        raise InvalidInput(f"at most {ITEMS_MAX} actions", code="too_many_items", field="actions")
    values = []
    mentioned: set[int] = set()
    for index, action in enumerate(given):
        where = f"actions[{index}]"
        if action.status not in ACTION_STATUSES:
            raise InvalidInput(f"{where}.status must be one of: {', '.join(ACTION_STATUSES)}", code="field_not_allowed", field=f"{where}.status")
        if action.carried_from_id is not None:
            if action.carried_from_id not in previous_open:
                raise InvalidInput(
                    f"{where}.carried_from_id {action.carried_from_id} is not an action left open by this budget's previous review",
                    code="action_not_open",
                    field=f"{where}.carried_from_id",
                )
            if action.carried_from_id in mentioned:
                raise InvalidInput(f"{where}: action {action.carried_from_id} is carried twice", code="action_carried_twice", field=f"{where}.carried_from_id")
            mentioned.add(action.carried_from_id)
        elif action.status != "open":
            raise InvalidInput(f"{where}: a new action is open (only a carried one is done, carried or dropped)", code="new_action_not_open", field=f"{where}.status")
        values.append({
            "who": checks.required_text(action.who, f"{where}.who", max_length=200),
            "what": checks.required_text(action.what, f"{where}.what", max_length=1000),
            "by_when": checks.date_between(action.by_when, f"{where}.by_when", earliest=date(2000, 1, 1), latest=date(2100, 12, 31)),
            "status": action.status,
            "carried_from_id": action.carried_from_id,
            "note": checks.text(action.note, f"{where}.note", max_length=1000, required=False),
        })  # fmt: skip
    for action_id, action in previous_open.items():
        if action_id not in mentioned:
            values.append({
                "who": action.who, "what": action.what, "by_when": action.by_when, "status": "carried",
                "carried_from_id": action_id, "note": f"Carried from {quarter.label}'s previous review unchanged",
            })  # fmt: skip
    return values


def _long_text(value: str, field_name: str) -> str:
    return checks.text(value or "", field_name, max_length=TEXT_MAX, required=False) or ""


def _held_review_id(session: Session, budget: Budget, quarter: Quarter, held_on: date, who: str, today: date) -> int | None:
    """Record the quarter's quality review as held (ISF budgets only, once)."""
    has_isf = session.scalar(
        select(BudgetPart.id).where(BudgetPart.budget_id == budget.id, BudgetPart.management_option == ManagementOption.THIRD_PARTY).limit(1)
    )
    if has_isf is None:
        return None
    due_on = quarterly_review_due_on(quarter)
    existing = session.scalar(
        select(BudgetReview.id).where(BudgetReview.budget_id == budget.id, BudgetReview.kind == ReviewKind.QUARTERLY_QUALITY, BudgetReview.due_on == due_on)
    )
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            held = record_review_held(
                session, budget.id, kind=ReviewKind.QUARTERLY_QUALITY, held_on=held_on, recorded_by=who,
                note=f"Quarterly quality review of {quarter.label}", due_on=due_on, today=today,
            )  # fmt: skip
    except (Conflict, InvalidInput):
        return None  # the quarter is not one the reviews-due list asks for (before the plan's first quarter)
    return held.id


def _first_revision_link(session: Session, budget_id: int, quarter: Quarter) -> int | None:
    return session.scalar(
        select(QualityReview.budget_review_id).where(QualityReview.budget_id == budget_id, QualityReview.quarter == quarter.label, QualityReview.revision == 1)
    )
