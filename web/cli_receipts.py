"""``phb-ledger payments``: what funders (and the person) are to pay, and money received.

A funder's remittance list comes as a CSV file with the columns ``budget`` (the budget's
reference) and ``amount`` (pounds, e.g. ``1234.50``), one line per budget; every error names
the file's line.
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core.money import AmountError, format_amount, format_gbp, parse_amount, to_pence
from ledger.errors import InvalidInput, LedgerError
from ledger.money_in.contributions import record_contribution
from ledger.money_in.expected_payments import ExpectedPaymentView, expected_payments, schedule_expected_payments
from ledger.money_in.funder_receipts import attribute_unallocated, record_funder_receipt
from ledger.money_in.receipt_views import AttributionView, ContributionView, ReceiptView, ShareView
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, reporting_errors, stdout

payments_app = typer.Typer(help="Funder payments and client contributions: schedules, receipts, attributions.", no_args_is_help=True)

FunderOption = Annotated[str | None, typer.Option("--funder", help="The funder's code")]
ContributionFlag = Annotated[bool, typer.Option("--contribution", help="The person's client contribution instead of a funder")]
OnOption = Annotated[str, typer.Option("--on", help="The day (YYYY-MM-DD)")]
AmountOption = Annotated[str, typer.Option("--amount", help="Pounds, e.g. 1234.50")]
REMITTANCE_COLUMNS = ("budget", "amount")
_REMITTANCE_FIELD_RE = re.compile(r"remittance\[(\d+)\]")


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the ``phb-ledger`` app."""
    app.add_typer(payments_app, name="payments")


