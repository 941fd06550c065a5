"""Access, generated from the app's route table (``tests/support/route_table.py``): for every
route and method, every path parameter (and every query parameter naming a record) is
filled with the records of each budget of the world in turn, and each kind of user asks.

- A user who may not see the record gets 404 — the very 404 of a record that does not
  exist — and none of its data (the person's name, the budget's reference, its amounts);
  a change to it is refused (404 or 403) without changing anything.
- A user who may see it is not told it is missing.
- No response to anyone shows anything of a budget they may not see; a council auditor sees
  a jointly funded budget's council share and nothing of the budgets the council does not fund.
- Every unsafe route refuses a cookie-signed request without its CSRF token (403
  ``csrf_failed``) before its handler runs, and accepts the token.
- Signed out: the API answers 401, a page sends the browser to sign in.
- An auditor gets 403 on every write but its decisions on a flag and its own sign-in.

The world is built once per module on each database. A route with a parameter the table does
not know fails the first test, so a new route cannot be left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from httpx2 import Response
from sqlalchemy import select

from ledger.access.users import UserSpec, create_user, link_family
from ledger.core.periods import parse_quarter
from ledger.money_in.funder_receipts import record_funder_receipt
from ledger.position.figures import budget_position
from ledger.store.database import Database
from ledger.store.tables import Account, JournalEntry, metadata
from ledger.store.tables.statements import StatementLineRecord
from reports.catalogue import report_kind
from reports.params import ReportParams, quarter_period
from reports.render import render
from tests.conftest import BACKENDS
from tests.support.route_table import (
    ADMIN_A,
    ADMIN_B,
    API,
    AUDITOR_WRITES,
    COUNCIL_AUDITOR,
    FACTS,
    FAMILY,
    FAMILY_API,
    FAMILY_WRITES,
    FORM_RECORDS,
    ICB_AUDITOR,
    NOW,
    OWN_SIGN_IN_WRITES,
    PASSWORD,
    READ_ROLES,
    ROLE_KIND,
    ROLES,
    SYSTEM_ADMIN,
    USERS,
    Clients,
    Endpoint,
    Probe,
    World,
    asks,
    build_world,
    clients,
    endpoints,
    form_records,
    identifying_of_hidden,
    may_see,
    may_write,
    probes,
    sign_in,
    without_own_name,
)
from web.app import create_app
from web.route_policy import WRITES

VOLATILE_TABLES = frozenset({"user_session", "api_token", "sign_in_failure", "sign_in_throttle"})
"""Rows a request may touch without changing anything (a session's last use, the sign-in throttle's counts)."""
CSRF_PAGE_WORDS = "did not come from this service"


class Setting:
    def __init__(self, world: World, app: FastAPI, signed: Clients) -> None:
        self.world, self.app, self.clients = world, app, signed
        self.routes = endpoints(app)


@pytest.fixture(scope="module", params=BACKENDS)
def setting(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        database = Database(template.copy_to(tmp_path_factory.mktemp("access-routes") / "world.db"))
    else:
        postgres = request.getfixturevalue("postgres_database")
        postgres.empty()
        database = postgres.database()
    world = build_world(database)
    app = create_app(database, migrate_on_start=False)
    try:
        with clients(app, world) as signed:
            yield Setting(world, app, signed)
    finally:
        database.dispose()


# --- asking -----------------------------------------------------------------------------------------


def send(setting: Setting, role: str, endpoint: Endpoint, url: str, *, with_csrf: bool = True, fill: dict[str, str] | None = None) -> Response:
    """The request a user of ``role`` makes: an empty JSON body for a change through the API;
    a page's form with the CSRF token a browser has (and, with ``fill``, every field filled);
    nothing for a read. Redirects are not followed."""
    signed = setting.clients
    if endpoint.area == "api":
        client, headers = signed.for_api(role)
        if not with_csrf:
            client, headers = signed.browser[role], {}
        if endpoint.unsafe:
            return client.request(endpoint.method, url, json={}, headers=headers, follow_redirects=False)
        return client.get(url, headers=headers, follow_redirects=False)
    client = signed.browser[role]
    if endpoint.unsafe:
        form, files = endpoint.form(**fill) if fill is not None else ({}, {})
        if with_csrf:
            form["csrf_token"] = signed.csrf[role]
        return client.request(endpoint.method, url, data=form, files=files or None, follow_redirects=False)
    return client.get(url, follow_redirects=False)


def leaks(response: Response, url: str, strings: frozenset[str] | tuple[str, ...]) -> list[str]:
    """Which of ``strings`` the response shows (those the request itself named aside)."""
    text = response.text
    return sorted(s for s in strings if s in text and s not in url and quote(s) not in url)


def snapshot(database: Database) -> str:
    """A digest of every row of every table but the volatile ones: equal means nothing changed."""
    digest = hashlib.sha256()
    with database.read() as session:
        for table in metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            rows = sorted(repr(tuple(row)) for row in session.execute(select(table)))
            digest.update(f"{table.name}:{len(rows)}:".encode())
            for row in rows:
                digest.update(row.encode())
    return digest.hexdigest()


def report(failures: list[str]) -> None:
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures[:80])


# --- the route table -----------------------------------------------------------------------------


def test_the_route_table_names_every_record_of_every_route(setting: Setting) -> None:
    routes = setting.routes
    areas = {endpoint.area for endpoint in routes}
    assert {"api", "session", "family", "admin", "holder", "funder"} <= areas, areas
    with_records = [e for e in routes if e.parameters or e.query_records]
    assert len(with_records) > 100, len(with_records)
    for endpoint in with_records:
        assert probes(setting.world, endpoint), endpoint


# --- reading ------------------------------------------------------------------------------------------


def test_a_user_who_may_not_see_a_record_gets_404_and_none_of_its_data(setting: Setting) -> None:
    failures: list[str] = []
    for endpoint in setting.routes:
        if endpoint.method != "GET" or not (endpoint.parameters or endpoint.query_records):
            continue
        for role, probe in asks(setting.world, endpoint, READ_ROLES):
            answer = send(setting, role, endpoint, probe.url)
            failures += _judge_read(setting, role, probe, answer, without_own_name(role, FACTS[probe.target].identifying()))
    report(failures)


def _judge_read(setting: Setting, role: str, probe: Probe, answer: Response, own: frozenset[str]) -> list[str]:
    where = f"{role} GET {probe.url} ({probe.target})"
    if answer.status_code >= 500:
        return [f"{where}: {answer.status_code} {answer.text[:200]}"]
    hidden = leaks(answer, probe.url, identifying_of_hidden(role))
    if hidden:
        return [f"{where}: {answer.status_code} shows what {role} may not see: {hidden}"]
    if probe.visible_to(setting.world, role):
        return [f"{where}: 404 for a record {role} may see: {answer.text[:200]}"] if answer.status_code == 404 else []
    shown = [] if probe.filter_only else leaks(answer, probe.url, own)
    if probe.as_form_field:
        # A page's filter or form field naming another's record: refused, or nothing of it shown.
        return [f"{where}: {answer.status_code} shows {shown}"] if shown else []
    if answer.status_code != 404:
        return [f"{where}: {answer.status_code}, not 404: {answer.text[:200]}"]
    return [f"{where}: the 404 shows {shown}"] if shown else []


def test_the_404_of_a_record_one_may_not_see_is_the_404_of_one_that_does_not_exist(setting: Setting) -> None:
    """Same status, same code: a refusal never tells anyone that the record is there."""
    failures = []
    for endpoint in setting.routes:
        if endpoint.area != "api" or endpoint.method != "GET" or not endpoint.parameters or not set(endpoint.parameters) <= MISSING.keys():
            continue
        hidden_ask = next(iter(asks(setting.world, endpoint, (ADMIN_A, ADMIN_B, COUNCIL_AUDITOR), visible=False)), None)
        if hidden_ask is None:
            continue
        role, probe = hidden_ask
        hidden = send(setting, role, endpoint, probe.url)
        absent = send(setting, role, endpoint, endpoint.path.format(**{name: MISSING[name] for name in endpoint.parameters}))
        if (hidden.status_code, _code(hidden)) != (absent.status_code, _code(absent)):
            failures.append(f"{role} {endpoint}: hidden → {hidden.status_code} {hidden.text[:120]}; missing → {absent.status_code} {absent.text[:120]}")
    report(failures)


MISSING = {name: 2_000_000_000 for name in (
    "budget_id", "holder_id", "funder_id", "person_id", "account_id", "import_id", "line_id", "entry_id", "version_id", "pause_id", "payable_id",
    "pool_id", "flag_id", "notice_id", "evidence_id", "document_id",
)}  # fmt: skip
"""An id of each kind that no record has."""


def _code(answer: Response) -> object:
    try:
        body = answer.json()
    except ValueError:
        return answer.headers.get("content-type")
    return body.get("code") if isinstance(body, dict) else type(body).__name__


def test_no_response_shows_anything_of_a_budget_the_user_may_not_see(setting: Setting) -> None:
    """Every list and page without an id, as every role: other budgets' people, references
    and amounts never appear (a council auditor sees nothing of the ICB-only budgets)."""
    failures = []
    for endpoint in setting.routes:
        if endpoint.method != "GET" or endpoint.parameters or endpoint.area == "public":
            continue
        for role in ROLES:
            answer = send(setting, role, endpoint, endpoint.path)
            shown = leaks(answer, endpoint.path, identifying_of_hidden(role))
            if answer.status_code >= 500 or shown:
                failures.append(f"{role} GET {endpoint.path}: {answer.status_code} {shown or answer.text[:200]}")
    report(failures)


def test_a_council_auditor_sees_its_share_of_a_jointly_funded_budget_and_nothing_else(setting: Setting) -> None:
    world, signed = setting.world, setting.clients
    joint, council = world.targets["A1"], world.funder_ids["council"]
    client, _ = signed.for_api(COUNCIL_AUDITOR)
    with world.database.read() as session:
        position = budget_position(session, joint.budget_id)
    council_share = next(s for s in position.shares if s.funder_id == council)
    icb_share = next(s for s in position.shares if s.funder_id == world.funder_ids["icb"])
    seen = client.get(f"{API}/budgets/{joint.budget_id}/position")
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert [s["funder_id"] for s in body["shares"]] == [council]
    assert body["figures"]["money_left"] == _pounds(council_share.figures.money_left_pence)
    assert council_share.figures.money_left_pence != icb_share.figures.money_left_pence
    assert _pounds(icb_share.figures.money_left_pence) not in seen.text, "the ICB's share shows"
    by_funder = client.get(f"{API}/budgets/{joint.budget_id}/balances/by-funder").json()
    assert [share["funder_id"] for share in by_funder["shares"]] == [council]
    balances = client.get(f"{API}/budgets/{joint.budget_id}/balances").json()
    assert all(row.get("funder_id") in (council, None) for row in balances["accounts"]), balances["accounts"]
    listed = client.get(f"{API}/budgets").json()
    assert [b["reference"] for b in listed] == [FACTS["A1"].reference]
    for key in ("A2", "B1"):
        assert client.get(f"{API}/budgets/{world.targets[key].budget_id}").status_code == 404
    page = signed.browser[COUNCIL_AUDITOR].get("/funder/budgets")
    assert page.status_code == 200 and FACTS["A1"].reference in page.text
    assert not leaks(page, "", identifying_of_hidden(COUNCIL_AUDITOR))


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


# --- changing --------------------------------------------------------------------------------------------


def test_a_user_who_may_not_see_a_record_cannot_change_it_and_nothing_changes(setting: Setting) -> None:
    before = snapshot(setting.world.database)
    failures = []
    for endpoint in setting.routes:
        if not endpoint.unsafe or not endpoint.parameters:
            continue
        for role, probe in asks(setting.world, endpoint, READ_ROLES, visible=False):
            answer = send(setting, role, endpoint, probe.url, fill={})
            shown = leaks(answer, probe.url, without_own_name(role, FACTS[probe.target].identifying()))
            if answer.status_code not in (403, 404) or shown:
                failures.append(f"{role} {endpoint.method} {probe.url}: {answer.status_code} {shown or answer.text[:200]}")
    report(failures)
    assert snapshot(setting.world.database) == before, "a refused change changed the database"


def test_json_bodies_naming_records_one_may_not_see_are_refused(setting: Setting) -> None:
    """A body's budget, holder, funder or person is checked like the path's."""
    world, failures = setting.world, []
    before = snapshot(world.database)
    body_ids = {"budget_id": "budget_id", "holder_id": "holder_id", "funder_id": "funder_id", "person_id": "person_id"}
    schema = setting.app.openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            properties = _body_properties(schema, operation)
            named = [name for name in properties if name in body_ids]
            if method.upper() not in ("POST", "PUT", "PATCH") or not named or "{" in path:
                continue
            for name in named:
                body = {name: world.targets["B1"].ids[body_ids[name]]}
                client, headers = setting.clients.for_api(ADMIN_A)
                answer = client.request(method.upper(), path, json=body, headers=headers)
                if answer.status_code not in (403, 404):
                    failures.append(f"holder A {method.upper()} {path} with {name} of holder B's: {answer.status_code} {answer.text[:160]}")
    report(failures)
    assert snapshot(world.database) == before


def test_page_forms_naming_records_one_may_not_see_are_refused(setting: Setting) -> None:
    """A form's account, budget, entries, payables (…) are checked like the address's: holder
    A's admin and the family member post their own forms naming holder B's records."""
    world, failures, asked = setting.world, [], 0
    before = snapshot(world.database)
    for endpoint in setting.routes:
        named = [name for name, is_file in endpoint.fields if name in FORM_RECORDS and not is_file]
        role = {"holder": ADMIN_A, "family": FAMILY}.get(endpoint.area)
        if not endpoint.unsafe or not named or role is None:
            continue
        own = next(iter(p for p in probes(world, endpoint) if p.visible_to(world, role)), None)
        url = own.url if own else endpoint.path
        foreign = {name: value for name, value in form_records(endpoint, world.targets["B1"]).items() if FORM_RECORDS[name] != "funder_id"}
        answer = send(setting, role, endpoint, url, fill=foreign)
        asked += 1
        shown = leaks(answer, url, without_own_name(role, FACTS["B1"].identifying()))
        if answer.status_code not in (400, 403, 404, 409, 422) or shown:
            failures.append(f"{role} {endpoint.method} {url} with {foreign}: {answer.status_code} {shown or answer.text[:160]}")
    assert asked >= 3, "no page form names a record: has the route table lost the forms' fields?"
    report(failures)
    assert snapshot(world.database) == before, "a form naming another holder's records changed something"


@pytest.fixture
def fresh(sqlite_template: Any, tmp_path: Path) -> Iterator[tuple[World, Clients]]:
    """A world of its own (SQLite), for a test that changes it."""
    database = Database(sqlite_template.copy_to(tmp_path / "fresh.db"))
    world = build_world(database)
    try:
        with clients(create_app(database, migrate_on_start=False), world) as signed:
            yield world, signed
    finally:
        database.dispose()


def test_records_named_inside_a_body_are_refused_when_they_are_another_holders(fresh: tuple[World, Clients]) -> None:
    """Holder A's admin works on A's own records, naming holder B's inside the body: entries
    and payables to match, parts to split, payables to pay, evidence, budgets of invoices,
    pools, remittances and receipts, plan versions and representatives. Each is refused (4xx)
    without showing anything of B's, and nothing changes."""
    world, signed = fresh
    a, b = world.targets["A1"], world.targets["B1"]
    api, _ = signed.for_api(ADMIN_A)
    line = _unmatched_line(world, api, a)
    before = snapshot(world.database)
    icb, council, other = world.funder_ids["icb"], world.funder_ids["council"], FACTS["B1"].reference
    attempts = [
        ("POST", f"{API}/statement-lines/{line}/match", {"entry_ids": [b.ids["entry_id"]]}),
        ("POST", f"{API}/statement-lines/{line}/match", {"payable_ids": [b.ids["payable_id"]]}),
        ("POST", f"{API}/statement-lines/{line}/split", {"reason": "r", "parts": [{"amount": "12.34", "category": "activities", "budget_id": b.budget_id}]}),
        ("POST", f"{API}/holders/{a.holder_id}/payments", {"payable_ids": [b.ids["payable_id"]], "paid_on": "2026-06-10", "bank_reference": "X1", "amount": "30.00"}),
        ("POST", f"{API}/flags/{a.ids['flag_id']}/explain", {"note": "n", "evidence_ids": [b.ids["evidence_id"]], "actor_role": "holder"}),
        ("POST", f"{API}/holders/{a.holder_id}/invoices", {"supplier": "S", "number": "N1", "dated_on": "2026-06-01", "lines": [{"budget": other, "category": "activities", "amount": "10.00"}]}),
        ("POST", f"{API}/holders/{a.holder_id}/pools", {"name": "P", "shares": [{"budget": other, "weight": 1}]}),
        ("PUT", f"{API}/pools/{a.ids['pool_id']}/shares", {"shares": [{"budget": other, "weight": 1}]}),
        ("POST", f"{API}/holders/{a.holder_id}/remittances", {"funder_id": icb, "reference": "R1", "lines": [{"budget": other, "amount": "10.00"}]}),
        ("POST", f"{API}/holders/{a.holder_id}/funder-receipts", {"funder_id": icb, "received_on": "2026-06-01", "amount": "10.00", "reference": "R2", "remittance": [{"budget": other, "amount": "10.00"}]}),
        ("POST", f"{API}/budgets/{a.budget_id}/surplus-decisions", {"action": "reallocate", "amount": "1.00", "reason": "r", "decided_by": "x", "decided_on": "2026-06-01", "plan_version_id": b.ids["version_id"]}),
        ("POST", f"{API}/budgets/{a.budget_id}/plan-versions", {"effective_from": "2026-10-01", "total": "41234.57", "contingency": "1000.00",
          "funding_lines": [{"funder_id": icb, "amount": "21734.57"}, {"funder_id": council, "amount": "19500.00", "client_contribution": "1300.00"}],
          "lines": [{"category": "staff_pay", "description": "PA", "kind": "recurring", "annual_amount": "40234.57"}], "speaks_for_representative_id": b.ids["representative_id"]}),
        ("POST", f"{API}/holders/{a.holder_id}/unallocated/attributions", {"budget_id": b.budget_id, "funder_id": icb, "amount": "1.00", "reason": "x", "attributed_by": "x", "attributed_on": "2026-06-01"}),
    ]  # fmt: skip
    failures = []
    for method, url, body in attempts:
        answer = api.request(method, url, json=body)
        shown = leaks(answer, url, without_own_name(ADMIN_A, FACTS["B1"].identifying()[:2]))
        if not 400 <= answer.status_code < 500 or answer.status_code == 403 or shown:
            failures.append(f"{method} {url} naming holder B's: {answer.status_code} {shown or answer.text[:160]}")
    for field, value in (("flag_id", b.ids["flag_id"]), ("statement_line_id", b.ids["line_id"])):
        answer = api.post(f"{API}/holders/{a.holder_id}/evidence", data={"kind": "receipt", field: str(value)},
                          files={"file": ("r.pdf", b"%PDF-1.7\n x \n%%EOF", "application/pdf")})  # fmt: skip
        if answer.status_code != 404:
            failures.append(f"evidence on holder B's {field}: {answer.status_code} {answer.text[:160]}")
    report(failures)
    assert snapshot(world.database) == before, "a request naming another holder's records changed something"


