"""Every router of pages, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    from web.pages import session_routes

    return [session_routes.router]
