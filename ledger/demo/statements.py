"""The demo's statements: what the card schemes and the banks would have sent for the year
the demo played, imported month by month and reconciled, so the demo has matches, an
unmatched queue of none, and the flags a funder would review (the pub visit to explain, the
off-licence purchase to refuse, surplus held, a line overspent, reviews due).

A statement shows the real transactions, so a purchase booked by mistake and reversed
appears once, as booked again; the card scheme lists each card's transactions, the client
bank account one transfer for all of a day's card loads (as a scheme's bulk load is paid).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from moneyed import Money
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.money import from_pence
from ledger.core.vocabulary import AccountKind, EntryKind, HolderKind
from ledger.reconcile.automatic import reconcile_accounts
from ledger.reconcile.ledger_side import Candidate, Scope, scope_of, unmatched_candidates
from ledger.statements.storing import SourceFile, store_statement
from ledger.store.tables import Account, Holder

DEMO_IMPORTER = "demo statements"
_PURCHASE = re.compile(r"^Card (?:purchase|refund): (?P<merchant>.+?)(?: \(MCC (?P<mcc>\d{4})\)|, item returned)")
_KIND_WORDS = {
    EntryKind.DRAWDOWN: "LOAD", EntryKind.CARD_PURCHASE: "PURCHASE", EntryKind.CARD_REFUND: "REFUND",
    EntryKind.FEE: "FEE", EntryKind.CARD_UNLOAD: "UNLOAD", EntryKind.CONTINGENCY_USE: "LOAD",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoLine:
    line_no: int
    posted_on: date
    amount: Money
    description: str
    payee: str | None
    mcc: str | None
    bank_id: str | None
    balance: Money | None
    kind: str | None
    is_fee: bool = False
    part: int = 0
    raw: str = ""


@dataclass(frozen=True, slots=True)
class _Names:
    text: str

    def describe(self) -> str:
        return self.text


@dataclass(slots=True)
class DemoStatement:
    account: _Names
    lines: list[DemoLine]
    period_start: date
    period_end: date
    opening_balance: Money
    closing_balance: Money
    closing_balance_on: date
    format: str = "csv"
    currency: str = "GBP"
    layout: str | None = "demo"
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class StatementsLoaded:
    imports: int
    lines: int
    matched: int
    unmatched: int
    flags: int


def import_and_reconcile(session: Session, holder_ids: Iterable[int], *, today: date) -> StatementsLoaded:
    """Statements for every card, family bank account and client bank account of the demo,
    a file a month, then reconciliation and the flag rules as of ``today``."""
    imports = lines = matched = unmatched = flags = 0
    for holder_id in sorted(holder_ids):
        holder = session.get(Holder, holder_id)
        assert holder is not None
        accounts = _statement_accounts(session, holder)
        if not accounts:
            continue
        scopes = [scope_of(session, account) for account in accounts]
        candidates = unmatched_candidates(session, scopes)
        for account, scope in zip(accounts, scopes):
            made = _import_monthly(session, account, scope, candidates[scope.account_id], today)
            imports += made[0]
            lines += made[1]
        result = reconcile_accounts(session, [a.id for a in accounts if a.id is not None], actor=DEMO_IMPORTER)
        matched += len(result.matched_line_ids)
        unmatched += result.unmatched
        flags += result.flags_raised
        from ledger.flags.raising import raise_flags

        flags += raise_flags(session, holder_id, as_of=today, actor=DEMO_IMPORTER).raised
    return StatementsLoaded(imports, lines, matched, unmatched, flags)


def _statement_accounts(session: Session, holder: Holder) -> list[Account]:
    """Cards for every holder; the client bank account of a provider or managed-account
    service; a family's own bank account (its budget's cash)."""
    if holder.kind == HolderKind.COMMISSIONER:
        return []
    kinds = [AccountKind.CARD]
    kinds.append(AccountKind.CASH if holder.kind == HolderKind.SELF_MANAGED else AccountKind.UNALLOCATED)
    return list(session.scalars(select(Account).where(Account.holder_id == holder.id, Account.kind.in_(kinds)).order_by(Account.id)))


def _import_monthly(session: Session, account: Account, scope: Scope, entries: list[Candidate], today: date) -> tuple[int, int]:
    dated = [c for c in entries if c.entry_date <= today]
    if not dated:
        return 0, 0
    lines = _bulk_loads(dated) if scope.kind == "client_bank" else [_line_of(c) for c in dated]
    by_month: dict[date, list[tuple[date, int, str, str | None, str | None, str, str]]] = defaultdict(list)
    for line in lines:
        by_month[line[0].replace(day=1)].append(line)
    balance = 0
    count = 0
    for month in sorted(by_month):
        rows = sorted(by_month[month], key=lambda row: (row[0], row[6]))
        opening = balance
        demo_lines = []
        for number, (day, pence, words, payee, mcc, kind, bank_id) in enumerate(rows, 1):
            balance += pence
            demo_lines.append(
                DemoLine(number, day, from_pence(pence), words, payee, mcc, bank_id, from_pence(balance), kind, kind == "FEE",
                         raw=f"{day:%d/%m/%Y},{words},{pence}")  # fmt: skip
            )
        month_end = rows[-1][0]
        statement = DemoStatement(
            _Names(f"{account.name} (demo statement)"), demo_lines, month, month_end, from_pence(opening), from_pence(balance), month_end
        )
        name = f"{account.code.replace(':', '-')}-{month:%Y-%m}.csv"
        digest = hashlib.sha256(f"{name}:{len(rows)}:{balance}".encode()).hexdigest()
        store_statement(session, account_id=account.id or 0, statement=statement, source=SourceFile(name, digest, 0), imported_by=DEMO_IMPORTER)
        count += len(rows)
    return len(by_month), count


def _line_of(candidate: Candidate) -> tuple[date, int, str, str | None, str | None, str, str]:
    found = _PURCHASE.match(candidate.description)
    payee = found.group("merchant") if found else None
    mcc = found.group("mcc") if found and found.group("mcc") else None
    kind = _KIND_WORDS.get(candidate.kind, "TRANSFER")  # type: ignore[call-overload]
    words = payee or candidate.description[:140]
    return (candidate.entry_date, candidate.bank_pence, words, payee, mcc, kind, f"DEMO-{candidate.entry_id}")


def _bulk_loads(entries: list[Candidate]) -> list[tuple[date, int, str, str | None, str | None, str, str]]:
    """The client bank account: one transfer to the card scheme for each day's loads."""
    loads: dict[date, list[Candidate]] = defaultdict(list)
    lines = []
    for candidate in entries:
        if candidate.kind == EntryKind.DRAWDOWN:
            loads[candidate.entry_date].append(candidate)
        else:
            lines.append((candidate.entry_date, candidate.bank_pence, candidate.description[:140], None, None, "BANK", f"DEMO-{candidate.entry_id}"))
    for day, day_loads in loads.items():
        total = sum(c.bank_pence for c in day_loads)
        words = "PREPAID CARD SCHEME BULK LOAD" if len(day_loads) > 1 else "PREPAID CARD SCHEME LOAD"
        lines.append((day, total, words, "Card scheme", None, "BANK", f"DEMO-LOADS-{day.isoformat()}"))
    return lines