def _unmatched_line(world: World, api: Any, target: Any) -> int:
    """One of the target's card lines, unmatched again (reconciliation matched them all)."""
    with world.database.read() as session:
        line = session.scalar(
            select(StatementLineRecord.id).where(StatementLineRecord.account_id == target.ids["account_id"], StatementLineRecord.payee.like("TESCO%"))
        )
    assert api.post(f"{API}/statement-lines/{line}/unmatch", json={"reason": "to match again"}).status_code == 200
    return line  # type: ignore[return-value]


def _body_properties(schema: dict, operation: dict) -> dict:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref")
    if ref is None:
        return {}
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]].get("properties", {})


def test_every_unsafe_route_refuses_a_cookie_without_its_csrf_token(setting: Setting) -> None:
    """No token → 403 ``csrf_failed`` before the handler runs (nothing changes); with it, the
    request gets past that check. Each route is asked by a role that may use it."""
    world, failures = setting.world, []
    unsafe = [e for e in setting.routes if e.unsafe and e.area not in ("session", "public")]
    before = snapshot(world.database)
    asked = []
    for endpoint in unsafe:
        role = _owner_of(endpoint)
        probe = next(iter(p for p in probes(world, endpoint) if p.visible_to(world, role)), None)
        url = probe.url if probe else endpoint.path
        asked.append((endpoint, role, url))
        answer = send(setting, role, endpoint, url, with_csrf=False)
        if answer.status_code != 403 or not _is_csrf_refusal(endpoint, answer):
            failures.append(f"{role} {endpoint.method} {url} without a token: {answer.status_code} {answer.text[:160]}")
    after = snapshot(world.database)
    for endpoint, role, url in asked:
        answer = send(setting, role, endpoint, url, with_csrf=True) if endpoint.area != "api" else _api_with_cookie_token(setting, role, endpoint, url)
        if answer.status_code == 403 and _is_csrf_refusal(endpoint, answer) or answer.status_code >= 500:
            failures.append(f"{role} {endpoint.method} {url} with its token: {answer.status_code} {answer.text[:160]}")
    report(failures)
    assert after == before, "a request without its CSRF token changed the database"


