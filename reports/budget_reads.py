"""What the budget reports read from the ledger, for one budget and one window of days:
each account's balance before, movement in and balance at the end of the window; the
window's postings by kind of entry; the day-by-day balances of the money held; card loads,
wages and invoices paid, contingency used, flags.

Each read is one query over the posting index (account, date), so a report costs a handful
of queries whatever the size of the journal. Balances are in each account's natural sign
(assets and expenses debit-positive; liabilities and funds credit-positive).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ledger.core.balances import natural
from ledger.core.vocabulary import AccountKind
from ledger.store.tables import Account, BudgetPart, Category, Drawdown, JournalEntry, Posting
from ledger.store.tables.budget_money import ContingencyUse
from ledger.store.tables.flags import Flag
from ledger.store.tables.payables import Payable, PayableLine


@dataclass(frozen=True, slots=True)
class AccountWindow:
    account_id: int
    code: str
    kind: str
    type: str
    funder_id: int | None
    is_person_contribution: bool
    category_id: int | None
    opening_pence: int
    """Balance at the end of the day before the window."""
    moved_pence: int
    closing_pence: int
    """Balance at the end of the window's last day."""

    @property
    def category_code(self) -> str | None:
        return self.code.rsplit(":", 1)[1] if self.kind == AccountKind.SPEND else None


def account_windows(session: Session, budget_id: int, starts_on: date, ends_on: date) -> list[AccountWindow]:
    posting = Posting.__table__
    before = func.coalesce(func.sum(case((posting.c.entry_date < starts_on, posting.c.amount_pence), else_=0)), 0)
    inside = func.coalesce(func.sum(case((posting.c.entry_date >= starts_on, posting.c.amount_pence), else_=0)), 0)
    sums = select(posting.c.account_id, before.label("before"), inside.label("inside")).where(
        posting.c.account_id.in_(select(Account.id).where(Account.budget_id == budget_id)), posting.c.entry_date <= ends_on
    ).group_by(posting.c.account_id).subquery()
    rows = session.execute(
        select(Account, sums.c.before, sums.c.inside)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.budget_id == budget_id)
        .order_by(Account.id)
    ).all()
    windows = []
    for account, before_sum, inside_sum in rows:
        opening = natural(account.type, int(before_sum or 0))
        moved = natural(account.type, int(inside_sum or 0))
        windows.append(
            AccountWindow(
                account.id, account.code, account.kind, account.type, account.funder_id, account.is_person_contribution,
                account.category_id, opening, moved, opening + moved,
            )
        )
    return windows


def movements_by_entry_kind(session: Session, budget_id: int, starts_on: date, ends_on: date) -> dict[tuple[str, str], int]:
    """(account kind, entry kind) → the window's postings in the account's natural sign. A
    reversal counts as the kind of entry it reverses, so a reversed load is no load."""
    posting, entry, account = Posting.__table__, JournalEntry.__table__, Account.__table__
    original = entry.alias("original")
    kind = func.coalesce(original.c.kind, entry.c.kind)
    rows = session.execute(
        select(account.c.kind, account.c.type, kind, func.sum(posting.c.amount_pence))
        .join(account, account.c.id == posting.c.account_id)
        .join(entry, entry.c.id == posting.c.entry_id)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(account.c.budget_id == budget_id, posting.c.entry_date.between(starts_on, ends_on))
        .group_by(account.c.kind, account.c.type, kind)
    )
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for account_kind, account_type, entry_kind, total in rows:
        sums[(account_kind, entry_kind)] += natural(account_type, int(total))
    return dict(sums)


HELD_KINDS = (AccountKind.CASH, AccountKind.CARD, AccountKind.CONTINGENCY, AccountKind.PAYABLE)


def daily_balances(session: Session, windows: list[AccountWindow], starts_on: date, ends_on: date) -> list[tuple[date, dict[str, int]]]:
    """Each day's closing balance of the held money (cash, card, contingency) and of what
    is committed (payable), from the window's opening balances and its postings."""
    by_id = {w.account_id: w for w in windows if w.kind in HELD_KINDS}
    balance: dict[str, int] = defaultdict(int)
    for window in by_id.values():
        balance[window.kind] += window.opening_pence
    changes: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if by_id:
        posting = Posting.__table__
        rows = session.execute(
            select(posting.c.entry_date, posting.c.account_id, func.sum(posting.c.amount_pence))
            .where(posting.c.account_id.in_(list(by_id)), posting.c.entry_date.between(starts_on, ends_on))
            .group_by(posting.c.entry_date, posting.c.account_id)
        )
        for day, account_id, total in rows:
            window = by_id[account_id]
            changes[day][window.kind] += natural(window.type, int(total))
    series = []
    day = starts_on
    while day <= ends_on:
        for kind, change in changes.get(day, {}).items():
            balance[kind] += change
        series.append((day, {kind: balance[kind] for kind in HELD_KINDS}))
        day += timedelta(days=1)
    return series


