"""Every signed-in user's own account: who they are, changing their password (the current one
asked for), and their API tokens with their last use, each revocable. A user whose password
is an admin-set one-time one is sent to the change-password page from every other page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ledger.access import lifecycle
from ledger.access.log import Actor
from ledger.access.users import PASSWORD_LENGTH_MIN, get_user
from ledger.access.visibility import Principal
from ledger.errors import LedgerError, NotFound
from web.auth import Signed
from web.pages.access import ANY_SIGNED_IN
from web.pages.admin_user import ROLE_WORDS
from web.pages.render import HOME, page
from web.password_change import change_password

router = APIRouter(include_in_schema=False)


def _account_page(request: Request, who: Principal, *, errors: list | None = None, notice: str | None = None, status_code: int = 200) -> Response:
    with request.app.state.database.read() as session:
        user = get_user(session, who.user_id)
        tokens = lifecycle.user_tokens(session, who.user_id)
    return page(request, "account/account.html", title="Your account", user=user, tokens=tokens, role_words=ROLE_WORDS,
                errors=errors or [], notice=notice, status_code=status_code)  # fmt: skip


@router.get("/account")
def account(request: Request, changed: bool = False, who: Principal = Depends(ANY_SIGNED_IN)) -> Response:
    return _account_page(request, who, notice="Your password has been changed. You have been signed out everywhere else." if changed else None)


def _password_page(request: Request, *, errors: list | None = None, status_code: int = 200) -> Response:
    signed: Signed = request.state.signed
    return page(request, "account/password.html", title="Change your password", one_time=signed.must_change_password,
                password_length_min=PASSWORD_LENGTH_MIN, errors=errors or [], status_code=status_code)  # fmt: skip


@router.get("/account/password")
def password_form(request: Request, _who: Principal = Depends(ANY_SIGNED_IN)) -> Response:
    return _password_page(request)


@router.post("/account/password")
def password(
    request: Request,
    current_password: str = Form(default="", max_length=400), new_password: str = Form(default="", max_length=400),
    confirm_password: str = Form(default="", max_length=400),
    who: Principal = Depends(ANY_SIGNED_IN),
) -> Response:  # fmt: skip
    signed: Signed = request.state.signed
    if new_password != confirm_password:
        return _password_page(request, errors=[("confirm_password", "Enter the same new password twice")], status_code=422)
    address = request.client.host if request.client else "unknown"
    try:
        change_password(request.app.state.database, signed, current=current_password, new=new_password, address=address)
    except LedgerError as refused:
        field = {"current_password": "current_password"}.get(refused.field or "", "new_password")
        return _password_page(request, errors=[(field, refused.message)], status_code=refused.status_code)
    target = HOME[who.role] if signed.must_change_password else "/account?changed=true"
    return RedirectResponse(target, status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, reason: str = Form(default="", max_length=300), who: Principal = Depends(ANY_SIGNED_IN)) -> Response:
    """One's own token only: anyone else's is not there (the system admin revokes others' on the user's page)."""
    try:
        with request.app.state.database.write() as session:
            if lifecycle.get_token(session, token_id).user_id != who.user_id:
                raise NotFound(f"there is no API token {token_id}", code="token_not_found")
            lifecycle.revoke_token(session, token_id, by=Actor.of(who), reason=reason or None)
    except LedgerError as refused:
        if refused.status_code == 404:
            raise
        return _account_page(request, who, errors=[("tokens", refused.message)], status_code=refused.status_code)
    return RedirectResponse("/account", status_code=303)
