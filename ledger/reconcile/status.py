"""Where an account's reconciliation stands, the queue of what is left, and locking a
reconciled period (and reopening it for an audit, on the record).

An account is *reconciled through* the day before its earliest unmatched item — a statement
line with no match, or an entry the statements should show and do not — and never beyond the
last day its statements cover; a period through that day can be locked, after which no
match, unmatch, split or re-categorisation touches its lines until someone reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core import checks
from ledger.core.journal import lock_book
from ledger.core.money import format_gbp
from ledger.errors import Conflict, NotFound
from ledger.reconcile.automatic import locked_through, unmatched_lines
from ledger.reconcile.categorise import Categoriser
from ledger.reconcile.combinations import payables_proposals, receivables_proposals
from ledger.reconcile.ledger_side import Candidate, StatementKind, scope_of, unmatched_candidates
from ledger.reconcile.lines import Line
from ledger.reconcile.manual import event
from ledger.statements.line_checks import why_not_postable
from ledger.statements.storing import ledger_balance
from ledger.store.tables import Account, Budget
from ledger.store.tables.base import utcnow
from ledger.store.tables.reconciliation import ReconciliationLock
from ledger.store.tables.statements import StatementImport, StatementLineRecord

SUGGESTIONS_MAX = 5
NEAR_DAYS = 45


@dataclass(frozen=True, slots=True)
class AccountStatus:
    account_id: int
    account_code: str
    statement_kind: str
    period_start: date | None
    period_end: date | None
    statement_balance_pence: int | None
    statement_balance_on: date | None
    ledger_balance_pence: int | None
    unmatched_line_count: int
    unmatched_line_pence: int
    unmatched_entry_count: int
    unmatched_entry_pence: int
    statements_cover_to: date | None
    reconciled_through: date | None
    locked_through: date | None

    @property
    def difference_pence(self) -> int | None:
        if self.statement_balance_pence is None or self.ledger_balance_pence is None:
            return None
        return self.ledger_balance_pence - self.statement_balance_pence


def account_status(session: Session, account_id: int, *, period_start: date | None = None, period_end: date | None = None) -> AccountStatus:
    account = _account(session, account_id)
    scope = scope_of(session, account)
    lines = _in_period(unmatched_lines(session, [account_id])[account_id], period_start, period_end, lambda l: l.posted_on)
    covered_to = session.scalar(select(func.max(StatementLineRecord.posted_on)).where(StatementLineRecord.account_id == account_id))
    first_line = session.scalar(select(func.min(StatementLineRecord.posted_on)).where(StatementLineRecord.account_id == account_id))
    entries = [
        c for c in unmatched_candidates(session, [scope])[account_id]
        if first_line is not None and covered_to is not None and first_line <= c.entry_date <= covered_to
    ]  # fmt: skip
    entries = _in_period(entries, period_start, period_end, lambda c: c.entry_date)
    statement = _statement_balance(session, account_id, period_end)
    ledger = ledger_balance(session, account, as_of=statement[1]) if statement[1] is not None else None
    return AccountStatus(
        account_id, account.code, scope.kind, period_start, period_end, statement[0], statement[1], ledger,
        len(lines), sum(l.amount_pence for l in lines), len(entries), sum(c.bank_pence for c in entries),
        covered_to, _reconciled_through(session, account_id, scope, covered_to), locked_through(session, [account_id]).get(account_id),
    )  # fmt: skip


def _in_period(items: list, start: date | None, end: date | None, day_of) -> list:  # type: ignore[no-untyped-def]
    return [i for i in items if (start is None or day_of(i) >= start) and (end is None or day_of(i) <= end)]


def _statement_balance(session: Session, account_id: int, period_end: date | None) -> tuple[int | None, date | None]:
    query = select(StatementImport.closing_pence, StatementImport.closing_on).where(
        StatementImport.account_id == account_id, StatementImport.closing_pence.is_not(None)
    )
    if period_end is not None:
        query = query.where(StatementImport.closing_on <= period_end)
    row = session.execute(query.order_by(StatementImport.closing_on.desc(), StatementImport.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (None, None)


def _reconciled_through(session: Session, account_id: int, scope, covered_to: date | None) -> date | None:  # type: ignore[no-untyped-def]
    first_line = session.scalar(select(func.min(StatementLineRecord.posted_on)).where(StatementLineRecord.account_id == account_id))
    unmatched_days = [line.posted_on for line in unmatched_lines(session, [account_id])[account_id]]
    entry_days = [c.entry_date for c in unmatched_candidates(session, [scope])[account_id]]
    return reconciled_through(first_line, covered_to, unmatched_days, entry_days)


def reconciled_through(first_line: date | None, last_line: date | None, unmatched_days: list[date], entry_days: list[date]) -> date | None:
    """The last day up to which every statement line and every ledger entry is matched: the
    day before the earliest unmatched line or entry, and never past the last statement line —
    an entry after it is not yet on any statement, so it waits for the next one. None while
    the statements' first day is itself unmatched."""
    if first_line is None or last_line is None:
        return None
    earliest = [day for day in (*unmatched_days, *entry_days) if first_line <= day <= last_line]
    if not earliest:
        return last_line
    through = day_before(min(earliest))
    return through if through is not None and through >= first_line else None


