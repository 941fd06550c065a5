"""What the funder's pages share: the words for flags and their states, which accounts of a
funded budget the auditor is shown, reading dates and amounts typed into a form, and months.

A funder's auditor sees the budgets its funder funds (``ledger.access.visibility``). Of such a budget's
accounts it is shown the shared ones (cash, card, spend, …: its share of them is pro rata
to what it allocated) and its own funder's (its receivable, allocation and returned), never
another funder's own accounts nor the person's client contribution: those are another
party's figures, not a share of this funder's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.access.entries import AccountFacts, shown_account
from ledger.access.visibility import Principal, funded_budget_ids
from ledger.core.money import AmountError, parse_amount, to_pence
from ledger.core.vocabulary import ENTRY_KIND_WORDS
from ledger.errors import InvalidInput, NotFound
from ledger.store.database import Database
from ledger.store.tables import Account, Funder
from reports.formatting import day_text

T = TypeVar("T")
PAGE_SIZE = 50
ID_MAX = 2_147_483_647
BIG_ID_MAX = 9_223_372_036_854_775_807

CODE_WORDS = {
    "EXCLUDED_MCC": "Excluded merchant category", "EXCLUDED_MERCHANT": "Excluded shop or company", "CHECK_VENUE": "Venue to check",
    "CASH_WITHDRAWAL": "Cash taken out", "LARGE_SPEND": "Large spend without a receipt", "DUPLICATE_SPEND": "Possible duplicate",
    "OUT_OF_PLAN_CATEGORY": "Not in the plan", "OVER_PLAN_LINE": "More than the plan line", "UNCATEGORISED": "Not categorised",
    "CONTINGENCY_WITHOUT_APPROVAL": "Contingency used without approval", "SURPLUS_HELD": "Surplus held",
    "BALANCE_MISMATCH": "Balances differ", "UNREVIEWED": "Review overdue",
}  # fmt: skip
STATE_WORDS = {
    "open": "Open", "explained": "Explained: to decide", "challenged": "Challenged", "accepted": "Accepted",
    "reallocated": "Reallocated", "recovery_requested": "Repayment required", "recovered": "Recovered", "closed": "Closed",
}  # fmt: skip
STATE_COLOURS = {
    "open": "red", "explained": "yellow", "challenged": "orange", "accepted": "green", "reallocated": "blue",
    "recovery_requested": "purple", "recovered": "green", "closed": "grey",
}  # fmt: skip
STATE_ORDER = ("explained", "open", "challenged", "recovery_requested", "accepted", "reallocated", "recovered", "closed")
"""The auditor's list: what waits for its decision first, then what is still open."""
WORKING_STATES = ("explained", "open", "challenged")
ACTION_WORDS = {
    "raised": "Raised", "explained": "Explained", "accepted": "Accepted", "challenged": "Challenged", "reallocated": "Reallocated",
    "recovery_requested": "Repayment required", "reconsideration_asked": "Asked to reconsider", "recovered": "Recovered",
    "closed": "Closed", "closed_by_system": "Closed (cause went away)",
}  # fmt: skip
KIND_WORDS = ENTRY_KIND_WORDS
REVIEW_WORDS = {"plan": "Plan review", "quarterly_quality": "Quarterly quality review", "significant_change": "Review after a significant change",
                "requested": "Review asked for"}  # fmt: skip


def database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


def funder_of(session: Session, who: Principal) -> Funder:
    assert who.funder_id is not None, "a funder's auditor has a funder"
    funder = session.get(Funder, who.funder_id)
    if funder is None:
        raise NotFound(f"there is no funder {who.funder_id}", code="funder_not_found")
    return funder


def funded_ids(session: Session, who: Principal) -> set[int]:
    assert who.funder_id is not None
    return set(session.scalars(funded_budget_ids(who.funder_id)))


def account_is_shown(account: Account, funder_id: int, funded: set[int] | None = None) -> bool:
    """A funded budget's shared account, or this funder's own (``ledger.access.entries`` decides)."""
    if account.budget_id is None or (funded is not None and account.budget_id not in funded):
        return False
    facts = AccountFacts(account.budget_id, account.funder_id, bool(account.is_person_contribution))
    return shown_account(facts, visible={account.budget_id}, auditor_of=funder_id)


