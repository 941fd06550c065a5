"""The JSON API over HTTP, on both databases: set up a budget, agree its plan, post, replay,
reverse, read balances and history — and every kind of bad input is a clear 4xx that
changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledger.store.database import Database
from ledger.store.tables import Account, Budget, JournalEntry, Posting, SupportPlanVersion
from tests.support.auth import token_headers
from web.app import create_app

API = "/api/v1"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db), raise_server_exceptions=False) as test_client:
        test_client.headers.update(token_headers(db))
        yield test_client


def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def plan_body(icb: int, council: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "effective_from": "2026-04-01",
        "total": "52,000.00",
        "funding_lines": [
            {"funder_id": icb, "amount": "32000.00"},
            {"funder_id": council, "amount": "20000.00", "client_contribution": "1500.00"},
        ],
        "contingency": "2000.00",
        "top_slice": {"percent": "8"},
        "lines": [
            {"category": "staff_pay", "description": "Personal assistants", "kind": "recurring",
             "weekly_hours": "20", "hourly_rate": "15.00", "weeks": 52},
            {"category": "activities", "description": "Swimming and days out", "kind": "recurring", "annual_amount": "25800.00"},
            {"category": "equipment", "description": "Sensory lamp", "kind": "one_off", "amount": "3000.00", "starts_on": "2026-06-01"},
            {"category": "transition", "description": "Staff recruited before the move", "kind": "one_off",
             "amount": "1440.00", "starts_on": "2026-02-01", "ends_on": "2026-03-31"},
        ],
        "outcomes": ["Go swimming every week", "Sleep through the night"],
        "review_every_months": 3,
    }
    body.update(overrides)
    return body


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    icb = ok(client.post(f"{API}/funders", json={"code": "icb-devon", "name": "NHS Devon ICB", "kind": "icb"}), 201)
    council = ok(client.post(f"{API}/funders", json={"code": "plymouth-asc", "name": "Plymouth City Council", "kind": "council_adult_social_care"}), 201)
    holder = ok(client.post(f"{API}/holders", json={"code": "sunrise", "name": "Sunrise Support", "kind": "isf_provider"}), 201)
    person = ok(client.post(f"{API}/people", json={"name": "Alex Smith", "date_of_birth": "1990-05-01", "eligibility_group": "learning_disability_autism"}), 201)
    budget = ok(
        client.post(
            f"{API}/budgets",
            json={
                "reference": "ISF-0001",
                "holder_id": holder["id"],
                "person_id": person["id"],
                "lead_funder_id": icb["id"],
                "period_start": "2026-04-01",
                "period_end": "2027-03-31",
                "parts": [{"management_option": "third_party", "holding": "prepaid_card"}],
                "contacts": [{"role": "care_coordinator", "name": "Pat Jones", "phone": "01752 000000"}],
                "previous_placement_annual_cost": "95000.00",
            },
        ),
        201,
    )
    draft = ok(client.post(f"{API}/budgets/{budget['id']}/plan-versions", json=plan_body(icb["id"], council["id"])), 201)
    return {"icb": icb, "council": council, "holder": holder, "person": person, "budget": budget, "draft": draft}


AGREEMENT = "Letter from the ICB's PHB panel, 20 March 2026"


def agree(client: TestClient, version_id: int) -> dict[str, Any]:
    return ok(
        client.post(
            f"{API}/plan-versions/{version_id}/agree",
            json={"agreed_by_name": "Jo Bloggs", "agreed_by_role": "ICB PHB manager", "agreed_at": "2026-03-20T10:00:00Z", "document": AGREEMENT},
        )
    )


def payment(key: str = "pay-1", amount: str = "1000.00", day: str = "2026-04-06") -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "entry_date": day,
        "description": "NHS Devon ICB payment, April",
        "kind": "manual",
        "postings": [
            {"account": "ISF-0001:cash", "amount": amount},
            {"account": "ISF-0001:receivable:icb-devon", "amount": f"-{amount}"},
        ],
    }


def fingerprint(db: Database) -> tuple[int, ...]:
    with db.read() as session:
        return tuple(
            session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (JournalEntry, Posting, Account, Budget, SupportPlanVersion)
        )


def test_a_plan_works_out_its_money_and_agreeing_posts_the_allocation(client: TestClient, world: dict[str, Any]) -> None:
    draft = world["draft"]
    assert draft["status"] == "draft"
    assert draft["top_slice"] == "4160.00"  # 8% of £52,000
    assert draft["lines"][0]["amount"] == "15600.00"  # 20 h × £15 × 52
    assert [f["funder_pays"] for f in draft["funding_lines"]] == ["32000.00", "18500.00"]
    agreed = agree(client, draft["id"])
    assert (agreed["status"], agreed["agreed_by_role"]) == ("agreed", "ICB PHB manager")
    balances = ok(client.get(f"{API}/budgets/{world['budget']['id']}/balances"))
    by_account = {a["account"]: a["balance"] for a in balances["accounts"]}
    assert by_account["ISF-0001:allocation:icb-devon"] == "32000.00"
    assert by_account["ISF-0001:allocation:plymouth-asc"] == "18500.00"
    assert by_account["ISF-0001:allocation:contribution"] == "1500.00"
    assert balances["totals_by_kind"]["receivable"] == "52000.00"


def test_post_replay_conflict_reverse_and_read_back(client: TestClient, world: dict[str, Any], db: Database) -> None:
    agree(client, world["draft"]["id"])
    created = client.post(f"{API}/entries", json=payment())
    assert created.status_code == 201 and created.headers["Idempotency-Outcome"] == "created"
    replay = client.post(f"{API}/entries", json=payment())
    assert replay.status_code == 200 and replay.json() == created.json()
    before = fingerprint(db)
    conflict = client.post(f"{API}/entries", json=payment(amount="999.99"))
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "exists_with_different_postings"
    assert conflict.json()["details"]["entry_id"] == created.json()["id"]
    assert fingerprint(db) == before
    entry_id = created.json()["id"]
    reversal = ok(client.post(f"{API}/entries/{entry_id}/reverse", json={"idempotency_key": "rev-1", "entry_date": "2026-04-07"}), 201)
    assert reversal["reverses_entry_id"] == entry_id
    assert {p["amount"] for p in reversal["postings"]} == {"-1000.00", "1000.00"}
    assert ok(client.get(f"{API}/entries/{entry_id}"))["postings"][0]["amount"] == "1000.00"
    history = ok(client.get(f"{API}/budgets/{world['budget']['id']}/journal", params={"limit": 2}))
    assert [e["id"] for e in history["entries"]] == [reversal["id"], entry_id]
    older = ok(client.get(f"{API}/budgets/{world['budget']['id']}/journal", params={"before": history["next_before"]}))
    assert [e["kind"] for e in older["entries"]] == ["allocation"]
    assert older["next_before"] is None


def test_balances_as_at_a_date_and_by_funder_share(client: TestClient, world: dict[str, Any]) -> None:
    agree(client, world["draft"]["id"])
    ok(client.post(f"{API}/entries", json=payment("april", "1000.00", "2026-04-06")), 201)
    ok(client.post(f"{API}/entries", json=payment("may", "500.00", "2026-05-06")), 201)
    budget_id = world["budget"]["id"]
    april = ok(client.get(f"{API}/budgets/{budget_id}/balances", params={"as_of": "2026-04-30"}))
    assert {a["account"]: a["balance"] for a in april["accounts"]}["ISF-0001:cash"] == "1000.00"
    assert ok(client.get(f"{API}/accounts/ISF-0001:cash/balance"))["balance"] == "1500.00"
    shares = ok(client.get(f"{API}/budgets/{budget_id}/balances/by-funder"))
    cash = {s["funder"]: {a["account"]: a["balance"] for a in s["accounts"]}.get("ISF-0001:cash") for s in shares["shares"]}
    # £1,500 of cash split 32,000 : 18,500 : 1,500 by what each has allocated
    assert cash == {"icb-devon": "923.08", "plymouth-asc": "533.65", "contribution": "43.27"}
    holder = ok(client.get(f"{API}/holders/{world['holder']['id']}/balances"))
    assert holder["budgets"][0]["totals_by_kind"]["cash"] == "1500.00"


BAD_AMOUNTS = [
    (12.5, "amount_not_text"),
    ("NaN", "amount_not_a_number"),
    ("12.345", "amount_too_many_decimals"),
    ("$12.00", "amount_other_currency"),
    ("12,34", "amount_malformed"),
]


@pytest.mark.parametrize(("amount", "code"), BAD_AMOUNTS)
def test_bad_amounts_are_refused_with_their_reason(client: TestClient, world: dict[str, Any], db: Database, amount: Any, code: str) -> None:
    agree(client, world["draft"]["id"])
    before = fingerprint(db)
    body = payment()
    body["postings"][0]["amount"] = amount
    response = client.post(f"{API}/entries", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == code
    assert response.json()["errors"][0]["field"] == "postings.0.amount"
    assert fingerprint(db) == before


def test_a_nan_json_number_is_refused(client: TestClient, world: dict[str, Any]) -> None:
    agree(client, world["draft"]["id"])
    raw = '{"idempotency_key": "k", "entry_date": "2026-04-06", "description": "x", "postings": [' \
          '{"account": "ISF-0001:cash", "amount": NaN}, {"account": "ISF-0001:receivable:icb-devon", "amount": "-1.00"}]}'
    response = client.post(f"{API}/entries", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "amount_not_text"


def _unbalanced() -> dict[str, Any]:
    body = payment()
    body["postings"][1]["amount"] = "-999.99"
    return body


def _unknown_account() -> dict[str, Any]:
    body = payment()
    body["postings"][1]["account"] = "ISF-0001:receivable:nobody"
    return body


def _outside_plan_period(icb: int, council: int) -> dict[str, Any]:
    body = plan_body(icb, council)
    body["lines"][2]["starts_on"] = "2027-06-01"
    return body


def _not_adding_up(icb: int, council: int) -> dict[str, Any]:
    body = plan_body(icb, council)
    body["funding_lines"][1]["amount"] = "19999.99"
    return body


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unbalanced", 422, "entry_unbalanced"),
        ("unknown_account", 422, "unknown_account"),
        ("plan_not_agreed", 409, "plan_not_agreed"),
        ("reversing_twice", 409, "already_reversed"),
        ("outside_plan_period", 422, "date_outside_plan_period"),
        ("funding_lines_do_not_add_up", 422, "funding_lines_do_not_add_up"),
        ("agree_twice", 409, "plan_version_not_draft"),
        ("contribution_on_nhs_share", 422, "contribution_not_social_care"),
        ("a_services_key", 422, "idempotency_key_reserved"),
        ("a_services_kind", 422, "kind_reserved"),
        ("reversal_under_a_services_key", 422, "idempotency_key_reserved"),
    ],
)
def test_bad_requests_are_clear_and_change_nothing(
    client: TestClient, world: dict[str, Any], db: Database, case: str, status: int, code: str
) -> None:
    icb, council, budget_id = world["icb"]["id"], world["council"]["id"], world["budget"]["id"]
    if case != "plan_not_agreed":
        agree(client, world["draft"]["id"])
    if case in ("reversing_twice", "reversal_under_a_services_key"):
        entry_id = ok(client.post(f"{API}/entries", json=payment()), 201)["id"]
    if case == "reversing_twice":
        ok(client.post(f"{API}/entries/{entry_id}/reverse", json={"idempotency_key": "r1"}), 201)
    before = fingerprint(db)
    if case == "unbalanced":
        response = client.post(f"{API}/entries", json=_unbalanced())
    elif case == "unknown_account":
        response = client.post(f"{API}/entries", json=_unknown_account())
    elif case == "plan_not_agreed":
        response = client.post(f"{API}/entries", json=payment())
    elif case == "reversing_twice":
        response = client.post(f"{API}/entries/{entry_id}/reverse", json={"idempotency_key": "r2"})
    elif case == "a_services_key":  # a load's key, taken before the load: it would stop the holder's loads
        response = client.post(f"{API}/entries", json=payment(key="drawdown:part-1:2026-04-06"))
    elif case == "a_services_kind":
        response = client.post(f"{API}/entries", json={**payment(), "kind": "drawdown"})
    elif case == "reversal_under_a_services_key":
        response = client.post(f"{API}/entries/{entry_id}/reverse", json={"idempotency_key": "payable:1:paid"})
    elif case == "outside_plan_period":
        response = client.post(f"{API}/budgets/{budget_id}/plan-versions", json=_outside_plan_period(icb, council))
    elif case == "funding_lines_do_not_add_up":
        response = client.post(f"{API}/budgets/{budget_id}/plan-versions", json=_not_adding_up(icb, council))
    elif case == "agree_twice":
        response = client.post(
            f"{API}/plan-versions/{world['draft']['id']}/agree",
            json={"agreed_by_name": "A", "agreed_by_role": "B", "agreed_at": "2026-03-20T10:00:00Z", "document": AGREEMENT},
        )
    else:
        body = plan_body(icb, council)
        body["funding_lines"][0]["client_contribution"] = "10.00"
        response = client.post(f"{API}/budgets/{budget_id}/plan-versions", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert fingerprint(db) == before


def test_transition_lines_may_precede_the_plan_period_but_other_lines_may_not(client: TestClient, world: dict[str, Any]) -> None:
    transition = world["draft"]["lines"][3]
    assert (transition["category"], transition["starts_on"]) == ("transition", "2026-02-01")
    body = plan_body(world["icb"]["id"], world["council"]["id"])
    body["lines"][2]["starts_on"] = "2026-02-01"  # the sensory lamp is not a transition cost
    response = client.put(f"{API}/plan-versions/{world['draft']['id']}", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == "lines[2].starts_on"


def test_only_a_draft_changes_and_a_revision_posts_only_the_difference(client: TestClient, world: dict[str, Any]) -> None:
    icb, council, budget_id = world["icb"]["id"], world["council"]["id"], world["budget"]["id"]
    agree(client, world["draft"]["id"])
    body = plan_body(icb, council, effective_from="2026-10-01", change_reason="More PA hours after review")
    body["total"] = "53000.00"
    body["funding_lines"][0]["amount"] = "33000.00"
    body["lines"][1]["annual_amount"] = "26720.00"  # +£1,000 total: +£80 top-slice (8%), +£920 here
    revision = ok(client.post(f"{API}/budgets/{budget_id}/plan-versions", json=body), 201)
    assert revision["version"] == 2
    agree(client, revision["id"])
    balances = ok(client.get(f"{API}/budgets/{budget_id}/balances"))
    assert {a["account"]: a["balance"] for a in balances["accounts"]}["ISF-0001:allocation:icb-devon"] == "33000.00"
    history = ok(client.get(f"{API}/budgets/{budget_id}/journal"))
    revision_entry = history["entries"][0]
    assert revision_entry["kind"] == "allocation"
    assert sorted(p["amount"] for p in revision_entry["postings"]) == ["-1000.00", "1000.00"]


def test_errors_are_json_and_never_a_500(client: TestClient, world: dict[str, Any]) -> None:
    for path in (f"{API}/budgets/999999", f"{API}/entries/99999999999999", f"{API}/plan-versions/5", f"{API}/accounts/NOPE:cash/balance"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"].endswith("not_found")
    for path in (f"{API}/budgets/99999999999999999999", f"{API}/budgets/abc", f"{API}/budgets/0"):
        response = client.get(path)
        assert response.status_code == 422, path
        assert response.json()["code"] == "invalid_request"
    assert client.get(f"{API}/nothing-here").json()["code"] == "not_found"
    response = client.post(f"{API}/funders", json={"code": "x", "name": "y", "kind": "icb", "surprise": 1})
    assert response.status_code == 422
    response = client.post(f"{API}/funders", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    response = client.post(f"{API}/people", json={"name": "A\x00B", "date_of_birth": "1990-01-01", "eligibility_group": "other"})
    assert response.status_code == 422
    assert response.json()["code"] == "field_not_printable"


def test_an_account_code_with_a_nul_character_is_refused_not_a_500(client: TestClient) -> None:
    # Found by generated requests: PostgreSQL refuses even to compare a text holding a NUL.
    body = {"description": "x", "entry_date": "2026-04-01", "idempotency_key": "nul-1",
            "postings": [{"account": "ISF-0001:cash", "amount": "1.00"}, {"account": "ISF-0001:\u0000", "amount": "-1.00"}]}  # fmt: skip
    response = client.post(f"{API}/entries", json=body)
    assert (response.status_code, response.json()["code"]) == (422, "field_not_printable")
    assert client.get(f"{API}/budgets", params={"holder_id": "1\x00"}).status_code == 422


def test_oversized_bodies_are_refused_before_parsing(client: TestClient) -> None:
    response = client.post(f"{API}/funders", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    document = ok(client.get(f"{API}/openapi.json"))
    assert "/api/v1/entries" in document["paths"]
    amount = document["components"]["schemas"]["PostingIn"]["properties"]["amount"]
    assert amount["type"] == "string"
    assert ok(client.get(f"{API}/"))["service"] == "phb-ledger"


def test_an_agreement_dated_before_the_journal_can_hold_names_agreed_at(client: TestClient, world: dict[str, Any]) -> None:
    response = client.post(
        f"{API}/plan-versions/{world['draft']['id']}/agree",
        json={"agreed_by_name": "Jo Bloggs", "agreed_by_role": "ICB PHB manager", "agreed_at": "1999-12-31T10:00:00Z", "document": AGREEMENT},
    )
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("date_out_of_range", "agreed_at")
