"""Crash safety: ``phb-ledger import`` killed with SIGKILL at random points of a
100,000-line import never leaves part of the file stored, and importing the file again
afterwards stores exactly 100,000 lines — on both databases.

Slow (a few minutes per database): it runs in CI (``CI=true``) or with
``PHB_LEDGER_RUN_SLOW=1``. ``PHB_LEDGER_CRASH_TRIALS`` sets the number of trials (default 50).
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

from ledger.store.database import Database
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from tests.support.builders import make_budget, make_world

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
    # One card per trial, so that every trial is a whole import of new lines (a file already
    # stored would only find duplicates, and finish sooner).
    with db.write() as session:
        world = make_world(session)
        cards = [world.account_id(session, "card")]
        for trial in range(1, TRIALS):
            budget = make_budget(session, world.holder, world.person, world.icb, reference=f"CRASH-{trial:03d}")
            cards.append(world.account_id(session, "card", budget))
    url = db.engine.url.render_as_string(hide_password=False)
    file = tmp_path / "starling-100k.csv"
    starling_statement(file, LINES)

    # How long one whole import takes here (a dry run stores nothing): kills fall anywhere
    # from the process's start to a little after the import would have finished.
    began = time.monotonic()
    dry = subprocess.run(import_command(url, file, cards[0], "--dry-run"), capture_output=True, text=True, check=True)
    whole = time.monotonic() - began
    assert json.loads(dry.stdout)["new"] == LINES
    assert counts(db, cards[0]) == (0, 0)

    rng = random.Random(20261124)
    interrupted: list[tuple[float, int]] = []
    for account_id in cards:
        delay = rng.uniform(0.05, whole * 1.05)
        process = subprocess.Popen(import_command(url, file, account_id), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(timeout=delay)
            killed = False
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed = True
        lines, imports = counts(db, account_id)
        assert (lines, imports) in ((0, 0), (LINES, 1)), f"a partial import: {lines} lines and {imports} import rows stored"
        if killed and lines == 0:  # (a kill after the commit leaves the whole import, as it should)
            interrupted.append((delay, account_id))
    assert len(interrupted) >= TRIALS // 2, f"only {len(interrupted)} of {TRIALS} imports were killed before they committed"

    # The import interrupted latest (the most nearly done) is imported again: all of it, once.
    _, account_id = max(interrupted)
    again = subprocess.run(import_command(url, file, account_id, "--by", "retry"), capture_output=True, text=True, check=True)
    summary = json.loads(again.stdout)
    assert (summary["new"], summary["duplicates"]) == (LINES, 0)
    assert counts(db, account_id) == (LINES, 1)
