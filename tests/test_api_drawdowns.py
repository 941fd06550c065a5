"""The drawdown endpoints: run what is due, read the schedule, pause and resume, load time."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.test_api import API, agree, client, ok, world  # noqa: F401  (fixtures)


def test_run_posts_due_loads_once_and_the_schedule_shows_them(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    agree(client, world["draft"]["id"])
    first = ok(client.post(f"{API}/drawdowns/run", json={"as_of": "2026-04-14T12:00:00Z"}))
    assert first["posted"] == 3 and [load["due_on"] for load in first["loads"]] == ["2026-04-01", "2026-04-02", "2026-04-13"]
    assert ok(client.post(f"{API}/drawdowns/run", json={"as_of": "2026-04-14T12:00:00Z"}))["posted"] == 0
    (part,) = ok(client.get(f"{API}/budgets/{world['budget']['id']}/drawdown-schedule"))
    statuses = [load["status"] for load in part["loads"]]
    assert statuses[:3] == ["posted"] * 3 and statuses[3] == "due" and len(statuses) == 53
    assert part["loads"][1]["due_at"] == "2026-04-02T05:00:00Z"  # 06:00 BST
    total = sum(int(load["amount"].replace(".", "")) for load in part["loads"])
    # £52,000 less contingency £2,000, top-slice 8% (£4,160), contribution £1,500, transition £1,440
    assert total == 4_290_000


def test_a_run_in_the_future_is_refused(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    response = client.post(f"{API}/drawdowns/run", json={"as_of": "2099-01-01T00:00:00Z"})
    assert response.status_code == 422 and response.json()["code"] == "as_of_in_future"


def test_pause_then_end_it(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    budget_id = world["budget"]["id"]
    pause = ok(
        client.post(f"{API}/budgets/{budget_id}/pauses", json={"starts_on": "2026-05-06", "reason": "In hospital"}),
        201,
    )
    assert pause["ends_on"] is None
    ended = ok(client.post(f"{API}/pauses/{pause['id']}/end", json={"ends_on": "2026-05-20"}))
    assert ended["ends_on"] == "2026-05-20"
    assert [p["id"] for p in ok(client.get(f"{API}/budgets/{budget_id}/pauses"))] == [pause["id"]]
    again = client.post(f"{API}/pauses/{pause['id']}/end", json={"ends_on": "2026-05-21"})
    assert again.status_code == 409 and again.json()["code"] == "pause_already_ended"
    blank = client.post(f"{API}/budgets/{budget_id}/pauses", json={"starts_on": "2026-07-01", "reason": "  "})
    assert blank.status_code == 422


def test_load_time_is_set_and_shown_on_the_holder(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    holder_id = world["holder"]["id"]
    assert world["holder"]["load_weekday"] == 0 and world["holder"]["load_time"] == "06:00"
    updated = ok(client.put(f"{API}/holders/{holder_id}/load-time", json={"load_weekday": 2, "load_time": "07:30"}))
    assert updated["load_weekday"] == 2 and updated["load_time"] == "07:30"
    bad = client.put(f"{API}/holders/{holder_id}/load-time", json={"load_weekday": 7, "load_time": "25:00"})
    assert bad.status_code == 422
