"""Money coming in: the schedule of what funders (and the person) are to pay, funder payments
received (one bank line over many budgets), unallocated money attributed to a budget, and
client contributions.

Recording the same bank line again answers 200 with the original; something new, 201.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.money_in.contributions import contributions_of, record_contribution
from ledger.money_in.expected_payments import ExpectedPaymentView, PaymentFrequency, expected_payments, schedule_expected_payments
from ledger.money_in.funder_receipts import attribute_unallocated, funder_receipts, record_funder_receipt
from ledger.money_in.receipt_views import AttributionView, ContributionView, ReceiptView, Recorded, ShareView
from web.api.common import ERROR_RESPONSES, AmountPence, Int, IsoDate, RecordId, Schema, amount_text, database, signed_in
from web.auth import principal

router = APIRouter(tags=["receipts"], responses=ERROR_RESPONSES)

ID_FIELD = {"ge": 1, "le": 2_147_483_647}
QueryId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
AsOf = Annotated[IsoDate | None, Query(description="Overdue means due before this day (default today)")]
REFERENCE = Field(min_length=1, max_length=140, description="The bank line's reference, as the bank shows it")
CREATED = {201: {"description": "Recorded"}, 200: {"description": "Recorded before: the original"}}


# --- schemas ------------------------------------------------------------------------------


class ScheduleIn(Schema):
    funder_id: Int | None = Field(**ID_FIELD, description="The funder; null for the person's client contribution")
    frequency: PaymentFrequency
    first_due_on: IsoDate = Field(description="The first instalment's due day; instalments run to the plan period's end")


class ExpectedPaymentOut(BaseModel):
    id: int
    budget_id: int
    budget: str
    funder_id: int | None
    funder: str = Field(description="The funder's code, or 'contribution' for the person")
    due_on: date
    amount: str
    received: str
    outstanding: str
    overdue: bool
    description: str
    replaced: bool = Field(description="Replaced by a later schedule; counts only for what was received on it")

    @classmethod
    def of(cls, view: ExpectedPaymentView) -> ExpectedPaymentOut:
        return cls(
            id=view.id, budget_id=view.budget_id, budget=view.budget_reference, funder_id=view.funder_id, funder=view.funder_code,
            due_on=view.due_on, amount=amount_text(view.amount_pence), received=amount_text(view.received_pence),
            outstanding=amount_text(view.outstanding_pence), overdue=view.overdue, description=view.description, replaced=view.replaced,
        )  # fmt: skip


class ScheduleOut(BaseModel):
    created: int
    replaced: int
    instalments: list[ExpectedPaymentOut]


class RemittanceLineIn(Schema):
    budget: str = Field(min_length=1, max_length=32, description="The budget's reference")
    amount: AmountPence


class FunderReceiptIn(Schema):
    funder_id: Int = Field(**ID_FIELD)
    received_on: IsoDate
    amount: AmountPence
    reference: str = REFERENCE
    remittance: list[RemittanceLineIn] | None = Field(
        default=None, min_length=1, max_length=1000, description="The funder's list of what is for which budget; leave out to split by the amounts due"
    )


class ShareOut(BaseModel):
    budget_id: int | None = Field(description="null: the holder's unallocated account")
    budget: str | None
    expected_payment_id: int | None
    due_on: date | None
    amount: str

    @classmethod
    def of(cls, share: ShareView) -> ShareOut:
        return cls(
            budget_id=share.budget_id, budget=share.budget_reference, expected_payment_id=share.expected_payment_id,
            due_on=share.due_on, amount=amount_text(share.amount_pence),
        )  # fmt: skip


class FunderReceiptOut(BaseModel):
    id: int
    holder_id: int
    funder_id: int
    funder: str
    received_on: date
    amount: str
    reference: str
    by_remittance: bool
    entry_id: int
    shares: list[ShareOut]
    unallocated: str = Field(description="The part no budget could take, in the holder's unallocated account")

    @classmethod
    def of(cls, receipt: ReceiptView) -> FunderReceiptOut:
        return cls(
            id=receipt.id, holder_id=receipt.holder_id, funder_id=receipt.funder_id, funder=receipt.funder_code,
            received_on=receipt.received_on, amount=amount_text(receipt.amount_pence), reference=receipt.reference,
            by_remittance=receipt.by_remittance, entry_id=receipt.entry_id, shares=[ShareOut.of(s) for s in receipt.shares],
            unallocated=amount_text(receipt.unallocated_pence),
        )  # fmt: skip


class AttributionIn(Schema):
    budget_id: Int = Field(**ID_FIELD)
    funder_id: Int | None = Field(**ID_FIELD, description="The funder the money came from; null for the person's contribution")
    amount: AmountPence
    on: IsoDate
    reason: str = Field(min_length=1, max_length=1000, description="How it was found to be this budget's")


class AttributionOut(BaseModel):
    id: int
    holder_id: int
    budget_id: int
    budget: str
    funder_id: int | None
    on: date
    amount: str
    reason: str
    entry_id: int
    shares: list[ShareOut]

    @classmethod
    def of(cls, view: AttributionView) -> AttributionOut:
        return cls(
            id=view.id, holder_id=view.holder_id, budget_id=view.budget_id, budget=view.budget_reference, funder_id=view.funder_id,
            on=view.attributed_on, amount=amount_text(view.amount_pence), reason=view.reason, entry_id=view.entry_id,
            shares=[ShareOut.of(s) for s in view.shares],
        )  # fmt: skip


class ContributionIn(Schema):
    received_on: IsoDate
    amount: AmountPence
    reference: str = REFERENCE


class ContributionOut(BaseModel):
    id: int
    budget_id: int
    budget: str
    received_on: date
    amount: str
    reference: str
    entry_id: int
    shares: list[ShareOut]

    @classmethod
    def of(cls, view: ContributionView) -> ContributionOut:
        return cls(
            id=view.id, budget_id=view.budget_id, budget=view.budget_reference, received_on=view.received_on,
            amount=amount_text(view.amount_pence), reference=view.reference, entry_id=view.entry_id,
            shares=[ShareOut.of(s) for s in view.shares],
        )  # fmt: skip


def _status(response: Response, recorded: Recorded) -> None:
    response.status_code = 201 if recorded.created else 200


# --- expected payments --------------------------------------------------------------------


@router.post("/budgets/{budget_id}/expected-payments", status_code=201, response_model=ScheduleOut, responses=CREATED)
def schedule(budget_id: RecordId, body: ScheduleIn, request: Request, response: Response) -> ScheduleOut:
    """Spread what the funder's agreed allocation has not yet scheduled over instalments from
    ``first_due_on`` to the plan period's end. After a revision, call it again: instalments
    from that day not yet received are replaced, so the schedule sums to the allocation."""
    with database(request).write() as session:
        result = schedule_expected_payments(
            session, budget_id, body.funder_id, frequency=body.frequency, first_due_on=body.first_due_on, created_by=signed_in(request)
        )
    response.status_code = 201 if result.created or result.replaced else 200
    return ScheduleOut(created=result.created, replaced=result.replaced, instalments=[ExpectedPaymentOut.of(v) for v in result.instalments])


@router.get("/budgets/{budget_id}/expected-payments", response_model=list[ExpectedPaymentOut])
def budget_expected_payments(budget_id: RecordId, request: Request, as_of: AsOf = None) -> list[ExpectedPaymentOut]:
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        views = expected_payments(session, budget_id=budget_id, as_of=as_of)
    return [ExpectedPaymentOut.of(v) for v in views]


@router.get("/funders/{funder_id}/expected-payments", response_model=list[ExpectedPaymentOut])
def funder_expected_payments(
    funder_id: RecordId,
    request: Request,
    holder_id: QueryId = None,
    overdue_only: Annotated[bool, Query()] = False,
    as_of: AsOf = None,
) -> list[ExpectedPaymentOut]:
    """What a funder is to pay, across budgets (one holder's with ``holder_id``)."""
    with database(request).read() as session:
        parties.get_funder(session, funder_id)
        if holder_id is not None:
            parties.get_holder(session, holder_id)
        who = principal(request)
        if who.is_holder:  # a holder sees what the funder is to pay for its own budgets only
            holder_id = who.holder_id
        views = expected_payments(session, funder_id=funder_id, holder_id=holder_id, as_of=as_of)
    return [ExpectedPaymentOut.of(v) for v in views if v.overdue or not overdue_only]


# --- funder payments received -------------------------------------------------------------


@router.post("/holders/{holder_id}/funder-receipts", status_code=201, response_model=FunderReceiptOut, responses=CREATED)
def receive(holder_id: RecordId, body: FunderReceiptIn, request: Request, response: Response) -> FunderReceiptOut:
    """Record one funder payment into the holder's client bank account, split over budgets
    by the remittance list or else by the amounts due; what no budget can take is
    unallocated."""
    remittance = None if body.remittance is None else [(line.budget, line.amount) for line in body.remittance]
    with database(request).write() as session:
        recorded = record_funder_receipt(
            session, holder_id, body.funder_id, received_on=body.received_on, amount_pence=body.amount, reference=body.reference,
            remittance=remittance, created_by=signed_in(request),
        )  # fmt: skip
    _status(response, recorded)
    assert isinstance(recorded.receipt, ReceiptView)
    return FunderReceiptOut.of(recorded.receipt)


@router.get("/holders/{holder_id}/funder-receipts", response_model=list[FunderReceiptOut])
def list_receipts(holder_id: RecordId, request: Request, funder_id: QueryId = None) -> list[FunderReceiptOut]:
    with database(request).read() as session:
        return [FunderReceiptOut.of(r) for r in funder_receipts(session, holder_id, funder_id=funder_id)]


@router.post("/holders/{holder_id}/unallocated/attributions", status_code=201, response_model=AttributionOut, responses=CREATED)
def attribute(holder_id: RecordId, body: AttributionIn, request: Request, response: Response) -> AttributionOut:
    """Money in the holder's unallocated account found to be a budget's: refused beyond what
    is unallocated."""
    with database(request).write() as session:
        recorded = attribute_unallocated(
            session, holder_id, budget_id=body.budget_id, funder_id=body.funder_id, amount_pence=body.amount, on=body.on,
            reason=body.reason, created_by=signed_in(request),
        )  # fmt: skip
    _status(response, recorded)
    assert isinstance(recorded.receipt, AttributionView)
    return AttributionOut.of(recorded.receipt)


# --- client contributions -----------------------------------------------------------------


@router.post("/budgets/{budget_id}/contributions", status_code=201, response_model=ContributionOut, responses=CREATED)
def contribute(budget_id: RecordId, body: ContributionIn, request: Request, response: Response) -> ContributionOut:
    """A client contribution the person paid. Refused when the agreed plan has none."""
    with database(request).write() as session:
        recorded = record_contribution(
            session, budget_id, received_on=body.received_on, amount_pence=body.amount, reference=body.reference, created_by=signed_in(request)
        )
    _status(response, recorded)
    assert isinstance(recorded.receipt, ContributionView)
    return ContributionOut.of(recorded.receipt)


@router.get("/budgets/{budget_id}/contributions", response_model=list[ContributionOut])
def list_contributions(budget_id: RecordId, request: Request) -> list[ContributionOut]:
    with database(request).read() as session:
        return [ContributionOut.of(c) for c in contributions_of(session, budget_id)]