def require_shown_account(session: Session, who: Principal, budget_id: int, account_id: int) -> Account:
    """The account, if it is one of ``budget_id``'s the auditor is shown; else the 404 of a
    missing account (the budget itself was checked by the caller)."""
    account = session.get(Account, account_id)
    if account is None or account.budget_id != budget_id or not account_is_shown(account, who.funder_id or 0):
        raise NotFound(f"there is no account {account_id}", code="account_not_found")
    return account


def shown_accounts(session: Session, budget_id: int, funder_id: int) -> list[Account]:
    rows = session.scalars(select(Account).where(Account.budget_id == budget_id).order_by(Account.code))
    return [account for account in rows if account_is_shown(account, funder_id)]


# --- typed into forms ---------------------------------------------------------------------------


class FormProblem(Exception):
    """Fields a person filled in wrongly: each field's id on the page and what to do."""

    def __init__(self, field: str, message: str, *, status_code: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status_code = status_code
        self.problems: list[tuple[str, str]] = [(field, message)]

    @classmethod
    def every(cls, problems: list[tuple[str, str]]) -> FormProblem:
        found = cls(*problems[0])
        found.problems = list(problems)
        return found


class FormChecks:
    """Check every field of a form, then report every problem at once (not one at a time)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def take(self, check: Callable[..., T], *args: Any) -> T | None:
        try:
            return check(*args)
        except FormProblem as problem:
            self.problems.extend(problem.problems)
            return None

    def add(self, field: str, message: str) -> None:
        self.problems.append((field, message))

    def raise_any(self) -> None:
        if self.problems:
            raise FormProblem.every(self.problems)


def pence_from_form(text: str, field: str, what: str) -> int:
    if not text.strip():
        raise FormProblem(field, f"Enter {what}")
    try:
        pence = to_pence(parse_amount(text, field=field), field=field)
    except AmountError:
        raise FormProblem(field, f"Enter {what} in pounds and pence, like 45.00") from None
    if pence <= 0:
        raise FormProblem(field, f"Enter {what} of more than £0.00")
    return pence


def date_from_form(day: str, month: str, year: str, field: str, what: str) -> date:
    """A date typed into the three boxes of an NHS.UK date input (ids ``{field}-day`` …)."""
    if not (day.strip() or month.strip() or year.strip()):
        raise FormProblem(f"{field}-day", f"Enter {what}")
    try:
        return date(int(year.strip()), int(month.strip()), int(day.strip()))
    except ValueError:
        raise FormProblem(f"{field}-day", f"{what[0].upper()}{what[1:]} must be a real date, like 31 3 2027") from None


def text_from_form(text: str, field: str, what: str, max_length: int) -> str:
    value = text.strip()
    if not value:
        raise FormProblem(field, f"Enter {what}")
    if len(value) > max_length:
        raise FormProblem(field, f"{what[0].upper()}{what[1:]} must be {max_length:,} characters or fewer")
    return value


def iso_date(text: str | None, field: str) -> date | None:
    """A date in a page's address (``?from=2026-10-01``); None when not given."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2026-10-01", code="date_invalid", field=field) from None


# --- months -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Month:
    first: date

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def last(self) -> date:
        return self.next().first - timedelta(days=1)

    @property
    def words(self) -> str:
        return day_text(self.first).split(" ", 1)[1]

    def next(self) -> Month:
        return Month((self.first + timedelta(days=32)).replace(day=1))

    def previous(self) -> Month:
        return Month((self.first - timedelta(days=1)).replace(day=1))


def month_of(day: date) -> Month:
    return Month(day.replace(day=1))


ACCOUNT_WORDS = {
    "cash": "Held funds", "card": "Card", "contingency": "Contingency", "payable": "Committed (wages and invoices approved)",
    "allocation": "Allocation", "receivable": "Still to come", "spend": "Spend", "fees": "Fees", "top_slice": "Top-slice",
    "returned": "Returned", "unallocated": "Client bank account", "unidentified": "Not yet identified",
}  # fmt: skip


def words() -> dict[str, dict[str, str]]:
    """The words every funder page may use, for its template."""
    return {
        "state_words": STATE_WORDS, "state_colours": STATE_COLOURS, "code_words": CODE_WORDS, "action_words": ACTION_WORDS,
        "kind_words": KIND_WORDS, "review_words": REVIEW_WORDS, "account_words": ACCOUNT_WORDS,
    }  # fmt: skip
