"""Statements: the imports into the holder's accounts (newest first: the file, lines new and
already stored, whether the balances agree with the ledger), uploading a statement file into
one of its accounts, and an import's summary with a button to reconcile the account.

A file is stored through ``web.statement_import.import_statement``, the function the API and
the command line use, so a file gives the same result whichever way it arrives. A bad file
is refused whole and the form says why, naming the file, the line and the field.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importers import STATEMENT_BYTES_MAX
from importers.csv_layouts import shipped_layouts
from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, require_budget
from ledger.core.money import format_gbp
from ledger.errors import LedgerError, NotFound
from ledger.statements.layouts import layouts_of
from ledger.statements.storing import ledger_balance, lines_of_import, statement_import
from ledger.store.tables import Account
from ledger.store.tables.statements import StatementImport
from web.api.statements import UPLOAD_BYTES_MAX
from web.pages.access import HOLDER_PAGES
from web.pages.holder_accounts import account_states
from web.pages.holder_common import Errors, database, holder_of, statement_account_of, statement_accounts, whole_id
from web.pages.render import page
from web.statement_import import StatementRejected, import_statement

router = APIRouter(include_in_schema=False)
UPLOAD_PATH = r"^/holder/statements$"
UPLOAD_LIMITS = ((UPLOAD_PATH, UPLOAD_BYTES_MAX),)
"""The statement form takes files as large as the API does (a statement plus the form)."""
IMPORTS_PAGE = 25
LINES_SHOWN = 100
FORMATS = (
    ("auto", "Work it out from the file"), ("ofx", "OFX or QFX"), ("qif", "QIF"), ("csv", "CSV (a layout the service knows)"),
    ("camt053", "camt.053 (ISO 20022 XML)"), ("mt940", "MT940 (SWIFT)"),
)  # fmt: skip


def format_choices(session: Session, holder_id: int) -> list[tuple[str, str]]:
    """Every format a statement may be read as: the kinds, then each CSV layout by name."""
    own = [(f"csv:{row.name}", f"CSV: {row.name} (your own layout, version {row.version})") for row in layouts_of(session, holder_id)]
    shipped = [(f"csv:{layout.name}", f"CSV: {layout.name.replace('_', ' ').capitalize()}") for layout in shipped_layouts()]
    return [*FORMATS, *own, *shipped]


def _balance_check(session: Session, row: StatementImport, accounts: dict[int, Account]) -> tuple[str, str]:
    """Whether the file's closing balance agrees with the ledger's balance that day, now."""
    if row.closing_pence is None or row.closing_on is None:
        return "No closing balance", "grey"
    difference = row.closing_pence - ledger_balance(session, accounts[row.account_id], as_of=row.closing_on)
    if difference == 0:
        return "Agrees", "green"
    return f"Differs by {format_gbp(difference)}", "orange"


def _imports(session: Session, holder_id: int, account_ids: list[int] | None, page_number: int) -> tuple[list[dict], int]:
    query = select(StatementImport).where(StatementImport.holder_id == holder_id)
    counting = select(func.count()).select_from(StatementImport).where(StatementImport.holder_id == holder_id)
    if account_ids is not None:
        query = query.where(StatementImport.account_id.in_(account_ids))
        counting = counting.where(StatementImport.account_id.in_(account_ids))
    rows = list(session.scalars(query.order_by(StatementImport.id.desc()).offset((page_number - 1) * IMPORTS_PAGE).limit(IMPORTS_PAGE)))
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_({r.account_id for r in rows})))}
    return [{"row": row, "check": _balance_check(session, row, accounts)} for row in rows], session.scalar(counting) or 0


def _statements_page(
    request: Request, who: Principal, *, account: str | None = None, budget: str | None = None, page_number: int = 1,
    errors: Errors | None = None, chosen: dict[str, str] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    holder_id = holder_of(who)
    account_id, budget_id = whole_id(account), whole_id(budget)
    with database(request).read() as session:
        if budget_id is not None:
            require_budget(session, who, budget_id)
        if account_id is not None:
            statement_account_of(session, who, account_id)
        accounts = statement_accounts(session, holder_id)
        shown = [a.id for a in accounts if (budget_id is None or a.budget_id == budget_id) and (account_id is None or a.id == account_id)]
        imports, count = _imports(session, holder_id, shown if (budget_id or account_id) else None, page_number)
        labels = {a.id: a.label for a in accounts}
        formats = format_choices(session, holder_id)
    query = "".join(f"&{name}={value}" for name, value in (("account", account_id), ("budget", budget_id)) if value)
    previous = ("Newer imports", f"/holder/statements?page={page_number - 1}{query}") if page_number > 1 else None
    following = ("Older imports", f"/holder/statements?page={page_number + 1}{query}") if page_number * IMPORTS_PAGE < count else None
    return page(
        request, "holder/statements.html", title=("Error: " if errors else "") + "Statements", accounts=accounts, labels=labels, imports=imports, count=count,
        formats=formats, errors=errors or [], chosen=chosen or {"account": str(account_id or ""), "format": "auto"},
        filtered=bool(budget_id or account_id), previous=previous, following=following, status_code=status_code,
    )  # fmt: skip


@router.get("/holder/statements")
def statements_page(request: Request, account: str | None = None, budget: str | None = None, page_number: int = Query(default=1, alias="page"),
                    who: Principal = Depends(HOLDER_PAGES)) -> Response:  # fmt: skip
    return _statements_page(request, who, account=account, budget=budget, page_number=max(1, min(page_number, 100_000)))


@router.post("/holder/statements")
def upload_statement(
    request: Request,
    account: str = Form(default="", max_length=20),
    format: str = Form(default="auto", max_length=120),
    file: UploadFile | None = File(default=None),
    who: Principal = Depends(HOLDER_PAGES),
) -> Response:
    holder_id = holder_of(who)
    chosen = {"account": account, "format": format}
    errors: Errors = []
    account_id = whole_id(account)
    if account_id is None:
        errors.append(("account", "Choose the account the statement is for"))
    data = file.file.read(STATEMENT_BYTES_MAX + 1) if file is not None else b""
    if file is None or not file.filename or not data:
        errors.append(("file", "Choose a statement file" if file is None or not file.filename else f"The file {file.filename} is empty"))
    with database(request).read() as session:
        if account_id is not None:
            statement_account_of(session, who, account_id)
        if format not in {value for value, _ in format_choices(session, holder_id)}:
            errors.append(("format", "Choose the statement's format, or let the service work it out"))
    if errors:
        return _statements_page(request, who, errors=errors, chosen=chosen, status_code=422)
    assert file is not None and account_id is not None
    try:
        with database(request).write() as session:
            result = import_statement(
                session, account_id=account_id, data=data, file_name=(file.filename or "statement")[:500], format=format, imported_by=who.signature
            )
    except NotFound:
        raise
    except StatementRejected as refused:
        return _statements_page(request, who, errors=[("file", _one_line(refused.message))], chosen=chosen, status_code=422)
    except LedgerError as refused:
        return _statements_page(request, who, errors=[("file", _one_line(refused.message))], chosen=chosen, status_code=refused.status_code)
    return RedirectResponse(f"/holder/statements/{result.import_id}", status_code=303)


def _one_line(message: str) -> str:
    return " ".join(message.split())[:600]


@router.get("/holder/statements/{import_id}")
def import_summary(request: Request, import_id: int = Path(ge=1, le=2_147_483_647), who: Principal = Depends(HOLDER_PAGES)) -> Response:
    holder_id = holder_of(who)
    with database(request).read() as session:
        require_visible(session, who, "import_id", import_id)
        result = statement_import(session, import_id)
        account = statement_account_of(session, who, result.account_id)
        state = account_states(session, holder_id, [account])[account.id]
        row = session.get(StatementImport, import_id)
        ledger_now = None
        if result.closing_pence is not None and result.closing_on is not None:
            ledger_now = ledger_balance(session, session.get(Account, account.id), as_of=result.closing_on)  # type: ignore[arg-type]
        lines = lines_of_import(session, import_id, limit=LINES_SHOWN)
    return page(
        request, "holder/statement_import.html", title=f"Statement import {import_id}", result=result, row=row, account=account,
        state=state, ledger_now=ledger_now, lines=lines, lines_shown=LINES_SHOWN,
    )  # fmt: skip
