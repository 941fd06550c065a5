"""The ledger's side of a statement: which ledger accounts an imported statement shows, and
which entries on them no statement line stands for yet.

- a prepaid card's statement shows ``B:card``;
- a budget's own bank account (a direct payment) shows ``B:cash`` and ``B:contingency``;
- the holder's client bank account (statements imported into ``holder:H:unallocated``) shows
  every budget's cash and contingency plus the holder's unallocated money.

An entry's *bank amount* is the sum of its postings on those accounts (debit positive, the
statement's sign: money in is positive). Moves inside the bank account (ring-fencing
contingency) come to zero and are nothing a bank line could stand for; neither are entries
reversed, nor the reversals themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.core.journal_rows import chunks
from ledger.core.vocabulary import AccountKind
from ledger.errors import InvalidInput
from ledger.store.tables import Account, JournalEntry, Posting
from ledger.store.tables.reconciliation import ReconciliationMatchPart


class StatementKind:
    CARD = "card"
    BUDGET_BANK = "budget_bank"
    CLIENT_BANK = "client_bank"


@dataclass(frozen=True, slots=True)
class Scope:
    """One statement account and the ledger accounts its balance is the sum of."""

    account_id: int
    holder_id: int
    kind: str
    budget_id: int | None
    member_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry no statement line stands for yet."""

    entry_id: int
    entry_date: date
    kind: str
    bank_pence: int
    description: str
    by_budget: tuple[tuple[int, int], ...]
    """(budget id, pence) of the bank amount, for the budgets it touches."""


def scope_of(session: Session, account: Account) -> Scope:
    assert account.id is not None
    if account.kind == AccountKind.CARD:
        return Scope(account.id, account.holder_id, StatementKind.CARD, account.budget_id, frozenset({account.id}))
    if account.kind == AccountKind.CASH:
        members = _ids(session, Account.budget_id == account.budget_id, (AccountKind.CASH, AccountKind.CONTINGENCY))
        return Scope(account.id, account.holder_id, StatementKind.BUDGET_BANK, account.budget_id, members)
    if account.kind == AccountKind.UNALLOCATED:
        members = _ids(
            session, Account.holder_id == account.holder_id,
            (AccountKind.CASH, AccountKind.CONTINGENCY, AccountKind.UNALLOCATED),
        )  # fmt: skip
        return Scope(account.id, account.holder_id, StatementKind.CLIENT_BANK, None, members)
    raise InvalidInput(
        f"account {account.code} is not one statements are imported into (a card, a budget's cash, or a holder's unallocated)",
        code="account_not_reconcilable",
        field="account",
    )


def _ids(session: Session, condition, kinds: Sequence[str]) -> frozenset[int]:  # type: ignore[no-untyped-def]
    return frozenset(session.scalars(select(Account.id).where(condition, Account.kind.in_(list(kinds)))))


def unmatched_candidates(session: Session, scopes: Iterable[Scope]) -> dict[int, list[Candidate]]:
    """The entries on each scope's accounts that no line stands for, by scope account id,
    oldest first."""
    scope_of_member: dict[int, Scope] = {}
    for scope in scopes:
        for member in scope.member_ids:
            scope_of_member.setdefault(member, scope)
    found: dict[int, list[Candidate]] = {scope.account_id: [] for scope in scopes}
    if not scope_of_member:
        return found
    budget_of = _budget_of_account(session, list(scope_of_member))
    rows_by_entry: dict[int, list[tuple[int, int]]] = {}
    facts: dict[int, tuple[date, str, str]] = {}
    reversal = aliased(JournalEntry)
    for chunk in chunks(sorted(scope_of_member)):
        query = (
            select(Posting.entry_id, Posting.account_id, Posting.amount_pence, JournalEntry.entry_date, JournalEntry.kind, JournalEntry.description)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .outerjoin(reversal, reversal.reverses_entry_id == JournalEntry.id)
            .where(
                Posting.account_id.in_(chunk),
                JournalEntry.reverses_entry_id.is_(None),
                reversal.id.is_(None),
            )
        )
        for entry_id, account_id, pence, entry_date, kind, description in session.execute(query):
            rows_by_entry.setdefault(entry_id, []).append((account_id, pence))
            facts[entry_id] = (entry_date, kind, description)
    matched = matched_entries(session, [scope.account_id for scope in scopes])
    for entry_id in sorted(rows_by_entry):
        by_scope: dict[int, dict[int, int]] = {}
        for account_id, pence in rows_by_entry[entry_id]:
            scope = scope_of_member[account_id]
            if (scope.account_id, entry_id) in matched:
                continue
            budgets = by_scope.setdefault(scope.account_id, {})
            budget = budget_of.get(account_id, 0)
            budgets[budget] = budgets.get(budget, 0) + pence
        entry_date, kind, description = facts[entry_id]
        for scope_account, budgets in by_scope.items():
            total = sum(budgets.values())
            if total != 0:
                shares = tuple(sorted((b, p) for b, p in budgets.items() if p != 0))
                found[scope_account].append(Candidate(entry_id, entry_date, kind, total, description, shares))
    for candidates in found.values():
        candidates.sort(key=lambda c: (c.entry_date, c.entry_id))
    return found


def matched_entries(session: Session, statement_account_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(statement account, entry) of every standing match of those accounts."""
    found: set[tuple[int, int]] = set()
    for chunk in chunks(sorted(set(statement_account_ids))):
        query = select(ReconciliationMatchPart.account_id, ReconciliationMatchPart.active_entry_id).where(
            ReconciliationMatchPart.account_id.in_(chunk), ReconciliationMatchPart.active_entry_id.is_not(None)
        )
        found.update((account_id, entry_id) for account_id, entry_id in session.execute(query))
    return found


def _budget_of_account(session: Session, account_ids: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in chunks(sorted(account_ids)):
        for account_id, budget_id in session.execute(select(Account.id, Account.budget_id).where(Account.id.in_(chunk))):
            if budget_id is not None:
                found[account_id] = budget_id
    return found