def day_before(day: date) -> date | None:
    """The day before ``day``, or None before the calendar's first (a line stored with such
    a date must not break the pages that show where an account stands)."""
    return day - timedelta(days=1) if day > date.min else None


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"there is no account {account_id}", code="account_not_found")
    return account


# --- locks --------------------------------------------------------------------------------


def lock_reconciled(session: Session, account_id: int, through_on: date, *, actor: str, reason: str | None = None) -> ReconciliationLock:
    """Lock an account's reconciliation up to ``through_on``, which must be reconciled."""
    actor = checks.required_text(actor, "actor", max_length=200)
    reason = checks.text(reason, "reason", max_length=1000, required=False)
    account = _account(session, account_id)
    lock_book(session, account.holder_id)
    status = account_status(session, account_id)
    if status.reconciled_through is None or through_on > status.reconciled_through:
        raise Conflict(
            f"{account.code} is reconciled only through {status.reconciled_through or 'no day yet'}: match what is left before locking to {through_on}",
            code="not_reconciled",
        )
    current = status.locked_through
    if current is not None and through_on <= current:
        raise Conflict(f"{account.code} is locked through {current} already", code="already_locked")
    lock = ReconciliationLock(account_id=account_id, through_on=through_on, reason=reason, locked_by=actor)
    session.add(lock)
    session.flush()
    event(session, account.holder_id, "lock", actor, account_id=account_id, through_on=through_on.isoformat(), reason=reason)
    return lock


def reopen_reconciled(session: Session, account_id: int, *, actor: str, reason: str) -> list[ReconciliationLock]:
    """Reopen an account's locked reconciliation (for an audit): recorded, never erased."""
    actor = checks.required_text(actor, "actor", max_length=200)
    reason = checks.required_text(reason, "reason", max_length=1000)
    account = _account(session, account_id)
    lock_book(session, account.holder_id)
    locks = list(session.scalars(select(ReconciliationLock).where(ReconciliationLock.account_id == account_id, ReconciliationLock.reopened_at.is_(None))))
    if not locks:
        raise Conflict(f"{account.code} has no locked period to reopen", code="not_locked")
    for lock in locks:
        lock.reopened_at, lock.reopened_by, lock.reopen_reason = utcnow(), actor, reason
    session.flush()
    event(session, account.holder_id, "reopen", actor, account_id=account_id, reason=reason, locks=[l.id for l in locks])
    return locks


def locks_of(session: Session, account_id: int) -> list[ReconciliationLock]:
    return list(session.scalars(select(ReconciliationLock).where(ReconciliationLock.account_id == account_id).order_by(ReconciliationLock.id)))


# --- the unmatched queue ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str
    """``entries``, ``receivables``, ``payables``, ``category`` or ``check``."""
    words: str
    entry_ids: tuple[int, ...] = ()
    payable_ids: tuple[int, ...] = ()
    funder_id: int | None = None
    shares: tuple[tuple[int, int], ...] = ()
    category: str | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    line_id: int
    account_id: int
    budget_id: int | None
    posted_on: date
    amount_pence: int
    description: str
    payee: str | None
    mcc: str | None
    suggestions: list[Suggestion] = field(default_factory=list)
    held_because: str | None = None
    """Why reconciliation cannot post the line (``ledger.statements.line_checks``): it waits
    here until someone looks at the statement."""


