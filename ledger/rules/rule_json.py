"""Reading a rule set's JSON text, refusing anything doubtful with the exact field at fault.

Every refusal is ``InvalidInput(code="rule_set_invalid", field="mcc[3].source")`` (or
``rule_set_too_large``) with a message that names the entry by position and id, so a funder
editing its copy can find the line to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from ledger.errors import InvalidInput
from ledger.rules.matching import PATTERN_WORDS_MAX
from ledger.rules.merchant_names import merchant_key, plain_words

RULE_SET_BYTES_MAX = 1_000_000
ENTRIES_MAX = 5_000
PATTERNS_PER_ENTRY_MAX = 50
PATTERN_LENGTH_MAX = 100
NAME_LENGTH_MAX = 200
REASON_LENGTH_MAX = 500
SOURCE_LENGTH_MAX = 1_000
DESCRIPTION_LENGTH_MAX = 4_000

_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,29}")
_MCC_DIGITS = 4


def invalid(field: str, message: str) -> NoReturn:
    raise InvalidInput(f"{field}: {message}", code="rule_set_invalid", field=field)


def parse_document(text: str) -> dict[str, Any]:
    """The JSON object in ``text``; duplicate keys and NaN are refused, not resolved."""
    assert isinstance(text, str), "a rule set is JSON text"
    if len(text) > RULE_SET_BYTES_MAX or len(text.encode("utf-8", "surrogatepass")) > RULE_SET_BYTES_MAX:
        raise InvalidInput(
            f"the rule set is larger than {RULE_SET_BYTES_MAX:,} bytes", code="rule_set_too_large", field=None
        )
    try:
        document = json.loads(text, object_pairs_hook=_object_without_duplicates, parse_constant=_no_constants)
    except _DuplicateKey as error:
        invalid("$", f"the key {error.args[0]!r} appears twice in one object")
    except (ValueError, RecursionError) as error:
        raise InvalidInput(f"the rule set is not valid JSON: {error}", code="rule_set_invalid", field="$") from None
    if not isinstance(document, dict):
        invalid("$", "a rule set is a JSON object")
    return document


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed")


@dataclass(frozen=True, slots=True)
class Place:
    """Where an entry sits in the document, for messages: ``mcc[3]`` and its id once known."""

    path: str
    rule_id: str | None = None

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> NoReturn:
        label = f" ({self.rule_id})" if self.rule_id else ""
        field = self.field(key)
        raise InvalidInput(f"{field}{label}: {message}", code="rule_set_invalid", field=field)


def object_keys(value: object, place: Place, *, required: Collection[str], optional: Collection[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        invalid(place.path or "$", "must be a JSON object")
    for key in value:
        if key not in required and key not in optional:
            place.fail(key, f"unknown key (allowed: {', '.join(sorted({*required, *optional}))})")
    for key in required:
        if key not in value:
            place.fail(key, "is required")
    return value


def entry_list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document[key]
    if not isinstance(value, list):
        invalid(key, "must be a JSON array")
    if len(value) > ENTRIES_MAX:
        invalid(key, f"more than {ENTRIES_MAX:,} entries")
    return value


def text(entry: Mapping[str, Any], key: str, place: Place, *, max_length: int, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None and not required and key not in entry:
        return None
    if not isinstance(value, str) or not value.strip():
        place.fail(key, "must be non-empty text")
    cleaned = value.strip()
    if len(cleaned) > max_length:
        place.fail(key, f"is longer than {max_length} characters")
    if not cleaned.isprintable():
        place.fail(key, "contains control characters")
    return cleaned


def required_text(entry: Mapping[str, Any], key: str, place: Place, *, max_length: int) -> str:
    found = text(entry, key, place, max_length=max_length)
    assert found is not None
    return found


def choice(entry: Mapping[str, Any], key: str, place: Place, allowed: Collection[str]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or value not in allowed:
        place.fail(key, f"{value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def version(document: Mapping[str, Any]) -> str:
    value = document.get("version")
    if not isinstance(value, str) or not _VERSION_RE.fullmatch(value):
        invalid("version", "must be 1 to 30 letters, digits, '.', '_' or '-', e.g. \"2026.1\"")
    return value


def rule_id(entry: Mapping[str, Any], place: Place, seen: dict[str, str]) -> str:
    value = entry.get("id")
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        place.fail("id", "must be 1 to 60 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
    if value in seen:
        place.fail("id", f"{value!r} is already the id of {seen[value]}")
    seen[value] = place.path
    return value


def mcc_span(entry: Mapping[str, Any], place: Place) -> tuple[int, int]:
    """``"mcc": "7995"`` or ``"mcc_from": "6529", "mcc_to": "6534"`` (inclusive)."""
    has_one, has_range = "mcc" in entry, "mcc_from" in entry or "mcc_to" in entry
    if has_one == has_range:
        place.fail("mcc", "give either mcc, or both mcc_from and mcc_to")
    if has_one:
        code = _mcc(entry, "mcc", place)
        return code, code
    first, last = _mcc(entry, "mcc_from", place), _mcc(entry, "mcc_to", place)
    if first >= last:
        place.fail("mcc_to", "must come after mcc_from (for one code, use mcc)")
    return first, last


def _mcc(entry: Mapping[str, Any], key: str, place: Place) -> int:
    value = entry.get(key)
    if not (isinstance(value, str) and len(value) == _MCC_DIGITS and value.isascii() and value.isdigit()):
        place.fail(key, f"{value!r} is not a merchant category code: four digits in a string, e.g. \"0742\"")
    return int(value)


def patterns(entry: Mapping[str, Any], place: Place) -> tuple[str, ...]:
    """Each pattern as a merchant key; refused when the key would lose or exceed words."""
    values = entry.get("patterns")
    if not isinstance(values, list) or not values:
        place.fail("patterns", "must be a non-empty array of text")
    if len(values) > PATTERNS_PER_ENTRY_MAX:
        place.fail("patterns", f"more than {PATTERNS_PER_ENTRY_MAX} patterns in one entry")
    keys: list[str] = []
    for index, value in enumerate(values):
        key = f"patterns[{index}]"
        if not isinstance(value, str) or len(value) > PATTERN_LENGTH_MAX:
            place.fail(key, f"must be text of at most {PATTERN_LENGTH_MAX} characters")
        normal = merchant_key(value)
        if not normal:
            place.fail(key, f"{value!r} has no words left once numbers and card-scheme noise are taken out")
        if normal.split() != plain_words(value):
            place.fail(key, f"{value!r} would match as {normal!r}: statement keys drop numbers, dates and card-scheme words")
        if normal.count(" ") + 1 > PATTERN_WORDS_MAX:
            place.fail(key, f"{normal!r} has more than {PATTERN_WORDS_MAX} words")
        if normal in keys:
            place.fail(key, f"{normal!r} is already in this entry")
        keys.append(normal)
    return tuple(keys)
