"""The ``phb-ledger`` command line: JSON output, one-line errors with a non-zero exit, and a
real ``serve`` answering HTTP."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledger.core import journal
from ledger.core.entries import NewEntry, NewPosting
from ledger.store import migrate
from ledger.store.database import Database
from tests.support.builders import make_world
from web.app import create_app
from web.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def world_db(db: Database) -> Database:
    with db.write() as session:
        world = make_world(session)
        cash = world.account_id(session, "cash")
        receivable = world.account_id(session, "receivable:icb-devon")
        journal.post_entry(
            session,
            NewEntry(world.holder.id, date(2026, 4, 6), "ICB payment", "pay-1", (NewPosting(cash, 12_345), NewPosting(receivable, -12_345))),
        )
    return db


def test_db_upgrade_reports_what_it_did(db: Database) -> None:
    code, out, _ = run("db", "upgrade", "--db", db.url, "--json")
    assert code == 0
    head = migrate.head_revision(db)
    assert json.loads(out) == {"from": head, "to": head, "upgraded": False}


def test_budgets_and_accounts_as_json(world_db: Database) -> None:
    code, out, _ = run("budgets", "--db", world_db.url, "--json")
    assert code == 0
    assert [b["reference"] for b in json.loads(out)] == ["ISF-0001"]
    code, out, _ = run("accounts", "--db", world_db.url, "--budget", "ISF-0001", "--json")
    assert code == 0
    balances = {row["account"]: row["balance"] for row in json.loads(out)}
    assert balances["ISF-0001:cash"] == "123.45"
    code, out, _ = run("accounts", "--db", world_db.url, "--budget", "ISF-0001", "--as-of", "2026-04-05", "--json")
    assert {row["account"]: row["balance"] for row in json.loads(out)}["ISF-0001:cash"] == "0.00"


def test_tables_for_people(world_db: Database) -> None:
    code, out, _ = run("accounts", "--db", world_db.url, "--budget", "ISF-0001")
    assert code == 0
    assert "ISF-0001:cash" in out and "£123.45" in out


def test_errors_are_one_line_and_exit_non_zero(world_db: Database) -> None:
    code, out, err = run("accounts", "--db", world_db.url, "--budget", "NOPE")
    assert code == 1
    assert err.strip() == "phb-ledger: there is no budget 'NOPE'"
    code, _, err = run("accounts", "--db", world_db.url, "--as-of", "yesterday")
    assert code == 1 and len(err.strip().splitlines()) == 1
    code, _, err = run("verify", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert code == 1 and err.startswith("phb-ledger: cannot use the database")


def test_verify_passes_then_names_a_tampered_entry(backend: str, world_db: Database) -> None:
    code, out, _ = run("verify", "--db", world_db.url, "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "problems": []}
    if backend != "sqlite":
        return  # tampering on PostgreSQL is covered by tests/test_tamper.py
    path = world_db.url.removeprefix("sqlite:///")
    world_db.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TRIGGER posting_no_update")
        raw.execute("UPDATE posting SET amount_pence = 99999 WHERE amount_pence = 12345")
    code, out, _ = run("verify", "--db", world_db.url, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert {p["check"] for p in report["problems"]} >= {"content_hash", "balanced_per_fund"}
    assert {p["entry_id"] for p in report["problems"]} == {2}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_http(tmp_path: Path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "web", "serve", "--db", f"sqlite:///{tmp_path / 'served.db'}", "--port", str(port), "--threads", "3"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/", timeout=1) as response:
                    body = json.load(response)
                    break
            except OSError:
                time.sleep(0.1)
        assert body == {"service": "phb-ledger", "version": "0.1.0", "database": "sqlite", "api": "/api/v1", "openapi": "/api/v1/openapi.json"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_app_runs_requests_on_as_many_threads_as_it_is_given(tmp_path: Path) -> None:
    async def threads() -> int:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    for given, expected in ((3, 3), (None, 40)):  # None: AnyIO's own default
        application = create_app(Database(f"sqlite:///{tmp_path / 'threads.db'}"), worker_threads=given)
        with TestClient(application) as client:
            assert client.portal.call(threads) == expected


def test_drawdown_run_posts_due_loads_once_and_refuses_a_future_date(world_db: Database) -> None:
    code, out, _ = run("drawdown", "run", "--db", world_db.url, "--as-of", "2026-04-14", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["posted"] == 3 and [load["due_on"] for load in result["loads"]] == ["2026-04-01", "2026-04-02", "2026-04-13"]
    code, out, _ = run("drawdown", "run", "--db", world_db.url, "--as-of", "2026-04-14", "--json")
    assert json.loads(out)["posted"] == 0
    code, _, err = run("drawdown", "run", "--db", world_db.url, "--as-of", "2099-01-01")
    assert code == 1 and "--as-of 2099-01-01 is after today" in err
    code, out, _ = run("drawdown", "schedule", "ISF-0001", "--db", world_db.url, "--json")
    loads = json.loads(out)
    assert [load["status"] for load in loads[:4]] == ["posted", "posted", "posted", "due"]
