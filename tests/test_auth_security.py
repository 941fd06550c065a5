"""Signing in and what protects it: argon2id passwords (at least 19 MiB and two passes);
Secure, HttpOnly, SameSite cookies; sessions and API tokens stored only as SHA-256; 10 failed
sign-ins for a username in 15 minutes (50 from an address) answered with 429, which no
X-Forwarded-For header resets (tests/test_sign_in_throttle.py tries them in parallel); a new
session id at every sign-in and a dead one after sign-out; an append-only record of every
family view and every auditor export; logs without names or NHS numbers; uploads over their
limit refused with 413, and uploads without signing in refused with 401, before they are read.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from importers import STATEMENT_BYTES_MAX
from ledger.access.log import AUDITOR_EXPORT, FAMILY_BALANCE_PAGE, record_access
from ledger.access.throttle import ADDRESS_TRIES, USERNAME_TRIES
from ledger.access.users import UserSpec, create_user, digest, issue_api_token
from ledger.access.visibility import Principal, Role
from ledger.errors import InvalidInput
from ledger.flags.evidence import EVIDENCE_BYTES_MAX
from ledger.store.database import Database
from ledger.store.tables import metadata
from ledger.store.tables.access import AccessRecord, ApiToken, SignInFailure, UserAccount, UserSession
from ledger.store.tables.base import utcnow
from ledger.store.tables.sign_in_throttle import SignInThrottle
from tests.support.route_table import (
    ADMIN_A,
    API,
    COUNCIL_AUDITOR,
    FACTS,
    FAMILY,
    PASSWORD,
    QUARTER,
    ROLES,
    SYSTEM_ADMIN,
    USERS,
    Clients,
    World,
    build_world,
    clients,
    endpoints,
    sign_in,
)
from web.app import create_app
from web.auth import SESSION_COOKIE
from web.limits import JSON_BODY_BYTES_MAX, BodySizeLimit


class Setting:
    def __init__(self, world: World, app: FastAPI, signed: Clients) -> None:
        self.world, self.app, self.clients = world, app, signed


@pytest.fixture(scope="module")
def setting(sqlite_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    database = Database(sqlite_template.copy_to(tmp_path_factory.mktemp("auth-security") / "world.db"))
    world = build_world(database)
    app = create_app(database, migrate_on_start=False)
    try:
        with clients(app, world) as signed:
            yield Setting(world, app, signed)
    finally:
        database.dispose()


def browser(app: FastAPI, address: str = "testclient") -> TestClient:
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=False, client=(address, 50000))


def form_token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert found is not None
    return found.group(1)


def try_sign_in(client: TestClient, username: str, password: str, **headers: str) -> Any:
    data = {"username": username, "password": password, "csrf_token": form_token(client), "next": ""}
    return client.post("/sign-in", data=data, headers=headers, follow_redirects=False)


# --- passwords, cookies, stored secrets -------------------------------------------------------------

ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(?P<memory>\d+),t=(?P<time>\d+),p=(?P<lanes>\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


def test_passwords_are_hashed_with_argon2id_19_mib_and_two_passes_at_least(setting: Setting) -> None:
    with setting.world.database.read() as session:
        hashes = session.scalars(select(UserAccount.password_hash)).all()
    assert len(hashes) == len(ROLES)
    for stored in hashes:
        found = ARGON2.match(stored)
        assert found is not None, stored[:30]
        assert int(found["memory"]) >= 19 * 1024 and int(found["time"]) >= 2 and int(found["lanes"]) >= 1
        assert PASSWORD not in stored


def test_cookies_are_secure_httponly_and_samesite(setting: Setting) -> None:
    client = browser(setting.app)
    form = client.get("/sign-in")
    answer = try_sign_in(client, USERS[FAMILY][0], PASSWORD)
    assert answer.status_code == 303
    for name, response, same_site in (("phb_form", form, ("strict",)), (SESSION_COOKIE, answer, ("lax", "strict"))):
        header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=") and "max-age=0" not in h.lower())
        attributes = {part.strip().split("=")[0].lower(): part.strip().split("=", 1)[-1].lower() for part in header.split(";")[1:]}
        assert "secure" in attributes and "httponly" in attributes, header
        assert attributes.get("samesite") in same_site, header


def test_sessions_and_api_tokens_are_stored_only_as_their_sha256(setting: Setting) -> None:
    world, signed = setting.world, setting.clients
    secrets = list(world.tokens.values()) + [signed.browser[role].cookies[SESSION_COOKIE] for role in ROLES]
    with world.database.read() as session:
        stored = {row for row in session.scalars(select(ApiToken.token_sha256))} | {row for row in session.scalars(select(UserSession.token_sha256))}
        everything = "\n".join(repr(tuple(row)) for table in metadata.sorted_tables for row in session.execute(select(table)))
    for secret in secrets:
        assert digest(secret) in stored
        assert secret not in everything, "a raw session or API token is in the database"


# --- throttling and sessions ---------------------------------------------------------------------------


def _user(db: Database, username: str = "pat@holder.test") -> None:
    with db.write() as session:
        create_user(session, UserSpec(username, "Pat Example", "system_admin", PASSWORD), created_by="test")


def test_ten_failed_sign_ins_in_15_minutes_get_429_and_a_forwarded_for_header_resets_nothing(db: Database) -> None:
    _user(db)
    app = create_app(db, migrate_on_start=False)
    one_name = browser(app, "192.0.2.10")
    for attempt in range(USERNAME_TRIES):
        refused = try_sign_in(one_name, "pat@holder.test", "not the password", **{"X-Forwarded-For": f"203.0.113.{attempt}", "X-Real-IP": f"198.51.100.{attempt}"})
        assert refused.status_code == 401, (attempt, refused.status_code)
    throttled = try_sign_in(browser(app, "192.0.2.11"), "pat@holder.test", PASSWORD, **{"X-Forwarded-For": "203.0.113.250"})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert SESSION_COOKIE not in throttled.cookies
    # The locked username does not lock its address for anyone else.
    _user(db, "sam@holder.test")
    assert try_sign_in(one_name, "sam@holder.test", PASSWORD).status_code == 303
    # From one address, many usernames: the address is the connection's, whatever the headers say.
    one_address = browser(app, "192.0.2.20")
    for attempt in range(ADDRESS_TRIES):
        assert try_sign_in(one_address, f"nobody{attempt}@x.test", "wrong", **{"X-Forwarded-For": f"203.0.113.{attempt}"}).status_code == 401
    assert try_sign_in(one_address, "sam@holder.test", PASSWORD, **{"X-Forwarded-For": "198.51.100.7", "Forwarded": "for=198.51.100.7"}).status_code == 429
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(UserSession)) == 1
        addresses = set(session.scalars(select(SignInFailure.address)))
    assert addresses == {"192.0.2.10", "192.0.2.20"}, addresses


def test_failed_sign_ins_older_than_15_minutes_do_not_count(db: Database) -> None:
    _user(db)
    with db.write() as session:
        old = utcnow() - timedelta(minutes=16)
        session.add(SignInThrottle(kind="username", key="pat@holder.test", window_started_at=old, tries=USERNAME_TRIES))
        session.add(SignInThrottle(kind="address", key="testclient", window_started_at=old, tries=ADDRESS_TRIES))
    assert try_sign_in(browser(create_app(db, migrate_on_start=False)), "pat@holder.test", PASSWORD).status_code == 303


def _session_of(answer: Any) -> str:
    return answer.cookies[SESSION_COOKIE]


def _with_cookie(app: FastAPI, value: str) -> TestClient:
    client = browser(app)
    client.cookies.set(SESSION_COOKIE, value)
    return client


def test_the_session_id_changes_at_sign_in_and_is_dead_after_sign_out(db: Database) -> None:
    _user(db)
    app = create_app(db, migrate_on_start=False)
    client = _with_cookie(app, "planted-by-someone-else")
    signed = try_sign_in(client, "pat@holder.test", PASSWORD)
    first = _session_of(signed)
    assert signed.status_code == 303 and first != "planted-by-someone-else"
    client = _with_cookie(app, first)
    again = try_sign_in(client, "pat@holder.test", PASSWORD)
    second = _session_of(again)
    assert again.status_code == 303 and second != first
    assert _with_cookie(app, first).get(f"{API}/budgets").status_code == 401, "the session before signing in again still works"
    assert _with_cookie(app, second).get(f"{API}/budgets").status_code == 200
    with db.read() as session:
        csrf = session.scalar(select(UserSession.csrf_token).where(UserSession.token_sha256 == digest(second)))
    out = _with_cookie(app, second).post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/sign-in")
    assert any(h.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in h.lower() for h in out.headers.get_list("set-cookie"))
    assert _with_cookie(app, second).get(f"{API}/budgets").status_code == 401, "a copy of the cookie outlives sign-out"
    page = _with_cookie(app, second).get("/admin/users", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in?next=")
    with db.read() as session:
        ended = session.scalars(select(UserSession.ended_at)).all()
    assert len(ended) == 2 and all(moment is not None for moment in ended)


@pytest.mark.parametrize("next_path", ["//evil.example/x", "/\\evil.example", "https://evil.example/", "/\t/evil.example", " //evil.example",
                                       "/\n/evil.example", "\\\\evil.example", "/%2F%2Fevil.example"])
def test_signing_in_never_sends_the_browser_to_another_site(setting: Setting, next_path: str) -> None:
    client = browser(setting.app)
    data = {"username": USERS[FAMILY][0], "password": PASSWORD, "csrf_token": form_token(client), "next": next_path}
    answer = client.post("/sign-in", data=data, follow_redirects=False)
    location = answer.headers["location"]
    as_a_browser_reads_it = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")  # as URL parsers read it
    assert answer.status_code == 303 and urlsplit(urljoin("https://testserver/here", as_a_browser_reads_it)).netloc == "testserver", location


def test_family_members_get_no_api_tokens(setting: Setting) -> None:
    """A family member signs in in a browser: their only keys are their session's."""
    family = setting.world.user_ids[FAMILY]
    with setting.world.database.read() as session:
        with pytest.raises(InvalidInput):
            issue_api_token(session, family, name="a script")
    admin = setting.clients.browser[SYSTEM_ADMIN]
    refused = admin.post(f"/admin/users/{family}/tokens", data={"name": "a script", "csrf_token": setting.clients.csrf[SYSTEM_ADMIN]}, follow_redirects=False)
    assert 400 <= refused.status_code < 500
    with setting.world.database.read() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == family)) == 0


