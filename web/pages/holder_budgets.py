"""The holder's budgets: the list (balances, weeks held and the surplus state, where each
statement account's reconciliation stands, open flags and overdue reviews, exceptions as
tags) and one budget's page (plan versions and their agreement, funders and their shares,
the card schedule, contingency, payroll and invoices, its history a page at a time, and
links to its statements, flags, reviews and documents); kept documents to download."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, require_budget
from ledger.budgets.budget import contacts_of, get_budget, parts_of
from ledger.budgets.plans import versions_of, view
from ledger.core.history import budget_history
from ledger.core.vocabulary import AccountKind
from ledger.money_out.payable_views import payables_of
from ledger.position.figures import MoneyFigures, budget_position, holder_positions
from ledger.reviews.plan_reviews import reviews_due
from ledger.reviews.report_documents import documents_visible_to, get_document, list_documents
from ledger.set_asides.contingency import contingency_position, contingency_uses
from ledger.store.tables import Account, Category, Funder, JournalEntry, Person, Posting
from ledger.store.tables.flags import Flag
from ledger.store.tables.quality_reviews import QualityReview
from ledger.store.tables.statements import StatementImport
from reports.generate import render_kept
from reports.render import DOCUMENT_FORMATS, Format
from web.clock import ENGLAND, today_in_england
from web.pages.access import HOLDER_PAGES
from web.pages.holder_accounts import AccountState, account_states
from web.pages.holder_common import BudgetName, budget_names, database, holder_of, statement_accounts
from web.pages.render import page

router = APIRouter(include_in_schema=False)
BudgetId = Path(ge=1, le=2_147_483_647)
TO_EXPLAIN = ("open", "challenged")
"""Flag states that wait for the holder: never explained, or explained and challenged."""
HISTORY_PAGE = 25
NEXT_LOADS = 6
PAYABLES_SHOWN = 12


@dataclass
class BudgetRow:
    name: BudgetName
    figures: MoneyFigures
    accounts: list[AccountState]
    flags_to_explain: int
    reviews_overdue: int
    tags: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_exception(self) -> bool:
        return bool(self.tags) or self.figures.surplus_state != "ok"


def surplus_tag(figures: MoneyFigures) -> tuple[str, str]:
    """The surplus state in words (never colour alone)."""
    thresholds = figures.thresholds
    if figures.surplus_state == "act":
        return f"Over {thresholds.act_weeks_tenths // 10} weeks: act", "red"
    if figures.surplus_state == "warn":
        return f"Over {thresholds.warn_weeks_tenths // 10} weeks", "yellow"
    return "Within limits", "green"


def _flags_to_explain(session: Session, holder_id: int) -> Counter[int | None]:
    rows = session.execute(
        select(Flag.budget_id, func.count()).where(Flag.holder_id == holder_id, Flag.state.in_(TO_EXPLAIN)).group_by(Flag.budget_id)
    )
    return Counter({budget_id: count for budget_id, count in rows})


def budget_rows(session: Session, holder_id: int, today: date) -> tuple[list[BudgetRow], list[AccountState]]:
    """Every budget of the holder with its exceptions, and the holder-wide accounts."""
    names = budget_names(session, holder_id)
    accounts = statement_accounts(session, holder_id)
    states = account_states(session, holder_id, accounts)
    flags = _flags_to_explain(session, holder_id)
    overdue = Counter(r.budget_id for r in reviews_due(session, as_of=today, holder_id=holder_id, include_upcoming_days=0) if r.is_overdue)
    rows = []
    for position in holder_positions(session, holder_id):
        mine = [states[a.id] for a in accounts if a.budget_id == position.budget_id]
        row = BudgetRow(names[position.budget_id], position.figures, mine, flags[position.budget_id], overdue[position.budget_id])
        unmatched = sum(s.unmatched_lines for s in mine)
        if unmatched:
            row.tags.append((f"{unmatched} unmatched line{'s' if unmatched != 1 else ''}", "orange"))
        if row.flags_to_explain:
            row.tags.append((f"{row.flags_to_explain} flag{'s' if row.flags_to_explain != 1 else ''} to explain", "red"))
        if row.reviews_overdue:
            row.tags.append(("Review overdue", "red"))
        rows.append(row)
    holder_wide = [states[a.id] for a in accounts if a.budget_id is None]
    return rows, holder_wide


@router.get("/holder")
def budgets_page(request: Request, show: str = "all", who: Principal = Depends(HOLDER_PAGES)) -> Response:
    holder_id = holder_of(who)
    with database(request).read() as session:
        rows, holder_wide = budget_rows(session, holder_id, today_in_england())
        holder_flags = _flags_to_explain(session, holder_id)[None]
    shown = [row for row in rows if row.is_exception] if show == "exceptions" else rows
    totals = {
        name: sum(getattr(row.figures, name) for row in shown)
        for name in ("held_pence", "card_pence", "committed_pence", "contingency_left_pence", "money_left_pence")
    }
    counts = {
        "surplus": sum(1 for r in rows if r.figures.surplus_state != "ok"),
        "unmatched": sum(1 for state in [*holder_wide, *(s for r in rows for s in r.accounts)] if state.unmatched_lines),
        "flags": sum(r.flags_to_explain for r in rows) + holder_flags,
        "overdue": sum(1 for r in rows if r.reviews_overdue),
    }
    return page(
        request, "holder/budgets.html", title="Budgets", rows=shown, all_count=len(rows), holder_wide=holder_wide, totals=totals,
        counts=counts, show=show, surplus_tag=surplus_tag,
    )  # fmt: skip


# --- one budget ------------------------------------------------------------------------------


def _before(text: str | None) -> tuple[date, int] | None:
    """``2026-10-05.1234``: the history page after that entry."""
    if not text:
        return None
    day, _, entry = text.partition(".")
    try:
        return date.fromisoformat(day), int(entry) if entry.isdigit() and len(entry) <= 18 else 0
    except ValueError:
        return None


def _plan_versions(session: Session, budget_id: int) -> list[dict]:
    versions = [view(session, version) for version in reversed(versions_of(session, budget_id))]
    category_ids = {line.category_id for v in versions for line in v.lines}
    categories = dict(session.execute(select(Category.id, Category.name).where(Category.id.in_(category_ids))).all()) if category_ids else {}
    funder_ids = {line.funder_id for v in versions for line in v.funding_lines}
    funders = dict(session.execute(select(Funder.id, Funder.name).where(Funder.id.in_(funder_ids))).all()) if funder_ids else {}
    return [
        {"view": v, "category": categories, "funder": funders, "lines_total": sum(line.amount_pence for line in v.lines)}
        for v in versions
    ]


def _history(session: Session, budget_id: int, before: tuple[date, int] | None) -> dict:
    found = budget_history(session, budget_id, before=before, limit=HISTORY_PAGE)
    codes = dict(session.execute(select(Account.id, Account.code).where(Account.id.in_(found.account_ids))).all()) if found.account_ids else {}
    entries = [
        {
            "entry": entry,
            "postings": [(codes[p.account_id].split(":", 1)[1], p.amount_pence) for p in entry.postings if p.account_id in found.account_ids],
        }
        for entry in found.entries
    ]
    following = f"{found.next_before[0].isoformat()}.{found.next_before[1]}" if found.next_before else None
    return {"entries": entries, "next": following, "is_first": before is None}


def _committed(session: Session, budget_id: int) -> dict:
    """Wages and invoices approved and paid, from the budget's ``B:payable`` account: the
    latest movements and the totals (whatever posted them: a payable, a payroll run, an entry)."""
    account_id = session.scalar(select(Account.id).where(Account.budget_id == budget_id, Account.kind == AccountKind.PAYABLE))
    if account_id is None:
        return {"movements": [], "approved_pence": 0, "paid_pence": 0}
    movements = session.execute(
        select(Posting.entry_date, Posting.entry_id, JournalEntry.kind, JournalEntry.description, Posting.amount_pence)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == account_id)
        .order_by(Posting.entry_date.desc(), Posting.entry_id.desc())
        .limit(PAYABLES_SHOWN)
    ).all()
    approved, paid = session.execute(
        select(
            func.coalesce(func.sum(case((Posting.amount_pence < 0, -Posting.amount_pence), else_=0)), 0),
            func.coalesce(func.sum(case((Posting.amount_pence > 0, Posting.amount_pence), else_=0)), 0),
        ).where(Posting.account_id == account_id)
    ).one()
    return {"movements": movements, "approved_pence": int(approved), "paid_pence": int(paid)}


def _schedule(position) -> list[dict]:  # type: ignore[no-untyped-def]
    now = datetime.now(ENGLAND)
    parts = []
    for schedule in position.schedule:
        loads = schedule.loads
        following = schedule.next_load(now)
        upcoming = [load for load in loads if load.status == "due" and load.period.due_on >= now.date()][:NEXT_LOADS]
        posted = [load for load in loads if load.status == "posted"]
        parts.append({
            "cadence": schedule.part.terms.cadence.replace("_", " "), "next": following, "upcoming": upcoming,
            "posted_count": len(posted), "posted_pence": sum(load.amount_pence for load in posted),
            "other": Counter(str(load.status) for load in loads if load.status not in ("posted", "due")),
        })  # fmt: skip
    return parts


def _latest_reviews(session: Session, budget_id: int) -> list[QualityReview]:
    """The latest revision of each quarter's review, latest quarter first."""
    found: dict[str, QualityReview] = {}
    query = select(QualityReview).where(QualityReview.budget_id == budget_id).order_by(QualityReview.quarter.desc(), QualityReview.revision.desc())
    for review in session.scalars(query):
        found.setdefault(review.quarter, review)
    return list(found.values())


