"""Small input checks shared by the services; each raises ``InvalidInput`` naming the field."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import TypeVar

from ledger.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

_CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
_REFERENCE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
_CATEGORY_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")


def text(value: str | None, field: str, *, max_length: int, required: bool = True) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{field} is required", code="field_required", field=field)
        return None
    cleaned = value.strip()
    if len(cleaned) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", code="field_too_long", field=field)
    if not cleaned.isprintable():
        raise InvalidInput(f"{field} contains control characters", code="field_not_printable", field=field)
    return cleaned


def required_text(value: str | None, field: str, *, max_length: int) -> str:
    result = text(value, field, max_length=max_length)
    assert result is not None
    return result


def choice(value: str, enum: type[E], field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{field} must be one of: {allowed}", code="field_not_allowed", field=field) from None


def code(value: str, field: str) -> str:
    """Lower-case slug: letters, digits and hyphens, 2–40 characters."""
    return _matching(value, _CODE_RE, field, "2–40 lower-case letters, digits or hyphens, starting with a letter or digit", "code_invalid")


def category_code(value: str, field: str) -> str:
    """Spend category code: lower-case letters, digits and underscores, e.g. ``music_lessons``."""
    return _matching(value, _CATEGORY_CODE_RE, field, "2–40 lower-case letters, digits or underscores, starting with a letter", "code_invalid")


def reference(value: str, field: str) -> str:
    """Budget reference: upper-case letters, digits and hyphens, 2–32 characters."""
    return _matching(value, _REFERENCE_RE, field, "2–32 upper-case letters, digits or hyphens, e.g. ISF-0007", "reference_invalid")


def _matching(value: str, pattern: re.Pattern[str], field: str, rule: str, error_code: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidInput(f"{field} must be {rule}", code=error_code, field=field)
    return value


def date_between(value: date, field: str, *, earliest: date, latest: date) -> date:
    if not earliest <= value <= latest:
        raise InvalidInput(f"{field} {value} must be between {earliest} and {latest}", code="date_out_of_range", field=field)
    return value


def whole_number(value: int, field: str, *, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise InvalidInput(f"{field} must be a whole number from {minimum} to {maximum}", code="number_out_of_range", field=field)
    return value