def test_signing_out_needs_the_sessions_csrf_token(setting: Setting) -> None:
    """Signing out is a change too: a cross-site form cannot sign anyone out."""
    client, csrf = sign_in(setting.app, USERS[FAMILY][0])
    refused = client.post("/sign-out", data={}, follow_redirects=False)
    assert refused.status_code == 403 and CSRF_PAGE_WORDS in refused.text
    assert client.get("/family", follow_redirects=False).status_code in (200, 303)
    assert not client.get("/family", follow_redirects=False).headers.get("location", "").startswith("/sign-in")
    done = client.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/sign-in")


def _owner_of(endpoint: Endpoint) -> str:
    if endpoint.area == "api":
        return SYSTEM_ADMIN
    return {"holder": ADMIN_A, "funder": COUNCIL_AUDITOR, "family": FAMILY, "admin": SYSTEM_ADMIN, "account": SYSTEM_ADMIN}[endpoint.area]


def _is_csrf_refusal(endpoint: Endpoint, answer: Response) -> bool:
    if endpoint.area == "api" or answer.headers.get("content-type", "").startswith("application/json"):
        return answer.json().get("code") == "csrf_failed"
    return CSRF_PAGE_WORDS in answer.text


def _api_with_cookie_token(setting: Setting, role: str, endpoint: Endpoint, url: str) -> Response:
    browser = setting.clients.browser[role]
    return browser.request(endpoint.method, url, json={}, headers={"X-CSRF-Token": setting.clients.csrf[role]}, follow_redirects=False)


