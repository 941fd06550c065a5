"""Contingency (ring-fenced and used), the monthly top-slice, and notional costs."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.money_out.notional import RecordedCost, notional_costs, record_notional_cost
from ledger.set_asides.contingency import (
    RecordedUse,
    contingency_position,
    contingency_uses,
    ring_fence_contingency,
    use_contingency,
)
from ledger.set_asides.top_slice import TopSliceRun, take_due_top_slices, top_slice_schedule
from ledger.store.tables import Category
from ledger.store.tables.budget_money import ContingencyUse, NotionalCost
from web.api.common import ERROR_RESPONSES, AmountPence, Int, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in
from web.clock import today_in_england

router = APIRouter(tags=["budget money"], responses=ERROR_RESPONSES)

WHO = Field(max_length=200, description="Who recorded it")
ID = Field(default=None, ge=1, le=2_147_483_647)


# --- contingency ---------------------------------------------------------------------------


class ContingencyUseIn(Schema):
    amount: AmountPence = Field(description="How much contingency to use; more than zero")
    reason: str = Field(max_length=1000, description="Why: a sentence the review will read")
    agreed_by_name: str = Field(max_length=200)
    agreed_by_role: str = Field(max_length=200)
    agreed_on: IsoDate
    used_on: IsoDate
    to: Literal["card", "spend"] = Field(description="card: onto the prepaid card; spend: straight to a spend category")
    category: str | None = Field(default=None, max_length=40, description="The spend category, when to is spend")
    idempotency_key: str | None = Field(
        default=None, max_length=120, description="Optional; without it the decision itself is the key, so a double submit posts once"
    )


class ContingencyUseOut(BaseModel):
    id: int
    budget_id: int
    amount: str
    reason: str
    agreed_by_name: str
    agreed_by_role: str
    agreed_on: date
    used_on: date
    to: str
    category: str | None
    entry_id: int
    recorded_by: str
    recorded_at: UtcTimestamp

    @classmethod
    def of(cls, use: ContingencyUse, category_code: str | None) -> ContingencyUseOut:
        return cls(
            id=use.id, budget_id=use.budget_id, amount=amount_text(use.amount_pence), reason=use.reason,
            agreed_by_name=use.agreed_by_name, agreed_by_role=use.agreed_by_role, agreed_on=use.agreed_on,
            used_on=use.used_on, to=use.destination, category=category_code, entry_id=use.entry_id,
            recorded_by=use.recorded_by, recorded_at=use.recorded_at,
        )  # fmt: skip


class ContingencyOut(BaseModel):
    planned: str = Field(description="The contingency of the latest agreed plan version")
    ring_fenced: str
    used: str
    returned: str
    left: str


class RingFenceIn(Schema):
    on: IsoDate | None = Field(default=None, description="Use the plan version in force on this day (default today)")


class RingFenceOut(BaseModel):
    budget: str
    plan_version_id: int
    change: str = Field(description="Positive: ring-fenced from held funds; negative: released back; zero: nothing to do")
    ring_fenced: str
    entry_id: int | None


def _category_codes(session, ids: set[int | None]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    wanted = sorted(i for i in ids if i is not None)
    return {category.id: category.code for category in (session.get(Category, i) for i in wanted) if category}


@router.post("/budgets/{budget_id}/contingency-uses", status_code=201, response_model=ContingencyUseOut)
def create_contingency_use(budget_id: RecordId, body: ContingencyUseIn, request: Request, response: Response) -> ContingencyUseOut:
    """Use contingency: a recorded decision (reason, who agreed it, when). Refused beyond what
    is left. The same decision submitted again returns the first (200)."""
    with database(request).write() as session:
        recorded: RecordedUse = use_contingency(
            session, budget_id, amount_pence=body.amount, reason=body.reason, agreed_by_name=body.agreed_by_name,
            agreed_by_role=body.agreed_by_role, agreed_on=body.agreed_on, used_on=body.used_on, to=body.to,
            category_code=body.category, recorded_by=signed_in(request), idempotency_key=body.idempotency_key,
            today=today_in_england(),
        )  # fmt: skip
        out = ContingencyUseOut.of(recorded.use, _category_codes(session, {recorded.use.category_id}).get(recorded.use.category_id or 0))
    if not recorded.created:
        response.status_code = 200
    return out


@router.get("/budgets/{budget_id}/contingency-uses", response_model=list[ContingencyUseOut])
def list_contingency_uses(budget_id: RecordId, request: Request) -> list[ContingencyUseOut]:
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        uses = contingency_uses(session, budget_id)
        codes = _category_codes(session, {use.category_id for use in uses})
        return [ContingencyUseOut.of(use, codes.get(use.category_id or 0)) for use in uses]


@router.get("/budgets/{budget_id}/contingency", response_model=ContingencyOut)
def read_contingency(budget_id: RecordId, request: Request) -> ContingencyOut:
    """The plan's contingency, what was ring-fenced, used and returned, and what is left."""
    with database(request).read() as session:
        position = contingency_position(session, budget_id)
    return ContingencyOut(
        planned=amount_text(position.planned_pence),
        ring_fenced=amount_text(position.ring_fenced_pence),
        used=amount_text(position.used_pence),
        returned=amount_text(position.returned_pence),
        left=amount_text(position.left_pence),
    )


