"""Posting from many writers at once: exactly once per key, chains without forks or gaps, and
no lost or refused writes.

``ledger.core.journal`` serialises posts per book (a row lock on the book in PostgreSQL,
``BEGIN IMMEDIATE`` in SQLite) so that two writers can neither post the same key twice nor
both append seq ``n + 1``. These tests make writers collide on purpose:

- PostgreSQL, 8 threads released together by a barrier, posting the *same* key: one entry,
  one ``created``, seven ``exists``, one entry id for all (DESIGN.md §3: the same key and
  content returns the original; research/reliability.md goal 3, "key race");
- PostgreSQL, 8 threads posting *different* entries for several rounds, to two books and in
  batches that span both books (locks taken in book order, so no deadlock): every entry
  lands, each book's chain runs 1..n without a gap, ``verify`` passes;
- SQLite, 8 processes × 1,000 posts, each its own transaction, all to one book: no
  "database is locked", no lost write, ``verify`` passes (reliability.md goal 20).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets import parties
from ledger.core import journal
from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, NewPosting, PostOutcome, PostResult
from ledger.core.verify import verify
from ledger.store.database import Database
from ledger.store.tables import JournalEntry
from tests.support.builders import World, make_budget, make_person, make_plan, make_world
from tests.support.concurrent_posting import PostingPlan, WorkerReport, post_all, post_from_a_process
from tests.support.databases import SqliteTemplate

WRITERS = 8
BARRIER_TIMEOUT_S = 60
T = TypeVar("T")


def run_together(task: Callable[[int], T], *, writers: int = WRITERS) -> list[T]:
    """Run ``task(writer)`` on ``writers`` threads released at the same instant; re-raise the
    first exception any of them raised."""
    start_together = threading.Barrier(writers, timeout=BARRIER_TIMEOUT_S)

    def released(writer: int) -> T:
        start_together.wait()
        return task(writer)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        futures = [pool.submit(released, writer) for writer in range(writers)]
        return [future.result() for future in futures]


def payment(book_id: int, debit: int, credit: int, *, key: str, pence: int) -> NewEntry:
    return NewEntry(
        book_id=book_id,
        entry_date=date(2026, 4, 6),
        description="ICB payment",
        idempotency_key=key,
        postings=(NewPosting(debit, pence), NewPosting(credit, -pence)),
        kind="funder_payment",
    )


def entry_count(database: Database, **where: object) -> int:
    query = select(func.count()).select_from(JournalEntry)
    for column, value in where.items():
        query = query.where(getattr(JournalEntry, column) == value)
    with database.read() as session:
        return session.execute(query).scalar_one()


def chains(database: Database) -> dict[int, list[int]]:
    """Each book's sequence numbers, in order."""
    with database.read() as session:
        rows = session.execute(select(JournalEntry.book_id, JournalEntry.seq).order_by(JournalEntry.book_id, JournalEntry.seq))
        found: dict[int, list[int]] = {}
        for book_id, seq in rows:
            found.setdefault(book_id, []).append(seq)
        return found


def assert_verifies(database: Database) -> None:
    with database.read() as session:
        problems = verify(session)
    assert problems == [], "\n".join(str(problem) for problem in problems)


# --- PostgreSQL: threads --------------------------------------------------------------------


SAME_KEY_ROUNDS = 15


def test_eight_threads_posting_the_same_key_post_it_once(pg: Database) -> None:
    with pg.write() as session:
        world = make_world(session)
        cash = world.account_id(session, "cash")
        receivable = world.account_id(session, "receivable:icb-devon")
    before = entry_count(pg)
    for round_number in range(SAME_KEY_ROUNDS):
        entry = payment(world.holder.id, cash, receivable, key=f"race-{round_number}", pence=10_000 + round_number)

        def post(_writer: int, entry: NewEntry = entry) -> PostResult:
            with pg.write() as session:
                return journal.post_entry(session, entry)

        results = run_together(post)
        outcomes = Counter(result.outcome for result in results)
        assert outcomes == {PostOutcome.CREATED: 1, PostOutcome.EXISTS: WRITERS - 1}, f"round {round_number}: {outcomes}"
        assert len({result.entry.id for result in results}) == 1, "every writer must get the one entry"
        assert len({result.entry.entry_hash for result in results}) == 1
        assert entry_count(pg, idempotency_key=entry.idempotency_key) == 1
    assert entry_count(pg) == before + SAME_KEY_ROUNDS
    with pg.read() as session:
        assert signed_sums(session, [cash])[cash] == sum(10_000 + n for n in range(SAME_KEY_ROUNDS))
    assert_verifies(pg)


DIFFERENT_ENTRY_ROUNDS = 25


