"""Flags: find them (by budget, holder, funder, code, state, quarter), read one with its
history, evidence and repayment notices, run the rules, and move a flag through its review
(explain → accept / challenge / reallocate / request recovery → recovered → closed); evidence
upload; each funder's own spend checks (versioned copies of the shipped ones) and thresholds."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ledger.errors import InvalidInput
from ledger.flags import evidence as evidence_files
from ledger.flags import recovery, views, workflow
from ledger.flags.funder_rules import flag_settings, save_spend_checks, set_flag_settings, spend_check_versions
from ledger.flags.queries import FlagFilter, find_flags
from ledger.flags.raising import FlagCode, raise_flags
from ledger.flags.states import FlagState
from ledger.rules import shipped_spend_checks_text
from web.api.common import ERROR_RESPONSES, AmountPence, Int, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in
from web.auth import principal

router = APIRouter(tags=["flags"], responses=ERROR_RESPONSES)

FlagId = Annotated[int, Field(ge=1, le=9_223_372_036_854_775_807)]
Who = Annotated[str, Field(min_length=1, max_length=200)]
ROLE = Field(default=None, max_length=20, description="For the system admin only: the part it acts in (holder, funder or family); anyone else acts in their own")
FUNDER_ROLE = Field(default="funder", max_length=20, description="For the system admin only: the part it acts in (a funder's decision); anyone else acts in their own")
Note = Annotated[str, Field(min_length=1, max_length=4000)]
EVIDENCE_BYTES_MAX = evidence_files.EVIDENCE_BYTES_MAX


class FlagOut(BaseModel):
    id: int
    code: str
    severity: str
    state: str
    holder_id: int
    budget_id: int | None
    funder_id: int | None
    reason: str
    amount: str | None
    occurred_on: date
    rule_id: str
    rule_version: str
    account_id: int | None
    statement_line_id: int | None
    entry_id: int | None
    raised_at: UtcTimestamp
    state_changed_at: UtcTimestamp


def _flag_out(flag: Any) -> FlagOut:
    return FlagOut(
        id=flag.id, code=flag.code, severity=flag.severity, state=flag.state, holder_id=flag.holder_id, budget_id=flag.budget_id,
        funder_id=flag.funder_id, reason=flag.reason, amount=None if flag.amount_pence is None else amount_text(flag.amount_pence),
        occurred_on=flag.occurred_on, rule_id=flag.rule_id, rule_version=flag.rule_version, account_id=flag.account_id,
        statement_line_id=flag.statement_line_id, entry_id=flag.entry_id, raised_at=flag.raised_at, state_changed_at=flag.state_changed_at,
    )  # fmt: skip


@router.get("/flags", response_model=list[FlagOut])
def list_flags(
    request: Request,
    budget_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    holder_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    funder_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    code: FlagCode | None = None,
    state: FlagState | None = None,
    quarter: Annotated[str | None, Query(pattern=r"^[0-9]{4}Q[1-4]$", description="e.g. 2026Q1 (Q1 = April–June)")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[FlagOut]:
    who = principal(request)
    if who.is_holder:  # a holder's users see its flags, whatever else they filter by
        holder_id = who.holder_id
    elif who.is_auditor:  # an auditor sees the flags of the budgets its funder funds
        funder_id = who.funder_id
    with database(request).read() as session:
        wanted = FlagFilter(budget_id, holder_id, funder_id, code, state, quarter, offset, limit)
        return [_flag_out(f) for f in find_flags(session, wanted)]


class RunIn(Schema):
    holder_id: Int = Field(ge=1, le=2_147_483_647)
    as_of: IsoDate | None = Field(default=None, description="The day surplus and reviews are judged on (default today)")


class RunOut(BaseModel):
    raised: int
    considered: int


@router.post("/flags/run", response_model=RunOut)
def run_rules(body: RunIn, request: Request) -> RunOut:
    """Run every rule over one holder's budgets and matched lines: one flag per cause, so
    running it again raises nothing new."""
    with database(request).write() as session:
        result = raise_flags(session, body.holder_id, as_of=body.as_of, actor=signed_in(request))
    return RunOut(raised=result.raised, considered=result.considered)


def _view_json(view: Any) -> dict[str, Any]:
    """A flag with its history, evidence (without the bytes) and notices, as JSON."""
    return json.loads(json.dumps(views.view_as_dict(view), default=str))


@router.get("/flags/{flag_id}")
def get_flag(flag_id: FlagId, request: Request) -> dict[str, Any]:
    """One flag: what it is about, its append-only history, evidence and repayment notices."""
    with database(request).read() as session:
        return _view_json(views.flag_view(session, flag_id))


class ExplainIn(Schema):
    note: Note
    evidence_ids: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=20)
    actor_role: str | None = ROLE


class DecideIn(Schema):
    note: Note
    actor_role: str | None = FUNDER_ROLE


class ReallocateIn(DecideIn):
    plan_version_id: Int = Field(ge=1, le=2_147_483_647, description="The agreed plan revision the money was moved by")


class RecoveryIn(Schema):
    amount: AmountPence
    reasons: Note
    repay_by: IsoDate
    repayer: Who = Field(description="Who repays: the holder, the person or their representative")
    issued_on: IsoDate
    actor_role: str | None = FUNDER_ROLE


class ReconsiderIn(Schema):
    reason: Note
    actor_role: str | None = ROLE


class RecoveredIn(Schema):
    method: str = Field(description="repayment (money paid back: a posting) or offset (against the next card loads)")
    on: IsoDate
    into: str = Field(default="card", description="For a repayment: card or cash")
    actor_role: str | None = FUNDER_ROLE


def acting(request: Request, actor_role: str | None) -> dict[str, str]:
    """Who takes a step: the signed-in user, in their role's part (a holder's users act as the
    holder, an auditor as the funder, a family member as the family); only the system admin
    says in which part it acts (``actor_role``), and is recorded as itself all the same."""
    who = principal(request)
    if who.is_admin:
        if not actor_role:
            raise InvalidInput("say in which part the system admin acts: holder, funder or family", code="field_required", field="actor_role")
        return {"actor": who.signature, "actor_role": actor_role}
    role = "holder" if who.is_holder else "funder" if who.is_auditor else "family"
    return {"actor": who.signature, "actor_role": role}


@router.post("/flags/{flag_id}/explain")
def explain(flag_id: FlagId, body: ExplainIn, request: Request) -> dict[str, Any]:
    with database(request).write() as session:
        workflow.explain(session, flag_id, note=body.note, evidence_ids=body.evidence_ids, **acting(request, body.actor_role))
    return get_flag(flag_id, request)


@router.post("/flags/{flag_id}/accept")
def accept(flag_id: FlagId, body: DecideIn, request: Request) -> dict[str, Any]:
    with database(request).write() as session:
        workflow.accept(session, flag_id, note=body.note, **acting(request, body.actor_role))
    return get_flag(flag_id, request)


@router.post("/flags/{flag_id}/challenge")
def challenge(flag_id: FlagId, body: DecideIn, request: Request) -> dict[str, Any]:
    with database(request).write() as session:
        workflow.challenge(session, flag_id, note=body.note, **acting(request, body.actor_role))
    return get_flag(flag_id, request)


@router.post("/flags/{flag_id}/reallocate")
def reallocate(flag_id: FlagId, body: ReallocateIn, request: Request) -> dict[str, Any]:
    """A surplus moved by plan revision."""
    with database(request).write() as session:
        workflow.reallocate(
            session, flag_id, plan_version_id=body.plan_version_id, note=body.note, **acting(request, body.actor_role)
        )
    return get_flag(flag_id, request)


@router.post("/flags/{flag_id}/request-recovery")
def request_recovery(flag_id: FlagId, body: RecoveryIn, request: Request) -> dict[str, Any]:
    """Require repayment: writes the regulation 15 notice (reasons, amount, date, who repays)."""
    with database(request).write() as session:
        recovery.request_recovery(
            session, flag_id, amount_pence=body.amount, reasons=body.reasons, repay_by=body.repay_by, repayer=body.repayer,
            issued_on=body.issued_on, **acting(request, body.actor_role),
        )  # fmt: skip
    return get_flag(flag_id, request)


@router.post("/flags/{flag_id}/reconsider")
def reconsider(flag_id: FlagId, body: ReconsiderIn, request: Request) -> dict[str, Any]:
    """The recipient asks for the recovery decision to be reconsidered: the flag reopens."""
    with database(request).write() as session:
        workflow.ask_reconsideration(session, flag_id, reason=body.reason, **acting(request, body.actor_role))
    return get_flag(flag_id, request)


@router.post("/flags/{flag_id}/recovered")
def recovered(flag_id: FlagId, body: RecoveredIn, request: Request) -> dict[str, Any]:
    with database(request).write() as session:
        recovery.record_recovery(session, flag_id, method=body.method, on=body.on, into=body.into, **acting(request, body.actor_role))
    return get_flag(flag_id, request)


@router.post("/flags/{flag_id}/close")
def close(flag_id: FlagId, body: DecideIn, request: Request) -> dict[str, Any]:
    with database(request).write() as session:
        workflow.close(session, flag_id, note=body.note, **acting(request, body.actor_role))
    return get_flag(flag_id, request)


@router.get("/repayment-notices/{notice_id}", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def notice_text(notice_id: RecordId, request: Request) -> Response:
    """A repayment notice as the letter's text."""
    with database(request).read() as session:
        notice = views.notice_view(session, notice_id)
    return Response(notice.text, media_type="text/plain; charset=utf-8")


