"""Pausing a budget's card loads (a hospital stay) and resuming them.

A load due while a budget is paused is not made and is never made up: the money stays in
held funds for the review to decide on. Pauses of one budget never overlap.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.core import checks
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.tables import BudgetPause


def pause_budget(
    session: Session, budget_id: int, *, starts_on: date, ends_on: date | None = None, reason: str, recorded_by: str
) -> BudgetPause:
    budget = get_budget(session, budget_id)
    if not budget.period_start <= starts_on <= budget.period_end:
        raise InvalidInput(
            f"starts_on {starts_on} is outside the plan period {budget.period_start} to {budget.period_end}",
            code="date_outside_plan_period",
            field="starts_on",
        )
    _check_end(starts_on, ends_on)
    for other in pauses_of(session, budget.id):
        if _overlap(starts_on, ends_on, other.starts_on, other.ends_on):
            until = f"to {other.ends_on}" if other.ends_on else "with no end yet"
            raise Conflict(
                f"{budget.reference} is already paused from {other.starts_on} {until}; end or change that pause first",
                code="pause_overlaps",
                field="starts_on",
            )
    pause = BudgetPause(
        budget_id=budget.id,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=checks.required_text(reason, "reason", max_length=1000),
        recorded_by=checks.required_text(recorded_by, "recorded_by", max_length=200),
    )
    session.add(pause)
    session.flush()
    return pause


def end_pause(session: Session, pause_id: int, *, ends_on: date, ended_by: str) -> BudgetPause:
    """Loads resume with the first period due after ``ends_on`` (the last paused day)."""
    pause = session.get(BudgetPause, pause_id)
    if pause is None:
        raise NotFound(f"there is no pause {pause_id}", code="pause_not_found")
    if pause.ends_on is not None:
        raise Conflict(f"pause {pause_id} already ended on {pause.ends_on}", code="pause_already_ended")
    _check_end(pause.starts_on, ends_on)
    for other in pauses_of(session, pause.budget_id):
        if other.id != pause.id and _overlap(pause.starts_on, ends_on, other.starts_on, other.ends_on):
            raise Conflict(f"ending on {ends_on} would overlap the pause from {other.starts_on}", code="pause_overlaps", field="ends_on")
    pause.ends_on = ends_on
    pause.ended_by = checks.required_text(ended_by, "ended_by", max_length=200)
    session.flush()
    return pause


def pauses_of(session: Session, budget_id: int) -> list[BudgetPause]:
    return list(
        session.execute(select(BudgetPause).where(BudgetPause.budget_id == budget_id).order_by(BudgetPause.starts_on)).scalars()
    )


def _check_end(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(f"ends_on {ends_on} is before starts_on {starts_on}", code="pause_dates_order", field="ends_on")


def _overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return (b_end is None or a_start <= b_end) and (a_end is None or b_start <= a_end)