# --- the access record ------------------------------------------------------------------------------------


def _records(database: Database, after_id: int) -> list[AccessRecord]:
    with database.read() as session:
        return list(session.scalars(select(AccessRecord).where(AccessRecord.id > after_id).order_by(AccessRecord.id)))


def _last_id(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.max(AccessRecord.id))) or 0


def test_every_family_view_and_every_auditor_export_is_recorded(setting: Setting) -> None:
    world, signed = setting.world, setting.clients
    joint, council = world.targets["A1"], world.funder_ids["council"]
    paths = {str(endpoint) for endpoint in endpoints(setting.app)}
    views = [
        (FAMILY, "GET /family/budgets/{budget_id}", f"/family/budgets/{joint.budget_id}", FAMILY_BALANCE_PAGE, {joint.budget_id}),
        (FAMILY, "GET /api/v1/family/budgets/{budget_id}", f"{API}/family/budgets/{joint.budget_id}", FAMILY_BALANCE_PAGE, {joint.budget_id}),
        (COUNCIL_AUDITOR, "GET /api/v1/reports/{name}", f"{API}/reports/quarterly-review?budget_id={joint.budget_id}&quarter={QUARTER}&live=true",
         AUDITOR_EXPORT, {joint.budget_id}),
        (COUNCIL_AUDITOR, "GET /api/v1/reports/{name}", f"{API}/reports/funder-summary?funder_id={council}&month=2026-10&format=csv",
         AUDITOR_EXPORT, {joint.budget_id}),
        (COUNCIL_AUDITOR, "GET /api/v1/report-documents/{document_id}", f"{API}/report-documents/{joint.ids['document_id']}?format=csv",
         AUDITOR_EXPORT, {joint.budget_id}),
        (COUNCIL_AUDITOR, "GET /funder/documents/{document_id}", f"/funder/documents/{world.council_document_id}?format=html", AUDITOR_EXPORT,
         {joint.budget_id}),
        (COUNCIL_AUDITOR, "GET /funder/downloads/{report}",
         f"/funder/downloads/monitoring-return?period={QUARTER}&format=csv&budget={FACTS['A1'].reference}", AUDITOR_EXPORT, {joint.budget_id}),
    ]  # fmt: skip
    for role, route, url, action, budgets in views:
        assert route in paths, f"{route} is no longer a route: record its views through the one that replaced it"
        before = _last_id(world.database)
        started = utcnow() - timedelta(seconds=5)
        client = signed.browser[role] if role == FAMILY or not url.startswith(API) else signed.api[role]
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:200])
        rows = _records(world.database, before)
        assert rows, f"{role} {url} was not recorded"
        assert {row.budget_id for row in rows} >= budgets, (url, [row.budget_id for row in rows])
        for row in rows:
            assert row.user_id == world.user_ids[role] and row.role == USERS[role][2] and row.action == action, (url, row)
            assert row.reason.strip() and started <= row.at <= utcnow() + timedelta(seconds=5), (url, row)
            assert row.budget_id is None or row.budget_id in budgets or role != FAMILY, (url, row)


