"""Card loads: run what is due, read a budget's schedule, pause and resume a budget, and
set when a holder's loads go."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.budgets.pauses import end_pause, pause_budget, pauses_of
from ledger.loads.offsets import OffsetView, offset_against_loads, offsets_of
from ledger.loads.runs import DrawdownRun, budget_schedule, post_due_drawdowns
from ledger.loads.schedule import due_at
from ledger.store.tables import BudgetPause
from web.api.common import (
    ERROR_RESPONSES,
    AmountPence,
    Int,
    IsoDate,
    IsoTimestamp,
    LocalTime,
    RecordId,
    Schema,
    UtcTimestamp,
    amount_text,
    database,
    local_time,
    signed_in,
)
from web.api.parties import HolderOut

router = APIRouter(tags=["drawdowns"], responses=ERROR_RESPONSES)

REASON = Field(max_length=1000, description="Why, in a sentence a reviewer will read")
WHO = Field(max_length=200, description="Who recorded it")


class RunIn(Schema):
    as_of: IsoTimestamp | None = Field(default=None, description="Post loads due up to this moment (default now); never in the future")
    holder_id: Int | None = Field(default=None, ge=1, le=2_147_483_647)
    budget_id: Int | None = Field(default=None, ge=1, le=2_147_483_647)


class LoadOut(BaseModel):
    budget: str
    part_id: int
    period_start: date
    period_end: date
    due_on: date
    amount: str
    entry_id: int


class HeldOut(BaseModel):
    budget: str
    period_start: date
    due_on: date
    amount: str
    reason: str


class WithheldOut(BaseModel):
    budget: str
    period_start: date
    due_on: date
    withheld: str


class LowCashOut(BaseModel):
    budget: str
    cash: str


class RunOut(BaseModel):
    as_of: datetime
    parts_checked: int
    posted: int
    total: str
    loads: list[LoadOut]
    held: list[HeldOut] = Field(description="Due but not posted: a person must act")
    low_cash: list[LowCashOut] = Field(description="Budgets whose held funds went below zero: the funder has not paid yet")
    withheld: list[WithheldOut] = Field(description="Money held back from loads by surplus offsets")

    @classmethod
    def of(cls, run: DrawdownRun) -> RunOut:
        return cls(
            as_of=run.as_of,
            parts_checked=run.parts_checked,
            posted=len(run.posted),
            total=amount_text(run.total_pence),
            loads=[
                LoadOut(budget=p.budget_reference, part_id=p.part_id, period_start=p.period_starts_on, period_end=p.period_ends_on,
                        due_on=p.due_on, amount=amount_text(p.amount_pence), entry_id=p.entry_id)
                for p in run.posted
            ],  # fmt: skip
            held=[
                HeldOut(budget=h.budget_reference, period_start=h.period_starts_on, due_on=h.due_on, amount=amount_text(h.amount_pence), reason=h.reason)
                for h in run.held
            ],  # fmt: skip
            low_cash=[LowCashOut(budget=low.budget_reference, cash=amount_text(low.cash_pence)) for low in run.low_cash],
            withheld=[
                WithheldOut(budget=w.budget_reference, period_start=w.period_starts_on, due_on=w.due_on, withheld=amount_text(w.withheld_pence))
                for w in run.withheld
            ],  # fmt: skip
        )


class ScheduledLoadOut(BaseModel):
    period_start: date
    period_end: date
    due_on: date
    due_at: datetime = Field(description="The moment the load goes (UTC), from the holder's local load time")
    amount: str
    withheld: str = Field(description="Held back from this load by a surplus offset (the card's surplus pays for it)")
    status: str = Field(description="posted, due, paused, covered_by_float, skipped or nothing_due")
    plan_version_id: int | None


class PartScheduleOut(BaseModel):
    part_id: int
    cadence: str
    timing: str
    initial_float_weeks: int
    loads: list[ScheduledLoadOut]


class PauseIn(Schema):
    starts_on: IsoDate
    ends_on: IsoDate | None = Field(default=None, description="Last paused day; leave out while the end is not known")
    reason: str = REASON


class PauseEndIn(Schema):
    ends_on: IsoDate = Field(description="Last paused day: loads resume with the next one due after it")


class PauseOut(BaseModel):
    id: int
    budget_id: int
    starts_on: date
    ends_on: date | None
    reason: str
    recorded_by: str
    recorded_at: UtcTimestamp
    ended_by: str | None

    @classmethod
    def of(cls, pause: BudgetPause) -> PauseOut:
        return cls.model_validate(pause, from_attributes=True)


class OffsetIn(Schema):
    amount: AmountPence = Field(description="How much of the card's surplus pays for the next loads")
    starts_on: IsoDate = Field(description="Withhold from the loads of periods starting on or after this day")
    reason: str = REASON
    decided_by: str = Field(max_length=200, description="Who decided (the funder's officer)")
    decided_on: IsoDate
    part_id: Int | None = Field(default=None, ge=1, le=2_147_483_647, description="Only when the budget has two card parts")


class OffsetOut(BaseModel):
    id: int
    budget_id: int
    part_id: int
    starts_on: date
    amount: str
    used: str
    left: str
    reason: str
    decided_by: str
    recorded_by: str
    decided_on: date

    @classmethod
    def of(cls, view: OffsetView) -> OffsetOut:
        offset = view.offset
        return cls(
            id=offset.id, budget_id=offset.budget_id, part_id=offset.budget_part_id, starts_on=offset.starts_on,
            amount=amount_text(offset.amount_pence), used=amount_text(view.used_pence), left=amount_text(view.left_pence),
            reason=offset.reason, decided_by=offset.decided_by, decided_on=offset.decided_on, recorded_by=offset.recorded_by,
        )  # fmt: skip


class LoadTimeIn(Schema):
    load_weekday: Int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday; fixed once an open budget has had a load")
    load_time: LocalTime


@router.post("/drawdowns/run", response_model=RunOut)
def run_due_drawdowns(body: RunIn, request: Request) -> RunOut:
    """Post every card load due up to ``as_of`` not yet made, each exactly once. Safe to call
    again, and while the scheduler runs."""
    as_of = body.as_of
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)  # a time without a zone is UTC, as in every response
    with database(request).write() as session:
        if body.holder_id is not None:
            parties.get_holder(session, body.holder_id)
        if body.budget_id is not None:
            budgets.get_budget(session, body.budget_id)
        run = post_due_drawdowns(session, as_of, holder_id=body.holder_id, budget_id=body.budget_id, created_by=signed_in(request))
    return RunOut.of(run)


@router.get("/budgets/{budget_id}/drawdown-schedule", response_model=list[PartScheduleOut])
def read_schedule(budget_id: RecordId, request: Request) -> list[PartScheduleOut]:
    """Each card part's loads over the plan period. Empty for a budget with no card part."""
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        schedules = budget_schedule(session, budget_id)
    return [
        PartScheduleOut(
            part_id=s.part.terms.part_id,
            cadence=s.part.terms.cadence,
            timing=s.part.terms.timing,
            initial_float_weeks=s.part.terms.initial_float_weeks,
            loads=[
                ScheduledLoadOut(
                    period_start=load.period.starts_on, period_end=load.period.ends_on, due_on=load.period.due_on,
                    due_at=due_at(load.period.due_on, s.load_time), amount=amount_text(load.amount_pence),
                    withheld=amount_text(load.withheld_pence), status=str(load.status), plan_version_id=load.version_id,
                )  # fmt: skip
                for load in s.loads
            ],
        )
        for s in schedules
    ]


