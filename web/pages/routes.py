"""Every router of pages, in the order the app includes them: signing in first, then each
kind of user's pages (``router`` of each module)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from fastapi import APIRouter

PAGE_MODULES = (
    "web.pages.session_routes",
    "web.pages.holder_pages",
    "web.pages.funder_pages",
    "web.pages.family_pages",
    "web.pages.admin_pages",
    "web.pages.admin_user",
    "web.pages.account_pages",
)


def page_routers() -> list[APIRouter]:
    """The routers of the page modules this installation has."""
    return [import_module(name).router for name in PAGE_MODULES if find_spec(name) is not None]
