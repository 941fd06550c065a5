"""``phb-ledger payroll`` and ``phb-ledger invoice``: approve, pay, cancel and list what the
holder pays from the client bank account.

``payroll import`` prints each budget's total (what goes on each person's statement) and,
when the file is refused, every problem with its line, one per line on stderr.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core.money import format_amount, format_gbp, parse_amount, to_pence
from ledger.errors import InvalidInput, LedgerError
from ledger.money_out.payable_lines import LineSpec
from ledger.money_out.payable_views import PayableView, payables_of
from ledger.money_out.payables import PaymentResult, approve_invoice, cancel_payable, pay_payables
from ledger.money_out.payroll_runs import PayrollRunResult, approve_and_pay, import_payroll_run
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, reporting_errors, stdout
from web.clock import today_in_england

payroll_app = typer.Typer(help="Payroll runs from the payroll system's CSV.", no_args_is_help=True)
invoice_app = typer.Typer(help="Invoices and wages: approve (commit), pay, cancel, list.", no_args_is_help=True)

HolderOption = Annotated[str, typer.Option("--holder", help="The holder's code")]
WhoOption = Annotated[str, typer.Option("--by", help="Who approves or records it")]


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the ``phb-ledger`` app."""
    app.add_typer(payroll_app, name="payroll")
    app.add_typer(invoice_app, name="invoice")


@contextmanager
def reporting_file_errors() -> Iterator[None]:
    """As ``reporting_errors``; a refused file's reason is followed by each of its problems,
    one per line, with its line number."""
    with reporting_errors():
        try:
            yield
        except InvalidInput as error:
            problems = error.details.get("problems")
            if not isinstance(problems, list) or len(problems) < 2:
                raise
            listed = "".join(
                f"\n  line {p['line']}" + (f", column {p['column']}" if p.get("column") else "") + f": {p['message']}"
                for p in problems
            )
            raise LedgerError(f"{error.message}{listed}") from error


def _pence(text: str | None, option: str) -> int | None:
    return None if text is None else to_pence(parse_amount(text, field=option), field=option)


def _required_date(text: str, option: str) -> date:
    day = parse_date(text, option)
    assert day is not None
    return day


