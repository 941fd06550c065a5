"""The gate every page passes: who is signed in (else the sign-in page), whether their role
has pages here (else the same 404 as a page that does not exist), and for a form that
changes something, the session's CSRF token and whether the role may make that change
(``web.route_policy``, the table the API's gate asks too). What they may see inside a page
is then asked of ``ledger.access.visibility`` with the same principal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ledger.access.visibility import Principal, Role
from ledger.errors import NotFound
from web.auth import UNSAFE_METHODS, Signed, _check_csrf, refuse_nul, require_direct_payment, signed_of
from web.route_policy import FamilyWrites, policy_for, writers_of


class ChangePasswordFirst(Exception):
    """A page asked for by a user whose password is an admin-set one-time one: answered with
    a redirect to the page where they choose their own."""


class SignInFirst(Exception):
    """A page asked for without signing in: answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sign_in_address(next_path: str) -> str:
    return f"/sign-in?next={quote(next_path, safe='/?=&')}"


def requires(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A page dependency: the signed-in principal, of one of ``roles`` (any when none)."""

    async def gate(request: Request) -> Principal:
        await refuse_nul(request)
        signed: Signed | None = await signed_of(request)
        if signed is None or not signed.by_cookie:
            raise SignInFirst(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if signed.must_change_password and not policy_for(request.method, _route_path(request)).open_before_password_change:
            raise ChangePasswordFirst()
        if roles and signed.principal.role not in roles:
            raise NotFound("there is no such page", code="not_found")
        if request.method.upper() in UNSAFE_METHODS:
            await _check_csrf(request, signed)
            await _check_writers(request, signed.principal)
        return signed.principal

    return gate


def _route_path(request: Request) -> str:
    return getattr(request.scope.get("route"), "path", request.url.path)


async def _check_writers(request: Request, who: Principal) -> None:
    writers = writers_of(request.method, _route_path(request))
    if not writers.allow(who.role):
        raise NotFound("there is no such page", code="not_found")
    if who.is_family and writers.family is FamilyWrites.DIRECT_PAYMENT:
        budget_id = request.path_params.get("budget_id")
        budget_ids = {int(budget_id)} if isinstance(budget_id, str) and budget_id.isdigit() else set()
        await run_in_threadpool(require_direct_payment, request.app.state.database, budget_ids)


HOLDER_PAGES = requires(Role.HOLDER_ADMIN, Role.HOLDER_STAFF)
FUNDER_PAGES = requires(Role.FUNDER_AUDITOR)
FAMILY_PAGES = requires(Role.FAMILY)
ADMIN_PAGES = requires(Role.SYSTEM_ADMIN)
ANY_SIGNED_IN = requires()
