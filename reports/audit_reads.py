"""What the audit pack reads from the ledger, for one funder and one window of days: the
budgets it funds, each of their accounts' trial-balance line, the journal with provenance,
flags with their history, statement lines and entries not yet reconciled, and the evidence.

Every read is scoped by a subquery (``AuditScope.budget_ids``), not a list of ids, so the
database does the work whatever the number of budgets: an ICB's quarter of 100,000
postings is one query for the journal and one for the statements behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from ledger.access.entries import AccountFacts, cut_description, shown_account
from ledger.core.vocabulary import AccountKind, AccountType
from ledger.reconcile.ledger_side import Candidate, Scope, StatementKind, unmatched_candidates
from ledger.store.tables import Account, Budget, Funder, Holder, JournalEntry, Posting
from ledger.store.tables.closing import BudgetClosure
from ledger.store.tables.flags import Evidence, Flag, FlagEvent
from ledger.store.tables.reconciliation import ReconciliationMatch, ReconciliationMatchPart
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from reports.funded_scope import funded_budget_ids

LONDON = ZoneInfo("Europe/London")


def london(moment: datetime) -> datetime:
    """A stored timestamp (UTC without a zone) in England's local time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LONDON)


@dataclass(frozen=True)
class AuditScope:
    funder_id: int
    first: date
    last: date

    @property
    def budget_ids(self) -> Select:
        """Budgets the funder funds whose plan period meets the window, or that moved money in
        it (transition costs spent before a plan starts)."""
        funded = funded_budget_ids(self.funder_id)
        moved = (
            select(Account.budget_id)
            .join(Posting, Posting.account_id == Account.id)
            .where(Account.budget_id.in_(funded), Posting.entry_date.between(self.first, self.last))
        )
        overlaps = and_(Budget.period_start <= self.last, Budget.period_end >= self.first)
        return select(Budget.id).where(Budget.id.in_(funded), or_(overlaps, Budget.id.in_(moved)))

    @property
    def account_ids(self) -> Select:
        return select(Account.id).where(Account.budget_id.in_(self.budget_ids))

    @property
    def entry_ids(self) -> Select:
        """Entries in the window with a posting on one of the budgets' accounts."""
        return select(Posting.entry_id).where(Posting.account_id.in_(self.account_ids), Posting.entry_date.between(self.first, self.last))


@dataclass(frozen=True, slots=True)
class BudgetRow:
    budget_id: int
    reference: str
    holder_id: int
    holder: str
    lead_funder: str
    is_lead: bool
    period_start: date
    period_end: date
    status: str
    closed_on: date | None


def budgets(session: Session, scope: AuditScope) -> list[BudgetRow]:
    rows = session.execute(
        select(Budget, Holder.name, Funder.name, BudgetClosure.closed_on)
        .join(Holder, Holder.id == Budget.holder_id)
        .join(Funder, Funder.id == Budget.lead_funder_id)
        .outerjoin(BudgetClosure, BudgetClosure.budget_id == Budget.id)
        .where(Budget.id.in_(scope.budget_ids))
        .order_by(Budget.reference)
    ).all()
    return [
        BudgetRow(
            b.id, b.reference, b.holder_id, holder, lead, b.lead_funder_id == scope.funder_id, b.period_start, b.period_end, b.status, closed_on
        )  # fmt: skip
        for b, holder, lead, closed_on in rows
    ]


@dataclass(frozen=True, slots=True)
class TrialLine:
    budget: str
    account_id: int
    code: str
    name: str
    type: str
    opening_signed: int
    """Debit-positive balance at the end of the day before the window."""
    debits: int
    credits: int
    """Both positive."""
    postings: int
    """Postings on the account by the window's end (none: it never moved)."""

    @property
    def closing_signed(self) -> int:
        return self.opening_signed + self.debits - self.credits


OTHERS_CODE = "others"
OTHERS_NAME = "Other funders' and the person's own accounts, together"