def test_the_access_record_cannot_be_changed_or_deleted_by_the_application(pg: Database) -> None:
    world = build_world(pg)
    family = Principal(world.user_ids[FAMILY], USERS[FAMILY][0], USERS[FAMILY][1], Role.FAMILY)
    with pg.write() as session:
        record_access(session, family, action=FAMILY_BALANCE_PAGE, reason="read the balance", budget_ids=[world.targets["A1"].budget_id])
    for statement in ("UPDATE access_record SET reason = 'nothing to see'", "DELETE FROM access_record", "TRUNCATE access_record"):
        with pytest.raises(DBAPIError) as caught:
            with pg.write() as session:
                session.execute(text(statement))
        assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege), statement
    with pg.read() as session:
        assert session.scalar(select(func.count()).select_from(AccessRecord)) == 1
        assert session.scalar(select(AccessRecord.reason)) == "read the balance"


def test_on_sqlite_triggers_refuse_changing_the_access_record(sqlite_template, tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(sqlite_template.copy_to(tmp_path / "records.db"))
    world = build_world(database)
    family = Principal(world.user_ids[FAMILY], USERS[FAMILY][0], USERS[FAMILY][1], Role.FAMILY)
    with database.write() as session:
        record_access(session, family, action=FAMILY_BALANCE_PAGE, reason="read the balance", budget_ids=[world.targets["A1"].budget_id])
    for statement in ("UPDATE access_record SET reason = 'nothing to see'", "DELETE FROM access_record"):
        with pytest.raises(DBAPIError, match="append-only"):
            with database.write() as session:
                session.execute(text(statement))
    with database.read() as session:
        assert session.scalar(select(AccessRecord.reason)) == "read the balance"
    database.dispose()


# --- logs ------------------------------------------------------------------------------------------------------

NHS_NUMBER = re.compile(r"(?<![0-9A-Za-z])([0-9]{3})[ -]?([0-9]{3})[ -]?([0-9]{4})(?![0-9A-Za-z])")


def _is_nhs_number(digits: str) -> bool:
    """The NHS number's modulus 11 check digit."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    return check != 10 and (check % 11) == int(digits[9])


def test_application_logs_carry_no_names_or_nhs_numbers(setting: Setting, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A realistic session — every role signs in (and someone fails to), opens its pages, reads
    and changes through the API, hits refusals, bad input and a failure inside the service —
    with every logger at DEBUG (the database's too)."""
    world, app = setting.world, setting.app
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "uvicorn", "uvicorn.access", "uvicorn.error", "fastapi", "phb_ledger"):
        caplog.set_level(logging.INFO if name.startswith("sqlalchemy") else logging.DEBUG, logger=name)
    joint = world.targets["A1"]
    failed = browser(app, "192.0.2.99")
    assert try_sign_in(failed, FACTS["A1"].person, "Perpetua Quillon 1990-05-01").status_code == 401
    for role in ROLES:
        client, _ = sign_in(app, USERS[role][0])
        for path in ("/", "/holder", "/funder", "/family", "/admin/users", f"/holder/budgets/{joint.budget_id}", f"/funder/budgets/{joint.budget_id}",
                     f"/family/budgets/{joint.budget_id}", f"/holder/flags/{joint.ids['flag_id']}", f"/funder/flags/{joint.ids['flag_id']}",
                     f"{API}/budgets/{joint.budget_id}", f"{API}/people/{joint.person_id}", f"{API}/family/budgets/{joint.budget_id}"):  # fmt: skip
            client.get(path)
    admin = setting.clients.api[SYSTEM_ADMIN]
    admin.post(f"{API}/people", json={"name": "Tobias Nettlefold", "date_of_birth": "2999-01-01", "eligibility_group": "mental_health"})
    admin.post(f"{API}/people/{joint.person_id}/representatives", json={"name": "Rosalind Nettlefold", "legal_basis": "no such basis"})
    admin.post(f"{API}/budgets/{joint.budget_id}/contacts", json={"role": "care_coordinator", "name": "Ambrose Kittering", "phone": "943 476 5919"})
    admin.post(f"{API}/people", json={"name": "Cuthbert Ravenscroft", "date_of_birth": "1980-01-01", "eligibility_group": "mental_health"})
    _fail_inside_the_service(setting, monkeypatch)
    names = world.names() + ["Tobias Nettlefold", "Rosalind Nettlefold", "Ambrose Kittering", "Cuthbert Ravenscroft", "Marmaduke Pettigrew"]
    assert caplog.records, "nothing was logged at all: the capture is not working"
    problems = []
    for record in caplog.records:
        line = f"{record.name}: {record.getMessage()}" + (f"\n{logging.Formatter().formatException(record.exc_info)}" if record.exc_info else "")
        lowered = line.lower()
        shown = [name for name in names if name.lower() in lowered or name.split()[-1].lower() in lowered]
        numbers = [m.group(0) for m in NHS_NUMBER.finditer(line) if _is_nhs_number("".join(m.groups()))]
        if shown or numbers:
            problems.append(f"{record.name} {record.levelname}: {shown + numbers}: {line[:300]}")
    assert not problems, f"{len(problems)} log record(s) carry names or NHS numbers:\n" + "\n".join(problems[:20])