# --- evidence -----------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    id: int
    kind: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    flag_id: int | None
    statement_line_id: int | None
    uploaded_by: str
    uploaded_at: UtcTimestamp


@router.post("/holders/{holder_id}/evidence", response_model=EvidenceOut, status_code=201)
def upload_evidence(
    holder_id: RecordId,
    request: Request,
    file: Annotated[UploadFile, File(description="A receipt, invoice or timesheet (PDF, image, text or spreadsheet), at most 10 MiB")],
    kind: Annotated[str, Form(description="receipt, invoice, timesheet or other")],
    flag_id: Annotated[int | None, Form(ge=1)] = None,
    statement_line_id: Annotated[int | None, Form(ge=1)] = None,
    note: Annotated[str | None, Form(max_length=1000)] = None,
) -> EvidenceOut:
    content = file.file.read(EVIDENCE_BYTES_MAX + 1)
    with database(request).write() as session:
        evidence = evidence_files.attach_evidence(
            session, holder_id, kind=kind, file_name=(file.filename or "evidence")[:300], content_type=file.content_type or "",
            content=content, uploaded_by=signed_in(request), flag_id=flag_id, statement_line_id=statement_line_id, note=note,
        )  # fmt: skip
        return EvidenceOut(**{k: getattr(evidence, k) for k in EvidenceOut.model_fields})


