"""The life of a sign-in (issue 23), on both databases: a leaver is locked out at once —
the session and the token that worked a moment before answer 401, through the API and the
pages — and reactivating revives none of them; revoked and expired tokens are refused with a
clear 401; a token's last use is recorded; one's own password changes only with the current
one, ending the other sessions; an admin-set one-time password must be changed before
anything else; every change is in the access record with who made it; and the same from
the command line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from ledger.access import lifecycle
from ledger.access.log import Actor
from ledger.access.users import TOKEN_DAYS_DEFAULT, UserSpec, create_user, issue_api_token, touch_token
from ledger.budgets import parties
from ledger.errors import Conflict, InvalidInput
from ledger.store import migrate
from ledger.store.database import Database
from ledger.store.roles import ensure_application_login
from ledger.store.tables.access import AccessRecord, ApiToken, SignInFailure, UserAccount, UserSession
from ledger.store.tables.base import utcnow
from tests.support.databases import TEST_LOGIN, admin_url, require_postgres
from tests.support.route_table import sign_in
from web.app import create_app
from web.cli import app as cli

API = "/api/v1"
PASSWORD = "a long enough first password"
NEW_PASSWORD = "a new password of my own"
ONE_TIME = "given once over the phone"


@dataclass
class People:
    app: FastAPI
    database: Database
    admin_id: int
    staff_id: int
    admin_api: TestClient
    staff_token: str
    staff_token_id: int

    def api_as(self, token: str) -> TestClient:
        return TestClient(self.app, base_url="https://testserver", headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False)

    def records(self, subject_user_id: int) -> list[AccessRecord]:
        with self.database.read() as session:
            return list(session.scalars(select(AccessRecord).where(AccessRecord.subject_user_id == subject_user_id).order_by(AccessRecord.id)))


@pytest.fixture
def people(db: Database) -> Iterator[People]:
    with db.write() as session:
        holder = parties.create_holder(session, parties.HolderSpec("sunrise", "Sunrise Support", "isf_provider"))
        admin = create_user(session, UserSpec("admin@service.test", "Ada Admin", "system_admin", PASSWORD), created_by="test")
        staff = create_user(session, UserSpec("sam@sunrise.test", "Sam Reed", "holder_staff", PASSWORD, holder.id), created_by="test")
        admin_token, _ = issue_api_token(session, admin.id, name="admin script")  # type: ignore[arg-type]
        staff_token, staff_row = issue_api_token(session, staff.id, name="payroll export")  # type: ignore[arg-type]
        ids = (admin.id, staff.id, staff_row.id)
    app = create_app(db, migrate_on_start=False)
    with TestClient(app, base_url="https://testserver", headers={"Authorization": f"Bearer {admin_token}"}, raise_server_exceptions=False) as admin_api:
        yield People(app, db, ids[0], ids[1], admin_api, staff_token, ids[2])  # type: ignore[arg-type]


def _code(answer) -> str:  # type: ignore[no-untyped-def]
    return answer.json().get("code")


# --- deactivating and reactivating ----------------------------------------------------------------


def test_a_leaver_is_locked_out_at_once_through_the_api_and_the_pages(people: People) -> None:
    browser, _csrf = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    token_client = people.api_as(people.staff_token)
    assert token_client.get(f"{API}/account").status_code == 200
    assert browser.get("/holder", follow_redirects=False).status_code == 200
    assert browser.get(f"{API}/account").status_code == 200

    done = people.admin_api.post(f"{API}/users/{people.staff_id}/deactivate", json={"reason": "Left on 30 November"})
    assert done.status_code == 200, done.text
    assert done.json()["active"] is False and done.json()["deactivated_by"] == "Ada Admin (admin@service.test)"

    assert token_client.get(f"{API}/account").status_code == 401
    assert browser.get(f"{API}/account").status_code == 401
    page = browser.get("/holder", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
    again = TestClient(people.app, base_url="https://testserver", raise_server_exceptions=False)
    form = again.get("/sign-in").text
    refused = again.post("/sign-in", data={"username": "sam@sunrise.test", "password": PASSWORD, "csrf_token": _field(form, "csrf_token"), "next": ""},
                         follow_redirects=False)  # fmt: skip
    assert refused.status_code == 401
    [record] = people.records(people.staff_id)
    assert (record.action, record.actor, record.user_id, record.role, record.reason) == (
        "user_deactivated", "Ada Admin (admin@service.test)", people.admin_id, "system_admin", "Left on 30 November"
    )
    with people.database.read() as session:
        assert session.scalar(select(func.count()).where(UserSession.user_id == people.staff_id, UserSession.ended_at.is_(None))) == 0
        assert session.scalar(select(func.count()).where(ApiToken.user_id == people.staff_id, ApiToken.revoked_at.is_(None))) == 0


def test_reactivating_revives_no_old_session_and_no_old_token(people: People) -> None:
    browser, _ = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    token_client = people.api_as(people.staff_token)
    people.admin_api.post(f"{API}/users/{people.staff_id}/deactivate", json={"reason": "Suspended"})
    back = people.admin_api.post(f"{API}/users/{people.staff_id}/reactivate", json={"reason": "Back from leave"})
    assert back.status_code == 200 and back.json()["active"] is True
    old = token_client.get(f"{API}/account")
    assert (old.status_code, _code(old)) == (401, "token_revoked")
    assert browser.get(f"{API}/account").status_code == 401
    fresh, _ = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    assert fresh.get("/holder", follow_redirects=False).status_code == 200
    assert [r.action for r in people.records(people.staff_id)] == ["user_deactivated", "user_reactivated"]


def test_deactivating_on_the_admin_page_locks_the_leaver_out(people: People) -> None:
    staff, _ = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    admin, csrf = sign_in(people.app, "admin@service.test", PASSWORD)
    page = admin.get(f"/admin/users/{people.staff_id}")
    assert page.status_code == 200 and "payroll export" in page.text and "Deactivate Sam Reed" in page.text
    no_reason = admin.post(f"/admin/users/{people.staff_id}/deactivate", data={"csrf_token": csrf, "reason": ""}, follow_redirects=False)
    assert no_reason.status_code == 422 and staff.get("/holder", follow_redirects=False).status_code == 200
    done = admin.post(f"/admin/users/{people.staff_id}/deactivate", data={"csrf_token": csrf, "reason": "Left"}, follow_redirects=False)
    assert done.status_code == 303
    assert staff.get("/holder", follow_redirects=False).headers["location"].startswith("/sign-in")
    shown = admin.get(f"/admin/users/{people.staff_id}").text
    assert "Deactivated" in shown and "Reactivate Sam Reed" in shown and "Ada Admin (admin@service.test)" in shown
    assert people.api_as(people.staff_token).get(f"{API}/account").status_code == 401


def test_nobody_deactivates_themselves_and_only_the_system_admin_deactivates(people: People) -> None:
    own = people.admin_api.post(f"{API}/users/{people.admin_id}/deactivate", json={"reason": "oops"})
    assert (own.status_code, _code(own)) == (409, "cannot_deactivate_self")
    staff_api = people.api_as(people.staff_token)
    refused = staff_api.post(f"{API}/users/{people.admin_id}/deactivate", json={"reason": "mutiny"})
    assert (refused.status_code, _code(refused)) == (403, "forbidden")
    assert [u["username"] for u in staff_api.get(f"{API}/users").json()] == ["sam@sunrise.test"]  # only themselves
    assert staff_api.get(f"{API}/users/{people.admin_id}").status_code == 404
    assert len(people.admin_api.get(f"{API}/users").json()) == 2
    with people.database.write() as session:
        with pytest.raises(Conflict) as last:
            lifecycle.deactivate_user(session, people.admin_id, by=Actor.command_line("test"), reason="the only admin")
        assert last.value.code == "last_system_admin"
        with pytest.raises(InvalidInput):
            lifecycle.deactivate_user(session, people.staff_id, by=Actor.command_line("test"), reason=" ")
    assert people.records(people.admin_id) == [] and people.records(people.staff_id) == []


# --- API tokens -------------------------------------------------------------------------------------


def test_revoked_and_expired_tokens_are_refused_with_a_clear_401(people: People) -> None:
    with people.database.write() as session:
        short, row = issue_api_token(session, people.staff_id, name="short-lived", expires_in_days=1, now=utcnow() - timedelta(days=2))
        with pytest.raises(InvalidInput):
            issue_api_token(session, people.staff_id, name="for ever", expires_in_days=10_000)
    expired = people.api_as(short).get(f"{API}/account")
    assert (expired.status_code, _code(expired)) == (401, "token_expired") and "expired on" in expired.json()["message"]
    staff_api = people.api_as(people.staff_token)
    listed = staff_api.get(f"{API}/users/{people.staff_id}/tokens").json()
    assert {t["name"]: t["state"] for t in listed} == {"payroll export": "active", "short-lived": "expired"}
    assert staff_api.get(f"{API}/users/{people.admin_id}/tokens").status_code == 404  # another user's: not there
    revoked = staff_api.post(f"{API}/tokens/{people.staff_token_id}/revoke", json={"reason": "seen in a log"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    after = staff_api.get(f"{API}/account")
    assert (after.status_code, _code(after)) == (401, "token_revoked")
    for token, code in ((people.staff_token, "token_revoked"), (short, "token_expired")):  # a write is refused alike, before its body
        write = people.api_as(token).post(f"{API}/tokens/{people.staff_token_id}/revoke", json={})
        assert (write.status_code, _code(write)) == (401, code)
    again = people.admin_api.post(f"{API}/tokens/{people.staff_token_id}/revoke", json={})
    assert (again.status_code, _code(again)) == (409, "token_already_revoked")
    [record] = people.records(people.staff_id)
    assert (record.action, record.actor) == ("api_token_revoked", "Sam Reed (sam@sunrise.test)") and "seen in a log" in record.reason


def test_a_user_revokes_only_their_own_tokens(people: People) -> None:
    with people.database.write() as session:
        _, admin_token = issue_api_token(session, people.admin_id, name="other")
    staff_api = people.api_as(people.staff_token)
    assert staff_api.post(f"{API}/tokens/{admin_token.id}/revoke", json={}).status_code == 404
    browser, csrf = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    assert browser.post(f"/account/tokens/{admin_token.id}/revoke", data={"csrf_token": csrf}).status_code == 404
    page = browser.get("/account")
    assert page.status_code == 200 and "payroll export" in page.text
    done = browser.post(f"/account/tokens/{people.staff_token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert staff_api.get(f"{API}/account").status_code == 401
    with people.database.read() as session:
        assert session.get(ApiToken, admin_token.id).revoked_at is None  # type: ignore[union-attr]


def test_a_tokens_last_use_is_recorded_at_most_once_a_minute(people: People) -> None:
    staff_api = people.api_as(people.staff_token)
    assert staff_api.get(f"{API}/account").status_code == 200
    with people.database.read() as session:
        first = session.get(ApiToken, people.staff_token_id).last_used_at  # type: ignore[union-attr]
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    staff_api.get(f"{API}/account")
    with people.database.read() as session:
        assert session.get(ApiToken, people.staff_token_id).last_used_at == first  # type: ignore[union-attr]
    with people.database.write() as session:
        touch_token(session, people.staff_token_id, now=first - timedelta(minutes=5))
    staff_api.get(f"{API}/account")
    listed = people.admin_api.get(f"{API}/users/{people.staff_id}/tokens").json()
    assert listed[0]["last_used_at"] is not None and listed[0]["last_used_at"] > (first - timedelta(minutes=5)).isoformat()


def test_tokens_are_issued_with_an_expiry_and_recorded(people: People) -> None:
    issued = people.admin_api.post(f"{API}/users/{people.staff_id}/tokens", json={"name": "reports", "expires_in_days": 30})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["token"].startswith("phb_") and body["state"] == "active"
    assert body["expires_at"][:10] == (utcnow() + timedelta(days=30)).date().isoformat()
    too_long = people.admin_api.post(f"{API}/users/{people.staff_id}/tokens", json={"name": "reports", "expires_in_days": 1000})
    assert too_long.status_code == 422
    assert people.api_as(body["token"]).get(f"{API}/account").json()["username"] == "sam@sunrise.test"
    assert [r.action for r in people.records(people.staff_id)] == ["api_token_issued"]
    with people.database.read() as session:
        default = session.get(ApiToken, people.staff_token_id)
        assert default is not None and default.expires_at - default.created_at == timedelta(days=TOKEN_DAYS_DEFAULT)


# --- passwords ------------------------------------------------------------------------------------


def test_a_wrong_current_password_changes_nothing(people: People) -> None:
    staff_api = people.api_as(people.staff_token)
    with people.database.read() as session:
        before = session.get(UserAccount, people.staff_id).password_hash  # type: ignore[union-attr]
    browser, _ = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    wrong = staff_api.post(f"{API}/account/password", json={"current_password": "not my password", "new_password": NEW_PASSWORD})
    assert (wrong.status_code, _code(wrong)) == (422, "current_password_wrong")
    with people.database.read() as session:
        assert session.get(UserAccount, people.staff_id).password_hash == before  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).where(SignInFailure.username == "sam@sunrise.test")) == 1  # counted: guessing is throttled
    assert browser.get("/holder", follow_redirects=False).status_code == 200
    assert people.records(people.staff_id) == []
    short = staff_api.post(f"{API}/account/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert (short.status_code, _code(short)) == (422, "password_length")


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(people: People) -> None:
    here, csrf = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    elsewhere, _ = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    mismatch = here.post("/account/password", data={"csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                    "confirm_password": "something else entirely"})  # fmt: skip
    assert mismatch.status_code == 422 and "Enter the same new password twice" in mismatch.text
    done = here.post("/account/password", data={"csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                "confirm_password": NEW_PASSWORD}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/account?changed=true"
    assert here.get("/holder", follow_redirects=False).status_code == 200
    assert elsewhere.get("/holder", follow_redirects=False).headers["location"].startswith("/sign-in")
    assert people.api_as(people.staff_token).get(f"{API}/account").status_code == 200  # a machine client's token goes on
    sign_in(people.app, "sam@sunrise.test", NEW_PASSWORD)
    [record] = people.records(people.staff_id)
    assert (record.action, record.actor, record.user_id) == ("password_changed", "Sam Reed (sam@sunrise.test)", people.staff_id)


def test_a_one_time_password_must_be_changed_before_anything_else(people: People) -> None:
    before, _ = sign_in(people.app, "sam@sunrise.test", PASSWORD)
    set_ = people.admin_api.post(f"{API}/users/{people.staff_id}/one-time-password", json={"password": ONE_TIME})
    assert set_.status_code == 200 and set_.json()["must_change_password"] is True
    assert before.get("/holder", follow_redirects=False).headers["location"].startswith("/sign-in")  # its sessions ended

    browser, csrf = sign_in(people.app, "sam@sunrise.test", ONE_TIME)
    page = browser.get("/holder", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/account/password")
    assert browser.get("/account", follow_redirects=False).headers["location"] == "/account/password"
    assert "set for you to use once" in browser.get("/account/password").text
    for client, headers in ((browser, {}), (people.api_as(people.staff_token), {})):
        refused = client.get(f"{API}/budgets", headers=headers)
        assert (refused.status_code, _code(refused)) == (403, "password_change_required")
    assert browser.get(f"{API}/account").json()["must_change_password"] is True
    same = browser.post("/account/password", data={"csrf_token": csrf, "current_password": ONE_TIME, "new_password": ONE_TIME, "confirm_password": ONE_TIME})
    assert same.status_code == 422  # a new one, not the one given
    done = browser.post("/account/password", data={"csrf_token": csrf, "current_password": ONE_TIME, "new_password": NEW_PASSWORD,
                                                   "confirm_password": NEW_PASSWORD}, follow_redirects=False)  # fmt: skip
    assert (done.status_code, done.headers["location"]) == (303, "/holder")
    assert browser.get("/holder", follow_redirects=False).status_code == 200
    assert browser.get(f"{API}/budgets").status_code == 200
    assert [(r.action, r.actor) for r in people.records(people.staff_id)] == [
        ("one_time_password_set", "Ada Admin (admin@service.test)"), ("password_changed", "Sam Reed (sam@sunrise.test)"),
    ]


def test_an_admin_sets_a_one_time_password_on_the_users_page(people: People) -> None:
    admin, csrf = sign_in(people.app, "admin@service.test", PASSWORD)
    weak = admin.post(f"/admin/users/{people.staff_id}/one-time-password", data={"csrf_token": csrf, "password": "short"})
    assert weak.status_code == 422 and "12 to 200 characters" in weak.text
    done = admin.post(f"/admin/users/{people.staff_id}/one-time-password", data={"csrf_token": csrf, "password": ONE_TIME}, follow_redirects=False)
    assert done.status_code == 303
    assert "Must change password" in admin.get(f"/admin/users/{people.staff_id}").text
    own = admin.post(f"/admin/users/{people.admin_id}/one-time-password", data={"csrf_token": csrf, "password": ONE_TIME})
    assert own.status_code == 409


# --- the command line ------------------------------------------------------------------------------

runner = CliRunner()


def _cli(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), input=input)
    return result.exit_code, result.stdout + result.stderr


def test_the_command_line_deactivates_reactivates_resets_and_revokes(people: People) -> None:
    url = people.database.url
    code, out = _cli("users", "deactivate", "sam@sunrise.test", "--reason", "Left", "--db", url, "--json")
    assert code == 0 and json.loads(out) == {"id": people.staff_id, "username": "sam@sunrise.test", "active": False}
    assert people.api_as(people.staff_token).get(f"{API}/account").status_code == 401
    code, out = _cli("users", "deactivate", "sam@sunrise.test", "--db", url)
    assert code != 0 and "already deactivated" in out
    code, out = _cli("users", "reactivate", "sam@sunrise.test", "--db", url, "--json")
    assert code == 0 and json.loads(out)["active"] is True

    code, out = _cli("users", "token", "sam@sunrise.test", "--name", "nightly", "--expires-in-days", "7", "--db", url, "--json")
    assert code == 0
    issued = json.loads(out)
    code, out = _cli("users", "tokens", "sam@sunrise.test", "--db", url, "--json")
    states = {row["name"]: row["state"] for row in json.loads(out)}
    assert code == 0 and states == {"nightly": "active", "payroll export": "revoked"}
    code, out = _cli("users", "revoke-token", str(issued["id"]), "--reason", "not needed", "--db", url, "--json")
    assert code == 0 and json.loads(out)["state"] == "revoked"

    code, out = _cli("users", "one-time-password", "sam@sunrise.test", "--db", url, "--json", input=f"{ONE_TIME}\n{ONE_TIME}\n")
    assert code == 0 and json.loads(out[out.index("{"):])["must_change_password"] is True
    sign_in(people.app, "sam@sunrise.test", ONE_TIME)

    records = people.records(people.staff_id)
    assert [r.action for r in records] == [
        "user_deactivated", "user_reactivated", "api_token_issued", "api_token_revoked", "one_time_password_set",
    ]
    assert all(r.user_id is None and r.role == "command_line" and r.actor.startswith("phb-ledger users (run by ") for r in records)


# --- the migration -----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """An empty database no migration has run on."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'old.db'}")
        yield database
        database.dispose()
        return
    require_postgres()
    name = f"phb_lifecycle_{tmp_path.name[-20:].replace('-', '_').lower()}"
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        ensure_application_login(connection, TEST_LOGIN)
    owner = make_url(admin_url().replace("postgresql://", "postgresql+psycopg://", 1)).set(database=name)
    login = owner.set(username=TEST_LOGIN, password=None)
    database = Database(login.render_as_string(hide_password=False), owner_url=owner.render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(admin_url(), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_migration_gives_old_tokens_90_days_and_old_records_their_actor_and_keeps_the_record_append_only(unmigrated: Database) -> None:
    migrate.upgrade(unmigrated, "0014")
    with unmigrated.write() as session:
        session.execute(text("INSERT INTO user_account (username, display_name, role, password_hash, active, created_at, created_by)"
                             " VALUES ('sam@sunrise.test', 'Sam Reed', 'system_admin', 'x', true, '2026-01-01', 'test')"))  # fmt: skip
        session.execute(text("INSERT INTO api_token (token_sha256, user_id, name, created_at) VALUES ('abc', 1, 'old', '2026-01-01')"))
        session.execute(text("INSERT INTO access_record (user_id, role, action, reason, at) VALUES (1, 'system_admin', 'x', 'y', '2026-01-01')"))
    migrate.upgrade(unmigrated)
    with unmigrated.read() as session:
        expires = session.scalar(select(ApiToken.expires_at))
        record = session.scalars(select(AccessRecord)).one()
    assert expires is not None and abs(expires - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)
    assert (record.actor, record.subject_user_id) == ("Sam Reed (sam@sunrise.test)", None)
    with unmigrated.write() as session:
        lifecycle.revoke_token(session, 1, by=Actor.command_line("test"))  # a row without a user
    if unmigrated.dialect == "sqlite":  # (PostgreSQL: the application role may not update it, as before)
        with pytest.raises(DBAPIError, match="append-only"), unmigrated.write() as session:
            session.execute(text("UPDATE access_record SET reason = 'changed'"))
    command.downgrade(migrate.alembic_config(unmigrated), "0014")
    migrate.upgrade(unmigrated)
    assert migrate.current_revision(unmigrated) == migrate.head_revision(unmigrated)


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
