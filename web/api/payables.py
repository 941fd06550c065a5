"""Paying for support from the client bank account: invoices, wages, payroll runs, pooled
costs — approved (committed), paid and cancelled.

Approving posts 201 the first time and 200 with the original for a replay (the same invoice,
the same payroll file, the same payment again). A payroll run is sent as JSON with the CSV's
text in ``csv`` (layout: ``ledger.money_out.payroll_sheet``): JSON keeps one request format and one
size limit (``web.limits``, 1 MiB — some 10,000 payroll rows; split a larger run in two).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, Strict

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.money_out.payable_lines import LineSpec
from ledger.money_out.payable_views import PayableView, payables_of
from ledger.money_out.payables import ApprovalResult, PaymentResult, approve_invoice, approve_wages, cancel_payable, pay_payables
from ledger.money_out.payroll_runs import PayrollRunResult, approve_and_pay, import_payroll_run
from ledger.money_out.pools import PoolView, approve_pooled_cost, change_shares, create_pool, get_pool, pools_of
from web.api.common import ERROR_RESPONSES, AmountPence, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in
from web.clock import today_in_england

router = APIRouter(tags=["payables"], responses=ERROR_RESPONSES)

WHO = Field(min_length=1, max_length=200, description="Who did it (a name a reviewer will recognise)")
PayableId = Annotated[int, Strict(), Field(ge=1, le=2_147_483_647)]


def _replay(model: type[BaseModel]) -> dict[int | str, dict[str, object]]:
    return {200: {"model": model, "description": "A replay: the same thing was recorded before; the original is returned"}}

CSV_TEXT_LENGTH_MAX = 1_000_000


# --- requests -------------------------------------------------------------------------------


class LineIn(Schema):
    budget: str = Field(min_length=1, max_length=32, examples=["ISF-0007"], description="The budget's reference")
    category: str = Field(min_length=1, max_length=40, examples=["agency_support"], description="The spend category's code")
    amount: AmountPence = Field(description="What this budget bears; more than 0")
    description: str | None = Field(default=None, max_length=500)


class InvoiceIn(Schema):
    supplier: str = Field(min_length=1, max_length=200, description="The agency or supplier; for wages, the worker")
    number: str = Field(
        min_length=1, max_length=100, description="The invoice number (for wages, the payslip or pay period); unique per supplier"
    )
    dated_on: IsoDate = Field(description="The invoice's date; transition costs may come before the plan period")
    description: str | None = Field(default=None, max_length=500)
    lines: list[LineIn] = Field(min_length=1, max_length=500, description="One line per budget and category")


class PaymentIn(Schema):
    payable_ids: list[PayableId] = Field(min_length=1, max_length=500, description="The approved payables this bank payment pays")
    paid_on: IsoDate
    bank_reference: str = Field(min_length=1, max_length=100, description="As it appears on the bank statement")
    amount: AmountPence = Field(description="What left the bank: must be the payables' total")


class PayNowIn(Schema):
    """The bank payment of a payroll run paid when it is approved."""

    paid_on: IsoDate | None = Field(default=None, description="Defaults to the pay date")
    bank_reference: str = Field(min_length=1, max_length=100)
    amount: AmountPence = Field(description="What left the bank: must be the file's total")


class PayrollRunIn(Schema):
    file_name: str = Field(min_length=1, max_length=500, examples=["payroll-2026-05.csv"])
    csv: str = Field(
        min_length=1,
        max_length=CSV_TEXT_LENGTH_MAX,
        description="The payroll CSV's text: a header row (worker, budget, hours, rate; optional employer_costs, category,"
        " description), then one row per worker per budget",
    )
    pay_date: IsoDate
    reference: str = Field(min_length=1, max_length=100, description="The payroll run's reference, unique per holder")
    payment: PayNowIn | None = Field(default=None, description="Also record the bank payment, in the same transaction")


class CancelIn(Schema):
    cancelled_on: IsoDate | None = Field(default=None, description="Defaults to today (in England)")


class ShareIn(Schema):
    budget: str = Field(min_length=1, max_length=32)
    weight: Annotated[int, Strict(), Field(ge=1, le=1_000_000_000)] = Field(
        description="A positive whole number: basis points, hours a week — the budget's part is weight ÷ total weight"
    )


class PoolIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    shares: list[ShareIn] = Field(min_length=1, max_length=100)


class SharesIn(Schema):
    shares: list[ShareIn] = Field(min_length=1, max_length=100)


class PooledCostIn(Schema):
    supplier: str = Field(min_length=1, max_length=200)
    number: str = Field(min_length=1, max_length=100)
    dated_on: IsoDate
    amount: AmountPence = Field(description="The whole cost, split over the pool's budgets by their shares")
    category: str = Field(min_length=1, max_length=40)
    description: str | None = Field(default=None, max_length=500)


# --- responses ------------------------------------------------------------------------------


class PayableLineOut(BaseModel):
    line_no: int
    budget_id: int
    budget: str
    category: str
    amount: str
    description: str | None
    worker: str | None
    hours: str | None = Field(description="Hours as a decimal, e.g. 7.50")
    rate: str | None
    employer_costs: str | None
    pool_id: int | None


class PayableOut(BaseModel):
    id: int
    holder_id: int
    kind: str
    supplier: str
    number: str
    description: str | None
    dated_on: date
    approved_by: str
    approved_at: UtcTimestamp
    total: str = Field(description="The whole payable, or (read for one budget) that budget's part")
    status: str
    approval_entry_id: int | None
    payment_entry_id: int | None
    paid_on: date | None
    paid_by: str | None
    bank_reference: str | None
    cancel_entry_id: int | None
    cancelled_on: date | None
    source_file: str | None
    lines: list[PayableLineOut]

    @classmethod
    def of(cls, view: PayableView) -> PayableOut:
        p = view.payable
        return cls(
            id=view.id, holder_id=p.holder_id, kind=p.kind, supplier=p.supplier, number=p.number, description=p.description,
            dated_on=p.dated_on, approved_by=p.approved_by, approved_at=p.approved_at, total=amount_text(view.total_pence),
            status=p.status, approval_entry_id=p.approval_entry_id, payment_entry_id=p.payment_entry_id, paid_on=p.paid_on,
            paid_by=p.paid_by, bank_reference=p.bank_reference, cancel_entry_id=p.cancel_entry_id, cancelled_on=p.cancelled_on,
            source_file=p.source_file,
            lines=[
                PayableLineOut(
                    line_no=line.line_no, budget_id=line.budget_id, budget=line.budget_reference, category=line.category_code,
                    amount=amount_text(line.amount_pence), description=line.description, worker=line.worker,
                    hours=None if line.hours_hundredths is None else f"{line.hours_hundredths // 100}.{line.hours_hundredths % 100:02d}",
                    rate=None if line.rate_pence is None else amount_text(line.rate_pence),
                    employer_costs=None if line.employer_costs_pence is None else amount_text(line.employer_costs_pence),
                    pool_id=line.pool_id,
                )
                for line in view.lines
            ],
        )  # fmt: skip


class BudgetTotalOut(BaseModel):
    budget: str
    amount: str


def _totals(totals: dict[str, int]) -> list[BudgetTotalOut]:
    return [BudgetTotalOut(budget=reference, amount=amount_text(pence)) for reference, pence in totals.items()]


class PaymentOut(BaseModel):
    entry_id: int
    amount: str
    by_budget: list[BudgetTotalOut]
    payables: list[PayableOut]

    @classmethod
    def of(cls, payment: PaymentResult) -> PaymentOut:
        return cls(
            entry_id=payment.entry_id,
            amount=amount_text(payment.amount_pence),
            by_budget=_totals(payment.totals_by_budget),
            payables=[PayableOut.of(view) for view in payment.payables],
        )


class PayrollRunOut(BaseModel):
    payable: PayableOut
    total: str
    by_budget: list[BudgetTotalOut]
    payment: PaymentOut | None

    @classmethod
    def of(cls, run: PayrollRunResult) -> PayrollRunOut:
        return cls(
            payable=PayableOut.of(run.payable),
            total=amount_text(run.total_pence),
            by_budget=_totals(run.totals_by_budget()),
            payment=PaymentOut.of(run.payment) if run.payment else None,
        )


class ShareOut(BaseModel):
    budget_id: int
    budget: str
    weight: int


class PoolOut(BaseModel):
    id: int
    holder_id: int
    name: str
    shares: list[ShareOut]

    @classmethod
    def of(cls, view: PoolView) -> PoolOut:
        return cls(
            id=view.id,
            holder_id=view.pool.holder_id,
            name=view.pool.name,
            shares=[ShareOut(budget_id=s.budget_id, budget=s.budget_reference, weight=s.weight) for s in view.shares],
        )


# --- endpoints ------------------------------------------------------------------------------


def _created(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


def _lines(body: InvoiceIn) -> list[LineSpec]:
    return [LineSpec(line.budget, line.category, line.amount, line.description) for line in body.lines]


@router.post("/holders/{holder_id}/invoices", status_code=201, response_model=PayableOut, responses=_replay(PayableOut))
def approve_an_invoice(holder_id: RecordId, body: InvoiceIn, request: Request, response: Response) -> PayableOut:
    """Approve an invoice: its money is committed (``B:spend:<category>`` / ``B:payable`` per
    budget). An invoice is unique per supplier and number: the same again is a replay, other
    content a 409 ``invoice_exists``."""
    with database(request).write() as session:
        result = approve_invoice(
            session, holder_id, supplier=body.supplier, number=body.number, dated_on=body.dated_on, lines=_lines(body),
            approved_by=signed_in(request), description=body.description,
        )  # fmt: skip
    return _approval_out(result, response)


@router.post("/holders/{holder_id}/wages", status_code=201, response_model=PayableOut, responses=_replay(PayableOut))
def approve_some_wages(holder_id: RecordId, body: InvoiceIn, request: Request, response: Response) -> PayableOut:
    """Approve a worker's wages (``supplier`` is the worker, ``number`` the payslip)."""
    with database(request).write() as session:
        result = approve_wages(
            session, holder_id, supplier=body.supplier, number=body.number, dated_on=body.dated_on, lines=_lines(body),
            approved_by=signed_in(request), description=body.description,
        )  # fmt: skip
    return _approval_out(result, response)


