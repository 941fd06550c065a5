"""The payables endpoints: invoices, wages, payroll runs, payments, cancelling, pools — and
bad input is a clear 4xx that changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.store.database import Database
from tests.test_api import API, agree, client, fingerprint, ok, plan_body, world  # noqa: F401  (fixtures)


@pytest.fixture
def two_budgets(client: TestClient, world: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The world's ISF-0001 agreed, and ISF-0002 for another person, agreed too."""
    agree(client, world["draft"]["id"])
    person = ok(client.post(f"{API}/people", json={"name": "Bo Jones", "date_of_birth": "1985-02-01", "eligibility_group": "mental_health"}), 201)
    budget = ok(
        client.post(
            f"{API}/budgets",
            json={
                "reference": "ISF-0002", "holder_id": world["holder"]["id"], "person_id": person["id"],
                "lead_funder_id": world["icb"]["id"], "period_start": "2026-04-01", "period_end": "2027-03-31",
                "parts": [{"management_option": "third_party", "holding": "prepaid_card"}],
            },
        ),
        201,
    )  # fmt: skip
    draft = ok(client.post(f"{API}/budgets/{budget['id']}/plan-versions", json=plan_body(world["icb"]["id"], world["council"]["id"])), 201)
    agree(client, draft["id"])
    return {**world, "budget2": budget}


def invoice_body(number: str = "INV-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "supplier": "Acme Care Agency",
        "number": number,
        "dated_on": "2026-05-15", 
        "lines": [
            {"budget": "ISF-0001", "category": "agency_support", "amount": "1,200.00", "description": "Two weeks"},
            {"budget": "ISF-0002", "category": "agency_support", "amount": "300.50"},
        ],
    }
    body.update(overrides)
    return body


PAYROLL_CSV = "worker,budget,hours,rate,employer_costs\nJane Smith,ISF-0001,20,12.50,30.00\nJane Smith,ISF-0002,7.5,11.33,\n"


def test_approve_replay_pay_and_read_an_invoice(client: TestClient, two_budgets: dict[str, Any]) -> None:
    holder_id = two_budgets["holder"]["id"]
    created = ok(client.post(f"{API}/holders/{holder_id}/invoices", json=invoice_body()), 201)
    assert created["total"] == "1500.50" and created["status"] == "approved" and len(created["lines"]) == 2
    replay = ok(client.post(f"{API}/holders/{holder_id}/invoices", json=invoice_body(number="inv-1 ")))
    assert replay["id"] == created["id"]
    other = client.post(f"{API}/holders/{holder_id}/invoices", json=invoice_body(lines=[{"budget": "ISF-0001", "category": "agency_support", "amount": "1.00"}]))
    assert other.status_code == 409 and other.json()["code"] == "invoice_exists"
    short = client.post(f"{API}/holders/{holder_id}/payments", json={
        "payable_ids": [created["id"]], "paid_on": "2026-05-20", "bank_reference": "BACS 1", "amount": "1500.00"})  # fmt: skip
    assert short.status_code == 422 and short.json()["code"] == "payment_amount_mismatch" and "£0.50 less" in short.json()["message"]
    payment = {"payable_ids": [created["id"]], "paid_on": "2026-05-20", "bank_reference": "BACS 1", "amount": "1500.50"}
    paid = ok(client.post(f"{API}/holders/{holder_id}/payments", json=payment), 201)
    assert [b["amount"] for b in paid["by_budget"]] == ["1200.00", "300.50"] and paid["payables"][0]["status"] == "paid"
    assert ok(client.post(f"{API}/holders/{holder_id}/payments", json=payment))["entry_id"] == paid["entry_id"]
    assert [p["id"] for p in ok(client.get(f"{API}/holders/{holder_id}/payables?status=paid"))] == [created["id"]]
    assert ok(client.get(f"{API}/holders/{holder_id}/payables?status=approved")) == []
    (mine,) = ok(client.get(f"{API}/budgets/{two_budgets['budget2']['id']}/payables"))
    assert mine["total"] == "300.50" and [line["budget"] for line in mine["lines"]] == ["ISF-0002"]


def test_wages_and_cancel(client: TestClient, two_budgets: dict[str, Any]) -> None:
    holder_id = two_budgets["holder"]["id"]
    wages = ok(client.post(f"{API}/holders/{holder_id}/wages", json=invoice_body(
        supplier="Jane Smith", number="2026-05", lines=[{"budget": "ISF-0001", "category": "staff_pay", "amount": "450.00"}])), 201)  # fmt: skip
    assert wages["kind"] == "wages"
    cancelled = ok(client.post(f"{API}/payables/{wages['id']}/cancel", json={"cancelled_on": "2026-05-16"}))
    assert cancelled["status"] == "cancelled" and cancelled["cancel_entry_id"] is not None
    missing = client.post(f"{API}/payables/999999/cancel", json={})
    assert missing.status_code == 404


