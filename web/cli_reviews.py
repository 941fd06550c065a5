"""``phb-ledger reviews``: the reviews due and overdue, recording a review held, and a
family's request for a review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.reviews.due import ReviewDue, ReviewKind, words_for_day
from ledger.reviews.plan_reviews import record_review_held, request_review, review_requests, reviews_due
from ledger.store.tables.reviews import BudgetReview, ReviewRequest
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, reporting_errors, stdout
from web.clock import today_in_england

reviews_app = typer.Typer(help="Reviews: what is due and overdue, reviews held, reviews asked for.", no_args_is_help=True)

KINDS = ", ".join(kind.value for kind in ReviewKind)


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the ``phb-ledger`` app."""
    app.add_typer(reviews_app, name="reviews")


@reviews_app.command("due")
def due(
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As at this day (YYYY-MM-DD; default today)")] = None,
    holder: Annotated[str | None, typer.Option(help="Only this holder's budgets (its code)")] = None,
    funder: Annotated[str | None, typer.Option(help="Only budgets this funder leads or pays towards (its code)")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only the overdue ones")] = False,
    days: Annotated[int, typer.Option("--days", min=0, max=366, help="Also list reviews due within this many days")] = 30,
    as_json: JsonOption = False,
) -> None:
    """The reviews overdue and due soon, overdue first."""
    with reporting_errors():
        day = parse_date(as_of, "--as-of") or today_in_england()
        database = open_database(db)
        with database.read() as session:
            holder_id = parties.holder_by_code(session, holder).id if holder else None
            funder_id = parties.funder_by_code(session, funder).id if funder else None
            found = reviews_due(session, as_of=day, holder_id=holder_id, funder_id=funder_id, include_upcoming_days=days)
    found = [review for review in found if review.is_overdue or not overdue]
    if as_json:
        print_json([due_as_json(review) for review in found])
        return
    if not found:
        stdout.print(f"No reviews {'overdue' if overdue else 'overdue or due'} as at {words_for_day(day)}.", highlight=False)
        return
    table = Table("Budget", "Review", "Due", "Status", "Why", title=f"Reviews as at {words_for_day(day)}")
    for review in found:
        status = "[bold red]overdue[/]" if review.is_overdue else "due"
        table.add_row(review.reference, review.kind.value.replace("_", " "), str(review.due_on), status, review.reason)
    stdout.print(table)


@reviews_app.command("held")
def held(
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of: {KINDS}")],
    on: Annotated[str, typer.Option("--on", help="The day it was held (YYYY-MM-DD)")],
    by: Annotated[str, typer.Option("--by", help="Who records it")],
    note: Annotated[str | None, typer.Option("--note", help="A short note")] = None,
    due_on: Annotated[str | None, typer.Option("--due", help="Which due review it answers (its due date); default the oldest")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record that a review was held. A plan or requested review answers the family's open requests."""
    with reporting_errors():
        held_on = parse_date(on, "--on")
        assert held_on is not None
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            review = record_review_held(
                session, budget_id, kind=kind, held_on=held_on, recorded_by=by, note=note,
                due_on=parse_date(due_on, "--due"), today=today_in_england(),
            )  # fmt: skip
            answered = [r.id for r in review_requests(session, budget_id) if r.answered_review_id == review.id]
    if as_json:
        print_json(held_as_json(review, budget, answered))
        return
    answering = f", answering the review due on {review.due_on}" if review.due_on else ""
    requests = f"; it answered {len(answered)} request(s) from the family" if answered else ""
    what = f"the {review.kind.replace('_', ' ')} review of {budget} held on {review.held_on}"
    stdout.print(f"Recorded {what}{answering}{requests}.", highlight=False, soft_wrap=True)


@reviews_app.command("request")
def request(
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    by: Annotated[str, typer.Option("--by", help="Who asked: the person, a representative")],
    reason: Annotated[str, typer.Option("--reason", help="What they asked for")],
    on: Annotated[str | None, typer.Option("--on", help="The day they asked (default today)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a family's request for a change or a review: due within 28 days."""
    with reporting_errors():
        today = today_in_england()
        asked_on = parse_date(on, "--on") or today
        database = open_database(db)
        with database.write() as session:
            made = request_review(
                session, budgets.budget_by_reference(session, budget).id, asked_by=by, reason=reason, asked_on=asked_on, today=today
            )
    if as_json:
        print_json(request_as_json(made, budget))
        return
    stdout.print(f"Recorded {made.asked_by}'s request for a review of {budget}, asked on {made.asked_on}.", highlight=False, soft_wrap=True)


@reviews_app.command("quality")
def quality(
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    quarter: Annotated[str, typer.Argument(help="The quarter reviewed: 2026Q1 = April to June 2026")],
    from_file: Annotated[Path, typer.Option("--from-file", help="The review as JSON (the body of POST /budgets/{id}/quality-reviews/{quarter})")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the people's part of a quarterly quality review from a JSON file: outcomes rated,
    what is working and not, actions, who attended, the decision about money left."""
    from pydantic import Field, ValidationError

    from ledger.errors import InvalidInput
    from ledger.reviews.quality_reviews import record_quality_review
    from web.api.reports import QualityReviewIn, QualityReviewOut, quality_review_spec

    class QualityReviewFile(QualityReviewIn):
        """The API's body, and who records it (the API takes that from the signed-in user)."""

        recorded_by: str = Field(min_length=1, max_length=200)

    with reporting_errors():
        try:
            body = QualityReviewFile.model_validate_json(from_file.read_bytes())
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidInput(f"{from_file.name}, field {where}: {first['msg']}", code="invalid_request", field=where) from None
        database = open_database(db)
        with database.write() as session:
            view = record_quality_review(
                session, budgets.budget_by_reference(session, budget).id, quarter, quality_review_spec(body), recorded_by=body.recorded_by, today=today_in_england()
            )  # fmt: skip
            out = QualityReviewOut.of(view)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    stdout.print(f"Recorded the quarterly quality review of {budget} for {quarter} (revision {out.revision}): "
                 f"{len(out.outcomes)} outcome(s), {len(out.actions)} action(s), {len(out.attendees)} attendee(s).", highlight=False, soft_wrap=True)  # fmt: skip


def due_as_json(review: ReviewDue) -> dict[str, Any]:
    return {
        "budget": review.reference,
        "budget_id": review.budget_id,
        "holder_id": review.holder_id,
        "kind": review.kind.value,
        "due_on": review.due_on.isoformat(),
        "status": review.status.value,
        "reason": review.reason,
        "quarter": review.quarter.label if review.quarter else None,
        "request_id": review.request_id,
        "plan_version": review.plan_version,
    }


def held_as_json(review: BudgetReview, budget: str, answered: list[int]) -> dict[str, Any]:
    return {
        "id": review.id,
        "budget": budget,
        "kind": str(review.kind),
        "due_on": review.due_on.isoformat() if review.due_on else None,
        "held_on": review.held_on.isoformat(),
        "recorded_by": review.recorded_by,
        "note": review.note,
        "answered_request_ids": answered,
    }


def request_as_json(made: ReviewRequest, budget: str) -> dict[str, Any]:
    return {"id": made.id, "budget": budget, "asked_by": made.asked_by, "asked_on": made.asked_on.isoformat(), "reason": made.reason}
