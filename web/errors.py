"""How errors leave the service: from the API, JSON with a stable ``code`` and a human
``message``; from a page, a page in the same words (and a page that needs signing in sends
the browser to the sign-in page).

Bad input is a 4xx, never a 500: domain errors carry their own status; a request that does
not match the schema is 422 ``invalid_request`` with one item per field; an unexpected
failure is a 500 ``internal_error`` whose message gives nothing away (the detail goes to the
log).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import LedgerError
from web.pages.access import ChangePasswordFirst, SignInFirst, sign_in_address

log = logging.getLogger("phb_ledger.web")
CHANGE_PASSWORD_PAGE = "/account/password"

_STATUS_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **{k: v for k, v in extra.items() if v}}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SignInFirst, _sign_in_first)
    app.add_exception_handler(ChangePasswordFirst, _change_password_first)
    app.add_exception_handler(Exception, _unexpected_error)


def _is_page(request: Request) -> bool:
    """Pages answer errors with a page; the API (and anything asking for JSON) with JSON."""
    return not request.url.path.startswith("/api/") and "application/json" not in request.headers.get("accept", "")


PAGE_HEADINGS = {
    401: "Sign in to see this page", 403: "You cannot do that here", 404: "Page not found", 409: "That could not be done",
    413: "The file is too large", 422: "Check what you entered", 429: "Too many tries",
}


def _error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    from web.pages.render import page

    heading = PAGE_HEADINGS.get(status, "Sorry, there is a problem with the service" if status >= 500 else "That could not be done")
    if status == 404:
        message = "If you typed the web address, check it is correct. If you pasted it, check you copied all of it."
    return page(request, "error.html", title=heading, heading=heading, message=message, status_code=status, headers=headers)


async def _sign_in_first(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInFirst)
    return RedirectResponse(sign_in_address(error.next_path), status_code=303)


async def _change_password_first(request: Request, error: Exception) -> Response:
    return RedirectResponse(CHANGE_PASSWORD_PAGE, status_code=303)


async def _ledger_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, LedgerError)
    if _is_page(request):
        return _error_page(request, error.status_code, error.message)
    return JSONResponse(error.as_dict(), status_code=error.status_code)


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if _is_page(request):
        problems = [_field_problem(item) for item in error.errors()]
        return _error_page(request, 422, "; ".join(f"{p['field']}: {p['message']}" for p in problems[:3]) or "the request is not valid")
    problems = [_field_problem(item) for item in error.errors()]
    first = problems[0] if problems else {"field": "", "message": "the request is not valid"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return JSONResponse(error_body("invalid_request", message, errors=problems), status_code=422)


def _field_problem(item: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
    return {"field": ".".join(location), "code": item.get("type", "invalid"), "message": item.get("msg", "is not valid")}


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    code = _STATUS_CODES.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    if _is_page(request):
        return _error_page(request, error.status_code, message, getattr(error, "headers", None))
    return JSONResponse(error_body(code, message), status_code=error.status_code, headers=getattr(error, "headers", None))


async def _unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    if _is_page(request):
        return _error_page(request, 500, "Try again later. Nothing was changed.")
    return JSONResponse(error_body("internal_error", "something went wrong on our side; nothing was changed"), status_code=500)