def test_signed_out_the_api_answers_401_and_a_page_sends_the_browser_to_sign_in(setting: Setting) -> None:
    anonymous, failures = setting.clients.anonymous, []
    for endpoint in setting.routes:
        probe = next(iter(probes(setting.world, endpoint)), None)
        url = probe.url if probe else endpoint.path
        answer = anonymous.request(endpoint.method, url, follow_redirects=False)
        if endpoint.area == "api" and endpoint.path != f"{API}/":
            expected = answer.status_code == 401 and answer.json().get("code") == "sign_in_required"
        elif endpoint.area in ("holder", "funder", "family", "admin", "account") or (endpoint.method, endpoint.path) == ("POST", "/sign-out"):
            location = answer.headers.get("location", "")
            expected = answer.status_code == 303 and location.startswith("/sign-in?next=") and (endpoint.unsafe or location.endswith(quote(url, safe="/?=&")))
        elif (endpoint.method, endpoint.path) == ("POST", "/sign-in"):
            expected = answer.status_code == 403  # no form token: refused before anything is read
        else:
            expected = answer.status_code == 200
        if not expected:
            failures.append(f"signed out {endpoint.method} {url}: {answer.status_code} {answer.headers.get('location', '')} {answer.text[:120]}")
    report(failures)


def test_an_auditor_gets_403_on_every_write_but_its_decisions_on_a_flag(setting: Setting) -> None:
    world, failures = setting.world, []
    before = snapshot(world.database)
    decisions = []
    for endpoint in setting.routes:
        if not endpoint.unsafe or endpoint.area in ("session", "public", "account"):
            continue  # (its own account page is every user's)
        for role in (ICB_AUDITOR, COUNCIL_AUDITOR):
            probe = next(iter(p for p in probes(world, endpoint) if p.target == "A1"), None)
            url = probe.url if probe else endpoint.path
            if endpoint.area == "funder":
                decisions.append(endpoint.path)
                continue
            answer = send(setting, role, endpoint, url)
            if endpoint.area == "api" and endpoint.api_path in OWN_SIGN_IN_WRITES:
                if answer.status_code not in (404, 422):  # another's token is not there; its own password needs a body
                    failures.append(f"{role} {endpoint.method} {url}: {answer.status_code} {answer.text[:160]}")
                continue
            if endpoint.area == "api" and endpoint.api_path in AUDITOR_WRITES:
                if answer.status_code not in (409, 422):  # past the gate, refused for the empty body or the record's state: nothing changes
                    failures.append(f"{role} {endpoint.method} {url}: {answer.status_code} {answer.text[:160]}")
                continue
            wanted = 403 if endpoint.area == "api" else 404  # another kind of user's pages are not there for an auditor
            if answer.status_code != wanted:
                failures.append(f"{role} {endpoint.method} {url}: {answer.status_code} {answer.text[:160]}")
    report(failures)
    assert snapshot(world.database) == before
    allowed_words = ("accept", "challenge", "request-recovery", "recovered")
    assert all(path.rsplit("/", 1)[-1] in allowed_words for path in decisions), sorted(set(decisions))


