"""The funder's flags: the list (explained ones, waiting for its decision, first; then open
and challenged), one flag with its history, evidence and notices, and the auditor's
decisions — accept or challenge an explanation, require repayment (which writes the
regulation 15 notice), record the money recovered. Each decision is ``ledger.flags.workflow``'s
step, taken as the signed-in auditor in the funder's part; a form filled in wrongly, or a
step the flag's state no longer allows, shows the page again with an error summary."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, funded_budget_ids
from ledger.core.money import format_amount
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.flags import recovery, steps, views, workflow
from ledger.flags.evidence import evidence_content
from ledger.flags.states import ActorRole
from ledger.flags.views import FlagView
from ledger.store.tables import Account, Budget, Funder, Holder
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from reports.audit_reads import london
from reports.formatting import day_text, moment_text
from web.clock import today_in_england
from web.pages.access import FUNDER_PAGES
from web.pages.funder_common import (
    BIG_ID_MAX,
    CODE_WORDS,
    ID_MAX,
    PAGE_SIZE,
    STATE_ORDER,
    FormChecks,
    FormProblem,
    database,
    date_from_form,
    funded_ids,
    pence_from_form,
    text_from_form,
    words,
)  # fmt: skip
from web.pages.funder_reads import count_of, flag_query, flag_rows
from web.pages.render import page

router = APIRouter(include_in_schema=False)
NOTE_MAX = steps.NOTE_LENGTH_MAX
FUNDER_STEPS = ("accept", "challenge", "request_recovery", "record_recovery")
FIELD_OF = {"amount": "amount", "reasons": "reasons", "repay_by": "repay-by-day", "repayer": "repayer", "note": "note", "method": "method",
            "on": "recovered-on-day", "into": "into"}  # fmt: skip
"""A workflow error's field → the form field's id on the page."""
DONE_WORDS = {"accepted": "You accepted the explanation", "challenged": "You challenged the explanation: the holder is asked to explain again",
              "recovered": "You recorded that the money came back"}  # fmt: skip


@router.get("/funder/flags")
def flags_list(
    request: Request,
    state: str | None = Query(default=None, max_length=30),
    code: str | None = Query(default=None, max_length=40),
    holder: int | None = Query(default=None, ge=1, le=ID_MAX),
    page_number: int = Query(default=1, ge=1, le=1_000_000, alias="page"),
    who: Principal = Depends(FUNDER_PAGES),
) -> Response:
    state = state if state in STATE_ORDER else None
    code = code if code in CODE_WORDS else None
    scope = funded_budget_ids(who.funder_id)  # type: ignore[arg-type]
    states = (state,) if state else ()
    with database(request).read() as session:
        wanted = flag_query(scope, states=states, code=code, holder_id=holder)
        total = count_of(session, wanted)
        rows = flag_rows(session, wanted, offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        holders = session.execute(
            select(Holder.id, Holder.name).where(Holder.id.in_(select(Budget.holder_id).where(Budget.id.in_(scope)))).order_by(Holder.name)
        ).all()
    query = {key: value for key, value in (("state", state), ("code", code), ("holder", holder)) if value}
    pages = max(1, -(-total // PAGE_SIZE))
    link = lambda n: "/funder/flags?" + urlencode({**query, "page": n})  # noqa: E731
    return page(
        request, "funder/flags.html", title="Flags", rows=rows, total=total, state=state, code=code, holder=holder, holders=holders,
        states=STATE_ORDER, number=page_number, pages=pages, previous_href=link(page_number - 1) if page_number > 1 else None,
        next_href=link(page_number + 1) if page_number < pages else None, **words(),
    )  # fmt: skip


# --- one flag -------------------------------------------------------------------------------------


def _statement_line(session: Session, line_id: int | None, funded: set[int]) -> dict[str, Any] | None:
    """Where the flagged line is: its file and number always; its words on a funded budget's
    own statement only (a client bank account's line is about many people)."""
    if line_id is None:
        return None
    row = session.execute(
        select(StatementImport.file_name, StatementLineRecord.line_no, StatementLineRecord.posted_on, StatementLineRecord.description,
               StatementLineRecord.amount_pence, StatementLineRecord.mcc, Account.budget_id)
        .join(StatementImport, StatementImport.id == StatementLineRecord.import_id).join(Account, Account.id == StatementLineRecord.account_id)
        .where(StatementLineRecord.id == line_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    own = row.budget_id is not None and row.budget_id in funded
    return {"file_name": row.file_name, "line_no": row.line_no, "posted_on": row.posted_on, "description": row.description if own else None,
            "amount_pence": row.amount_pence if own else None, "mcc": row.mcc if own else None}  # fmt: skip


def _flag_context(session: Session, who: Principal, flag_id: int) -> dict[str, Any]:
    view = views.flag_view(session, flag_id)
    funded = funded_ids(session, who)
    budget = session.get(Budget, view.budget_id) if view.budget_id is not None else None
    return {
        "flag": view,
        "budget": budget,
        "holder": session.get(Holder, view.holder_id),
        "line": _statement_line(session, view.statement_line_id, funded),
        "entry_shown": view.entry_id is not None and _entry_shown(session, who, view.entry_id),
        "evidence": [e for e in view.evidence if _evidence_shown(session, who, e.id)],
        "steps": [step for step in view.allowed_actions if step in FUNDER_STEPS],
        "today": today_in_england(),
        "times": {event.id: moment_text(london(event.at)) for event in view.events},
    }


def _entry_shown(session: Session, who: Principal, entry_id: int) -> bool:
    try:
        require_visible(session, who, "entry_id", entry_id)
    except NotFound:
        return False
    return True


def _evidence_shown(session: Session, who: Principal, evidence_id: int) -> bool:
    try:
        require_visible(session, who, "evidence_id", evidence_id)
    except NotFound:
        return False
    return True


def _flag_page(request: Request, who: Principal, flag_id: int, *, errors: list[tuple[str, str]] = (), form: dict[str, str] | None = None,  # type: ignore[assignment]
               opened: str | None = None, status_code: int = 200, done: str | None = None) -> Response:  # fmt: skip
    with database(request).read() as session:
        require_visible(session, who, "flag_id", flag_id)
        context = _flag_context(session, who, flag_id)
    view: FlagView = context["flag"]
    defaults = {"amount": format_amount(view.amount_pence) if view.amount_pence else "", "method": "repayment", "into": "card"}
    return page(
        request, "funder/flag.html", title=f"{'Error: ' if errors else ''}Flag {flag_id}", errors=list(errors), form={**defaults, **(form or {})},
        opened=opened, status_code=status_code, done=done if done in DONE_WORDS else None, done_words=DONE_WORDS, **context, **words(),
    )  # fmt: skip


@router.get("/funder/flags/{flag_id}")
def flag_page(request: Request, flag_id: int = Path(ge=1, le=BIG_ID_MAX), done: str | None = Query(default=None, max_length=20),
              who: Principal = Depends(FUNDER_PAGES)) -> Response:  # fmt: skip
    return _flag_page(request, who, flag_id, done=done)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _decide(request: Request, who: Principal, flag_id: int, opened: str, form: dict[str, str], step: Callable[[Session], str]) -> Response:
    """Take a decision (``step`` returns where to go next); on a problem, the page again."""
    try:
        with database(request).write() as session:
            require_visible(session, who, "flag_id", flag_id)
            target = step(session)
    except FormProblem as problem:
        return _flag_page(request, who, flag_id, errors=problem.problems, form=form, opened=opened, status_code=problem.status_code)
    except (InvalidInput, Conflict) as refused:
        field = FIELD_OF.get(refused.field or "", f"{opened}-note" if opened in ("accept", "challenge") else "")
        if refused.code == "flag_transition_not_allowed":
            message = f"This flag is now {refused.details.get('state', 'changed')}: someone acted on it since you opened the page. Look at it again."
        else:
            message = _sentence(refused.message)
        return _flag_page(request, who, flag_id, errors=[(field or f"{opened}-form", message)], form=form, opened=opened, status_code=refused.status_code)
    return RedirectResponse(target, status_code=303)


def _acting(who: Principal) -> dict[str, str]:
    return {"actor": who.signature, "actor_role": ActorRole.FUNDER}


@router.post("/funder/flags/{flag_id}/accept")
def accept(request: Request, flag_id: int = Path(ge=1, le=BIG_ID_MAX), note: str = Form(default="", max_length=NOTE_MAX * 2),
           who: Principal = Depends(FUNDER_PAGES)) -> Response:  # fmt: skip
    def step(session: Session) -> str:
        workflow.accept(session, flag_id, text_from_form(note, "accept-note", "why you accept the explanation", NOTE_MAX), **_acting(who))
        return f"/funder/flags/{flag_id}?done=accepted"

    return _decide(request, who, flag_id, "accept", {"accept_note": note}, step)


@router.post("/funder/flags/{flag_id}/challenge")
def challenge(request: Request, flag_id: int = Path(ge=1, le=BIG_ID_MAX), note: str = Form(default="", max_length=NOTE_MAX * 2),
              who: Principal = Depends(FUNDER_PAGES)) -> Response:  # fmt: skip
    def step(session: Session) -> str:
        workflow.challenge(session, flag_id, text_from_form(note, "challenge-note", "what the holder must explain better", NOTE_MAX), **_acting(who))
        return f"/funder/flags/{flag_id}?done=challenged"

    return _decide(request, who, flag_id, "challenge", {"challenge_note": note}, step)


@router.post("/funder/flags/{flag_id}/request-recovery")
def request_recovery(
    request: Request,
    flag_id: int = Path(ge=1, le=BIG_ID_MAX),
    amount: str = Form(default="", max_length=60),
    reasons: str = Form(default="", max_length=NOTE_MAX * 2),
    repay_by_day: str = Form(default="", max_length=10),
    repay_by_month: str = Form(default="", max_length=10),
    repay_by_year: str = Form(default="", max_length=10),
    repayer: str = Form(default="", max_length=400),
    who: Principal = Depends(FUNDER_PAGES),
) -> Response:
    form = {"amount": amount, "reasons": reasons, "repay_by_day": repay_by_day, "repay_by_month": repay_by_month, "repay_by_year": repay_by_year,
            "repayer": repayer}  # fmt: skip

    def step(session: Session) -> str:
        checks, today = FormChecks(), today_in_england()
        pence = checks.take(pence_from_form, amount, "amount", "the amount to repay")
        why = checks.take(text_from_form, reasons, "reasons", "the reasons for requiring repayment", NOTE_MAX)
        by = checks.take(date_from_form, repay_by_day, repay_by_month, repay_by_year, "repay-by", "the date to repay by")
        who_repays = checks.take(text_from_form, repayer, "repayer", "who must repay", 200)
        if by is not None and by <= today:
            checks.add("repay-by-day", f"The date to repay by must be after today, {day_text(today)}: the notice gives time to repay")
        checks.raise_any()
        assert pence is not None and why is not None and by is not None and who_repays is not None
        view = recovery.request_recovery(
            session, flag_id, amount_pence=pence, reasons=why, repay_by=by, repayer=who_repays, issued_on=today, **_acting(who),
        )  # fmt: skip
        return f"/funder/notices/{view.notices[-1].id}?new=true"

    return _decide(request, who, flag_id, "recovery", form, step)


@router.post("/funder/flags/{flag_id}/recovered")
def recovered(
    request: Request,
    flag_id: int = Path(ge=1, le=BIG_ID_MAX),
    method: str = Form(default="", max_length=20),
    into: str = Form(default="card", max_length=20),
    on_day: str = Form(default="", max_length=10),
    on_month: str = Form(default="", max_length=10),
    on_year: str = Form(default="", max_length=10),
    who: Principal = Depends(FUNDER_PAGES),
) -> Response:
    form = {"method": method, "into": into, "on_day": on_day, "on_month": on_month, "on_year": on_year}

    def step(session: Session) -> str:
        checks = FormChecks()
        if method not in ("repayment", "offset"):
            checks.add("method", "Choose how the money came back")
        if method == "repayment" and into not in ("card", "cash"):
            checks.add("into", "Choose where the repayment was paid")
        on = checks.take(date_from_form, on_day, on_month, on_year, "recovered-on", "the date the money came back")
        checks.raise_any()
        assert on is not None
        recovery.record_recovery(session, flag_id, method=method, on=on, into=into if method == "repayment" else "card", **_acting(who))
        return f"/funder/flags/{flag_id}?done=recovered"

    return _decide(request, who, flag_id, "recovered", form, step)


# --- notices and evidence ------------------------------------------------------------------------


@router.get("/funder/notices/{notice_id}")
def notice_page(request: Request, notice_id: int = Path(ge=1, le=ID_MAX), new: bool = False, who: Principal = Depends(FUNDER_PAGES)) -> Response:
    with database(request).read() as session:
        require_visible(session, who, "notice_id", notice_id)
        notice = views.notice_view(session, notice_id)
        budget = session.get(Budget, notice.budget_id)
        funder = session.get(Funder, notice.funder_id) if notice.funder_id is not None else None
    return page(request, "funder/notice.html", title=f"Repayment notice {notice_id}", notice=notice, budget=budget, funder=funder, new=new)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@router.get("/funder/evidence/{evidence_id}")
def evidence_file(request: Request, evidence_id: int = Path(ge=1, le=ID_MAX), who: Principal = Depends(FUNDER_PAGES)) -> Response:
    with database(request).read() as session:
        require_visible(session, who, "evidence_id", evidence_id)
        evidence = evidence_content(session, evidence_id)
    name = _UNSAFE_NAME.sub("-", evidence.file_name).strip(" .") or f"evidence-{evidence_id}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return Response(evidence.content, media_type=evidence.content_type or "application/octet-stream", headers=headers)
