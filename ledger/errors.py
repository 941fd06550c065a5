"""Domain errors that know their HTTP status and carry a stable code.

Every error a person can cause (bad input, a conflict with what is already recorded, a
missing record) is one of these. The web layer renders them as
``{"code": ..., "message": ..., "field": ..., "details": ...}``; the CLI prints the message on
one line. Programmer errors are ``assert`` statements, never these.

Codes are stable: clients and tests match on them, so never rename one.
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Base class. ``status_code`` is the HTTP status the web layer answers with."""

    status_code = 400
    default_code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(LedgerError):
    """The request itself is wrong: a malformed amount, an unbalanced entry, a bad date."""

    status_code = 422
    default_code = "invalid_input"


class NotFound(LedgerError):
    """No such record, or not one the caller may see (the two are indistinguishable)."""

    status_code = 404
    default_code = "not_found"


class Conflict(LedgerError):
    """The request is well formed but conflicts with what is recorded: a reused key with
    other content, a second reversal, an entry dated in a closed period."""

    status_code = 409
    default_code = "conflict"