def _approval_out(result: ApprovalResult, response: Response) -> PayableOut:
    _created(response, result.created)
    return PayableOut.of(result.payable)


@router.post("/holders/{holder_id}/payroll-runs", status_code=201, response_model=PayrollRunOut, responses=_replay(PayrollRunOut))
def import_a_payroll_run(holder_id: RecordId, body: PayrollRunIn, request: Request, response: Response) -> PayrollRunOut:
    """Approve a payroll run from its CSV (and, with ``payment``, record its bank payment).
    A file with anything wrong is refused whole (422, every problem with its line in
    ``details.problems``); the same file again returns the original run."""
    # Lone surrogates cannot be UTF-8; passed through, the sheet reader names the line.
    data = body.csv.encode("utf-8", "surrogatepass")
    with database(request).write() as session:
        parties.get_holder(session, holder_id)
        if body.payment is None:
            run = import_payroll_run(
                session, holder_id, data, body.file_name, pay_date=body.pay_date, reference=body.reference, approved_by=signed_in(request)
            )
        else:
            pay = body.payment
            run = approve_and_pay(
                session, holder_id, data, body.file_name, pay_date=body.pay_date, reference=body.reference,
                approved_by=signed_in(request), bank_reference=pay.bank_reference, amount_pence=pay.amount,
                paid_on=pay.paid_on, paid_by=signed_in(request),
            )  # fmt: skip
    _created(response, run.created)
    return PayrollRunOut.of(run)


