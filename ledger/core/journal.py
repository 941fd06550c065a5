"""The journal: post entries, reverse them, exactly once, hash-chained per book.

What is serialised, and why
---------------------------
Each holder's book is one hash chain: entry ``n`` stores the hash of entry ``n − 1``. Two
writers that both read head ``n`` and both append ``n + 1`` would fork the chain, and two
writers that both look up an unused idempotency key and both insert it would post a
payment twice. So every post first takes the book's lock and only then reads the chain head
and looks up keys:

- PostgreSQL: ``SELECT … FROM ledger_book WHERE holder_id = … FOR UPDATE``. Writers to the
  same book queue on that row; writers to different books run in parallel. The session runs
  at READ COMMITTED, so each statement after the lock sees what the previous lock holder
  committed. Books are locked in ascending id order, so a batch spanning books cannot
  deadlock with another. ``UNIQUE (book_id, idempotency_key)`` and ``UNIQUE (book_id, seq)``
  back this up: a bug that skipped the lock would fail loudly, not fork.
- SQLite: there is one writer at a time anyway; ``Database.write`` starts every write
  transaction with ``BEGIN IMMEDIATE`` so the write lock is held from the first read.

Services never commit: if anything here raises, the caller must roll back (``Database.write``
does), and nothing of the call is kept.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.core import journal_rows as rows
from ledger.core.entries import (
    FundKey,
    NewEntry,
    PostOutcome,
    PostResult,
    StoredEntry,
    StoredPosting,
    chain_hash_with,
    chain_suffix,
    check_balanced,
    check_shape,
    entry_label,
    negated,
    new_entry_content_hash,
    replay_outcome,
)
from ledger.core.periods import closed_quarter_containing
from ledger.core.vocabulary import EntryKind, PlanStatus
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.tables import ClosedPeriod, JournalEntry, LedgerBook, SupportPlanVersion, utcnow

GC_PAUSE_ENTRIES_MIN = 1000
_new_tuple = tuple.__new__


@dataclass(frozen=True, slots=True)
class _AccountFacts:
    holder_id: int
    budget_id: FundKey
    code: str


def post_entry(session: Session, entry: NewEntry) -> PostResult:
    """Post one entry. See :func:`post_entries`."""
    return post_entries(session, [entry])[0]


def post_entries(session: Session, entries: Sequence[NewEntry]) -> list[PostResult]:
    """Post entries in order, each exactly once, and return one result per entry.

    ``created``: appended to its book. ``exists``: the key was used before for the same
    content; the original is returned and nothing changes. ``exists_with_different_…``: the
    key was used for other content; nothing changes (the API answers 409).

    Raises ``InvalidInput`` (bad entry), ``NotFound`` (unknown book or reversal target) or
    ``Conflict`` (closed period, unagreed plan, second reversal); then the caller must roll
    back, and nothing of the call is kept.
    """
    _assert_write_transaction(session)
    with collector_paused(len(entries)):
        return _post_entries(session, entries)


@contextmanager
def collector_paused(entry_count: int) -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a large batch. A batch allocates several
    acyclic tuples per entry, which makes the collector run over and over for nothing (~5%
    of a bulk post's instructions, ~20% of a reconciliation's); it runs as usual as soon as
    the batch is done."""
    if entry_count < GC_PAUSE_ENTRIES_MIN or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _post_entries(session: Session, entries: Sequence[NewEntry]) -> list[PostResult]:
    many = len(entries) > 1
    for index, entry in enumerate(entries):
        check_shape(entry, index if many else None)
    indexes_by_book = _indexes_by_book(entries)
    accounts = _load_accounts(session, {posting.account_id for entry in entries for posting in entry.postings})
    results: list[PostResult | None] = [None] * len(entries)
    for book_id in sorted(indexes_by_book):
        _post_to_book(session, book_id, entries, indexes_by_book[book_id], accounts, results, many)
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


def _indexes_by_book(entries: Sequence[NewEntry]) -> dict[int, list[int]]:
    books = {entry.book_id for entry in entries}
    if len(books) == 1:  # the usual batch: one holder's statement or payroll
        return {books.pop(): list(range(len(entries)))}
    indexes: dict[int, list[int]] = defaultdict(list)
    for index, entry in enumerate(entries):
        indexes[entry.book_id].append(index)
    return indexes