def test_a_payroll_run_from_csv_text_with_its_payment(client: TestClient, two_budgets: dict[str, Any]) -> None:
    holder_id = two_budgets["holder"]["id"]
    body = {
        "file_name": "may.csv", "csv": PAYROLL_CSV, "pay_date": "2026-05-28", "reference": "PAY-05", 
        "payment": {"bank_reference": "BACS PAYROLL", "amount": "364.98"},
    }  # fmt: skip
    run = ok(client.post(f"{API}/holders/{holder_id}/payroll-runs", json=body), 201)
    assert run["total"] == "364.98" and [(b["budget"], b["amount"]) for b in run["by_budget"]] == [("ISF-0001", "280.00"), ("ISF-0002", "84.98")]
    assert run["payable"]["status"] == "paid" and run["payment"]["amount"] == "364.98"
    assert run["payable"]["lines"][1]["hours"] == "7.50" and run["payable"]["lines"][1]["rate"] == "11.33"
    again = ok(client.post(f"{API}/holders/{holder_id}/payroll-runs", json=body))
    assert again["payable"]["id"] == run["payable"]["id"]


def test_a_bad_payroll_file_is_refused_whole_with_its_lines(client: TestClient, two_budgets: dict[str, Any], db: Database) -> None:
    holder_id = two_budgets["holder"]["id"]
    before = fingerprint(db)
    csv = "worker,budget,hours,rate\nAnn,ISF-0001,10,12.00\nBob,ISF-0404,10,12.00\nCat,ISF-0002,10,abc\n"
    response = client.post(f"{API}/holders/{holder_id}/payroll-runs",
                           json={"file_name": "bad.csv", "csv": csv, "pay_date": "2026-05-28", "reference": "P1"})  # fmt: skip
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "payroll_bad_rate" and "bad.csv line 4" in error["message"]
    csv = "worker,budget,hours,rate\nAnn,ISF-0001,10,12.00\nBob,ISF-0404,10,12.00\n"
    response = client.post(f"{API}/holders/{holder_id}/payroll-runs",
                           json={"file_name": "bad.csv", "csv": csv, "pay_date": "2026-05-28", "reference": "P1"})  # fmt: skip
    error = response.json()
    assert response.status_code == 422 and error["code"] == "payroll_rejected"
    assert [(p["line"], p["column"]) for p in error["details"]["problems"]] == [(3, "budget")]
    assert fingerprint(db) == before


def test_pools_split_a_cost_and_each_budget_sees_its_own_line(client: TestClient, two_budgets: dict[str, Any]) -> None:
    holder_id = two_budgets["holder"]["id"]
    pool = ok(client.post(f"{API}/holders/{holder_id}/pools", json={"name": "Shared nights", "shares": [
        {"budget": "ISF-0001", "weight": 2}, {"budget": "ISF-0002", "weight": 1}]}), 201)  # fmt: skip
    assert [s["weight"] for s in pool["shares"]] == [2, 1]
    assert [p["id"] for p in ok(client.get(f"{API}/holders/{holder_id}/pools"))] == [pool["id"]]
    cost = ok(client.post(f"{API}/pools/{pool['id']}/costs", json={
        "supplier": "Night Owls", "number": "NO-1", "dated_on": "2026-06-30", "amount": "100.00", "category": "agency_support"}), 201)  # fmt: skip
    assert [(line["budget"], line["amount"]) for line in cost["lines"]] == [("ISF-0001", "66.67"), ("ISF-0002", "33.33")]
    (mine,) = ok(client.get(f"{API}/budgets/{two_budgets['budget2']['id']}/payables"))
    assert mine["total"] == "33.33" and len(mine["lines"]) == 1
    changed = ok(client.put(f"{API}/pools/{pool['id']}/shares", json={"shares": [{"budget": "ISF-0002", "weight": 1}]}))
    assert [s["budget"] for s in changed["shares"]] == ["ISF-0002"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("invoices", {"supplier": "A", "number": "1", "dated_on": "2026-05-15", "lines": []}, 422),
        ("invoices", invoice_body(lines=[{"budget": "ISF-0001", "category": "agency_support", "amount": 12.5}]), 422),
        ("invoices", invoice_body(lines=[{"budget": "isf\u0000", "category": "x\ud800", "amount": "-1.00"}]), 422),
        ("invoices", invoice_body(supplier="\u0000"), 422),
        ("payments", {"payable_ids": [2_147_483_647], "paid_on": "2026-05-20", "bank_reference": "X", "amount": "1.00"}, 404),
        ("payroll-runs", {"file_name": "x.csv", "csv": "worker\ud800", "pay_date": "2026-05-28", "reference": "P"}, 422),
        ("pools", {"name": "P", "shares": [{"budget": "ISF-0001", "weight": 0}]}, 422),
        ("pools", {"name": "P", "shares": [{"budget": "\ud800", "weight": 1}]}, 422),
    ],
)
def test_bad_requests_are_4xx_and_change_nothing(
    client: TestClient, two_budgets: dict[str, Any], db: Database, path: str, body: dict[str, Any], status: int
) -> None:
    before = fingerprint(db)
    # Sent as ASCII JSON, so that lone surrogates ("\ud800") reach the server as escapes.
    response = client.post(
        f"{API}/holders/{two_budgets['holder']['id']}/{path}", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert fingerprint(db) == before
