"""Reviews: what is due and overdue for the holder's budgets and the quarterly quality
reviews recorded; the form to record a quarter's review (``holder_review_form``) through
``ledger.reviews.quality_reviews.record_quality_review``; and the review document to download as
HTML, PDF, CSV or XLSX, made as the API makes it (the latest kept version, else made now
from the ledger), so the figures are the same whichever way it is read.

Recording a review when a version of the quarter's document is already kept (the scheduler
keeps one after each quarter) keeps a new version, so the document shows what was recorded.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal, require_budget
from ledger.budgets.budget import get_budget
from ledger.budgets.plans import agreed_version_on
from ledger.core.periods import Quarter, parse_quarter
from ledger.errors import LedgerError, NotFound
from ledger.reviews.due import quarter_words
from ledger.reviews.plan_reviews import reviews_due
from ledger.reviews.quality_reviews import open_actions_before, quality_review_of, record_quality_review
from ledger.reviews.report_documents import Trigger
from ledger.store.tables import Budget, PlanOutcome
from ledger.store.tables.quality_reviews import QualityReview
from reports.generate import generate, kept_version, make_document, render_kept
from reports.params import ReportParams, quarter_period
from reports.render import DOCUMENT_FORMATS, Format, render
from web.clock import ENGLAND, today_in_england
from web.pages.access import HOLDER_PAGES
from web.pages.holder_common import budget_names, database, holder_of, whole_id
from web.pages.holder_review_form import (
    ATTENDEES,
    CARRIED_WORDS,
    DECISION_WORDS,
    NEW_ACTIONS,
    RATING_WORDS,
    ReviewForm,
    filled_from,
    ledger_error,
    read_review,
)  # fmt: skip
from web.pages.render import page

router = APIRouter(include_in_schema=False)
REPORT = "quarterly-review"
BudgetId = Path(ge=1, le=2_147_483_647)
QuarterText = Path(pattern=r"^20[0-9]{2}Q[1-4]$")
UPCOMING_DAYS = 60
RECORDED_SHOWN = 50
KIND_WORDS = {"plan": "Plan review", "quarterly_quality": "Quarterly quality review", "significant_change": "Review after a significant change",
              "requested": "Review the family asked for"}  # fmt: skip


async def posted(request: Request) -> dict[str, str]:
    """Every text field of the form, trimmed (the review form's names are made per row)."""
    form = await request.form()
    return {name: value.strip()[:5000] for name, value in form.multi_items() if isinstance(value, str) and name != "csrf_token"}


@router.get("/holder/reviews")
def reviews_page(request: Request, budget: str | None = None, who: Principal = Depends(HOLDER_PAGES)) -> Response:
    holder_id = holder_of(who)
    budget_id = whole_id(budget)
    with database(request).read() as session:
        if budget_id is not None:
            require_budget(session, who, budget_id)
        due = [r for r in reviews_due(session, as_of=today_in_england(), holder_id=holder_id, budget_id=budget_id, include_upcoming_days=UPCOMING_DAYS)]
        latest = (
            select(QualityReview.budget_id, QualityReview.quarter, func.max(QualityReview.revision).label("revision"))
            .join(Budget, Budget.id == QualityReview.budget_id)
            .where(Budget.holder_id == holder_id, *([QualityReview.budget_id == budget_id] if budget_id else []))
            .group_by(QualityReview.budget_id, QualityReview.quarter)
            .subquery()
        )
        recorded = list(session.scalars(
            select(QualityReview).join(latest, (latest.c.budget_id == QualityReview.budget_id) & (latest.c.quarter == QualityReview.quarter)
                                       & (latest.c.revision == QualityReview.revision))
            .order_by(QualityReview.quarter.desc(), QualityReview.held_on.desc()).limit(RECORDED_SHOWN)
        ))  # fmt: skip
        names = budget_names(session, holder_id)
    return page(
        request, "holder/reviews.html", title="Reviews", overdue=[r for r in due if r.is_overdue], due=[r for r in due if not r.is_overdue],
        recorded=recorded, names=names, budget_id=budget_id, kind_words=KIND_WORDS, upcoming_days=UPCOMING_DAYS,
        formats=[f.value for f in DOCUMENT_FORMATS],
    )  # fmt: skip


def _quarter_of(budget: Budget, text: str) -> Quarter:
    """The quarter, if the budget's plan period overlaps it (else there is no such page)."""
    quarter = parse_quarter(text)
    if quarter.ends_on < budget.period_start or quarter.starts_on > budget.period_end:
        raise NotFound(f"{budget.reference} has no review for {quarter.label}", code="quality_review_not_found")
    return quarter


def _form(session: Session, budget: Budget, quarter: Quarter) -> tuple[ReviewForm | None, int | None]:
    """The questions for the quarter (None when no plan was agreed to review against)."""
    plan = agreed_version_on(session, budget.id, min(quarter.ends_on, budget.period_end))
    if plan is None:
        return None, None
    outcomes = list(session.scalars(select(PlanOutcome).where(PlanOutcome.plan_version_id == plan.id).order_by(PlanOutcome.position)))
    return ReviewForm(outcomes, open_actions_before(session, budget.id, quarter)), plan.version


def _review_page(request: Request, who: Principal, budget_id: int, quarter_text: str, *, values: dict[str, str] | None = None,
                 errors: list | None = None, recorded: bool = False, status_code: int = 200) -> Response:  # fmt: skip
    with database(request).read() as session:
        require_budget(session, who, budget_id)
        budget = get_budget(session, budget_id)
        quarter = _quarter_of(budget, quarter_text)
        form, plan_version = _form(session, budget, quarter)
        existing = quality_review_of(session, budget_id, quarter.label)
        name = budget_names(session, budget.holder_id)[budget_id]
    if form is not None:
        form = filled_from(form, existing)
        if values is not None:
            form.values = values
            form.new_rows = _action_rows(values)
    return page(
        request, "holder/review_form.html", title=("Error: " if errors else "") + f"Quarterly quality review of {budget.reference}, {quarter.label}", budget=budget, name=name,
        quarter=quarter, quarter_words=quarter_words(quarter), form=form, plan_version=plan_version, existing=existing, errors=errors or [],
        recorded=recorded, formats=[f.value for f in DOCUMENT_FORMATS], rating_words=RATING_WORDS, carried_words=CARRIED_WORDS,
        decision_words=DECISION_WORDS, attendee_rows=ATTENDEES, status_code=status_code,
    )  # fmt: skip


def _action_rows(values: dict[str, str]) -> int:
    given = whole_id(values.get("action_rows"))
    return max(NEW_ACTIONS, min(given or NEW_ACTIONS, 50))


@router.get("/holder/budgets/{budget_id}/reviews/{quarter}")
def review_form(request: Request, budget_id: int = BudgetId, quarter: str = QuarterText, recorded: bool = False,
                who: Principal = Depends(HOLDER_PAGES)) -> Response:  # fmt: skip
    return _review_page(request, who, budget_id, quarter, recorded=recorded)


@router.post("/holder/budgets/{budget_id}/reviews/{quarter}")
def record_review(request: Request, budget_id: int = BudgetId, quarter: str = QuarterText, who: Principal = Depends(HOLDER_PAGES),
                  values: dict[str, str] = Depends(posted)) -> Response:  # fmt: skip
    today = today_in_england()
    with database(request).read() as session:
        require_budget(session, who, budget_id)
        budget = get_budget(session, budget_id)
        period = _quarter_of(budget, quarter)
        form, _ = _form(session, budget, period)
    if form is None:
        return _review_page(request, who, budget_id, quarter, values=values, errors=[("held-day", "There was no agreed plan to review")], status_code=409)
    form.values, form.new_rows = values, _action_rows(values)
    spec, errors = read_review(form, today, period.starts_on)
    if spec is None:
        return _review_page(request, who, budget_id, quarter, values=values, errors=errors, status_code=422)
    try:
        with database(request).write() as session:
            record_quality_review(session, budget_id, period.label, spec, recorded_by=who.signature, today=today)
            params = ReportParams(budget_id=budget_id, period=quarter_period(period))
            if kept_version(session, REPORT, params) is not None:
                generate(session, REPORT, params, now=datetime.now(ENGLAND), trigger=Trigger.ON_DEMAND, generated_by=who.signature)
    except NotFound:
        raise
    except LedgerError as refused:
        return _review_page(request, who, budget_id, quarter, values=values, errors=ledger_error(form, refused), status_code=refused.status_code)
    return RedirectResponse(f"/holder/budgets/{budget_id}/reviews/{period.label}?recorded=true", status_code=303)


@router.get("/holder/budgets/{budget_id}/reviews/{quarter}/document.{format}")
def review_document(request: Request, format: Format, budget_id: int = BudgetId, quarter: str = QuarterText,
                    who: Principal = Depends(HOLDER_PAGES)) -> Response:  # fmt: skip
    if format not in DOCUMENT_FORMATS:
        raise NotFound("there is no such file", code="not_found")
    with database(request).read() as session:
        require_budget(session, who, budget_id)
        period = _quarter_of(get_budget(session, budget_id), quarter)
        params = ReportParams(budget_id=budget_id, period=quarter_period(period))
        row = kept_version(session, REPORT, params)
        rendered = render_kept(row, format) if row is not None else render(make_document(session, REPORT, params, now=datetime.now(ENGLAND)), format)
    disposition = "inline" if format in (Format.HTML, Format.PDF) else "attachment"
    return Response(
        rendered.content, media_type=rendered.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{rendered.file_name}"', "Cache-Control": "no-store",
                 "X-Report-Version": str(row.version) if row is not None else "live"},
    )  # fmt: skip
