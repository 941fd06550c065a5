"""Workers for the concurrency tests: post many entries, each in its own transaction, and
report what happened instead of raising.

``post_from_a_process`` runs in a child process started with the ``spawn`` method, so it
lives in an importable module (not in a test file) and takes only picklable arguments: the
database URL, plain ids and ints. Each child opens its own ``Database``, as a separate
program would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from ledger.core import journal
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.store.database import Database

ERRORS_KEPT = 20


@dataclass(frozen=True)
class PostingPlan:
    """What one worker posts: ``count`` entries moving money between two accounts of one
    book, keyed ``<worker>-<n>`` so that every key is distinct."""

    url: str
    book_id: int
    debit_account_id: int
    credit_account_id: int
    worker: int
    count: int


@dataclass
class WorkerReport:
    worker: int
    created: int = 0
    other_outcomes: int = 0
    error_count: int = 0
    errors: list[str] = field(default_factory=list)
    debit_pence: int = 0
    """What this worker's created entries added to the debit account."""


def entry_for(plan: PostingPlan, number: int) -> NewEntry:
    pence = plan.worker * 100_000 + number + 1
    return NewEntry(
        book_id=plan.book_id,
        entry_date=date(2026, 5, 1 + number % 28),
        description=f"Concurrent post {number} of worker {plan.worker}",
        idempotency_key=f"{plan.worker}-{number}",
        postings=(NewPosting(plan.debit_account_id, pence), NewPosting(plan.credit_account_id, -pence)),
        kind="transfer",
        created_by=f"worker-{plan.worker}",
    )


def post_all(database: Database, plan: PostingPlan) -> WorkerReport:
    """Post every entry of ``plan``, one transaction each, recording outcomes and errors."""
    report = WorkerReport(plan.worker)
    for number in range(plan.count):
        entry = entry_for(plan, number)
        try:
            with database.write() as session:
                result = journal.post_entry(session, entry)
        except Exception as error:  # noqa: BLE001 - every failure is the finding, reported below
            report.error_count += 1
            if len(report.errors) < ERRORS_KEPT:
                report.errors.append(f"{type(error).__name__}: {error}".splitlines()[0])
            continue
        if result.outcome is PostOutcome.CREATED:
            report.created += 1
            report.debit_pence += entry.postings[0].amount_pence
        else:
            report.other_outcomes += 1
    return report


def post_from_a_process(plan: PostingPlan, start_together: Barrier, reports: Queue) -> None:
    """Child-process entry point: open the database, wait for the others, post, report."""
    database = Database(plan.url)
    try:
        start_together.wait()
        reports.put(post_all(database, plan))
    except BaseException as error:
        reports.put(WorkerReport(plan.worker, error_count=1, errors=[f"{type(error).__name__}: {error}"]))
        raise
    finally:
        database.dispose()
