"""The family's balance page, as a view model: one plain page that says how much money there
is for the year and how it was worked out, what is left, what goes on the card next and
when (or what is paid next), the emergency (contingency) money left, what the money was spent
on this month, and who to contact — and nothing else (no other budget, no holder's records).

Every figure is the ledger's: the position as of today (``ledger.position.figures``), the agreed plan
in force, the card schedule (``ledger.loads.runs``), this month's spend postings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import contacts_of, get_budget, parts_of
from ledger.budgets.parties import get_person
from ledger.budgets.plans import agreed_version_on, view
from ledger.core.vocabulary import AccountKind, Holding, ManagementOption
from ledger.loads.runs import budget_schedule
from ledger.money_in.expected_payments import expected_payments
from ledger.position.figures import budget_figures
from ledger.reviews.plan_reviews import review_requests
from ledger.store.tables import Account, Category, Funder, Posting
from reports.formatting import MONTHS, hundredths_text, money_text

CONTACT_WORDS = {"care_coordinator": "Care coordinator", "named_advisor": "Named advisor", "health_contact": "Health contact"}


@dataclass(frozen=True, slots=True)
class PlanLineWords:
    category: str
    plain_category: str
    description: str
    amount_pence: int
    how: str
    """How the amount was worked out, in words: "15 hours a week at £14.50 an hour for 52 weeks"."""


@dataclass(frozen=True, slots=True)
class FunderPart:
    name: str
    amount_pence: int


@dataclass(frozen=True, slots=True)
class NextPayment:
    kind: str
    """``card`` (a load), ``bank`` (money into the bank account), ``notional`` or ``none``."""
    words: str
    on: date | None = None
    amount_pence: int | None = None


@dataclass(frozen=True, slots=True)
class SpentOn:
    category: str
    plain_category: str
    amount_pence: int


@dataclass(frozen=True, slots=True)
class Contact:
    role: str
    name: str
    organisation: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class BalancePage:
    budget_id: int
    reference: str
    first_name: str
    year_starts_on: date
    year_ends_on: date
    total_pence: int
    money_left_pence: int
    spent_pence: int
    emergency_left_pence: int
    emergency_planned_pence: int
    management_fee_pence: int
    plan_lines: list[PlanLineWords]
    funders: list[FunderPart]
    next_payment: NextPayment
    month: str
    """The month whose spending is shown: this month, or last month while this one has none."""
    month_is_current: bool
    spent_this_month: list[SpentOn]
    contacts: list[Contact]
    is_direct_payment: bool
    requests: list[tuple[date, str]] = field(default_factory=list)

    @property
    def spent_this_month_pence(self) -> int:
        return sum(item.amount_pence for item in self.spent_this_month)


def balance_page(session: Session, budget_id: int, *, today: date, now: datetime) -> BalancePage:
    budget = get_budget(session, budget_id)
    person = get_person(session, budget.person_id)
    figures = budget_figures(session, budget, as_of=today)
    plan = agreed_version_on(session, budget.id, min(max(today, budget.period_start), budget.period_end))
    plan_view = view(session, plan) if plan is not None else None
    plains = {code: plain for code, plain in session.execute(select(Category.code, Category.plain_name))}
    ids = [line.category_id for line in plan_view.lines] if plan_view else []
    codes = dict(session.execute(select(Category.id, Category.code).where(Category.id.in_(ids))).all()) if ids else {}
    lines = [
        PlanLineWords(codes[line.category_id], plains.get(codes[line.category_id], codes[line.category_id]), line.description, line.amount_pence, _how(line))
        for line in (plan_view.lines if plan_view else [])
    ]  # fmt: skip
    funders = _funder_parts(session, plan_view) if plan_view else []
    parts = parts_of(session, budget.id)
    return BalancePage(
        budget_id=budget.id, reference=budget.reference, first_name=person.preferred_name or person.name.split()[0],
        year_starts_on=budget.period_start, year_ends_on=budget.period_end, total_pence=plan.total_pence if plan else 0,
        money_left_pence=figures.money_left_pence, spent_pence=figures.spent_pence + figures.fees_pence,
        emergency_left_pence=figures.contingency_left_pence, emergency_planned_pence=figures.contingency_planned_pence,
        management_fee_pence=figures.top_slice_planned_pence, plan_lines=lines, funders=funders,
        next_payment=_next_payment(session, budget.id, parts, now),
        **_month_shown(session, budget.id, today, plains),
        contacts=[Contact(CONTACT_WORDS.get(c.role, c.role.replace("_", " ").capitalize()), c.name, c.organisation, c.phone, c.email) for c in contacts_of(session, budget.id)],
        is_direct_payment=any(p.management_option == ManagementOption.DIRECT_PAYMENT for p in parts),
        requests=[(r.asked_on, r.reason) for r in review_requests(session, budget.id) if r.answered_review_id is None],
    )  # fmt: skip


def _how(line) -> str:  # type: ignore[no-untyped-def]
    if line.weekly_hours_hundredths is not None and line.hourly_rate_pence is not None and line.weeks is not None:
        return f"{hundredths_text(line.weekly_hours_hundredths)} hours a week at {money_text(line.hourly_rate_pence)} an hour for {line.weeks} weeks"
    if line.kind == "one_off":
        return "once" if line.starts_on is None else f"once, from {line.starts_on.day} {MONTHS[line.starts_on.month - 1]} {line.starts_on.year}"
    return "for the year"


def _funder_parts(session: Session, plan_view) -> list[FunderPart]:  # type: ignore[no-untyped-def]
    names = dict(session.execute(select(Funder.id, Funder.name).where(Funder.id.in_([f.funder_id for f in plan_view.funding_lines]))).all())
    parts = []
    for line in plan_view.funding_lines:
        parts.append(FunderPart(names[line.funder_id], line.amount_pence - line.client_contribution_pence))
        if line.client_contribution_pence:
            parts.append(FunderPart("You (your contribution)", line.client_contribution_pence))
    return parts


def _next_payment(session: Session, budget_id: int, parts, now: datetime) -> NextPayment:  # type: ignore[no-untyped-def]
    holdings = {p.holding for p in parts}
    if Holding.PREPAID_CARD in holdings:
        for schedule in budget_schedule(session, budget_id):
            load = schedule.next_load(now)
            if load is not None:
                return NextPayment("card", "The next money goes on your card", load.period.due_on, load.amount_pence)
        return NextPayment("none", "No more money is due to go on your card this year.")
    if holdings & {Holding.BANK_ACCOUNT, Holding.MANAGED_ACCOUNT}:
        coming = [p for p in expected_payments(session, budget_id=budget_id) if p.outstanding_pence > 0 and not p.replaced]
        if coming:
            first = min(coming, key=lambda p: p.due_on)
            return NextPayment("bank", "The next money paid into the account", first.due_on, first.outstanding_pence)
        return NextPayment("none", "No more money is due to be paid in this year.")
    return NextPayment("notional", "The NHS pays for your support directly: no money is paid to you.")


def _month_shown(session: Session, budget_id: int, today: date, plains: dict[str, str]) -> dict[str, object]:
    """This month's spending so far; last month's while nothing is spent yet this month."""
    spent = _spent_in(session, budget_id, today.replace(day=1), today, plains)
    if spent or today.day > 7:
        return {"month": f"{MONTHS[today.month - 1]} {today.year}", "month_is_current": True, "spent_this_month": spent}
    last_day = today.replace(day=1) - timedelta(days=1)
    return {
        "month": f"{MONTHS[last_day.month - 1]} {last_day.year}", "month_is_current": False,
        "spent_this_month": _spent_in(session, budget_id, last_day.replace(day=1), last_day, plains),
    }  # fmt: skip


def _spent_in(session: Session, budget_id: int, first: date, today: date, plains: dict[str, str]) -> list[SpentOn]:
    rows = session.execute(
        select(Account.code, func.sum(Posting.amount_pence))
        .join(Posting, Posting.account_id == Account.id)
        .where(Account.budget_id == budget_id, Account.kind == AccountKind.SPEND, Posting.entry_date.between(first, today))
        .group_by(Account.code)
    )
    spent = []
    for code, total in rows:
        category = code.rsplit(":", 1)[1]
        if int(total):
            spent.append(SpentOn(category, plains.get(category, category), int(total)))
    return sorted(spent, key=lambda s: -s.amount_pence)