def test_a_family_member_reaches_nothing_in_the_api_but_their_balance(setting: Setting) -> None:
    world, failures = setting.world, []
    client, headers = setting.clients.for_api(FAMILY)
    for endpoint in setting.routes:
        if endpoint.area != "api" or endpoint.method != "GET" or endpoint.path == f"{API}/" or (endpoint.method, endpoint.api_path) in FAMILY_API:
            continue
        found = [p for p in probes(world, endpoint) if p.target == "A1"] or [None]
        for probe in found:
            url = probe.url if probe else endpoint.path
            answer = client.get(url, headers=headers)
            if answer.status_code != 404 or leaks(answer, url, FACTS["A1"].identifying()[:3]):
                failures.append(f"family GET {url}: {answer.status_code} {answer.text[:160]}")
    report(failures)
    own = world.targets["A1"]
    balance = client.get(f"{API}/family/budgets/{own.budget_id}", headers=headers)
    assert balance.status_code == 200
    body = balance.json()
    assert set(body) <= BALANCE_PAGE_FIELDS, set(body) - BALANCE_PAGE_FIELDS
    assert FACTS["A1"].person not in balance.text and "1990-05-01" not in balance.text
    assert body["first_name"] == FACTS["A1"].person.split()[0]
    for key in ("A2", "B1"):
        assert client.get(f"{API}/family/budgets/{world.targets[key].budget_id}", headers=headers).status_code == 404


