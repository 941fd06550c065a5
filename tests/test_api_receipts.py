"""The receipts endpoints and the ``payments`` commands: schedules, one funder payment over
budgets, replays (200) and new records (201), attributions and contributions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledger.core.verify import verify
from ledger.store.database import Database
from tests.test_api import API, agree, client, ok, world  # noqa: F401  (fixtures)
from web.cli import app


def add_budget(client: TestClient, world: dict[str, Any], reference: str, icb_amount: str) -> dict[str, Any]:  # noqa: F811
    person = ok(client.post(f"{API}/people", json={"name": f"Person {reference}", "date_of_birth": "1980-01-01", "eligibility_group": "mental_health"}), 201)
    budget = ok(
        client.post(
            f"{API}/budgets",
            json={
                "reference": reference, "holder_id": world["holder"]["id"], "person_id": person["id"], "lead_funder_id": world["icb"]["id"],
                "period_start": "2026-04-01", "period_end": "2027-03-31",
                "parts": [{"management_option": "third_party", "holding": "bank_account"}],
            },
        ),
        201,
    )  # fmt: skip
    plan = {
        "effective_from": "2026-04-01",
        "total": icb_amount,
        "funding_lines": [{"funder_id": world["icb"]["id"], "amount": icb_amount}],
        "lines": [{"category": "activities", "description": "Days out", "kind": "recurring", "annual_amount": icb_amount}],
    }
    draft = ok(client.post(f"{API}/budgets/{budget['id']}/plan-versions", json=plan), 201)
    agree(client, draft["id"])
    return budget


@pytest.fixture
def funded(client: TestClient, world: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """ISF-0001 (ICB £32,000) and ISF-0002 (ICB £12,000), paid quarterly by the ICB."""
    agree(client, world["draft"]["id"])
    second = add_budget(client, world, "ISF-0002", "12000.00")
    for budget in (world["budget"], second):
        body = {"funder_id": world["icb"]["id"], "frequency": "quarterly", "first_due_on": "2026-04-01"}
        ok(client.post(f"{API}/budgets/{budget['id']}/expected-payments", json=body), 201)
    return {**world, "second": second}


def test_schedules_are_listed_per_budget_and_per_funder(client: TestClient, funded: dict[str, Any]) -> None:  # noqa: F811
    icb, budget_id = funded["icb"]["id"], funded["budget"]["id"]
    body = {"funder_id": icb, "frequency": "quarterly", "first_due_on": "2026-04-01"}
    again = ok(client.post(f"{API}/budgets/{budget_id}/expected-payments", json=body))  # unchanged: 200
    assert again["created"] == 0 and [i["amount"] for i in again["instalments"]] == ["8000.00"] * 4
    listed = ok(client.get(f"{API}/funders/{icb}/expected-payments", params={"holder_id": funded["holder"]["id"], "as_of": "2026-05-01"}))
    assert len(listed) == 8 and sum(i["overdue"] for i in listed) == 2
    overdue = ok(client.get(f"{API}/funders/{icb}/expected-payments", params={"overdue_only": "true", "as_of": "2026-05-01"}))
    assert [(i["budget"], i["outstanding"]) for i in overdue] == [("ISF-0001", "8000.00"), ("ISF-0002", "3000.00")]
    contribution = ok(
        client.post(f"{API}/budgets/{budget_id}/expected-payments", json={"funder_id": None, "frequency": "monthly", "first_due_on": "2026-04-01"}),
        201,
    )
    assert {i["funder"] for i in contribution["instalments"]} == {"contribution"} and len(contribution["instalments"]) == 12
    bad = client.post(f"{API}/budgets/{budget_id}/expected-payments", json={**body, "frequency": "fortnightly"})
    assert bad.status_code == 422


def test_a_payment_over_two_budgets_then_its_replay(client: TestClient, funded: dict[str, Any], db: Database) -> None:  # noqa: F811
    holder = funded["holder"]["id"]
    body = {"funder_id": funded["icb"]["id"], "received_on": "2026-03-25", "amount": "12000.00", "reference": "ICB REMIT 0401"}
    first = ok(client.post(f"{API}/holders/{holder}/funder-receipts", json=body), 201)
    assert [(s["budget"], s["amount"]) for s in first["shares"]] == [("ISF-0001", "8000.00"), ("ISF-0002", "3000.00"), (None, "1000.00")]
    assert first["unallocated"] == "1000.00"
    replay = ok(client.post(f"{API}/holders/{holder}/funder-receipts", json=body))
    assert replay == first
    conflict = client.post(f"{API}/holders/{holder}/funder-receipts", json={**body, "amount": "12000.01"})
    assert conflict.status_code == 409 and conflict.json()["code"] == "receipt_exists_with_other_amount"
    assert [r["id"] for r in ok(client.get(f"{API}/holders/{holder}/funder-receipts"))] == [first["id"]]
    attribution = {"budget_id": funded["second"]["id"], "funder_id": funded["icb"]["id"], "amount": "1000.00", "on": "2026-04-02",
                   "reason": "ICB confirmed by email"}  # fmt: skip
    moved = ok(client.post(f"{API}/holders/{holder}/unallocated/attributions", json=attribution), 201)
    assert moved["shares"][0]["budget"] == "ISF-0002"
    assert ok(client.post(f"{API}/holders/{holder}/unallocated/attributions", json=attribution))["id"] == moved["id"]
    beyond = client.post(f"{API}/holders/{holder}/unallocated/attributions", json={**attribution, "reason": "another"})
    assert beyond.status_code == 422 and beyond.json()["code"] == "exceeds_unallocated"
    with db.read() as session:
        assert verify(session) == []


def test_a_remittance_naming_an_unknown_budget_is_refused(client: TestClient, funded: dict[str, Any]) -> None:  # noqa: F811
    holder = funded["holder"]["id"]
    body = {
        "funder_id": funded["icb"]["id"], "received_on": "2026-04-01", "amount": "500.00", "reference": "R1",
        "remittance": [{"budget": "ISF-0002", "amount": "200.00"}, {"budget": "ISF-0404", "amount": "300.00"}],
    }  # fmt: skip
    refused = client.post(f"{API}/holders/{holder}/funder-receipts", json=body)
    assert refused.status_code == 422 and refused.json()["field"] == "remittance[1].budget"
    assert ok(client.get(f"{API}/holders/{holder}/funder-receipts")) == []
    body["remittance"] = [{"budget": "ISF-0002", "amount": "200.00"}]
    done = ok(client.post(f"{API}/holders/{holder}/funder-receipts", json=body), 201)
    assert done["by_remittance"] and done["unallocated"] == "300.00"


def test_contributions(client: TestClient, funded: dict[str, Any]) -> None:  # noqa: F811
    budget_id, second = funded["budget"]["id"], funded["second"]["id"]
    body = {"received_on": "2026-04-03", "amount": "125.00", "reference": "SO APR"}
    made = ok(client.post(f"{API}/budgets/{budget_id}/contributions", json=body), 201)
    assert made["amount"] == "125.00" and ok(client.post(f"{API}/budgets/{budget_id}/contributions", json=body)) == made
    assert [c["id"] for c in ok(client.get(f"{API}/budgets/{budget_id}/contributions"))] == [made["id"]]
    refused = client.post(f"{API}/budgets/{second}/contributions", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "no_client_contribution"
    assert client.post(f"{API}/budgets/{budget_id}/contributions", json={**body, "amount": 125}).status_code == 422


# --- the command line ---------------------------------------------------------------------

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_payments_commands(client: TestClient, funded: dict[str, Any], db: Database, tmp_path: Path) -> None:  # noqa: F811
    url = db.url
    code, out, err = cli("payments", "expect", "ISF-0001", "--contribution", "--frequency", "monthly", "--from", "2026-04-01", "--db", url, "--json")
    assert code == 0, err
    assert json.loads(out)["created"] == 12
    code, out, _ = cli("payments", "due", "--holder", "sunrise", "--funder", "icb-devon", "--overdue", "--as-of", "2026-05-01", "--db", url, "--json")
    assert code == 0 and len(json.loads(out)) == 2
    remittance = tmp_path / "remit.csv"
    remittance.write_text("budget,amount\nISF-0001,100.00\nISF-9999,50.00\n")
    receive = ("payments", "receive", "--holder", "sunrise", "--funder", "icb-devon", "--on", "2026-04-01", "--amount", "150.00",
               "--reference", "BACS 9", "--remittance", str(remittance), "--db", url, "--json")  # fmt: skip
    code, _, err = cli(*receive)
    assert code == 1 and "line 3" in err and "ISF-9999" in err
    remittance.write_text("budget,amount\nISF-0001,100.00\nISF-0002,50.00\n")
    code, out, err = cli(*receive)
    assert code == 0, err
    assert json.loads(out)["created"] is True and json.loads(out)["unallocated"] == "0.00"
    code, out, _ = cli(*receive)
    assert code == 0 and json.loads(out)["created"] is False
    code, out, err = cli("payments", "contribution", "ISF-0001", "--on", "2026-04-02", "--amount", "125", "--reference", "SO 1", "--db", url, "--json")
    assert code == 0, err
    assert json.loads(out)["amount"] == "125.00"
    code, _, err = cli("payments", "attribute", "--holder", "sunrise", "--budget", "ISF-0001", "--funder", "icb-devon", "--on", "2026-04-02",
                       "--amount", "1.00", "--reason", "found", "--db", url)  # fmt: skip
    assert code == 1 and "unallocated" in err