@router.post("/budgets/{budget_id}/contingency/ring-fence", response_model=RingFenceOut)
def ring_fence(budget_id: RecordId, body: RingFenceIn, request: Request) -> RingFenceOut:
    """Bring what is ring-fenced to the contingency of the plan in force (a revision may raise
    or lower it; lowering releases only what is unused). Safe to call again."""
    with database(request).write() as session:
        fence = ring_fence_contingency(session, budget_id, on=body.on or today_in_england(), created_by=signed_in(request))
    return RingFenceOut(
        budget=fence.budget_reference,
        plan_version_id=fence.plan_version_id,
        change=amount_text(fence.change_pence),
        ring_fenced=amount_text(fence.ring_fenced_pence),
        entry_id=fence.entry_id,
    )


# --- top-slice -----------------------------------------------------------------------------


class TopSliceRunIn(Schema):
    as_of: IsoDate | None = Field(default=None, description="Take every month due up to this day (default today); never in the future")
    holder_id: Int | None = ID
    budget_id: Int | None = ID


class TakenMonthOut(BaseModel):
    budget: str
    month_start: date
    amount: str = Field(description="Negative: top-slice returned after a plan revision lowered it")
    entry_id: int


class HeldMonthOut(BaseModel):
    budget: str
    month_start: date
    amount: str
    reason: str


class TopSliceRunOut(BaseModel):
    as_of: date
    budgets_checked: int
    posted: int
    total: str
    months: list[TakenMonthOut]
    held: list[HeldMonthOut] = Field(description="Due but not taken: a person must act")

    @classmethod
    def of(cls, run: TopSliceRun) -> TopSliceRunOut:
        return cls(
            as_of=run.as_of,
            budgets_checked=run.budgets_checked,
            posted=len(run.posted),
            total=amount_text(run.total_pence),
            months=[
                TakenMonthOut(budget=m.budget_reference, month_start=m.month_starts_on, amount=amount_text(m.amount_pence), entry_id=m.entry_id)
                for m in run.posted
            ],
            held=[
                HeldMonthOut(budget=h.budget_reference, month_start=h.month_starts_on, amount=amount_text(h.amount_pence), reason=h.reason)
                for h in run.held
            ],
        )


class TopSliceMonthOut(BaseModel):
    month_start: date
    month_end: date
    amount: str
    status: str = Field(description="taken, due or nothing_due")
    plan_version_id: int | None


class TopSliceOut(BaseModel):
    taken: str
    to_come: str
    months: list[TopSliceMonthOut]


