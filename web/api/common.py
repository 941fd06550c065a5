"""What the API modules share: amounts as strings, the database, transactions.

Every endpoint owns its transaction explicitly (``with database(request).write() as
session``) and builds its response after the commit, so a client never hears "created"
for something a failed commit threw away.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema
from pydantic_core import PydanticCustomError

from ledger.core import money
from ledger.store.database import Database
from web.auth import principal

AMOUNT_PATTERN = r"^\s*(GBP\s*)?[-+]?£?[-+]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)?(\.[0-9]{1,2})?(\s*GBP)?\s*$"
AMOUNT_DESCRIPTION = (
    "An amount in pounds sterling, written as text: \"1234.50\", \"£1,234.50\", \"-12.00\". "
    "Never a JSON number: floats are refused, as are more than two decimal places and other currencies."
)


def _pence_from_text(value: object) -> int:
    if isinstance(value, str) and len(value) > AMOUNT_TEXT_LENGTH_MAX:
        raise PydanticCustomError("amount_malformed", "an amount is at most 40 characters")
    try:
        return money.to_pence(money.parse_amount(value))
    except money.AmountError as error:
        raise PydanticCustomError(error.code, error.message) from None


AMOUNT_TEXT_LENGTH_MAX = money.AMOUNT_TEXT_LENGTH_MAX

# The ledger's own parser does all the checking, before pydantic sees a type, so that each
# kind of bad amount (a JSON number, NaN, three decimals, dollars) keeps its own code and
# message; the schema documents the text form.
AmountPence = Annotated[
    int,
    BeforeValidator(_pence_from_text),
    WithJsonSchema(
        {
            "type": "string",
            "description": AMOUNT_DESCRIPTION,
            "pattern": AMOUNT_PATTERN,
            "maxLength": AMOUNT_TEXT_LENGTH_MAX,
            "examples": ["1234.50"],
        }
    ),
]
"""A request field: text in, integer pence out."""


class Schema(BaseModel):
    """Base of every request body: unknown fields are refused, not silently dropped. Fields
    use the strict types below, so nothing is coerced (no "5" for 5, no 1 for true, no
    number for a date). (Pydantic's model-wide strict mode cannot be used: FastAPI validates
    the parsed JSON in Python mode, where strict enums and dates refuse plain strings.)"""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def amount_text(pence: int) -> str:
    """Integer pence → the decimal string every response uses."""
    return money.format_amount(pence)


def database(request: Request) -> Database:
    return request.app.state.database


def signed_in(request: Request) -> str:
    """Who does what the request does: the signed-in user's signature, recorded by every
    write in its ``*_by`` field. A client never names who did it; where it names somebody
    else (who decided, who asked, who agreed), that is kept beside this, never instead."""
    return principal(request).signature


RecordId = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="A record's id")]
EntryId = Annotated[int, PathParam(ge=1, le=9_223_372_036_854_775_807, description="A journal entry's id")]


class FieldProblemOut(BaseModel):
    field: str
    code: str
    message: str


class ErrorOut(BaseModel):
    """Every error the API answers with."""

    code: str = Field(description="Stable: match on this, not on the message")
    message: str = Field(description="A sentence for a person")
    field: str | None = None
    details: dict[str, Any] | None = None
    errors: list[FieldProblemOut] | None = Field(default=None, description="One item per field, for invalid_request")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The request body could not be read"},
    404: {"model": ErrorOut, "description": "No such record"},
    409: {"model": ErrorOut, "description": "Conflicts with what is recorded"},
    413: {"model": ErrorOut, "description": "The request body is too large"},
    422: {"model": ErrorOut, "description": "The request is not valid"},
}
"""Documented on every route, so clients (and schema checks) know the error shape."""


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcTimestamp = Annotated[datetime, AfterValidator(_as_utc)]
"""A response timestamp: stored as UTC without a zone, sent with it ("…Z")."""


def _iso_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date_invalid", "write the date as YYYY-MM-DD, e.g. 2026-04-01")


_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]
"""A request date: ISO text only. Pydantic would otherwise read a number as a Unix time."""


def _iso_timestamp(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE_RE.match(value) and len(value) <= 40:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("timestamp_invalid", "write the time as ISO 8601, e.g. 2026-03-20T10:00:00Z")


IsoTimestamp = Annotated[datetime, BeforeValidator(_iso_timestamp), WithJsonSchema({"type": "string", "format": "date-time"})]
"""A request timestamp: ISO 8601 text only (a number is not a time)."""

Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]


LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["06:00"])]
"""A local time of day in England, "HH:MM"."""


def local_time(text: str) -> time:
    return time(int(text[:2]), int(text[3:5]))