@payroll_app.command("import")
def import_payroll(
    file: Annotated[Path, typer.Argument(help="The payroll CSV (UTF-8)", exists=True, dir_okay=False, readable=True)],
    holder: HolderOption,
    pay_date: Annotated[str, typer.Option("--pay-date", help="The pay date (YYYY-MM-DD): the approval's date")],
    reference: Annotated[str, typer.Option("--reference", help="The payroll run's reference, unique per holder")],
    approved_by: Annotated[str, typer.Option("--approved-by", help="Who approves the run")] = "cli",
    paid_on: Annotated[str | None, typer.Option("--paid-on", help="Also record the bank payment, on this date (default the pay date)")] = None,
    bank_reference: Annotated[str | None, typer.Option("--bank-reference", help="The payment's reference on the bank statement")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="What left the bank: must be the file's total")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a payroll run from its CSV, and with --bank-reference and --amount record its
    payment too. A file with anything wrong is refused whole, every problem named by line."""
    with reporting_errors():
        pay_day = _required_date(pay_date, "--pay-date")
        paying = bank_reference is not None or amount is not None or paid_on is not None
        if paying and (bank_reference is None or amount is None):
            raise LedgerError("to record the payment give both --bank-reference and --amount")
        amount_pence = _pence(amount, "--amount")
        paid_day = parse_date(paid_on, "--paid-on")
        data = file.read_bytes()
        database = open_database(db)
    with reporting_file_errors(), database.write() as session:
        holder_id = parties.holder_by_code(session, holder).id
        if paying:
            assert bank_reference is not None and amount_pence is not None
            run = approve_and_pay(
                session, holder_id, data, file.name, pay_date=pay_day, reference=reference, approved_by=approved_by,
                bank_reference=bank_reference, amount_pence=amount_pence, paid_on=paid_day,
            )  # fmt: skip
        else:
            run = import_payroll_run(session, holder_id, data, file.name, pay_date=pay_day, reference=reference, approved_by=approved_by)
    if as_json:
        print_json(run_as_json(run))
        return
    verb = "Approved" if run.created else "Already imported:"
    stdout.print(
        f"{verb} payroll run {run.payable.payable.number} (payable {run.payable.id}), {len(run.payable.lines)} line(s),"
        f" {format_gbp(run.total_pence)} over {len(run.totals_by_budget())} budget(s).",
        highlight=False,
    )
    table = Table("Budget", "Total", title="Per budget")
    for reference_, pence in run.totals_by_budget().items():
        table.add_row(reference_, format_gbp(pence))
    stdout.print(table)
    if run.payment is not None:
        stdout.print(f"Paid on {run.payable.payable.paid_on}, bank reference {run.payable.payable.bank_reference} (entry {run.payment.entry_id}).", highlight=False)


def run_as_json(run: PayrollRunResult) -> dict[str, Any]:
    return {
        "created": run.created,
        "payable": payable_as_json(run.payable),
        "total": format_amount(run.total_pence),
        "by_budget": [{"budget": ref, "amount": format_amount(pence)} for ref, pence in run.totals_by_budget().items()],
        "payment": payment_as_json(run.payment) if run.payment else None,
    }


def payable_as_json(view: PayableView) -> dict[str, Any]:
    p = view.payable
    return {
        "id": view.id,
        "kind": p.kind,
        "supplier": p.supplier,
        "number": p.number,
        "dated_on": p.dated_on.isoformat(),
        "total": format_amount(view.total_pence),
        "status": p.status,
        "approval_entry_id": p.approval_entry_id,
        "payment_entry_id": p.payment_entry_id,
        "paid_on": p.paid_on.isoformat() if p.paid_on else None,
        "bank_reference": p.bank_reference,
        "lines": [
            {"line_no": line.line_no, "budget": line.budget_reference, "category": line.category_code,
             "amount": format_amount(line.amount_pence), "worker": line.worker, "description": line.description}
            for line in view.lines
        ],  # fmt: skip
    }


def payment_as_json(payment: PaymentResult) -> dict[str, Any]:
    return {
        "created": payment.created,
        "entry_id": payment.entry_id,
        "amount": format_amount(payment.amount_pence),
        "by_budget": [{"budget": ref, "amount": format_amount(pence)} for ref, pence in payment.totals_by_budget.items()],
        "payables": [view.id for view in payment.payables],
    }


def _line(text: str) -> LineSpec:
    """``BUDGET:CATEGORY:AMOUNT[:DESCRIPTION]``, e.g. ``ISF-0007:agency_support:1,200.00:Two weeks``."""
    parts = text.split(":", 3)
    if len(parts) < 3:
        raise LedgerError(f"--line {text!r} must be BUDGET:CATEGORY:AMOUNT[:DESCRIPTION], e.g. ISF-0007:agency_support:120.00")
    amount = _pence(parts[2], "--line amount")
    assert amount is not None
    return LineSpec(parts[0].strip(), parts[1].strip(), amount, parts[3] if len(parts) == 4 else None)


@invoice_app.command("approve")
def approve(
    holder: HolderOption,
    supplier: Annotated[str, typer.Option("--supplier", help="The agency or supplier (for --wages, the worker)")],
    number: Annotated[str, typer.Option("--number", help="The invoice number (for --wages, the payslip)")],
    dated_on: Annotated[str, typer.Option("--date", help="The invoice's date (YYYY-MM-DD)")],
    line: Annotated[list[str], typer.Option("--line", help="BUDGET:CATEGORY:AMOUNT[:DESCRIPTION]; repeat for each budget")],
    approved_by: WhoOption = "cli",
    description: Annotated[str | None, typer.Option("--description")] = None,
    wages: Annotated[bool, typer.Option("--wages", help="These are a worker's wages, not an invoice")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve an invoice or wages: the money is committed to each budget named."""
    with reporting_errors():
        day = _required_date(dated_on, "--date")
        lines = [_line(text) for text in line]
        database = open_database(db)
        with database.write() as session:
            holder_id = parties.holder_by_code(session, holder).id
            result = approve_invoice(
                session, holder_id, supplier=supplier, number=number, dated_on=day, lines=lines, approved_by=approved_by,
                description=description, kind="wages" if wages else "invoice",
            )  # fmt: skip
    if as_json:
        print_json({"created": result.created, **payable_as_json(result.payable)})
        return
    verb = "Approved" if result.created else "Already approved:"
    stdout.print(f"{verb} payable {result.payable.id}, {supplier} {number}, {format_gbp(result.payable.total_pence)}.", highlight=False)


@invoice_app.command("pay")
def pay(
    payable_ids: Annotated[list[int], typer.Argument(help="The payables this bank payment pays")],
    holder: HolderOption,
    paid_on: Annotated[str, typer.Option("--paid-on", help="The payment date (YYYY-MM-DD)")],
    bank_reference: Annotated[str, typer.Option("--bank-reference", help="As on the bank statement")],
    amount: Annotated[str, typer.Option("--amount", help="What left the bank: must be the payables' total")],
    paid_by: WhoOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one bank payment that pays one or more approved payables in full."""
    with reporting_errors():
        day = _required_date(paid_on, "--paid-on")
        amount_pence = _pence(amount, "--amount")
        assert amount_pence is not None
        database = open_database(db)
        with database.write() as session:
            holder_id = parties.holder_by_code(session, holder).id
            payment = pay_payables(
                session, holder_id, payable_ids, paid_on=day, bank_reference=bank_reference, amount_pence=amount_pence, paid_by=paid_by
            )
    if as_json:
        print_json(payment_as_json(payment))
        return
    verb = "Paid" if payment.created else "Already paid:"
    stdout.print(f"{verb} {len(payment.payables)} payable(s), {format_gbp(payment.amount_pence)} (entry {payment.entry_id}).", highlight=False)


@invoice_app.command("cancel")
def cancel(
    payable_id: Annotated[int, typer.Argument(help="The payable to cancel (approved, not paid)")],
    cancelled_on: Annotated[str | None, typer.Option("--on", help="The cancellation's date (default today)")] = None,
    cancelled_by: WhoOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel an approved payable not yet paid: its approval entry is reversed."""
    with reporting_errors():
        day = parse_date(cancelled_on, "--on") or today_in_england()
        database = open_database(db)
        with database.write() as session:
            view = cancel_payable(session, payable_id, cancelled_on=day, cancelled_by=cancelled_by)
    if as_json:
        print_json(payable_as_json(view))
        return
    stdout.print(f"Cancelled payable {view.id} ({view.payable.supplier} {view.payable.number}).", highlight=False)


@invoice_app.command("list")
def list_payables(
    holder: Annotated[str | None, typer.Option("--holder", help="Only this holder's payables (its code)")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="Only this budget's lines (its reference)")] = None,
    status: Annotated[str | None, typer.Option("--status", help="approved, paid or cancelled")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Invoices, wages, payroll runs and pooled costs, newest first."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            holder_id = parties.holder_by_code(session, holder).id if holder else None
            budget_id = budgets.budget_by_reference(session, budget).id if budget else None
            views = payables_of(session, holder_id=holder_id, budget_id=budget_id, status=status)
    if as_json:
        print_json([payable_as_json(view) for view in views])
        return
    table = Table("Id", "Kind", "Supplier", "Number", "Dated", "Total", "Status", title="Payables")
    for view in views:
        p = view.payable
        table.add_row(str(view.id), p.kind, p.supplier, p.number, str(p.dated_on), format_gbp(view.total_pence), p.status)
    stdout.print(table)
