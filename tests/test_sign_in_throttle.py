"""Signing in under attack: the password is checked as often for an unknown or deactivated
username as for a known one (so timing tells nothing); 60 wrong passwords sent at once get
exactly the limit of tries, then 429, on SQLite and PostgreSQL; a locked username does not
lock its address for others; and a forwarded address is believed from a trusted proxy only.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ledger.access import users
from ledger.access.throttle import ADDRESS_TRIES, USERNAME_TRIES
from ledger.access.users import SignInRefused, UserSpec, authenticate, create_user
from ledger.store.database import Database
from ledger.store.tables.access import SignInFailure, UserAccount
from ledger.store.tables.sign_in_throttle import SignInThrottle
from web.app import create_app
from web.trusted_proxies import TrustedProxies, TrustedProxiesInvalid

PASSWORD = "correct horse battery staple"
PARALLEL_TRIES = 60


def _user(db: Database, username: str = "pat@holder.test", *, active: bool = True) -> None:
    with db.write() as session:
        user = create_user(session, UserSpec(username, "Pat Example", "system_admin", PASSWORD), created_by="test")
        if not active:
            session.execute(update(UserAccount).where(UserAccount.id == user.id).values(active=False))


def _client(app: FastAPI, address: str = "192.0.2.30") -> TestClient:
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=False, client=(address, 50000))


def _form_token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert found is not None
    return found.group(1)


def _try(client: TestClient, username: str, password: str, token: str | None = None, **headers: str) -> Any:
    data = {"username": username, "password": password, "csrf_token": token or _form_token(client), "next": ""}
    return client.post("/sign-in", data=data, headers=headers, follow_redirects=False)


# --- timing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["known", "unknown", "deactivated", "empty"])
def test_the_password_is_checked_once_whatever_the_username(db: Database, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """Checking a password (argon2id) is what takes the time: it happens exactly once for an
    unknown or deactivated username too, against a dummy hash."""
    _user(db, "pat@holder.test", active=case != "deactivated")
    checked: list[str] = []
    real = users._password_matches

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(users, "_password_matches", counting)
    username = {"known": "pat@holder.test", "unknown": "nobody@holder.test", "deactivated": "pat@holder.test", "empty": ""}[case]
    with db.write() as session:
        if case == "known":
            assert authenticate(session, username, PASSWORD).username == username
        else:
            with pytest.raises(SignInRefused):
                authenticate(session, username, PASSWORD)
    assert len(checked) == 1, checked
    assert (checked[0] == users._DUMMY_HASH) is (case != "known")


# --- parallel tries --------------------------------------------------------------------------


def test_60_wrong_passwords_at_once_get_exactly_the_limit_of_tries(db: Database) -> None:
    _user(db)
    app = create_app(db, migrate_on_start=False)
    clients = [_client(app) for _ in range(PARALLEL_TRIES)]
    tokens = [_form_token(client) for client in clients]
    start = threading.Barrier(PARALLEL_TRIES)

    def one_try(index: int) -> int:
        start.wait()
        return _try(clients[index], "pat@holder.test", f"wrong password {index}", tokens[index]).status_code

    with ThreadPoolExecutor(PARALLEL_TRIES) as pool:
        answers = Counter(pool.map(one_try, range(PARALLEL_TRIES)))
    assert answers == {401: USERNAME_TRIES, 429: PARALLEL_TRIES - USERNAME_TRIES}, answers
    with db.read() as session:
        counters = {row.kind: row.tries for row in session.scalars(select(SignInThrottle))}
        failures = len(session.scalars(select(SignInFailure)).all())
    assert counters == {"username": USERNAME_TRIES, "address": USERNAME_TRIES}, "a refused try was left counted"
    assert failures == USERNAME_TRIES
    assert _try(_client(app, "192.0.2.31"), "pat@holder.test", PASSWORD).status_code == 429, "the right password after the limit"


def test_a_right_password_is_not_counted_as_a_try(db: Database) -> None:
    _user(db)
    app = create_app(db, migrate_on_start=False)
    client = _client(app)
    for _ in range(USERNAME_TRIES - 1):
        assert _try(client, "pat@holder.test", "wrong").status_code == 401
    for _ in range(3):
        assert _try(client, "pat@holder.test", PASSWORD).status_code == 303
    assert _try(client, "pat@holder.test", "wrong").status_code == 401, "the tenth failure is still a try"
    assert _try(client, "pat@holder.test", PASSWORD).status_code == 429


def test_an_address_has_its_own_larger_limit(db: Database) -> None:
    """Someone guessing one username locks that username, not everyone at their address; many
    usernames from one address lock the address at its own limit."""
    _user(db)
    _user(db, "sam@holder.test")
    app = create_app(db, migrate_on_start=False)
    office = _client(app, "192.0.2.40")
    for _ in range(USERNAME_TRIES):
        assert _try(office, "pat@holder.test", "wrong").status_code == 401
    assert _try(office, "pat@holder.test", "wrong").status_code == 429
    assert _try(office, "sam@holder.test", PASSWORD).status_code == 303, "a locked username locked its whole address"
    for index in range(ADDRESS_TRIES - USERNAME_TRIES):
        assert _try(office, f"guess{index}@holder.test", "wrong").status_code == 401, index
    assert _try(office, "sam@holder.test", PASSWORD).status_code == 429
    assert _try(_client(app, "192.0.2.41"), "sam@holder.test", PASSWORD).status_code == 303


# --- forwarded addresses ---------------------------------------------------------------------


def _failure_addresses(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(SignInFailure.address).order_by(SignInFailure.id)))


def test_a_forwarded_address_is_believed_from_a_trusted_proxy_only(db: Database) -> None:
    app = create_app(db, migrate_on_start=False, trusted_proxies=TrustedProxies(["10.0.0.0/8", "2001:db8::1"]))
    _try(_client(app, "192.0.2.50"), "nobody@x.test", "wrong", **{"X-Forwarded-For": "203.0.113.9"})
    _try(_client(app, "10.1.2.3"), "nobody@x.test", "wrong", **{"X-Forwarded-For": "203.0.113.9"})
    # The client wrote the leftmost address; the proxy appended the one it saw.
    _try(_client(app, "10.1.2.3"), "nobody@x.test", "wrong", **{"X-Forwarded-For": "198.51.100.1, 203.0.113.10, 10.9.9.9"})
    _try(_client(app, "2001:db8::1"), "nobody@x.test", "wrong", **{"X-Forwarded-For": "2001:db8::77"})
    _try(_client(app, "10.1.2.3"), "nobody@x.test", "wrong", **{"X-Forwarded-For": "not an address"})
    assert _failure_addresses(db) == ["192.0.2.50", "203.0.113.9", "203.0.113.10", "2001:db8::77", "10.1.2.3"]


def test_behind_a_trusted_proxy_each_client_has_its_own_address_limit(db: Database) -> None:
    _user(db)
    app = create_app(db, migrate_on_start=False, trusted_proxies=TrustedProxies(["10.0.0.1"]))
    proxy = _client(app, "10.0.0.1")
    for index in range(ADDRESS_TRIES):
        assert _try(proxy, f"guess{index}@x.test", "wrong", **{"X-Forwarded-For": "203.0.113.66"}).status_code == 401
    assert _try(proxy, "pat@holder.test", PASSWORD, **{"X-Forwarded-For": "203.0.113.66"}).status_code == 429
    assert _try(proxy, "pat@holder.test", PASSWORD, **{"X-Forwarded-For": "203.0.113.67"}).status_code == 303


def test_by_default_no_proxy_is_trusted(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHB_LEDGER_TRUSTED_PROXIES", raising=False)
    app = create_app(db, migrate_on_start=False)
    _try(_client(app, "127.0.0.1"), "nobody@x.test", "wrong", **{"X-Forwarded-For": "203.0.113.9"})
    monkeypatch.setenv("PHB_LEDGER_TRUSTED_PROXIES", "127.0.0.1, ::1")
    app = create_app(db, migrate_on_start=False)
    _try(_client(app, "127.0.0.1"), "nobody@x.test", "wrong", **{"X-Forwarded-For": "203.0.113.9"})
    assert _failure_addresses(db) == ["127.0.0.1", "203.0.113.9"]


def test_a_trusted_proxy_that_is_not_an_address_is_refused_by_name() -> None:
    with pytest.raises(TrustedProxiesInvalid, match="'proxy.internal' is not an IP address"):
        TrustedProxies(["10.0.0.1", "proxy.internal"])
