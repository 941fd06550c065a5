"""Reports and the documents kept of them: every report of the catalogue in HTML, PDF, CSV or
XLSX; keeping a new version on demand; the versions kept (by the scheduler or on demand);
and recording the people's part of a quarterly quality review.

``GET /reports/{name}`` answers with the latest kept version when there is one (what was
sent), else a document made now from the ledger; ``?live=true`` always makes it now, and
``?version=N`` reads version N. The ``X-Report-Version`` header says which (``live`` or N)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from ledger.access.log import AUDITOR_EXPORT, record_access
from ledger.access.visibility import funded_budget_ids
from ledger.budgets.budget import get_budget
from ledger.budgets.parties import get_funder, get_holder
from ledger.errors import InvalidInput, NotFound
from ledger.reviews.quality_reviews import (
    ActionSpec,
    AttendeeSpec,
    OutcomeRatingSpec,
    QualityReviewSpec,
    QualityReviewView,
    quality_review_of,
    record_quality_review,
)
from ledger.reviews.report_documents import Trigger, documents_visible_to, get_document, list_documents
from ledger.store.tables.report_documents import ReportDocument
from reports.catalogue import REPORTS, ReportKind, report_kind
from reports.generate import generate, kept_version, make_document, render_kept
from reports.params import ReportParams, parse_period
from reports.render import DOCUMENT_FORMATS, MEDIA_TYPES, Format, render
from web.api.common import ERROR_RESPONSES, AmountPence, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in
from web.auth import principal
from web.clock import ENGLAND, today_in_england

router = APIRouter(tags=["reports"], responses=ERROR_RESPONSES)

ID_QUERY = {"ge": 1, "le": 2_147_483_647}
ReportName = PathParam(max_length=40, description="A report's name: see GET /reports")
QuarterPath = PathParam(pattern=r"^20[0-9]{2}Q[1-4]$", description="A financial-year quarter: 2026Q1 = April to June 2026")


class ReportKindOut(BaseModel):
    name: str
    title: str
    description: str
    subject: str = Field(description="budget, holder or funder: which id the report needs")
    periods: list[str] = Field(description="How its period may be named: quarter, month, dates (from and to)")
    formats: list[str]


class DocumentOut(BaseModel):
    id: int
    kind: str
    version: int
    title: str
    subject: str
    period: str
    budget_id: int | None
    holder_id: int | None
    funder_id: int | None
    trigger: str = Field(description="scheduled or on_demand")
    generated_by: str
    generated_at: UtcTimestamp
    model_sha256: str
    links: dict[str, str] = Field(description="The document in each format")

    @classmethod
    def of(cls, row: ReportDocument) -> DocumentOut:
        links = {f.value: f"/api/v1/report-documents/{row.id}?format={f.value}" for f in DOCUMENT_FORMATS}
        return cls(
            id=row.id, kind=row.kind, version=row.version, title=row.title, subject=row.subject, period=row.period,
            budget_id=row.budget_id, holder_id=row.holder_id, funder_id=row.funder_id, trigger=row.trigger,
            generated_by=row.generated_by, generated_at=row.generated_at, model_sha256=row.model_sha256, links=links,
        )  # fmt: skip


class KeepIn(Schema):
    budget_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    holder_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    funder_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    quarter: str | None = Field(default=None, max_length=6, description="2026Q1")
    month: str | None = Field(default=None, max_length=7, description="2026-10")
    from_date: IsoDate | None = Field(default=None, alias="from")
    to_date: IsoDate | None = Field(default=None, alias="to")


def _params(request: Request, kind: ReportKind, budget_id: int | None, holder_id: int | None, funder_id: int | None, quarter: str | None,
            month: str | None, from_date: date | None, to_date: date | None) -> ReportParams:  # fmt: skip
    """What the report is asked for. A funder's own reports (tracker, summary, return, audit
    pack) are for its auditors and the system admin; a holder's summary for its own users;
    a budget's documents for anyone who may see the budget (the gate checked that)."""
    who = principal(request)
    if kind.subject == "funder" and funder_id is not None and not (who.is_admin or (who.is_auditor and who.funder_id == funder_id)):
        raise NotFound(f"there is no funder {funder_id}", code="funder_not_found")
    period = parse_period(quarter=quarter, month=month, starts_on=from_date, ends_on=to_date)
    with database(request).read() as session:
        if budget_id is not None:
            get_budget(session, budget_id)
        if holder_id is not None:
            get_holder(session, holder_id)
        if funder_id is not None:
            get_funder(session, funder_id)
    return ReportParams(budget_id=budget_id, holder_id=holder_id, funder_id=funder_id, period=period)


