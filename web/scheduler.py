"""The scheduler that ``phb-ledger serve`` runs: APScheduler 3 with its job store in the
service's own database, calling the same service functions as the CLI.

APScheduler 3 does not coordinate several processes sharing one job store, so a process
runs the scheduler only while it holds the database lease (``ledger.store.leases``); any other
``serve`` process waits as standby and takes over when the lease lapses. Correctness never
depends on that: ``post_due_drawdowns`` posts each load exactly once however many run it
(the scheduler, cron calling ``phb-ledger drawdown run``, a person).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ledger.budgets.parties import list_holders
from ledger.core.money import format_gbp
from ledger.flags.raising import raise_flags
from ledger.loads.runs import post_due_drawdowns
from ledger.reviews.plan_reviews import log_reviews_due
from ledger.set_asides.top_slice import due_contingency_ring_fences, take_due_top_slices
from ledger.store.database import Database
from ledger.store.leases import release_lease, take_lease
from ledger.store.tables import APSCHEDULER_JOBS, utcnow
from web.clock import today_in_england

LONDON = ZoneInfo("Europe/London")
LEASE_NAME = "scheduler"
DRAWDOWN_JOB_ID = "drawdowns"
DRAWDOWN_INTERVAL = timedelta(minutes=5)
"""How often due loads are looked for. A load goes at most this long after its load time."""
SET_ASIDE_JOB_ID = "set-asides"
SET_ASIDE_HOUR = 5
"""Contingency ring-fenced and the month's top-slice taken daily at 05:00 in England, before
the card loads of 06:00 (and at once when a process takes the lease)."""
REVIEWS_JOB_ID = "reviews-due"
REVIEWS_HOUR = 7
FLAGS_JOB_ID = "flags"
FLAGS_HOUR, FLAGS_MINUTE = 7, 15
"""The flag rules run daily at 07:15 in England: surplus held and reviews overdue change with
the date, not only when statements arrive."""

DOCUMENTS_JOB_ID = "documents"
DOCUMENTS_HOUR, DOCUMENTS_MINUTE = 6, 30
"""The quarter's review documents and NHS England returns, and the month's funder trackers,
are made daily at 06:30 in England from the first working day after the period ends (each
once: a day that finds them kept makes nothing), after the night's set-asides and loads."""

log = logging.getLogger("phb_ledger.scheduler")

_active_database: Database | None = None
"""The database the jobs of this process use. Jobs are stored by reference with no
arguments, so no connection string (and no password) is ever written into the job store."""


def run_due_drawdowns() -> None:
    """The drawdown job: post every load due by now, exactly once, each holder in its own
    transaction, so nothing wrong in one holder's books stops another holder's loads."""
    database = _active_database
    assert database is not None, "the scheduler runs jobs only after SchedulerService.start"
    now = datetime.now(UTC)
    with database.read() as session:
        holder_ids = [holder.id for holder in list_holders(session)]
    for holder_id in holder_ids:
        try:
            with database.write() as session:
                run = post_due_drawdowns(session, now, holder_id=holder_id, created_by="scheduler")
        except Exception:
            log.exception("drawdowns of holder %d could not be posted; the other holders' go on", holder_id)
            continue
        if run.posted or run.held or run.low_cash:
            log.info(
                "drawdowns of holder %d: %d load(s) posted (%s), %d held, %d budget(s) low on cash",
                holder_id, len(run.posted), format_gbp(run.total_pence), len(run.held), len(run.low_cash),
            )  # fmt: skip
        for held in run.held:
            log.warning("drawdown held: %s from %s: %s", held.budget_reference, held.period_starts_on, held.reason)


def run_set_asides() -> None:
    """Ring-fence contingency and take the top-slice due by today, each exactly once."""
    database = _active_database
    assert database is not None, "the scheduler runs jobs only after SchedulerService.start"
    today = today_in_england()
    with database.write() as session:
        fences = due_contingency_ring_fences(session, today, created_by="scheduler")
        slices = take_due_top_slices(session, today, created_by="scheduler", today=today)
    if fences.posted or slices.posted:
        log.info(
            "set-asides: %d contingency ring-fence(s), %d top-slice month(s) taken (%s)",
            len(fences.posted), len(slices.posted), format_gbp(slices.total_pence),
        )  # fmt: skip
    for fence in fences.held:
        log.warning("contingency ring-fence held: %s: %s", fence.budget_reference, fence.reason)
    for month in slices.held:
        log.warning("top-slice held: %s from %s: %s", month.budget_reference, month.month_starts_on, month.reason)


def run_reviews_due() -> None:
    """List the reviews due and overdue, one log line per holder."""
    database = _active_database
    assert database is not None, "the scheduler runs jobs only after SchedulerService.start"
    with database.read() as session:
        log_reviews_due(session, today_in_england())


