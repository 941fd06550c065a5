"""A lease in the database that lets one process at a time do something (run the
scheduler). Taking or renewing it is one conditional UPDATE, atomic on SQLite and
PostgreSQL alike: it succeeds for the process that holds it, or for anyone once it has
lapsed. Nothing's correctness rests on the lease: it only keeps standby processes quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ledger.store.tables import SchedulerLease


def take_lease(session: Session, name: str, holder: str, *, ttl: timedelta, now: datetime) -> bool:
    """Take or renew lease ``name`` for ``holder`` until ``now + ttl`` (UTC, no zone).
    True if ``holder`` now holds it."""
    result = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl, renewed_at=now)
    )
    return result.rowcount == 1


def release_lease(session: Session, name: str, holder: str, *, now: datetime) -> None:
    """Give the lease up at once (a clean shutdown), so a standby need not wait for it to lapse."""
    session.execute(
        update(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder).values(expires_at=now)
    )
