"""Budget position: where a budget's money is, what is left this year, weeks held and the
surplus state, per funder share, with the schedule of card loads; a holder's budgets at a
glance; transition costs against the previous placement; each funder's surplus thresholds.

Weeks are sent as text with one decimal ("4.3") and as whole tenths (43): never a float."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ledger.loads.runs import PartSchedule
from ledger.loads.schedule import due_at
from ledger.position.figures import MoneyFigures, SurplusState, budget_position, holder_positions, set_surplus_thresholds, tenths_text
from ledger.position.transition import placement_comparison, transition_position
from ledger.store.tables.closing import SurplusThreshold
from web.api.common import ERROR_RESPONSES, Int, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in
from web.auth import principal

router = APIRouter(tags=["position"], responses=ERROR_RESPONSES)

AS_OF = Query(default=None, description="The position at the end of this day; everything posted when absent")
TENTHS = Field(ge=0, le=520, description="Tenths of a week: 45 = 4.5 weeks")


class ThresholdsOut(BaseModel):
    warn_weeks: str = Field(description="Warn above this many weeks held")
    act_weeks: str = Field(description="Act above this many weeks held")
    warn_weeks_tenths: int
    act_weeks_tenths: int
    is_default: bool = Field(description="True when the funder has not set its own")


class FiguresOut(BaseModel):
    """Amounts are pounds as text."""

    allocated: str
    received: str
    notional: str = Field(description="Cost of services the funder arranged and paid itself")
    still_to_come: str = Field(description="Allocated and not yet received")
    held: str = Field(description="Held funds (the budget's share of the client bank account)")
    card: str
    committed: str = Field(description="Approved wages and invoices not yet paid")
    contingency_planned: str
    contingency_ring_fenced: str
    contingency_used: str
    contingency_returned: str
    contingency_left: str
    top_slice_planned: str
    top_slice_taken: str
    transition_planned: str
    transition_spent: str
    transition_left: str = Field(description="Never counted as surplus")
    spent: str = Field(description="All spend (committed money included)")
    spent_by_category: dict[str, str]
    fees: str
    returned: str
    money_left: str = Field(description="Allocation − spend − fees − top-slice − returned")
    surplus: str = Field(description="Held funds − committed − unspent transition, at least zero")
    weekly_amount: str
    weeks_held: str | None = Field(description="One decimal place; null when the plan spends nothing weekly")
    weeks_held_tenths: int | None
    thresholds: ThresholdsOut
    surplus_state: SurplusState

    @classmethod
    def of(cls, f: MoneyFigures) -> FiguresOut:
        return cls(
            allocated=amount_text(f.allocated_pence),
            received=amount_text(f.received_pence),
            notional=amount_text(f.notional_pence),
            still_to_come=amount_text(f.receivable_pence),
            held=amount_text(f.held_pence),
            card=amount_text(f.card_pence),
            committed=amount_text(f.committed_pence),
            contingency_planned=amount_text(f.contingency_planned_pence),
            contingency_ring_fenced=amount_text(f.contingency_ring_fenced_pence),
            contingency_used=amount_text(f.contingency_used_pence),
            contingency_returned=amount_text(f.contingency_returned_pence),
            contingency_left=amount_text(f.contingency_left_pence),
            top_slice_planned=amount_text(f.top_slice_planned_pence),
            top_slice_taken=amount_text(f.top_slice_taken_pence),
            transition_planned=amount_text(f.transition_planned_pence),
            transition_spent=amount_text(f.transition_spent_pence),
            transition_left=amount_text(f.transition_left_pence),
            spent=amount_text(f.spent_pence),
            spent_by_category={code: amount_text(pence) for code, pence in f.spent_by_category.items()},
            fees=amount_text(f.fees_pence),
            returned=amount_text(f.returned_pence),
            money_left=amount_text(f.money_left_pence),
            surplus=amount_text(f.surplus_pence),
            weekly_amount=amount_text(f.weekly_amount_pence),
            weeks_held=None if f.weeks_held_tenths is None else tenths_text(f.weeks_held_tenths),
            weeks_held_tenths=f.weeks_held_tenths,
            thresholds=ThresholdsOut(
                warn_weeks=tenths_text(f.thresholds.warn_weeks_tenths),
                act_weeks=tenths_text(f.thresholds.act_weeks_tenths),
                warn_weeks_tenths=f.thresholds.warn_weeks_tenths,
                act_weeks_tenths=f.thresholds.act_weeks_tenths,
                is_default=f.thresholds.is_default,
            ),
            surplus_state=f.surplus_state,
        )


class FunderShareOut(BaseModel):
    funder_id: int | None = Field(description="Null for the person (client contribution)")
    funder: str = Field(description="Funder code, or 'contribution' for the person")
    funder_name: str
    figures: FiguresOut


class LoadOut(BaseModel):
    period_start: date
    period_end: date
    due_on: date
    due_at: datetime
    amount: str
    status: str = Field(description="posted, due, paused, covered_by_float, skipped or nothing_due")


class ScheduleOut(BaseModel):
    part_id: int
    cadence: str
    loads: list[LoadOut]

    @classmethod
    def of(cls, schedule: PartSchedule) -> ScheduleOut:
        return cls(
            part_id=schedule.part.terms.part_id,
            cadence=schedule.part.terms.cadence,
            loads=[
                LoadOut(
                    period_start=load.period.starts_on, period_end=load.period.ends_on, due_on=load.period.due_on,
                    due_at=due_at(load.period.due_on, schedule.load_time), amount=amount_text(load.amount_pence), status=str(load.status),
                )
                for load in schedule.loads
            ],
        )


class PositionOut(BaseModel):
    budget_id: int
    reference: str
    status: str
    period_start: date
    period_end: date
    as_of: date | None
    plan_version_id: int | None
    figures: FiguresOut
    shares: list[FunderShareOut] = Field(description="Each funder's share; empty in a holder's list")
    schedule: list[ScheduleOut] = Field(description="Card loads made and to come; empty in a holder's list")


class TransitionOut(BaseModel):
    budget_id: int
    reference: str
    plan_version_id: int | None
    planned: str
    spent: str
    left: str = Field(description="Never counted as surplus")
    overspent: str
    previous_placement_annual_cost: str | None
    previous_placement_description: str | None
    year_one_cost: str = Field(description="The whole plan, transition and one-off lines included")
    recurring_cost: str = Field(description="Without transition and one-off lines")
    year_one_saving: str | None = Field(description="Previous placement − year-one cost (often negative)")
    year_two_saving: str | None = Field(description="Previous placement − recurring cost")


class ThresholdsIn(Schema):
    warn_weeks_tenths: Int = TENTHS
    act_weeks_tenths: Int = TENTHS


class FunderThresholdsOut(BaseModel):
    funder_id: int
    warn_weeks_tenths: int
    act_weeks_tenths: int
    warn_weeks: str
    act_weeks: str
    updated_by: str
    updated_at: UtcTimestamp

    @classmethod
    def of(cls, row: SurplusThreshold) -> FunderThresholdsOut:
        return cls(
            funder_id=row.funder_id, warn_weeks_tenths=row.warn_weeks_tenths, act_weeks_tenths=row.act_weeks_tenths,
            warn_weeks=tenths_text(row.warn_weeks_tenths), act_weeks=tenths_text(row.act_weeks_tenths),
            updated_by=row.updated_by, updated_at=row.updated_at,
        )  # fmt: skip


def _money(pence: int | None) -> str | None:
    return None if pence is None else amount_text(pence)


@router.get("/budgets/{budget_id}/position", response_model=PositionOut)
def read_position(budget_id: RecordId, request: Request, as_of: IsoDate | None = AS_OF) -> PositionOut:
    """The budget's money as at ``as_of``, each funder's share, and the card loads."""
    who = principal(request)
    with database(request).read() as session:
        position = budget_position(session, budget_id, as_of=as_of)
    shares = [s for s in position.shares if not who.is_auditor or s.funder_id == who.funder_id]
    # A funder sees its own share of a jointly funded budget, not the whole.
    figures = shares[0].figures if who.is_auditor and shares else position.figures
    return PositionOut(
        budget_id=position.budget_id, reference=position.reference, status=position.status,
        period_start=position.period_start, period_end=position.period_end, as_of=position.as_of,
        plan_version_id=position.plan_version_id, figures=FiguresOut.of(figures),
        shares=[FunderShareOut(funder_id=s.funder_id, funder=s.funder_code, funder_name=s.funder_name, figures=FiguresOut.of(s.figures))
                for s in shares],
        schedule=[ScheduleOut.of(schedule) for schedule in position.schedule],
    )  # fmt: skip


@router.get("/holders/{holder_id}/positions", response_model=list[PositionOut])
def read_holder_positions(holder_id: RecordId, request: Request, as_of: IsoDate | None = AS_OF) -> list[PositionOut]:
    """Every budget of the holder, by reference (without shares or schedules)."""
    with database(request).read() as session:
        positions = holder_positions(session, holder_id, as_of=as_of)
    return [
        PositionOut(
            budget_id=p.budget_id, reference=p.reference, status=p.status, period_start=p.period_start, period_end=p.period_end,
            as_of=p.as_of, plan_version_id=p.plan_version_id, figures=FiguresOut.of(p.figures), shares=[], schedule=[],
        )
        for p in positions
    ]


@router.get("/budgets/{budget_id}/transition", response_model=TransitionOut)
def read_transition(budget_id: RecordId, request: Request) -> TransitionOut:
    """Transition costs planned, spent and left, and the first year against the previous
    placement, so the saving from year two shows."""
    with database(request).read() as session:
        position = transition_position(session, budget_id)
        comparison = placement_comparison(session, budget_id)
    return TransitionOut(
        budget_id=position.budget_id, reference=position.reference, plan_version_id=position.plan_version_id,
        planned=amount_text(position.planned_pence), spent=amount_text(position.spent_pence), left=amount_text(position.left_pence),
        overspent=amount_text(position.overspent_pence),
        previous_placement_annual_cost=_money(comparison.previous_placement_annual_cost_pence),
        previous_placement_description=comparison.previous_placement_description,
        year_one_cost=amount_text(comparison.year_one_cost_pence), recurring_cost=amount_text(comparison.recurring_cost_pence),
        year_one_saving=_money(comparison.year_one_saving_pence), year_two_saving=_money(comparison.year_two_saving_pence),
    )  # fmt: skip


@router.put("/funders/{funder_id}/surplus-thresholds", response_model=FunderThresholdsOut)
def put_thresholds(funder_id: RecordId, body: ThresholdsIn, request: Request) -> FunderThresholdsOut:
    """Set the funder's weeks-held thresholds (default: warn above 4 weeks, act above 8)."""
    with database(request).write() as session:
        row = set_surplus_thresholds(
            session, funder_id, warn_weeks_tenths=body.warn_weeks_tenths, act_weeks_tenths=body.act_weeks_tenths, updated_by=signed_in(request)
        )
    return FunderThresholdsOut.of(row)
