"""Signing requests in, and the one gate every API request passes (``api_guard``).

A request acts for a principal: a browser by its session cookie (``phb_session``: Secure,
HttpOnly, SameSite=Lax), a machine client by ``Authorization: Bearer <API token>``. The gate:

1. no principal → 401 ``sign_in_required``;
2. a cookie-signed request that changes something must carry the session's CSRF token (the
   ``X-CSRF-Token`` header, or a form's ``csrf_token`` field) → else 403 ``csrf_failed``;
3. the role may use the route at all (``web.route_policy``) → else 403 ``forbidden`` for a
   write the role may not make; 404 for a family member reading anything but their own
   balance (never the data);
4. every record the request names — in its path, its query and its JSON body (a budget, a
   holder, a funder, a person, an account, a flag, a document, …) — must be one the principal
   may see (``ledger.access.visibility``) → else the very 404 a record that does not exist gets;
5. a family member's change on a route for direct payments only must name records of a
   budget with a direct payment → else 403 ``direct_payment_only``.

A deactivated user's credentials, and a revoked or expired token, sign nobody in (401); a
user whose password is an admin-set one-time one may only change it (403
``password_change_required``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ledger.access import visibility as access
from ledger.access.resources import RESOLVERS, require_visible
from ledger.access.users import csrf_matches, needs_touch, session_user, token_user, touch_session, touch_token
from ledger.access.visibility import Principal
from ledger.budgets.budget import has_direct_payment
from ledger.errors import LedgerError, NotFound
from ledger.store.database import Database
from web.route_policy import PREFIX as API_PREFIX
from web.route_policy import FamilyWrites, policy_for

SESSION_COOKIE = "phb_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ID_PARAMETERS = ("budget_id", "holder_id", "funder_id", "person_id")
NUL = "\x00"


class SignInRequired(LedgerError):
    status_code = 401
    default_code = "sign_in_required"


class Forbidden(LedgerError):
    status_code = 403
    default_code = "forbidden"


class PasswordChangeRequired(LedgerError):
    status_code = 403
    default_code = "password_change_required"


class CsrfFailed(LedgerError):
    status_code = 403
    default_code = "csrf_failed"


@dataclass(frozen=True, slots=True)
class Signed:
    principal: Principal
    by_cookie: bool
    csrf_token: str | None = None
    session_token: str | None = None
    must_change_password: bool = False


def read_signed(database: Database, authorization: str | None, cookie: str | None) -> Signed | None:
    """The principal of a request's credentials (bearer token first), or None. A read; a
    short write only when a session's expiry or a token's last use is due to move on, so
    requests do not queue on SQLite's write lock to be signed in."""
    with database.read() as session:
        if authorization and authorization.lower().startswith("bearer "):
            found_token = token_user(session, authorization[7:].strip())
            if found_token is None:
                return None
            token_row, user = found_token
            signed = Signed(Principal.of(user), by_cookie=False, must_change_password=user.must_change_password)
            touch = (touch_token, token_row.id) if needs_touch(token_row) else None
        elif cookie:
            found = session_user(session, cookie)
            if found is None:
                return None
            row, user = found
            signed = Signed(Principal.of(user), by_cookie=True, csrf_token=row.csrf_token, session_token=cookie,
                            must_change_password=user.must_change_password)  # fmt: skip
            touch = (touch_session, row.id) if needs_touch(row) else None
        else:
            return None
    if touch is not None:
        with database.write() as session:
            touch[0](session, touch[1])
    return signed


async def signed_of(request: Request) -> Signed | None:
    if not hasattr(request.state, "signed"):
        database: Database = request.app.state.database
        request.state.signed = await run_in_threadpool(
            read_signed, database, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
        )
    return request.state.signed


def principal(request: Request) -> Principal:
    """The principal of a request that passed the gate (for handlers)."""
    signed = getattr(request.state, "signed", None)
    assert signed is not None, "api_guard runs before every API handler"
    return signed.principal


class NulCharacter(LedgerError):
    status_code = 422
    default_code = "text_has_nul"


async def refuse_nul(request: Request) -> None:
    """No text the service keeps may hold a NUL character (PostgreSQL cannot store one): one
    in the address, the query, a form's fields or the name of a file sent is refused before
    any handler sees it, naming the field. (A file's content may hold any bytes; a statement
    file's lines are checked by ``ledger.statements.line_checks``, which names the line. A
    JSON body's text fields are checked by the ledger's own field checks.)"""
    if NUL in request.url.path:
        raise NulCharacter("the address cannot contain a NUL character", field="path")
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise NulCharacter(f"{_shown(name)} cannot contain a NUL character", field=_shown(name))
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")) and request.method.upper() in UNSAFE_METHODS:
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str):
                if NUL in name or NUL in value:
                    raise NulCharacter(f"{_shown(name)} cannot contain a NUL character", field=_shown(name))
            elif NUL in (value.filename or ""):
                raise NulCharacter(f"the name of the file sent as {_shown(name)} cannot contain a NUL character", field=_shown(name))


