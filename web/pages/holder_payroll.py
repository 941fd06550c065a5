"""Payroll runs: upload the payroll system's CSV with the pay date and the run's reference
(and, when it has left the bank, the bank reference and amount) and see what it costs each
budget. ``ledger.money_out.payroll_runs`` approves it (the command line and the API call the same
functions); a file with anything wrong is refused whole and every problem is listed by line.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from ledger.access.resources import require_visible
from ledger.access.visibility import Principal
from ledger.errors import Conflict, InvalidInput
from ledger.money_out.payable_views import get_payable, payables_of
from ledger.money_out.payroll_runs import approve_and_pay, import_payroll_run
from ledger.store.tables.payables import Payable
from web.pages.access import HOLDER_PAGES
from web.pages.holder_common import Errors, database, holder_of, pounds, three_part_date
from web.pages.render import page

router = APIRouter(include_in_schema=False)
PAYROLL_BYTES_MAX = 16 * 1024 * 1024
"""A payroll sheet of 100,000 rows (the most ``ledger.money_out.payroll_sheet`` reads) is about 8 MB."""
UPLOAD_LIMITS = ((r"^/holder/payroll$", PAYROLL_BYTES_MAX + 1024 * 1024),)
RUNS_SHOWN = 20
PROBLEMS_SHOWN = 50
FIELDS = ("reference", "bank_reference", "amount", "pay-day", "pay-month", "pay-year")


def _payroll_page(request: Request, who: Principal, *, values: dict[str, str] | None = None, errors: Errors | None = None,
                  problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:  # fmt: skip
    with database(request).read() as session:
        runs = [view for view in payables_of(session, holder_id=holder_of(who)) if view.payable.kind == "payroll"][:RUNS_SHOWN]
    return page(
        request, "holder/payroll.html", title=("Error: " if errors else "") + "Upload a payroll run", runs=runs, values=values or {}, errors=errors or [],
        problems=problems or [], status_code=status_code,
    )  # fmt: skip


@router.get("/holder/payroll")
def payroll_form(request: Request, who: Principal = Depends(HOLDER_PAGES)) -> Response:
    return _payroll_page(request, who)


@router.post("/holder/payroll")
def upload_payroll(
    request: Request,
    file: UploadFile | None = File(default=None),
    reference: str = Form(default="", max_length=200),
    bank_reference: str = Form(default="", max_length=200),
    amount: str = Form(default="", max_length=60),
    pay_day: str = Form(default="", alias="pay-day", max_length=10),
    pay_month: str = Form(default="", alias="pay-month", max_length=10),
    pay_year: str = Form(default="", alias="pay-year", max_length=10),
    who: Principal = Depends(HOLDER_PAGES),
) -> Response:
    typed = (reference, bank_reference, amount, pay_day, pay_month, pay_year)
    values = {name: value.strip() for name, value in zip(FIELDS, typed, strict=True)}
    data = file.file.read(PAYROLL_BYTES_MAX + 1) if file is not None else b""
    return _store_payroll(request, who, values, file.filename if file is not None else None, data)


def _store_payroll(request: Request, who: Principal, values: dict[str, str], file_name: str | None, data: bytes) -> Response:
    errors: Errors = []
    if not file_name:
        errors.append(("file", "Choose the payroll file (CSV)"))
    elif not data:
        errors.append(("file", f"The file {file_name} is empty"))
    elif len(data) > PAYROLL_BYTES_MAX:
        errors.append(("file", f"The file {file_name} is larger than {PAYROLL_BYTES_MAX // (1024 * 1024)} MB: split the run in two"))
    pay_date = three_part_date(values, "pay", "the pay date", errors)
    if not values["reference"]:
        errors.append(("reference", "Enter the payroll run's reference"))
    paying = bool(values["bank_reference"] or values["amount"])
    amount = pounds(values["amount"], "amount", "the amount paid from the bank", errors) if paying else None
    if paying and not values["bank_reference"]:
        errors.append(("bank_reference", "Enter the payment's reference on the bank statement, or leave the amount empty"))
    if errors:
        return _payroll_page(request, who, values=values, errors=errors, status_code=422)
    assert file_name is not None and pay_date is not None
    holder_id = holder_of(who)
    try:
        with database(request).write() as session:
            if paying:
                assert amount is not None
                run = approve_and_pay(
                    session, holder_id, data, file_name[:500], pay_date=pay_date, reference=values["reference"], approved_by=who.signature,
                    bank_reference=values["bank_reference"], amount_pence=amount,
                )  # fmt: skip
            else:
                run = import_payroll_run(session, holder_id, data, file_name[:500], pay_date=pay_date, reference=values["reference"], approved_by=who.signature)
    except (InvalidInput, Conflict) as refused:
        problems = list(refused.details.get("problems", []))[:PROBLEMS_SHOWN]
        field = {"reference": "reference", "amount": "amount"}.get(refused.field or "", "file")
        return _payroll_page(request, who, values=values, errors=[(field, refused.message)], problems=problems, status_code=refused.status_code)
    again = "" if run.created else "?again=true"
    return RedirectResponse(f"/holder/payroll/{run.payable.id}{again}", status_code=303)


@router.get("/holder/payroll/{payable_id}")
def payroll_summary(request: Request, payable_id: int = Path(ge=1, le=2_147_483_647), again: bool = False,
                    who: Principal = Depends(HOLDER_PAGES)) -> Response:  # fmt: skip
    with database(request).read() as session:
        require_visible(session, who, "payable_id", payable_id)
        view = get_payable(session, payable_id)
    payable: Payable = view.payable
    return page(request, "holder/payroll_run.html", title=f"Payroll run {payable.number}", view=view, payable=payable,
                by_budget=view.totals_by_budget(), again=again)  # fmt: skip