def trial_balance(session: Session, scope: AuditScope) -> list[TrialLine]:
    """Every account of the budgets, by budget then account code, from one pass over postings.
    Another funder's own accounts of a jointly funded budget (and the person's contribution)
    are not this funder's to read one by one: they are one line per budget, so the trial
    balance still balances."""
    posting = Posting.__table__.c
    inside = posting.entry_date >= scope.first
    opening = func.coalesce(func.sum(case((posting.entry_date < scope.first, posting.amount_pence), else_=0)), 0)
    debits = func.coalesce(func.sum(case((and_(inside, posting.amount_pence > 0), posting.amount_pence), else_=0)), 0)
    credits = func.coalesce(func.sum(case((and_(inside, posting.amount_pence < 0), -posting.amount_pence), else_=0)), 0)
    rows = session.execute(
        select(Account.id, Budget.reference, Account.code, Account.name, Account.type, opening, debits, credits, func.count(posting.entry_id),
               Account.budget_id, Account.funder_id, Account.is_person_contribution)
        .join(Budget, Budget.id == Account.budget_id)
        .outerjoin(Posting, and_(posting.account_id == Account.id, posting.entry_date <= scope.last))
        .where(Account.budget_id.in_(scope.budget_ids))
        .group_by(Account.id, Budget.reference, Account.code, Account.name, Account.type, Account.budget_id, Account.funder_id,
                  Account.is_person_contribution)
        .order_by(Budget.reference, Account.code)
    )  # fmt: skip
    lines, others = [], {}
    for account_id, reference, code, name, kind, o, d, c, n, budget_id, funder_id, contribution in rows:
        if shown_account(AccountFacts(budget_id, funder_id, bool(contribution)), visible={budget_id}, auditor_of=scope.funder_id):
            lines.append(TrialLine(reference, account_id, code, name, kind, int(o), int(d), int(c), int(n)))
            continue
        was = others.get(reference, (0, 0, 0, 0))
        others[reference] = (was[0] + int(o), was[1] + int(d), was[2] + int(c), was[3] + int(n))
    lines += [TrialLine(reference, 0, f"{reference}:{OTHERS_CODE}", OTHERS_NAME, AccountType.ASSET, *sums) for reference, sums in others.items()]
    return sorted(lines, key=lambda line: (line.budget, line.code))


@dataclass(frozen=True, slots=True)
class JournalLine:
    entry_id: int
    entry_date: date
    book: str
    seq: int
    kind: str
    description: str
    idempotency_key: str
    entry_hash: str
    source_file: str | None
    source_line: int | None
    reverses_entry_id: int | None
    line_no: int
    account: str
    amount_pence: int
    cut: bool = False
    """The entry has parts the funder does not read: its description is cut, its key and file not shown."""


def journal(session: Session, scope: AuditScope) -> list[JournalLine]:
    """The window's postings on the budgets' accounts the funder reads (not another funder's
    own, nor the person's contribution) with their entries, in date and chain order. An entry
    with parts the funder does not read is described by what it is and whose part this is
    (``ledger.access.entries``), not by words that may name other budgets' money."""
    entry, posting = JournalEntry.__table__.c, Posting.__table__.c
    rows = session.execute(
        select(
            entry.id, entry.entry_date, Holder.code, entry.seq, entry.kind, entry.description, entry.idempotency_key, entry.entry_hash,
            entry.source_file, entry.source_line, entry.reverses_entry_id, posting.line_no, Account.code, posting.amount_pence,
        )
        .select_from(Posting.__table__)
        .join(Account, Account.id == posting.account_id)
        .join(JournalEntry.__table__, entry.id == posting.entry_id)
        .join(Holder, Holder.id == entry.book_id)
        .where(Account.budget_id.in_(scope.budget_ids), posting.entry_date.between(scope.first, scope.last), _read_by_funder(scope))
        .order_by(entry.entry_date, Holder.code, entry.seq, posting.line_no)
    )  # fmt: skip
    lines = [JournalLine(*row) for row in rows]
    cut = entries_with_unread_parts(session, scope, {line.entry_id for line in lines})
    if not cut:
        return lines
    budgets: dict[int, set[str]] = {}
    for line in lines:
        budgets.setdefault(line.entry_id, set()).add(line.account.split(":", 1)[0])
    return [
        replace(line, description=cut_description(line.kind, sorted(budgets[line.entry_id])), cut=True) if line.entry_id in cut else line
        for line in lines
    ]