def _shown(name: str) -> str:
    return name.replace(NUL, "\\0")[:100]


async def api_guard(request: Request) -> None:
    await refuse_nul(request)
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    if not path.startswith(API_PREFIX):
        path = API_PREFIX + path  # the API router's own routes carry their path without its prefix
    method = request.method.upper()
    policy = policy_for(method, path)
    if policy.public:
        return
    signed = await signed_of(request)
    if signed is None:
        raise SignInRequired("sign in first: send a session cookie or an API token (Authorization: Bearer …)")
    if method in UNSAFE_METHODS and signed.by_cookie:
        await _check_csrf(request, signed)
    if signed.must_change_password and not policy.open_before_password_change:
        raise PasswordChangeRequired(f"choose your own password first: POST {API_PREFIX}/account/password with the one-time password you were given")
    who = signed.principal
    if who.is_family and not policy.family:
        raise NotFound(f"there is nothing at {request.url.path} for a family member's sign-in", code="not_found")
    if method in UNSAFE_METHODS and not policy.writers.allow(who.role):
        raise Forbidden(f"a {who.role.replace('_', ' ')} may not do this")
    named = dict(request.path_params)
    for name in (*ID_PARAMETERS, *RESOLVERS):
        value = request.query_params.get(name)
        if value is not None and name not in named and name != "code":
            named[name] = value
    named.update(await _body_ids(request))
    budget_ids = await run_in_threadpool(_check_visible, request.app.state.database, who, named) if named else set()
    if method in UNSAFE_METHODS and who.is_family and policy.writers.family is FamilyWrites.DIRECT_PAYMENT:
        await run_in_threadpool(require_direct_payment, request.app.state.database, budget_ids)


async def _check_csrf(request: Request, signed: Signed) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if signed.csrf_token is None or not csrf_matches(signed.csrf_token, given):
        raise CsrfFailed("this form is out of date or did not come from this service: open the page again and resend")


async def _body_ids(request: Request) -> dict[str, Any]:
    """The budget, holder, funder and person a JSON body names."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        return {}
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {name: body[name] for name in ID_PARAMETERS if isinstance(body.get(name), int) and not isinstance(body.get(name), bool)}


_DIGITS = re.compile(r"[0-9]{1,19}")
BIG_IDS = frozenset({"entry_id", "flag_id", "line_id"})
"""Ids of the tables that may outgrow 32 bits (the journal, flags, statement lines)."""


def _as_id(value: Any, name: str) -> int | None:
    """An id the route itself would accept; anything else is left to its validation (422)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number: int | None = value
    else:
        number = int(value) if isinstance(value, str) and _DIGITS.fullmatch(value) else None
    ceiling = 9_223_372_036_854_775_807 if name in BIG_IDS else 2_147_483_647
    return number if number is not None and 1 <= number <= ceiling else None


def _check_visible(database: Database, who: Principal, named: dict[str, Any]) -> set[int]:
    """Raise the not-found of the first named record ``who`` may not see; else the budgets the
    named records belong to. Values that are not ids are left to the route's own validation
    (422)."""
    budget_ids: set[int] = set()
    with database.read() as session:
        for name, raw in named.items():
            if name in ID_PARAMETERS:
                value = _as_id(raw, name)
                if value is None:
                    continue
                {
                    "budget_id": access.require_budget, "holder_id": access.require_holder,
                    "funder_id": access.require_funder, "person_id": access.require_person,
                }[name](session, who, value)  # fmt: skip
                if name == "budget_id":
                    budget_ids.add(value)
            elif name in RESOLVERS:
                value = raw if name == "code" else _as_id(raw, name)
                if value is None:
                    continue
                budget_ids |= require_visible(session, who, name, value).budget_ids
    return budget_ids


class DirectPaymentOnly(LedgerError):
    status_code = 403
    default_code = "direct_payment_only"


def require_direct_payment(database: Database, budget_ids: set[int]) -> None:
    """A family member's change on a direct payment's route: every budget it names must have a
    direct payment (its holder keeps the books of any other)."""
    with database.read() as session:
        if not budget_ids or not all(has_direct_payment(session, budget_id) for budget_id in budget_ids):
            raise DirectPaymentOnly(
                "only a family managing a direct payment sends its statements and answers its flags; the holder does this for this budget"
            )
