"""Racing drawdown runs: two schedulers and the CLI post over the same weeks for 50 budgets at
once, and every budget part gets exactly one load per period (on both databases; on
PostgreSQL the runs truly overlap, serialised by the book's row lock)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ledger.budgets import parties
from ledger.core.verify import verify
from ledger.loads.runs import post_due_drawdowns
from ledger.store.database import Database
from ledger.store.tables import Drawdown, JournalEntry
from tests.support.builders import make_budget, make_person, make_plan

LONDON = ZoneInfo("Europe/London")
BUDGETS = 50
LAST_DAY = date(2026, 7, 6)
PERIODS_DUE = 15  # 1 April (stub) and every Monday from 6 April to 6 July 2026


def test_two_schedulers_and_the_cli_load_each_period_once(db: Database) -> None:
    with db.write() as session:
        icb = parties.create_funder(session, parties.FunderSpec("icb-devon", "NHS Devon ICB", "icb"))
        holder = parties.create_holder(session, parties.HolderSpec("sunrise", "Sunrise Support", "isf_provider"))
        for number in range(1, BUDGETS + 1):
            budget = make_budget(session, holder, make_person(session, f"Person {number}"), icb, reference=f"ISF-{number:04d}")
            make_plan(session, budget, [(icb, 2_600_000 + number * 100, 0)], total_pence=2_600_000 + number * 100)
    errors: list[BaseException] = []

    def scheduler(offset_minutes: int) -> None:
        try:
            day = date(2026, 4, 1)
            while day <= LAST_DAY:
                as_of = datetime.combine(day, time(6, offset_minutes), tzinfo=LONDON)
                with db.write() as session:
                    post_due_drawdowns(session, as_of, created_by=f"scheduler-{offset_minutes}")
                day += timedelta(days=7)
            with db.write() as session:
                post_due_drawdowns(session, datetime.combine(LAST_DAY, time(12), tzinfo=LONDON), created_by=f"scheduler-{offset_minutes}")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=scheduler, args=(minutes,)) for minutes in (0, 1)]
    for thread in threads:
        thread.start()
    cli = subprocess.run(
        [sys.executable, "-m", "web", "drawdown", "run", "--db", db.url, "--as-of", LAST_DAY.isoformat(), "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ},
    )  # fmt: skip
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert cli.returncode == 0, cli.stderr
    with db.read() as session:
        loads = session.execute(select(func.count()).select_from(Drawdown)).scalar_one()
        distinct = session.execute(
            select(func.count()).select_from(select(Drawdown.budget_part_id, Drawdown.period_starts_on).distinct().subquery())
        ).scalar_one()
        entries = session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "drawdown")).scalar_one()
        assert verify(session) == []
    assert loads == distinct == entries == BUDGETS * PERIODS_DUE
