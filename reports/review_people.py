"""The people's part of a quarterly review document: outcomes, what is working and what is
not, actions, who attended, and the decision about money left, from the review recorded
with ``ledger.reviews.quality_reviews`` — or, before it is recorded, what the review will cover."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.periods import Quarter
from ledger.reviews.quality_reviews import open_actions_before, quality_review_of
from ledger.store.tables import Budget, PlanOutcome, SupportPlanVersion
from ledger.store.tables.quality_reviews import QualityReviewAction
from reports.document import Column, Fact, Facts, Paragraphs, Section, ValueKind, table
from reports.formatting import day_text

RATING_WORDS = {"achieved": "Achieved", "partly": "Partly achieved", "not_achieved": "Not achieved"}
STATUS_WORDS = {"open": "Open", "done": "Done", "carried": "Carried to the next review", "dropped": "Dropped"}
DECISION_WORDS = {
    "none": "Nothing to decide",
    "keep": "Keep the money (for the reason noted)",
    "reallocate": "Reallocate it by revising the plan",
    "return": "Return it to the funders",
}


def people_sections(session: Session, budget: Budget, quarter: Quarter, plan: SupportPlanVersion | None) -> list[Section]:
    view = quality_review_of(session, budget.id, quarter.label)
    if view is None:
        return [_not_recorded(session, budget, quarter, plan)]
    review = view.review
    outcomes = table(
        "outcomes", "Outcomes from the plan",
        (Column("outcome", "Outcome"), Column("rating", "How it is going"), Column("note", "Note")),
        [(o.description, RATING_WORDS[o.rating], o.note or "") for o in view.outcomes],
        row_marks=[None if o.rating == "achieved" else "partly" if o.rating == "partly" else "not_achieved" for o in view.outcomes],
        empty_text="The plan names no outcomes.",
    )  # fmt: skip
    said = tuple(
        Paragraphs(key, title, tuple(line for line in text.splitlines() if line.strip()) or ("Nothing recorded.",))
        for key, title, text in (
            ("working", "What is working", review.working),
            ("not_working", "What is not working", review.not_working),
            ("to_change", "What needs to change", review.to_change),
        )
    )
    actions = _actions_table(session, view.actions)
    attendees = table(
        "attendees", "Who attended", (Column("name", "Name"), Column("role", "Role")), [(a.name, a.role) for a in view.attendees]
    )
    decision = Facts("money_decision", "Money left: what was decided", (
        Fact("Decision", DECISION_WORDS[review.money_decision]),
        Fact("Amount", review.money_decision_amount_pence, ValueKind.MONEY) if review.money_decision_amount_pence is not None else Fact("Amount", "None named"),
        Fact("Why", review.money_decision_note or "No note"),
    ))  # fmt: skip
    intro = f"Held on {day_text(review.held_on)}; recorded by {review.recorded_by}" + (f" (revision {review.revision})" if review.revision > 1 else "") + "."
    return [
        Section("outcomes", "Outcomes", (outcomes,), intro=intro),
        Section("discussion", "What people said", said),
        Section("actions", "Actions", (actions,)),
        Section("attendance", "Attendance and decisions", (attendees, decision)),
    ]


def _actions_table(session: Session, actions: list[QualityReviewAction]):  # type: ignore[no-untyped-def]
    carried_ids = [a.carried_from_id for a in actions if a.carried_from_id is not None]
    origins = {}
    if carried_ids:
        origins = {row.id: row for row in session.scalars(select(QualityReviewAction).where(QualityReviewAction.id.in_(carried_ids)))}
    ordered = sorted(actions, key=lambda a: (a.carried_from_id is None, a.position))
    rows = []
    for action in ordered:
        origin = origins.get(action.carried_from_id) if action.carried_from_id is not None else None
        rows.append((action.what, action.who, action.by_when, STATUS_WORDS[action.status], "From the last review" if origin else "New", action.note or ""))
    return table(
        "actions", "Actions (who, what, by when)",
        (Column("what", "What"), Column("who", "Who"), Column("by_when", "By when", ValueKind.DATE), Column("status", "Status"), Column("origin", "Agreed"), Column("note", "Note")),
        rows, empty_text="No actions were agreed.",
    )  # fmt: skip


def _not_recorded(session: Session, budget: Budget, quarter: Quarter, plan: SupportPlanVersion | None) -> Section:
    outcomes = []
    if plan is not None:
        outcomes = list(session.scalars(select(PlanOutcome.description).where(PlanOutcome.plan_version_id == plan.id).order_by(PlanOutcome.position)))
    carried = open_actions_before(session, budget.id, quarter)
    lines = ["The people's part of this review (outcomes, what is working, actions, who attended, the decision about money left) has not been recorded yet."]
    if outcomes:
        lines.append("Outcomes to review: " + "; ".join(outcomes) + ".")
    if carried:
        lines.append("Actions open from the last review: " + "; ".join(f"{a.what} ({a.who}, by {day_text(a.by_when)})" for a in carried) + ".")
    return Section("people", "The review meeting", (Paragraphs("not_recorded", None, tuple(lines)),))
