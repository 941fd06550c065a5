"""What a statement line must be for the ledger to post it, checked the same way when a file
is imported and when its lines are reconciled (pure).

- Text is cleaned, never trusted to display or to match as written: bidirectional controls
  (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) would show a merchant's name
  reversed, zero-width characters (U+200B–U+200D, U+2060, U+FEFF) would hide ``BETFAIR``
  from the merchant rules as ``BET\u200bFAIR``, and any control character would make the
  journal refuse the purchase's entry. Line breaks, tabs and other spaces become a space;
  other controls and invisible format characters go; what is left is printable, as entries
  need.
- A NUL character is refused, not cleaned: PostgreSQL cannot store one, and a file that has
  one in a line is not a statement a bank wrote.
- A line is dated within what the journal takes (``ENTRY_DATE_MIN``–``ENTRY_DATE_MAX``) and
  its amount within ``AMOUNT_PENCE_MAX``, so each line reconciliation meets can be posted.
  A line of £0.00 (a card check, a declined attempt) moves no money: an import does not
  store it (and says so), as nothing could ever be matched to it.

An import refuses a line that fails (naming the file, the line and the field); a
reconciliation meeting one stored before these checks existed holds it in the unmatched
queue with the reason (:func:`why_not_postable`) and carries on with the others.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Protocol

from ledger.core.entries import ENTRY_DATE_MAX, ENTRY_DATE_MIN
from ledger.core.money import AMOUNT_PENCE_MAX, format_gbp
from ledger.errors import InvalidInput

LINE_DATE_MIN = ENTRY_DATE_MIN
LINE_DATE_MAX = ENTRY_DATE_MAX
NUL = "\x00"
UNNAMED_FILE = "(unnamed file)"

_SPACES = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")


class LineRefused(InvalidInput):
    """A statement line the ledger cannot keep: names the file, the line and the field, as
    the importers' own refusals do."""

    def __init__(self, reason: str, *, code: str, file_name: str, line_no: int, field: str) -> None:
        super().__init__(f"{file_name}, line {line_no}, field {field}: {reason}", code=code, field=field, details={"file": file_name, "line": line_no})


def plain_text(value: str) -> str:
    """``value`` as one printable line: breaks, tabs and other spaces a space, other controls
    and invisible format characters (bidirectional, zero-width, soft hyphen) removed, and
    code points that show nothing (private-use, unassigned) a visible U+FFFD."""
    if value.isprintable():
        return value
    return "".join(_plain_character(c) for c in _SPACES.sub(" ", value))


def _plain_character(character: str) -> str:
    if character.isprintable():
        return character
    kind = unicodedata.category(character)
    if kind.startswith("Z"):  # a no-break or other width of space
        return " "
    return "" if kind in ("Cc", "Cf") else "\ufffd"


def plain_optional(value: str | None) -> str | None:
    return None if value is None else plain_text(value)


def checked_file_name(file_name: str) -> str:
    """A statement file's name as the ledger keeps it (on the import and in every entry's
    provenance): printable, or refused naming the field."""
    name = file_name.strip()
    if NUL in name:
        raise InvalidInput("the file's name contains a NUL character: rename the file and send it again", code="text_has_nul", field="file_name")
    if not name.isprintable():
        raise InvalidInput(
            "the file's name contains control or invisible characters (such as a right-to-left override): rename the file and send it again",
            code="file_name_not_printable", field="file_name",
        )  # fmt: skip
    return name or UNNAMED_FILE


class LineText(Protocol):
    """What the checks read of a parsed line (``ledger.statements.storing.LineLike`` is one)."""

    line_no: int
    posted_on: date
    description: str
    payee: str | None
    mcc: str | None
    bank_id: str | None
    kind: str | None
    raw: str


TEXT_FIELDS = ("description", "payee", "mcc", "bank_id", "kind", "raw")
"""Every text a stored line keeps (``raw`` too)."""


def check_line(line: LineText, *, file_name: str, amount_pence: int) -> None:
    """Refuse a line the ledger could not keep or post."""
    for field in TEXT_FIELDS:
        value = getattr(line, field)
        if value and NUL in value:
            raise LineRefused("contains a NUL character", code="text_has_nul", file_name=file_name, line_no=line.line_no, field=field)
    if not LINE_DATE_MIN <= line.posted_on <= LINE_DATE_MAX:
        raise LineRefused(
            f"{line.posted_on.isoformat()} is outside the dates this ledger keeps ({LINE_DATE_MIN.isoformat()} to {LINE_DATE_MAX.isoformat()})",
            code="date_out_of_range", file_name=file_name, line_no=line.line_no, field="date",
        )  # fmt: skip
    if abs(amount_pence) > AMOUNT_PENCE_MAX:
        raise LineRefused(
            f"{format_gbp(amount_pence)} is beyond the largest amount this ledger keeps ({format_gbp(AMOUNT_PENCE_MAX)})",
            code="amount_too_large", file_name=file_name, line_no=line.line_no, field="amount",
        )  # fmt: skip


def statement_date(value: date | None, what: str) -> tuple[date | None, str | None]:
    """A date the file states for itself (its period, its closing balance's day) if the
    ledger keeps it, else None and a warning: such a date is set aside, not refused, as an
    export "of all history" may say it starts in 1900 while its lines are this month's."""
    if value is None or LINE_DATE_MIN <= value <= LINE_DATE_MAX:
        return value, None
    return None, f"the file gives {what} as {value.isoformat()}, outside the dates this ledger keeps; it was set aside"


def why_not_postable(posted_on: date, amount_pence: int) -> str | None:
    """Why reconciliation cannot post a stored line (None when it can): the reason the
    unmatched queue shows beside a line it holds."""
    if not LINE_DATE_MIN <= posted_on <= LINE_DATE_MAX:
        return (
            f"its date, {posted_on.isoformat()}, is outside the dates this ledger keeps ({LINE_DATE_MIN.year}–{LINE_DATE_MAX.year}):"
            " check the statement with the bank"
        )
    if amount_pence == 0:
        return "it moves no money (£0.00): there is nothing to post"
    if abs(amount_pence) > AMOUNT_PENCE_MAX:
        return f"its amount is beyond the largest this ledger keeps ({format_gbp(AMOUNT_PENCE_MAX)}): check the statement with the bank"
    return None
