"""The start page, signing in and signing out.

Signing in always starts a new session (a new id), and ends any session the browser had;
signing out ends the session on the server, so its id is dead even if a copy of the cookie
survives. The sign-in form is protected by a double-submit token (a random value in a
SameSite=Strict cookie and in the form) since there is no session yet. Tries are throttled
per username and per address (``ledger.access.throttle``: counted before the password is
checked, given back when it matches) and refused with 429 past the limit; the address is the
connection's, or the one a trusted proxy forwarded (``web.trusted_proxies``).
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledger.access.throttle import TooManyAttempts, count_try, give_back
from ledger.access.users import SESSION_HOURS, SignInRefused, authenticate, end_session, new_secret, record_failure, start_session
from ledger.store.database import Database
from ledger.store.tables.base import utcnow
from web.auth import SESSION_COOKIE, signed_of
from web.pages.access import ANY_SIGNED_IN
from web.pages.render import HOME, page

router = APIRouter(include_in_schema=False)
FORM_COOKIE = "phb_form"


def set_cookie(response: Response, name: str, value: str, *, max_age: int, same_site: str = "lax") -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, secure=True, samesite=same_site, path="/")  # type: ignore[arg-type]


def _safe_next(next_path: str | None) -> str | None:
    """Only a path on this site (no scheme, no other host): never an open redirect."""
    if next_path and next_path.startswith("/") and not next_path.startswith("//") and "\\" not in next_path:
        return next_path
    return None


@router.get("/", response_class=HTMLResponse)
async def start(request: Request) -> Response:
    signed = await signed_of(request)
    if signed is not None and signed.by_cookie:
        return RedirectResponse(HOME[signed.principal.role], status_code=303)
    return page(request, "start.html", title="Start", demo_users=getattr(request.app.state, "demo_users", ()))


def _sign_in_page(request: Request, *, next_path: str, username: str = "", errors: list | None = None, status_code: int = 200,
                  signed_out: bool = False) -> Response:  # fmt: skip
    token = new_secret()
    response = page(
        request, "sign_in.html", title="Sign in", form_token=token, next=next_path, username=username, errors=errors or [],
        signed_out=signed_out, status_code=status_code,
    )  # fmt: skip
    set_cookie(response, FORM_COOKIE, token, max_age=3600, same_site="strict")
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str | None = None, signed_out: bool = False) -> Response:
    return _sign_in_page(request, next_path=_safe_next(next) or "", signed_out=signed_out)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    username: str = Form(default="", max_length=200),
    password: str = Form(default="", max_length=400),
    csrf_token: str = Form(default="", max_length=200),
    next: str = Form(default="", max_length=2000),
) -> Response:
    expected = request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return page(request, "error.html", title="Form expired", heading="This form has expired",
                    message="Open the sign-in page again and sign in.", status_code=403)  # fmt: skip
    database: Database = request.app.state.database
    address = request.client.host if request.client else "unknown"
    try:
        token = await run_in_threadpool(_sign_in, database, username, password, address, request.cookies.get(SESSION_COOKIE))
    except TooManyAttempts as refused:
        minutes = refused.details.get("retry_after_seconds", 900) // 60
        return page(request, "error.html", title="Too many tries", heading="Too many tries to sign in",
                    message=f"Wait {minutes} minutes, then try again. If you have forgotten your password, ask whoever set up your sign-in.",
                    status_code=429, headers={"Retry-After": str(refused.details.get("retry_after_seconds", 900))})  # fmt: skip
    except SignInRefused:
        return _sign_in_page(request, next_path=_safe_next(next) or "", username=username,
                             errors=[("username", "Enter a username and password that match")], status_code=401)  # fmt: skip
    target = _safe_next(next) or "/"
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, SESSION_COOKIE, token, max_age=int(timedelta(hours=SESSION_HOURS).total_seconds()))
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


def _sign_in(database: Database, username: str, password: str, address: str, old_token: str | None) -> str:
    with database.write() as session:  # committed first: parallel tries see this one counted
        counted = count_try(session, username, address, now=utcnow())
    try:
        with database.write() as session:
            user = authenticate(session, username, password)
            give_back(session, counted)
            if old_token:
                end_session(session, old_token)
            return start_session(session, user).token
    except SignInRefused:
        with database.write() as session:  # kept, although the sign-in's own transaction is not
            record_failure(session, username, address)
        raise


@router.post("/sign-out")
async def sign_out(request: Request, _who=Depends(ANY_SIGNED_IN)) -> Response:  # type: ignore[no-untyped-def]
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        database: Database = request.app.state.database
        await run_in_threadpool(_end, database, token)
    response = RedirectResponse("/sign-in?signed_out=true", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _end(database: Database, token: str) -> None:
    with database.write() as session:
        end_session(session, token)
