"""The quarterly quality review form: what it asks (every outcome of the plan in force rated
achieved, partly or not achieved with a note; what is working, what is not, what needs to
change; the actions carried from the last review with what became of them and up to five new
ones; who attended; the decision about money left), what a person typed read back into a
``QualityReviewSpec``, each mistake as a message linked to its field, and the form filled in
from a review recorded before (recording the quarter again makes its next revision)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ledger.core.money import format_amount
from ledger.errors import LedgerError
from ledger.reviews.quality_reviews import ActionSpec, AttendeeSpec, OutcomeRatingSpec, QualityReviewSpec, QualityReviewView
from ledger.store.tables import PlanOutcome
from ledger.store.tables.quality_reviews import MONEY_DECISIONS, OUTCOME_RATINGS, QualityReviewAction
from web.pages.holder_common import Errors, date_parts, pounds, three_part_date

NEW_ACTIONS = 5
ATTENDEES = 8
TEXT_MAX = 4000
NOTE_MAX = 2000
RATING_WORDS = {"achieved": "Achieved", "partly": "Partly achieved", "not_achieved": "Not achieved"}
CARRIED_WORDS = {"done": "Done", "carried": "Carry it on", "dropped": "Dropped"}
DECISION_WORDS = {"none": "Nothing decided", "keep": "Keep it", "reallocate": "Reallocate it by plan revision", "return": "Return it to the funders"}


@dataclass
class ReviewForm:
    """The form's questions and what is in its fields (text as typed, so a mistake keeps it)."""

    outcomes: list[PlanOutcome]
    carried: list[QualityReviewAction]
    values: dict[str, str] = field(default_factory=dict)
    new_rows: int = NEW_ACTIONS


def _rows(values: dict[str, str], prefix: str, names: tuple[str, ...], count: int) -> list[tuple[int, dict[str, str]]]:
    return [(n, {name: values.get(f"{prefix}-{n}-{name}", "") for name in names}) for n in range(1, count + 1)]


def read_review(form: ReviewForm, today: date, quarter_starts: date) -> tuple[QualityReviewSpec | None, Errors]:
    """The review the form describes, or every mistake in it."""
    values, errors = form.values, []
    held_on = three_part_date(values, "held", "the day the review was held", errors)
    if held_on is not None and held_on > today:
        errors.append(("held-day", "The day the review was held must be today or in the past"))
    elif held_on is not None and held_on < quarter_starts:
        errors.append(("held-day", "The review must be held after its quarter started"))
    outcomes = _outcomes(form, errors)
    actions = _carried(form, errors) + _new_actions(form, errors)
    attendees = _attendees(values, errors)
    decision, amount, note = _decision(values, errors)
    texts = {name: values.get(name, "") for name in ("working", "not_working", "to_change")}
    for name, text in texts.items():
        if len(text) > TEXT_MAX:
            errors.append((name, f"Write {TEXT_MAX:,} characters or fewer"))
    if errors:
        return None, errors
    assert held_on is not None
    return QualityReviewSpec(
        held_on=held_on, attendees=tuple(attendees), outcomes=tuple(outcomes), working=texts["working"], not_working=texts["not_working"],
        to_change=texts["to_change"], actions=tuple(actions), money_decision=decision, money_decision_amount_pence=amount, money_decision_note=note,
    ), []  # fmt: skip


def _outcomes(form: ReviewForm, errors: Errors) -> list[OutcomeRatingSpec]:
    rated = []
    for outcome in form.outcomes:
        rating = form.values.get(f"outcome-{outcome.id}", "")
        note = form.values.get(f"outcome-{outcome.id}-note", "")
        if rating not in OUTCOME_RATINGS:
            errors.append((f"outcome-{outcome.id}", f"Say whether “{outcome.description[:80]}” was achieved"))
        elif len(note) > NOTE_MAX:
            errors.append((f"outcome-{outcome.id}-note", f"Write {NOTE_MAX:,} characters or fewer about this outcome"))
        else:
            rated.append(OutcomeRatingSpec(rating, outcome.id, note=note or None))
    return rated


def _carried(form: ReviewForm, errors: Errors) -> list[ActionSpec]:
    found = []
    for action in form.carried:
        status = form.values.get(f"carried-{action.id}", "carried")
        note = form.values.get(f"carried-{action.id}-note", "")
        if status not in CARRIED_WORDS:
            errors.append((f"carried-{action.id}", f"Say what became of “{action.what[:80]}”"))
            continue
        found.append(ActionSpec(action.who, action.what, action.by_when, status, action.id, note[:1000] or None))
    return found


