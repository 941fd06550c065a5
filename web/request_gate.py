"""Signing in is checked before a request's body is read: a request that changes something
(POST, PUT, PATCH, DELETE), on any route but the sign-in form's, is answered at once when its
headers carry no live session cookie or API token — 401 from the API, the sign-in page for a
page's form — so nobody can make the service receive a large upload without signing in.

The principal found is kept on the request (``request.state.signed``), so the route's own
gate (``web.auth.api_guard``, ``web.pages.access.requires``) does not look it up again and
still decides everything else: CSRF, the role, what may be seen. Only that the request is
signed in at all is decided here.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.access.users import TokenRefused
from ledger.errors import LedgerError
from ledger.store.database import Database
from web.auth import SESSION_COOKIE, UNSAFE_METHODS, SignInRequired, read_signed
from web.pages.access import sign_in_address

OPEN_WRITES = frozenset({"/sign-in"})
"""Paths that take a body from someone not signed in: the sign-in form."""
SIGN_IN_FIRST = "sign in first: send a session cookie or an API token (Authorization: Bearer …)"


class SignInGate:
    def __init__(self, app: ASGIApp, *, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].upper() not in UNSAFE_METHODS or scope["path"] in OPEN_WRITES:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        is_api = scope["path"].startswith("/api/")
        try:
            signed = await run_in_threadpool(
                read_signed, self.database, connection.headers.get("authorization"), connection.cookies.get(SESSION_COOKIE)
            )
        except TokenRefused as refused:  # expired or revoked: said as the API's own gate says it
            await _sign_in_first(scope, receive, send, is_api=is_api, refusal=refused)
            return
        if signed is None or not (is_api or signed.by_cookie):
            await _sign_in_first(scope, receive, send, is_api=is_api)
            return
        scope.setdefault("state", {})["signed"] = signed
        await self.app(scope, receive, send)


async def _sign_in_first(scope: Scope, receive: Receive, send: Send, *, is_api: bool, refusal: LedgerError | None = None) -> None:
    """Answered without reading the body (a plain response never reads it)."""
    if is_api:
        refusal = refusal or SignInRequired(SIGN_IN_FIRST)
        body = json.dumps(refusal.as_dict()).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": refusal.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope["path"] + (f"?{query}" if query else "")
    await RedirectResponse(sign_in_address(target), status_code=303)(scope, receive, send)