def _read_by_funder(scope: AuditScope) -> ColumnElement[bool]:
    """An account the funder reads: one of its budgets' shared accounts, or its own."""
    return and_(or_(Account.funder_id.is_(None), Account.funder_id == scope.funder_id), Account.is_person_contribution.is_(False))


def entries_with_unread_parts(session: Session, scope: AuditScope, entry_ids: set[int]) -> set[int]:
    """Of ``entry_ids``, those with a posting on an account the funder does not read: another
    budget's, another funder's own, the person's contribution, or the holder's."""
    found: set[int] = set()
    ids = sorted(entry_ids)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        unread = or_(Account.budget_id.is_(None), Account.budget_id.not_in(scope.budget_ids), ~_read_by_funder(scope))
        found |= set(session.scalars(
            select(Posting.entry_id).join(Account, Account.id == Posting.account_id).where(Posting.entry_id.in_(chunk), unread).distinct()
        ))  # fmt: skip
    return found


def statement_lines_of_entries(session: Session, scope: AuditScope) -> dict[int, list[tuple[str, int]]]:
    """Entry id → the (file name, line number) of each statement line it is matched to now."""
    line, part = StatementLineRecord, ReconciliationMatchPart
    rows = session.execute(
        select(part.active_entry_id, StatementImport.file_name, line.line_no)
        .join(ReconciliationMatch, ReconciliationMatch.id == part.match_id)
        .join(line, line.id == ReconciliationMatch.statement_line_id)
        .join(StatementImport, StatementImport.id == line.import_id)
        .where(part.active_entry_id.in_(scope.entry_ids), ReconciliationMatch.active_line_id.is_not(None))
        .order_by(part.active_entry_id, StatementImport.file_name, line.line_no)
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for entry_id, file_name, line_no in rows:
        if (file_name, line_no) not in found.get(entry_id, []):
            found.setdefault(entry_id, []).append((file_name, line_no))
    return found


# --- flags ------------------------------------------------------------------------------

CLOSED_STATES = frozenset({"accepted", "reallocated", "recovered", "closed"})


@dataclass(frozen=True, slots=True)
class FlagWithHistory:
    flag: Flag
    budget: str
    events: tuple[FlagEvent, ...]


def flags_with_history(session: Session, scope: AuditScope) -> list[FlagWithHistory]:
    """Flags of the budgets that happened by the window's end and were open in it or changed
    in it, each with every event of its history (oldest first)."""
    wanted = select(Flag.id).where(Flag.budget_id.in_(scope.budget_ids), Flag.occurred_on <= scope.last)
    events: dict[int, list[FlagEvent]] = {}
    for event in session.scalars(select(FlagEvent).where(FlagEvent.flag_id.in_(wanted)).order_by(FlagEvent.flag_id, FlagEvent.at, FlagEvent.id)):
        events.setdefault(event.flag_id, []).append(event)
    rows = session.execute(
        select(Flag, Budget.reference).join(Budget, Budget.id == Flag.budget_id).where(Flag.id.in_(wanted)).order_by(Flag.occurred_on, Flag.id)
    ).all()
    found = []
    for flag, reference in rows:
        history = events.get(flag.id, [])  # type: ignore[arg-type]
        if _in_audit(flag, history, scope):
            found.append(FlagWithHistory(flag, reference, tuple(history)))
    return found


def _in_audit(flag: Flag, history: list[FlagEvent], scope: AuditScope) -> bool:
    if flag.occurred_on >= scope.first:
        return True
    days = [london(e.at).date() for e in history]
    if any(scope.first <= day <= scope.last for day in days):
        return True
    before = [e.to_state for e, day in zip(history, days, strict=True) if day < scope.first]
    return (before[-1] if before else "open") not in CLOSED_STATES


# --- unreconciled -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenLine:
    line_id: int
    account: str
    posted_on: date
    amount_pence: int
    description: str
    payee: str | None
    file_name: str
    line_no: int


@dataclass(frozen=True, slots=True)
class OpenEntry:
    account: str
    candidate: Candidate
    share_pence: int
    """The part of its bank amount that belongs to the funder's budgets."""
    budgets: tuple[str, ...]
    description: str
    """The entry's own words, or (where it has parts the funder does not read) what it is and whose part this is."""


def statement_account_ids(scope: AuditScope) -> Select:
    """Statement accounts of the budgets (card, a family's bank account) and their holders'
    client bank accounts, that statements have been imported into."""
    imported = select(StatementImport.account_id).distinct()
    holders = select(Budget.holder_id).where(Budget.id.in_(scope.budget_ids))
    client = and_(Account.budget_id.is_(None), Account.kind == AccountKind.UNALLOCATED, Account.holder_id.in_(holders))
    return select(Account.id).where(Account.id.in_(imported), or_(Account.budget_id.in_(scope.budget_ids), client))


def statement_accounts(session: Session, scope: AuditScope) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.id.in_(statement_account_ids(scope))).order_by(Account.code)))


