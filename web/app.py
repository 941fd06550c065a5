"""The FastAPI application: the JSON API under ``/api/v1`` and its OpenAPI document.

``create_app(database)`` migrates the database when the app starts (so a new or older
database is brought up to date before the first request) and serves every area's router.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from ledger.store import migrate
from ledger.store.database import Database
from reports.render_html import report_css
from web.api import (
    balances,
    budget_money,
    budgets,
    closing,
    drawdowns,
    family,
    flags,
    journal,
    parties,
    payables,
    plans,
    position,
    receipts,
    reconciliation,
    reports,
    reviews,
    statements,
    users,
)
from web.auth import api_guard
from web.errors import install_error_handlers
from web.limits import BodySizeLimit
from web.pages.routes import page_routers
from web.request_gate import SignInGate
from web.scheduler import SchedulerService
from web.security_headers import SecurityHeaders
from web.self_hosted_assets import SelfContainedStaticFiles, serve_api_docs
from web.trusted_proxies import ForwardedByTrustedProxies, TrustedProxies

API_PREFIX = "/api/v1"
NHSUK_DIST = Path(__file__).resolve().parent.parent / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
"""The NHS.UK design system's compiled files, installed from package-lock.json by the setup."""
APP_STATIC = Path(__file__).resolve().parent / "pages" / "static"
MIB = 1024 * 1024
EVIDENCE_UPLOAD_BYTES_MAX = 11 * MIB
"""A receipt or invoice (10 MiB at most) and the form around it."""
UPLOAD_LIMITS = [
    (statements.STATEMENT_UPLOAD_PATH, statements.UPLOAD_BYTES_MAX),
    (r"^/holder/statements$", statements.UPLOAD_BYTES_MAX),
    (r"^/holder/payroll$", 17 * MIB),
    (r"^/family/budgets/[0-9]+/statements$", 17 * MIB),
    (r"^/api/v1/holders/[0-9]+/evidence$", EVIDENCE_UPLOAD_BYTES_MAX),
    (r"^/holder/flags/[0-9]+(/explain)?$", EVIDENCE_UPLOAD_BYTES_MAX),
    (r"^/family/budgets/[0-9]+/flags/[0-9]+$", EVIDENCE_UPLOAD_BYTES_MAX),
]
"""Bodies larger than 1 MiB are refused with 413 before they are read, except uploads, each
with its own limit: statements, payroll files, receipts."""
SERVICE_NAME = "phb-ledger"
VERSION = "0.1.0"


class ServiceOut(BaseModel):
    service: str
    version: str
    database: str
    api: str
    openapi: str


def create_app(
    database: Database, *, migrate_on_start: bool = True, run_scheduler: bool = False, demo_users: tuple = (),
    worker_threads: int | None = None, trusted_proxies: TrustedProxies | None = None,
) -> FastAPI:  # fmt: skip
    """``run_scheduler``: also run the scheduler (``phb-ledger serve`` does; tests do not).
    ``demo_users``: the demo's sign-ins, listed with their password on the start page (only
    ``serve --demo`` passes them). ``worker_threads``: how many requests' database work runs at
    once (AnyIO's default, 40, when None). ``trusted_proxies``: the proxies whose forwarded
    address and scheme are believed (``$PHB_LEDGER_TRUSTED_PROXIES`` when None)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if worker_threads is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads
        if migrate_on_start:
            migrate.upgrade(database)
        scheduler = SchedulerService(database) if run_scheduler else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            database.dispose()

    app = FastAPI(
        title="phb-ledger",
        version=VERSION,
        description="A double-entry ledger for NHS personal health budgets. Amounts are decimal strings in pounds.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.database = database
    app.state.demo_users = demo_users
    install_error_handlers(app)
    # The last added runs first: the forwarded address and scheme are settled before anything
    # reads them, the headers go on every answer (413 and 401 too), and a body's size and the
    # sign-in are both checked before the body is read.
    app.add_middleware(SignInGate, database=database)
    app.add_middleware(BodySizeLimit, overrides=UPLOAD_LIMITS)
    app.add_middleware(SecurityHeaders, inline_styles=[report_css()])
    app.add_middleware(ForwardedByTrustedProxies, proxies=trusted_proxies or TrustedProxies.from_environment())
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(api_guard)])

    @api.get("/", response_model=ServiceOut, tags=["service"])
    def service(request: Request) -> ServiceOut:
        return ServiceOut(
            service=SERVICE_NAME,
            version=VERSION,
            database=request.app.state.database.dialect,
            api=API_PREFIX,
            openapi=f"{API_PREFIX}/openapi.json",
        )

    for module in (parties, budgets, plans, journal, balances, drawdowns, receipts, payables, budget_money, position, closing, reviews, statements, reconciliation, flags, reports, family, users):
        api.include_router(module.router)
    app.include_router(api)
    serve_api_docs(app, docs_url=f"{API_PREFIX}/docs", openapi_url=f"{API_PREFIX}/openapi.json")
    if NHSUK_DIST.is_dir():
        app.mount("/assets/nhsuk", SelfContainedStaticFiles(directory=NHSUK_DIST), name="nhsuk")

    for pages in page_routers():
        app.include_router(pages)
    app.mount("/assets/app", StaticFiles(directory=APP_STATIC), name="app-assets")
    return app