def second_book(session: Session, world: World) -> tuple[int, int, int]:
    """A second holder with an agreed budget of its own: (book id, cash id, receivable id)."""
    holder = parties.create_holder(session, parties.HolderSpec("harbour", "Harbour Care", "isf_provider"))
    budget = make_budget(session, holder, make_person(session, "Sam Jones"), world.icb, reference="HBR-0001")
    make_plan(session, budget, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
    return holder.id, world.account_id(session, "cash", budget), world.account_id(session, "receivable:icb-devon", budget)


def test_eight_threads_posting_different_entries_to_two_books_keep_both_chains_whole(pg: Database) -> None:
    with pg.write() as session:
        world = make_world(session)
        book_a = (world.holder.id, world.account_id(session, "cash"), world.account_id(session, "receivable:icb-devon"))
        book_b = second_book(session, world)
    before = chains(pg)

    def post_rounds(writer: int) -> tuple[Counter[int], Counter[int]]:
        """Per round: one entry to A, one to B, or one batch with an entry for each book
        (listed B first, so the journal must lock them in its own order). Returns the
        entries created per book and the pence debited per account."""
        created: Counter[int] = Counter()
        debited: Counter[int] = Counter()
        for round_number in range(DIFFERENT_ENTRY_ROUNDS):
            shape = (writer + round_number) % 3
            targets = [book_a] if shape == 0 else [book_b] if shape == 1 else [book_b, book_a]
            entries = [
                payment(book, debit, credit, key=f"w{writer}-r{round_number}-b{book}", pence=writer * 1_000 + round_number + 1)
                for book, debit, credit in targets
            ]
            with pg.write() as session:
                results = journal.post_entries(session, entries)
            assert all(result.outcome is PostOutcome.CREATED for result in results)
            created.update(result.entry.book_id for result in results)
            for entry in entries:
                debited[entry.postings[0].account_id] += entry.postings[0].amount_pence
        return created, debited

    created: Counter[int] = Counter()
    debited: Counter[int] = Counter()
    for per_book, per_account in run_together(post_rounds):
        created.update(per_book)
        debited.update(per_account)
    after = chains(pg)
    for book_id, _, _ in (book_a, book_b):
        expected = len(before.get(book_id, [])) + created[book_id]
        assert after[book_id] == list(range(1, expected + 1)), f"book {book_id}: a gap, a fork or a lost entry"
    shapes = [(writer + round_number) % 3 for writer in range(WRITERS) for round_number in range(DIFFERENT_ENTRY_ROUNDS)]
    assert created == {book_a[0]: sum(s in (0, 2) for s in shapes), book_b[0]: sum(s in (1, 2) for s in shapes)}
    with pg.read() as session:
        assert signed_sums(session, list(debited)) == dict(debited), "every debit landed once"
    assert_verifies(pg)


# --- SQLite: processes ------------------------------------------------------------------------


PROCESSES = 8
POSTS_PER_PROCESS = 1_000
PROCESS_TIMEOUT_S = 600


def test_eight_processes_posting_a_thousand_entries_each_to_sqlite_lose_nothing(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    url = sqlite_template.copy_to(tmp_path / "writers.db")
    database = Database(url)
    try:
        with database.write() as session:
            world = make_world(session)
            debit = world.account_id(session, "cash")
            credit = world.account_id(session, "receivable:icb-devon")
        before = entry_count(database)
        context = multiprocessing.get_context("spawn")
        start_together = context.Barrier(PROCESSES, timeout=BARRIER_TIMEOUT_S)
        reports_queue = context.Queue()
        plans = [PostingPlan(url, world.holder.id, debit, credit, worker, POSTS_PER_PROCESS) for worker in range(PROCESSES)]
        processes = [
            context.Process(target=post_from_a_process, args=(plan, start_together, reports_queue)) for plan in plans
        ]
        for process in processes:
            process.start()
        reports: list[WorkerReport] = [reports_queue.get(timeout=PROCESS_TIMEOUT_S) for _ in processes]
        for process in processes:
            process.join(timeout=PROCESS_TIMEOUT_S)
        assert [process.exitcode for process in processes] == [0] * PROCESSES
        errors = [error for report in reports for error in report.errors]
        assert sum(report.error_count for report in reports) == 0, f"errors, e.g. {errors[:5]}"
        assert [report.created for report in sorted(reports, key=lambda r: r.worker)] == [POSTS_PER_PROCESS] * PROCESSES
        assert entry_count(database) == before + PROCESSES * POSTS_PER_PROCESS, "a write was lost"
        assert chains(database)[world.holder.id] == list(range(1, before + PROCESSES * POSTS_PER_PROCESS + 1))
        with database.read() as session:
            assert signed_sums(session, [debit])[debit] == sum(report.debit_pence for report in reports)
        assert_verifies(database)
        # Posting the same work again, from this process, is pure replay: nothing new.
        again = post_all(database, plans[0])
        assert (again.created, again.other_outcomes, again.error_count) == (0, POSTS_PER_PROCESS, 0)
        assert entry_count(database) == before + PROCESSES * POSTS_PER_PROCESS
    finally:
        database.dispose()