def _file_response(content: bytes, media_type: str, file_name: str, version: str, format: Format) -> Response:
    disposition = "inline" if format in (Format.HTML, Format.PDF) else "attachment"
    return Response(
        content, media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{file_name}"', "X-Report-Version": version, "Cache-Control": "no-store"},
    )  # fmt: skip


@router.get("/reports", response_model=list[ReportKindOut])
def list_reports() -> list[ReportKindOut]:
    """Every report the service makes."""
    return [
        ReportKindOut(name=k.name, title=k.title, description=k.description, subject=k.subject, periods=list(k.periods),
                      formats=[f.value for f in DOCUMENT_FORMATS] + (["zip"] if k.bundle else []))
        for k in REPORTS.values()
    ]


@router.get("/reports/{name}", response_class=Response, responses={200: {"content": {m: {} for m in ("text/html", "application/pdf", "text/csv")}}})
def read_report(
    request: Request,
    name: str = ReportName,
    budget_id: int | None = Query(default=None, **ID_QUERY),
    holder_id: int | None = Query(default=None, **ID_QUERY),
    funder_id: int | None = Query(default=None, **ID_QUERY),
    quarter: str | None = Query(default=None, max_length=6, description="2026Q1"),
    month: str | None = Query(default=None, max_length=7, description="2026-10"),
    from_date: IsoDate | None = Query(default=None, alias="from"),
    to_date: IsoDate | None = Query(default=None, alias="to"),
    format: Format = Query(default=Format.HTML),
    version: int | None = Query(default=None, ge=1, le=1_000_000, description="A kept version"),
    live: bool = Query(default=False, description="Make it now from the ledger, even when a version is kept"),
) -> Response:
    """A report as HTML, PDF, CSV or XLSX: the latest kept version, version N, or made now."""
    kind = report_kind(name)
    params = _params(request, kind, budget_id, holder_id, funder_id, quarter, month, from_date, to_date)
    kind.check(params)
    _record_export(request, kind.name, params, format.value)
    if format == Format.ZIP:
        with database(request).read() as session:
            bundle = kind.build_bundle(session, params, now=datetime.now(ENGLAND))
        return _file_response(bundle, MEDIA_TYPES[Format.ZIP], f"{kind.name}-{params.key(kind.name).split('|', 1)[1].replace('|', '-').replace('=', '-')}.zip", "live", format)
    with database(request).read() as session:
        row = None if live and version is None else kept_version(session, kind.name, params, version)
        if version is not None and row is None:
            raise NotFound(f"there is no version {version} of this {kind.title.lower()}", code="document_version_not_found", field="version")
        if row is not None:
            rendered = render_kept(row, format)
            return _file_response(rendered.content, rendered.media_type, rendered.file_name, str(row.version), format)
        document = make_document(session, kind.name, params, now=datetime.now(ENGLAND))
    rendered = render(document, format)
    return _file_response(rendered.content, rendered.media_type, rendered.file_name, "live", format)


@router.post("/reports/{name}/documents", status_code=201, response_model=DocumentOut)
def keep_report(body: KeepIn, request: Request, name: str = ReportName) -> DocumentOut:
    """Make the report now and keep it as its next version (older versions stay)."""
    kind = report_kind(name)
    params = _params(request, kind, body.budget_id, body.holder_id, body.funder_id, body.quarter, body.month, body.from_date, body.to_date)
    kind.check(params)
    with database(request).write() as session:
        row = generate(session, kind.name, params, now=datetime.now(ENGLAND), trigger=Trigger.ON_DEMAND, generated_by=signed_in(request))
    return DocumentOut.of(row)


