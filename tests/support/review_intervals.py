"""Put the review intervals back to the shipped defaults.

``PostgresTestDatabase.empty()`` truncates the tables a test fills but not
``review_interval`` (seeded by migration 0007), so a test that changes an interval would
leak into the next test on PostgreSQL; review tests call this first.
"""

from __future__ import annotations

from dataclasses import asdict

from ledger.reviews.due import SHIPPED_INTERVALS
from ledger.reviews.plan_reviews import set_review_interval
from ledger.store.database import Database


def reset_review_intervals(db: Database) -> None:
    with db.write() as session:
        for kind, rule in SHIPPED_INTERVALS.items():
            set_review_interval(session, kind, updated_by="shipped default", **asdict(rule))
