"""Rendering a page: the Jinja2 environment (autoescaped), the filters every page uses, and
what every page knows (the branding, who is signed in, their CSRF token, the menu)."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ledger.access.visibility import Principal, Role
from reports.branding import branding_from_environment
from reports.document import ValueKind
from reports.formatting import day_text, display, money_text, tenths_text, whole_pounds_text
from reports.pictures import picture_for_category, picture_svg

TEMPLATES = Path(__file__).parent / "templates"
_CSRF_TOKEN: ContextVar[str] = ContextVar("csrf_token", default="")
"""The page being rendered's CSRF token, for the ``csrf()`` macro (an imported macro does not
see the template's own variables)."""
MENUS: dict[Role, list[tuple[str, str]]] = {
    Role.HOLDER_ADMIN: [("Budgets", "/holder"), ("Statements", "/holder/statements"), ("Unmatched", "/holder/unmatched"), ("Flags", "/holder/flags"), ("Reviews", "/holder/reviews")],
    Role.HOLDER_STAFF: [("Budgets", "/holder"), ("Statements", "/holder/statements"), ("Unmatched", "/holder/unmatched"), ("Flags", "/holder/flags"), ("Reviews", "/holder/reviews")],
    Role.FUNDER_AUDITOR: [("Exceptions", "/funder"), ("Tracker", "/funder/tracker"), ("Budgets", "/funder/budgets"), ("Flags", "/funder/flags"), ("Returns and packs", "/funder/downloads")],
    Role.FAMILY: [("Your money", "/family")],
    Role.SYSTEM_ADMIN: [("Users", "/admin/users")],
}
HOME: dict[Role, str] = {
    Role.HOLDER_ADMIN: "/holder", Role.HOLDER_STAFF: "/holder", Role.FUNDER_AUDITOR: "/funder", Role.FAMILY: "/family", Role.SYSTEM_ADMIN: "/admin/users",
}  # fmt: skip


def _day(value: object) -> str:
    if isinstance(value, datetime):
        return day_text(value.date())
    return day_text(value) if isinstance(value, date) else ""


def _moment(value: object) -> str:
    """A stored UTC time as people read it: "7 Dec 2026, 23:40 UTC"."""
    return f"{value.day} {value:%b %Y, %H:%M} UTC" if isinstance(value, datetime) else "—"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=money_text, pounds=whole_pounds_text, day=_day, moment=_moment, weeks=tenths_text, picture=picture_svg,
        category_picture=lambda code: picture_svg(picture_for_category(code)),
        show=lambda value, kind: display(value, ValueKind(kind)),
    )  # fmt: skip
    env.globals["csrf_value"] = _CSRF_TOKEN.get
    return env


def page(request: Request, template: str, *, title: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    signed = getattr(request.state, "signed", None)
    who: Principal | None = signed.principal if signed is not None else None
    _CSRF_TOKEN.set(signed.csrf_token if signed is not None and signed.csrf_token else "")
    html = environment().get_template(template).render(
        title=title,
        branding=branding_from_environment(),
        who=who,
        csrf_token=signed.csrf_token if signed is not None else "",
        navigation=MENUS.get(who.role, []) if who else [],
        current=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response
