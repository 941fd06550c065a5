"""Reconciliation and flags through the API, on both databases: reconcile a card statement,
read the status and the queue, work a line by hand, holders' rules, remittance advices, a
funder's own copy of the spend checks and thresholds, and a flag's review to its notice."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.auth import ADMIN_SIGNATURE
from tests.support.card_statements import CardLine, card_csv
from tests.test_api import API, agree, client, ok, world  # noqa: F401  (fixtures)
from tests.test_reconcile import APRIL, card_lines

ACTOR = {}


@pytest.fixture
def card(client: TestClient, world: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    agree(client, world["draft"]["id"])
    accounts = {a["code"]: a["id"] for a in ok(client.get(f"{API}/budgets/{world['budget']['id']}/accounts"))}
    card_id = accounts["ISF-0001:card"]
    load = {
        "idempotency_key": "load-1", "entry_date": "2026-04-05", "description": "Card top-up by hand", "kind": "transfer",
        "postings": [{"account": "ISF-0001:card", "amount": "400.00"}, {"account": "ISF-0001:cash", "amount": "-400.00"}],
    }  # fmt: skip
    ok(client.post(f"{API}/entries", json=load), 201)
    files = {"file": ("card.csv", card_csv(card_lines()), "text/csv")}
    ok(client.post(f"{API}/accounts/{card_id}/statements", files=files, data={"format": "csv:prepaid_card"}), 201)
    return {"card_id": card_id, **world}


def reconcile(client: TestClient, account_id: int) -> dict[str, Any]:  # noqa: F811
    return ok(client.post(f"{API}/accounts/{account_id}/reconcile", json=ACTOR))


def test_reconcile_then_status_queue_and_flags(client: TestClient, card: dict[str, Any]) -> None:  # noqa: F811
    result = reconcile(client, card["card_id"])
    assert result["matched_existing"] == 1 and result["unmatched"] == 0 and result["flags_raised"] > 0
    assert reconcile(client, card["card_id"])["matched"] == 0
    status = ok(client.get(f"{API}/accounts/{card['card_id']}/reconciliation"))
    assert status["difference"] == "0.00" and status["unmatched_lines"] == 0
    assert status["reconciled_through"] == status["statements_cover_to"]
    assert ok(client.get(f"{API}/unmatched", params={"account_id": card["card_id"]})) == []
    excluded = ok(client.get(f"{API}/flags", params={"budget_id": card["budget"]["id"], "code": "EXCLUDED_MCC"}))
    assert {f["severity"] for f in excluded} == {"high"} and all(f["rule_version"].startswith("shipped") for f in excluded)
    assert ok(client.get(f"{API}/flags", params={"holder_id": card["holder"]["id"], "quarter": "2026Q1"}))
    assert ok(client.get(f"{API}/flags", params={"funder_id": card["council"]["id"], "state": "open"}))  # jointly funded
    assert ok(client.get(f"{API}/flags", params={"holder_id": card["holder"]["id"], "quarter": "2025Q1"})) == []
    assert client.get(f"{API}/flags", params={"code": "NOT_A_CODE"}).status_code == 422


def test_a_line_worked_by_hand_keeps_its_history(client: TestClient, card: dict[str, Any]) -> None:  # noqa: F811
    reconcile(client, card["card_id"])
    lines = ok(client.get(f"{API}/statements/1/lines"))
    tesco = next(l for l in lines if l["payee"] == "TESCO STORES 3297")
    path = f"{API}/statement-lines/{tesco['id']}"
    assert ok(client.get(f"{path}/match"))["parts"][0]["category"] == "uncategorised"
    moved = ok(client.post(f"{path}/recategorise", json={**ACTOR, "reason": "cookery group", "category": "activities"}))
    assert moved["parts"][0]["category"] == "activities" and moved["parts"][0]["rule_id"] == "person"
    split = ok(client.post(f"{path}/split", json={**ACTOR, "reason": "two things", "parts": [
        {"amount": "10.00", "category": "activities"}, {"amount": "2.34", "category": "equipment"}]}), 201)  # fmt: skip
    assert [p["amount"] for p in split["parts"]] == ["-10.00", "-2.34"]
    bad = client.post(f"{path}/split", json={**ACTOR, "reason": "x", "parts": [{"amount": "1.00", "category": "activities"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "split_amount_mismatch"
    undone = ok(client.post(f"{path}/unmatch", json={**ACTOR, "reason": "wrong"}))
    assert undone["match_id"] is None and [h["action"] for h in undone["history"]] == ["recategorise", "unmatch", "split", "unmatch"]
    queue = ok(client.get(f"{API}/unmatched", params={"holder_id": card["holder"]["id"]}))
    assert [i["line_id"] for i in queue] == [tesco["id"]]
    again = ok(client.post(f"{path}/match", json={**ACTOR, "category": "activities"}), 201)
    assert again["method"] == "split" and again["parts"][0]["category"] == "activities"
    locked = client.post(f"{API}/accounts/{card['card_id']}/reconciliation/lock", json={**ACTOR, "through_on": "2026-04-30"})
    assert locked.status_code == 409  # the statement covers less than that
    cover = ok(client.get(f"{API}/accounts/{card['card_id']}/reconciliation"))["reconciled_through"]
    ok(client.post(f"{API}/accounts/{card['card_id']}/reconciliation/lock", json={**ACTOR, "through_on": cover}), 201)
    refused = client.post(f"{path}/unmatch", json={**ACTOR, "reason": "late"})
    assert refused.status_code == 409 and refused.json()["code"] == "reconciliation_locked"
    reopened = ok(client.post(f"{API}/accounts/{card['card_id']}/reconciliation/reopen", json={**ACTOR, "reason": "audit"}))
    assert reopened[0]["reopened_by"] == ADMIN_SIGNATURE


def test_holder_rules_place_the_next_purchases(client: TestClient, card: dict[str, Any]) -> None:  # noqa: F811
    holder = card["holder"]["id"]
    rule = ok(client.post(f"{API}/holders/{holder}/category-rules", json={
        "match_on": "merchant", "pattern": "TESCO STORES", "category": "activities"}), 201)  # fmt: skip
    assert (rule["rule_id"], rule["version"], rule["pattern"]) == ("holder:rule-1", 1, "tesco stores")
    revised = ok(client.post(f"{API}/holders/{holder}/category-rules/rule-1", json={
        "match_on": "merchant", "pattern": "TESCO STORES", "category": "equipment"}), 201)  # fmt: skip
    assert revised["version"] == 2
    assert [r["version"] for r in ok(client.get(f"{API}/holders/{holder}/category-rules", params={"include_retired": True}))] == [1, 2]
    reconcile(client, card["card_id"])
    tesco = next(l for l in ok(client.get(f"{API}/statements/1/lines")) if l["payee"] == "TESCO STORES 3297")
    part = ok(client.get(f"{API}/statement-lines/{tesco['id']}/match"))["parts"][0]
    assert (part["category"], part["rule_id"], part["rule_version"]) == ("equipment", "holder:rule-1", "2")
    bad = client.post(f"{API}/holders/{holder}/category-rules", json={"match_on": "mcc", "pattern": "54", "category": "activities"})
    assert bad.status_code == 422 and bad.json()["code"] == "mcc_invalid"
    retired = ok(client.post(f"{API}/holders/{holder}/category-rules/rule-1/retire", json={}))
    assert retired["retired_at"] and retired["retired_by"]
    again = client.post(f"{API}/holders/{holder}/category-rules/rule-1/retire", json={})
    assert (again.status_code, again.json()["code"]) == (409, "rule_already_retired")
    unknown = client.post(f"{API}/holders/{holder}/category-rules/rule-9/retire", json={})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "rule_not_found")
    shipped = ok(client.get(f"{API}/rules/categories"))
    assert shipped["mcc"] and all(entry["source"] for entry in shipped["mcc"])


def test_a_funder_edits_its_own_copy_of_the_spend_checks(client: TestClient, card: dict[str, Any]) -> None:  # noqa: F811
    shipped = ok(client.get(f"{API}/rules/spend-checks"))
    mine = copy.deepcopy(shipped)
    mine["mcc"] = [entry for entry in mine["mcc"] if entry.get("mcc") != "7995"]
    icb = card["icb"]["id"]
    saved = ok(client.post(f"{API}/funders/{icb}/spend-checks", json={"definition": mine, "note": "betting reviewed by hand"}), 201)
    assert saved["version"] == 1 and saved["based_on"].startswith("shipped:")
    broken = copy.deepcopy(mine)
    broken["mcc"][0]["source"] = ""
    refused = client.post(f"{API}/funders/{icb}/spend-checks", json={"definition": broken})
    assert refused.status_code == 422 and refused.json()["field"].startswith("mcc[0]")
    assert ok(client.get(f"{API}/rules/spend-checks")) == shipped  # the default is never edited in place
    reconcile(client, card["card_id"])
    codes = {(f["code"], f["rule_version"]) for f in ok(client.get(f"{API}/flags", params={"budget_id": card["budget"]["id"]}))}
    assert not any(code == "EXCLUDED_MCC" and "shipped" in version for code, version in codes)
    betting = [f for f in ok(client.get(f"{API}/flags", params={"code": "EXCLUDED_MCC"})) if "WILLIAM HILL" in f["reason"]]
    assert betting == []
    settings = ok(client.put(f"{API}/funders/{icb}/flag-settings", json={
        "large_spend": "20.00", "duplicate_window_days": 2, "over_plan_tolerance_percent": "2.5"}))  # fmt: skip
    assert (settings["large_spend"], settings["over_plan_tolerance_percent"], settings["is_default"]) == ("20.00", "2.50", False)
    ok(client.post(f"{API}/flags/run", json={"holder_id": card["holder"]["id"], "as_of": "2026-05-01"}))
    large = ok(client.get(f"{API}/flags", params={"code": "LARGE_SPEND"}))
    assert {f["amount"] for f in large} == {"23.50", "25.00", "45.00", "50.00"}


def test_a_remittance_advice_names_real_budgets_of_the_holder(client: TestClient, card: dict[str, Any]) -> None:  # noqa: F811
    holder = card["holder"]["id"]
    body = {"funder_id": card["icb"]["id"], "reference": "REM-0042", "lines": [{"budget": "ISF-0001", "amount": "100.00"}]}
    made = ok(client.post(f"{API}/holders/{holder}/remittances", json=body), 201)
    assert made["total"] == "100.00" and made["receipt_id"] is None
    assert client.post(f"{API}/holders/{holder}/remittances", json=body).json()["code"] == "remittance_exists"
    wrong = client.post(f"{API}/holders/{holder}/remittances", json={**body, "reference": "X", "lines": [{"budget": "NOPE", "amount": "1.00"}]})
    assert wrong.status_code == 422 and wrong.json()["field"] == "lines[0].budget"


__all__ = ["APRIL", "CardLine"]


def test_a_flag_is_explained_challenged_recovered_and_closed_through_the_api(client: TestClient, card: dict[str, Any]) -> None:  # noqa: F811
    reconcile(client, card["card_id"])
    flag = next(f for f in ok(client.get(f"{API}/flags", params={"code": "EXCLUDED_MCC"})) if "BARGAIN BOOZE" in f["reason"])
    path = f"{API}/flags/{flag['id']}"
    receipt = ok(client.post(f"{API}/holders/{card['holder']['id']}/evidence", files={"file": ("receipt.txt", b"Bargain Booze: 1 bottle", "text/plain")},
                             data={"kind": "receipt", "flag_id": str(flag["id"])}), 201)  # fmt: skip
    explained = ok(client.post(f"{path}/explain", json={"note": "bought for a party", "evidence_ids": [receipt["id"]], "actor_role": "holder"}))
    assert explained["state"] == "explained"
    assert ok(client.post(f"{path}/challenge", json={"note": "alcohol is excluded"}))["state"] == "challenged"
    wrong = client.post(f"{path}/accept", json={"note": "fine"})
    assert wrong.status_code == 409 and wrong.json()["code"] == "flag_transition_not_allowed"
    asked = ok(client.post(f"{path}/request-recovery", json={
        "amount": "15.99", "reasons": "Alcohol may not be bought with a personal health budget.", "repay_by": "2026-06-30",
        "repayer": "Sunrise Support", "issued_on": "2026-06-01"}))  # fmt: skip
    assert asked["state"] == "recovery_requested"
    notice = client.get(f"{API}/repayment-notices/{asked['notices'][0]['id']}")
    assert notice.status_code == 200 and "£15.99" in notice.text and "30 June 2026" in notice.text and "reconsider" in notice.text
    recovered = ok(client.post(f"{path}/recovered", json={"method": "repayment", "on": "2026-06-20", "into": "card"}))
    assert recovered["state"] == "recovered"
    closed = ok(client.post(f"{path}/close", json={"note": "repaid"}))
    assert closed["state"] == "closed"
    assert [e["action"] for e in closed["events"]] == ["raised", "explained", "challenged", "recovery_requested", "recovered", "closed"]
    body = client.get(f"{API}/evidence/{receipt['id']}")
    assert body.content == b"Bargain Booze: 1 bottle"