def reverse_entry(
    session: Session,
    entry_id: int,
    *,
    entry_date: date,
    idempotency_key: str,
    created_by: str,
    description: str | None = None,
) -> PostResult:
    """Post the reversal of ``entry_id``: its postings negated, linked to it, once only."""
    original = load_entry(session, entry_id)
    reversal = NewEntry(
        book_id=original.book_id,
        entry_date=entry_date,
        description=description or f"Reversal of entry {original.id}: {original.description}"[:500],
        idempotency_key=idempotency_key,
        postings=negated(original.postings),
        kind=EntryKind.REVERSAL,
        reverses_entry_id=original.id,
        created_by=created_by,
    )
    return post_entry(session, reversal)


def load_entry(session: Session, entry_id: int) -> StoredEntry:
    found = rows.load_entries(session, [entry_id]).get(entry_id)
    if found is None:
        raise NotFound(f"there is no journal entry {entry_id}", code="entry_not_found")
    return found


def _assert_write_transaction(session: Session) -> None:
    if rows.is_sqlite(session):
        options = session.connection().get_execution_options()
        assert options.get("sqlite_begin") == "IMMEDIATE", "post inside Database.write(): SQLite needs BEGIN IMMEDIATE"


def _post_to_book(
    session: Session,
    book_id: int,
    entries: Sequence[NewEntry],
    indexes: list[int],
    accounts: dict[int, _AccountFacts],
    results: list[PostResult | None],
    many: bool,
) -> None:
    head_seq, head_hash = _lock_book(session, book_id)
    fund_of = {account_id: facts.budget_id for account_id, facts in accounts.items()}
    hashes: dict[int, str] = {}
    for index in indexes:
        entry = entries[index]
        label_index = index if many else None
        _check_accounts(entry, accounts, label_index)
        check_balanced(entry, fund_of, label_index)
        hashes[index] = new_entry_content_hash(entry)
    fresh, replays = _sort_out_replays(session, book_id, entries, indexes)
    _check_state(session, book_id, entries, fresh, accounts, many)
    created = _append(session, book_id, head_seq, head_hash, entries, fresh, hashes)
    for index, stored in created.items():
        results[index] = _new_tuple(PostResult, (PostOutcome.CREATED, stored))
    if not replays:
        return
    originals = rows.load_entries(session, {entry_id for entry_id, _ in replays.values() if entry_id is not None})
    for index, (entry_id, batch_index) in replays.items():
        original = originals[entry_id] if entry_id is not None else created[batch_index]
        results[index] = PostResult(replay_outcome(original, entries[index]), original)


def lock_book(session: Session, book_id: int) -> None:
    """Take the book's lock for the rest of the transaction (PostgreSQL: its row, FOR
    UPDATE; SQLite: the write transaction already holds the whole database). A service that
    reads the book and then posts what it read implies (the drawdown run) takes it first,
    so that two such services never act on the same reading."""
    _assert_write_transaction(session)
    _lock_book(session, book_id)


def _lock_book(session: Session, book_id: int) -> tuple[int, str]:
    book = LedgerBook.__table__
    query = select(book.c.head_seq, book.c.head_hash).where(book.c.holder_id == book_id)
    if not rows.is_sqlite(session):
        query = query.with_for_update()
    head = session.execute(query).first()
    if head is None:
        raise NotFound(f"there is no book for holder {book_id}", code="book_not_found")
    return head.head_seq, head.head_hash


def _load_accounts(session: Session, account_ids: set[int]) -> dict[int, _AccountFacts]:
    return {
        account_id: _AccountFacts(holder_id, budget_id, code)
        for account_id, holder_id, budget_id, code in rows.account_facts(session, sorted(account_ids))
    }


def _check_accounts(entry: NewEntry, accounts: dict[int, _AccountFacts], index: int | None) -> None:
    book_id = entry.book_id
    for posting in entry.postings:
        facts = accounts.get(posting.account_id)
        if facts is None or facts.holder_id != book_id:
            _refuse_account(entry, accounts, entry_label(index))