@router.get("/report-documents", response_model=list[DocumentOut])
def kept_documents(
    request: Request,
    kind: str | None = Query(default=None, max_length=40),
    budget_id: int | None = Query(default=None, **ID_QUERY),
    holder_id: int | None = Query(default=None, **ID_QUERY),
    funder_id: int | None = Query(default=None, **ID_QUERY),
    period: str | None = Query(default=None, max_length=40, description="2026Q1, 2026-10 or 2026-04-01..2026-09-30"),
    limit: int = Query(default=100, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10_000_000),
) -> list[DocumentOut]:
    """Documents kept, newest first."""
    if kind is not None:
        report_kind(kind)
    with database(request).read() as session:
        rows = list_documents(
            session, kind=kind, budget_id=budget_id, holder_id=holder_id, funder_id=funder_id, period=period, limit=limit, offset=offset,
            visible=documents_visible_to(principal(request)),
        )  # fmt: skip
        return [DocumentOut.of(row) for row in rows]


@router.get("/report-documents/{document_id}", response_class=Response)
def kept_document(document_id: RecordId, request: Request, format: Format = Query(default=Format.HTML)) -> Response:
    """One kept version, in any format (all made from the same kept view model)."""
    if format == Format.ZIP:
        raise InvalidInput("a kept version is read as html, pdf, csv or xlsx; ask the report itself for its ZIP", code="format_not_offered", field="format")
    with database(request).read() as session:
        row = get_document(session, document_id)
        rendered = render_kept(row, format)
    _record_export(request, row.kind, ReportParams(budget_id=row.budget_id, holder_id=row.holder_id, funder_id=row.funder_id), format.value, period=row.period)
    return _file_response(rendered.content, rendered.media_type, rendered.file_name, str(row.version), format)


def _record_export(request: Request, kind: str, params: ReportParams, format: str, *, period: str | None = None) -> None:
    """An auditor's export is recorded against every budget it covers."""
    who = principal(request)
    if not who.is_auditor:
        return
    label = period or (params.period.label if params.period else "")
    with database(request).write() as session:
        if params.budget_id is not None:
            covered = [params.budget_id]
        else:
            covered = list(session.scalars(funded_budget_ids(who.funder_id)))  # type: ignore[arg-type]
        record_access(session, who, action=AUDITOR_EXPORT, reason=f"{kind} {label} as {format}".strip(), budget_ids=covered, funder_id=who.funder_id)


# --- the people's part of a quarterly quality review -------------------------------------------


class OutcomeIn(Schema):
    plan_outcome_id: int | None = Field(default=None, ge=1, le=2_147_483_647, description="The plan's outcome (see the plan version)")
    description: str | None = Field(default=None, max_length=1000, description="Only for an outcome the plan does not name")
    rating: str = Field(max_length=20, description="achieved, partly or not_achieved")
    note: str | None = Field(default=None, max_length=2000)


class ActionIn(Schema):
    who: str = Field(max_length=200)
    what: str = Field(max_length=1000)
    by_when: IsoDate
    status: str = Field(default="open", max_length=20, description="open for a new action; done, carried or dropped for one carried from the last review")
    carried_from_id: int | None = Field(default=None, ge=1, le=2_147_483_647, description="The action of the last review this one follows up")
    note: str | None = Field(default=None, max_length=1000)


class AttendeeIn(Schema):
    name: str = Field(max_length=200)
    role: str = Field(max_length=200, description="The person, a parent, the support worker, the care coordinator, …")


