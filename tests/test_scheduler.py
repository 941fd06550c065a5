"""The scheduler in ``serve``: it posts due loads by itself, one process at a time runs it
(a database lease), a standby takes over when the leader stops, and the job store lives in
the service's database."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledger.store.database import Database
from ledger.store.leases import release_lease, take_lease
from ledger.store.tables import APSCHEDULER_JOBS, Budget, BudgetPart, Drawdown, utcnow
from tests.support.builders import make_world
from web.scheduler import DOCUMENTS_JOB_ID, DRAWDOWN_JOB_ID, FLAGS_JOB_ID, LEASE_NAME, REVIEWS_JOB_ID, SET_ASIDE_JOB_ID, SchedulerService

FAST = {"lease_ttl": timedelta(seconds=1.5), "renew_every": timedelta(seconds=0.2)}


def wait_for(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_the_leader_posts_due_loads_and_keeps_its_job_in_the_database(db: Database) -> None:
    with db.write() as session:
        make_world(session)  # a plan from 1 April 2026: loads are due by now
    service = SchedulerService(db, **FAST)
    service.start()
    try:
        assert wait_for(lambda: _loads(db) > 0), "the scheduler posted nothing"
        assert service.is_leader
        with db.read() as session:
            job_ids = list(session.execute(select(APSCHEDULER_JOBS.c.id)).scalars())
        assert sorted(job_ids) == sorted([DRAWDOWN_JOB_ID, SET_ASIDE_JOB_ID, REVIEWS_JOB_ID, FLAGS_JOB_ID, DOCUMENTS_JOB_ID])
        assert wait_for(lambda: _entries_of_kind(db, "contingency_ring_fence") == 1), "the contingency was not ring-fenced"
        assert wait_for(lambda: _flag_codes(db) >= {"UNREVIEWED"}), "the flag rules did not run"
    finally:
        service.stop()
    made = _loads(db)
    with db.write() as session:  # nothing more is due: running again posts nothing
        from ledger.loads.runs import post_due_drawdowns

        assert post_due_drawdowns(session).posted == []
    assert _loads(db) == made


def test_one_process_at_a_time_runs_it_and_a_standby_takes_over(db: Database) -> None:
    first, second = SchedulerService(db, **FAST), SchedulerService(db, **FAST)
    first.start()
    assert wait_for(lambda: first.is_leader)
    second.start()
    try:
        time.sleep(1.0)
        assert first.is_leader and not second.is_leader
        first.stop()
        assert wait_for(lambda: second.is_leader, seconds=5)
    finally:
        second.stop()
        first.stop()


def test_a_lapsed_lease_can_be_taken_and_a_held_one_cannot(db: Database) -> None:
    # After any lease an earlier test's scheduler took on the real clock (the lease row is
    # seeded once and kept between tests), so the first take finds it lapsed.
    now = utcnow() + timedelta(days=1)
    ttl = timedelta(seconds=60)
    with db.write() as session:
        assert take_lease(session, LEASE_NAME, "a", ttl=ttl, now=now)
        assert not take_lease(session, LEASE_NAME, "b", ttl=ttl, now=now + timedelta(seconds=59))
        assert take_lease(session, LEASE_NAME, "a", ttl=ttl, now=now + timedelta(seconds=30))  # renewal
        assert take_lease(session, LEASE_NAME, "b", ttl=ttl, now=now + timedelta(seconds=91))  # lapsed
        release_lease(session, LEASE_NAME, "b", now=now + timedelta(seconds=92))
        assert take_lease(session, LEASE_NAME, "c", ttl=ttl, now=now + timedelta(seconds=92))


def _loads(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(Drawdown)).scalar_one()


def _entries_of_kind(db: Database, kind: str) -> int:
    from sqlalchemy import func

    from ledger.store.tables import JournalEntry

    with db.read() as session:
        return session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == kind)).scalar_one()


def _flag_codes(db: Database) -> set[str]:
    from ledger.store.tables.flags import Flag

    with db.read() as session:
        return set(session.scalars(select(Flag.code).distinct()))


def test_one_holder_whose_loads_fail_stops_no_other_holders_loads(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drawdown job runs each holder in its own transaction: an error in one holder's
    books is logged, and every other holder's loads are made."""
    from ledger.budgets import parties
    from ledger.loads import runs
    from tests.support.builders import make_budget, make_person, make_plan
    from web import scheduler

    with db.write() as session:
        world = make_world(session)
        other = parties.create_holder(session, parties.HolderSpec("moor", "Moorland Care", "isf_provider"))
        budget = make_budget(session, other, make_person(session, "Kim Lee"), world.icb, reference="MOOR-0001")
        make_plan(session, budget, [(world.icb, 2_600_000, 0)], total_pence=2_600_000)
        broken, working = world.holder.id, other.id

    def post(session, as_of, *, holder_id, created_by):  # type: ignore[no-untyped-def]
        if holder_id == broken:
            raise RuntimeError("something wrong in this holder's books")
        return runs.post_due_drawdowns(session, as_of, holder_id=holder_id, created_by=created_by)

    monkeypatch.setattr(scheduler, "post_due_drawdowns", post)
    monkeypatch.setattr(scheduler, "_active_database", db)
    scheduler.run_due_drawdowns()
    with db.read() as session:
        loaded = set(session.scalars(select(Budget.holder_id).join(BudgetPart).join(Drawdown, Drawdown.budget_part_id == BudgetPart.id)))
    assert loaded == {working}
