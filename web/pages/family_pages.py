"""The family's pages: the balance page (one plain page, large numbers, pictures), asking
for a change or a review, and — for a direct payment — uploading statements and receipts and
explaining flags. A family member reaches only the budgets linked to them; every view of a
balance page is recorded (who, when, which budget, why)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ledger.access.log import FAMILY_BALANCE_PAGE, record_access
from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, require_budget
from ledger.core.vocabulary import AccountKind
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.flags import views, workflow
from ledger.flags.evidence import EVIDENCE_BYTES_MAX, attach_evidence
from ledger.reviews.plan_reviews import request_review
from ledger.store.tables import Account
from ledger.store.tables.access import FamilyLink
from ledger.store.tables.flags import Flag
from reports.balance_page import balance_page
from web.clock import ENGLAND, today_in_england
from web.pages.access import FAMILY_PAGES
from web.pages.render import page
from web.statement_import import import_statement

router = APIRouter(include_in_schema=False)
REQUEST_LENGTH_MAX = 1000
STATEMENT_BYTES_MAX = 16 * 1024 * 1024
OPEN_FOR_FAMILY = ("open", "challenged", "recovery_requested")


def _database(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.database


@router.get("/family")
def family_home(request: Request, who: Principal = Depends(FAMILY_PAGES)) -> Response:
    with _database(request).read() as session:
        budget_ids = list(session.scalars(select(FamilyLink.budget_id).where(FamilyLink.user_id == who.user_id).order_by(FamilyLink.budget_id)))
        if len(budget_ids) == 1:
            return RedirectResponse(f"/family/budgets/{budget_ids[0]}", status_code=303)
        pages = [balance_page(session, budget_id, today=today_in_england(), now=datetime.now(ENGLAND)) for budget_id in budget_ids]
    return page(request, "family/budgets.html", title="Your budgets", pages=pages)


@router.get("/family/budgets/{budget_id}")
def balance(request: Request, budget_id: int, who: Principal = Depends(FAMILY_PAGES)) -> Response:
    with _database(request).read() as session:  # built without holding the write lock
        require_budget(session, who, budget_id)
        view = balance_page(session, budget_id, today=today_in_england(), now=datetime.now(ENGLAND))
        flags = _open_flags(session, budget_id) if view.is_direct_payment else []
    with _database(request).write() as session:
        record_access(session, who, action=FAMILY_BALANCE_PAGE, reason="opened the balance page", budget_ids=[budget_id])
    return page(request, "family/balance.html", title=f"{view.first_name}'s money", view=view, open_flags=len(flags), body_class="app-family")


@router.get("/family/budgets/{budget_id}/ask")
def ask_form(request: Request, budget_id: int, who: Principal = Depends(FAMILY_PAGES)) -> Response:
    with _database(request).read() as session:
        require_budget(session, who, budget_id)
    return page(request, "family/ask.html", title="Ask for a change or a review", budget_id=budget_id, reason="", errors=[])


@router.post("/family/budgets/{budget_id}/ask")
def ask(request: Request, budget_id: int, reason: str = Form(default="", max_length=4000), who: Principal = Depends(FAMILY_PAGES)) -> Response:
    text = reason.strip()
    if not text or len(text) > REQUEST_LENGTH_MAX:
        message = "Say what you would like to change or talk about" if not text else f"Write {REQUEST_LENGTH_MAX} characters or fewer"
        return page(request, "family/ask.html", title="Ask for a change or a review", budget_id=budget_id, reason=reason,
                    errors=[("reason", message)], status_code=422)  # fmt: skip
    today = today_in_england()
    with _database(request).write() as session:
        require_budget(session, who, budget_id)
        request_review(session, budget_id, asked_by=who.display_name, reason=text, asked_on=today, today=today, recorded_by=who.signature)
    return RedirectResponse(f"/family/budgets/{budget_id}/asked", status_code=303)


@router.get("/family/budgets/{budget_id}/asked")
def asked(request: Request, budget_id: int, who: Principal = Depends(FAMILY_PAGES)) -> Response:
    with _database(request).read() as session:
        require_budget(session, who, budget_id)
    return page(request, "family/asked.html", title="We have your request", budget_id=budget_id)


# --- a direct payment: statements, receipts and flags ---------------------------------------


def _direct_payment(session, who: Principal, budget_id: int) -> list[Account]:  # type: ignore[no-untyped-def]
    """The budget's own statement accounts (its bank account, its card), if it is a direct payment."""
    require_budget(session, who, budget_id)
    view_parts = session.execute(
        select(Account).where(Account.budget_id == budget_id, Account.kind.in_([AccountKind.CASH, AccountKind.CARD])).order_by(Account.kind)
    ).scalars().all()  # fmt: skip
    from ledger.budgets.budget import parts_of

    if not any(part.management_option == "direct_payment" for part in parts_of(session, budget_id)):
        raise NotFound("there is no such page", code="not_found")
    return list(view_parts)


def _open_flags(session, budget_id: int) -> list[Flag]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Flag).where(Flag.budget_id == budget_id, Flag.state.in_(OPEN_FOR_FAMILY)).order_by(Flag.occurred_on)))