class QualityReviewIn(Schema):
    held_on: IsoDate
    attendees: list[AttendeeIn] = Field(max_length=50)
    outcomes: list[OutcomeIn] = Field(default_factory=list, max_length=50)
    working: str = Field(default="", max_length=4000)
    not_working: str = Field(default="", max_length=4000)
    to_change: str = Field(default="", max_length=4000)
    actions: list[ActionIn] = Field(default_factory=list, max_length=50)
    money_decision: str = Field(default="none", max_length=20, description="none, keep, reallocate or return")
    money_decision_amount: AmountPence | None = None
    money_decision_note: str | None = Field(default=None, max_length=2000)


class QualityReviewOut(BaseModel):
    id: int
    budget_id: int
    quarter: str
    revision: int
    held_on: date
    plan_version_id: int | None
    working: str
    not_working: str
    to_change: str
    money_decision: str
    money_decision_amount: str | None
    money_decision_note: str | None
    recorded_by: str
    recorded_at: UtcTimestamp
    outcomes: list[dict[str, object]]
    actions: list[dict[str, object]]
    attendees: list[dict[str, object]]

    @classmethod
    def of(cls, view: QualityReviewView) -> QualityReviewOut:
        r = view.review
        return cls(
            id=r.id, budget_id=r.budget_id, quarter=r.quarter, revision=r.revision, held_on=r.held_on, plan_version_id=r.plan_version_id,
            working=r.working, not_working=r.not_working, to_change=r.to_change, money_decision=r.money_decision,
            money_decision_amount=amount_text(r.money_decision_amount_pence) if r.money_decision_amount_pence is not None else None,
            money_decision_note=r.money_decision_note, recorded_by=r.recorded_by, recorded_at=r.recorded_at,
            outcomes=[{"plan_outcome_id": o.plan_outcome_id, "description": o.description, "rating": o.rating, "note": o.note} for o in view.outcomes],
            actions=[{"id": a.id, "who": a.who, "what": a.what, "by_when": a.by_when.isoformat(), "status": a.status,
                      "carried_from_id": a.carried_from_id, "note": a.note} for a in view.actions],
            attendees=[{"name": a.name, "role": a.role} for a in view.attendees],
        )  # fmt: skip


@router.post("/budgets/{budget_id}/quality-reviews/{quarter}", status_code=201, response_model=QualityReviewOut)
def record_review(body: QualityReviewIn, budget_id: RecordId, request: Request, quarter: str = QuarterPath) -> QualityReviewOut:
    """Record the people's part of a quarterly quality review. Recording the quarter again
    makes a new revision; actions left open by the last review are carried."""
    spec = quality_review_spec(body)
    with database(request).write() as session:
        view = record_quality_review(session, budget_id, quarter, spec, recorded_by=signed_in(request), today=today_in_england())
    return QualityReviewOut.of(view)


def quality_review_spec(body: QualityReviewIn) -> QualityReviewSpec:
    return QualityReviewSpec(
        held_on=body.held_on,
        attendees=tuple(AttendeeSpec(a.name, a.role) for a in body.attendees),
        outcomes=tuple(OutcomeRatingSpec(o.rating, o.plan_outcome_id, o.description, o.note) for o in body.outcomes),
        working=body.working, not_working=body.not_working, to_change=body.to_change,
        actions=tuple(ActionSpec(a.who, a.what, a.by_when, a.status, a.carried_from_id, a.note) for a in body.actions),
        money_decision=body.money_decision, money_decision_amount_pence=body.money_decision_amount, money_decision_note=body.money_decision_note,
    )  # fmt: skip


@router.get("/budgets/{budget_id}/quality-reviews/{quarter}", response_model=QualityReviewOut)
def read_review(budget_id: RecordId, request: Request, quarter: str = QuarterPath, revision: int | None = Query(default=None, ge=1, le=10_000)) -> QualityReviewOut:
    with database(request).read() as session:
        get_budget(session, budget_id)
        view = quality_review_of(session, budget_id, quarter, revision=revision)
        if view is None:
            raise NotFound(f"no quality review is recorded for budget {budget_id} in {quarter}", code="quality_review_not_found")
        return QualityReviewOut.of(view)


