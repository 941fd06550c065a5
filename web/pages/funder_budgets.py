"""The budgets a funder funds: the list (its share of each, filtered by holder and by what
needs attention) and one budget's page — its share of every figure with the whole beside
it, the plan, contingency use, flags and reviews. Every money figure links to the account
whose entries are behind it (``funder_entries``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal, funded_budget_ids, require_budget
from ledger.budgets import plans
from ledger.budgets.budget import get_budget, parts_of
from ledger.core.balances import natural
from ledger.core.vocabulary import AccountKind
from ledger.position.figures import BudgetPosition, FunderPosition, MoneyFigures, SurplusState, budget_position
from ledger.reviews.plan_reviews import reviews_due
from ledger.set_asides.contingency import contingency_uses
from ledger.store.tables import Account, Category, Funder, Holder, Person
from reports.funder_view_reads import BudgetView, Share, budget_views, funder_scope
from reports.funder_views import basis_points, exceptions_first, reasons, sentence
from web.clock import today_in_england
from web.pages.access import FUNDER_PAGES
from web.pages.funder_common import ID_MAX, database, funder_of, month_of, shown_accounts, words
from web.pages.funder_reads import account_balances, flag_query, flag_rows
from web.pages.render import page

router = APIRouter(include_in_schema=False)
LIST_PAGE_SIZE = 100
EXCEPTION_FILTERS = {
    "any": "Needs attention (any reason)", "flags": "Open flags", "surplus": "Surplus held", "review": "Review overdue",
    "unmatched": "Statement lines not matched", "contingency": "Contingency used this month",
}  # fmt: skip
UPCOMING_REVIEW_DAYS = 90


def _matches(view: BudgetView, exception: str | None) -> bool:
    if exception == "any":
        return bool(reasons(view))
    if exception == "flags":
        return view.open_flags > 0
    if exception == "surplus":
        return view.whole.surplus_state != SurplusState.OK
    if exception == "review":
        return view.review is not None and view.review.is_overdue
    if exception == "unmatched":
        return view.unmatched_lines > 0
    if exception == "contingency":
        return view.whole_share.contingency_used_in_period_pence != 0
    return True


@dataclass(frozen=True, slots=True)
class ListRow:
    view: BudgetView
    share: Share
    share_basis_points: int
    why: str


@router.get("/funder/budgets")
def budgets_list(
    request: Request,
    holder: int | None = Query(default=None, ge=1, le=ID_MAX),
    exception: str | None = Query(default=None, max_length=20),
    scope: str = Query(default="current", max_length=10),
    reference: str = Query(default="", max_length=32),
    page_number: int = Query(default=1, ge=1, le=100_000, alias="page"),
    who: Principal = Depends(FUNDER_PAGES),
) -> Response:
    today = today_in_england()
    month = month_of(today)
    exception = exception if exception in EXCEPTION_FILTERS else None
    with database(request).read() as session:
        funder = funder_of(session, who)
        budgets = funder_scope(funder.id, month.first, today) if scope != "all" else funded_budget_ids(funder.id)  # type: ignore[arg-type]
        views = exceptions_first(budget_views(session, budgets, month.first, today, review_day=today, funder_id=funder.id))
    holders = sorted({(view.holder_name, view.holder_id) for view in views})
    wanted = reference.strip().upper()
    chosen = [
        view for view in views
        if (holder is None or view.holder_id == holder) and _matches(view, exception) and (not wanted or wanted in view.reference.upper())
    ]  # fmt: skip
    pages = max(1, -(-len(chosen) // LIST_PAGE_SIZE))
    number = min(page_number, pages)
    rows = []
    for view in chosen[(number - 1) * LIST_PAGE_SIZE : number * LIST_PAGE_SIZE]:
        share = view.shares.get(funder.id, Share())
        rows.append(ListRow(view, share, basis_points(share.allocated_pence, view.whole.allocated_pence), sentence("; ".join(reasons(view)))))
    query = {key: value for key, value in (("holder", holder), ("exception", exception), ("scope", scope if scope == "all" else None), ("reference", reference.strip() or None)) if value}
    link = lambda n: "/funder/budgets?" + urlencode({**query, "page": n})  # noqa: E731
    return page(
        request, "funder/budgets.html", title="Budgets", funder=funder, rows=rows, total=len(chosen), all_count=len(views), holders=holders,
        holder=holder, exception=exception, scope=scope, reference=reference.strip(), filters=EXCEPTION_FILTERS, today=today, month=month,
        previous_href=link(number - 1) if number > 1 else None, next_href=link(number + 1) if number < pages else None, number=number, pages=pages,
        body_class="app-funder-wide-page", **words(),
    )  # fmt: skip


# --- one budget -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    share_pence: int
    whole_pence: int
    account_id: int | None
    note: str = ""


def figures_of(own: MoneyFigures, whole: MoneyFigures, accounts: dict[str, int]) -> list[Figure]:
    """The budget's money, this funder's share beside the whole, each with the account whose
    entries are behind it."""
    rows = [
        Figure("Allocated", own.allocated_pence, whole.allocated_pence, accounts.get("allocation"), "What this funder has allocated to the budget"),
        Figure("Received", own.received_pence, whole.received_pence, accounts.get("receivable"), "Paid to the holder"),
        Figure("Still to come", own.receivable_pence, whole.receivable_pence, accounts.get("receivable"), "Allocated, not yet paid"),
    ]
    if whole.notional_pence:
        rows.append(Figure("Paid directly (notional)", own.notional_pence, whole.notional_pence, accounts.get("receivable"), "Services the funder arranged and paid for itself"))
    rows += [
        Figure("Held funds", own.held_pence, whole.held_pence, accounts.get("cash"), "In the holder's bank account for this budget"),
        Figure("On the card", own.card_pence, whole.card_pence, accounts.get("card")),
        Figure("Committed", own.committed_pence, whole.committed_pence, accounts.get("payable"), "Wages and invoices approved, not yet paid"),
        Figure("Contingency left", own.contingency_left_pence, whole.contingency_left_pence, accounts.get("contingency")),
        Figure("Contingency used", own.contingency_used_pence, whole.contingency_used_pence, accounts.get("contingency")),
        Figure("Spent", own.spent_pence, whole.spent_pence, None, "Every category: see spending by category"),
        Figure("Fees", own.fees_pence, whole.fees_pence, accounts.get("fees")),
        Figure("Top-slice taken", own.top_slice_taken_pence, whole.top_slice_taken_pence, accounts.get("top_slice")),
        Figure("Returned", own.returned_pence, whole.returned_pence, accounts.get("returned")),
        Figure("Money left", own.money_left_pence, whole.money_left_pence, None, "Allocated − spent − fees − top-slice − returned"),
    ]
    return rows


@dataclass(frozen=True, slots=True)
class SpendRow:
    code: str
    name: str
    share_pence: int
    whole_pence: int
    account_id: int | None


def _accounts_by_kind(accounts: list[Account]) -> tuple[dict[str, int], dict[str, int]]:
    """Kind → account id (one per kind but spend), and spend category code → account id."""
    by_kind: dict[str, int] = {}
    spend: dict[str, int] = {}
    for account in accounts:
        assert account.id is not None
        if account.kind == AccountKind.SPEND:
            spend[account.code.rsplit(":", 1)[1]] = account.id
        else:
            by_kind.setdefault(account.kind, account.id)
    return by_kind, spend


def _category_names(session: Session, holder_id: int, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(
        select(Category.code, Category.name, Category.holder_id)
        .where(Category.code.in_(sorted(codes)), or_(Category.holder_id.is_(None), Category.holder_id == holder_id))
        .order_by(Category.holder_id.is_(None))
    )
    names: dict[str, str] = {}
    for code, name, _holder in rows:
        names.setdefault(code, name)  # the holder's own name first
    return names


def _own_share(position: BudgetPosition, funder_id: int) -> FunderPosition | None:
    return next((share for share in position.shares if share.funder_id == funder_id), None)


@router.get("/funder/budgets/{budget_id}")
def budget_page(request: Request, budget_id: int = Path(ge=1, le=ID_MAX), who: Principal = Depends(FUNDER_PAGES)) -> Response:
    today = today_in_england()
    with database(request).read() as session:
        require_budget(session, who, budget_id)
        funder = funder_of(session, who)
        context = _budget_context(session, budget_id, funder, today)
    return page(request, "funder/budget.html", title=f"Budget {context['budget'].reference}", funder=funder, today=today, **context, **words())


def _budget_context(session: Session, budget_id: int, funder: Funder, today: date) -> dict[str, object]:
    budget = get_budget(session, budget_id)
    position = budget_position(session, budget_id)
    own = _own_share(position, funder.id)  # type: ignore[arg-type]
    accounts = shown_accounts(session, budget_id, funder.id)  # type: ignore[arg-type]
    by_kind, spend_accounts = _accounts_by_kind(accounts)
    sums = account_balances(session, [a.id for a in accounts if a.id is not None])
    whole = position.figures
    share_figures = own.figures if own is not None else None
    codes = set(whole.spent_by_category)
    names = _category_names(session, budget.holder_id, codes | set(spend_accounts))
    spending = [
        SpendRow(code, names.get(code, code), share_figures.spent_by_category.get(code, 0) if share_figures else 0, whole.spent_by_category.get(code, 0),
                 spend_accounts.get(code))
        for code in sorted(codes, key=lambda c: names.get(c, c))
    ]  # fmt: skip
    version = plans.agreed_version_on(session, budget_id, today) or plans.latest_agreed(session, budget_id)
    plan = plans.view(session, version) if version is not None else None
    funders = dict(session.execute(select(Funder.id, Funder.name)).all()) if plan is not None else {}
    person = session.get(Person, budget.person_id)
    return {
        "budget": budget,
        "person": person.preferred_name or person.name if person else "",
        "holder": session.get(Holder, budget.holder_id),
        "lead": session.get(Funder, budget.lead_funder_id),
        "parts": parts_of(session, budget_id),
        "position": position,
        "own": own,
        "joint": len([s for s in position.shares if s.figures.allocated_pence > 0]) > 1,
        "share_basis_points": basis_points(own.figures.allocated_pence, whole.allocated_pence) if own else 0,
        "figures": figures_of(share_figures, whole, by_kind) if share_figures else [],
        "spending": spending,
        "accounts": [(a, natural(a.type, sums[a.id])) for a in accounts if a.id in sums],
        "plan": plan,
        "plan_categories": dict(session.execute(select(Category.id, Category.name).where(Category.id.in_([line.category_id for line in plan.lines]))).all()) if plan else {},
        "funder_names": funders,
        "contingency": contingency_uses(session, budget_id),
        "flags": flag_rows(session, flag_query(funded_budget_ids(funder.id), budget_id=budget_id), limit=200),  # type: ignore[arg-type]
        "reviews": reviews_due(session, as_of=today, budget_id=budget_id, include_upcoming_days=UPCOMING_REVIEW_DAYS),
    }