def unmatched_lines(session: Session, scope: AuditScope, accounts: list[Account]) -> list[OpenLine]:
    """Lines of those accounts, posted by the window's end, that no standing match stands for."""
    line = StatementLineRecord
    codes = {a.id: a.code for a in accounts}
    rows = session.execute(
        select(line.id, line.account_id, line.posted_on, line.amount_pence, line.description, line.payee, StatementImport.file_name, line.line_no)
        .join(StatementImport, StatementImport.id == line.import_id)
        .outerjoin(ReconciliationMatch, ReconciliationMatch.active_line_id == line.id)
        .where(line.account_id.in_(statement_account_ids(scope)), ReconciliationMatch.id.is_(None), line.posted_on <= scope.last)
        .order_by(line.posted_on, line.account_id, line.line_no)
    )  # fmt: skip
    return [OpenLine(i, codes[a], day, pence, text, payee, name, no) for i, a, day, pence, text, payee, name, no in rows]


def unmatched_entries(session: Session, scope: AuditScope, accounts: list[Account], budget_refs: dict[int, str]) -> list[OpenEntry]:
    """Entries on the budgets' money that a statement covers and no line stands for yet
    (``ledger.reconcile.ledger_side``), dated within what each statement covers and by the
    window's end; on a client bank account, only those touching the funder's budgets."""
    scopes = _scopes(session, accounts)
    coverage = dict(
        (account_id, (first, last))
        for account_id, first, last in session.execute(
            select(StatementLineRecord.account_id, func.min(StatementLineRecord.posted_on), func.max(StatementLineRecord.posted_on))
            .where(StatementLineRecord.account_id.in_(statement_account_ids(scope)))
            .group_by(StatementLineRecord.account_id)
        )
    )
    codes = {a.id: a.code for a in accounts}
    found = []
    for account_id, candidates in unmatched_candidates(session, scopes).items():
        first, last = coverage[account_id]
        for candidate in candidates:
            if not (first <= candidate.entry_date <= min(last, scope.last)):
                continue
            ours = [(b, p) for b, p in candidate.by_budget if b in budget_refs]
            if ours:
                found.append(OpenEntry(codes[account_id], candidate, sum(p for _, p in ours), tuple(budget_refs[b] for b, _ in ours),
                                       candidate.description))  # fmt: skip
    found.sort(key=lambda o: (o.candidate.entry_date, o.account, o.candidate.entry_id))
    cut = entries_with_unread_parts(session, scope, {o.candidate.entry_id for o in found})
    return [replace(o, description=cut_description(o.candidate.kind, sorted(o.budgets))) if o.candidate.entry_id in cut else o for o in found]