@router.get("/evidence/{evidence_id}", response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
def download_evidence(evidence_id: RecordId, request: Request) -> Response:
    with database(request).read() as session:
        evidence = evidence_files.evidence_content(session, evidence_id)
        headers = {"Content-Disposition": f'attachment; filename="evidence-{evidence.id}"', "X-Content-Type-Options": "nosniff"}
        return Response(evidence.content, media_type=evidence.content_type, headers=headers)


# --- funders' rules and thresholds --------------------------------------------------------


@router.get("/rules/spend-checks")
def shipped_spend_checks_document() -> dict[str, Any]:
    """The shipped spend checks (excluded codes and merchant names, venues, cash), each
    entry with its source: what a funder copies to make its own."""
    return json.loads(shipped_spend_checks_text())


class SpendChecksIn(Schema):
    definition: dict[str, Any] = Field(description="A whole rule set, in the shipped document's shape")
    note: str | None = Field(default=None, max_length=1000)


class SpendChecksOut(BaseModel):
    funder_id: int
    version: int
    based_on: str
    note: str | None
    created_by: str
    created_at: UtcTimestamp
    definition: dict[str, Any]


@router.get("/funders/{funder_id}/spend-checks", response_model=list[SpendChecksOut])
def list_spend_checks(funder_id: RecordId, request: Request) -> list[SpendChecksOut]:
    """Every version of the funder's own spend checks (empty: it uses the shipped ones)."""
    with database(request).read() as session:
        return [
            SpendChecksOut(
                funder_id=r.funder_id, version=r.version, based_on=r.based_on, note=r.note, created_by=r.created_by,
                created_at=r.created_at, definition=json.loads(r.definition),
            )  # fmt: skip
            for r in spend_check_versions(session, funder_id)
        ]


@router.post("/funders/{funder_id}/spend-checks", response_model=SpendChecksOut, status_code=201)
def save_funder_spend_checks(funder_id: RecordId, body: SpendChecksIn, request: Request) -> SpendChecksOut:
    """Save the funder's next version of its spend checks (validated entry by entry)."""
    text = json.dumps(body.definition, ensure_ascii=False, indent=1)
    with database(request).write() as session:
        row = save_spend_checks(session, funder_id, text, created_by=signed_in(request), note=body.note)
        return SpendChecksOut(
            funder_id=row.funder_id, version=row.version, based_on=row.based_on, note=row.note, created_by=row.created_by,
            created_at=row.created_at, definition=body.definition,
        )  # fmt: skip


class SettingsIn(Schema):
    large_spend: AmountPence = Field(description="A purchase above this with no receipt is flagged LARGE_SPEND")
    duplicate_window_days: Int = Field(ge=0, le=14)
    over_plan_tolerance_percent: Annotated[str, Field(pattern=r"^[0-9]{1,2}(\.[0-9]{1,2})?$", description="e.g. \"5\" or \"2.5\"")]


class SettingsOut(BaseModel):
    funder_id: int
    large_spend: str
    duplicate_window_days: int
    over_plan_tolerance_percent: str
    is_default: bool


def _settings_out(found: Any) -> SettingsOut:
    basis = found.settings.over_plan_tolerance_basis_points
    return SettingsOut(
        funder_id=found.funder_id, large_spend=amount_text(found.settings.large_spend_pence),
        duplicate_window_days=found.settings.duplicate_window_days, over_plan_tolerance_percent=f"{basis // 100}.{basis % 100:02d}",
        is_default=found.is_default,
    )  # fmt: skip


@router.get("/funders/{funder_id}/flag-settings", response_model=SettingsOut)
def get_settings(funder_id: RecordId, request: Request) -> SettingsOut:
    with database(request).read() as session:
        return _settings_out(flag_settings(session, funder_id))


@router.put("/funders/{funder_id}/flag-settings", response_model=SettingsOut)
def put_settings(funder_id: RecordId, body: SettingsIn, request: Request) -> SettingsOut:
    whole, _, part = body.over_plan_tolerance_percent.partition(".")
    basis_points = int(whole) * 100 + int((part + "00")[:2])
    with database(request).write() as session:
        found = set_flag_settings(
            session, funder_id, large_spend_pence=body.large_spend, duplicate_window_days=body.duplicate_window_days,
            over_plan_tolerance_basis_points=basis_points, updated_by=signed_in(request),
        )  # fmt: skip
    return _settings_out(found)
