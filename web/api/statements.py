"""Statements: upload a statement file into an account (multipart), list an account's
imports with their provenance, read an import's stored lines, and a holder's own CSV
layouts."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from importers import STATEMENT_BYTES_MAX, ImportRejected
from importers.csv_layouts import layout_as_dict, layout_from_dict, shipped_layouts
from ledger.budgets import parties
from ledger.errors import InvalidInput
from ledger.statements.layouts import define_layout, layouts_of
from ledger.statements.storing import ImportResult, imports_of, lines_of_import, statement_account, statement_import
from ledger.store.tables.statements import CsvLayoutDefinition, StatementLineRecord
from web.api.common import ERROR_RESPONSES, RecordId, UtcTimestamp, amount_text, database, signed_in
from web.statement_import import DryRunDone, StatementRejected, import_as_json, import_statement

router = APIRouter(tags=["statements"], responses=ERROR_RESPONSES)

STATEMENT_UPLOAD_PATH = r"^/api/v1/accounts/[0-9]+/statements$"
"""Uploads here may be as large as a statement file may be (the body limit of every other
path is far smaller)."""
UPLOAD_BYTES_MAX = STATEMENT_BYTES_MAX + 1024 * 1024
"""A statement file plus the multipart envelope around it."""


class ImportOut(BaseModel):
    import_id: int | None = Field(description="Null for a dry run: nothing was stored")
    dry_run: bool
    account_id: int
    account: str = Field(description="The ledger account's code")
    file_name: str
    file_sha256: str
    format: str = Field(description="ofx, qif, csv, camt053 or mt940")
    layout: str | None = Field(description="For CSV: the layout that read it (a holder's own: name@version)")
    account_in_file: str = Field(description="How the file names the account")
    lines: int = Field(description="Lines in the file (a card fee in its own column counts as a line)")
    new: int = Field(description="Lines stored by this import")
    duplicates: int = Field(description="Lines already stored from an earlier file (or earlier in this one)")
    lines_total: str = Field(description="The sum of every line in the file")
    new_total: str = Field(description="The sum of the lines stored")
    period_start: date | None
    period_end: date | None
    opening_balance: str | None
    closing_balance: str | None
    closing_on: date | None
    balances_stated: bool = Field(description="True where the file states its balances, false where they come from running balances")
    ledger_balance_at_close: str | None = Field(description="The ledger's balance of the account on closing_on")
    warnings: list[str]
    imported_by: str

    @classmethod
    def of(cls, result: ImportResult, *, dry_run: bool = False) -> ImportOut:
        return cls(**import_as_json(result, dry_run=dry_run))


class ImportListedOut(ImportOut):
    imported_at: UtcTimestamp | None = None


class StatementLineOut(BaseModel):
    id: int
    import_id: int
    line_no: int = Field(description="The line of the file where the transaction starts")
    part: int = Field(description="0 for the line itself; 1 for a fee the same row carries in its own column")
    posted_on: date
    amount: str = Field(description="Money in positive, money out negative")
    description: str
    payee: str | None
    mcc: str | None = Field(description="Merchant category code, where the card provider gives one")
    bank_id: str | None = Field(description="The bank's own id for the transaction")
    balance: str | None = Field(description="The running balance the file gives after this line")
    kind: str | None = Field(description="The bank's own type code, as written")
    is_fee: bool
    raw: str = Field(description="The line's text as it is in the file")

    @classmethod
    def of(cls, row: StatementLineRecord) -> StatementLineOut:
        assert row.id is not None
        return cls(
            id=row.id, import_id=row.import_id, line_no=row.line_no, part=row.part, posted_on=row.posted_on,
            amount=amount_text(row.amount_pence), description=row.description, payee=row.payee, mcc=row.mcc,
            bank_id=row.bank_id, balance=None if row.balance_pence is None else amount_text(row.balance_pence),
            kind=row.kind, is_fee=row.is_fee, raw=row.raw,
        )  # fmt: skip


@router.post(
    "/accounts/{account_id}/statements",
    status_code=201,
    response_model=ImportOut,
    responses={200: {"description": "A dry run: what the import would do; nothing stored"}},
)
def upload_statement(
    account_id: RecordId,
    request: Request,
    file: Annotated[UploadFile, File(description=f"The statement file, at most {STATEMENT_BYTES_MAX // (1024 * 1024)} MiB")],
    format: Annotated[
        str, Form(max_length=100, description="auto (from the content), ofx, qif, csv, csv:LAYOUT, camt053 or mt940")
    ] = "auto",
    dry_run: Annotated[bool, Form(description="Count what would be stored, store nothing")] = False,
) -> Any:
    file_name = (file.filename or "upload")[:500]
    data = file.file.read(STATEMENT_BYTES_MAX + 1)
    try:
        with database(request).write() as session:
            result = import_statement(
                session, account_id=account_id, data=data, file_name=file_name, format=format, imported_by=signed_in(request)
            )
            if dry_run:
                raise DryRunDone(result)
    except DryRunDone as done:
        return JSONResponse(ImportOut.of(done.result, dry_run=True).model_dump(mode="json"), status_code=200)
    return ImportOut.of(result)


@router.get("/accounts/{account_id}/statements", response_model=list[ImportListedOut])
def list_imports(account_id: RecordId, request: Request) -> list[ImportListedOut]:
    """Every import into the account, newest first, with the file each came from."""
    with database(request).read() as session:
        statement_account(session, account_id)
        return [ImportListedOut(**import_as_json(r)) for r in imports_of(session, account_id)]


@router.get("/statements/{import_id}", response_model=ImportOut)
def get_import(import_id: RecordId, request: Request) -> ImportOut:
    with database(request).read() as session:
        return ImportOut.of(statement_import(session, import_id))


@router.get("/statements/{import_id}/lines", response_model=list[StatementLineOut])
def list_import_lines(
    import_id: RecordId,
    request: Request,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[StatementLineOut]:
    """The lines this import stored, in file order (duplicates are the earlier import's)."""
    with database(request).read() as session:
        return [StatementLineOut.of(r) for r in lines_of_import(session, import_id, offset=offset, limit=limit)]


class CsvLayoutOut(BaseModel):
    name: str = Field(description="The layout's name (a holder's own: name@version, as imports record it)")
    shipped: bool = Field(description="True for the layouts that come with the service")
    version: int | None
    created_by: str | None
    created_at: UtcTimestamp | None
    definition: dict[str, Any]

    @classmethod
    def of(cls, row: CsvLayoutDefinition) -> CsvLayoutOut:
        return cls(
            name=f"{row.name}@{row.version}", shipped=False, version=row.version, created_by=row.created_by,
            created_at=row.created_at, definition=json.loads(row.definition),
        )  # fmt: skip


@router.post("/holders/{holder_id}/csv-layouts", status_code=201, response_model=CsvLayoutOut)
def define_csv_layout(
    holder_id: RecordId,
    request: Request,
    definition: dict[str, Any],
) -> CsvLayoutOut:
    """Define (or redefine: the next version) a CSV layout for the holder's own bank or card
    provider. The definition has the same keys as the shipped layouts (see the list)."""
    try:
        created_by = signed_in(request)
        layout = layout_from_dict(definition, source=f"defined by {created_by} through the API")
    except ImportRejected as error:
        raise StatementRejected(error) from None
    if any(layout.name == shipped.name for shipped in shipped_layouts()):
        raise InvalidInput(
            f"{layout.name!r} is the name of a shipped layout; give the holder's own layout another name",
            code="layout_name_taken",
            field="name",
        )
    with database(request).write() as session:
        row = define_layout(
            session, holder_id=holder_id, name=layout.name, definition=layout_as_dict(layout), created_by=created_by
        )
    return CsvLayoutOut.of(row)


@router.get("/holders/{holder_id}/csv-layouts", response_model=list[CsvLayoutOut])
def list_csv_layouts(holder_id: RecordId, request: Request) -> list[CsvLayoutOut]:
    """The holder's own layouts (latest version of each; tried first) and the shipped ones."""
    with database(request).read() as session:
        parties.get_holder(session, holder_id)
        own = [CsvLayoutOut.of(row) for row in layouts_of(session, holder_id)]
    shipped = [
        CsvLayoutOut(name=layout.name, shipped=True, version=None, created_by=None, created_at=None, definition=layout_as_dict(layout))
        for layout in shipped_layouts()
    ]
    return own + shipped
