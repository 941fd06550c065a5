"""The monthly tracker as a page, and the returns and audit packs to download.

The tracker page is the ``funder-tracker`` report's document (``reports.funder_views``)
laid out with NHS.UK markup, each budget's reference linking to its page, with the month
before and after and the same document to download. Downloads are the catalogue's reports
(``reports.catalogue``) for this funder: its tracker, its summary, the NHS England return (an
ICB's), its audit pack (also as a ZIP with the evidence), and a budget's monitoring return.
Every download — made now or a kept version — is recorded against every budget it covers
(``ledger.access.log``: who, when, which budget, why)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ledger.access.log import AUDITOR_EXPORT, record_access
from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, funded_budget_ids, require_budget
from ledger.core.periods import parse_quarter, quarter_of
from ledger.core.vocabulary import FunderKind
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.reviews.due import quarter_words
from ledger.reviews.report_documents import documents_visible_to, get_document, list_documents, model_json_of
from ledger.store.tables import Budget, Funder
from reports.audit_reads import AuditScope
from reports.catalogue import report_kind
from reports.document import Facts, Paragraphs, Table, from_json
from reports.funder_view_reads import funder_scope
from reports.generate import kept_version, make_document, render_kept
from reports.params import Period, ReportParams, dates_period, month_period, parse_month, previous_quarter, quarter_period
from reports.render import DOCUMENT_FORMATS, MEDIA_TYPES, Format, render
from web.clock import ENGLAND, today_in_england
from web.pages.access import FUNDER_PAGES
from web.pages.funder_common import ID_MAX, FormProblem, Month, database, funder_of, iso_date, month_of
from web.pages.render import page

router = APIRouter(include_in_schema=False)
TRACKER = "funder-tracker"
OFFERED = ("funder-tracker", "funder-summary", "nhse-return", "audit-pack", "monitoring-return")
MONTHS_OFFERED = 24
QUARTERS_OFFERED = 8
KEPT_SHOWN = 50
TRACKER_ROWS_SHOWN = 200
"""A tracker table on the page shows this many budgets (an ICB's has 2,500); the CSV and
XLSX hold every row."""
_QUARTER = re.compile(r"20[0-9]{2}Q[1-4]")


# --- the tracker ----------------------------------------------------------------------------------


def _tracker_month(text: str | None, today: date) -> Month:
    """The month asked for; by default the last whole month (the one the tracker is kept for)."""
    if text:
        return month_of(parse_month(text).starts_on)
    return month_of(today).previous()


def _reference_links(session: Session, funder_id: int, period: Period) -> dict[str, str]:
    rows = session.execute(select(Budget.reference, Budget.id).where(Budget.id.in_(funder_scope(funder_id, period.starts_on, period.ends_on))))
    return {reference: f"/funder/budgets/{budget_id}" for reference, budget_id in rows}


@router.get("/funder/tracker")
def tracker_page(request: Request, month: str | None = Query(default=None, max_length=7), live: bool = False,
                 who: Principal = Depends(FUNDER_PAGES)) -> Response:  # fmt: skip
    """The month's kept tracker (what was sent) when one is kept, else (or with ``live``)
    the tracker made now from the ledger."""
    today = today_in_england()
    chosen = _tracker_month(month, today)
    period = month_period(chosen.first)
    params = ReportParams(funder_id=who.funder_id, period=period)
    with database(request).read() as session:
        funder = funder_of(session, who)
        kept = kept_version(session, TRACKER, params)
        if kept is not None and not live:
            document = from_json(model_json_of(kept))
        else:
            document = make_document(session, TRACKER, params, now=datetime.now(ENGLAND))
        links = _reference_links(session, funder.id, period)  # type: ignore[arg-type]
    later = chosen.next()
    return page(
        request, "funder/tracker.html", title=f"Monthly tracker, {chosen.words}", funder=funder, document=document, links=links, month=chosen,
        previous=chosen.previous(), later=later if later.first <= today else None, kept=kept, showing_kept=kept is not None and not live,
        formats=[f.value for f in DOCUMENT_FORMATS], block_type=_block_type, rows_max=TRACKER_ROWS_SHOWN, body_class="app-funder-wide-page",
    )  # fmt: skip


def _block_type(block: object) -> str:
    return {Facts: "facts", Table: "table", Paragraphs: "paragraphs"}.get(type(block), "other")


# --- the downloads page ---------------------------------------------------------------------------


def _month_choices(today: date) -> list[tuple[str, str]]:
    month, found = month_of(today), []
    for _ in range(MONTHS_OFFERED):
        found.append((month.label, month.words))
        month = month.previous()
    return found


def _quarter_choices(today: date) -> list[tuple[str, str]]:
    quarter, found = quarter_of(today), []
    for _ in range(QUARTERS_OFFERED):
        period = quarter_period(quarter)
        found.append((quarter.label, f"{quarter_words(quarter)}"))
        quarter = quarter_of(period.starts_on - timedelta(days=1))
    return found


def _downloads_page(request: Request, who: Principal, *, errors: list[tuple[str, str]] | None = None, form: dict[str, str] | None = None,
                    status_code: int = 200) -> Response:  # fmt: skip
    today = today_in_england()
    with database(request).read() as session:
        funder = funder_of(session, who)
        documents = list_documents(session, visible=documents_visible_to(who), limit=KEPT_SHOWN)
        example = session.scalar(select(Budget.reference).where(Budget.id.in_(funded_budget_ids(funder.id))).order_by(Budget.reference).limit(1))  # type: ignore[arg-type]
    return page(
        request, "funder/downloads.html", title=f"{'Error: ' if errors else ''}Returns and audit packs", funder=funder,
        is_icb=funder.kind == FunderKind.ICB, months=_month_choices(today), quarters=_quarter_choices(today), documents=documents,
        errors=errors or [], form=form or {}, formats=[f.value for f in DOCUMENT_FORMATS], status_code=status_code,
        default_month=month_of(today).previous().label, default_quarter=previous_quarter(today).label, example_reference=example or "",
    )  # fmt: skip


@router.get("/funder/downloads")
def downloads_page(request: Request, who: Principal = Depends(FUNDER_PAGES)) -> Response:
    return _downloads_page(request, who)


# --- making a download ----------------------------------------------------------------------------


def _period(period: str | None, from_text: str | None, to_text: str | None, report: str) -> Period:
    try:
        starts_on, ends_on = iso_date(from_text, "from"), iso_date(to_text, "to")
    except InvalidInput:
        raise FormProblem(f"{report}-from", "Enter the dates like 2026-10-01") from None
    if starts_on or ends_on:
        if not (starts_on and ends_on):
            raise FormProblem(f"{report}-{'to' if starts_on else 'from'}", "Enter both dates, or choose a period instead")
        return dates_period(starts_on, ends_on)
    if not period:
        raise FormProblem(f"{report}-period", "Choose a period")
    if _QUARTER.fullmatch(period):
        return quarter_period(parse_quarter(period))
    return parse_month(period, field="period")


def covered_budgets(funder_id: int, report: str, params: ReportParams) -> Select:
    """The budgets a download shows: what its access record names."""
    if params.budget_id is not None:
        return select(Budget.id).where(Budget.id == params.budget_id)
    if params.period is None:  # a kept funder document: whatever it covered then, of the budgets funded
        return funded_budget_ids(funder_id)
    if report in ("funder-tracker", "funder-summary"):
        return funder_scope(funder_id, params.period.starts_on, params.period.ends_on)
    if report == "audit-pack":
        return AuditScope(funder_id, params.period.starts_on, params.period.ends_on).budget_ids
    return funded_budget_ids(funder_id)


def _params_for(session: Session, who: Principal, funder: Funder, report: str, period: Period, budget_reference: str) -> ReportParams:
    if report == "nhse-return" and funder.kind != FunderKind.ICB:
        raise NotFound(f"there is no report {report!r} for {funder.name}", code="report_not_found")
    if report != "monitoring-return":
        return ReportParams(funder_id=funder.id, period=period)
    reference = budget_reference.strip().upper()
    if not reference:
        raise FormProblem("monitoring-return-budget", "Enter the reference of the budget the return is about")
    budget_id = session.scalar(select(Budget.id).where(Budget.reference == reference))
    try:
        if budget_id is None:
            raise NotFound(f"there is no budget {reference!r}", code="budget_not_found")
        require_budget(session, who, budget_id)
    except NotFound:
        # Another funder's budget is answered as one that does not exist: 404, the form again.
        raise FormProblem("monitoring-return-budget", f"There is no budget {reference} among those {funder.name} funds", status_code=404) from None
    return ReportParams(budget_id=budget_id, period=period)


def _file(content: bytes, media_type: str, file_name: str, chosen: Format) -> Response:
    disposition = "inline" if chosen in (Format.HTML, Format.PDF) else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{file_name}"', "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return Response(content, media_type=media_type, headers=headers)


@router.get("/funder/downloads/{report}")
def download(
    request: Request,
    report: str = Path(max_length=40),
    period: str | None = Query(default=None, max_length=10),
    from_date: str | None = Query(default=None, alias="from", max_length=10),
    to_date: str | None = Query(default=None, alias="to", max_length=10),
    format: str = Query(default="pdf", max_length=10),
    budget: str = Query(default="", max_length=32),
    who: Principal = Depends(FUNDER_PAGES),
) -> Response:
    if report not in OFFERED:
        raise NotFound(f"there is no report {report!r}", code="report_not_found")
    form = {"report": report, "period": period or "", "from": from_date or "", "to": to_date or "", "format": format, "budget": budget}
    kind = report_kind(report)
    chosen = Format(format) if format in {f.value for f in Format} else None
    if chosen is None or (chosen == Format.ZIP and kind.bundle is None):
        return _downloads_page(request, who, errors=[(f"{report}-format", "Choose a format this report is made in")], form=form, status_code=422)
    try:
        with database(request).read() as session:
            funder = funder_of(session, who)
            params = _params_for(session, who, funder, report, _period(period, from_date, to_date, report), budget)
            kind.check(params)
            now = datetime.now(ENGLAND)
            if chosen == Format.ZIP:
                content, media_type = kind.build_bundle(session, params, now=now), MEDIA_TYPES[Format.ZIP]
                file_name = f"{report}-{funder.code}-{params.period.label.replace('..', '-to-')}.zip"  # type: ignore[union-attr]
            else:
                rendered = render(make_document(session, report, params, now=now), chosen)
                content, media_type, file_name = rendered.content, rendered.media_type, rendered.file_name
    except FormProblem as problem:
        return _downloads_page(request, who, errors=problem.problems, form=form, status_code=problem.status_code)
    except LedgerError as refused:
        if isinstance(refused, NotFound) and refused.code == "report_not_found":
            raise
        message = refused.message[:1].upper() + refused.message[1:]
        return _downloads_page(request, who, errors=[(f"{report}-period", message)], form=form, status_code=refused.status_code)
    _record(request, who, report, params, chosen.value)
    return _file(content, media_type, file_name, chosen)


def _record(request: Request, who: Principal, report: str, params: ReportParams, format: str, *, period_label: str | None = None) -> None:
    label = period_label or (params.period.label if params.period else "")
    with database(request).write() as session:
        covered = list(session.scalars(covered_budgets(who.funder_id, report, params)))  # type: ignore[arg-type]
        record_access(session, who, action=AUDITOR_EXPORT, reason=f"{report} {label} as {format} (funder pages)", budget_ids=covered, funder_id=who.funder_id)


@router.get("/funder/documents/{document_id}")
def kept_document(request: Request, document_id: int = Path(ge=1, le=ID_MAX), format: str = Query(default="html", max_length=10),
                  who: Principal = Depends(FUNDER_PAGES)) -> Response:  # fmt: skip
    """A kept version of a document (what was sent), in any of its formats."""
    try:
        chosen = Format(format)
    except ValueError:
        chosen = Format.ZIP
    if chosen == Format.ZIP:
        raise InvalidInput("a kept version is read as html, pdf, csv or xlsx", code="format_not_offered", field="format")
    with database(request).read() as session:
        require_visible(session, who, "document_id", document_id)
        row = get_document(session, document_id)
        rendered = render_kept(row, chosen)
    params = ReportParams(budget_id=row.budget_id, funder_id=row.funder_id or who.funder_id)
    _record(request, who, row.kind, params, chosen.value, period_label=row.period)
    return _file(rendered.content, rendered.media_type, rendered.file_name, chosen)


__all__ = ["covered_budgets", "router"]