@router.post("/holders/{holder_id}/payments", status_code=201, response_model=PaymentOut, responses=_replay(PaymentOut))
def pay(holder_id: RecordId, body: PaymentIn, request: Request, response: Response) -> PaymentOut:
    """Record one bank payment that pays approved payables in full (``B:payable`` /
    ``B:cash`` per budget). The amount must be their total: a difference is a 422 naming it."""
    with database(request).write() as session:
        payment = pay_payables(
            session, holder_id, body.payable_ids, paid_on=body.paid_on, bank_reference=body.bank_reference,
            amount_pence=body.amount, paid_by=signed_in(request),
        )  # fmt: skip
    _created(response, payment.created)
    return PaymentOut.of(payment)


@router.post("/payables/{payable_id}/cancel", response_model=PayableOut)
def cancel(payable_id: RecordId, body: CancelIn, request: Request) -> PayableOut:
    """Cancel an approved payable not yet paid: its approval entry is reversed."""
    with database(request).write() as session:
        view = cancel_payable(session, payable_id, cancelled_on=body.cancelled_on or today_in_england(), cancelled_by=signed_in(request))
    return PayableOut.of(view)


@router.get("/holders/{holder_id}/payables", response_model=list[PayableOut])
def list_payables(
    holder_id: RecordId, request: Request, status: Literal["approved", "paid", "cancelled"] | None = None
) -> list[PayableOut]:
    with database(request).read() as session:
        parties.get_holder(session, holder_id)
        return [PayableOut.of(view) for view in payables_of(session, holder_id=holder_id, status=status)]


