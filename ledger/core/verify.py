"""``verify``: every invariant of the ledger, checked again from the stored rows.

The journal refuses bad entries when they are posted; ``verify`` proves, afterwards, that
nothing has changed since — an amount edited in the database, a posting deleted, an entry
slipped into a closed quarter. It is an ordered list of small checks. Each takes one stored
entry (as read back from the database, not as the journal meant to write it) and returns
the problems it finds, each naming the entry and, where the entry came from a statement,
the file and line. Chain checks follow each book from its first entry to its head.

One pass streams every entry with its postings in book order, so memory stays flat
however large the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.entries import (
    POSTINGS_MIN,
    StoredEntry,
    StoredPosting,
    chain_hash,
    fund_totals,
    negated,
    stored_entry_content_hash,
)
from ledger.core.journal_rows import load_entries, stored_entry_from_row
from ledger.store.tables import Account, ClosedPeriod, JournalEntry, LedgerBook, Posting
from ledger.store.tables.journal import GENESIS_HASH


@dataclass(frozen=True, slots=True)
class Problem:
    check: str
    message: str
    book_id: int | None = None
    entry_id: int | None = None
    seq: int | None = None
    source_file: str | None = None
    source_line: int | None = None

    def __str__(self) -> str:
        where = f"book {self.book_id} entry {self.entry_id} (seq {self.seq})" if self.entry_id else f"book {self.book_id}"
        source = f" [{self.source_file}:{self.source_line}]" if self.source_file else ""
        return f"{self.check}: {where}{source}: {self.message}"


@dataclass
class _Context:
    accounts: dict[int, tuple[int, int | None]]
    """account id → (holder id, budget id)."""
    closed: dict[int, list[tuple[str, date, date, object]]]
    fund_of: dict[int, int | None] = field(default_factory=dict)
    """account id → budget id (its fund), worked out once per run, not once per entry."""


@dataclass(frozen=True, slots=True)
class _Read:
    entry: StoredEntry
    posting_dates: tuple[date, ...]


EntryCheck = Callable[[_Read, _Context], Iterator[str]]


def check_posting_count(read: _Read, _ctx: _Context) -> Iterator[str]:
    if len(read.entry.postings) < POSTINGS_MIN:
        yield f"has {len(read.entry.postings)} posting(s); an entry needs at least {POSTINGS_MIN}"


def check_postings_nonzero(read: _Read, _ctx: _Context) -> Iterator[str]:
    for posting in read.entry.postings:
        if posting.amount_pence == 0:
            yield f"posting line {posting.line_no} has a zero amount"


def check_accounts_in_book(read: _Read, ctx: _Context) -> Iterator[str]:
    for posting in read.entry.postings:
        facts = ctx.accounts.get(posting.account_id)
        if facts is None:
            yield f"posting line {posting.line_no} names account {posting.account_id}, which does not exist"
        elif facts[0] != read.entry.book_id:
            yield f"posting line {posting.line_no} posts to account {posting.account_id} of another holder's book"


def check_balanced_per_fund(read: _Read, ctx: _Context) -> Iterator[str]:
    postings = [p for p in read.entry.postings if p.account_id in ctx.accounts]
    totals = fund_totals(postings, ctx.fund_of)
    for fund, total in totals.items():
        if total != 0:
            yield f"does not sum to zero within {'the holder fund' if fund is None else f'budget {fund}'}: off by {total} pence"


def check_posting_dates(read: _Read, _ctx: _Context) -> Iterator[str]:
    for line, posting_date in enumerate(read.posting_dates, 1):
        if posting_date != read.entry.entry_date:
            yield f"posting line {line} is dated {posting_date}, the entry {read.entry.entry_date}"


def check_content_hash(read: _Read, _ctx: _Context) -> Iterator[str]:
    if stored_entry_content_hash(read.entry) != read.entry.content_hash:
        yield "its content no longer matches its hash: an amount, account, date or text was changed after posting"


def check_not_in_closed_period(read: _Read, ctx: _Context) -> Iterator[str]:
    for label, starts_on, ends_on, closed_at in ctx.closed.get(read.entry.book_id, ()):
        if starts_on <= read.entry.entry_date <= ends_on and read.entry.created_at > closed_at:  # type: ignore[operator]
            yield f"is dated in {label} but was posted after {label} was closed"


ENTRY_CHECKS: tuple[tuple[str, EntryCheck], ...] = (
    ("posting_count", check_posting_count),
    ("postings_nonzero", check_postings_nonzero),
    ("accounts_in_book", check_accounts_in_book),
    ("balanced_per_fund", check_balanced_per_fund),
    ("posting_dates", check_posting_dates),
    ("content_hash", check_content_hash),
    ("closed_period", check_not_in_closed_period),
)
"""In order: cheap structural checks first, then hashes, then rules between entries.
Reversals are checked after the pass (:func:`check_reversals`): they are few, and checking
them against their originals then keeps the pass from holding every entry in memory."""


def check_reversals(session: Session, reversals: list[StoredEntry]) -> Iterator[Problem]:
    """Each reversal names an entry of its own book, is its exact negation, and is its only
    reversal."""
    originals = load_entries(session, {r.reverses_entry_id for r in reversals if r.reverses_entry_id is not None})
    first_reversal: dict[int, int] = {}
    for reversal in reversals:
        target = reversal.reverses_entry_id
        assert target is not None
        original = originals.get(target)
        if original is None or original.book_id != reversal.book_id:
            yield _problem("reversal", f"reverses entry {target}, which is not in the same book", reversal)
            continue
        expected = sorted((p.account_id, p.amount_pence) for p in negated(original.postings))
        if sorted((p.account_id, p.amount_pence) for p in reversal.postings) != expected:
            yield _problem("reversal", f"is not the exact negation of entry {target}, which it reverses", reversal)
        if target in first_reversal:
            yield _problem("reversal", f"reverses entry {target} again (entry {first_reversal[target]} already did)", reversal)
        first_reversal.setdefault(target, reversal.id)


def verify(session: Session, *, progress: Callable[[int], None] | None = None) -> list[Problem]:
    """Check every entry of every book; return the problems found (none: the ledger holds)."""
    ctx = _load_context(session)
    problems: list[Problem] = []
    heads = {row.holder_id: (row.head_seq, row.head_hash) for row in session.execute(select(LedgerBook.__table__))}
    chain: dict[int, tuple[int, str]] = {}
    reversals: list[StoredEntry] = []
    checked = 0
    for read in _stream(session):
        entry = read.entry
        problems.extend(_check_entry(read, ctx))
        problems.extend(_check_link(entry, chain.get(entry.book_id, (0, GENESIS_HASH))))
        chain[entry.book_id] = (entry.seq, entry.entry_hash)
        if entry.reverses_entry_id is not None:
            reversals.append(entry)
        checked += 1
        if progress is not None and checked % 10_000 == 0:
            progress(checked)
    if progress is not None:
        progress(checked)
    problems.extend(check_reversals(session, reversals))
    for book_id, (head_seq, head_hash) in sorted(heads.items()):
        last_seq, last_hash = chain.get(book_id, (0, GENESIS_HASH))
        if (last_seq, last_hash) != (head_seq, head_hash):
            problems.append(
                Problem(
                    "book_head",
                    f"the book's head says seq {head_seq}, but its chain ends at seq {last_seq}"
                    + (" with another hash" if last_seq == head_seq else ": entries are missing"),
                    book_id=book_id,
                )
            )
    return problems


def _check_entry(read: _Read, ctx: _Context) -> Iterator[Problem]:
    entry = read.entry
    for name, check in ENTRY_CHECKS:
        for message in check(read, ctx):
            yield _problem(name, message, entry)


def _check_link(entry: StoredEntry, previous: tuple[int, str]) -> Iterator[Problem]:
    previous_seq, previous_hash = previous
    if entry.seq != previous_seq + 1:
        yield _problem("chain_sequence", f"follows seq {previous_seq}: entries are missing or out of order", entry)
    if entry.prev_hash != previous_hash:
        yield _problem("chain_link", "does not link to the entry before it: the chain was altered", entry)
    recomputed = chain_hash(
        prev_hash=entry.prev_hash,
        seq=entry.seq,
        content_hash_hex=entry.content_hash,
        created_at=entry.created_at,
        created_by=entry.created_by,
    )
    if recomputed != entry.entry_hash:
        yield _problem("chain_hash", "its chain hash does not match what it links: the entry or its hash was changed", entry)


def _problem(check: str, message: str, entry: StoredEntry) -> Problem:
    return Problem(
        check,
        message,
        book_id=entry.book_id,
        entry_id=entry.id,
        seq=entry.seq,
        source_file=entry.provenance.source_file,
        source_line=entry.provenance.source_line,
    )


def _load_context(session: Session) -> _Context:
    accounts = {row.id: (row.holder_id, row.budget_id) for row in session.execute(select(Account.id, Account.holder_id, Account.budget_id))}
    closed: dict[int, list[tuple[str, date, date, object]]] = {}
    for period in session.execute(select(ClosedPeriod)).scalars():
        closed.setdefault(period.book_id, []).append((period.quarter, period.starts_on, period.ends_on, period.closed_at))
    return _Context(accounts=accounts, closed=closed, fund_of={account_id: facts[1] for account_id, facts in accounts.items()})


def _stream(session: Session) -> Iterator[_Read]:
    """Every entry with its postings, in book and chain order, a few thousand rows at a time."""
    entry, posting = JournalEntry.__table__, Posting.__table__
    query = (
        select(
            entry,
            posting.c.line_no.label("p_line_no"),
            posting.c.account_id.label("p_account_id"),
            posting.c.amount_pence.label("p_amount_pence"),
            posting.c.entry_date.label("p_entry_date"),
        )
        .select_from(entry.outerjoin(posting, posting.c.entry_id == entry.c.id))
        .order_by(entry.c.book_id, entry.c.seq, entry.c.id, posting.c.line_no)
    )
    current = None
    postings: list[StoredPosting] = []
    dates: list[date] = []
    result = session.execute(query, execution_options={"yield_per": 5000})
    for row in result:
        if current is not None and row.id != current.id:
            yield _Read(stored_entry_from_row(current, postings), tuple(dates))
            postings, dates = [], []
        current = row
        if row.p_line_no is not None:
            postings.append(StoredPosting(row.p_line_no, row.p_account_id, row.p_amount_pence))
            dates.append(row.p_entry_date)
    if current is not None:
        yield _Read(stored_entry_from_row(current, postings), tuple(dates))
