"""Crash safety: ``phb-ledger import`` killed with SIGKILL at random points of a
100,000-line import never leaves part of the file stored, and importing the file again
afterwards stores exactly 100,000 lines — on both databases.

Slow (about four minutes per database): it runs in CI (``CI=true``) or with
``PHB_LEDGER_RUN_SLOW=1``. ``PHB_LEDGER_CRASH_TRIALS`` sets the number of kills (default 50).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.database import Database
from ledger.tables.statements import StatementImport, StatementLineRecord
from tests.support.builders import make_world

pytestmark = pytest.mark.slow

LINES = 100_000
TRIALS = int(os.environ.get("PHB_LEDGER_CRASH_TRIALS", "50"))
CLI = [sys.executable, "-m", "web"]


def starling_statement(path: Path, lines: int) -> None:
    """A Starling export of ``lines`` card payments, oldest first, with running balances."""
    start = date(2026, 4, 1)
    balance = 10_000_000
    rows = ["Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category"]
    for n in range(lines):
        pence = -(100 + n % 997)
        balance += pence
        day = start + timedelta(days=n // 400)
        rows.append(
            f"{day:%d/%m/%Y},SHOP {n % 50},CARD {n},CARD_PAYMENT,{pence / 100:.2f},{balance / 100:.2f},GROCERIES"
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def counts(database: Database, account_id: int) -> tuple[int, int]:
    with database.read() as session:
        lines = session.scalar(
            select(func.count()).select_from(StatementLineRecord).where(StatementLineRecord.account_id == account_id)
        )
        imports = session.scalar(
            select(func.count()).select_from(StatementImport).where(StatementImport.account_id == account_id)
        )
    return int(lines or 0), int(imports or 0)


def import_command(url: str, file: Path, account_id: int, *extra: str) -> list[str]:
    return [*CLI, "import", str(file), "--account", str(account_id), "--db", url, "--json", *extra]


def test_a_killed_import_stores_all_of_the_file_or_none_of_it(db: Database, tmp_path: Path) -> None:
    with db.write() as session:
        world = make_world(session)
        account_id = world.account_id(session, "card")
    url = db.engine.url.render_as_string(hide_password=False)
    file = tmp_path / "starling-100k.csv"
    starling_statement(file, LINES)
    env = dict(os.environ)

    # How long one whole import takes here (a dry run stores nothing): kills fall anywhere
    # from the process's start to a little after the import would have finished.
    began = time.monotonic()
    dry = subprocess.run(import_command(url, file, account_id, "--dry-run"), capture_output=True, text=True, env=env, check=True)
    whole = time.monotonic() - began
    assert json.loads(dry.stdout)["new"] == LINES
    assert counts(db, account_id) == (0, 0)

    rng = random.Random(20261124)
    outcomes = {"killed": 0, "finished": 0}
    for _ in range(TRIALS):
        process = subprocess.Popen(import_command(url, file, account_id), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            process.wait(timeout=rng.uniform(0.05, whole * 1.1))
            outcomes["finished"] += 1
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            outcomes["killed"] += 1
        lines, imports = counts(db, account_id)
        assert lines in (0, LINES), f"a partial import: {lines} lines stored"
        if lines == 0:
            assert imports == 0, "a killed import left its import row behind"

    finished = subprocess.run(import_command(url, file, account_id), capture_output=True, text=True, env=env, check=True)
    summary = json.loads(finished.stdout)
    assert summary["new"] + summary["duplicates"] == LINES
    assert counts(db, account_id)[0] == LINES
    assert outcomes["killed"] >= TRIALS // 2, outcomes