@payments_app.command("expect")
def expect(
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    frequency: Annotated[str, typer.Option("--frequency", help="monthly, quarterly, four_weekly or annual")],
    first_due: Annotated[str, typer.Option("--from", help="The first instalment's due day (YYYY-MM-DD)")],
    funder: FunderOption = None,
    contribution: ContributionFlag = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Schedule what a funder (or the person) is to pay, from --from to the plan period's end.

    Run it again after a plan revision: instalments from --from not yet received are replaced."""
    with reporting_errors():
        first_due_on = _required_date(first_due, "--from")
        database = open_database(db)
        with database.write() as session:
            found = budgets.budget_by_reference(session, budget)
            funder_id = _payer(session, funder, contribution)
            result = schedule_expected_payments(session, found.id, funder_id, frequency=frequency, first_due_on=first_due_on, created_by="cli")
    if as_json:
        print_json({"created": result.created, "replaced": result.replaced, "instalments": [_instalment(v) for v in result.instalments]})
        return
    total = sum(v.amount_pence for v in result.instalments)
    stdout.print(
        f"{budget}: {len(result.instalments)} instalment(s), {format_gbp(total)} in all ({result.created} new, {result.replaced} replaced).",
        highlight=False,
    )


@payments_app.command("due")
def due(
    holder: Annotated[str | None, typer.Option("--holder", help="Only this holder's budgets (its code)")] = None,
    funder: FunderOption = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only instalments overdue")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Overdue means due before this day (default today)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Instalments expected, with what was received and what is outstanding."""
    with reporting_errors():
        day = parse_date(as_of, "--as-of")
        database = open_database(db)
        with database.read() as session:
            holder_id = parties.holder_by_code(session, holder).id if holder else None
            funder_id = parties.funder_by_code(session, funder).id if funder else None
            views = [v for v in expected_payments(session, holder_id=holder_id, funder_id=funder_id, as_of=day) if v.overdue or not overdue]
    if as_json:
        print_json([_instalment(v) for v in views])
        return
    table = Table("Budget", "From", "Due", "Amount", "Received", "Outstanding", "Overdue", title="Expected payments")
    for v in views:
        table.add_row(
            v.budget_reference, v.funder_code, str(v.due_on), format_gbp(v.amount_pence), format_gbp(v.received_pence),
            format_gbp(v.outstanding_pence), "yes" if v.overdue else "",
        )  # fmt: skip
    stdout.print(table)


@payments_app.command("receive")
def receive(
    holder: Annotated[str, typer.Option("--holder", help="The holder's code")],
    funder: Annotated[str, typer.Option("--funder", help="The funder's code")],
    on: OnOption,
    amount: AmountOption,
    reference: Annotated[str, typer.Option("--reference", help="The bank line's reference")],
    remittance: Annotated[Path | None, typer.Option("--remittance", help="CSV with columns budget,amount")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one funder payment, split over budgets by the remittance file or by the amounts
    due. Recording the same bank line again changes nothing."""
    with reporting_errors():
        received_on = _required_date(on, "--on")
        pence = _amount(amount, "--amount")
        lines, line_numbers = _read_remittance(remittance) if remittance else (None, [])
        database = open_database(db)
        with database.write() as session:
            holder_id = parties.holder_by_code(session, holder).id
            funder_id = parties.funder_by_code(session, funder).id
            try:
                recorded = record_funder_receipt(
                    session, holder_id, funder_id, received_on=received_on, amount_pence=pence, reference=reference,
                    remittance=lines, created_by="cli",
                )  # fmt: skip
            except InvalidInput as error:
                raise _on_its_line(error, remittance, line_numbers) from None
    receipt = recorded.receipt
    assert isinstance(receipt, ReceiptView)
    if as_json:
        print_json({"created": recorded.created, **_receipt(receipt)})
        return
    verb = "Recorded" if recorded.created else "Already recorded"
    stdout.print(f"{verb}: {format_gbp(receipt.amount_pence)} from {receipt.funder_code} on {receipt.received_on}.", highlight=False)
    _print_shares(receipt.shares)


@payments_app.command("attribute")
def attribute(
    holder: Annotated[str, typer.Option("--holder", help="The holder's code")],
    budget: Annotated[str, typer.Option("--budget", help="The budget the money is for (its reference)")],
    on: OnOption,
    amount: AmountOption,
    reason: Annotated[str, typer.Option("--reason", help="How it was found to be this budget's")],
    funder: FunderOption = None,
    contribution: ContributionFlag = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move money from the holder's unallocated account to the budget it was found to be for."""
    with reporting_errors():
        day = _required_date(on, "--on")
        pence = _amount(amount, "--amount")
        database = open_database(db)
        with database.write() as session:
            holder_id = parties.holder_by_code(session, holder).id
            budget_id = budgets.budget_by_reference(session, budget).id
            funder_id = _payer(session, funder, contribution)
            recorded = attribute_unallocated(
                session, holder_id, budget_id=budget_id, funder_id=funder_id, amount_pence=pence, on=day, reason=reason, created_by="cli"
            )
    view = recorded.receipt
    assert isinstance(view, AttributionView)
    if as_json:
        print_json({"created": recorded.created, **_attribution(view)})
        return
    verb = "Attributed" if recorded.created else "Already attributed"
    stdout.print(f"{verb}: {format_gbp(view.amount_pence)} to {view.budget_reference}.", highlight=False)


@payments_app.command("contribution")
def contribution(
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    on: OnOption,
    amount: AmountOption,
    reference: Annotated[str, typer.Option("--reference", help="The bank line's reference")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a client contribution the person paid."""
    with reporting_errors():
        received_on = _required_date(on, "--on")
        pence = _amount(amount, "--amount")
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            recorded = record_contribution(session, budget_id, received_on=received_on, amount_pence=pence, reference=reference, created_by="cli")
    view = recorded.receipt
    assert isinstance(view, ContributionView)
    if as_json:
        print_json({"created": recorded.created, **_contribution(view)})
        return
    verb = "Recorded" if recorded.created else "Already recorded"
    stdout.print(f"{verb}: contribution of {format_gbp(view.amount_pence)} to {view.budget_reference}.", highlight=False)


# --- helpers ------------------------------------------------------------------------------


def _payer(session: Any, funder: str | None, contribution: bool) -> int | None:
    if contribution == (funder is not None):
        raise LedgerError("give either --funder CODE or --contribution")
    return None if contribution else parties.funder_by_code(session, funder).id  # type: ignore[arg-type]


def _required_date(text: str, option: str) -> date:
    day = parse_date(text, option)
    assert day is not None
    return day


def _amount(text: str, option: str) -> int:
    return to_pence(parse_amount(text, field=option))


def _read_remittance(path: Path) -> tuple[list[tuple[str, int]], list[int]]:
    """The file's lines as (budget reference, pence), and the file line each came from."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        columns = [(name or "").strip().lower() for name in reader.fieldnames or []]
        missing = [c for c in REMITTANCE_COLUMNS if c not in columns]
        if missing:
            raise LedgerError(f"{path} line 1: the header needs the columns budget,amount (missing {', '.join(missing)})")
        reader.fieldnames = columns
        lines: list[tuple[str, int]] = []
        numbers: list[int] = []
        for row in reader:
            number = reader.line_num
            budget = (row.get("budget") or "").strip()
            if not budget and not (row.get("amount") or "").strip():
                continue  # a blank line
            if not budget:
                raise LedgerError(f"{path} line {number}: budget is empty")
            try:
                pence = to_pence(parse_amount(row.get("amount") or "", field="amount"))
            except AmountError as error:
                raise LedgerError(f"{path} line {number}: {error.message}") from None
            lines.append((budget, pence))
            numbers.append(number)
    if not lines:
        raise LedgerError(f"{path} has no remittance lines")
    return lines, numbers


def _on_its_line(error: InvalidInput, path: Path | None, numbers: list[int]) -> LedgerError:
    found = _REMITTANCE_FIELD_RE.match(error.field or "")
    if path is None or found is None or int(found[1]) >= len(numbers):
        return error
    return LedgerError(f"{path} line {numbers[int(found[1])]}: {error.message}")


def _share(share: ShareView) -> dict[str, Any]:
    return {
        "budget": share.budget_reference,
        "expected_payment_id": share.expected_payment_id,
        "due_on": share.due_on.isoformat() if share.due_on else None,
        "amount": format_amount(share.amount_pence),
    }


def _instalment(view: ExpectedPaymentView) -> dict[str, Any]:
    data = asdict(view)
    for name in ("amount", "received", "outstanding"):
        data[name] = format_amount(data.pop(f"{name}_pence"))
    data["due_on"] = view.due_on.isoformat()
    return data


def _receipt(receipt: ReceiptView) -> dict[str, Any]:
    return {
        "id": receipt.id, "funder": receipt.funder_code, "received_on": receipt.received_on.isoformat(),
        "amount": format_amount(receipt.amount_pence), "reference": receipt.reference, "by_remittance": receipt.by_remittance,
        "entry_id": receipt.entry_id, "shares": [_share(s) for s in receipt.shares], "unallocated": format_amount(receipt.unallocated_pence),
    }  # fmt: skip


def _attribution(view: AttributionView) -> dict[str, Any]:
    return {
        "id": view.id, "budget": view.budget_reference, "funder_id": view.funder_id, "on": view.attributed_on.isoformat(),
        "amount": format_amount(view.amount_pence), "reason": view.reason, "entry_id": view.entry_id, "shares": [_share(s) for s in view.shares],
    }  # fmt: skip


def _contribution(view: ContributionView) -> dict[str, Any]:
    return {
        "id": view.id, "budget": view.budget_reference, "received_on": view.received_on.isoformat(), "amount": format_amount(view.amount_pence),
        "reference": view.reference, "entry_id": view.entry_id, "shares": [_share(s) for s in view.shares],
    }  # fmt: skip


def _print_shares(shares: list[ShareView]) -> None:
    table = Table("Budget", "Instalment due", "Amount")
    for share in shares:
        table.add_row(share.budget_reference or "unallocated", str(share.due_on or ""), format_gbp(share.amount_pence))
    stdout.print(table)

