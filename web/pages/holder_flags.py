"""Flags: the holder's flags, those waiting for it first (open, challenged), then those with
the funder (explained), then the settled; filtered by state, code or budget. One flag's page
shows what it is about, its history, its evidence and any repayment notice, and — while it
waits for the holder — a form to explain it with a note and a receipt, invoice or timesheet.
Accepting, challenging and requiring repayment are the funder's decisions: the page says so.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, require_budget
from ledger.errors import LedgerError, NotFound
from ledger.flags import steps, views, workflow
from ledger.flags.catalogue import FlagCode
from ledger.flags.evidence import EVIDENCE_BYTES_MAX, EvidenceKind, attach_evidence, evidence_content
from ledger.flags.states import FlagState
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementLineRecord
from web.pages.access import HOLDER_PAGES
from web.pages.holder_common import Errors, budget_names, database, holder_of, whole_id
from web.pages.render import page

router = APIRouter(include_in_schema=False)
FlagId = Path(ge=1, le=9_223_372_036_854_775_807)
UPLOAD_LIMITS = ((r"^/holder/flags/[0-9]+/explain$", EVIDENCE_BYTES_MAX + 1024 * 1024),)
"""An explanation carries one evidence file of up to 10 MiB."""
FLAGS_PAGE = 50
ORDER = {FlagState.OPEN: 0, FlagState.CHALLENGED: 1, FlagState.EXPLAINED: 2, FlagState.RECOVERY_REQUESTED: 3}
EXPLAINABLE = (FlagState.OPEN, FlagState.CHALLENGED)
NOTE_MAX = steps.NOTE_LENGTH_MAX
FUNDER_STEPS = {"accept": "accept the explanation", "challenge": "challenge it", "reallocate": "record a reallocation by plan revision",
                "request_recovery": "require repayment", "record_recovery": "record the money recovered", "close": "close it"}  # fmt: skip


def _flags(session: Session, holder_id: int, state: str | None, code: str | None, budget_id: int | None, page_number: int) -> tuple[list[Flag], int]:
    query = select(Flag).where(Flag.holder_id == holder_id)
    if state:
        query = query.where(Flag.state == state)
    if code:
        query = query.where(Flag.code == code)
    if budget_id is not None:
        query = query.where(Flag.budget_id == budget_id)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    waiting_first = case({value: order for value, order in ORDER.items()}, value=Flag.state, else_=len(ORDER))
    ordered = query.order_by(waiting_first, Flag.occurred_on.desc(), Flag.id.desc()).offset((page_number - 1) * FLAGS_PAGE).limit(FLAGS_PAGE)
    return list(session.scalars(ordered)), count


@router.get("/holder/flags")
def flags_page(request: Request, state: str | None = None, code: str | None = None, budget: str | None = None, page_number: int = Query(default=1, alias="page"),
               who: Principal = Depends(HOLDER_PAGES)) -> Response:  # fmt: skip
    holder_id = holder_of(who)
    state = state if state in set(FlagState) else None
    code = code if code in set(FlagCode) else None
    budget_id = whole_id(budget)
    page_number = max(1, min(page_number, 100_000))
    with database(request).read() as session:
        if budget_id is not None:
            require_budget(session, who, budget_id)
        flags, count = _flags(session, holder_id, state, code, budget_id, page_number)
        names = budget_names(session, holder_id)
        waiting = session.scalar(select(func.count()).where(Flag.holder_id == holder_id, Flag.state.in_(list(EXPLAINABLE)))) or 0
    query = "".join(f"&{name}={value}" for name, value in (("state", state), ("code", code), ("budget", budget_id)) if value)
    previous = ("Previous flags", f"/holder/flags?page={page_number - 1}{query}") if page_number > 1 else None
    following = ("More flags", f"/holder/flags?page={page_number + 1}{query}") if page_number * FLAGS_PAGE < count else None
    return page(
        request, "holder/flags.html", title="Flags", flags=flags, count=count, names=names, waiting=waiting, state=state or "",
        code=code or "", budget_id=budget_id, states=list(FlagState), codes=list(FlagCode), previous=previous, following=following,
    )  # fmt: skip


def _flag_page(request: Request, who: Principal, flag_id: int, *, errors: Errors | None = None, note: str = "", kind: str = "receipt",
               explained: bool = False, status_code: int = 200) -> Response:  # fmt: skip
    with database(request).read() as session:
        require_visible(session, who, "flag_id", flag_id)
        view = views.flag_view(session, flag_id)
        line = session.get(StatementLineRecord, view.statement_line_id) if view.statement_line_id else None
        names = budget_names(session, holder_of(who))
    funder_steps = [FUNDER_STEPS[a] for a in view.allowed_actions if a in FUNDER_STEPS]
    return page(
        request, "holder/flag.html", title=("Error: " if errors else "") + f"Flag {flag_id}", view=view, line=line, names=names, errors=errors or [], note=note,
        kind=kind, kinds=[k.value for k in EvidenceKind], can_explain=view.state in EXPLAINABLE, funder_steps=funder_steps,
        explained=explained, note_max=NOTE_MAX, status_code=status_code,
    )  # fmt: skip


@router.get("/holder/flags/{flag_id}")
def flag_page(request: Request, flag_id: int = FlagId, explained: bool = False, who: Principal = Depends(HOLDER_PAGES)) -> Response:
    return _flag_page(request, who, flag_id, explained=explained)


@router.post("/holder/flags/{flag_id}/explain")
def explain(
    request: Request,
    flag_id: int = FlagId,
    note: str = Form(default="", max_length=NOTE_MAX * 2),
    kind: str = Form(default="receipt", max_length=20),
    file: UploadFile | None = File(default=None),
    who: Principal = Depends(HOLDER_PAGES),
) -> Response:
    note = note.strip()
    errors: Errors = []
    if not note:
        errors.append(("note", "Say what the money was for"))
    elif len(note) > NOTE_MAX:
        errors.append(("note", f"The explanation must be {NOTE_MAX:,} characters or fewer"))
    if kind not in set(EvidenceKind):
        errors.append(("kind-receipt", "Choose what kind of evidence the file is"))
    content = file.file.read(EVIDENCE_BYTES_MAX + 1) if file is not None and file.filename else b""
    if file is not None and file.filename and not content:
        errors.append(("file", f"The file {file.filename} is empty"))
    if errors:
        return _flag_page(request, who, flag_id, errors=errors, note=note, kind=kind, status_code=422)
    try:
        with database(request).write() as session:
            require_visible(session, who, "flag_id", flag_id)
            evidence_ids = []
            if content and file is not None:
                evidence = attach_evidence(
                    session, holder_of(who), kind=kind, file_name=(file.filename or "evidence")[:300], content_type=file.content_type or "",
                    content=content, uploaded_by=who.signature, flag_id=flag_id,
                )  # fmt: skip
                evidence_ids.append(evidence.id)
            workflow.explain(session, flag_id, note=note, evidence_ids=evidence_ids, actor=who.signature, actor_role="holder")
    except NotFound:
        raise
    except LedgerError as refused:
        field = "file" if refused.field in ("content", "content_type", "file_name") else "note"
        return _flag_page(request, who, flag_id, errors=[(field, refused.message)], note=note, kind=kind, status_code=refused.status_code)
    return RedirectResponse(f"/holder/flags/{flag_id}?explained=true", status_code=303)


@router.get("/holder/evidence/{evidence_id}")
def evidence_file(request: Request, evidence_id: int = Path(ge=1, le=2_147_483_647), who: Principal = Depends(HOLDER_PAGES)) -> Response:
    with database(request).read() as session:
        require_visible(session, who, "evidence_id", evidence_id)
        evidence = evidence_content(session, evidence_id)
        content, media_type, name = evidence.content, evidence.content_type, evidence.file_name
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-120:].lstrip(".") or "evidence"
    headers = {"Content-Disposition": f'attachment; filename="evidence-{evidence_id}-{safe_name}"', "X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-store"}  # fmt: skip
    return Response(content, media_type=media_type, headers=headers)
