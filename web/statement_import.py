"""Importing one statement file: parse it (``importers``) and store it (``ledger.statements.storing``).

The CLI and the API both come through here, so a file gives the same result whichever way
it arrives. The caller owns the transaction: it commits, or rolls back for a dry run or on
any error (a CSV file is parsed as it is stored, so an error on its last line still leaves
nothing behind).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from importers import ImportRejected, read_statement
from importers.csv_layouts import CsvLayout, layout_from_dict
from ledger.core.money import format_amount
from ledger.errors import InvalidInput
from ledger.statements.layouts import layouts_of
from ledger.statements.line_checks import checked_file_name
from ledger.statements.storing import ImportResult, SourceFile, statement_account, store_statement
from ledger.store.tables.statements import CsvLayoutDefinition


class StatementRejected(InvalidInput):
    """An ``ImportRejected`` from the importers, as a ledger error the web layer renders."""

    def __init__(self, error: ImportRejected) -> None:
        details = {k: v for k, v in (("file", error.file_name), ("line", error.line)) if v is not None}
        super().__init__(error.message, code=error.code, field=error.field, details=details)


class DryRunDone(Exception):
    """Raised inside the write transaction after a dry run has counted everything, so that
    the transaction rolls back; carries the result."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result


def expected_lines(data: bytes) -> int:
    """About how many lines a file holds, for a progress bar: its transactions where the
    format marks them, else its text lines."""
    for marker in (b"<STMTTRN>", b"<stmttrn>", b"<Ntry>", b":61:"):
        found = data.count(marker)
        if found:
            return found
    return max(data.count(b"\n"), 1)


def import_statement(
    session: Session,
    *,
    account_id: int,
    data: bytes,
    file_name: str,
    format: str = "auto",
    imported_by: str,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    account = statement_account(session, account_id)
    file_name = checked_file_name(file_name)  # before the importers' errors quote it
    layouts = holder_layouts(session, account.holder_id)
    try:
        parsed = read_statement(data, file_name, format=_versioned(format, layouts), layouts=layouts)
        source = SourceFile(name=file_name, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
        return store_statement(
            session, account_id=account_id, statement=parsed, source=source, imported_by=imported_by, progress=progress
        )
    except ImportRejected as error:
        raise StatementRejected(error.in_file(file_name)) from None


def holder_layouts(session: Session, holder_id: int) -> list[CsvLayout]:
    return [stored_layout(row) for row in layouts_of(session, holder_id)]


def stored_layout(row: CsvLayoutDefinition) -> CsvLayout:
    """The layout, named with its version (``name@version``) so that imports record which."""
    layout = layout_from_dict(json.loads(row.definition), source=f"the holder's layout {row.name} version {row.version}")
    return replace(layout, name=f"{row.name}@{row.version}")


def _versioned(format: str, layouts: list[CsvLayout]) -> str:
    """``csv:acme`` names the holder's latest ``acme``, whatever its version."""
    kind, _, name = format.partition(":")
    for layout in layouts:
        if name and layout.name.partition("@")[0] == name:
            return f"{kind}:{layout.name}"
    return format


def import_as_json(result: ImportResult, *, dry_run: bool = False) -> dict[str, Any]:
    """The summary both the API and ``phb-ledger import --json`` print."""

    def optional(pence: int | None) -> str | None:
        return None if pence is None else format_amount(pence)

    return {
        "import_id": None if dry_run else result.import_id,
        "dry_run": dry_run,
        "account_id": result.account_id,
        "account": result.account_code,
        "file_name": result.file_name,
        "file_sha256": result.file_sha256,
        "format": result.format,
        "layout": result.layout,
        "account_in_file": result.account_in_file,
        "lines": result.lines,
        "new": result.new,
        "duplicates": result.duplicates,
        "lines_total": format_amount(result.lines_total_pence),
        "new_total": format_amount(result.new_total_pence),
        "period_start": result.period_start,
        "period_end": result.period_end,
        "opening_balance": optional(result.opening_pence),
        "closing_balance": optional(result.closing_pence),
        "closing_on": result.closing_on,
        "balances_stated": result.balances_stated,
        "ledger_balance_at_close": optional(result.ledger_closing_pence),
        "warnings": list(result.warnings),
        "imported_by": result.imported_by,
    }
