"""The system admin's pages: every sign-in, adding one (a holder's admin or staff, a funder's
auditor, a family member, another admin), linking a family member to a budget on their
recorded legal basis, and issuing an API token for a machine client (shown once, with an
expiry). One sign-in's own page, and what changes it, is ``web.pages.admin_user``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ledger.access.lifecycle import issue_token
from ledger.access.log import Actor
from ledger.access.users import TOKEN_DAYS_DEFAULT, UserSpec, create_user, get_user, link_family, list_users
from ledger.access.visibility import Principal
from ledger.budgets.budget import budget_by_reference
from ledger.budgets.parties import list_funders, list_holders
from ledger.errors import LedgerError
from ledger.store.tables import Budget, Representative
from ledger.store.tables.access import ROLES, FamilyLink
from web.pages.access import ADMIN_PAGES
from web.pages.admin_user import ROLE_WORDS, user_page
from web.pages.render import page

router = APIRouter(include_in_schema=False)


def _database(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.database


def _users_page(request: Request, *, errors: list | None = None, form: dict | None = None, token: str | None = None, status_code: int = 200) -> Response:
    with _database(request).read() as session:
        users = list_users(session)
        links = {}
        for link_user, reference in session.execute(select(FamilyLink.user_id, Budget.reference).join(Budget, FamilyLink.budget_id == Budget.id)):
            links.setdefault(link_user, []).append(reference)
        holders, funders = list_holders(session), list_funders(session)
    return page(
        request, "admin/users.html", title="Users", users=users, links=links, holders=holders, funders=funders, roles=ROLES,
        role_words=ROLE_WORDS, errors=errors or [], form=form or {}, token=token, status_code=status_code,
    )  # fmt: skip


@router.get("/admin/users")
def users(request: Request, _who: Principal = Depends(ADMIN_PAGES)) -> Response:
    return _users_page(request)


@router.post("/admin/users")
def add_user(
    request: Request,
    username: str = Form(default="", max_length=200), display_name: str = Form(default="", max_length=300),
    role: str = Form(default=""), password: str = Form(default="", max_length=400),
    holder_id: str = Form(default=""), funder_id: str = Form(default=""),
    who: Principal = Depends(ADMIN_PAGES),
) -> Response:  # fmt: skip
    form = {"username": username, "display_name": display_name, "role": role, "holder_id": holder_id, "funder_id": funder_id}
    try:
        with _database(request).write() as session:
            create_user(
                session,
                UserSpec(username, display_name, role, password, int(holder_id) if holder_id.isdigit() else None, int(funder_id) if funder_id.isdigit() else None),
                created_by=who.display_name,
            )  # fmt: skip
    except LedgerError as refused:
        return _users_page(request, errors=[(refused.field or "username", refused.message)], form=form, status_code=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/links")
def add_link(
    request: Request, user_id: int, budget: str = Form(default="", max_length=40), as_person: str = Form(default=""),
    who: Principal = Depends(ADMIN_PAGES),
) -> Response:  # fmt: skip
    try:
        with _database(request).write() as session:
            get_user(session, user_id)
            found = budget_by_reference(session, budget.strip())
            representative = None
            if not as_person:
                user = get_user(session, user_id)
                representative = session.scalar(
                    select(Representative.id).where(Representative.person_id == found.person_id, Representative.name == user.display_name).limit(1)
                )
                if representative is None:
                    raise LedgerError(
                        f"{user.display_name} is not a recorded representative of {found.reference}'s person: record them first, or link them as the person",
                        code="representative_not_recorded", field="budget",
                    )  # fmt: skip
            link_family(session, user_id, found.id, representative_id=representative, created_by=who.display_name)
    except LedgerError as refused:
        return _users_page(request, errors=[("budget", refused.message)], status_code=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/tokens")
def add_token(
    request: Request, user_id: int, name: str = Form(default="", max_length=120), expires_in_days: str = Form(default="", max_length=10),
    who: Principal = Depends(ADMIN_PAGES),
) -> Response:  # fmt: skip
    days = int(expires_in_days) if expires_in_days.strip().isdigit() else TOKEN_DAYS_DEFAULT
    try:
        with _database(request).write() as session:
            token, _view = issue_token(session, user_id, name=name or "API client", expires_in_days=days, by=Actor.of(who))
    except LedgerError as refused:
        if refused.status_code == 404:
            raise
        return user_page(request, user_id, who, errors=[(refused.field if refused.field == "expires_in_days" else "name", refused.message)],
                         status_code=422)  # fmt: skip
    return user_page(request, user_id, who, token=token)