def _new_actions(form: ReviewForm, errors: Errors) -> list[ActionSpec]:
    found = []
    for number, row in _rows(form.values, "action", ("who", "what"), form.new_rows):
        prefix = f"action-{number}"
        has_date = any(form.values.get(f"{prefix}-by-{part}") for part in ("day", "month", "year"))
        if not (row["who"] or row["what"] or has_date):
            continue
        if not row["who"]:
            errors.append((f"{prefix}-who", f"Say who will do new action {number}"))
        if not row["what"]:
            errors.append((f"{prefix}-what", f"Say what new action {number} is"))
        by_when = three_part_date(form.values, f"{prefix}-by", f"the day new action {number} is due", errors)
        if row["who"] and row["what"] and by_when is not None:
            found.append(ActionSpec(row["who"][:200], row["what"][:1000], by_when))
    return found


def _attendees(values: dict[str, str], errors: Errors) -> list[AttendeeSpec]:
    found = []
    for number, row in _rows(values, "attendee", ("name", "role"), ATTENDEES):
        if row["name"] and not row["role"]:
            errors.append((f"attendee-{number}-role", f"Say what part {row['name'][:60]} has (the person, a parent, a support worker, …)"))
        elif row["role"] and not row["name"]:
            errors.append((f"attendee-{number}-name", f"Enter the name of the {row['role'][:60]}"))
        elif row["name"]:
            found.append(AttendeeSpec(row["name"][:200], row["role"][:200]))
    if not found and not any(name.startswith("attendee-") for name, _ in errors):
        errors.append(("attendee-1-name", "Say who attended the review (at least one person)"))
    return found


def _decision(values: dict[str, str], errors: Errors) -> tuple[str, int | None, str | None]:
    decision = values.get("money_decision", "none") or "none"
    if decision not in MONEY_DECISIONS:
        errors.append(("money_decision", "Choose what was decided about money left"))
        return "none", None, None
    needs_amount = decision in ("reallocate", "return")
    amount = pounds(values.get("money_amount", ""), "money_amount", "how much money", errors, required=needs_amount)
    if decision == "none" and amount:
        errors.append(("money_decision", "An amount needs a decision: keep, reallocate or return"))
    note = values.get("money_note", "")
    if decision != "none" and not note:
        errors.append(("money_note", "Say why this was decided about the money"))
    if len(note) > NOTE_MAX:
        errors.append(("money_note", f"Write {NOTE_MAX:,} characters or fewer"))
    return decision, amount, note or None


LEDGER_FIELDS = (
    ("held_on", "held-day"), ("quarter", "held-day"), ("outcomes", "outcomes"), ("attendees", "attendee-1-name"),
    ("money_decision_amount", "money_amount"), ("money_decision_note", "money_note"), ("money_decision", "money_decision"),
    ("actions", "actions"), ("working", "working"), ("not_working", "not_working"), ("to_change", "to_change"),
)  # fmt: skip


def ledger_error(form: ReviewForm, refused: LedgerError) -> Errors:
    """A refusal from ``ledger.reviews.quality_reviews``, linked to the part of the form it is about."""
    given = refused.field or ""
    for prefix, target in LEDGER_FIELDS:
        if given.startswith(prefix):
            if target == "outcomes":
                target = f"outcome-{form.outcomes[0].id}" if form.outcomes else "held-day"
            return [(target, refused.message)]
    return [("held-day", refused.message)]


def filled_from(form: ReviewForm, view: QualityReviewView | None) -> ReviewForm:
    """The form with a recorded review's answers in it (defaults when there is none)."""
    values: dict[str, str] = {"money_decision": "none"}
    values.update({f"carried-{action.id}": "carried" for action in form.carried})
    if view is None:
        form.values = values
        return form
    review = view.review
    values.update({f"held-{part}": text for part, text in date_parts(review.held_on).items()})
    values.update(working=review.working, not_working=review.not_working, to_change=review.to_change, money_decision=review.money_decision,
                  money_amount=format_amount(review.money_decision_amount_pence) if review.money_decision_amount_pence else "",
                  money_note=review.money_decision_note or "")  # fmt: skip
    for outcome in view.outcomes:
        if outcome.plan_outcome_id is not None:
            values[f"outcome-{outcome.plan_outcome_id}"] = outcome.rating
            values[f"outcome-{outcome.plan_outcome_id}-note"] = outcome.note or ""
    new = [a for a in view.actions if a.carried_from_id is None]
    for action in view.actions:
        if action.carried_from_id is not None:
            values[f"carried-{action.carried_from_id}"] = action.status
            values[f"carried-{action.carried_from_id}-note"] = action.note or ""
    for number, action in enumerate(new, start=1):
        values.update({f"action-{number}-who": action.who, f"action-{number}-what": action.what})
        values.update({f"action-{number}-by-{part}": text for part, text in date_parts(action.by_when).items()})
    for number, attendee in enumerate(view.attendees[:ATTENDEES], start=1):
        values.update({f"attendee-{number}-name": attendee.name, f"attendee-{number}-role": attendee.role})
    form.values = values
    form.new_rows = max(NEW_ACTIONS, len(new))
    return form
