"""Balances, as at any date: by account, by budget, by holder, and by funder share.

Postings carry their entry's date and sit in a covering index (account, date, entry,
amount), so every balance here is an index-only aggregate with no join, and one budget's
balances read only that budget's index ranges: the cost does not grow with the number of
budgets.

Signs: postings are debit-positive. A balance is shown in its account's natural sign
(assets and expenses debit-positive; liabilities and funds credit-positive), so an
allocation of £10,000 reads as 10,000.00, not −10,000.00.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core.journal_rows import chunks
from ledger.core.money import split_pence
from ledger.core.vocabulary import AccountKind, AccountType
from ledger.store.tables import Account, Budget, Posting

FunderKey = int | None
"""A funder's id, or ``None`` for the person (their client contribution)."""


@dataclass(frozen=True, slots=True)
class AccountBalance:
    account_id: int
    code: str
    kind: str
    type: str
    budget_id: int | None
    funder_id: int | None
    is_person_contribution: bool
    category_id: int | None
    balance_pence: int
    """In the account's natural sign."""


def natural(account_type: str, signed_pence: int) -> int:
    return signed_pence if AccountType(account_type).debit_normal else -signed_pence


def signed_sums(session: Session, account_ids: Sequence[int] | None = None, *, as_of: date | None = None) -> dict[int, int]:
    """Debit-positive sum of postings per account, for ``account_ids`` (all when ``None``)."""
    posting = Posting.__table__
    base = select(posting.c.account_id, func.sum(posting.c.amount_pence)).group_by(posting.c.account_id)
    if as_of is not None:
        base = base.where(posting.c.entry_date <= as_of)
    if account_ids is None:
        return {account_id: int(total) for account_id, total in session.execute(base)}
    sums: dict[int, int] = {}
    for chunk in chunks(sorted(set(account_ids))):
        sums.update({a: int(t) for a, t in session.execute(base.where(posting.c.account_id.in_(chunk)))})
    return sums


def _with_balances(accounts: Sequence[Account], sums: dict[int, int]) -> list[AccountBalance]:
    return [
        AccountBalance(
            account_id=account.id,
            code=account.code,
            kind=account.kind,
            type=account.type,
            budget_id=account.budget_id,
            funder_id=account.funder_id,
            is_person_contribution=account.is_person_contribution,
            category_id=account.category_id,
            balance_pence=natural(account.type, sums.get(account.id, 0)),
        )
        for account in accounts
    ]


def budget_balances(session: Session, budget_id: int, *, as_of: date | None = None) -> list[AccountBalance]:
    """Every account of one budget with its balance (zero where nothing was posted)."""
    accounts = list(session.execute(select(Account).where(Account.budget_id == budget_id).order_by(Account.id)).scalars())
    return _with_balances(accounts, signed_sums(session, [a.id for a in accounts], as_of=as_of))


def holder_balances(session: Session, holder_id: int, *, as_of: date | None = None) -> list[AccountBalance]:
    accounts = list(session.execute(select(Account).where(Account.holder_id == holder_id).order_by(Account.id)).scalars())
    return _with_balances(accounts, signed_sums(session, [a.id for a in accounts], as_of=as_of))


def account_balance(session: Session, account: Account, *, as_of: date | None = None) -> int:
    return natural(account.type, signed_sums(session, [account.id], as_of=as_of).get(account.id, 0))


def all_balances(session: Session, *, as_of: date | None = None) -> Iterator[AccountBalance]:
    """Every account in the database with its balance: one aggregate over the index, and
    the accounts read as plain rows (not ORM objects, which cost more than the sum)."""
    sums = signed_sums(session, as_of=as_of)
    account = Account.__table__
    columns = (
        account.c.id, account.c.code, account.c.kind, account.c.type, account.c.budget_id,
        account.c.funder_id, account.c.is_person_contribution, account.c.category_id,
    )  # fmt: skip
    for row in session.execute(select(*columns).order_by(account.c.id), execution_options={"yield_per": 5000}):
        account_id, code, kind, type_, budget_id, funder_id, is_person_contribution, category_id = row
        balance = sums.get(account_id, 0)
        yield AccountBalance(
            account_id, code, kind, type_, budget_id, funder_id, bool(is_person_contribution), category_id,
            balance if type_ in _DEBIT_NORMAL else -balance,
        )  # fmt: skip


_DEBIT_NORMAL = frozenset(t.value for t in AccountType if t.debit_normal)


def funder_shares(session: Session, budget_id: int, *, as_of: date | None = None) -> dict[FunderKey, list[AccountBalance]]:
    """Each funder's share of a budget's balances, as at ``as_of``.

    Accounts that belong to one funder (its receivable, allocation and returned accounts)
    are wholly that funder's. Every shared account (cash, card, spend, …) is split in
    proportion to what each funder has allocated by then, by the one split rule, so the
    shares of every account add up exactly to its balance. Before anything is allocated,
    the lead funder holds the whole.
    """
    balances = budget_balances(session, budget_id, as_of=as_of)
    weights: dict[FunderKey, int] = {}
    for balance in balances:
        if balance.kind == AccountKind.ALLOCATION and balance.balance_pence > 0:
            weights[_funder_key(balance)] = balance.balance_pence
    if not weights:
        lead_funder_id = session.execute(select(Budget.lead_funder_id).where(Budget.id == budget_id)).scalar_one()
        weights = {lead_funder_id: 1}
    funders = sorted(weights, key=lambda key: (key is None, key or 0))
    shares: dict[FunderKey, list[AccountBalance]] = defaultdict(list)
    for balance in balances:
        if balance.funder_id is not None or balance.is_person_contribution:
            shares[_funder_key(balance)].append(balance)
            continue
        parts = split_pence(balance.balance_pence, [weights[key] for key in funders])
        for key, part in zip(funders, parts, strict=True):
            shares[key].append(_replace_balance(balance, part))
    return dict(shares)


def _funder_key(balance: AccountBalance) -> FunderKey:
    return None if balance.is_person_contribution else balance.funder_id


def _replace_balance(balance: AccountBalance, pence: int) -> AccountBalance:
    return AccountBalance(
        account_id=balance.account_id,
        code=balance.code,
        kind=balance.kind,
        type=balance.type,
        budget_id=balance.budget_id,
        funder_id=balance.funder_id,
        is_person_contribution=balance.is_person_contribution,
        category_id=balance.category_id,
        balance_pence=pence,
    )


def totals_by_kind(balances: Sequence[AccountBalance]) -> dict[str, int]:
    """Balances summed by account kind (e.g. all ``spend`` accounts together)."""
    totals: dict[str, int] = defaultdict(int)
    for balance in balances:
        totals[balance.kind] += balance.balance_pence
    return dict(totals)
