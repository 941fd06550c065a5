"""Documents made on schedule and on demand, kept version by version, and read through the
API and the CLI — on both databases.

The scheduler's rule: after each quarter ends, from its first working day, the quarter's
review of every budget and the NHS England return of every ICB; from the first working day
of each month, the last month's tracker of every funder — each once. Making a document again
on demand keeps a new version beside the old, and every format of a version is made from
the same kept view model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledger.core.periods import parse_quarter
from ledger.reviews.report_documents import list_documents
from ledger.store.database import Database
from ledger.store.tables.report_documents import ReportDocument
from reports.document import from_json
from reports.generate import due_documents, generate, kept_version, render_kept
from reports.params import ReportParams, quarter_period
from tests.support.auth import token_headers
from tests.support.builders import World, make_world
from tests.support.report_formats import csv_rows, missing_money, pdf_text
from web.app import create_app
from web.cli import app as cli_app
from web.report_jobs import make_due_documents

API = "/api/v1"
NOW = datetime(2026, 7, 1, 7, 0)
Q1 = ReportParams(period=quarter_period(parse_quarter("2026Q1")))


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        return make_world(session)


def kinds_due(db: Database, day: date) -> dict[str, int]:
    with db.read() as session:
        found = due_documents(session, day)
    counts: dict[str, int] = {}
    for item in found:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts


def test_the_quarter_is_made_from_its_first_working_day_and_once(db: Database, world: World) -> None:
    assert "quarterly-review" not in kinds_due(db, date(2026, 6, 30))
    # 1 July 2026 is a Wednesday: the quarter's documents and June's trackers are due.
    assert kinds_due(db, date(2026, 7, 1)) == {"quarterly-review": 1, "nhse-return": 1, "funder-tracker": 2}
    made = make_due_documents(db, date(2026, 7, 1), now=NOW)
    assert made.failed == [] and made.by_kind == {"quarterly-review": 1, "nhse-return": 1, "funder-tracker": 2}
    assert kinds_due(db, date(2026, 7, 2)) == {}
    again = make_due_documents(db, date(2026, 7, 20), now=NOW)
    assert again.made == 0
    with db.read() as session:
        rows = list_documents(session)
    assert {(r.kind, r.version, r.trigger, r.generated_by) for r in rows} == {
        ("quarterly-review", 1, "scheduled", "scheduler"), ("nhse-return", 1, "scheduled", "scheduler"),
        ("funder-tracker", 1, "scheduled", "scheduler"),
    }  # fmt: skip


def test_a_bank_holiday_waits_for_the_next_working_day(db: Database, world: World) -> None:
    # The quarter to 31 December: 1 January 2027 is a bank holiday, then a weekend.
    assert "quarterly-review" not in kinds_due(db, date(2027, 1, 1))
    assert "funder-tracker" not in kinds_due(db, date(2027, 1, 3))
    assert kinds_due(db, date(2027, 1, 4))["quarterly-review"] == 1


def test_making_it_again_keeps_a_new_version_beside_the_old(db: Database, world: World) -> None:
    params = ReportParams(budget_id=world.budget.id, period=Q1.period)
    with db.write() as session:
        first = generate(session, "quarterly-review", params, now=NOW, generated_by="Sam")
        first_html = render_kept(first, "html").content
        first_model = first.model_sha256
    with db.write() as session:  # the ledger moves on: a late card purchase in the quarter
        from ledger.core.accounts import account_ids_by_code
        from ledger.core.entries import NewEntry, NewPosting
        from ledger.core.journal import post_entry

        ids = account_ids_by_code(session, ["ISF-0001:spend:activities", "ISF-0001:card"])
        post_entry(session, NewEntry(world.holder.id, date(2026, 6, 20), "late", "late-1",
                                     (NewPosting(ids["ISF-0001:spend:activities"], 1_234), NewPosting(ids["ISF-0001:card"], -1_234)),
                                     kind="card_purchase"))  # fmt: skip
        second = generate(session, "quarterly-review", params, now=NOW, generated_by="Sam")
    assert (first.version, second.version) == (1, 2) and second.model_sha256 != first_model
    with db.read() as session:
        kept_first = kept_version(session, "quarterly-review", params, 1)
        assert kept_first is not None and render_kept(kept_first, "html").content == first_html
        latest = kept_version(session, "quarterly-review", params)
        assert latest is not None and latest.version == 2
        document = from_json(_model(latest))
    # Every format of the kept version shows the kept figures.
    csv_text = "\n".join(",".join(r) for r in csv_rows(render_kept(latest, "csv").content))
    assert "12.34" in csv_text
    assert not missing_money(document, pdf_text(render_kept(latest, "pdf").content))


def _model(row: ReportDocument) -> str:
    from ledger.reviews.report_documents import model_json_of

    return model_json_of(row)


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db), raise_server_exceptions=False) as test_client:
        test_client.headers.update(token_headers(db))
        yield test_client


def test_the_api_serves_live_kept_and_versioned_documents(client: TestClient, world: World) -> None:
    query = {"budget_id": world.budget.id, "quarter": "2026Q1"}
    live = client.get(f"{API}/reports/quarterly-review", params=query)
    assert live.status_code == 200 and live.headers["x-report-version"] == "live"
    assert live.headers["content-type"].startswith("text/html") and "Quarterly quality review" in live.text
    kept = client.post(f"{API}/reports/quarterly-review/documents", json=query)
    assert kept.status_code == 201, kept.text
    body = kept.json()
    assert (body["version"], body["trigger"], body["kind"]) == (1, "on_demand", "quarterly-review")
    for format, media in (("pdf", "application/pdf"), ("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats"), ("html", "text/html")):
        answer = client.get(f"{API}/reports/quarterly-review", params={**query, "format": format})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(media)
        assert answer.headers["x-report-version"] == "1"
        assert client.get(body["links"][format]).content == answer.content or format == "pdf"
    assert client.get(f"{API}/reports/quarterly-review", params={**query, "live": "true"}).headers["x-report-version"] == "live"
    missing = client.get(f"{API}/reports/quarterly-review", params={**query, "version": 9})
    assert (missing.status_code, missing.json()["code"]) == (404, "document_version_not_found")
    listed = client.get(f"{API}/report-documents", params={"budget_id": world.budget.id}).json()
    assert [d["id"] for d in listed] == [body["id"]]


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("quarterly-review", {"quarter": "2026Q1"}, 422, "report_subject_missing"),
        ("quarterly-review", {"budget_id": 1, "month": "2026-05"}, 422, "report_period_kind"),
        ("quarterly-review", {"budget_id": 1}, 422, "report_period_missing"),
        ("quarterly-review", {"budget_id": 1, "quarter": "2026Q1", "month": "2026-05"}, 422, "period_ambiguous"),
        ("quarterly-review", {"budget_id": 999, "quarter": "2026Q1"}, 404, "budget_not_found"),
        ("quarterly-review", {"budget_id": 1, "quarter": "2029Q1"}, 422, "quarter_outside_plan"),
        ("no-such-report", {}, 404, "report_not_found"),
    ],
)
def test_bad_report_requests_are_refused(client: TestClient, world: World, path: str, query: dict, status: int, code: str) -> None:
    answer = client.get(f"{API}/reports/{path}", params=query)
    assert (answer.status_code, answer.json()["code"]) == (status, code)


def test_the_api_records_and_reads_a_quality_review(client: TestClient, world: World) -> None:
    plan = client.get(f"{API}/plan-versions/{world.version.id}").json() if world.version else {}
    body = {
        "held_on": "2026-07-20", "attendees": [{"name": "Alex Smith", "role": "The person"}],
        "outcomes": [{"plan_outcome_id": o["id"], "rating": "partly", "note": "Getting there"} for o in plan.get("outcomes", [])],
        "working": "Swimming", "not_working": "Evenings", "to_change": "A second worker",
        "actions": [{"who": "Team leader", "what": "Train a second worker", "by_when": "2026-09-01"}],
        "money_decision": "keep", "money_decision_amount": "250.00", "money_decision_note": "A short break in spring",
    }  # fmt: skip
    made = client.post(f"{API}/budgets/{world.budget.id}/quality-reviews/2026Q1", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["money_decision_amount"] == "250.00" and made.json()["revision"] == 1
    read = client.get(f"{API}/budgets/{world.budget.id}/quality-reviews/2026Q1").json()
    assert read["actions"][0]["what"] == "Train a second worker"
    page = client.get(f"{API}/reports/quarterly-review", params={"budget_id": world.budget.id, "quarter": "2026Q1", "format": "csv"})
    assert "Train a second worker" in page.content.decode("utf-8")
    float_amount = client.post(f"{API}/budgets/{world.budget.id}/quality-reviews/2026Q1", json={**body, "money_decision_amount": 250.0})
    assert float_amount.status_code == 422
    assert client.get(f"{API}/budgets/{world.budget.id}/quality-reviews/2026Q2").status_code == 404


# --- the CLI -------------------------------------------------------------------------------------

runner = CliRunner()


def test_the_cli_writes_each_format_and_keeps_versions(db: Database, world: World, tmp_path: Path) -> None:
    url = db.url
    for format in ("html", "pdf", "csv", "xlsx"):
        out = tmp_path / f"review.{format}"
        result = runner.invoke(cli_app, ["report", "quarterly", "--budget", "ISF-0001", "--quarter", "2026Q1", "--format", format,
                                         "--output", str(out), "--db", url, "--json"])  # fmt: skip
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["version"] == "live" and out.stat().st_size == answer["bytes"] > 0
    kept = runner.invoke(cli_app, ["report", "quarterly-review", "--budget", "ISF-0001", "--quarter", "2026Q1", "--keep", "--by", "Sam",
                                   "--output", str(tmp_path / "kept.html"), "--db", url, "--json"])  # fmt: skip
    assert kept.exit_code == 0 and json.loads(kept.stdout)["version"] == "1"
    listed = runner.invoke(cli_app, ["report", "kept", "--db", url, "--json"])
    assert [d["version"] for d in json.loads(listed.stdout)] == [1]
    refused = runner.invoke(cli_app, ["report", "quarterly", "--budget", "ISF-0001", "--month", "2026-05", "--db", url])
    assert refused.exit_code == 1 and "takes a quarter" in refused.stderr


def test_the_cli_makes_what_is_due_once(db: Database, world: World) -> None:
    first = runner.invoke(cli_app, ["report", "due", "--run", "--as-of", "2026-07-01", "--db", db.url, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["made"] == 4
    second = runner.invoke(cli_app, ["report", "due", "--run", "--as-of", "2026-07-01", "--db", db.url, "--json"])
    assert json.loads(second.stdout)["made"] == 0
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ReportDocument)) == 4


def test_the_cli_records_a_quality_review_from_a_file(db: Database, world: World, tmp_path: Path) -> None:
    review = tmp_path / "review.json"
    review.write_text(json.dumps({
        "held_on": "2026-07-20", "recorded_by": "Sam Reed", "attendees": [{"name": "Alex Smith", "role": "The person"}],
        "working": "Swimming", "actions": [{"who": "Team leader", "what": "Train a second worker", "by_when": "2026-09-01"}],
    }))  # fmt: skip
    made = runner.invoke(cli_app, ["reviews", "quality", "ISF-0001", "2026Q1", "--from-file", str(review), "--db", db.url, "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["actions"][0]["what"] == "Train a second worker"
    review.write_text(json.dumps({"held_on": 20260720, "recorded_by": "Sam", "attendees": []}))
    refused = runner.invoke(cli_app, ["reviews", "quality", "ISF-0001", "2026Q1", "--from-file", str(review), "--db", db.url])
    assert refused.exit_code == 1 and "review.json, field held_on" in refused.stderr


def test_only_the_audit_pack_comes_as_a_zip(client: TestClient, world: World) -> None:
    import io
    import zipfile

    pack = client.get(f"{API}/reports/audit-pack", params={"funder_id": world.icb.id, "quarter": "2026Q1", "format": "zip"})
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
    assert "manifest.csv" in names and any(name.endswith(".xlsx") for name in names)
    review = client.get(f"{API}/reports/quarterly-review", params={"budget_id": world.budget.id, "quarter": "2026Q1", "format": "zip"})
    assert (review.status_code, review.json()["code"]) == (422, "format_not_offered")
    formats = {k["name"]: k["formats"] for k in client.get(f"{API}/reports").json()}
    assert formats["audit-pack"] == ["html", "pdf", "csv", "xlsx", "zip"] and "zip" not in formats["quarterly-review"]
