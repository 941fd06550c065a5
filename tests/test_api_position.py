"""The position, transition, threshold, closing and surplus endpoints over HTTP, on both
databases: figures as decimal strings, weeks as one-decimal text, replays answered 200,
refusals as clear 4xx that change nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.test_api import API, agree, client, ok, world  # noqa: F401  (fixtures)


def paid(client: TestClient, amount: str = "10000.00") -> None:  # noqa: F811
    """The ICB's payment for ISF-0001 received (a funder's payment is the receipts service's to post, not an entry by hand)."""
    funders = {f["code"]: f["id"] for f in ok(client.get(f"{API}/funders"))}
    holder = ok(client.get(f"{API}/holders"))[0]["id"]
    body = {"funder_id": funders["icb-devon"], "received_on": "2026-04-01", "amount": amount, "reference": "BACS ICB 1",
            "remittance": [{"budget": "ISF-0001", "amount": amount}]}  # fmt: skip
    ok(client.post(f"{API}/holders/{holder}/funder-receipts", json=body), 201)


def test_the_position_with_shares_and_schedule(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    paid(client)
    run = ok(client.post(f"{API}/drawdowns/run", json={"as_of": "2026-04-14T12:00:00Z"}))
    budget_id = world["budget"]["id"]
    position = ok(client.get(f"{API}/budgets/{budget_id}/position"))
    f = position["figures"]
    assert (f["allocated"], f["received"], f["still_to_come"]) == ("52000.00", "10000.00", "42000.00")
    loads = run["total"]
    assert f["card"] == loads
    assert f["transition_planned"] == "1440.00" and f["transition_left"] == "1440.00"
    assert f["top_slice_planned"] == "4160.00" and f["contingency_planned"] == "2000.00"
    # (£52,000 − £2,000 − £4,160 − £1,440) × 7 ÷ 365 = £851.51
    assert f["weekly_amount"] == "851.51"
    assert f["weeks_held"] == f"{f['weeks_held_tenths'] // 10}.{f['weeks_held_tenths'] % 10}"
    assert f["thresholds"] == {"warn_weeks": "4.0", "act_weeks": "8.0", "warn_weeks_tenths": 40, "act_weeks_tenths": 80, "is_default": True}
    assert [s["funder"] for s in position["shares"]] == ["icb-devon", "plymouth-asc", "contribution"]
    assert sum(int(s["figures"]["held"].replace(".", "")) for s in position["shares"]) == int(f["held"].replace(".", ""))
    (part,) = position["schedule"]
    assert [load["status"] for load in part["loads"][:4]] == ["posted", "posted", "posted", "due"]
    before = ok(client.get(f"{API}/budgets/{budget_id}/position", params={"as_of": "2026-03-31"}))
    assert before["as_of"] == "2026-03-31" and before["figures"]["received"] == "0.00"
    assert client.get(f"{API}/budgets/{budget_id}/position", params={"as_of": "31/03/2026"}).status_code == 422
    assert client.get(f"{API}/budgets/999999/position").status_code == 404
    listed = ok(client.get(f"{API}/holders/{world['holder']['id']}/positions"))
    assert [p["reference"] for p in listed] == ["ISF-0001"] and listed[0]["figures"] == f and listed[0]["shares"] == []


def test_transition_against_the_previous_placement(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    body = ok(client.get(f"{API}/budgets/{world['budget']['id']}/transition"))
    assert (body["planned"], body["spent"], body["left"]) == ("1440.00", "0.00", "1440.00")
    assert (body["year_one_cost"], body["recurring_cost"]) == ("52000.00", "47560.00")  # less transition and the lamp
    assert (body["previous_placement_annual_cost"], body["year_one_saving"], body["year_two_saving"]) == ("95000.00", "43000.00", "47440.00")


def test_a_funder_sets_its_thresholds(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    icb = world["icb"]["id"]
    body = ok(client.put(f"{API}/funders/{icb}/surplus-thresholds", json={"warn_weeks_tenths": 30, "act_weeks_tenths": 65}))
    assert (body["warn_weeks"], body["act_weeks"]) == ("3.0", "6.5")
    agree(client, world["draft"]["id"])
    figures = ok(client.get(f"{API}/budgets/{world['budget']['id']}/position"))["figures"]
    assert figures["thresholds"]["act_weeks"] == "6.5" and not figures["thresholds"]["is_default"]
    bad = client.put(f"{API}/funders/{icb}/surplus-thresholds", json={"warn_weeks_tenths": 80, "act_weeks_tenths": 40})
    assert bad.status_code == 422 and bad.json()["code"] == "thresholds_order"
    floats = client.put(f"{API}/funders/{icb}/surplus-thresholds", json={"warn_weeks_tenths": 3.5, "act_weeks_tenths": 40})
    assert floats.status_code == 422
    assert client.put(f"{API}/funders/999999/surplus-thresholds", json={"warn_weeks_tenths": 1, "act_weeks_tenths": 2}).status_code == 404


def test_close_then_return_the_surplus_and_record_decisions(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    paid(client)
    budget_id = world["budget"]["id"]
    holder = world["holder"]["id"]
    wages = ok(client.post(f"{API}/holders/{holder}/wages", json={
        "supplier": "Jo Carer", "number": "PAY-APR", "dated_on": "2026-04-20", "lines": [{"budget": "ISF-0001", "category": "staff_pay", "amount": "500.00"}]}), 201)  # fmt: skip
    close_body = {"closed_on": "2026-05-01", "reason": "Moved away"}
    refused = client.post(f"{API}/budgets/{budget_id}/close", json=close_body)
    assert refused.status_code == 409 and refused.json()["code"] == "budget_has_committed_money"
    ok(client.post(f"{API}/holders/{holder}/payments", json={
        "payable_ids": [wages["id"]], "paid_on": "2026-04-24", "bank_reference": "BACS PAY-APR", "amount": "500.00"}), 201)  # fmt: skip
    closure = ok(client.post(f"{API}/budgets/{budget_id}/close", json=close_body), 201)
    assert closure["allocation_released"] == "42000.00"
    assert closure["surplus"] == "8060.00"  # £10,000 − £500 wages − £1,440 unspent transition
    again = ok(client.post(f"{API}/budgets/{budget_id}/close", json=close_body | {"closed_on": "2026-06-01"}))
    assert again["id"] == closure["id"] and again["closed_on"] == "2026-05-01"
    assert ok(client.post(f"{API}/drawdowns/run", json={"as_of": "2026-06-01T12:00:00Z"}))["posted"] == 0
    # closed: the £1,440 of transition money can no longer be spent, so it goes back with the surplus
    too_much = client.post(f"{API}/budgets/{budget_id}/surplus-returns", json={"amount": "9500.01", "on": "2026-05-02", "reason": "x", "decided_by": "ICB"})
    assert too_much.status_code == 409 and too_much.json()["code"] == "beyond_surplus"
    body = {"amount": "1000.00", "on": "2026-05-02", "reason": "Council share", "decided_by": "ICB",
            "shares": [{"funder_id": world["council"]["id"], "amount": "1000.00"}]}  # fmt: skip
    returned = ok(client.post(f"{API}/budgets/{budget_id}/surplus-returns", json=body), 201)
    assert [(s["funder"], s["amount"]) for s in returned["shares"]] == [("plymouth-asc", "1000.00")]
    assert ok(client.post(f"{API}/budgets/{budget_id}/surplus-returns", json=body))["id"] == returned["id"]
    twice = body | {"on": "2026-05-03", "shares": [{"funder_id": None, "amount": "500.00"}, {"funder_id": None, "amount": "500.00"}]}
    assert client.post(f"{API}/budgets/{budget_id}/surplus-returns", json=twice).status_code == 422
    rest = ok(client.post(f"{API}/budgets/{budget_id}/surplus-returns", json={"on": "2026-05-03", "reason": "The rest", "decided_by": "ICB"}), 201)
    # closing released what was never received, so pro rata now means to what each paid in
    assert rest["amount"] == "8500.00" and [(s["funder"], s["amount"]) for s in rest["shares"]] == [("icb-devon", "8500.00")]
    decisions = client.post(f"{API}/budgets/{budget_id}/surplus-decisions",
                            json={"action": "accept", "amount": "1.00", "reason": "x", "decided_by": "ICB", "decided_on": "2026-05-04"})  # fmt: skip
    assert decisions.status_code == 409 and decisions.json()["code"] == "beyond_surplus"
    listed = ok(client.get(f"{API}/budgets/{budget_id}/surplus-decisions"))
    assert [(d["action"], d["amount"]) for d in listed] == [("return", "1000.00"), ("return", "8500.00")]
    figures = ok(client.get(f"{API}/budgets/{budget_id}/position"))["figures"]
    assert (figures["surplus"], figures["held"]) == ("0.00", "0.00")


def test_decisions_accept_and_reallocate(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    paid(client)
    budget_id = world["budget"]["id"]
    base = {"amount": "100.00", "reason": "Saving for a break", "decided_by": "ICB", "decided_on": "2026-05-04"}
    accepted = ok(client.post(f"{API}/budgets/{budget_id}/surplus-decisions", json=base | {"action": "accept"}), 201)
    assert accepted["action"] == "accept" and accepted["shares"] == [] and accepted["entry_id"] is None
    missing = client.post(f"{API}/budgets/{budget_id}/surplus-decisions", json=base | {"action": "reallocate"})
    assert missing.status_code == 422 and missing.json()["code"] == "plan_version_required"
    offset = client.post(f"{API}/budgets/{budget_id}/surplus-decisions", json=base | {"action": "offset"})
    assert offset.status_code == 422
    realloc = ok(client.post(f"{API}/budgets/{budget_id}/surplus-decisions", json=base | {"action": "reallocate", "plan_version_id": world["draft"]["id"]}), 201)
    assert realloc["plan_version_id"] == world["draft"]["id"]
    negative = client.post(f"{API}/budgets/{budget_id}/surplus-decisions", json=base | {"action": "accept", "amount": "-1.00"})
    assert negative.status_code == 422