BALANCE_PAGE_FIELDS = frozenset({
    "budget_id", "reference", "first_name", "year_starts_on", "year_ends_on", "total", "money_left", "spent", "emergency_left",
    "emergency_planned", "management_fee", "plan_lines", "funders", "next_payment", "month", "month_is_current", "spent_this_month",
    "contacts", "is_direct_payment", "requests", "spent_this_month_total",
})  # fmt: skip
"""What the balance page shows (``reports.balance_page``), and so all the family's API gives."""


# --- who may write: the table, then every role at every route that changes something ------------------


def test_every_route_that_changes_something_has_its_writers_in_one_table(setting: Setting) -> None:
    """A new route that changes something is refused to everyone until ``web.route_policy``
    says who may use it; the table names no route the app does not have."""
    unsafe = {(endpoint.method, endpoint.path) for endpoint in setting.routes if endpoint.unsafe}
    assert not unsafe - set(WRITES), sorted(unsafe - set(WRITES))
    assert not set(WRITES) - unsafe, sorted(set(WRITES) - unsafe)


def test_each_role_may_write_where_the_table_says_and_nowhere_else(setting: Setting) -> None:
    """Every role at every route that changes something, on a record it may see: a writer gets
    past both gates (422 or 409 for the empty request, or 2xx), anyone else is refused before
    the handler — 403 in the API (404 for a family member outside their few routes), 404 for
    another kind of user's pages. Expectations: ``tests.support.route_table.may_write``."""
    world, failures, checked = setting.world, [], 0
    for endpoint in setting.routes:
        if not endpoint.unsafe or endpoint.area in ("session", "public"):
            continue
        every = probes(world, endpoint)
        for role in ROLES:
            allowed = may_write(ROLE_KIND[role], endpoint)
            seen = [probe for probe in every if all(may_see(role, kind, world.targets[probe.target]) for kind in probe.kinds)]
            if allowed and every and not seen:
                continue  # nothing of theirs to change here: the visibility tests cover it
            url = (seen or every)[0].url if every else endpoint.path
            answer = send(setting, role, endpoint, url)
            checked += 1
            code = answer.json().get("code") if answer.headers.get("content-type", "").startswith("application/json") else None
            if allowed:
                if answer.status_code in (403, 404) or answer.status_code >= 500:
                    failures.append(f"{role} may {endpoint.method} {url}: {answer.status_code} {answer.text[:160]}")
            elif endpoint.area == "api" and not (role == FAMILY and endpoint.api_path not in FAMILY_WRITES):
                if (answer.status_code, code) != (403, "forbidden"):
                    failures.append(f"{role} may not {endpoint.method} {url}: {answer.status_code} {answer.text[:160]}")
            elif answer.status_code != 404:
                failures.append(f"{role} may not {endpoint.method} {url} (not theirs to reach): {answer.status_code} {answer.text[:160]}")
    report(failures)
    assert checked > 300, checked


