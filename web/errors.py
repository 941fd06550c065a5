"""How errors leave the service: always JSON with a stable ``code`` and a human ``message``.

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
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import LedgerError

log = logging.getLogger("phb_ledger.web")

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
    app.add_exception_handler(Exception, _unexpected_error)


async def _ledger_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LedgerError)
    return JSONResponse(error.as_dict(), status_code=error.status_code)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [_field_problem(item) for item in error.errors()]
    first = problems[0] if problems else {"field": "", "message": "the request is not valid"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return JSONResponse(error_body("invalid_request", message, errors=problems), status_code=422)


def _field_problem(item: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
    return {"field": ".".join(location), "code": item.get("type", "invalid"), "message": item.get("msg", "is not valid")}


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _STATUS_CODES.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    return JSONResponse(error_body(code, message), status_code=error.status_code, headers=getattr(error, "headers", None))


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse(error_body("internal_error", "something went wrong on our side; nothing was changed"), status_code=500)
