"""Where the reconciliation of each of a holder's statement accounts stands, read for all of
them at once: the figures ``ledger.reconcile.status.account_status`` gives one account
(lines unmatched, entries no line stands for yet, reconciled through, locked through), in a
handful of queries whatever the number of budgets, so the budgets page of a holder with a
hundred budgets stays quick. ``tests/test_pages_holder.py`` checks it against
``account_status`` for every account of the demo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import AccountKind
from ledger.reconcile.automatic import locked_through, unmatched_lines
from ledger.reconcile.ledger_side import Candidate, Scope, StatementKind, unmatched_candidates
from ledger.reconcile.status import reconciled_through
from ledger.store.tables import Account
from ledger.store.tables.statements import StatementLineRecord
from web.pages.holder_common import StatementAccount

KIND_OF_ACCOUNT = {AccountKind.CARD: StatementKind.CARD, AccountKind.CASH: StatementKind.BUDGET_BANK, AccountKind.UNALLOCATED: StatementKind.CLIENT_BANK}


@dataclass(frozen=True, slots=True)
class AccountState:
    account: StatementAccount
    stored_lines: int
    unmatched_lines: int
    unmatched_line_pence: int
    unmatched_entries: int
    statements_cover_to: date | None
    reconciled_through: date | None
    locked_through: date | None

    @property
    def has_statements(self) -> bool:
        return self.stored_lines > 0

    @property
    def is_reconciled(self) -> bool:
        """Every line matched and every entry the statements cover matched to a line."""
        return self.has_statements and self.unmatched_lines == 0 and self.unmatched_entries == 0


def account_states(session: Session, holder_id: int, accounts: list[StatementAccount]) -> dict[int, AccountState]:
    """Each account's reconciliation, by account id (accounts with no statement lines yet
    have nothing unmatched and no dates)."""
    ids = [a.id for a in accounts]
    if not ids:
        return {}
    ranges = {
        row[0]: (row[1], row[2], row[3])
        for row in session.execute(
            select(StatementLineRecord.account_id, func.min(StatementLineRecord.posted_on), func.max(StatementLineRecord.posted_on), func.count())
            .where(StatementLineRecord.account_id.in_(ids))
            .group_by(StatementLineRecord.account_id)
        )
    }  # fmt: skip
    with_lines = [a for a in accounts if a.id in ranges]
    lines = unmatched_lines(session, [a.id for a in with_lines]) if with_lines else {}
    candidates = _candidates(session, holder_id, with_lines)
    locks = locked_through(session, ids)
    states = {}
    for account in accounts:
        first, last, count = ranges.get(account.id, (None, None, 0))
        left = lines.get(account.id, [])
        covered = [c for c in candidates.get(account.id, []) if first is not None and last is not None and first <= c.entry_date <= last]
        states[account.id] = AccountState(
            account, count, len(left), sum(line.amount_pence for line in left), len(covered), last,
            reconciled_through(first, last, [line.posted_on for line in left], [c.entry_date for c in candidates.get(account.id, [])]), locks.get(account.id),
        )  # fmt: skip
    return states


def _candidates(session: Session, holder_id: int, accounts: list[StatementAccount]) -> dict[int, list[Candidate]]:
    """Entries no line stands for, per account. A budget's cash is in its own bank account's
    scope and in the client bank account's, so the two kinds are read apart."""
    in_bank: set[int] = set()
    of_budget: dict[int, set[int]] = {}
    for row in session.execute(
        select(Account.id, Account.budget_id).where(
            Account.holder_id == holder_id, Account.kind.in_([AccountKind.CASH, AccountKind.CONTINGENCY, AccountKind.UNALLOCATED])
        )
    ):
        in_bank.add(row.id)
        if row.budget_id is not None:
            of_budget.setdefault(row.budget_id, set()).add(row.id)
    budget_scopes, client_scopes = [], []
    for account in accounts:
        kind = KIND_OF_ACCOUNT[AccountKind(account.kind)]
        if kind == StatementKind.CARD:
            budget_scopes.append(Scope(account.id, holder_id, kind, account.budget_id, frozenset({account.id})))
        elif kind == StatementKind.BUDGET_BANK:
            budget_scopes.append(Scope(account.id, holder_id, kind, account.budget_id, frozenset(of_budget.get(account.budget_id or 0, ()))))
        else:
            client_scopes.append(Scope(account.id, holder_id, kind, None, frozenset(in_bank)))
    found: dict[int, list[Candidate]] = {}
    for scopes in (budget_scopes, client_scopes):
        if scopes:
            found.update(unmatched_candidates(session, scopes))
    return found
