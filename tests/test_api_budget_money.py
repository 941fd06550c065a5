"""The contingency, top-slice and notional-cost endpoints: each posts once, reads back, and
answers bad input with a clear 4xx that changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledger.store.database import Database
from tests.test_api import API, agree, client, fingerprint, ok, world  # noqa: F401  (fixtures)


def use_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "amount": "250.00",
        "reason": "Boiler broke: emergency heater hire",
        "agreed_by_name": "Jo Bloggs",
        "agreed_by_role": "ICB PHB manager",
        "agreed_on": "2026-06-01",
        "used_on": "2026-06-02",
        "to": "card", 
    }
    body.update(overrides)
    return body


def ring_fenced(client: TestClient, world: dict[str, Any]) -> int:  # noqa: F811
    agree(client, world["draft"]["id"])
    budget_id = world["budget"]["id"]
    fence = ok(client.post(f"{API}/budgets/{budget_id}/contingency/ring-fence", json={"on": "2026-04-01"}))
    assert (fence["change"], fence["ring_fenced"]) == ("2000.00", "2000.00")
    again = ok(client.post(f"{API}/budgets/{budget_id}/contingency/ring-fence", json={"on": "2026-04-02"}))
    assert again["change"] == "0.00" and again["entry_id"] is None
    return budget_id


def test_use_contingency_then_read_it_back(client: TestClient, world: dict[str, Any], db: Database) -> None:  # noqa: F811
    budget_id = ring_fenced(client, world)
    created = ok(client.post(f"{API}/budgets/{budget_id}/contingency-uses", json=use_body()), 201)
    assert (created["amount"], created["to"], created["category"]) == ("250.00", "card", None)
    replay = client.post(f"{API}/budgets/{budget_id}/contingency-uses", json=use_body())
    assert replay.status_code == 200 and replay.json()["id"] == created["id"]
    spend = ok(client.post(f"{API}/budgets/{budget_id}/contingency-uses",
                           json=use_body(amount="100.00", to="spend", category="equipment", reason="Hoist sling")), 201)  # fmt: skip
    assert spend["category"] == "equipment"
    assert [u["id"] for u in ok(client.get(f"{API}/budgets/{budget_id}/contingency-uses"))] == [created["id"], spend["id"]]
    position = ok(client.get(f"{API}/budgets/{budget_id}/contingency"))
    assert position == {"planned": "2000.00", "ring_fenced": "2000.00", "used": "350.00", "returned": "0.00", "left": "1650.00"}
    before = fingerprint(db)
    over = client.post(f"{API}/budgets/{budget_id}/contingency-uses", json=use_body(amount="1650.01", reason="Too much"))
    assert over.status_code == 409 and over.json()["code"] == "contingency_exceeded" and "£1,650.00" in over.json()["message"]
    assert fingerprint(db) == before


def test_bad_contingency_uses_are_4xx_and_post_nothing(client: TestClient, world: dict[str, Any], db: Database) -> None:  # noqa: F811
    budget_id = ring_fenced(client, world)
    before = fingerprint(db)
    for overrides, status, code in [
        ({"amount": "-5.00"}, 422, "contingency_amount_not_positive"),
        ({"amount": "0"}, 422, "contingency_amount_not_positive"),
        ({"reason": "   "}, 422, "reason_required"),
        ({"agreed_by_name": ""}, 422, "agreed_by_required"),
        ({"agreed_on": "2026-06-03"}, 422, "agreed_after_use"),
        ({"to": "spend", "category": "yachts"}, 422, "category_unknown"),
        ({"used_on": "2026-03-31", "agreed_on": "2026-03-01"}, 409, "plan_not_agreed"),
    ]:
        response = client.post(f"{API}/budgets/{budget_id}/contingency-uses", json=use_body(**overrides))
        assert response.status_code == status, (overrides, response.text)
        assert response.json()["code"] == code, (overrides, response.text)
    missing = client.post(f"{API}/budgets/{budget_id}/contingency-uses", json={k: v for k, v in use_body().items() if k != "reason"})
    assert missing.status_code == 422
    assert client.post(f"{API}/budgets/99999/contingency-uses", json=use_body()).status_code == 404
    assert fingerprint(db) == before


def test_contingency_on_an_unagreed_plan_is_refused(client: TestClient, world: dict[str, Any], db: Database) -> None:  # noqa: F811
    budget_id = world["budget"]["id"]
    before = fingerprint(db)
    response = client.post(f"{API}/budgets/{budget_id}/contingency-uses", json=use_body())
    assert response.status_code == 409 and response.json()["code"] == "plan_not_agreed"
    fence = client.post(f"{API}/budgets/{budget_id}/contingency/ring-fence", json={"on": "2026-04-01"})
    assert fence.status_code == 409 and fence.json()["code"] == "plan_not_agreed"
    assert fingerprint(db) == before


def test_top_slices_run_once_and_the_schedule_shows_them(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    first = ok(client.post(f"{API}/top-slices/run", json={"as_of": "2026-06-15"}))
    assert first["posted"] == 3 and [m["month_start"] for m in first["months"]] == ["2026-04-01", "2026-05-01", "2026-06-01"]
    assert first["months"][0]["amount"] == "346.67"  # 8% of £52,000 over twelve months
    assert ok(client.post(f"{API}/top-slices/run", json={"as_of": "2026-06-15"}))["posted"] == 0
    schedule = ok(client.get(f"{API}/budgets/{world['budget']['id']}/top-slice"))
    assert (schedule["taken"], schedule["to_come"]) == ("1040.01", "3119.99")
    assert [m["status"] for m in schedule["months"]] == ["taken"] * 3 + ["due"] * 9
    future = client.post(f"{API}/top-slices/run", json={"as_of": "2099-01-01"})
    assert future.status_code == 422 and future.json()["code"] == "as_of_in_future"
    assert client.post(f"{API}/top-slices/run", json={"budget_id": 99999}).status_code == 404
    assert client.get(f"{API}/budgets/99999/top-slice").status_code == 404


def test_notional_costs_only_on_a_notional_budget(client: TestClient, world: dict[str, Any], db: Database) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    body = {
        "funder_id": world["icb"]["id"], "category": "agency_support", "amount": "120.00", "on": "2026-05-31",
        "supplier": "Careway Agency", "reference": "INV-1001", "description": "Home care, May", 
    }  # fmt: skip
    before = fingerprint(db)
    refused = client.post(f"{API}/budgets/{world['budget']['id']}/notional-costs", json=body)
    assert refused.status_code == 409 and refused.json()["code"] == "budget_not_notional"
    assert fingerprint(db) == before
    holder = ok(client.post(f"{API}/holders", json={"code": "devon-chc", "name": "Devon CHC team", "kind": "commissioner"}), 201)
    budget = ok(client.post(f"{API}/budgets", json={
        "reference": "NOT-0001", "holder_id": holder["id"], "person_id": world["person"]["id"], "lead_funder_id": world["icb"]["id"],
        "period_start": "2026-04-01", "period_end": "2027-03-31", "parts": [{"management_option": "notional", "holding": "none"}],
    }), 201)  # fmt: skip
    draft = ok(client.post(f"{API}/budgets/{budget['id']}/plan-versions", json={
        "effective_from": "2026-04-01", "total": "10000.00", "funding_lines": [{"funder_id": world["icb"]["id"], "amount": "10000.00"}],
        "lines": [{"category": "agency_support", "description": "Home care", "kind": "recurring", "annual_amount": "10000.00"}],
    }), 201)  # fmt: skip
    agree(client, draft["id"])
    created = ok(client.post(f"{API}/budgets/{budget['id']}/notional-costs", json=body), 201)
    assert (created["amount"], created["category"], created["on"]) == ("120.00", "agency_support", "2026-05-31")
    replay = client.post(f"{API}/budgets/{budget['id']}/notional-costs", json=body)
    assert replay.status_code == 200 and replay.json()["id"] == created["id"]
    other = client.post(f"{API}/budgets/{budget['id']}/notional-costs", json={**body, "amount": "130.00"})
    assert other.status_code == 409 and other.json()["code"] == "notional_cost_conflict"
    beyond = client.post(f"{API}/budgets/{budget['id']}/notional-costs", json={**body, "reference": "INV-2", "amount": "9880.01"})
    assert beyond.status_code == 409 and beyond.json()["code"] == "notional_exceeds_allocation"
    assert [c["id"] for c in ok(client.get(f"{API}/budgets/{budget['id']}/notional-costs"))] == [created["id"]]