@router.get("/family/budgets/{budget_id}/statements")
def statements_form(request: Request, budget_id: int, who: Principal = Depends(FAMILY_PAGES)) -> Response:
    with _database(request).read() as session:
        accounts = _direct_payment(session, who, budget_id)
    return page(request, "family/statements.html", title="Send a statement", budget_id=budget_id, accounts=accounts, errors=[], result=None)


@router.post("/family/budgets/{budget_id}/statements")
async def upload_statement(
    request: Request, budget_id: int, account_id: int = Form(...), file: UploadFile = File(...), who: Principal = Depends(FAMILY_PAGES)
) -> Response:
    data = await file.read(STATEMENT_BYTES_MAX + 1)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_store_statement, request, who, budget_id, account_id, file.filename or "statement", data)


def _store_statement(request: Request, who: Principal, budget_id: int, account_id: int, file_name: str, data: bytes) -> Response:
    with _database(request).read() as session:
        accounts = _direct_payment(session, who, budget_id)
    if account_id not in {a.id for a in accounts}:
        raise NotFound(f"there is no account {account_id}", code="account_not_found")
    try:
        if len(data) > STATEMENT_BYTES_MAX:
            raise InvalidInput(f"{file_name} is larger than {STATEMENT_BYTES_MAX // (1024 * 1024)} MB: send it to your support organisation", code="file_too_large", field="file")
        with _database(request).write() as session:
            result = import_statement(session, account_id=account_id, data=data, file_name=file_name, imported_by=who.signature)
    except LedgerError as refused:
        return page(request, "family/statements.html", title="Send a statement", budget_id=budget_id, accounts=accounts,
                    errors=[("file", refused.message)], result=None, status_code=422)  # fmt: skip
    return page(request, "family/statements.html", title="Statement received", budget_id=budget_id, accounts=accounts, errors=[], result=result)


@router.get("/family/budgets/{budget_id}/flags")
def flags(request: Request, budget_id: int, who: Principal = Depends(FAMILY_PAGES)) -> Response:
    with _database(request).read() as session:
        _direct_payment(session, who, budget_id)
        found = _open_flags(session, budget_id)
    return page(request, "family/flags.html", title="Things to explain", budget_id=budget_id, flags=found)


@router.get("/family/budgets/{budget_id}/flags/{flag_id}")
def flag(request: Request, budget_id: int, flag_id: int, who: Principal = Depends(FAMILY_PAGES)) -> Response:
    with _database(request).read() as session:
        _direct_payment(session, who, budget_id)
        view = _flag_of_budget(session, who, budget_id, flag_id)
    return page(request, "family/flag.html", title="Explain this", budget_id=budget_id, view=view, note="", errors=[])


def _flag_of_budget(session, who: Principal, budget_id: int, flag_id: int):  # type: ignore[no-untyped-def]
    owner = require_visible(session, who, "flag_id", flag_id)
    if budget_id not in owner.budget_ids:
        raise NotFound(f"there is no flag {flag_id}", code="flag_not_found")
    return views.flag_view(session, flag_id)


@router.post("/family/budgets/{budget_id}/flags/{flag_id}")
async def explain(
    request: Request, budget_id: int, flag_id: int, note: str = Form(default="", max_length=4000), kind: str = Form(default="receipt"),
    evidence: UploadFile | None = File(default=None), who: Principal = Depends(FAMILY_PAGES),
) -> Response:  # fmt: skip
    content = await evidence.read(EVIDENCE_BYTES_MAX + 1) if evidence is not None and evidence.filename else None
    from starlette.concurrency import run_in_threadpool

    upload = (evidence.filename or "", evidence.content_type or "", content) if content is not None and evidence is not None else None
    return await run_in_threadpool(_explain, request, who, budget_id, flag_id, note, kind, upload)


def _explain(request: Request, who: Principal, budget_id: int, flag_id: int, note: str, kind: str, upload) -> Response:  # type: ignore[no-untyped-def]
    try:
        if not note.strip():
            raise InvalidInput("Say what the money was for", code="note_missing", field="note")
        with _database(request).write() as session:
            _direct_payment(session, who, budget_id)
            view = _flag_of_budget(session, who, budget_id, flag_id)
            evidence_ids = []
            if upload is not None:
                file_name, content_type, content = upload
                if len(content) > EVIDENCE_BYTES_MAX:
                    raise InvalidInput("The receipt is larger than 10 MB: take a smaller photo", code="file_too_large", field="evidence")
                stored = attach_evidence(session, view.holder_id, kind=kind, file_name=file_name, content_type=content_type,
                                         content=content, uploaded_by=who.signature, flag_id=flag_id)  # fmt: skip
                evidence_ids.append(stored.id)
            workflow.explain(session, flag_id, note=note.strip(), evidence_ids=evidence_ids, actor=who.signature, actor_role="family")
    except LedgerError as refused:
        with _database(request).read() as session:
            view = _flag_of_budget(session, who, budget_id, flag_id)
        field = refused.field if refused.field in ("note", "evidence") else "note"
        return page(request, "family/flag.html", title="Explain this", budget_id=budget_id, view=view, note=note,
                    errors=[(field, refused.message)], status_code=422)  # fmt: skip
    return RedirectResponse(f"/family/budgets/{budget_id}/flags?explained={flag_id}", status_code=303)