@router.get("/budgets/{budget_id}/payables", response_model=list[PayableOut])
def list_budget_payables(
    budget_id: RecordId, request: Request, status: Literal["approved", "paid", "cancelled"] | None = None
) -> list[PayableOut]:
    """The payables with a line for this budget, each with only this budget's lines and
    part: a family sees its own share of a payroll run or pooled cost, nobody else's."""
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        return [PayableOut.of(view) for view in payables_of(session, budget_id=budget_id, status=status)]


@router.post("/holders/{holder_id}/pools", status_code=201, response_model=PoolOut)
def create_a_pool(holder_id: RecordId, body: PoolIn, request: Request) -> PoolOut:
    with database(request).write() as session:
        view = create_pool(session, holder_id, body.name, [(share.budget, share.weight) for share in body.shares])
    return PoolOut.of(view)


@router.get("/holders/{holder_id}/pools", response_model=list[PoolOut])
def list_pools(holder_id: RecordId, request: Request) -> list[PoolOut]:
    with database(request).read() as session:
        return [PoolOut.of(view) for view in pools_of(session, holder_id)]


@router.get("/pools/{pool_id}", response_model=PoolOut)
def read_pool(pool_id: RecordId, request: Request) -> PoolOut:
    with database(request).read() as session:
        return PoolOut.of(get_pool(session, pool_id))


@router.put("/pools/{pool_id}/shares", response_model=PoolOut)
def replace_shares(pool_id: RecordId, body: SharesIn, request: Request) -> PoolOut:
    """New shares apply to costs approved from now on; costs approved before keep their split."""
    with database(request).write() as session:
        view = change_shares(session, pool_id, [(share.budget, share.weight) for share in body.shares])
    return PoolOut.of(view)


@router.post("/pools/{pool_id}/costs", status_code=201, response_model=PayableOut, responses=_replay(PayableOut))
def approve_a_pooled_cost(pool_id: RecordId, body: PooledCostIn, request: Request, response: Response) -> PayableOut:
    """Approve a cost the pool shares, split over its budgets by their shares (to the penny)."""
    with database(request).write() as session:
        result = approve_pooled_cost(
            session, pool_id, supplier=body.supplier, number=body.number, dated_on=body.dated_on, amount_pence=body.amount,
            category_code=body.category, description=body.description, approved_by=signed_in(request),
        )  # fmt: skip
    return _approval_out(result, response)