@router.post("/budgets/{budget_id}/pauses", status_code=201, response_model=PauseOut)
def create_pause(budget_id: RecordId, body: PauseIn, request: Request) -> PauseOut:
    """Pause a budget's card loads (a hospital stay). Loads due while paused are not made up."""
    with database(request).write() as session:
        pause = pause_budget(session, budget_id, starts_on=body.starts_on, ends_on=body.ends_on, reason=body.reason, recorded_by=signed_in(request))
    return PauseOut.of(pause)


@router.get("/budgets/{budget_id}/pauses", response_model=list[PauseOut])
def list_pauses(budget_id: RecordId, request: Request) -> list[PauseOut]:
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        return [PauseOut.of(pause) for pause in pauses_of(session, budget_id)]


@router.post("/pauses/{pause_id}/end", response_model=PauseOut)
def end_a_pause(pause_id: RecordId, body: PauseEndIn, request: Request) -> PauseOut:
    with database(request).write() as session:
        pause = end_pause(session, pause_id, ends_on=body.ends_on, ended_by=signed_in(request))
    return PauseOut.of(pause)


@router.post("/budgets/{budget_id}/load-offsets", status_code=201, response_model=OffsetOut)
def create_offset(budget_id: RecordId, body: OffsetIn, request: Request) -> OffsetOut:
    """Offset a surplus on the card against the next loads: they are shortened, earliest
    first, until the amount is used. Refused beyond the card's balance or the loads to come."""
    with database(request).write() as session:
        offset = offset_against_loads(
            session, budget_id, amount_pence=body.amount, starts_on=body.starts_on, reason=body.reason,
            decided_by=body.decided_by, decided_on=body.decided_on, part_id=body.part_id, recorded_by=signed_in(request),
        )  # fmt: skip
        view = next(v for v in offsets_of(session, budget_id) if v.offset.id == offset.id)
    return OffsetOut.of(view)


@router.get("/budgets/{budget_id}/load-offsets", response_model=list[OffsetOut])
def list_offsets(budget_id: RecordId, request: Request) -> list[OffsetOut]:
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        return [OffsetOut.of(view) for view in offsets_of(session, budget_id)]


@router.put("/holders/{holder_id}/load-time", response_model=HolderOut)
def set_load_time(holder_id: RecordId, body: LoadTimeIn, request: Request) -> HolderOut:
    """When the holder's loads go onto cards (local time in England)."""
    with database(request).write() as session:
        holder = parties.set_load_time(session, holder_id, weekday=body.load_weekday, at=local_time(body.load_time))
    return HolderOut.of(holder)
