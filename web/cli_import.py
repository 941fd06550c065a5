"""``phb-ledger import`` (one statement file into one account) and ``phb-ledger statements``
(an account's imports, with the file each came from)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers import STATEMENT_BYTES_MAX
from ledger.core.money import format_gbp
from ledger.errors import LedgerError, NotFound
from ledger.statements.storing import ImportResult, imports_of
from ledger.store.tables import Account
from web.cli_common import DbOption, JsonOption, open_database, print_json, progress, reporting_errors, stdout
from web.statement_import import DryRunDone, expected_lines, import_as_json, import_statement

AccountOption = Annotated[
    str,
    typer.Option(
        "--account",
        help="The ledger account: its id, or its code (ISF-0001:card, ISF-0001:cash, holder:H:unallocated)",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
    app.command("statements")(list_statements)


def import_file(
    file: Annotated[Path, typer.Argument(help="The statement file", exists=True, dir_okay=False, readable=True)],
    account: AccountOption,
    format: Annotated[
        str, typer.Option("--format", help="auto (from the content), ofx, qif, csv, csv:LAYOUT, camt053 or mt940")
    ] = "auto",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be stored; store nothing")] = False,
    imported_by: Annotated[str, typer.Option("--by", help="Who imports it")] = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import one bank or card statement into one account: each real transaction once,
    all of the file or none of it."""
    with reporting_errors():
        size = file.stat().st_size
        if size > STATEMENT_BYTES_MAX:
            raise LedgerError(f"{file.name} is {size:,} bytes; statements larger than {STATEMENT_BYTES_MAX:,} bytes are not read")
        data = file.read_bytes()
        database = open_database(db)
        with progress(f"Importing {file.name}", enabled=not as_json) as advance:
            total = expected_lines(data)
            try:
                with database.write() as session:
                    result = import_statement(
                        session, account_id=account_id(session, account), data=data, file_name=file.name,
                        format=format, imported_by=imported_by, progress=lambda done: advance(done, max(total, done)),
                    )  # fmt: skip
                    if dry_run:
                        raise DryRunDone(result)
            except DryRunDone as done:
                result = done.result
    if as_json:
        print_json(import_as_json(result, dry_run=dry_run))
        return
    print_summary(result, dry_run=dry_run)


def print_summary(result: ImportResult, *, dry_run: bool) -> None:
    heading = "Dry run — nothing stored." if dry_run else f"Import {result.import_id} stored."
    stdout.print(f"{heading} {result.file_name} ({result.format}{', layout ' + result.layout if result.layout else ''}) into {result.account_code}.", highlight=False)
    table = Table(show_header=False, box=None)
    table.add_row("Account in the file", result.account_in_file)
    table.add_row("Period", f"{result.period_start or '?'} to {result.period_end or '?'}")
    table.add_row("Lines", f"{result.lines:,} ({format_gbp(result.lines_total_pence)})")
    table.add_row("New", f"{result.new:,} ({format_gbp(result.new_total_pence)})")
    table.add_row("Duplicates", f"{result.duplicates:,}")
    if result.opening_pence is not None:
        table.add_row("Opening balance", format_gbp(result.opening_pence))
    if result.closing_pence is not None:
        stated = "stated" if result.balances_stated else "from running balances"
        table.add_row("Closing balance", f"{format_gbp(result.closing_pence)} on {result.closing_on} ({stated})")
    if result.ledger_closing_pence is not None:
        table.add_row("Ledger that day", format_gbp(result.ledger_closing_pence))
    stdout.print(table)
    for warning in result.warnings:
        stdout.print(f"[yellow]warning:[/] {warning}", highlight=False)


def list_statements(account: AccountOption, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List an account's statement imports, newest first, with the file each came from."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            results = imports_of(session, account_id(session, account))
    if as_json:
        print_json([import_as_json(r) for r in results])
        return
    table = Table("Import", "File", "Format", "Period", "Lines", "New", "Dup.", title="Statement imports (--json for hashes and balances)")
    for r in results:
        table.add_row(
            str(r.import_id), r.file_name, r.layout or r.format, f"{r.period_start} – {r.period_end}",
            f"{r.lines:,}", f"{r.new:,}", f"{r.duplicates:,}",
        )  # fmt: skip
    stdout.print(table)


def account_id(session: Session, text: str) -> int:
    """An account given as its id or its code."""
    cleaned = text.strip()
    if cleaned.isdigit():
        return int(cleaned)
    found = session.scalar(select(Account.id).where(Account.code == cleaned))
    if found is None:
        raise NotFound(f"no account with the code {cleaned!r}", code="account_not_found", field="account")
    return found
