"""The system admin's page for one sign-in: whether it is active, its API tokens with their
last use, what was done to it and by whom (the access record), and the buttons that change
it — deactivate, reactivate, set a one-time password, issue or revoke a token. Every form
carries the session's CSRF token; who may post is ``web.route_policy``'s."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ledger.access import lifecycle
from ledger.access.log import Actor
from ledger.access.users import PASSWORD_LENGTH_MIN, TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX, get_user
from ledger.access.visibility import Principal
from ledger.errors import LedgerError
from ledger.store.tables import Budget
from ledger.store.tables.access import AccessRecord, FamilyLink
from web.pages.access import ADMIN_PAGES
from web.pages.render import page

router = APIRouter(include_in_schema=False)
ROLE_WORDS = {
    "holder_admin": "Holder admin", "holder_staff": "Holder staff", "funder_auditor": "Funder auditor",
    "family": "Family", "system_admin": "System admin",
}  # fmt: skip
HISTORY_ROWS = 30


def user_page(
    request: Request, user_id: int, who: Principal, *, errors: list | None = None, token: str | None = None, notice: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    with request.app.state.database.read() as session:
        user = get_user(session, user_id)
        tokens = lifecycle.user_tokens(session, user_id)
        links = list(session.scalars(select(Budget.reference).join(FamilyLink, FamilyLink.budget_id == Budget.id).where(FamilyLink.user_id == user_id)))
        history = list(session.scalars(
            select(AccessRecord).where(AccessRecord.subject_user_id == user_id).order_by(AccessRecord.at.desc(), AccessRecord.id.desc()).limit(HISTORY_ROWS)
        ))  # fmt: skip
    return page(
        request, "admin/user.html", title=user.display_name, user=user, tokens=tokens, links=links, history=history, role_words=ROLE_WORDS,
        is_self=user.id == who.user_id, errors=errors or [], token=token, notice=notice, password_length_min=PASSWORD_LENGTH_MIN,
        token_days_default=TOKEN_DAYS_DEFAULT, token_days_max=TOKEN_DAYS_MAX, status_code=status_code,
    )  # fmt: skip


@router.get("/admin/users/{user_id}")
def user(request: Request, user_id: int, who: Principal = Depends(ADMIN_PAGES)) -> Response:
    return user_page(request, user_id, who)


def _change(request: Request, user_id: int, who: Principal, anchor: str, change) -> Response:  # type: ignore[no-untyped-def]
    """Make ``change`` in a transaction of its own; back to the user's page, or the page again
    with the refusal, linked to the form that was sent (``anchor``)."""
    try:
        with request.app.state.database.write() as session:
            change(session)
    except LedgerError as refused:
        if refused.status_code == 404:
            raise
        return user_page(request, user_id, who, errors=[(anchor, refused.message)], status_code=refused.status_code)
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/admin/users/{user_id}/deactivate")
def deactivate(request: Request, user_id: int, reason: str = Form(default="", max_length=300), who: Principal = Depends(ADMIN_PAGES)) -> Response:
    return _change(request, user_id, who, "reason",
                   lambda session: lifecycle.deactivate_user(session, user_id, by=Actor.of(who), reason=reason))  # fmt: skip


@router.post("/admin/users/{user_id}/reactivate")
def reactivate(request: Request, user_id: int, reason: str = Form(default="", max_length=300), who: Principal = Depends(ADMIN_PAGES)) -> Response:
    return _change(request, user_id, who, "reactivate-reason",
                   lambda session: lifecycle.reactivate_user(session, user_id, by=Actor.of(who), reason=reason))  # fmt: skip


@router.post("/admin/users/{user_id}/one-time-password")
def one_time_password(
    request: Request, user_id: int, password: str = Form(default="", max_length=400), who: Principal = Depends(ADMIN_PAGES)
) -> Response:
    return _change(request, user_id, who, "password",
                   lambda session: lifecycle.set_one_time_password(session, user_id, password=password, by=Actor.of(who)))  # fmt: skip


@router.post("/admin/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, reason: str = Form(default="", max_length=300), who: Principal = Depends(ADMIN_PAGES)) -> Response:
    with request.app.state.database.read() as session:
        owner = lifecycle.get_token(session, token_id).user_id
    return _change(request, owner, who, "tokens",
                   lambda session: lifecycle.revoke_token(session, token_id, by=Actor.of(who), reason=reason or None))  # fmt: skip
