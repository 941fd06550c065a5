"""Closing a budget, and what happens to a surplus: returned to the funders (pro rata, or in
named shares), accepted with a reason, or reallocated by a plan revision."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ledger.budgets.budget import get_budget
from ledger.errors import InvalidInput
from ledger.position.closing import close_budget, closure_of
from ledger.position.surplus import ReturnedShare, record_surplus_decision, return_surplus, returned_shares, surplus_decisions
from ledger.store.tables.closing import BudgetClosure, SurplusDecision
from web.api.common import ERROR_RESPONSES, AmountPence, Int, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in

router = APIRouter(tags=["closing"], responses=ERROR_RESPONSES)

REASON = Field(max_length=1000, description="Why, in a sentence a reviewer will read")
WHO = Field(max_length=200, description="Who decided")


class CloseIn(Schema):
    closed_on: IsoDate
    reason: str = REASON


class ClosureOut(BaseModel):
    id: int
    budget_id: int
    closed_on: date
    reason: str
    closed_by: str
    contingency_returned: str
    card_returned: str = Field(description="Negative when the card was overdrawn")
    allocation_released: str = Field(description="Allocated, never received, released: nothing is owed for a closed budget")
    surplus: str = Field(description="Held funds left after the returns, less unspent transition money")
    to_recover: str
    recorded_at: UtcTimestamp

    @classmethod
    def of(cls, closure: BudgetClosure) -> ClosureOut:
        return cls(
            id=closure.id, budget_id=closure.budget_id, closed_on=closure.closed_on, reason=closure.reason, closed_by=closure.closed_by,
            contingency_returned=amount_text(closure.contingency_returned_pence), card_returned=amount_text(closure.card_returned_pence),
            allocation_released=amount_text(closure.allocation_released_pence), surplus=amount_text(closure.surplus_pence),
            to_recover=amount_text(closure.to_recover_pence), recorded_at=closure.recorded_at,
        )  # fmt: skip


class ShareIn(Schema):
    funder_id: Int | None = Field(ge=1, le=2_147_483_647, description="Null for the person (their client contribution)")
    amount: AmountPence


class SurplusReturnIn(Schema):
    amount: AmountPence | None = Field(default=None, description="Default: all of the surplus")
    on: IsoDate
    reason: str = REASON
    decided_by: str = WHO
    shares: list[ShareIn] | None = Field(default=None, max_length=50, description="Default: pro rata to each funder's allocation")


class DecisionIn(Schema):
    action: str = Field(max_length=20, description="accept, reallocate or return")
    amount: AmountPence
    reason: str = REASON
    decided_by: str = WHO
    decided_on: IsoDate
    plan_version_id: Int | None = Field(default=None, ge=1, le=2_147_483_647, description="For reallocate: the plan revision that spends it")


class ReturnedShareOut(BaseModel):
    funder_id: int | None
    funder: str
    amount: str

    @classmethod
    def of(cls, share: ReturnedShare) -> ReturnedShareOut:
        return cls(funder_id=share.funder_id, funder=share.funder_code, amount=amount_text(share.amount_pence))


class DecisionOut(BaseModel):
    id: int
    budget_id: int
    action: str
    amount: str
    reason: str
    decided_by: str
    recorded_by: str
    decided_on: date
    plan_version_id: int | None
    entry_id: int | None = Field(description="For a return: the journal entry that returned the money")
    shares: list[ReturnedShareOut] = Field(description="For a return: what each funder got back")
    recorded_at: UtcTimestamp

    @classmethod
    def of(cls, decision: SurplusDecision, shares: list[ReturnedShare]) -> DecisionOut:
        return cls(
            id=decision.id, budget_id=decision.budget_id, action=decision.action, amount=amount_text(decision.amount_pence),
            reason=decision.reason, decided_by=decision.decided_by, decided_on=decision.decided_on, recorded_by=decision.recorded_by,
            plan_version_id=decision.plan_version_id, entry_id=decision.entry_id,
            shares=[ReturnedShareOut.of(share) for share in shares], recorded_at=decision.recorded_at,
        )  # fmt: skip


@router.post("/budgets/{budget_id}/close", status_code=201, response_model=ClosureOut, responses={200: {"model": ClosureOut, "description": "Closed before: the first closure"}})
def close(budget_id: RecordId, body: CloseIn, request: Request, response: Response) -> ClosureOut:
    """Close the budget: loads stop, unused contingency and card money come back to held
    funds, allocation not received is released. Refused while money is committed. Closing
    again returns the first closure (200)."""
    with database(request).write() as session:
        get_budget(session, budget_id)
        existed = closure_of(session, budget_id) is not None
        closure = close_budget(session, budget_id, closed_on=body.closed_on, reason=body.reason, closed_by=signed_in(request))
    if existed:
        response.status_code = 200
    return ClosureOut.of(closure)


@router.post("/budgets/{budget_id}/surplus-returns", status_code=201, response_model=DecisionOut, responses={200: {"model": DecisionOut, "description": "The same return made before"}})
def post_surplus_return(budget_id: RecordId, body: SurplusReturnIn, request: Request, response: Response) -> DecisionOut:
    """Return surplus to the funders: refused beyond the surplus (held funds less committed
    money and unspent transition money)."""
    shares = None
    if body.shares is not None:
        shares = {}
        for index, share in enumerate(body.shares):
            if share.funder_id in shares:
                raise InvalidInput(f"shares[{index}]: that funder is named twice", code="funder_repeated", field=f"shares[{index}].funder_id")
            shares[share.funder_id] = share.amount
    with database(request).write() as session:
        result = return_surplus(
            session, budget_id, amount_pence=body.amount, on=body.on, reason=body.reason, decided_by=body.decided_by, shares=shares,
            recorded_by=signed_in(request),
        )
    if not result.created:
        response.status_code = 200
    return DecisionOut.of(result.decision, result.shares)


@router.post("/budgets/{budget_id}/surplus-decisions", status_code=201, response_model=DecisionOut)
def post_surplus_decision(budget_id: RecordId, body: DecisionIn, request: Request) -> DecisionOut:
    """Record what was decided about a surplus: accept (with a reason), reallocate (naming
    the plan revision) or return (pro rata)."""
    with database(request).write() as session:
        decision = record_surplus_decision(
            session, budget_id, action=body.action, amount_pence=body.amount, reason=body.reason, decided_by=body.decided_by,
            recorded_by=signed_in(request),
            decided_on=body.decided_on, plan_version_id=body.plan_version_id,
        )  # fmt: skip
        shares = returned_shares(session, decision)
    return DecisionOut.of(decision, shares)


@router.get("/budgets/{budget_id}/surplus-decisions", response_model=list[DecisionOut])
def list_surplus_decisions(budget_id: RecordId, request: Request) -> list[DecisionOut]:
    with database(request).read() as session:
        return [DecisionOut.of(decision, returned_shares(session, decision)) for decision in surplus_decisions(session, budget_id)]
