"""Offsetting a surplus on the card against the next loads.

When money has built up on a person's prepaid card, the funder can decide that it pays for
the next loads instead of new money: the offset withholds its amount from the loads due from
its start, the earliest first, until it is used (see ``ledger.loads.schedule``). The money that is
not loaded stays in the budget's held funds, where the budget's position shows it — to be
returned to the funder, or to reduce the funder's next payment, by a surplus decision.

Each offset is also listed with the budget's other surplus decisions (``surplus_decision``,
action ``offset``). An offset is refused beyond the money on the card (the person would be left short) and
beyond what the loads still to come would carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.core import checks
from ledger.core.accounts import account_ids_by_code, budget_account_code
from ledger.core.balances import signed_sums
from ledger.core.journal import lock_book
from ledger.core.money import format_gbp
from ledger.core.vocabulary import AccountKind, BudgetStatus
from ledger.errors import Conflict, InvalidInput
from ledger.loads.runs import budget_schedule
from ledger.loads.schedule import LoadStatus
from ledger.store.tables.closing import SurplusDecision
from ledger.store.tables.load_offsets import LoadOffset, WithheldLoad


@dataclass(frozen=True, slots=True)
class OffsetView:
    offset: LoadOffset
    used_pence: int
    """How much of this offset loads made so far have withheld (earliest offsets first)."""

    @property
    def left_pence(self) -> int:
        return self.offset.amount_pence - self.used_pence


def offset_against_loads(
    session: Session,
    budget_id: int,
    *,
    amount_pence: int,
    starts_on: date,
    reason: str,
    decided_by: str,
    decided_on: date,
    part_id: int | None = None,
    recorded_by: str | None = None,
) -> LoadOffset:
    """Withhold ``amount_pence`` from the card loads due from ``starts_on``. Recording the
    same offset again (same part, start, amount and decision day) returns the first."""
    budget = get_budget(session, budget_id)
    if budget.status != BudgetStatus.OPEN:
        raise Conflict(f"{budget.reference} is closed: it has no loads to offset against", code="budget_closed")
    if amount_pence <= 0:
        raise InvalidInput("amount must be more than £0.00", code="offset_amount_not_positive", field="amount")
    reason = checks.required_text(reason, "reason", max_length=1000)
    decided_by = checks.required_text(decided_by, "decided_by", max_length=200)
    recorded_by = checks.required_text(recorded_by, "recorded_by", max_length=200) if recorded_by is not None else decided_by
    if not budget.period_start <= starts_on <= budget.period_end:
        raise InvalidInput(
            f"starts_on {starts_on} is outside the plan period {budget.period_start} to {budget.period_end}",
            code="date_outside_plan_period",
            field="starts_on",
        )
    lock_book(session, budget.holder_id)
    schedule = _card_part_schedule(session, budget_id, budget.reference, part_id)
    same = session.execute(
        select(LoadOffset).where(
            LoadOffset.budget_part_id == schedule.part.terms.part_id,
            LoadOffset.starts_on == starts_on,
            LoadOffset.amount_pence == amount_pence,
            LoadOffset.decided_on == decided_on,
        )
    ).scalar_one_or_none()
    if same is not None:
        return same
    card = _card_balance(session, budget.reference)
    if amount_pence > card:
        raise InvalidInput(
            f"{budget.reference}'s card holds {format_gbp(card)}; an offset of {format_gbp(amount_pence)} would leave the person short",
            code="offset_exceeds_card",
            field="amount",
        )
    room = sum(
        load.amount_pence
        for load in schedule.loads
        if load.status is LoadStatus.DUE and load.period.starts_on >= starts_on
    )
    if amount_pence > room:
        raise InvalidInput(
            f"the loads of {budget.reference} due from {starts_on} come to {format_gbp(room)} after earlier offsets;"
            f" an offset of {format_gbp(amount_pence)} would not be used up",
            code="offset_exceeds_loads",
            field="amount",
        )
    offset = LoadOffset(
        budget_id=budget_id,
        budget_part_id=schedule.part.terms.part_id,
        starts_on=starts_on,
        amount_pence=amount_pence,
        reason=reason,
        decided_by=decided_by,
        decided_on=decided_on,
        recorded_by=recorded_by,
    )
    session.add(offset)
    session.add(
        SurplusDecision(
            budget_id=budget_id, action="offset", amount_pence=amount_pence, reason=reason,
            decided_by=decided_by, decided_on=decided_on, recorded_by=recorded_by,
        )
    )  # fmt: skip
    session.flush()
    return offset


def offsets_of(session: Session, budget_id: int) -> list[OffsetView]:
    offsets = list(
        session.execute(
            select(LoadOffset).where(LoadOffset.budget_id == budget_id).order_by(LoadOffset.starts_on, LoadOffset.id)
        ).scalars()
    )
    part_ids = {offset.budget_part_id for offset in offsets}
    withheld = dict(
        session.execute(
            select(WithheldLoad.budget_part_id, func.sum(WithheldLoad.withheld_pence))
            .where(WithheldLoad.budget_part_id.in_(part_ids))
            .group_by(WithheldLoad.budget_part_id)
        ).all()
    )
    views = []
    for offset in offsets:
        available = int(withheld.get(offset.budget_part_id) or 0)
        used = min(available, offset.amount_pence)
        withheld[offset.budget_part_id] = available - used
        views.append(OffsetView(offset, used))
    return views


def _card_part_schedule(session: Session, budget_id: int, reference: str, part_id: int | None):  # type: ignore[no-untyped-def]
    schedules = budget_schedule(session, budget_id)
    if part_id is not None:
        schedules = [s for s in schedules if s.part.terms.part_id == part_id]
    if not schedules:
        raise InvalidInput(f"{reference} has no prepaid-card part to offset against", code="no_card_part", field="part_id")
    if len(schedules) > 1:
        raise InvalidInput(f"{reference} has more than one card part: say which (part_id)", code="part_required", field="part_id")
    return schedules[0]


def _card_balance(session: Session, reference: str) -> int:
    code = budget_account_code(reference, AccountKind.CARD)
    account_id = account_ids_by_code(session, [code])[code]
    return signed_sums(session, [account_id]).get(account_id, 0)
