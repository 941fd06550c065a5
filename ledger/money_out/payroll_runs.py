"""A payroll run from the provider's payroll CSV: one bank payment split over many budgets.

An ISF provider employs staff for each person and pays them all in one payroll run; one
worker may split their time between two people at different rates. The payroll system's CSV
(layout: ``ledger.money_out.payroll_sheet``) says, per worker and budget, what the run costs. Importing
it approves the run as one payable (kind ``payroll``): ONE journal entry with a (spend,
payable) pair per budget and category, so each budget bears exactly its own rows. Paying it
is :func:`ledger.money_out.payables.pay_payables` with the amount that left the bank, which must be the
run's total.

Nothing is posted unless the whole file is sound: the sheet is read in full, then every row
is checked against the database (budget known, this holder's and open; category known; date
in the plan period), every problem is collected with its line number, and the run is refused
whole (``payroll_rejected``) — paying half a payroll is worse than paying none. The same file
(by SHA-256) imported again returns the original run; another file under a reference already
used is a conflict.

The checks read budgets, categories and accounts in a few queries, whatever the number of
rows: a run of 500 lines over 100 budgets takes well under the 2 s it is allowed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core import checks
from ledger.core.entries import Provenance
from ledger.core.journal import lock_book
from ledger.core.money import format_gbp
from ledger.errors import Conflict, InvalidInput
from ledger.money_out.payable_lines import LineProblem, LineSpec, normalised
from ledger.money_out.payable_views import PayableStatus, PayableView, get_payable
from ledger.money_out.payables import NUMBER_LENGTH_MAX, PayableKind, PaymentResult, approve_lines, pay_payables
from ledger.money_out.payroll_sheet import PayrollSheet, read_payroll_sheet
from ledger.store.tables.payables import Payable

PAYROLL_SUPPLIER = "Payroll"
SOURCE_FORMAT = "payroll_csv"
IMPORTER = "payroll_runs"
FILE_NAME_LENGTH_MAX = 500


@dataclass(frozen=True, slots=True)
class PayrollRunResult:
    payable: PayableView
    created: bool
    """False when this file was imported before: the original run is returned."""
    payment: PaymentResult | None = None

    @property
    def total_pence(self) -> int:
        return self.payable.total_pence

    def totals_by_budget(self) -> dict[str, int]:
        return self.payable.totals_by_budget()


def import_payroll_run(
    session: Session,
    holder_id: int,
    data: bytes,
    file_name: str,
    *,
    pay_date: date,
    reference: str,
    approved_by: str,
) -> PayrollRunResult:
    """Read a payroll CSV and approve it as one payroll run dated ``pay_date``."""
    return _import(session, holder_id, data, file_name, pay_date=pay_date, reference=reference, approved_by=approved_by)


def _import(
    session: Session,
    holder_id: int,
    data: bytes,
    file_name: str,
    *,
    pay_date: date,
    reference: str,
    approved_by: str,
    bank_amount_pence: int | None = None,
) -> PayrollRunResult:
    name = checks.required_text(file_name, "file_name", max_length=FILE_NAME_LENGTH_MAX)
    run_reference = checks.required_text(reference, "reference", max_length=NUMBER_LENGTH_MAX)
    checks.required_text(approved_by, "approved_by", max_length=200)
    digest = hashlib.sha256(data).hexdigest()
    lock_book(session, holder_id)
    original = _run_of_file(session, holder_id, digest)
    if original is not None:
        return PayrollRunResult(get_payable(session, original.id), created=False)  # type: ignore[arg-type]
    sheet = read_payroll_sheet(data, name)
    if bank_amount_pence is not None:
        _check_bank_amount(sheet, bank_amount_pence)
    _check_reference_free(session, holder_id, run_reference)
    approval = approve_lines(
        session,
        holder_id,
        kind=PayableKind.PAYROLL,
        supplier=PAYROLL_SUPPLIER,
        number=run_reference,
        dated_on=pay_date,
        lines=_line_specs(sheet),
        approved_by=approved_by,
        description=f"Payroll run {run_reference} paid {pay_date:%d %b %Y}, from {name}"[:500],
        source_file=name,
        source_sha256=digest,
        provenance=Provenance(source_file=name, source_format=SOURCE_FORMAT, importer=IMPORTER),
        refuse=lambda problems: _refusal(name, problems),
    )
    return PayrollRunResult(approval.payable, created=approval.created)


def approve_and_pay(
    session: Session,
    holder_id: int,
    data: bytes,
    file_name: str,
    *,
    pay_date: date,
    reference: str,
    approved_by: str,
    bank_reference: str,
    amount_pence: int,
    paid_on: date | None = None,
    paid_by: str | None = None,
) -> PayrollRunResult:
    """Import a run and record its bank payment in the same transaction (a run paid the day
    it is approved). Retrying returns the original run and payment."""
    run = _import(
        session, holder_id, data, file_name, pay_date=pay_date, reference=reference, approved_by=approved_by,
        bank_amount_pence=amount_pence,
    )  # fmt: skip
    payment = pay_payables(
        session,
        holder_id,
        [run.payable.id],
        paid_on=paid_on or pay_date,
        bank_reference=bank_reference,
        amount_pence=amount_pence,
        paid_by=paid_by or approved_by,
    )
    return PayrollRunResult(get_payable(session, run.payable.id), created=run.created, payment=payment)


def _check_bank_amount(sheet: PayrollSheet, amount_pence: int) -> None:
    """Before anything is approved (``pay_payables`` checks it again), so that a wrong bank
    amount leaves nothing behind even for a caller that commits what it has."""
    difference = amount_pence - sheet.total_pence
    if difference:
        raise InvalidInput(
            f"the bank payment of {format_gbp(amount_pence)} is {format_gbp(abs(difference))}"
            f" {'more' if difference > 0 else 'less'} than the payroll file's total of {format_gbp(sheet.total_pence)}",
            code="payment_amount_mismatch",
            field="amount",
            details={"payables_total": sheet.total_pence, "amount": amount_pence, "difference": difference},
        )


def _run_of_file(session: Session, holder_id: int, digest: str) -> Payable | None:
    return session.execute(
        select(Payable).where(Payable.holder_id == holder_id, Payable.source_sha256 == digest)
    ).scalar_one_or_none()


def _check_reference_free(session: Session, holder_id: int, reference: str) -> None:
    taken = session.execute(
        select(Payable.id, Payable.source_file).where(
            Payable.holder_id == holder_id,
            Payable.supplier_key == normalised(PAYROLL_SUPPLIER, 200),
            Payable.number_key == normalised(reference, NUMBER_LENGTH_MAX),
            Payable.status != PayableStatus.CANCELLED,
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"payroll run {reference} was already imported from another file ({taken.source_file}, payable {taken.id});"
            " give this run its own reference, or cancel that run first",
            code="payroll_reference_taken",
            field="reference",
            details={"payable_id": taken.id},
        )


def _line_specs(sheet: PayrollSheet) -> list[LineSpec]:
    return [
        LineSpec(
            budget_reference=line.budget_reference,
            category_code=line.category,
            amount_pence=line.amount_pence,
            description=line.description,
            line_no=line.line_no,
            worker=line.worker,
            hours_hundredths=line.hours_hundredths,
            rate_pence=line.rate_pence,
            employer_costs_pence=line.employer_costs_pence,
        )
        for line in sheet.lines
    ]


_COLUMN_OF_FIELD = {"budget": "budget", "category": "category", "dated_on": "budget", "amount": None, "description": "description"}


def _refusal(file_name: str, problems: list[LineProblem]) -> InvalidInput:
    """Every problem with its CSV line, in the style of ``ledger.money_out.payroll_sheet``'s errors."""
    listed = [
        {"line": p.line_no, "column": _COLUMN_OF_FIELD.get(p.field, p.field), "code": p.code, "message": p.message}
        for p in problems
    ]
    first = listed[0]
    where = f"{file_name} line {first['line']}" + (f", column {first['column']}" if first["column"] else "")
    message = f"{where}: {first['message']}"
    if len(listed) > 1:
        message += f" (and {len(listed) - 1} more problem{'s' if len(listed) > 2 else ''})"
    return InvalidInput(
        f"the payroll run was not posted: {message}",
        code="payroll_rejected",
        field=first["column"],
        details={"file": file_name, "problems": listed},
    )