def _scopes(session: Session, accounts: list[Account]) -> list[Scope]:
    """The ledger accounts each statement account's balance is the sum of, read at once:
    cards first, then a family's bank account, then a holder's client bank account."""
    holder_ids = sorted({a.holder_id for a in accounts})
    members = session.execute(
        select(Account.id, Account.holder_id, Account.budget_id, Account.kind).where(
            Account.holder_id.in_(holder_ids), Account.kind.in_([AccountKind.CASH, AccountKind.CONTINGENCY, AccountKind.UNALLOCATED])
        )
    ).all()
    order = {AccountKind.CARD: 0, AccountKind.CASH: 1, AccountKind.UNALLOCATED: 2}
    scopes = []
    for account in sorted(accounts, key=lambda a: (order.get(a.kind, 3), a.id)):  # type: ignore[call-overload]
        assert account.id is not None
        if account.kind == AccountKind.CARD:
            scopes.append(Scope(account.id, account.holder_id, StatementKind.CARD, account.budget_id, frozenset({account.id})))
        elif account.kind == AccountKind.CASH:
            ids = frozenset(m[0] for m in members if m[2] == account.budget_id and m[3] in (AccountKind.CASH, AccountKind.CONTINGENCY))
            scopes.append(Scope(account.id, account.holder_id, StatementKind.BUDGET_BANK, account.budget_id, ids))
        elif account.kind == AccountKind.UNALLOCATED:
            ids = frozenset(m[0] for m in members if m[1] == account.holder_id)
            scopes.append(Scope(account.id, account.holder_id, StatementKind.CLIENT_BANK, None, ids))
    return scopes


# --- evidence -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    evidence_id: int
    budget: str | None
    kind: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    note: str | None
    flag_id: int | None
    flag_code: str | None
    line_file: str | None
    line_no: int | None


def evidence(session: Session, scope: AuditScope, flag_ids: Iterable[int]) -> list[EvidenceRow]:
    """Evidence of the budgets on the pack's flags, on statement lines posted in the window,
    or uploaded in it (metadata only: the files are read one at a time for the ZIP)."""
    line = StatementLineRecord
    line_account = select(Account.id).where(Account.budget_id.in_(scope.budget_ids))
    rows = session.execute(
        select(
            Evidence.id, Evidence.budget_id, Flag.budget_id, Account.budget_id, Evidence.kind, Evidence.file_name, Evidence.content_type,
            Evidence.size_bytes, Evidence.sha256, Evidence.uploaded_by, Evidence.uploaded_at, Evidence.note, Evidence.flag_id, Flag.code,
            StatementImport.file_name, line.line_no, line.posted_on,
        )
        .outerjoin(Flag, Flag.id == Evidence.flag_id)
        .outerjoin(line, line.id == Evidence.statement_line_id)
        .outerjoin(StatementImport, StatementImport.id == line.import_id)
        .outerjoin(Account, Account.id == line.account_id)
        .where(or_(Evidence.budget_id.in_(scope.budget_ids), Flag.budget_id.in_(scope.budget_ids), line.account_id.in_(line_account)))
        .order_by(Evidence.id)
    ).all()  # fmt: skip
    in_pack = set(flag_ids)
    references = dict(session.execute(select(Budget.id, Budget.reference).where(Budget.id.in_(scope.budget_ids))).all())
    found = []
    for (evidence_id, own_budget, flag_budget, line_budget, kind, name, media, size, sha, by, at, note, flag_id, code, line_file, line_no, posted_on) in rows:
        uploaded_on = london(at).date()
        if not (flag_id in in_pack or (posted_on is not None and scope.first <= posted_on <= scope.last) or scope.first <= uploaded_on <= scope.last):
            continue
        budget_id = own_budget or flag_budget or line_budget
        found.append(EvidenceRow(evidence_id, references.get(budget_id), kind, name, media, size, sha, by, at, note, flag_id, code, line_file, line_no))
    return found


__all__ = [
    "AuditScope", "BudgetRow", "EvidenceRow", "FlagWithHistory", "JournalLine", "OpenEntry", "OpenLine", "TrialLine", "budgets",
    "evidence", "flags_with_history", "journal", "london", "statement_accounts", "statement_lines_of_entries", "trial_balance",
    "unmatched_entries", "unmatched_lines",
]  # fmt: skip
