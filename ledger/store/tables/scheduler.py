"""The scheduler's tables: the lease that lets one process at a time run it, and APScheduler's
own job store (declared here so that migrations create it and the schema stays complete)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Timestamp, metadata


class SchedulerLease(SQLModel, table=True):
    """Who runs the scheduler until when. A process runs it only while it holds the lease and
    renews it well before it expires; another waits as standby and takes over once it lapses."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(default="", max_length=200)
    """The process holding it (host, pid and a random part); empty when never taken."""
    expires_at: datetime = Field(sa_type=Timestamp)
    renewed_at: datetime | None = Field(default=None, sa_type=Timestamp)


APSCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    metadata,
    # The layout of APScheduler 3's SQLAlchemyJobStore. next_run_time is its epoch seconds
    # (a float by its design; it is a time, never money).
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
