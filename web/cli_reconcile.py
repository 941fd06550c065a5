"""``phb-ledger reconcile`` (match an account's statement lines, post what they show, raise
the flags), ``phb-ledger unmatched`` (the queue with suggestions) and ``phb-ledger flags``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from ledger.core.money import format_amount, format_gbp
from ledger.flags.queries import FlagFilter, find_flags
from ledger.flags.raising import raise_flags
from ledger.reconcile.automatic import ReconcileOptions, reconcile_accounts
from ledger.reconcile.status import account_status, unmatched_queue
from ledger.store.tables import Account
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, progress, reporting_errors, stdout
from web.cli_import import AccountOption, account_id

AccountsOption = Annotated[
    list[str] | None,
    typer.Option("--account", help="An account to reconcile: its id or code (repeat for several)"),
]


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)
    app.command("unmatched")(unmatched)
    app.command("flags")(flags)


def reconcile(
    account: AccountsOption = None,
    holder: Annotated[int | None, typer.Option("--holder", help="Every statement account of this holder")] = None,
    load_window_days: Annotated[int, typer.Option(help="How far a card load's date may be from its drawdown's")] = 3,
    match_window_days: Annotated[int, typer.Option(help="How far any other line's date may be from its entry's")] = 5,
    actor: Annotated[str, typer.Option("--by", help="Who runs it")] = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Match every unmatched statement line of the accounts to the ledger, post the
    purchases, refunds and fees they show, and raise flags. Running it again changes nothing."""
    with reporting_errors():
        database = open_database(db)
        with progress("Reconciling", enabled=not as_json) as advance:
            with database.write() as session:
                ids = [account_id(session, text) for text in account or []]
                if holder is not None:
                    ids += list(
                        session.scalars(
                            select(Account.id).where(Account.holder_id == holder, Account.kind.in_(["card", "cash", "unallocated"]))
                        )
                    )
                result = reconcile_accounts(session, ids, actor=actor, options=ReconcileOptions(load_window_days, match_window_days))
                advance(1, 1)
                statuses = [account_status(session, a) for a in result.account_ids]
    summary = result.as_dict()
    if as_json:
        print_json(
            {
                **summary,
                "status": [
                    {
                        "account": s.account_code, "statement_balance": _amount(s.statement_balance_pence),
                        "ledger_balance": _amount(s.ledger_balance_pence), "difference": _amount(s.difference_pence),
                        "unmatched_lines": s.unmatched_line_count, "unmatched_entries": s.unmatched_entry_count,
                        "reconciled_through": s.reconciled_through.isoformat() if s.reconciled_through else None,
                    }  # fmt: skip
                    for s in statuses
                ],
            }
        )
        return
    table = Table(show_header=False, box=None)
    for label, key in (
        ("Lines looked at", "lines_seen"), ("Matched to entries already there", "matched_existing"),
        ("One transfer for a day's loads", "bulk_loads"), ("Funder payments recorded", "funder_receipts"),
        ("Payments of payables", "payments"), ("Purchases posted", "posted_spend"), ("Refunds posted", "posted_refunds"),
        ("Fees posted", "posted_fees"), ("…of them uncategorised", "uncategorised"), ("Left unmatched", "unmatched"),
        ("…more than one combination fits", "ambiguous"), ("In a locked period", "locked"), ("In a closed quarter", "in_closed_quarter"),
        ("Flags raised", "flags_raised"),
    ):  # fmt: skip
        table.add_row(label, f"{summary[key]:,}")
    stdout.print(table)
    for s in statuses:
        difference = "" if s.difference_pence in (None, 0) else f", [red]differs by {format_gbp(s.difference_pence)}[/]"
        balances = "no statement balance" if s.statement_balance_pence is None else (
            f"statement {format_gbp(s.statement_balance_pence)} on {s.statement_balance_on}, ledger {format_gbp(s.ledger_balance_pence or 0)}"
        )  # fmt: skip
        stdout.print(
            f"{s.account_code}: {balances}{difference}; reconciled through {s.reconciled_through or '—'};"
            f" {s.unmatched_line_count} lines and {s.unmatched_entry_count} entries unmatched",
            highlight=False,
        )


def _amount(pence: int | None) -> str | None:
    return None if pence is None else format_amount(pence)


def unmatched(account: AccountOption, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The account's statement lines nothing stands for yet, with suggestions."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            items = unmatched_queue(session, account_id=account_id(session, account), limit=500)
    if as_json:
        print_json([{**asdict(i), "posted_on": i.posted_on.isoformat(), "amount": format_amount(i.amount_pence)} for i in items])
        return
    table = Table("Line", "Date", "Amount", "Description", "Suggestions", title="Unmatched statement lines")
    for i in items:
        table.add_row(str(i.line_id), str(i.posted_on), format_gbp(i.amount_pence), (i.payee or i.description)[:40], "; ".join(s.words for s in i.suggestions) or "—")
    stdout.print(table)


def flags(
    budget: Annotated[int | None, typer.Option("--budget", help="One budget's flags")] = None,
    holder: Annotated[int | None, typer.Option("--holder", help="One holder's flags")] = None,
    funder: Annotated[int | None, typer.Option("--funder", help="Flags of the budgets a funder funds")] = None,
    code: Annotated[str | None, typer.Option("--code", help="e.g. EXCLUDED_MCC, CHECK_VENUE, SURPLUS_HELD")] = None,
    state: Annotated[str | None, typer.Option("--state", help="open, explained, challenged, accepted, … closed")] = None,
    quarter: Annotated[str | None, typer.Option("--quarter", help="e.g. 2026Q1 (UK financial year: Q1 is April–June)")] = None,
    run: Annotated[bool, typer.Option("--run", help="Run the rules first (needs --holder)")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="With --run: the day surplus and reviews are judged on")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List flags (newest first), filtered by budget, holder, funder, code, state, quarter."""
    with reporting_errors():
        database = open_database(db)
        if run:
            if holder is None:
                from ledger.errors import InvalidInput

                raise InvalidInput("--run needs --holder", code="holder_required", field="holder")
            with database.write() as session:
                raise_flags(session, holder, as_of=parse_date(as_of, "--as-of"), actor="cli")
        with database.read() as session:
            found = find_flags(session, FlagFilter(budget, holder, funder, code, state, quarter, limit=1000))
    if as_json:
        print_json(
            [
                {
                    "id": f.id, "code": f.code, "severity": f.severity, "state": f.state, "budget_id": f.budget_id, "holder_id": f.holder_id,
                    "occurred_on": f.occurred_on.isoformat(), "amount": _amount(f.amount_pence), "reason": f.reason,
                    "rule_id": f.rule_id, "rule_version": f.rule_version, "statement_line_id": f.statement_line_id, "entry_id": f.entry_id,
                }  # fmt: skip
                for f in found
            ]
        )
        return
    table = Table("Flag", "Date", "Code", "Severity", "State", "Amount", "Reason", title=f"Flags ({len(found)})")
    for f in found:
        table.add_row(str(f.id), str(f.occurred_on), f.code, f.severity, f.state, format_gbp(f.amount_pence) if f.amount_pence is not None else "", f.reason)
    stdout.print(table)