def unmatched_queue(
    session: Session, *, holder_id: int | None = None, account_id: int | None = None, budget_id: int | None = None,
    offset: int = 0, limit: int = 100, with_suggestions: bool = True,
) -> list[QueueItem]:  # fmt: skip
    """Statement lines no match stands for, oldest first, each with what it might be."""
    query = select(Account).where(Account.id.in_(select(StatementLineRecord.account_id).distinct()))
    if holder_id is not None:
        query = query.where(Account.holder_id == holder_id)
    if account_id is not None:
        query = query.where(Account.id == account_id)
    if budget_id is not None:
        query = query.where(Account.budget_id == budget_id)
    accounts = {a.id: a for a in session.scalars(query.order_by(Account.id))}
    if not accounts:
        return []
    lines = [l for ls in unmatched_lines(session, sorted(accounts)).values() for l in ls]  # type: ignore[arg-type]
    lines.sort(key=lambda l: (l.posted_on, l.account_id, l.id))
    page = lines[offset : offset + limit]
    return [
        QueueItem(
            l.id, l.account_id, accounts[l.account_id].budget_id, l.posted_on, l.amount_pence, l.description, l.payee, l.mcc,
            suggestions_for(session, accounts[l.account_id], l) if with_suggestions else [], why_not_postable(l.posted_on, l.amount_pence),
        )  # fmt: skip
        for l in page
    ]


def suggestions_for(session: Session, account: Account, line: Line) -> list[Suggestion]:
    if why_not_postable(line.posted_on, line.amount_pence) is not None:
        return []  # nothing can be matched to it (and its date may be beyond any date arithmetic)
    scope = scope_of(session, account)
    found: list[Suggestion] = []
    near = [c for c in unmatched_candidates(session, [scope])[scope.account_id] if abs((c.entry_date - line.posted_on).days) <= NEAR_DAYS]
    same = sorted((c for c in near if c.bank_pence == line.amount_pence), key=lambda c: abs((c.entry_date - line.posted_on).days))
    found += [_entry_suggestion(c, line) for c in same[:2]]
    if scope.kind == StatementKind.CLIENT_BANK:
        if line.amount_pence > 0:
            proposals, _gave_up = receivables_proposals(session, account.holder_id, line)
            names = dict(session.execute(select(Budget.id, Budget.reference).where(Budget.holder_id == account.holder_id)).all())
            for p in proposals:
                words = ", ".join(f"{names.get(b, b)} {format_gbp(pence)}" for b, pence in p.shares)
                found.append(Suggestion("receivables", f"a funder payment for {words}", funder_id=p.funder_id, shares=p.shares))
        else:
            proposals_out, _ = payables_proposals(session, account.holder_id, line, NEAR_DAYS)
            for p in proposals_out:
                found.append(Suggestion("payables", f"payment of payables {', '.join(map(str, p.payable_ids))}", payable_ids=p.payable_ids))
            if line.looks_like_fee:
                found.append(Suggestion("check", "a bank charge on the client account: split it over the budgets it is for"))
    elif line.amount_pence > 0 and (scope.kind != StatementKind.CARD or line.looks_like_load):
        found.append(Suggestion("check", "money in that the ledger has no entry for: was a load or a payment missed?"))
    else:
        guess = Categoriser(session, account.holder_id).categorise(line.mcc, line.merchant)
        if guess is not None:
            found.append(Suggestion("category", f"a spend on {guess.category_code.replace('_', ' ')}", category=guess.category_code))
    return found[:SUGGESTIONS_MAX]


def _entry_suggestion(candidate: Candidate, line: Line) -> Suggestion:
    days = (candidate.entry_date - line.posted_on).days
    when = "the same day" if days == 0 else f"{abs(days)} days {'later' if days > 0 else 'earlier'}"
    return Suggestion("entries", f"entry {candidate.entry_id} ({candidate.description[:80]}), {when}", entry_ids=(candidate.entry_id,))
