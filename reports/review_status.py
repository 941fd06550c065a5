"""The review document's flags (raised in the quarter, and earlier ones not yet settled)
and where reconciliation of each of the budget's accounts stands at the quarter's end."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import AccountKind
from ledger.reconcile.status import AccountStatus, account_status
from ledger.store.tables import Account, Budget
from ledger.store.tables.statements import StatementImport
from reports.budget_reads import CLOSED_FLAG_STATES, flags_for_window
from reports.document import Column, Table, ValueKind, table

M, C, D = ValueKind.MONEY, ValueKind.COUNT, ValueKind.DATE


def flag_words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def flags_table(session: Session, budget_id: int, starts_on: date, ends_on: date) -> Table:
    flags = flags_for_window(session, budget_id, starts_on, ends_on)
    return table(
        "flags", "Flags raised this quarter, and earlier ones not yet settled",
        (Column("occurred_on", "Happened on", D), Column("flag", "Flag"), Column("severity", "Severity"),
         Column("reason", "What happened"), Column("amount", "Amount", M), Column("state", "State now")),
        [(f.occurred_on, flag_words(f.code), f.severity, f.reason, f.amount_pence, f.state.replace("_", " ")) for f in flags],
        row_marks=[None if f.state in CLOSED_FLAG_STATES else "open" for f in flags],
        empty_text="No flags.",
    )  # fmt: skip


def statement_accounts(session: Session, budget: Budget) -> list[Account]:
    """The budget's accounts that statements are imported into (card, the family's bank
    account), and the holder's client bank account when the budget's money is in it."""
    imported = select(StatementImport.account_id).distinct()
    own = list(session.scalars(select(Account).where(Account.budget_id == budget.id, Account.id.in_(imported)).order_by(Account.id)))
    client = session.scalars(
        select(Account).where(Account.holder_id == budget.holder_id, Account.budget_id.is_(None), Account.kind == AccountKind.UNALLOCATED, Account.id.in_(imported))
    ).first()
    return own + ([client] if client is not None else [])


def _status(session: Session, account: Account, starts_on: date, ends_on: date, cache: dict) -> AccountStatus:
    key = ("reconciliation", account.id, starts_on, ends_on)
    if key not in cache:
        cache[key] = account_status(session, account.id, period_start=starts_on, period_end=ends_on)
    return cache[key]


def account_label(account: Account) -> str:
    if account.kind == AccountKind.CARD:
        return "Prepaid card"
    if account.kind == AccountKind.CASH:
        return "Bank account"
    if account.kind == AccountKind.UNALLOCATED:
        return "Client bank account (shared)"
    return account.code


def reconciliation_table(session: Session, budget: Budget, starts_on: date, ends_on: date, cache: dict) -> Table:
    rows, marks = [], []
    for account in statement_accounts(session, budget):
        status = _status(session, account, starts_on, ends_on, cache)
        rows.append((
            account_label(account), status.statement_balance_on, status.statement_balance_pence, status.ledger_balance_pence,
            status.difference_pence, status.unmatched_line_count, status.unmatched_entry_count, status.reconciled_through,
        ))  # fmt: skip
        clean = not status.difference_pence and not status.unmatched_line_count and not status.unmatched_entry_count
        marks.append(None if clean else "exception")
    return table(
        "reconciliation", "Statements against the ledger at the quarter's end",
        (Column("account", "Account"), Column("statement_on", "Last statement balance on", D), Column("statement", "Statement balance", M),
         Column("ledger", "Ledger balance that day", M), Column("difference", "Difference", M), Column("lines", "Statement lines not matched (this quarter)", C),
         Column("entries", "Entries not on a statement (this quarter)", C), Column("through", "Reconciled through", D)),
        rows, row_marks=marks, empty_text="No statements have been imported for this budget's accounts.",
    )  # fmt: skip