@dataclass(frozen=True, slots=True)
class Loads:
    count: int
    total_pence: int
    first_on: date | None
    last_on: date | None


def card_loads(session: Session, budget_id: int, starts_on: date, ends_on: date) -> Loads:
    row = session.execute(
        select(func.count(Drawdown.id), func.coalesce(func.sum(Drawdown.amount_pence), 0), func.min(JournalEntry.entry_date), func.max(JournalEntry.entry_date))
        .join(BudgetPart, BudgetPart.id == Drawdown.budget_part_id)
        .join(JournalEntry, JournalEntry.id == Drawdown.entry_id)
        .where(BudgetPart.budget_id == budget_id, JournalEntry.entry_date.between(starts_on, ends_on))
    ).one()
    return Loads(int(row[0]), int(row[1]), row[2], row[3])


@dataclass(frozen=True, slots=True)
class PaidLine:
    payable_id: int
    kind: str
    supplier: str
    number: str
    paid_on: date
    category_code: str
    category_name: str
    amount_pence: int
    description: str | None
    worker: str | None
    hours_hundredths: int | None
    rate_pence: int | None


def payables_paid(session: Session, budget_id: int, starts_on: date, ends_on: date) -> list[PaidLine]:
    """This budget's lines of the wages, payroll runs, invoices and pooled costs paid in the window."""
    rows = session.execute(
        select(Payable, PayableLine, Category.code, Category.name)
        .join(PayableLine, PayableLine.payable_id == Payable.id)
        .join(Category, Category.id == PayableLine.category_id)
        .where(PayableLine.budget_id == budget_id, Payable.status == "paid", Payable.paid_on.between(starts_on, ends_on))
        .order_by(Payable.paid_on, Payable.id, PayableLine.line_no)
    ).all()
    return [
        PaidLine(
            payable.id, payable.kind, payable.supplier, payable.number, payable.paid_on, code, name, line.amount_pence,
            line.description or payable.description, line.worker, line.hours_hundredths, line.rate_pence,
        )
        for payable, line, code, name in rows
    ]


def contingency_uses(session: Session, budget_id: int, starts_on: date, ends_on: date) -> list[ContingencyUse]:
    return list(
        session.scalars(
            select(ContingencyUse)
            .where(ContingencyUse.budget_id == budget_id, ContingencyUse.used_on.between(starts_on, ends_on))
            .order_by(ContingencyUse.used_on, ContingencyUse.id)
        )
    )


CLOSED_FLAG_STATES = ("accepted", "reallocated", "recovered", "closed")


def flags_for_window(session: Session, budget_id: int, starts_on: date, ends_on: date) -> list[Flag]:
    """Flags whose cause fell in the window, and earlier ones still not settled."""
    return list(
        session.scalars(
            select(Flag)
            .where(
                Flag.budget_id == budget_id,
                Flag.occurred_on <= ends_on,
                (Flag.occurred_on >= starts_on) | Flag.state.not_in(CLOSED_FLAG_STATES),
            )
            .order_by(Flag.occurred_on, Flag.id)
        )
    )


def category_names(session: Session, holder_id: int) -> dict[str, tuple[str, str]]:
    """Category code → (name, plain name), the holder's own over the standard list."""
    rows = session.execute(
        select(Category.code, Category.name, Category.plain_name, Category.holder_id)
        .where((Category.holder_id.is_(None)) | (Category.holder_id == holder_id))
        .order_by(Category.holder_id.is_not(None))
    )
    return {code: (name, plain) for code, name, plain, _holder in rows}


__all__ = [
    "AccountWindow", "CLOSED_FLAG_STATES", "HELD_KINDS", "Loads", "PaidLine", "account_windows", "card_loads",
    "category_names", "contingency_uses", "daily_balances", "flags_for_window", "movements_by_entry_kind", "payables_paid",
]  # fmt: skip