def _refuse_account(entry: NewEntry, accounts: dict[int, _AccountFacts], where: str) -> None:
    for line, posting in enumerate(entry.postings):
        facts = accounts.get(posting.account_id)
        if facts is None:
            raise InvalidInput(
                f"{where}.postings[{line}] names account {posting.account_id}, which does not exist",
                code="unknown_account",
                field=f"{where}.postings[{line}].account",
            )
        if facts.holder_id != entry.book_id:
            raise InvalidInput(
                f"{where}.postings[{line}]: account {facts.code} belongs to another holder's book",
                code="account_in_other_book",
                field=f"{where}.postings[{line}].account",
            )
    raise AssertionError("_refuse_account is called only for an entry with a bad account")


def _sort_out_replays(
    session: Session, book_id: int, entries: Sequence[NewEntry], indexes: list[int]
) -> tuple[list[int], dict[int, tuple[int | None, int | None]]]:
    """Split the book's entries into fresh ones and replays of a key already used, either
    in the book (→ stored entry id) or earlier in this batch (→ batch index)."""
    keys = sorted({entries[index].idempotency_key for index in indexes})
    stored_ids = rows.keys_in_book(session, book_id, keys)
    fresh: list[int] = []
    replays: dict[int, tuple[int | None, int | None]] = {}
    first_in_batch: dict[str, int] = {}
    for index in indexes:
        key = entries[index].idempotency_key
        if key in stored_ids:
            replays[index] = (stored_ids[key], None)
        elif key in first_in_batch:
            replays[index] = (None, first_in_batch[key])
        else:
            first_in_batch[key] = index
            fresh.append(index)
    return fresh, replays


def _check_state(
    session: Session,
    book_id: int,
    entries: Sequence[NewEntry],
    fresh: list[int],
    accounts: dict[int, _AccountFacts],
    many: bool,
) -> None:
    """Rules that depend on what is recorded: closed periods, agreed plans, reversals."""
    if not fresh:
        return
    closed = _closed_periods(session, book_id)
    budgets_touched = {
        accounts[p.account_id].budget_id for index in fresh for p in entries[index].postings
    } - {None}
    agreed = _budgets_with_agreed_plan(session, budgets_touched)
    reversal_targets: dict[int, int] = {}
    for index in fresh:
        entry = entries[index]
        quarter = closed_quarter_containing(closed, entry.entry_date) if closed else None
        if quarter is not None:
            where = entry_label(index if many else None)
            raise Conflict(
                f"{where} is dated {entry.entry_date}, inside {quarter}, which is closed for this book",
                code="period_closed",
                field=f"{where}.entry_date",
            )
        for posting in entry.postings:
            budget_id = accounts[posting.account_id].budget_id
            if budget_id is not None and budget_id not in agreed:
                where = entry_label(index if many else None)
                raise Conflict(
                    f"{where}: budget {budget_id} has no agreed support plan; only agreed plans move money",
                    code="plan_not_agreed",
                    field=f"{where}.postings",
                )
        if entry.reverses_entry_id is not None:
            if entry.reverses_entry_id in reversal_targets:
                where = entry_label(index if many else None)
                raise Conflict(f"{where} reverses an entry this request already reverses", code="already_reversed")
            reversal_targets[entry.reverses_entry_id] = index
    if reversal_targets:
        _check_reversals(session, book_id, entries, reversal_targets, many)


def _closed_periods(session: Session, book_id: int) -> list[tuple[str, date, date]]:
    table = ClosedPeriod.__table__
    return [
        (row.quarter, row.starts_on, row.ends_on)
        for row in session.execute(
            select(table.c.quarter, table.c.starts_on, table.c.ends_on).where(table.c.book_id == book_id)
        )
    ]


def _budgets_with_agreed_plan(session: Session, budget_ids: set[FundKey]) -> set[int]:
    table = SupportPlanVersion.__table__
    agreed: set[int] = set()
    for chunk in rows.chunks(sorted(b for b in budget_ids if b is not None)):
        agreed.update(
            session.execute(
                select(table.c.budget_id)
                .where(table.c.budget_id.in_(chunk), table.c.status == PlanStatus.AGREED)
                .distinct()
            ).scalars()
        )
    return agreed


