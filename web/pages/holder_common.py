"""What the holder's pages share: the database, the holder a user acts for, the names of its
budgets and statement accounts, and reading what a person typed into a form (three-part
dates as NHS.UK asks for them, amounts in pounds) into values or a message for the error
summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.access.resources import require_visible
from ledger.access.visibility import Principal
from ledger.core import money
from ledger.core.vocabulary import AccountKind
from ledger.errors import NotFound
from ledger.statements.storing import STATEMENT_ACCOUNT_KINDS
from ledger.store.database import Database
from ledger.store.tables import Account, Budget, Person

Errors = list[tuple[str, str]]
"""(field id, message) pairs: what ``macros.error_summary`` lists, each linking to its field."""
ACCOUNT_WORDS = {AccountKind.CARD: "card", AccountKind.CASH: "bank account", AccountKind.UNALLOCATED: "client bank account"}
YEAR_MIN, YEAR_MAX = 2000, 2100


def database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


def holder_of(who: Principal) -> int:
    """The holder a holder's admin or staff acts for (the page gate let only those in)."""
    assert who.holder_id is not None, "a holder's user belongs to a holder"
    return who.holder_id


@dataclass(frozen=True, slots=True)
class BudgetName:
    id: int
    reference: str
    person: str
    status: str


def budget_names(session: Session, holder_id: int) -> dict[int, BudgetName]:
    """The holder's budgets by id: reference, whose it is, open or closed."""
    rows = session.execute(
        select(Budget.id, Budget.reference, Person.name, Person.preferred_name, Budget.status)
        .join(Person, Person.id == Budget.person_id)
        .where(Budget.holder_id == holder_id)
        .order_by(Budget.reference)
    )
    return {row.id: BudgetName(row.id, row.reference, row.preferred_name or row.name, row.status) for row in rows}


@dataclass(frozen=True, slots=True)
class StatementAccount:
    """An account statements are imported into, named the way a person says it."""

    id: int
    code: str
    kind: str
    budget_id: int | None
    reference: str | None

    @property
    def label(self) -> str:
        words = ACCOUNT_WORDS.get(AccountKind(self.kind), self.kind)
        return f"{self.reference} {words}" if self.reference else words.capitalize()


def statement_accounts(session: Session, holder_id: int, *, budget_id: int | None = None) -> list[StatementAccount]:
    """The holder's client bank account first, then each budget's card and bank account."""
    query = (
        select(Account.id, Account.code, Account.kind, Account.budget_id, Budget.reference)
        .outerjoin(Budget, Budget.id == Account.budget_id)
        .where(Account.holder_id == holder_id, Account.kind.in_(list(STATEMENT_ACCOUNT_KINDS)))
    )
    if budget_id is not None:
        query = query.where(Account.budget_id == budget_id)
    found = [StatementAccount(row.id, row.code, row.kind, row.budget_id, row.reference) for row in session.execute(query)]
    order = {AccountKind.UNALLOCATED: 0, AccountKind.CARD: 1, AccountKind.CASH: 2}
    return sorted(found, key=lambda a: (a.reference is not None, a.reference or "", order.get(AccountKind(a.kind), 3)))


def statement_account_of(session: Session, who: Principal, account_id: int) -> StatementAccount:
    """One of the signed-in holder's statement accounts; anything else (another holder's, or
    an account statements do not go into) is "not found"."""
    require_visible(session, who, "account_id", account_id)
    for account in statement_accounts_by_id(session, holder_of(who), [account_id]).values():
        return account
    raise NotFound(f"there is no account {account_id}", code="account_not_found")


def statement_accounts_by_id(session: Session, holder_id: int, account_ids: list[int]) -> dict[int, StatementAccount]:
    wanted = set(account_ids)
    return {a.id: a for a in statement_accounts(session, holder_id) if a.id in wanted}


# --- what a person typed -------------------------------------------------------------------


def form_text(form: Any, name: str, *, limit: int = 4000) -> str:
    """A text field, trimmed (a file or a missing field reads as empty)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def three_part_date(values: dict[str, str], prefix: str, words: str, errors: Errors, *, required: bool = True) -> date | None:
    """The date typed into ``{prefix}-day``, ``-month`` and ``-year``; a message in ``errors``
    (linked to the first of the three) when it is missing or not a real date."""
    parts = [values.get(f"{prefix}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        if required:
            errors.append((f"{prefix}-day", f"Enter {words}"))
        return None
    missing = [name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value]
    if missing:
        errors.append((f"{prefix}-{missing[0]}", f"{words.capitalize()} must include a {missing[0]}"))
        return None
    if not all(part.isdigit() and len(part) <= 4 for part in parts):
        errors.append((f"{prefix}-day", f"{words.capitalize()} must be a real date, written in numbers"))
        return None
    day, month, year = (int(part) for part in parts)
    if not YEAR_MIN <= year <= YEAR_MAX:
        errors.append((f"{prefix}-year", f"{words.capitalize()} must have a year between {YEAR_MIN} and {YEAR_MAX}"))
        return None
    try:
        return date(year, month, day)
    except ValueError:
        errors.append((f"{prefix}-day", f"{words.capitalize()} must be a real date"))
        return None


def date_parts(day: date | None) -> dict[str, str]:
    return {} if day is None else {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


def pounds(text: str, field: str, words: str, errors: Errors, *, required: bool = True) -> int | None:
    """An amount in pounds ("1,234.50", "£12") as pence, or a message in ``errors``."""
    if not text.strip():
        if required:
            errors.append((field, f"Enter {words}"))
        return None
    try:
        pence = money.to_pence(money.parse_amount(text, field=field), field=field)
    except money.AmountError:
        errors.append((field, f"{words.capitalize()} must be an amount of money, like 125.50"))
        return None
    if pence <= 0:
        errors.append((field, f"{words.capitalize()} must be more than £0.00"))
        return None
    return pence


ID_MAX, BIG_ID_MAX = 2_147_483_647, 9_223_372_036_854_775_807


def whole_id(text: str | None, *, big: bool = False) -> int | None:
    """A record id from a query string or form (``big``: of a 64-bit table: entries, flags,
    statement lines); anything else is None."""
    if text is None or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= (BIG_ID_MAX if big else ID_MAX) else None
