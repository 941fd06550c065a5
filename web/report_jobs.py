"""Making the documents the scheduler keeps (``reports.generate.due_documents``), in batches:
each batch's documents are made in a read transaction (no lock held while pages render) and
kept in one short write transaction. A document that cannot be made is logged and left for
the next run; the others are kept. Running it twice keeps nothing twice: what is due is
what is not kept yet."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from ledger.reviews.report_documents import Trigger
from ledger.store.database import Database
from reports.generate import DueDocument, due_documents, keep_document, make_document
from web.clock import ENGLAND

BATCH = 50
SCHEDULER = "scheduler"
log = logging.getLogger("phb_ledger.reports")


@dataclass
class MadeDocuments:
    made: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def make_due_documents(
    database: Database, today: date, *, progress: Callable[[int, int | None], None] | None = None, now: datetime | None = None
) -> MadeDocuments:
    with database.read() as session:
        due = due_documents(session, today)
    summary = MadeDocuments()
    cache: dict = {}
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        made = _make_batch(database, batch, cache, now or datetime.now(ENGLAND), summary)
        with database.write() as session:
            for item, document in made:
                keep_document(session, item.kind, item.params, document, trigger=Trigger.SCHEDULED, generated_by=SCHEDULER)
                summary.made += 1
                summary.by_kind[item.kind] = summary.by_kind.get(item.kind, 0) + 1
        if progress is not None:
            progress(min(start + BATCH, len(due)), len(due))
    return summary


def _make_batch(database: Database, batch: list[DueDocument], cache: dict, now: datetime, summary: MadeDocuments) -> list:  # type: ignore[type-arg]
    made = []
    with database.read() as session:
        for item in batch:
            try:
                made.append((item, make_document(session, item.kind, item.params, now=now, cache=cache)))
            except Exception as error:  # one bad document must not stop the quarter's others
                description = f"{item.params.key(item.kind)}: {type(error).__name__}: {error}"
                log.warning("could not make %s", description, exc_info=log.isEnabledFor(logging.DEBUG))
                summary.failed.append(description)
    return made
