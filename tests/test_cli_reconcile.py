"""``phb-ledger reconcile``, ``unmatched`` and ``flags``: what they print, as JSON and as text,
and a one-line reason on bad input — on both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from ledger.store.database import Database
from tests.support.builders import make_world
from tests.support.card_statements import CardLine, import_card, post_drawdown
from tests.test_reconcile import APRIL, card_lines
from web.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def card_db(db: Database) -> Database:
    with db.write() as session:
        world = make_world(session)
        post_drawdown(session, world, world.budget, APRIL - timedelta(days=1), 40_000, "load-1")
        import_card(session, world, world.budget, [*card_lines(), CardLine("L2", APRIL + timedelta(days=9), "LOAD", "", "LOAD", 5_000)])
    return db


def test_reconcile_prints_what_it_did_and_where_the_account_stands(card_db: Database) -> None:
    code, out, err = run("reconcile", "--account", "ISF-0001:card", "--db", card_db.url, "--json", "--by", "Sam")
    assert code == 0, err
    done = json.loads(out)
    assert (done["matched_existing"], done["unmatched"], done["posted_refunds"]) == (1, 1, 1)
    status = done["status"][0]
    assert status["account"] == "ISF-0001:card" and status["unmatched_lines"] == 1 and status["difference"] == "-50.00"
    code, out, _ = run("reconcile", "--account", "ISF-0001:card", "--db", card_db.url)
    assert code == 0 and "Left unmatched" in out and "differs by" in out
    code, out, _ = run("unmatched", "--account", "ISF-0001:card", "--db", card_db.url, "--json")
    queue = json.loads(out)
    assert [i["amount"] for i in queue] == ["50.00"] and queue[0]["suggestions"][0]["kind"] == "check"
    code, out, _ = run("flags", "--db", card_db.url, "--code", "EXCLUDED_MCC", "--json")
    assert code == 0 and {f["code"] for f in json.loads(out)} == {"EXCLUDED_MCC"} and len(json.loads(out)) == 5
    code, out, _ = run("flags", "--db", card_db.url, "--holder", "1", "--run", "--as-of", "2026-05-01", "--json")
    assert code == 0 and "BALANCE_MISMATCH" in {f["code"] for f in json.loads(out)}
    code, out, _ = run("flags", "--db", card_db.url, "--state", "open")
    assert code == 0 and "Flags (" in out


def test_bad_input_is_one_line(card_db: Database) -> None:
    code, _, err = run("reconcile", "--account", "NOPE:card", "--db", card_db.url)
    assert code != 0 and "NOPE:card" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("flags", "--db", card_db.url, "--run")
    assert code != 0 and "--holder" in err