def _fail_inside_the_service(setting: Setting, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error in the middle of recording a person: the 500's log must not carry the
    name the statement was given."""
    from ledger.budgets import parties

    def failing(session, spec, *, today):  # type: ignore[no-untyped-def]
        session.execute(text("INSERT INTO no_such_table (name) VALUES (:name)"), {"name": spec.name})

    monkeypatch.setattr(parties, "create_person", failing)
    answer = setting.clients.api[SYSTEM_ADMIN].post(
        f"{API}/people", json={"name": "Marmaduke Pettigrew", "date_of_birth": "1980-01-01", "eligibility_group": "mental_health"}
    )
    assert answer.status_code == 500 and "Pettigrew" not in answer.text


# --- uploads ---------------------------------------------------------------------------------------------------

CHUNK = 1024 * 1024


def _limits(app: FastAPI) -> BodySizeLimit:
    middleware = next(m for m in app.user_middleware if m.cls is BodySizeLimit)
    return BodySizeLimit(app, **middleware.kwargs)


def _largest_files(setting: Setting) -> dict[str, tuple[str, int]]:
    """Each upload route (path template → (an address of it, the largest file it takes))."""
    from web.pages.family_pages import STATEMENT_BYTES_MAX as FAMILY_STATEMENT_MAX
    from web.pages.holder_payroll import PAYROLL_BYTES_MAX

    joint = setting.world.targets["A1"]
    return {
        f"{API}/accounts/{{account_id}}/statements": (f"{API}/accounts/{joint.ids['account_id']}/statements", STATEMENT_BYTES_MAX),
        f"{API}/holders/{{holder_id}}/evidence": (f"{API}/holders/{joint.holder_id}/evidence", EVIDENCE_BYTES_MAX),
        "/holder/statements": ("/holder/statements", STATEMENT_BYTES_MAX),
        "/holder/payroll": ("/holder/payroll", PAYROLL_BYTES_MAX),
        "/holder/flags/{flag_id}/explain": (f"/holder/flags/{joint.ids['flag_id']}/explain", EVIDENCE_BYTES_MAX),
        "/family/budgets/{budget_id}/statements": (f"/family/budgets/{joint.budget_id}/statements", FAMILY_STATEMENT_MAX),
        "/family/budgets/{budget_id}/flags/{flag_id}": (f"/family/budgets/{joint.budget_id}/flags/{joint.ids['flag_id']}", EVIDENCE_BYTES_MAX),
    }


def _upload_routes(setting: Setting) -> list[str]:
    found = []
    for endpoint in endpoints(setting.app):
        takes_file = any(is_file for _, is_file in endpoint.fields)
        if endpoint.area == "api" and endpoint.unsafe:
            schema = setting.app.openapi()["paths"].get(endpoint.path, {}).get(endpoint.method.lower(), {})
            takes_file = "multipart/form-data" in schema.get("requestBody", {}).get("content", {})
        if takes_file:
            found.append(endpoint.path)
    return found


def test_every_upload_route_takes_its_largest_file_and_no_more(setting: Setting) -> None:
    """The body limit of each upload route lets its largest file through (with room for the
    form around it) and is not far above it."""
    limits, largest = _limits(setting.app), _largest_files(setting)
    routes = _upload_routes(setting)
    assert set(routes) == set(largest), f"upload routes changed: {sorted(set(routes) ^ set(largest))}: say how large a file each takes"
    for route, (url, file_max) in largest.items():
        limit = limits.limit_for(url)
        assert file_max < limit <= file_max + 4 * CHUNK, f"{route}: body limit {limit:,} for files up to {file_max:,}"


def _drive(app: FastAPI, url: str, headers: dict[str, str], declared: int | None, total: int) -> tuple[int, int]:
    """POST a multipart body of ``total`` bytes to the app in 1 MiB chunks made as they are
    read (never the whole body in memory); ``declared``: its Content-Length header, else
    chunked. Answers the status and how many bytes the app read."""
    head = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    filler = b"9" * CHUNK
    pulled = 0
    status = 0

    def chunks() -> Iterator[bytes]:
        yield head
        sent = len(head)
        while sent < total:
            piece = filler if total - sent >= CHUNK else filler[: total - sent]
            sent += len(piece)
            yield piece

    source = chunks()
    finished = False

    async def receive() -> dict[str, Any]:
        nonlocal pulled, finished
        if finished:
            await asyncio.sleep(3600)
        piece = next(source, None)
        if piece is None:
            finished = True
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(piece)
        return {"type": "http.request", "body": piece, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"content-type", b"multipart/form-data; boundary=x")]
    if declared is not None:
        raw.append((b"content-length", str(declared).encode()))
    path, _, query = url.partition("?")
    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "https", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "root_path": "", "headers": raw, "client": ("testclient", 50000), "server": ("testserver", 443),
             "state": {}, "extensions": {}}  # fmt: skip

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=120)

    asyncio.run(run())
    return status, pulled


def test_uploads_over_the_limit_are_refused_with_413_before_they_are_read(setting: Setting) -> None:
    """Declared too large: refused before a byte is read. Sent without a length (chunked): read
    only until the limit is passed, then refused."""
    limits, world, failures = _limits(setting.app), setting.world, []
    before = _upload_counts(world.database)
    for route, (url, _) in _largest_files(setting).items():
        role = SYSTEM_ADMIN if url.startswith(API) else FAMILY if url.startswith("/family") else ADMIN_A
        headers = _credentials(setting, role)
        limit = limits.limit_for(url)
        status, pulled = _drive(setting.app, url, headers, declared=limit + 1, total=limit + 1)
        if (status, pulled) != (413, 0):
            failures.append(f"{route}, declared {limit + 1:,} bytes: {status} after reading {pulled:,} bytes")
        status, pulled = _drive(setting.app, url, headers, declared=None, total=limit + CHUNK)
        if status != 413 or not limit < pulled <= limit + 2 * CHUNK:
            failures.append(f"{route}, {limit + CHUNK:,} bytes sent chunked: {status} after reading {pulled:,} bytes")
    assert not failures, "\n".join(failures)
    assert _upload_counts(world.database) == before, "something of a refused upload was kept"


def test_json_bodies_over_1_mib_are_refused_with_413(setting: Setting) -> None:
    admin = setting.clients.api[SYSTEM_ADMIN]
    body = b'{"name": "' + b"a" * JSON_BODY_BYTES_MAX + b'"}'
    answer = admin.post(f"{API}/people", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["code"] == "request_too_large"


def _credentials(setting: Setting, role: str) -> dict[str, str]:
    if role == SYSTEM_ADMIN:
        return {"authorization": f"Bearer {setting.world.tokens[role]}"}
    client = setting.clients.browser[role]
    return {"cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}", "x-csrf-token": setting.clients.csrf[role]}


def _upload_counts(database: Database) -> tuple[int, ...]:
    with database.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(metadata.tables[name])) or 0
                     for name in ("statement_import", "statement_line", "evidence", "payable"))  # fmt: skip


def test_uploads_without_signing_in_are_refused_before_a_byte_is_read(setting: Setting) -> None:
    """No session cookie or API token (or one that is not live): the API answers 401 and a
    page's form the sign-in page, before the body is read, whatever its size or framing."""
    failures = []
    for route, (url, _) in _largest_files(setting).items():
        for headers in ({}, {"authorization": "Bearer phb_not-a-token"}, {"cookie": f"{SESSION_COOKIE}=not-a-session"}):
            for declared in (4 * CHUNK, None):
                status, pulled = _drive(setting.app, url, headers, declared=declared, total=4 * CHUNK)
                expected = 401 if url.startswith(API) else 303
                if (status, pulled) != (expected, 0):
                    failures.append(f"{route} with {sorted(headers) or 'no credentials'}, declared {declared}: {status} after reading {pulled:,} bytes")
    assert not failures, "\n".join(failures)
