"""What the API modules share: amounts as strings, the database, transactions.

Every endpoint owns its transaction explicitly (``with database(request).write() as
session``) and builds its response after the commit, so a client never hears "created"
for something a failed commit threw away.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path as PathParam
from fastapi import Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError

from ledger import money
from ledger.database import Database

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


AMOUNT_TEXT_LENGTH_MAX = 40

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
    """Base of every request body: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def amount_text(pence: int) -> str:
    """Integer pence → the decimal string every response uses."""
    return money.format_amount(pence)


def database(request: Request) -> Database:
    return request.app.state.database


RecordId = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="A record's id")]
EntryId = Annotated[int, PathParam(ge=1, le=9_223_372_036_854_775_807, description="A journal entry's id")]
