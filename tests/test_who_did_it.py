"""Who did it is who the sign-in says (issue 23, item 5), on both databases.

A holder's admin signs in with an API token and does a holder's month through the API: agrees
a plan for the funder, approves and pays an invoice, posts and reverses an entry, pauses and
resumes loads, records a review and a family's request, sets a rule, imports and reconciles a
card statement, runs the flag rules, answers a flag. Every row any of it wrote that says who
did something records that user (what reconciliation matched by itself: "reconcile (the
user who ran it)"); the people a record names beside them (who decided, who
asked, who agreed, who repays) keep the words given. A client that still names who did it is
refused, naming the field, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ledger.store.database import Database
from ledger.store.tables import metadata
from tests.support.auth import token_headers
from tests.test_api import AGREEMENT, API, client, ok, world  # noqa: F401
from tests.test_reconcile import card_csv, card_lines

HOLDER_ADMIN = "Ana (ana@sunrise.test)"
THIRD_PARTY = frozenset({
    ("support_plan_version", "agreed_by_name"), ("support_plan_version", "agreed_by_role"), ("contingency_use", "agreed_by_name"),
    ("contingency_use", "agreed_by_role"), ("load_offset", "decided_by"), ("surplus_decision", "decided_by"), ("review_request", "asked_by"),
    ("repayment_notice", "repayer"),
})  # fmt: skip
"""Columns naming somebody other than who did it: whose decision, who asked, who agreed, who repays."""
SET_UP_BY_THE_TEST = frozenset({"user_account", "api_token", "user_session", "access_record", "sign_in_failure"})


def who_columns() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        if table.name in SET_UP_BY_THE_TEST:
            continue
        names = [c.name for c in table.columns if (c.name.endswith("_by") or c.name == "actor") and (table.name, c.name) not in THIRD_PARTY]
        if names:
            found[table.name] = names
    return found


def rows(db: Database) -> dict[str, set[tuple[Any, ...]]]:
    with db.read() as session:
        return {name: {tuple(row) for row in session.execute(select(metadata.tables[name]))} for name in who_columns()}


@pytest.fixture
def holder_admin(db: Database, world: dict[str, Any]) -> Iterator[TestClient]:  # noqa: F811
    from web.app import create_app

    headers = token_headers(db, "ana@sunrise.test", "holder_admin", holder_id=world["holder"]["id"])
    with TestClient(create_app(db), raise_server_exceptions=False, headers=headers) as signed:
        yield signed


def test_every_write_records_the_signed_in_user_and_keeps_the_people_it_names(db: Database, world: dict[str, Any], holder_admin: TestClient) -> None:  # noqa: F811
    before = rows(db)
    api, budget_id, holder_id = holder_admin, world["budget"]["id"], world["holder"]["id"]
    agreed = ok(api.post(f"{API}/plan-versions/{world['draft']['id']}/agree", json={
        "agreed_by_name": "Jo Bloggs", "agreed_by_role": "ICB PHB manager", "agreed_at": "2026-03-20T10:00:00Z", "document": AGREEMENT}))  # fmt: skip
    assert (agreed["agreed_by_name"], agreed["agreement_recorded_by"], agreed["agreement_document"]) == ("Jo Bloggs", HOLDER_ADMIN, AGREEMENT)
    invoice = ok(api.post(f"{API}/holders/{holder_id}/invoices", json={
        "supplier": "Swim Club", "number": "SC-1", "dated_on": "2026-05-02", "lines": [{"budget": "ISF-0001", "category": "activities", "amount": "30.00"}]}), 201)  # fmt: skip
    ok(api.post(f"{API}/holders/{holder_id}/payments", json={
        "payable_ids": [invoice["id"]], "paid_on": "2026-05-09", "bank_reference": "BACS SC-1", "amount": "30.00"}), 201)  # fmt: skip
    entry = ok(api.post(f"{API}/entries", json={
        "idempotency_key": "fix-1", "entry_date": "2026-05-10", "description": "Correction", "kind": "manual",
        "postings": [{"account": "ISF-0001:card", "amount": "1.00"}, {"account": "ISF-0001:cash", "amount": "-1.00"}]}), 201)  # fmt: skip
    ok(api.post(f"{API}/entries/{entry['id']}/reverse", json={"idempotency_key": "fix-1-undone"}), 201)
    pause = ok(api.post(f"{API}/budgets/{budget_id}/pauses", json={"starts_on": "2026-06-01", "reason": "In hospital"}), 201)
    ok(api.post(f"{API}/pauses/{pause['id']}/end", json={"ends_on": "2026-06-14"}))
    asked = ok(api.post(f"{API}/budgets/{budget_id}/review-requests", json={"asked_by": "Alex's mum", "reason": "More hours", "asked_on": "2026-07-01"}), 201)
    assert (asked["asked_by"], asked["recorded_by"]) == ("Alex's mum", HOLDER_ADMIN)
    ok(api.post(f"{API}/budgets/{budget_id}/reviews", json={"kind": "requested", "held_on": "2026-07-10"}), 201)
    ok(api.post(f"{API}/holders/{holder_id}/category-rules", json={"match_on": "merchant", "pattern": "TESCO STORES", "category": "activities"}), 201)
    accounts = {a["code"]: a["id"] for a in ok(api.get(f"{API}/budgets/{budget_id}/accounts"))}
    card = accounts["ISF-0001:card"]
    ok(api.post(f"{API}/accounts/{card}/statements", files={"file": ("card.csv", card_csv(card_lines()), "text/csv")},
                data={"format": "csv:prepaid_card"}), 201)  # fmt: skip
    ok(api.post(f"{API}/accounts/{card}/reconcile", json={}))
    ok(api.post(f"{API}/flags/run", json={"holder_id": holder_id}))
    flag = next(f for f in ok(api.get(f"{API}/flags", params={"budget_id": budget_id})) if f["state"] == "open")
    explained = ok(api.post(f"{API}/flags/{flag['id']}/explain", json={"note": "Food for a party", "actor_role": "funder"}))
    assert (explained["events"][-1]["actor"], explained["events"][-1]["actor_role"]) == (HOLDER_ADMIN, "holder")

    after = rows(db)
    written, wrong = 0, []
    for table, columns in who_columns().items():
        shape = [c.name for c in metadata.tables[table].columns]
        for row in after[table] - before[table]:
            values = dict(zip(shape, row, strict=True))
            for column in columns:
                if values[column] is None:
                    continue
                written += 1
                if values[column] != HOLDER_ADMIN and not values[column].endswith(f"({HOLDER_ADMIN})"):
                    wrong.append(f"{table}.{column} = {values[column]!r}")
    assert not wrong, sorted(set(wrong))
    assert written > 50, written


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/holders/{holder}/invoices", {"supplier": "S", "number": "N1", "dated_on": "2026-05-02", "approved_by": "Somebody Else",
                                     "lines": [{"budget": "ISF-0001", "category": "activities", "amount": "30.00"}]}, "approved_by"),
    ("/entries", {"idempotency_key": "k", "entry_date": "2026-05-10", "description": "x", "created_by": "Somebody Else",
                  "postings": [{"account": "ISF-0001:card", "amount": "1.00"}, {"account": "ISF-0001:cash", "amount": "-1.00"}]}, "created_by"),
    ("/budgets/{budget}/reviews", {"kind": "plan", "held_on": "2026-07-03", "recorded_by": "Somebody Else"}, "recorded_by"),
    ("/budgets/{budget}/pauses", {"starts_on": "2026-06-01", "reason": "In hospital", "recorded_by": "Somebody Else"}, "recorded_by"),
])  # fmt: skip
def test_a_client_that_names_who_did_it_is_refused_naming_the_field(
    db: Database, world: dict[str, Any], holder_admin: TestClient, path: str, body: dict[str, Any], field: str  # noqa: F811
) -> None:
    before = rows(db)
    answer = holder_admin.post(API + path.format(holder=world["holder"]["id"], budget=world["budget"]["id"]), json=body)
    assert answer.status_code == 422, answer.text
    assert field in [problem["field"].split(".")[-1] for problem in answer.json()["errors"]]
    assert rows(db) == before


# --- agreeing a plan is the funder's decision (issue 23, item 6) ----------------------------------


def signed_in_as(db: Database, username: str, role: str, **scope: int) -> TestClient:
    from web.app import create_app

    return TestClient(create_app(db), raise_server_exceptions=False, headers=token_headers(db, username, role, **scope))


def test_a_funders_user_agrees_a_plan_as_itself_and_loads_follow(db: Database, world: dict[str, Any]) -> None:  # noqa: F811
    with signed_in_as(db, "priya@icb.test", "funder_auditor", funder_id=world["icb"]["id"]) as funder:
        other = funder.post(f"{API}/plan-versions/{world['draft']['id']}/agree", json={"agreement_funder_id": world["council"]["id"]})
        assert (other.status_code, other.json()["code"]) == (422, "agreement_funder_not_yours")
        agreed = ok(funder.post(f"{API}/plan-versions/{world['draft']['id']}/agree", json={"agreed_by_role": "ICB PHB manager"}))
    assert agreed["status"] == "agreed"
    assert (agreed["agreed_by_name"], agreed["agreed_by_role"], agreed["agreement_funder_id"]) == ("Priya", "ICB PHB manager", world["icb"]["id"])
    assert (agreed["agreement_recorded_by"], agreed["agreement_document"]) == ("Priya (priya@icb.test)", None)
    with signed_in_as(db, "ana@sunrise.test", "holder_admin", holder_id=world["holder"]["id"]) as holder:
        run = ok(holder.get(f"{API}/budgets/{world['budget']['id']}/balances"))
    assert any(b["account"].startswith("ISF-0001:allocation:") and b["balance"] != "0.00" for b in run["accounts"])


def test_a_holders_admin_records_the_funders_agreement_with_its_date_and_document_and_staff_cannot(
    db: Database, client: TestClient, world: dict[str, Any]  # noqa: F811
) -> None:
    version = world["draft"]["id"]
    full = {"agreed_by_name": "Jo Bloggs", "agreed_by_role": "ICB PHB manager", "agreed_at": "2026-03-20T10:00:00Z", "document": AGREEMENT}
    other = ok(client.post(f"{API}/funders", json={"code": "icb-kernow", "name": "NHS Cornwall ICB", "kind": "icb"}), 201)
    before = rows(db)
    with signed_in_as(db, "sam@sunrise.test", "holder_staff", holder_id=world["holder"]["id"]) as staff:
        assert staff.post(f"{API}/plan-versions/{version}/agree", json=full).status_code == 403
    with signed_in_as(db, "ana@sunrise.test", "holder_admin", holder_id=world["holder"]["id"]) as admin:
        for missing in ("agreed_by_name", "agreed_at", "document"):
            answer = admin.post(f"{API}/plan-versions/{version}/agree", json={k: v for k, v in full.items() if k != missing})
            assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (422, "field_required", missing), answer.text
        not_funding = admin.post(f"{API}/plan-versions/{version}/agree", json=full | {"agreement_funder_id": other["id"]})
        assert (not_funding.status_code, not_funding.json()["code"]) == (422, "agreement_funder_not_funding")
        assert rows(db) == before
        agreed = ok(admin.post(f"{API}/plan-versions/{version}/agree", json=full | {"agreement_funder_id": world["council"]["id"]}))
    assert (agreed["agreed_by_name"], agreed["agreement_funder_id"], agreed["agreement_document"]) == ("Jo Bloggs", world["council"]["id"], AGREEMENT)
    assert agreed["agreement_recorded_by"] == HOLDER_ADMIN
