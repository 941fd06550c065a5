"""The ISF provider's quarterly quality reviews: held with the person, their family and the
support team three to four weeks after each quarter ends, through
``ledger.reviews.quality_reviews`` (so they also leave the reviews-due list).

Every ISF budget has its reviews for the quarters that ended while its plan ran, except the
latest quarter of two budgets (their reviews are overdue, as in real life). Outcomes are
rated, actions agreed and the ones left open carried to the next review; the review of a
budget holding a surplus decides to keep it for a named reason or to reallocate it.
Everything is chosen by the budget's reference and the quarter, so the demo is the same
every time. Plan reviews (``record_demo_plan_reviews``) are held a few days after they fall
due, except three budgets' (overdue).
"""

from __future__ import annotations

from datetime import date, timedelta
from zlib import crc32

from sqlalchemy.orm import Session

from ledger.budgets.plans import agreed_version_on, view
from ledger.core.periods import Quarter, quarter_of
from ledger.demo.recipes import BudgetRecipe
from ledger.demo.world import World
from ledger.reviews.due import ReviewKind
from ledger.reviews.plan_reviews import record_review_held, reviews_due
from ledger.reviews.quality_reviews import ActionSpec, AttendeeSpec, OutcomeRatingSpec, QualityReviewSpec, open_actions_before, record_quality_review

ISF_HOLDER = "tamar-valley-isf"
OVERDUE = ("ISF-0003", "ISF-0010")
"""Budgets whose latest quarter's review has not been held yet."""
HELD_AFTER_DAYS = (21, 24, 26, 28)
RECORDED_BY = "Sam Reed (Tamar Valley)"
SURPLUS_KEPT = {"ISF-0006": ("keep", 150_000, "Saving towards a short break in the spring, agreed with the family")}

WORKING = (
    "The morning routine is settled and the team knows it well.",
    "Going out three times a week has become normal; the café trips are the favourite.",
    "The new support worker has fitted in quickly.",
    "Cooking together on Thursdays is going well.",
)
NOT_WORKING = (
    "Evening cover is patchy when the regular worker is off.",
    "The bus to the day centre is often late, which causes anxiety.",
    "Sleep has been broken since the clocks changed.",
    "Nothing major this quarter.",
)
TO_CHANGE = (
    "Train a second worker for evenings.",
    "Try a taxi account for the day centre run.",
    "Ask the GP about a sleep review.",
    "Keep things as they are.",
)
ACTIONS = (
    ("Team leader", "Train a second worker for evening cover"),
    ("Care coordinator", "Ask for an occupational therapy assessment"),
    ("Family", "Find a swimming session at a quieter time"),
    ("Sam Reed", "Set up a taxi account for the day centre run"),
    ("Care coordinator", "Look into a sleep review with the GP"),
)
RATINGS = ("achieved", "partly", "partly", "not_achieved", "achieved")


def record_demo_reviews(session: Session, world: World, *, today: date) -> int:
    """Record the quarterly reviews due by ``today``; returns how many were recorded."""
    recorded = 0
    for reference, recipe in sorted(world.recipes.items()):
        if recipe.holder != ISF_HOLDER:
            continue
        quarters = _ended_quarters(recipe.period_start, recipe.period_end, today)
        if reference in OVERDUE:
            quarters = quarters[:-1]
        for quarter in quarters:
            held_on = quarter.ends_on + timedelta(days=HELD_AFTER_DAYS[_pick(reference, quarter, len(HELD_AFTER_DAYS))])
            if held_on > today:
                continue
            spec = _spec(session, world.budget_ids[reference], recipe, quarter, held_on, latest=quarter == quarters[-1])
            if spec is not None:
                record_quality_review(session, world.budget_ids[reference], quarter.label, spec, recorded_by=RECORDED_BY, today=today)
                recorded += 1
    return recorded


PLAN_REVIEWS_OVERDUE = ("MA-0003", "DP-0002", "NOT-0003")
"""Budgets whose plan review is still to be held (overdue), so a funder's tracker has
exceptions to show; every other budget's plan reviews were held on time."""


def record_demo_plan_reviews(session: Session, world: World, *, today: date) -> int:
    """Hold each plan review that fell due before ``today`` a few days after it was due."""
    recorded = 0
    for reference in sorted(world.budget_ids):
        if reference in PLAN_REVIEWS_OVERDUE:
            continue
        budget_id = world.budget_ids[reference]
        while True:  # a held review can make the next one due (a plan reviewed every 3 months)
            due = next((r for r in reviews_due(session, as_of=today, budget_id=budget_id, include_upcoming_days=0) if r.kind == ReviewKind.PLAN), None)
            held_on = due.due_on + timedelta(days=3 + crc32(reference.encode()) % 10) if due is not None else today
            if due is None or held_on > today:
                break
            record_review_held(
                session, budget_id, kind=ReviewKind.PLAN, held_on=held_on, recorded_by=RECORDED_BY if reference.startswith("ISF") else "Care coordinator",
                note="Plan reviewed with the person and their family", due_on=due.due_on, today=today,
            )  # fmt: skip
            recorded += 1
    return recorded


def _ended_quarters(start: date, end: date, today: date) -> list[Quarter]:
    quarters = []
    quarter = quarter_of(start)
    while quarter.ends_on < today and quarter.starts_on <= end:
        quarters.append(quarter)
        quarter = quarter.next()
    return quarters


def _pick(reference: str, quarter: Quarter, choices: int, salt: str = "") -> int:
    return crc32(f"{reference}|{quarter.label}|{salt}".encode()) % choices


def _spec(session: Session, budget_id: int, recipe: BudgetRecipe, quarter: Quarter, held_on: date, *, latest: bool) -> QualityReviewSpec | None:
    reference = recipe.reference
    plan = agreed_version_on(session, budget_id, quarter.ends_on)
    if plan is None:
        return None
    outcomes = view(session, plan).outcomes
    ratings = tuple(
        OutcomeRatingSpec(RATINGS[_pick(reference, quarter, len(RATINGS), o.description)], plan_outcome_id=o.id,
                          note="Getting there: two good weeks out of three." if RATINGS[_pick(reference, quarter, len(RATINGS), o.description)] == "partly" else None)
        for o in outcomes
    )  # fmt: skip
    carried = tuple(
        ActionSpec(a.who, a.what, a.by_when, status="done" if _pick(reference, quarter, 3, a.what) else "carried", carried_from_id=a.id)
        for a in open_actions_before(session, budget_id, quarter)
    )  # fmt: skip
    who, what = ACTIONS[_pick(reference, quarter, len(ACTIONS), "action")]
    new = (ActionSpec(who, what, held_on + timedelta(days=42)),)
    decision, amount, note = SURPLUS_KEPT.get(reference, ("none", None, None)) if latest else ("none", None, None)
    pick = _pick(reference, quarter, len(WORKING))
    family = tuple(AttendeeSpec(r.name, r.relationship.capitalize()) for r in recipe.person.representatives[:1])
    return QualityReviewSpec(
        held_on=held_on,
        attendees=(AttendeeSpec(recipe.person.name, "The person the budget is for"), *family,
                   AttendeeSpec("Sam Reed", "Support manager, Tamar Valley"), AttendeeSpec("Lee Carter", "Lead support worker")),
        outcomes=ratings,
        working=WORKING[pick],
        not_working=NOT_WORKING[pick],
        to_change=TO_CHANGE[pick],
        actions=carried + new,
        money_decision=decision,
        money_decision_amount_pence=amount,
        money_decision_note=note,
    )  # fmt: skip
