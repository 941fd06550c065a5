"""Reconciliation: turning imported statement lines into a ledger that agrees with the bank
and the card to the penny (DESIGN.md §4: importers → statements → **reconcile** → flags).

For each line no match stands for yet, oldest first, in an order fixed by the lines
themselves (so the order files were imported in changes nothing):

1. an entry already in the ledger with the same bank amount, dated within the window: a card
   load the drawdown service posted, a funder payment or a bank payment recorded by hand, a
   purchase posted before;
2. on the client bank account, money in: the remittance advice whose reference the line
   carries, else the one combination of outstanding receivables that adds up exactly
   (``ledger.money_in.funder_receipts`` records it); money out: one day's card loads in one transfer,
   else the one combination of approved payables (a payroll run over many budgets, a
   supplier's invoices) that adds up exactly (``ledger.money_out.payables`` pays them). More than one
   combination fitting is a question for a person, never a guess;
3. on a card or a budget's own bank account: fees post to ``B:fees``; purchases post to the
   spend category the rules choose (``ledger.reconcile.categorise``) or to ``uncategorised``; a card
   credit that is no load is a refund, to the category of the last purchase there;
4. anything else waits in the unmatched queue (``ledger.reconcile.status``) with suggestions.

A line the ledger cannot post (stored before ``ledger.statements.line_checks`` refused it at
import: a date outside the journal's, no money, an amount beyond any) is held in the queue
with the reason and the others carry on: one line never stops an account's reconciliation.
Lines are read with their text cleaned as an import cleans it.

A line is matched once (the database refuses a second active match), every match records
how it was made, every categorisation the rule and version that made it. Reconciling again
finds nothing new to do. Lines in a locked reconciled period or a closed quarter are left
alone. The caller owns the transaction; the holder's book is locked for the whole run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core import journal_rows
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import collector_paused, lock_book, post_entries
from ledger.core.money import format_gbp
from ledger.core.periods import closed_quarter_containing
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.errors import InvalidInput, NotFound
from ledger.flags import raising as flags
from ledger.reconcile.categorise import Categorised, Categoriser, spend_accounts
from ledger.reconcile.combinations import bank_credit_match, bank_debit_match
from ledger.reconcile.ledger_side import Candidate, Scope, StatementKind, scope_of, unmatched_candidates
from ledger.reconcile.lines import Decided, Line, MatchMethod
from ledger.rules import merchant_key
from ledger.statements.line_checks import UNNAMED_FILE, plain_optional, plain_text, why_not_postable
from ledger.store.tables import Account, ClosedPeriod, Posting, utcnow
from ledger.store.tables.reconciliation import Categorisation, ReconciliationLock, ReconciliationMatch
from ledger.store.tables.statements import StatementImport, StatementLineRecord

RECONCILER = "reconcile"
"""Who made the matches reconciliation made on its own (beside the person who ran it)."""
LOAD_WINDOW_DAYS = 3
MATCH_WINDOW_DAYS = 5
WINDOW_DAYS_MAX = 31


@dataclass(frozen=True, slots=True)
class ReconcileOptions:
    load_window_days: int = LOAD_WINDOW_DAYS
    """How far a card load's date may be from its drawdown's."""
    match_window_days: int = MATCH_WINDOW_DAYS
    """How far any other line's date may be from the entry it stands for."""

    def checked(self) -> ReconcileOptions:
        for name in ("load_window_days", "match_window_days"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= WINDOW_DAYS_MAX:
                raise InvalidInput(f"{name} must be a whole number of days from 0 to {WINDOW_DAYS_MAX}", code="window_invalid", field=name)
        return self


@dataclass(slots=True)
class ReconcileResult:
    account_ids: list[int]
    lines_seen: int = 0
    matched_existing: int = 0
    bulk_loads: int = 0
    funder_receipts: int = 0
    payments: int = 0
    posted_spend: int = 0
    posted_refunds: int = 0
    posted_fees: int = 0
    uncategorised: int = 0
    unmatched: int = 0
    held: int = 0
    """Of the unmatched, lines the ledger cannot post (``why_not_postable``)."""
    ambiguous: int = 0
    locked: int = 0
    in_closed_quarter: int = 0
    flags_raised: int = 0
    matched_line_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        counts = {name: getattr(self, name) for name in self.__slots__ if name not in ("account_ids", "matched_line_ids")}  # type: ignore[attr-defined]
        return {"accounts": self.account_ids, "matched": len(self.matched_line_ids), **counts}


def reconcile_accounts(
    session: Session, account_ids: Sequence[int], *, actor: str, options: ReconcileOptions = ReconcileOptions()
) -> ReconcileResult:
    """Reconcile every unmatched line of the statement accounts given (one holder's or
    several holders'), then raise the flags the new matches call for."""
    options = options.checked()
    accounts = _accounts(session, account_ids)
    result = ReconcileResult(sorted({a.id for a in accounts if a.id is not None}))
    by_holder: dict[int, list[Account]] = {}
    for account in accounts:
        by_holder.setdefault(account.holder_id, []).append(account)
    for holder_id in sorted(by_holder):
        lock_book(session, holder_id)
        scopes = [scope_of(session, account) for account in by_holder[holder_id]]
        with collector_paused(_line_count(session, [s.account_id for s in scopes])):
            decided = _reconcile_holder(session, holder_id, scopes, actor, options, result)
            if decided:
                result.flags_raised += flags.raise_flags(
                    session, holder_id, line_ids=[d.line.id for d in decided], spend_lines=_purchases(decided),
                    entry_ids=[part[0] for d in decided for part in d.parts if part[0] is not None], actor=actor,
                ).raised  # fmt: skip
    return result


def _purchases(decided: list[Decided]) -> list[flags.SpendLine]:
    """The purchases this run posted, as the flag rules see them (what else was matched,
    they read for themselves)."""
    return [
        flags.SpendLine(
            d.line.id, d.line.account_id, d.budget_id, d.parts[0][0], d.line.posted_on, d.line.amount_pence, d.line.mcc,
            d.line.merchant, d.line.dedupe_key,
        )  # fmt: skip
        for d in decided
        if d.method == MatchMethod.SPEND and d.line.amount_pence < 0
    ]


def _line_count(session: Session, account_ids: list[int]) -> int:
    """How many lines the accounts' statements hold: the size of the run, near enough."""
    table = StatementLineRecord.__table__
    return sum(
        int(session.scalar(select(func.count()).select_from(table).where(table.c.account_id.in_(chunk))) or 0)
        for chunk in journal_rows.chunks(sorted(account_ids))
    )


def _accounts(session: Session, account_ids: Sequence[int]) -> list[Account]:
    if not account_ids:
        raise InvalidInput("name at least one account to reconcile", code="no_accounts", field="account")
    found = list(session.scalars(select(Account).where(Account.id.in_(sorted(set(account_ids))))))
    missing = sorted(set(account_ids) - {a.id for a in found})
    if missing:
        raise NotFound(f"there is no account {missing[0]}", code="account_not_found")
    return sorted(found, key=lambda a: a.id or 0)


def _reconcile_holder(
    session: Session, holder_id: int, scopes: list[Scope], actor: str, options: ReconcileOptions, result: ReconcileResult
) -> list[Decided]:
    """Reconcile one holder's accounts; return what was decided for each line matched."""
    lines = unmatched_lines(session, [s.account_id for s in scopes])
    seen = sum(len(v) for v in lines.values())
    result.lines_seen += seen
    if not seen:
        return []
    candidates = unmatched_candidates(session, scopes)
    locked = locked_through(session, [s.account_id for s in scopes])
    closed = [(p.quarter, p.starts_on, p.ends_on) for p in session.scalars(select(ClosedPeriod).where(ClosedPeriod.book_id == holder_id))]
    categoriser = Categoriser(session, holder_id)
    decided: list[Decided] = []
    for scope in scopes:
        pool = _Pool(candidates[scope.account_id])
        for line in lines[scope.account_id]:
            through = locked.get(scope.account_id)
            if through is not None and line.posted_on <= through:
                result.locked += 1
                continue
            if closed_quarter_containing(closed, line.posted_on):
                result.in_closed_quarter += 1
                continue
            if why_not_postable(line.posted_on, line.amount_pence) is not None:
                result.held += 1
                result.unmatched += 1
                continue
            found = _decide(session, scope, line, pool, categoriser, actor, options, result)
            if found is None:
                result.unmatched += 1
            else:
                decided.append(found)
    _post_and_record(session, holder_id, decided, categoriser, actor, result)
    return decided


def unmatched_lines(session: Session, account_ids: Sequence[int], *, line_ids: Sequence[int] | None = None) -> dict[int, list[Line]]:
    """The lines of each account no active match stands for, in reconciliation order."""
    line = StatementLineRecord.__table__.c
    query = (
        select(
            line.id, line.account_id, line.posted_on, line.amount_pence, line.description, line.payee, line.mcc, line.kind,
            line.is_fee, line.dedupe_key, line.line_no, StatementImport.file_name, StatementImport.format, StatementImport.layout,
        )
        .join(StatementImport, StatementImport.id == line.import_id)
        .outerjoin(ReconciliationMatch, ReconciliationMatch.active_line_id == line.id)
        .where(line.account_id.in_(sorted(set(account_ids))), ReconciliationMatch.id.is_(None))
    )  # fmt: skip
    if line_ids is not None:
        query = query.where(line.id.in_(sorted(set(line_ids))))
    found: dict[int, list[Line]] = {account_id: [] for account_id in account_ids}
    for row in session.execute(query):
        found[row[1]].append(_cleaned(row))
    for account_lines in found.values():
        account_lines.sort(key=lambda line: (line.posted_on, line.amount_pence, line.dedupe_key))
    return found


def _cleaned(row) -> Line:  # type: ignore[no-untyped-def]
    """The line with its text as an import today stores it (lines stored before text was
    cleaned may hold controls the journal refuses in an entry's description)."""
    line_id, account_id, posted_on, amount, description, payee, mcc, kind, is_fee, key, line_no, file_name, format_, layout = row
    return Line(
        line_id, account_id, posted_on, amount, plain_text(description), plain_optional(payee), mcc, plain_optional(kind), is_fee, key,
        line_no, plain_text(file_name).strip() or UNNAMED_FILE, format_, layout,
    )  # fmt: skip


def locked_through(session: Session, account_ids: Sequence[int]) -> dict[int, date]:
    """The last day of each account's standing reconciliation lock."""
    found: dict[int, date] = {}
    query = select(ReconciliationLock.account_id, ReconciliationLock.through_on).where(
        ReconciliationLock.account_id.in_(sorted(set(account_ids))), ReconciliationLock.reopened_at.is_(None)
    )
    for account_id, through_on in session.execute(query):
        found[account_id] = max(through_on, found.get(account_id, through_on))
    return found


class _Pool:
    """A scope's unmatched entries, by bank amount; each is taken once."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.by_amount: dict[int, list[Candidate]] = {}
        self.all: list[Candidate] = []
        for candidate in candidates:
            self.by_amount.setdefault(candidate.bank_pence, []).append(candidate)
            self.all.append(candidate)
        self.taken: set[int] = set()

    def closest(self, amount: int, day: date, window_days: int, kinds: frozenset[str] | None = None) -> Candidate | None:
        best: tuple[int, date, int] | None = None
        found: Candidate | None = None
        for candidate in self.by_amount.get(amount, ()):
            if candidate.entry_id in self.taken or (kinds is not None and candidate.kind not in kinds):
                continue
            distance = abs((candidate.entry_date - day).days)
            if distance > window_days:
                continue
            rank = (distance, candidate.entry_date, candidate.entry_id)
            if best is None or rank < best:
                best, found = rank, candidate
        return found

    def available(self) -> list[Candidate]:
        return [c for c in self.all if c.entry_id not in self.taken]

    def take(self, candidates: Iterable[Candidate]) -> None:
        self.taken.update(c.entry_id for c in candidates)


_LOAD_KINDS = frozenset({EntryKind.DRAWDOWN, EntryKind.CONTINGENCY_USE, EntryKind.MANUAL, EntryKind.TRANSFER})


def _decide(
    session: Session, scope: Scope, line: Line, pool: _Pool, categoriser: Categoriser, actor: str,
    options: ReconcileOptions, result: ReconcileResult,
) -> Decided | None:  # fmt: skip
    window = options.match_window_days
    if scope.kind == StatementKind.CARD and line.amount_pence > 0:
        window = options.load_window_days if line.looks_like_load else window
    existing = pool.closest(line.amount_pence, line.posted_on, window)
    if existing is not None:
        pool.take([existing])
        result.matched_existing += 1
        return Decided(line, MatchMethod.EXISTING_ENTRY, [(existing.entry_id, line.amount_pence, _single_budget(existing), False)])
    if scope.kind == StatementKind.CLIENT_BANK:
        return _client_bank(session, scope, line, pool, actor, options, result)
    return _budget_account(scope, line, categoriser, result)


def _single_budget(candidate: Candidate) -> int | None:
    budgets = [b for b, _ in candidate.by_budget if b]
    return budgets[0] if len(budgets) == 1 else None


def _client_bank(
    session: Session, scope: Scope, line: Line, pool: _Pool, actor: str, options: ReconcileOptions, result: ReconcileResult
) -> Decided | None:
    if line.amount_pence > 0:
        outcome = bank_credit_match(session, scope.holder_id, line, actor)
    else:
        outcome = bank_debit_match(session, scope.holder_id, line, pool.available(), options.match_window_days, actor)
    if outcome.ambiguous:
        result.ambiguous += 1
    if outcome.method is None:
        return None
    if outcome.taken:
        pool.take(outcome.taken)
    counter = {
        MatchMethod.BULK_LOADS: "bulk_loads", MatchMethod.REMITTANCE: "funder_receipts",
        MatchMethod.RECEIVABLES: "funder_receipts", MatchMethod.PAYABLES: "payments",
    }[outcome.method]  # fmt: skip
    setattr(result, counter, getattr(result, counter) + 1)
    return Decided(line, outcome.method, list(outcome.parts))


def _budget_account(scope: Scope, line: Line, categoriser: Categoriser, result: ReconcileResult) -> Decided | None:
    assert scope.budget_id is not None
    if line.amount_pence > 0 and (scope.kind != StatementKind.CARD or line.looks_like_load):
        return None  # money in that the ledger has no entry for: a person must say what it is
    if line.looks_like_fee:
        result.posted_fees += 1
        return Decided(line, MatchMethod.FEE, [], budget_id=scope.budget_id)
    category = categoriser.categorise(line.mcc, line.merchant)
    if category is None:
        category = categoriser.uncategorised()
        result.uncategorised += 1
    if line.amount_pence > 0:
        result.posted_refunds += 1
        return Decided(line, MatchMethod.REFUND, [], category=category, budget_id=scope.budget_id)
    result.posted_spend += 1
    return Decided(line, MatchMethod.SPEND, [], category=category, budget_id=scope.budget_id)


# --- posting and recording ----------------------------------------------------------------


def _post_and_record(
    session: Session, holder_id: int, decided: list[Decided], categoriser: Categoriser, actor: str, result: ReconcileResult
) -> None:
    if not decided:
        return
    _refund_categories(session, decided, categoriser)
    _categories_as_posted(session, decided, categoriser)
    to_post = [d for d in decided if d.method in MatchMethod.POSTING_HERE]
    generations = _generations(session, [d.line.id for d in decided])
    if to_post:
        accounts = _posting_accounts(session, holder_id, to_post)
        for item in to_post:
            item.entry = _entry_for(holder_id, item, accounts, generations.get(item.line.id, 0), actor)
        outcomes = post_entries(session, [item.entry for item in to_post if item.entry is not None])
        for item, outcome in zip(to_post, outcomes):
            assert not outcome.outcome.is_conflict, f"reconciliation key reused for other content: {item.entry}"
            item.parts = [(outcome.entry.id, item.line.amount_pence, item.budget_id, True)]
    record_matches(session, holder_id, decided, actor=actor, created_by=f"{RECONCILER} ({actor})"[:200], generations=generations)
    result.matched_line_ids.extend(d.line.id for d in decided)


AS_POSTED = ("as-posted", "entry")
"""The rule a categorisation names when the spend was in the ledger before its line came:
the category it was posted to, by whoever posted it."""


def _categories_as_posted(session: Session, decided: list[Decided], categoriser: Categoriser) -> None:
    """A line matched to a purchase already in the ledger keeps the category that purchase
    was posted to, recorded as such (the line's categorisation names where it came from)."""
    existing = {
        d.parts[0][0]: d for d in decided
        if d.method == MatchMethod.EXISTING_ENTRY and d.line.amount_pence < 0 and len(d.parts) == 1 and d.parts[0][2] is not None
    }  # fmt: skip
    for chunk in journal_rows.chunks(sorted(e for e in existing if e is not None)):
        query = (
            select(Posting.entry_id, Account.category_id)
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.entry_id.in_(chunk), Account.kind == AccountKind.SPEND, Posting.amount_pence > 0)
        )
        spent: dict[int, list[int]] = {}
        for entry_id, category_id in session.execute(query):
            spent.setdefault(entry_id, []).append(category_id)
        for entry_id, categories in spent.items():
            category = categoriser.by_id.get(categories[0]) if len(categories) == 1 else None
            if category is not None and category.id is not None:
                existing[entry_id].category = Categorised(category.id, category.code, *AS_POSTED)


def _generations(session: Session, line_ids: list[int]) -> dict[int, int]:
    """How many times each line was matched before (and unmatched)."""
    found: dict[int, int] = {}
    from ledger.core.journal_rows import chunks

    for chunk in chunks(sorted(line_ids)):
        for line_id, generation in session.execute(
            select(ReconciliationMatch.statement_line_id, ReconciliationMatch.generation).where(ReconciliationMatch.statement_line_id.in_(chunk))
        ):
            found[line_id] = max(found.get(line_id, 0), generation + 1)
    return found


@dataclass(frozen=True, slots=True)
class _PostingAccounts:
    spend: dict[tuple[int, int], int]
    fixed: dict[tuple[int, str], int]
    """(budget id, kind) → account id for card, cash and fees."""


def _posting_accounts(session: Session, holder_id: int, items: list[Decided]) -> _PostingAccounts:
    budget_ids = sorted({item.budget_id for item in items if item.budget_id is not None})
    pairs = {(item.budget_id, item.category.category_id) for item in items if item.category is not None and item.budget_id is not None}
    spend = spend_accounts(session, holder_id, pairs)
    fixed: dict[tuple[int, str], int] = {}
    query = select(Account.budget_id, Account.kind, Account.id).where(
        Account.holder_id == holder_id, Account.kind.in_([AccountKind.CARD, AccountKind.CASH, AccountKind.FEES])
    )
    wanted = set(budget_ids)
    for budget_id, kind, account_id in session.execute(query):
        if budget_id in wanted:
            fixed[(budget_id, kind)] = account_id
    return _PostingAccounts(spend, fixed)


def _entry_for(holder_id: int, item: Decided, accounts: _PostingAccounts, generation: int, actor: str) -> NewEntry:
    line, budget = item.line, item.budget_id
    assert budget is not None
    holding = accounts.fixed[(budget, AccountKind.CARD if _on_card(item, accounts) else AccountKind.CASH)]
    amount = line.amount_pence
    words = line.merchant.strip()[:200] or "(no description)"
    if item.method == MatchMethod.FEE:
        other, kind, description = accounts.fixed[(budget, AccountKind.FEES)], EntryKind.FEE, f"Fee: {words}"
    else:
        assert item.category is not None
        other = accounts.spend[(budget, item.category.category_id)]
        on_card = holding == accounts.fixed.get((budget, AccountKind.CARD))
        if item.method == MatchMethod.REFUND:
            kind, description = EntryKind.CARD_REFUND, f"Card refund: {words}"
        else:
            kind = EntryKind.CARD_PURCHASE if on_card else EntryKind.BANK_SPEND
            description = f"{'Card purchase' if on_card else 'Paid from the bank account'}: {words}"
    return NewEntry(
        book_id=holder_id,
        entry_date=line.posted_on,
        description=f"{description} ({format_gbp(abs(amount))})"[:500],
        idempotency_key=f"reconcile:account-{line.account_id}:{line.dedupe_key}:{generation}",
        postings=(NewPosting(holding, amount), NewPosting(other, -amount)),
        kind=kind,
        provenance=line.provenance(),
        created_by=actor,
    )


def _on_card(item: Decided, accounts: _PostingAccounts) -> bool:
    assert item.budget_id is not None
    card = accounts.fixed.get((item.budget_id, AccountKind.CARD))
    return card is not None and card == item.line.account_id


def _refund_categories(session: Session, decided: list[Decided], categoriser: Categoriser) -> None:
    """A refund goes back to the category of the latest purchase at the same merchant on the
    same budget, when there is one (otherwise the rules' choice stands)."""
    refunds = [d for d in decided if d.method == MatchMethod.REFUND and d.budget_id is not None]
    if not refunds:
        return
    earlier: dict[tuple[int, str], Categorised] = {}
    for item in decided:
        if item.method == MatchMethod.SPEND and item.category is not None and item.budget_id is not None:
            earlier[(item.budget_id, merchant_key(item.line.merchant))] = item.category
    budget_ids = sorted({d.budget_id for d in refunds if d.budget_id is not None})
    query = (
        select(Categorisation.budget_id, Categorisation.merchant_key, Categorisation.category_id)
        .where(Categorisation.budget_id.in_(budget_ids))
        .order_by(Categorisation.id)
    )
    stored = {(b, k): c for b, k, c in session.execute(query)}
    for refund in refunds:
        assert refund.budget_id is not None
        key = (refund.budget_id, merchant_key(refund.line.merchant))
        if key in earlier:
            refund.category = Categorised(earlier[key].category_id, earlier[key].category_code, "refund-of-purchase", "1")
        elif key in stored:
            category = categoriser.by_id[stored[key]]
            assert category.id is not None
            refund.category = Categorised(category.id, category.code, "refund-of-purchase", "1")


MATCH_COLUMNS = ("id", "holder_id", "account_id", "statement_line_id", "active_line_id", "method", "generation", "created_by", "created_at")
PART_COLUMNS = ("id", "match_id", "account_id", "entry_id", "active_entry_id", "budget_id", "amount_pence", "posted_here")
CATEGORISATION_COLUMNS = (
    "match_part_id", "budget_id", "category_id", "merchant_key", "rule_id", "rule_version", "decided_by", "by_person",
    "entry_id", "created_at",
)  # fmt: skip


def record_matches(
    session: Session, holder_id: int, decided: Sequence[Decided], *, actor: str, created_by: str, generations: dict[int, int] | None = None
) -> list[int]:
    """Write the match rows (and categorisations) for decided lines; return the match ids.
    Rows go straight to the driver with ids reserved first, as journal entries do: a
    reconciliation of 100,000 lines writes 300,000 rows."""
    if not decided:
        return []
    if generations is None:
        generations = _generations(session, [d.line.id for d in decided])
    _encode_date, encode_timestamp = journal_rows.date_encoder(session)
    now = encode_timestamp(utcnow())
    by = created_by[:200]
    match_ids = journal_rows.reserve_ids(session, "reconciliation_match", len(decided))
    match_rows, part_rows, categorisations = [], [], []
    parts = [(match_id, item, part) for match_id, item in zip(match_ids, decided) for part in item.parts]
    part_ids = journal_rows.reserve_ids(session, "reconciliation_match_part", len(parts))
    for match_id, item in zip(match_ids, decided):
        line = item.line
        match_rows.append((match_id, holder_id, line.account_id, line.id, line.id, item.method, generations.get(line.id, 0), by, now))
    for part_id, (match_id, item, (entry_id, pence, budget_id, posted_here)) in zip(part_ids, parts):
        assert entry_id is not None
        part_rows.append((part_id, match_id, item.line.account_id, entry_id, entry_id, budget_id, pence, posted_here))
        if item.category is not None and budget_id is not None:
            categorisations.append(
                (
                    part_id, budget_id, item.category.category_id, merchant_key(item.line.merchant)[:200], item.category.rule_id,
                    item.category.rule_version, by, False, entry_id, now,
                )  # fmt: skip
            )
    journal_rows.insert_rows(session, "reconciliation_match", MATCH_COLUMNS, match_rows)
    journal_rows.insert_rows(session, "reconciliation_match_part", PART_COLUMNS, part_rows)
    journal_rows.insert_rows(session, "categorisation", CATEGORISATION_COLUMNS, categorisations)
    return match_ids


