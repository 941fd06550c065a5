"""The review endpoints: what is due and overdue, recording a review held, a family's
request answered, and each funding stream's intervals — round trips and clear 4xx errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.store.database import Database
from tests.support.auth import ADMIN_SIGNATURE
from tests.support.review_intervals import reset_review_intervals
from tests.test_api import API, agree, client, ok, world  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def shipped_intervals(db: Database) -> None:
    reset_review_intervals(db)


def test_reviews_due_then_held_then_gone(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    budget_id = world["budget"]["id"]
    items = ok(client.get(f"{API}/reviews/due", params={"as_of": "2026-07-02"}))
    assert [(i["kind"], i["due_on"], i["status"]) for i in items] == [
        ("plan", "2026-07-01", "overdue"),
        ("quarterly_quality", "2026-07-31", "due"),
    ]
    assert items[0]["reason"] == "Plan review: first review, 3 months after the plan started on 1 April 2026 (as plan version 1 says)"
    assert items[1]["quarter"] == "2026Q1" and items[1]["budget"] == "ISF-0001"
    overdue = ok(client.get(f"{API}/reviews/due", params={"as_of": "2026-07-02", "overdue_only": "true"}))
    assert [i["kind"] for i in overdue] == ["plan"]
    body = {"kind": "plan", "held_on": "2026-07-03", "note": "All well"}
    held = ok(client.post(f"{API}/budgets/{budget_id}/reviews", json=body), 201)
    assert (held["due_on"], held["answered_request_ids"]) == ("2026-07-01", [])
    page = ok(client.get(f"{API}/budgets/{budget_id}/reviews", params={"as_of": "2026-07-04"}))
    assert [h["id"] for h in page["held"]] == [held["id"]]
    assert [d["kind"] for d in page["due"]] == ["quarterly_quality"]
    assert client.get(f"{API}/reviews/due", params={"as_of": "2026-07-02", "holder_id": world["holder"]["id"] + 1}).status_code == 404
    assert len(ok(client.get(f"{API}/reviews/due", params={"as_of": "2026-07-04", "funder_id": world["council"]["id"]}))) == 1


def test_a_familys_request_is_answered_by_a_requested_review(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    budget_id = world["budget"]["id"]
    body = {"asked_by": "Sam Smith (mum)", "reason": "More swimming", "asked_on": "2026-08-01"}
    asked = ok(client.post(f"{API}/budgets/{budget_id}/review-requests", json=body), 201)
    assert asked["answered_review_id"] is None
    due = ok(client.get(f"{API}/reviews/due", params={"as_of": "2026-08-10"}))
    (requested,) = [i for i in due if i["kind"] == "requested"]
    assert (requested["due_on"], requested["request_id"]) == ("2026-08-29", asked["id"])
    held = ok(client.post(f"{API}/budgets/{budget_id}/reviews", json={"kind": "requested", "held_on": "2026-08-20"}), 201)
    assert held["answered_request_ids"] == [asked["id"]]
    page = ok(client.get(f"{API}/budgets/{budget_id}/reviews", params={"as_of": "2026-08-21"}))
    assert page["requests"][0]["answered_review_id"] == held["id"]
    assert not [d for d in page["due"] if d["kind"] == "requested"]


def test_intervals_read_and_replaced(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    icb = ok(client.get(f"{API}/review-intervals/icb"))
    assert (icb["first_after_months"], icb["then_every_months"], icb["significant_change_basis_points"]) == (3, 12, 1000)
    assert {i["funder_kind"] for i in ok(client.get(f"{API}/review-intervals"))} == {"icb", "council_adult_social_care", "council_children_education"}
    body = {"first_after_months": 2, "then_every_months": 6, "significant_change_days": 14}
    replaced = ok(client.put(f"{API}/review-intervals/council_adult_social_care", json=body))
    assert (replaced["first_after_months"], replaced["significant_change_days"], replaced["significant_change_basis_points"]) == (2, 14, 1000)
    assert ok(client.get(f"{API}/review-intervals/council_adult_social_care"))["updated_by"] == ADMIN_SIGNATURE
    missing = client.get(f"{API}/review-intervals/parish")
    assert missing.status_code == 404 and missing.json()["code"] == "funder_kind_not_found"
    for bad in ({**body, "first_after_months": 0}, {**body, "then_every_months": 6.0}, {**body, "then_every_months": "6"}, {**body, "extra": 1}):
        assert client.put(f"{API}/review-intervals/icb", json=bad).status_code == 422
    assert ok(client.get(f"{API}/review-intervals/icb"))["first_after_months"] == 3


BAD_HELD = [
    ({"kind": "annual", "held_on": "2026-07-03"}, 422, None),
    ({"kind": "plan", "held_on": "2026-13-01"}, 422, None),
    ({"kind": "plan", "held_on": 20260703}, 422, None),
    ({"kind": "plan", "held_on": "2099-07-03"}, 422, "held_in_future"),
    ({"kind": "plan", "held_on": "2026-07-03", "recorded_by": "Pat"}, 422, "invalid_request"),  # who records it is the signed-in user
    ({"kind": "requested", "held_on": "2026-07-03"}, 409, "no_open_request"),
    ({"kind": "quarterly_quality", "held_on": "2026-07-03", "due_on": "2026-08-15"}, 422, "review_not_due"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_HELD)
def test_bad_held_reviews_are_refused(client: TestClient, world: dict[str, Any], body: dict[str, Any], status: int, code: str | None) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    response = client.post(f"{API}/budgets/{world['budget']['id']}/reviews", json=body)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code
    assert ok(client.get(f"{API}/budgets/{world['budget']['id']}/reviews"))["held"] == []


def test_other_bad_requests(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    assert client.get(f"{API}/reviews/due", params={"as_of": "0001-01-01"}).status_code == 422
    assert client.get(f"{API}/reviews/due", params={"as_of": "yesterday"}).status_code == 422
    assert client.get(f"{API}/reviews/due", params={"holder_id": 0}).status_code == 422
    assert client.get(f"{API}/budgets/999/reviews").status_code == 404
    assert client.post(f"{API}/budgets/999/reviews", json={"kind": "plan", "held_on": "2026-07-03"}).status_code == 404
    empty = client.post(f"{API}/budgets/{world['budget']['id']}/review-requests", json={"asked_by": "Sam", "reason": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "reason"
    future = client.post(f"{API}/budgets/{world['budget']['id']}/review-requests", json={"asked_by": "Sam", "reason": "x", "asked_on": "2099-01-01"})
    assert future.status_code == 422