def run_flag_rules() -> None:
    """Run every flag rule for every holder, each holder in its own transaction."""
    database = _active_database
    assert database is not None, "the scheduler runs jobs only after SchedulerService.start"
    today = today_in_england()
    with database.read() as session:
        holder_ids = [holder.id for holder in list_holders(session)]
    raised = 0
    for holder_id in holder_ids:
        with database.write() as session:
            raised += raise_flags(session, holder_id, as_of=today, actor="scheduler").raised
    if raised:
        log.info("flags: %d raised across %d holder(s)", raised, len(holder_ids))


def run_due_documents() -> None:
    """Make and keep the quarter's and the month's documents that are due and not kept yet."""
    from web.report_jobs import make_due_documents

    database = _active_database
    assert database is not None, "the scheduler runs jobs only after SchedulerService.start"
    made = make_due_documents(database, today_in_england())
    if made.made or made.failed:
        log.info("documents: %d made and kept (%s), %d could not be made", made.made,
                 ", ".join(f"{kind} {count}" for kind, count in made.by_kind.items()) or "none", len(made.failed))  # fmt: skip


class SchedulerService:
    """Holds the lease and runs the scheduler while it does; stands by while it does not."""

    def __init__(
        self,
        database: Database,
        *,
        drawdown_interval: timedelta = DRAWDOWN_INTERVAL,
        lease_ttl: timedelta = timedelta(seconds=60),
        renew_every: timedelta = timedelta(seconds=15),
    ) -> None:
        assert renew_every * 2 < lease_ttl, "renew well before the lease lapses"
        self.database = database
        self.drawdown_interval = drawdown_interval
        self.lease_ttl = lease_ttl
        self.renew_every = renew_every
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._scheduler: BackgroundScheduler | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._keep_lease, name="phb-ledger-scheduler-lease", daemon=True)

    @property
    def is_leader(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        global _active_database
        _active_database = self.database
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)
        self._stop_scheduler()
        try:
            with self.database.write() as session:
                release_lease(session, LEASE_NAME, self.identity, now=utcnow())
        except Exception:  # shutting down: the lease lapses by itself
            log.exception("could not release the scheduler lease")

    def _keep_lease(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.database.write() as session:
                    held = take_lease(session, LEASE_NAME, self.identity, ttl=self.lease_ttl, now=utcnow())
            except Exception:
                log.exception("could not renew the scheduler lease")
                held = False
            if held and self._scheduler is None:
                log.info("scheduler lease taken by %s: running the scheduler", self.identity)
                self._start_scheduler()
            elif not held and self._scheduler is not None:
                log.warning("scheduler lease lost by %s: standing by", self.identity)
                self._stop_scheduler()
            self._stopping.wait(self.renew_every.total_seconds())

    def _start_scheduler(self) -> None:
        engine = self.database.engine
        if self.database.is_sqlite:  # writes must begin IMMEDIATE (see ledger.store.database)
            engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=APSCHEDULER_JOBS.name)},
            timezone=LONDON,
        )
        every = IntervalTrigger(seconds=int(self.drawdown_interval.total_seconds()), timezone=LONDON)
        _add_job(scheduler, run_set_asides, SET_ASIDE_JOB_ID, "Ring-fence contingency and take the top-slice",
                 CronTrigger(hour=SET_ASIDE_HOUR, minute=0, timezone=LONDON))  # fmt: skip
        _add_job(scheduler, run_due_drawdowns, DRAWDOWN_JOB_ID, "Post the card loads that are due", every)
        _add_job(scheduler, run_reviews_due, REVIEWS_JOB_ID, "List the reviews due and overdue",
                 CronTrigger(hour=REVIEWS_HOUR, minute=0, timezone=LONDON))  # fmt: skip
        _add_job(scheduler, run_flag_rules, FLAGS_JOB_ID, "Run the flag rules",
                 CronTrigger(hour=FLAGS_HOUR, minute=FLAGS_MINUTE, timezone=LONDON))  # fmt: skip
        _add_job(scheduler, run_due_documents, DOCUMENTS_JOB_ID, "Make the quarter's and the month's documents",
                 CronTrigger(hour=DOCUMENTS_HOUR, minute=DOCUMENTS_MINUTE, timezone=LONDON))  # fmt: skip
        scheduler.start()
        self._scheduler = scheduler

    def job_ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()] if self._scheduler is not None else []

    def _stop_scheduler(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

    def next_run(self) -> datetime | None:
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(DRAWDOWN_JOB_ID)
        return job.next_run_time if job else None



def _add_job(scheduler: BackgroundScheduler, function, job_id: str, name: str, trigger: BaseTrigger) -> None:  # type: ignore[no-untyped-def]
    scheduler.add_job(
        function,
        trigger=trigger,
        id=job_id,
        name=name,
        replace_existing=True,
        coalesce=True,  # a backlog of missed runs is one run: each service catches up every period itself
        max_instances=1,
        # APScheduler skips a run that starts later than misfire_grace_time after its time
        # (1 s by default): after a pause, a busy moment or a standby taking over, that would
        # silently skip the run and delay loads. None: run however late.
        misfire_grace_time=None,
        next_run_time=datetime.now(LONDON),  # at once on taking over: catch up what is due
    )