def test_a_family_member_of_a_budget_without_a_direct_payment_sends_no_statements_and_answers_no_flags(setting: Setting) -> None:
    """The holder keeps the books of a budget it manages: its family sees the balance and may
    ask for a review, but sending statements into its accounts or answering its flags is
    refused, in the API and on the family's pages, and nothing is stored."""
    world = setting.world
    other = world.targets["A2"]
    with world.database.write() as session:
        user = create_user(session, UserSpec("evangeline@family.test", FACTS["A2"].representative, "family", PASSWORD), created_by="test")
        link_family(session, user.id, other.budget_id, representative_id=other.ids["representative_id"], created_by="test")
    before = snapshot(world.database)
    browser, csrf = sign_in(setting.app, "evangeline@family.test")
    with browser:
        api = {"X-CSRF-Token": csrf}
        sent = browser.post(f"{API}/accounts/{other.ids['account_id']}/statements", data={"format": "csv:prepaid_card"},
                            files={"file": ("card.csv", b"Date,Description,Amount\n05/05/2026,TESCO,-1.00\n", "text/csv")}, headers=api)  # fmt: skip
        assert (sent.status_code, sent.json()["code"]) == (403, "direct_payment_only"), sent.text
        explained = browser.post(f"{API}/flags/{other.ids['flag_id']}/explain", json={"note": "Swimming", "actor_role": "family"}, headers=api)
        assert (explained.status_code, explained.json()["code"]) == (403, "direct_payment_only"), explained.text
        reconsider = browser.post(f"{API}/flags/{other.ids['flag_id']}/reconsider", json={"reason": "Think again", "actor_role": "family"}, headers=api)
        assert (reconsider.status_code, reconsider.json()["code"]) == (403, "direct_payment_only"), reconsider.text
        page = browser.post(f"/family/budgets/{other.budget_id}/statements", data={"csrf_token": csrf},
                            files={"file": ("card.csv", b"x", "text/csv")}, follow_redirects=False)  # fmt: skip
        assert page.status_code == 403, page.text[:300]
        assert snapshot(world.database) == before
        asked = browser.post(f"{API}/budgets/{other.budget_id}/review-requests", json={}, headers=api)
        assert asked.status_code == 422, asked.text  # past the gate: asking for a review is any family's
    assert snapshot(world.database) == before


