"""Checking a payable's lines before it is approved (``ledger.money_out.payables``; payroll runs and
pooled costs approve through it too).

A line is what one budget bears of a payable, in one category. :func:`resolve_lines` checks
every line against the database in a few queries, whatever the number of lines, and returns
every problem found; :func:`normalised` is how suppliers and invoice numbers are compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.core.accounts import budget_account_code
from ledger.core.entries import POSTINGS_MAX
from ledger.core.money import AMOUNT_PENCE_MAX, format_gbp
from ledger.core.vocabulary import TRANSITION_CATEGORY, AccountKind, BudgetStatus
from ledger.store.tables import Account, Budget, Category

DESCRIPTION_LENGTH_MAX = 500
LINES_MAX = POSTINGS_MAX // 2
"""Each (budget, category) is a pair of postings in one entry, and an entry holds at most
``POSTINGS_MAX`` postings."""
PROBLEMS_MAX = 50
REFERENCE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")


@dataclass(frozen=True, slots=True)
class LineSpec:
    """What one budget bears of a payable. The payroll fields are for a payroll run's lines."""

    budget_reference: str
    category_code: str
    amount_pence: int
    description: str | None = None
    line_no: int | None = None
    """The line's number; a payroll run passes the CSV line, others leave it to be 1, 2, …"""
    worker: str | None = None
    hours_hundredths: int | None = None
    rate_pence: int | None = None
    employer_costs_pence: int | None = None
    pool_id: int | None = None


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A line that cannot be approved: its index in the list, its line number, the field."""

    index: int
    line_no: int
    field: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ResolvedLine:
    spec: LineSpec
    line_no: int
    budget_id: int
    budget_reference: str
    category_id: int
    spend_account_id: int
    payable_account_id: int
    description: str | None


def resolve_lines(
    session: Session, holder_id: int, dated_on: date, lines: Sequence[LineSpec]
) -> tuple[list[ResolvedLine], list[LineProblem]]:
    """Check every line against the database, in a few queries whatever the number of
    lines: budget (exists, this holder's, open), category (exists for the holder), amount,
    and the date against the plan period (a transition cost may come before it). Returns the
    lines resolved, or every problem found (up to ``PROBLEMS_MAX``)."""
    budgets = _budgets_by_reference(session, {line.budget_reference for line in lines})
    categories = _categories_of(session, holder_id)
    accounts = _spend_and_payable_accounts(session, budgets.values(), categories)
    problems: list[LineProblem] = []
    resolved: list[ResolvedLine] = []
    for index, line in enumerate(lines):
        line_no = line.line_no if line.line_no is not None else index + 1

        def problem(field_name: str, code: str, message: str) -> None:
            if len(problems) < PROBLEMS_MAX:
                problems.append(LineProblem(index, line_no, field_name, code, message))  # noqa: B023

        problems_before = len(problems)
        budget = budgets.get(line.budget_reference)
        category = categories.get(line.category_code)
        if budget is None or budget.holder_id != holder_id:
            # Another holder's budget is not named as such: one holder does not learn of another's.
            problem("budget", "budget_unknown", f"there is no budget {line.budget_reference!r} held by this holder")
        elif budget.status != BudgetStatus.OPEN:
            problem("budget", "budget_closed", f"budget {budget.reference} is closed; nothing more is approved against it")
        elif category is not None and not _dated_in_plan(dated_on, budget, line.category_code):
            problem(
                "dated_on",
                "date_outside_plan_period",
                f"{dated_on} is outside the plan period of {budget.reference} ({budget.period_start} to {budget.period_end});"
                " only transition costs may come before it",
            )
        if category is None:
            problem("category", "category_unknown", f"there is no category {line.category_code!r} for this holder")
        amount = line.amount_pence
        if type(amount) is not int or not 0 < amount <= AMOUNT_PENCE_MAX:
            problem("amount", "amount_not_positive", f"the amount must be more than £0.00 and at most {format_gbp(AMOUNT_PENCE_MAX)}")
        about = line.description
        if about is not None and (len(about) > DESCRIPTION_LENGTH_MAX or not about.replace("\n", " ").replace("\t", " ").isprintable()):
            problem("description", "field_invalid", f"the description must be at most {DESCRIPTION_LENGTH_MAX} printable characters")
        if len(problems) > problems_before or budget is None or category is None:
            continue
        spend = accounts.get(budget_account_code(budget.reference, AccountKind.SPEND, category.code))
        payable = accounts.get(budget_account_code(budget.reference, AccountKind.PAYABLE))
        assert spend is not None and payable is not None, f"{budget.reference} lacks its spend or payable account"
        assert category.id is not None and budget.id is not None
        resolved.append(
            ResolvedLine(line, line_no, budget.id, budget.reference, category.id, spend, payable, (about or "").strip() or None)
        )
    if not problems and len({(r.budget_id, r.category_id) for r in resolved}) > LINES_MAX:
        problems.append(
            LineProblem(0, 1, "lines", "lines_too_many",
                        f"a payable covers at most {LINES_MAX} budget and category pairs (one entry); split it in two")
        )  # fmt: skip
    return resolved, problems


def normalised(text: str, max_length: int) -> str:
    """Supplier and number as compared: case folded, spaces trimmed, inner runs of spaces
    made one, so "ACME  Care " and "acme care" are the same supplier. Cut to the column's
    length (case folding can lengthen text: "ß" is "ss")."""
    return " ".join(text.split()).casefold()[:max_length]


def _dated_in_plan(dated_on: date, budget: Budget, category_code: str) -> bool:
    """Transition costs are spent before the person moves, so before the plan period."""
    if category_code == TRANSITION_CATEGORY:
        return dated_on <= budget.period_end
    return budget.period_start <= dated_on <= budget.period_end


def _budgets_by_reference(session: Session, references: set[str]) -> dict[str, Budget]:
    """Only text shaped like a reference is looked up: anything else names no budget, and
    need not reach the database driver (which may refuse to encode it)."""
    found: dict[str, Budget] = {}
    wanted = sorted(r for r in references if isinstance(r, str) and REFERENCE_RE.fullmatch(r))
    for start in range(0, len(wanted), 500):
        query = select(Budget).where(Budget.reference.in_(wanted[start : start + 500]))
        found.update((budget.reference, budget) for budget in session.execute(query).scalars())
    return found


def _categories_of(session: Session, holder_id: int) -> dict[str, Category]:
    query = select(Category).where(or_(Category.holder_id.is_(None), Category.holder_id == holder_id))
    return {category.code: category for category in session.execute(query).scalars()}


def _spend_and_payable_accounts(session: Session, budgets: Iterable[Budget], categories: dict[str, Category]) -> dict[str, int]:
    """Account code → id of every spend and payable account of these budgets, one query per
    500 budgets."""
    budget_ids = sorted(budget.id for budget in budgets if budget.id is not None)
    found: dict[str, int] = {}
    for start in range(0, len(budget_ids), 500):
        query = select(Account.code, Account.id).where(
            Account.budget_id.in_(budget_ids[start : start + 500]), Account.kind.in_([AccountKind.SPEND, AccountKind.PAYABLE])
        )
        found.update(session.execute(query).all())
    return found
