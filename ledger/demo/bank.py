"""Paying for support from the client bank account, and recording notional costs.

- Payroll: one run a month per holder, covering every budget it employs staff for. The
  wages are approved on the 20th (committed, ``B:payable``) and paid on the last working
  day, each budget a balanced pair in the one entry. Staff employed ahead of a move are paid
  the same way, charged to transition.
- Invoices: approved on the 10th of the month after the service and paid on the 24th; a
  one-off (equipment, insurance, transition) is approved on its day and paid a fortnight
  later.
- Notional costs: the ICB pays the provider; the cost is recorded against the budget's
  receivable from the ICB, monthly in arrears or on the day of a one-off, by the
  notional-cost service (``ledger.money_out.notional.record_notional_cost``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from sqlalchemy.orm import Session

from ledger.budgets import parties
from ledger.budgets.budget import budget_by_reference
from ledger.core.money import format_gbp
from ledger.core.vocabulary import EntryKind
from ledger.demo.book import CREATED_BY, DemoBook, ServiceEntry
from ledger.demo.dates import add_months, day_in_month, month_end, working_day_on_or_before
from ledger.demo.plan_figures import PlannedLine
from ledger.demo.recipes import DuplicateInvoice, PaidBy
from ledger.demo.story import BudgetStory, Priority, Timetable, percent_of
from ledger.money_out.notional import record_notional_cost

PAYROLL_APPROVAL_DAY = 20
INVOICE_APPROVAL_DAY = 10
INVOICE_PAYMENT_DAY = 24
ONE_OFF_PAYMENT_AFTER = timedelta(days=14)
Wages = tuple[BudgetStory, str, int]
"""(budget, spend category, pence) of one line of a payroll run."""
PAY_VARIATION_PERCENT = (95, 100)
"""Hours actually worked, against the plan: a little sickness, never more than planned."""


def schedule_payroll(stories: Sequence[BudgetStory], book: DemoBook, timetable: Timetable) -> None:
    months = sorted({month for story in stories for month in story.months() if story.lines_in(month, PaidBy.PAYROLL)})
    for month in months:
        approved: list[Wages] = []  # filled when approved, paid at the month end
        timetable.at(_payroll_approval_day(month), Priority.APPROVAL, partial(_approve_payroll, stories, book, month, approved))
        timetable.at(working_day_on_or_before(month_end(month)), Priority.PAYMENT_OUT, partial(_pay_payroll, book, month, approved))


def _payroll_approval_day(month: date) -> date:
    return working_day_on_or_before(day_in_month(month, PAYROLL_APPROVAL_DAY))


def _approve_payroll(stories: Sequence[BudgetStory], book: DemoBook, month: date, approved: list[Wages]) -> None:
    for story in stories:
        by_category: dict[str, int] = {}
        for line in story.lines_in(month, PaidBy.PAYROLL):
            worked = percent_of(story.month_share(line, month), story.fill_percent(month))
            pay = percent_of(worked, story.rng.randint(*PAY_VARIATION_PERCENT))
            by_category[line.recipe.category] = by_category.get(line.recipe.category, 0) + pay
        approved += [(story, category, pay) for category, pay in by_category.items() if pay]
    if not approved:
        return
    postings = []
    for story, category, pay in approved:
        postings += [(story.spend(category), pay), (story.payable, -pay)]
    book.post(
        _payroll_approval_day(month), EntryKind.PAYABLE_APPROVED, f"{month:%B %Y} payroll approved: {_whose(approved)}",
        f"demo:payroll-approved:{book.holder_code}:{month:%Y-%m}", postings,
    )  # fmt: skip


def _pay_payroll(book: DemoBook, month: date, approved: list[Wages]) -> None:
    if not approved:
        return
    per_budget: dict[str, tuple[BudgetStory, int]] = {}
    for story, _, pay in approved:
        per_budget[story.reference] = (story, per_budget.get(story.reference, (story, 0))[1] + pay)
    postings = []
    for story, pay in per_budget.values():
        postings += [(story.payable, pay), (story.cash, -pay)]
    total = format_gbp(sum(pay for _, pay in per_budget.values()))
    book.post(
        working_day_on_or_before(month_end(month)), EntryKind.PAYABLE_PAID,
        f"{month:%B %Y} payroll paid from the client account: {total} ({_whose(approved)})",
        f"demo:payroll-paid:{book.holder_code}:{month:%Y-%m}", postings,
    )  # fmt: skip


def _whose(approved: list[Wages]) -> str:
    references = list(dict.fromkeys(story.reference for story, _, _ in approved))
    if len(references) == 1:
        return f"{approved[0][0].recipe.person.first_name}'s staff ({references[0]})"
    return f"staff of {len(references)} budgets ({', '.join(references)})"


def schedule_invoices(story: BudgetStory) -> None:
    for month in story.months():
        for line in story.lines_in(month, PaidBy.INVOICE):
            if line.starts_on != line.ends_on:
                amount = percent_of(story.month_share(line, month), story.behaviour.invoice_percent)
                _schedule_monthly_invoice(story, line, month, amount)
    for figures in story.figures:
        for line in figures.lines:
            if line.paid_by == PaidBy.INVOICE and line.starts_on == line.ends_on and story.figures_on(line.starts_on) is figures:
                _schedule_invoice(story, line, line.starts_on, line.starts_on + ONE_OFF_PAYMENT_AFTER, line.amount_pence,
                                  f"one-off:{line.starts_on.isoformat()}:{line.position}", line.recipe.description)  # fmt: skip


def _schedule_monthly_invoice(story: BudgetStory, line: PlannedLine, month: date, amount: int) -> None:
    following = add_months(month, 1)
    approve_on = day_in_month(following, INVOICE_APPROVAL_DAY)
    words = f"{line.recipe.description}, {month:%B %Y}"
    key_part = f"{line.position}:{month:%Y-%m}"
    _schedule_invoice(story, line, approve_on, day_in_month(following, INVOICE_PAYMENT_DAY), amount, key_part, words)
    for duplicate in story.incidents(DuplicateInvoice):
        assert isinstance(duplicate, DuplicateInvoice)
        if (duplicate.month, duplicate.line_position) == (month, line.position):
            _schedule_duplicate(story, line, working_day_on_or_before(approve_on), amount, key_part, words, duplicate.days_later)


def _schedule_invoice(
    story: BudgetStory, line: PlannedLine, approve_on: date, pay_on: date, amount: int, key_part: str, words: str
) -> None:
    if not amount:
        return
    supplier, spend = line.recipe.supplier or "supplier", story.spend(line.recipe.category)
    approve_day, pay_day = working_day_on_or_before(approve_on), working_day_on_or_before(pay_on)
    story.post_on(
        approve_day, Priority.APPROVAL, EntryKind.PAYABLE_APPROVED, f"Invoice from {supplier} approved: {words} ({story.reference})",
        f"demo:invoice-approved:{story.reference}:{key_part}", [(spend, amount), (story.payable, -amount)],
    )  # fmt: skip
    story.post_on(
        pay_day, Priority.PAYMENT_OUT, EntryKind.PAYABLE_PAID, f"Invoice from {supplier} paid by BACS: {words} ({story.reference})",
        f"demo:invoice-paid:{story.reference}:{key_part}", [(story.payable, amount), (story.cash, -amount)],
    )  # fmt: skip


def _schedule_duplicate(story: BudgetStory, line: PlannedLine, day: date, amount: int, key_part: str, words: str, days_later: int) -> None:
    """The same invoice approved a second time, and reversed when someone notices."""
    key = f"demo:invoice-approved:{story.reference}:{key_part}:entered-twice"
    story.post_on(
        day, Priority.APPROVAL, EntryKind.PAYABLE_APPROVED, f"Invoice from {line.recipe.supplier} approved: {words} ({story.reference})",
        key, [(story.spend(line.recipe.category), amount), (story.payable, -amount)],
    )  # fmt: skip
    noticed = working_day_on_or_before(day + timedelta(days=days_later))
    reason = f"Reversal: the {line.recipe.supplier} invoice for {words} was approved twice; this removes the duplicate"
    story.timetable.at(noticed, Priority.CORRECTION, partial(story.book.reverse, noticed, key, f"{key}:reversal", reason))


def schedule_notional_costs(story: BudgetStory) -> None:
    for month in story.months():
        for line in story.lines_in(month, PaidBy.NOTIONAL):
            if line.starts_on != line.ends_on:
                amount = percent_of(story.month_share(line, month), story.behaviour.invoice_percent)
                day = working_day_on_or_before(day_in_month(add_months(month, 1), INVOICE_APPROVAL_DAY))
                _schedule_notional(story, line, day, amount, f"{line.recipe.description}, {month:%B %Y}", f"{line.position}:{month:%Y-%m}")
    for figures in story.figures:
        for line in figures.lines:
            if line.paid_by == PaidBy.NOTIONAL and line.starts_on == line.ends_on and story.figures_on(line.starts_on) is figures:
                day = working_day_on_or_before(line.starts_on)
                _schedule_notional(story, line, day, line.amount_pence, line.recipe.description, f"one-off:{line.position}")


def _schedule_notional(story: BudgetStory, line: PlannedLine, day: date, amount: int, words: str, key_part: str) -> None:
    """The ICB's cost, recorded by the notional-cost service against the lead funder's
    receivable, on a day inside the plan period (the service refuses any other)."""
    if not amount:
        return
    day = min(max(day, story.recipe.period_start), story.recipe.period_end)
    postings = ((story.spend(line.recipe.category), amount), (story.receivable(story.recipe.lead_funder), -amount))
    cost = _NotionalCost(
        story.reference, story.recipe.lead_funder, line.recipe.category, amount, day, line.recipe.supplier or "NHS-commissioned provider",
        f"{story.reference}:{key_part}", f"{words} ({story.reference})",
    )  # fmt: skip
    entry = ServiceEntry(f"the notional cost {cost.reference}", postings)
    story.timetable.at(day, Priority.APPROVAL, partial(story.book.act, partial(_record_notional, cost), entries=[entry]))


@dataclass(frozen=True)
class _NotionalCost:
    budget: str
    funder: str
    category: str
    amount_pence: int
    on: date
    supplier: str
    reference: str
    description: str


def _record_notional(cost: _NotionalCost, session: Session) -> None:
    recorded = record_notional_cost(
        session, budget_by_reference(session, cost.budget).id, funder_id=parties.funder_by_code(session, cost.funder).id,
        category_code=cost.category, amount_pence=cost.amount_pence, on=cost.on, supplier=cost.supplier, reference=cost.reference,
        description=cost.description, recorded_by=CREATED_BY, today=cost.on,
    )  # fmt: skip
    assert recorded.created, cost.reference