def test_an_auditor_reads_of_an_entry_only_its_budgets_and_its_own_share_descriptions_included(setting: Setting) -> None:
    """The ICB pays for A1 and A2 in one bank line; the council funds A1 with the ICB. The
    council's auditor reads the entry as A1's part, in the API, on its pages and in its audit
    pack: A1's cash, not the ICB's receivable, nor A2's money, nor a description naming A2."""
    world = setting.world
    a1 = world.targets["A1"]
    with world.database.write() as session:
        receipt = record_funder_receipt(
            session, a1.holder_id, world.funder_ids["icb"], received_on=date(2026, 7, 1), amount_pence=61_717, reference="ICB BACS 7001",
            remittance=[(FACTS["A1"].reference, 12_345), (FACTS["A2"].reference, 49_372)], created_by="test",
        ).receipt  # fmt: skip
        cash = session.scalar(select(Account.id).where(Account.code == f"{FACTS['A1'].reference}:cash"))
    assert FACTS["A2"].reference in receipt_description(world, receipt.entry_id)  # the service's words name both budgets
    hidden = (FACTS["A2"].reference, "493.72", "receivable:icb", "617.17", "ICB BACS 7001")
    client, headers = setting.clients.for_api(COUNCIL_AUDITOR)
    entry = client.get(f"{API}/entries/{receipt.entry_id}", headers=headers)
    assert entry.status_code == 200
    assert [p["account"] for p in entry.json()["postings"]] == [f"{FACTS['A1'].reference}:cash"]
    journal = client.get(f"{API}/budgets/{a1.budget_id}/journal", headers=headers)
    pages = [setting.clients.browser[COUNCIL_AUDITOR].get(url) for url in (f"/funder/entries/{receipt.entry_id}",
             f"/funder/budgets/{a1.budget_id}/accounts/{cash}")]  # fmt: skip
    with world.database.read() as session:
        params = ReportParams(funder_id=world.funder_ids["council"], period=quarter_period(parse_quarter("2026Q2")))
        pack = render(report_kind("audit-pack").build(session, params, now=NOW), "csv").content.decode()
    for answer in (entry, journal, *pages):
        assert answer.status_code == 200, answer.text[:200]
        assert not [text for text in hidden if text in answer.text], (answer.url, [text for text in hidden if text in answer.text])
    assert "123.45" in pack and not [text for text in hidden if text in pack], [text for text in hidden if text in pack]
    icb, icb_headers = setting.clients.for_api(ICB_AUDITOR)
    whole = icb.get(f"{API}/entries/{receipt.entry_id}", headers=icb_headers).json()
    assert FACTS["A2"].reference in whole["description"] and len(whole["postings"]) == 4  # the ICB funds both, and it is its own money


def receipt_description(world: World, entry_id: int) -> str:
    with world.database.read() as session:
        return session.scalar(select(JournalEntry.description).where(JournalEntry.id == entry_id)) or ""


# --- last: changes that are let through change the world ------------------------------------------------


def test_a_user_who_may_see_a_record_reaches_the_route_that_changes_it(setting: Setting) -> None:
    """Not 404 for a record one may see: 2xx, 403 for a change the role may not make, 409 or
    422 for the empty body sent. Runs last: what it lets through changes the world."""
    world, failures = setting.world, []
    for endpoint in setting.routes:
        if not endpoint.unsafe or not endpoint.parameters:
            continue
        for role, probe in asks(world, endpoint, ROLES, invisible=False):
            answer = send(setting, role, endpoint, probe.url, fill=form_records(endpoint, world.targets[probe.target]))
            if answer.status_code == 404 or answer.status_code >= 500:
                failures.append(f"{role} {endpoint.method} {probe.url} ({probe.target}): {answer.status_code} {answer.text[:200]}")
    report(failures)
