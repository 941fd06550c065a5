"""Making a report's document, keeping it, and reading a kept one back in any format.

A kept document is its view model (JSON) and its HTML page. Reading it as PDF, CSV or XLSX
renders that same stored view model, so every format of a version shows the same figures,
even if the ledger has changed since (a late statement, a correction): the version is what
was sent. Making it again on demand keeps a new version beside the old.

What the scheduler makes (``due_documents``): after each quarter ends, on its first working
day or later, the quarter's review of every budget whose plan period overlaps it and the NHS
England return of every ICB; on the first working day of each month, the previous month's
tracker of every funder. Each once: what is already kept is not made again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import FunderKind
from ledger.core.working_days import working_day_on_or_after
from ledger.reviews.report_documents import DocumentToStore, Trigger, document_version, html_of, keys_with_documents, model_json_of, store_document
from ledger.store.tables import Budget, Funder
from ledger.store.tables.report_documents import ReportDocument
from reports.branding import Branding, branding_from_environment
from reports.catalogue import report_kind
from reports.document import Document, from_json, to_json
from reports.params import Period, ReportParams, month_period, previous_month, previous_quarter, quarter_period
from reports.render import MEDIA_TYPES, Format, Rendered, render
from reports.render_html import HtmlOptions, render_html


def make_document(session: Session, kind: str, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
    return report_kind(kind).build(session, params, now=now, cache=cache)


def keep_document(
    session: Session, kind: str, params: ReportParams, document: Document, *, trigger: str, generated_by: str, branding: Branding | None = None
) -> ReportDocument:
    html = render_html(document, branding or branding_from_environment(), HtmlOptions())
    return store_document(
        session,
        DocumentToStore(
            kind=kind, params_key=params.key(kind), subject=document.subject, period=document.period, title=f"{document.title} — {document.subtitle}",
            model_json=to_json(document), html=html, budget_id=params.budget_id, holder_id=params.holder_id, funder_id=params.funder_id,
        ),
        trigger=trigger,
        generated_by=generated_by,
        now=_utc_naive(document.generated_at),
    )  # fmt: skip


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def generate(
    session: Session, kind: str, params: ReportParams, *, now: datetime, trigger: str = Trigger.ON_DEMAND, generated_by: str,
    cache: dict | None = None, branding: Branding | None = None,
) -> ReportDocument:  # fmt: skip
    """Make the document now and keep it as its next version."""
    document = make_document(session, kind, params, now=now, cache=cache)
    return keep_document(session, kind, params, document, trigger=trigger, generated_by=generated_by, branding=branding)


def render_kept(row: ReportDocument, format: Format | str, *, branding: Branding | None = None) -> Rendered:
    """A kept version in any format: the HTML as kept; the others from the kept view model."""
    chosen = Format(format)
    document = from_json(model_json_of(row))
    if chosen == Format.HTML:
        return Rendered(html_of(row).encode("utf-8"), MEDIA_TYPES[chosen], f"{document.file_stem}-v{row.version}.html")
    return render(document, chosen, branding=branding, version=row.version)


def kept_version(session: Session, kind: str, params: ReportParams, version: int | None = None) -> ReportDocument | None:
    return document_version(session, params.key(kind), version)


# --- what the scheduler makes -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueDocument:
    kind: str
    params: ReportParams


def first_working_day(period_after: date) -> date:
    return working_day_on_or_after(period_after)


def due_documents(session: Session, today: date) -> list[DueDocument]:
    """What should be kept by ``today`` and is not yet: the last ended quarter's reviews and
    ICB returns once its first working day after has come, the last month's trackers once
    this month's first working day has come."""
    due: list[DueDocument] = []
    quarter = previous_quarter(today)
    if today >= first_working_day(quarter.next().starts_on):
        period = quarter_period(quarter)
        due += _missing(session, "quarterly-review", period, [ReportParams(budget_id=b, period=period) for b in budgets_in(session, period)])
        icbs = session.scalars(select(Funder.id).where(Funder.kind == FunderKind.ICB).order_by(Funder.id)).all()
        due += _missing(session, "nhse-return", period, [ReportParams(funder_id=f, period=period) for f in icbs])
    month = previous_month(today)
    if today >= first_working_day(month_period(today).starts_on):
        funders = session.scalars(select(Funder.id).order_by(Funder.id)).all()
        due += _missing(session, "funder-tracker", month, [ReportParams(funder_id=f, period=month) for f in funders])
    return due


def budgets_in(session: Session, period: Period) -> list[int]:
    """Budgets whose plan period overlaps ``period``, by holder then reference (so a run
    reads one holder's budgets together)."""
    return list(
        session.scalars(
            select(Budget.id)
            .where(Budget.period_start <= period.ends_on, Budget.period_end >= period.starts_on)
            .order_by(Budget.holder_id, Budget.reference)
        )
    )


def _missing(session: Session, kind: str, period: Period, wanted: list[ReportParams]) -> list[DueDocument]:
    kept = keys_with_documents(session, kind, period.label)
    return [DueDocument(kind, params) for params in wanted if params.key(kind) not in kept]