def _check_reversals(
    session: Session, book_id: int, entries: Sequence[NewEntry], targets: dict[int, int], many: bool
) -> None:
    originals = rows.load_entries(session, targets)
    table = JournalEntry.__table__
    already = dict(
        session.execute(
            select(table.c.reverses_entry_id, table.c.id).where(table.c.reverses_entry_id.in_(list(targets)))
        ).all()
    )
    for target_id, index in targets.items():
        where = entry_label(index if many else None)
        original = originals.get(target_id)
        if original is None or original.book_id != book_id:
            raise NotFound(f"there is no journal entry {target_id} in this book to reverse", code="entry_not_found")
        if original.reverses_entry_id is not None:
            raise Conflict(
                f"entry {target_id} is itself a reversal and cannot be reversed; post a new entry instead",
                code="reversal_not_reversible",
            )
        if target_id in already:
            raise Conflict(
                f"entry {target_id} was already reversed by entry {already[target_id]}",
                code="already_reversed",
                details={"reversed_by_entry_id": already[target_id]},
            )
        expected = sorted((p.account_id, p.amount_pence) for p in negated(original.postings))
        given = sorted((p.account_id, p.amount_pence) for p in entries[index].postings)
        if expected != given:
            raise InvalidInput(
                f"{where}: a reversal's postings must be exactly those of entry {target_id}, negated",
                code="reversal_mismatch",
                field=f"{where}.postings",
            )


def _append(
    session: Session,
    book_id: int,
    head_seq: int,
    head_hash: str,
    entries: Sequence[NewEntry],
    fresh: list[int],
    hashes: dict[int, str],
) -> dict[int, StoredEntry]:
    """Give each fresh entry its ids, sequence number and chain hash; write the rows and move
    the book's head. Called with the book locked."""
    if not fresh:
        return {}
    entry_ids = rows.reserve_ids(session, "journal_entry", len(fresh))
    created_at = utcnow()
    encode_date, encode_timestamp = rows.date_encoder(session)
    created_at_value = encode_timestamp(created_at)
    created: dict[int, StoredEntry] = {}
    entry_rows: list[tuple] = []
    posting_rows: list[tuple] = []
    suffixes: dict[str, str] = {}
    seq, prev_hash = head_seq, head_hash
    for entry_id, index in zip(entry_ids, fresh, strict=True):
        entry = entries[index]
        seq += 1
        content_hash = hashes[index]
        suffix = suffixes.get(entry.created_by)
        if suffix is None:
            suffix = suffixes[entry.created_by] = chain_suffix(created_at, entry.created_by)
        entry_hash = chain_hash_with(prev_hash, seq, content_hash, suffix)
        date_value = encode_date(entry.entry_date)
        postings = []
        for line, (account_id, amount_pence) in enumerate(entry.postings, 1):
            postings.append(_new_tuple(StoredPosting, (line, account_id, amount_pence)))
            posting_rows.append((entry_id, line, account_id, amount_pence, date_value))
        # tuple.__new__ directly: a named tuple's own constructor is a Python-level function,
        # and this loop runs once per entry.
        stored = _new_tuple(StoredEntry, (
            entry_id, book_id, seq, entry.entry_date, entry.kind, entry.description, entry.idempotency_key,
            entry.reverses_entry_id, entry.provenance, created_at, entry.created_by, content_hash, prev_hash,
            entry_hash, tuple(postings),
        ))  # fmt: skip
        created[index] = stored
        entry_rows.append(rows.entry_row(stored, date_value, created_at_value))
        prev_hash = entry_hash
    rows.insert_rows(session, "journal_entry", rows.ENTRY_COLUMNS, entry_rows)
    rows.insert_rows(session, "posting", rows.POSTING_COLUMNS, posting_rows)
    moved = session.execute(
        text(
            "UPDATE ledger_book SET head_seq = :seq, head_hash = :hash "
            "WHERE holder_id = :book AND head_seq = :old_seq"
        ),
        {"seq": seq, "hash": prev_hash, "book": book_id, "old_seq": head_seq},
    ).rowcount
    assert moved == 1, f"book {book_id} head moved while locked"
    return created
