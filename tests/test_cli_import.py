"""``phb-ledger import`` and ``phb-ledger statements``: the summary, a dry run, a refused file
naming its line, and the listing with provenance — on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.store.database import Database
from tests.support.builders import make_world
from web.cli import app

DATA = Path(__file__).parent / "data" / "statements"
LLOYDS = DATA / "csv" / "ofxstatement-lloyds__sample-statement.csv"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def world_db(db: Database) -> Database:
    with db.write() as session:
        make_world(session)
    return db


def test_import_prints_the_summary_and_a_second_import_finds_only_duplicates(world_db: Database) -> None:
    code, out, err = run("import", str(LLOYDS), "--account", "ISF-0001:card", "--db", world_db.url, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["format"], first["layout"], first["new"], first["duplicates"]) == ("csv", "lloyds", 6, 0)
    assert (first["period_start"], first["period_end"], first["closing_balance"]) == ("2023-12-01", "2024-01-15", "2040.59")
    code, out, _ = run("import", str(LLOYDS), "--account", str(first["account_id"]), "--db", world_db.url, "--json")
    assert code == 0
    assert (json.loads(out)["new"], json.loads(out)["duplicates"]) == (0, 6)
    code, out, _ = run("statements", "--account", "ISF-0001:card", "--db", world_db.url, "--json")
    listed = json.loads(out)
    assert [(i["file_name"], i["new"]) for i in listed] == [(LLOYDS.name, 0), (LLOYDS.name, 6)]
    assert listed[0]["file_sha256"] == first["file_sha256"]


def test_a_dry_run_stores_nothing(world_db: Database) -> None:
    code, out, _ = run("import", str(LLOYDS), "--account", "ISF-0001:card", "--db", world_db.url, "--dry-run", "--json")
    assert code == 0 and json.loads(out)["new"] == 6 and json.loads(out)["dry_run"] is True
    code, out, _ = run("statements", "--account", "ISF-0001:card", "--db", world_db.url, "--json")
    assert json.loads(out) == []


def test_a_bad_file_is_one_line_naming_file_line_and_field(world_db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "march.csv"
    bad.write_bytes(LLOYDS.read_bytes().replace(b"12/01/2024,DEB", b"32/01/2024,DEB", 1))
    code, _, err = run("import", str(bad), "--account", "ISF-0001:card", "--db", world_db.url)
    assert code == 1
    assert err.startswith("phb-ledger: march.csv, line 3, field Transaction Date: '32/01/2024' is not a date")
    code, out, _ = run("statements", "--account", "ISF-0001:card", "--db", world_db.url, "--json")
    assert json.loads(out) == []


def test_the_format_can_be_named_and_a_wrong_one_is_refused(world_db: Database) -> None:
    code, _, err = run("import", str(LLOYDS), "--account", "ISF-0001:card", "--db", world_db.url, "--format", "csv:starling")
    assert code == 1 and "layout starling expects the header" in err
    code, _, err = run("import", str(LLOYDS), "--account", "ISF-0001:nope", "--db", world_db.url)
    assert code == 1 and "no account with the code 'ISF-0001:nope'" in err