def budget_view(session: Session, who: Principal, budget_id: int, before: tuple[date, int] | None) -> dict:
    budget = get_budget(session, budget_id)
    person = session.get(Person, budget.person_id)
    position = budget_position(session, budget_id)
    accounts = statement_accounts(session, budget.holder_id, budget_id=budget_id)
    uses = contingency_uses(session, budget_id)
    use_categories = {u.category_id for u in uses if u.category_id is not None}
    flags = Counter(dict(session.execute(select(Flag.state, func.count()).where(Flag.budget_id == budget_id).group_by(Flag.state)).all()))
    return {
        "budget": budget, "person": person, "position": position, "figures": position.figures, "parts": parts_of(session, budget_id),
        "contacts": contacts_of(session, budget_id), "lead_funder": session.get(Funder, budget.lead_funder_id),
        "versions": _plan_versions(session, budget_id), "schedule": _schedule(position),
        "contingency": contingency_position(session, budget_id), "uses": uses,
        "use_category": dict(session.execute(select(Category.id, Category.name).where(Category.id.in_(use_categories))).all()) if use_categories else {},
        "payables": payables_of(session, budget_id=budget_id), "committed": _committed(session, budget_id), "history": _history(session, budget_id, before),
        "accounts": list(account_states(session, budget.holder_id, accounts).values()),
        "imports": session.scalar(select(func.count()).select_from(StatementImport).where(StatementImport.account_id.in_([a.id for a in accounts]))) or 0,
        "flags": flags, "flags_to_explain": sum(flags[s] for s in TO_EXPLAIN),
        "reviews": _latest_reviews(session, budget_id),
        "documents": list_documents(session, budget_id=budget_id, limit=20, visible=documents_visible_to(who)),
        "surplus_tag": surplus_tag(position.figures),
    }  # fmt: skip


@router.get("/holder/budgets/{budget_id}")
def budget_page(request: Request, budget_id: int = BudgetId, before: str | None = None, who: Principal = Depends(HOLDER_PAGES)) -> Response:
    with database(request).read() as session:
        require_budget(session, who, budget_id)
        context = budget_view(session, who, budget_id, _before(before))
    return page(request, "holder/budget.html", title=f"Budget {context['budget'].reference}", formats=[f.value for f in DOCUMENT_FORMATS], **context)


@router.get("/holder/documents/{document_id}.{format}")
def kept_document(request: Request, format: Format, document_id: int = Path(ge=1, le=2_147_483_647), who: Principal = Depends(HOLDER_PAGES)) -> Response:
    """A kept version of a document about the holder's budgets, in any format."""
    if format == Format.ZIP:
        return page(request, "error.html", title="Page not found", heading="Page not found", message="There is no such file.", status_code=404)
    with database(request).read() as session:
        require_visible(session, who, "document_id", document_id)
        rendered = render_kept(get_document(session, document_id), format)
    disposition = "inline" if format in (Format.HTML, Format.PDF) else "attachment"
    return Response(
        rendered.content, media_type=rendered.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{rendered.file_name}"', "Cache-Control": "no-store"},
    )  # fmt: skip