@router.post("/top-slices/run", response_model=TopSliceRunOut)
def run_top_slices(body: TopSliceRunIn, request: Request) -> TopSliceRunOut:
    """Take every month's top-slice due up to ``as_of`` not yet taken, each exactly once."""
    with database(request).write() as session:
        if body.holder_id is not None:
            parties.get_holder(session, body.holder_id)
        if body.budget_id is not None:
            budgets.get_budget(session, body.budget_id)
        today = today_in_england()
        run = take_due_top_slices(
            session, body.as_of or today, holder_id=body.holder_id, budget_id=body.budget_id, created_by=signed_in(request), today=today
        )
    return TopSliceRunOut.of(run)


@router.get("/budgets/{budget_id}/top-slice", response_model=TopSliceOut)
def read_top_slice(budget_id: RecordId, request: Request) -> TopSliceOut:
    """Each month of the plan period: the top-slice taken, and to come."""
    with database(request).read() as session:
        months = top_slice_schedule(session, budget_id)
    taken = sum(m.amount_pence for m in months if m.status == "taken")
    return TopSliceOut(
        taken=amount_text(taken),
        to_come=amount_text(sum(m.amount_pence for m in months) - taken),
        months=[
            TopSliceMonthOut(month_start=m.month.starts_on, month_end=m.month.ends_on, amount=amount_text(m.amount_pence),
                             status=str(m.status), plan_version_id=m.version_id)
            for m in months
        ],  # fmt: skip
    )


# --- notional costs ------------------------------------------------------------------------


class NotionalCostIn(Schema):
    funder_id: Int = Field(ge=1, le=2_147_483_647, description="The funder who arranged and paid for the service")
    category: str = Field(max_length=40, examples=["agency_support"])
    amount: AmountPence
    on: IsoDate = Field(description="When the cost was incurred")
    supplier: str = Field(max_length=200)
    reference: str = Field(max_length=100, description="The supplier's invoice or order number: one cost per reference")
    description: str = Field(max_length=500)


class NotionalCostOut(BaseModel):
    id: int
    budget_id: int
    funder_id: int
    category: str
    amount: str
    on: date
    supplier: str
    reference: str
    description: str
    entry_id: int
    recorded_by: str
    recorded_at: UtcTimestamp

    @classmethod
    def of(cls, cost: NotionalCost, category_code: str) -> NotionalCostOut:
        return cls(
            id=cost.id, budget_id=cost.budget_id, funder_id=cost.funder_id, category=category_code,
            amount=amount_text(cost.amount_pence), on=cost.incurred_on, supplier=cost.supplier, reference=cost.reference,
            description=cost.description, entry_id=cost.entry_id, recorded_by=cost.recorded_by, recorded_at=cost.recorded_at,
        )  # fmt: skip


@router.post("/budgets/{budget_id}/notional-costs", status_code=201, response_model=NotionalCostOut)
def create_notional_cost(budget_id: RecordId, body: NotionalCostIn, request: Request, response: Response) -> NotionalCostOut:
    """Record what a service the funder arranged cost (notional parts only), so money left is
    true. Refused beyond what the funder allocated. The same supplier reference again returns
    the original (200)."""
    with database(request).write() as session:
        recorded: RecordedCost = record_notional_cost(
            session, budget_id, funder_id=body.funder_id, category_code=body.category, amount_pence=body.amount, on=body.on,
            supplier=body.supplier, reference=body.reference, description=body.description, recorded_by=signed_in(request),
            today=today_in_england(),
        )  # fmt: skip
        out = NotionalCostOut.of(recorded.cost, _category_codes(session, {recorded.cost.category_id})[recorded.cost.category_id])
    if not recorded.created:
        response.status_code = 200
    return out


@router.get("/budgets/{budget_id}/notional-costs", response_model=list[NotionalCostOut])
def list_notional_costs(budget_id: RecordId, request: Request) -> list[NotionalCostOut]:
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        costs = notional_costs(session, budget_id)
        codes = _category_codes(session, {cost.category_id for cost in costs})
        return [NotionalCostOut.of(cost, codes[cost.category_id]) for cost in costs]
