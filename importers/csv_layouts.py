"""CSV statement layouts: which column of a bank's CSV export holds what, as data.

Every bank writes its own CSV. A layout names the columns (the header row the bank writes,
used to recognise the file), and which of them hold the date, the amount, the description and
the rest. The shipped layouts live in ``importers/layouts/*.json``, one per bank or provider,
each citing in ``source`` where its column names come from; a provider can define its own
through the API (``layout_from_dict`` checks the definition, ``read(..., layouts=)`` uses it).

Keys of a definition (``layout_as_dict`` gives them back):

- ``name``: lower-case letters, digits and ``_``; ``csv:<name>`` picks the layout.
- ``description``; ``source``: what the layout is for, and where its column names come from.
- ``encoding``: ``auto`` (UTF-8 if the file is valid UTF-8, else Windows-1252) or a codec.
- ``delimiter``: one character, ``,`` unless given.
- ``skip_lines``: preamble lines the bank writes above the header; the header is looked for
  in the first ``skip_lines + 1`` non-blank lines. For a layout without a header row, the
  lines skipped before the first transaction.
- ``header``: the column names in file order. ``has_header_row``: ``false`` when the bank
  writes none (the layout can then not be recognised and must be chosen as ``csv:<name>``).
- ``date_column`` (required) and ``date_formats``: ``strptime`` codes tried in order, by
  default DD/MM/YYYY then DD/MM/YY.
- The amount: either ``amount_column``, one signed amount, with ``amount_sign``
  ``money_in_positive`` (the default) or ``money_out_positive``; or ``debit_column`` and
  ``credit_column``, money out and money in (a sign written in them is ignored: the
  column says the direction).
- ``description_columns`` (required): their non-empty values joined with a space; the payee
  when they are all empty.
- Optional columns: ``payee_column``, ``mcc_column`` (merchant category code),
  ``bank_id_column`` (the bank's transaction id), ``balance_column`` (running balance),
  ``kind_column`` (the bank's type code), ``currency_column`` (every line must be in one
  currency; ``currency`` is used when there is no such column or its cell is empty),
  ``fee_column`` (a fee charged with the line, positive when charged: it becomes a second
  line, ``part`` 1, ``is_fee``).
- How the file names the account: ``sort_code_column``, ``account_number_column``,
  ``sort_code_and_account_column`` (both in one cell: Barclays ``20-32-06 13152170``,
  NatWest ``'600008-49127454``), ``card_number_column`` (a masked card number).

Header names match case-insensitively with surrounding spaces trimmed (NatWest writes
``Date, Type, …``), and a trailing empty column (Lloyds ends every line with a comma) is
ignored.

``prepaid_card`` is this project's own layout: no UK prepaid-card provider publishes a CSV
layout for council or NHS personal-budget cards (see the statements' ``SOURCES.md``), so
this generic one is what a card provider is asked to export, or to map its own export
to through a provider layout. Columns: ``Transaction ID, Date, Card Number, Merchant,
Description, MCC, Type, Amount, Fee, Currency, Balance``; the amount is signed money in
positive (a load is positive, a purchase negative), ``MCC`` the four-digit merchant
category code, ``Fee`` a fee the provider charged with that line (a foreign-exchange or
ATM fee) as a positive number, ``Currency`` an ISO 4217 code (or ``826``), ``Balance`` the
card balance after the line and its fee.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from importers.amounts import check_currency
from importers.errors import ImportRejected
from importers.text import known_encoding

LAYOUTS_FOLDER = Path(__file__).with_name("layouts")
AUTO_ENCODING = "auto"
MONEY_IN_POSITIVE = "money_in_positive"
MONEY_OUT_POSITIVE = "money_out_positive"
DEFAULT_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TEXT_LENGTH_MAX = 2000
_COLUMN_NAME_LENGTH_MAX = 100
_COLUMNS_MAX = 200
_DATE_FORMATS_MAX = 10
_SKIP_LINES_MAX = 100
_FORBIDDEN_DELIMITERS = frozenset("\"'\r\n") | frozenset("0123456789.-+£$€ ")

# The columns a layout may name besides the date and amount ones: key -> what it holds.
OPTIONAL_COLUMN_KEYS = (
    "payee_column",
    "mcc_column",
    "bank_id_column",
    "balance_column",
    "currency_column",
    "fee_column",
    "kind_column",
    "sort_code_column",
    "account_number_column",
    "sort_code_and_account_column",
    "card_number_column",
)
_AMOUNT_COLUMN_KEYS = ("amount_column", "debit_column", "credit_column")
KNOWN_KEYS = frozenset(
    (
        "name",
        "description",
        "source",
        "encoding",
        "delimiter",
        "skip_lines",
        "header",
        "has_header_row",
        "date_column",
        "date_formats",
        "amount_sign",
        "description_columns",
        "currency",
        *_AMOUNT_COLUMN_KEYS,
        *OPTIONAL_COLUMN_KEYS,
    )
)


@dataclass(frozen=True)
class CsvLayout:
    """One bank's CSV export. Column references are names in ``header``, as written there."""

    name: str
    description: str
    source: str
    header: tuple[str, ...]
    date_column: str
    description_columns: tuple[str, ...]
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    encoding: str = AUTO_ENCODING
    delimiter: str = ","
    skip_lines: int = 0
    has_header_row: bool = True
    amount_column: str | None = None
    amount_sign: str | None = None
    debit_column: str | None = None
    credit_column: str | None = None
    currency: str = "GBP"
    payee_column: str | None = None
    mcc_column: str | None = None
    bank_id_column: str | None = None
    balance_column: str | None = None
    currency_column: str | None = None
    fee_column: str | None = None
    kind_column: str | None = None
    sort_code_column: str | None = None
    account_number_column: str | None = None
    sort_code_and_account_column: str | None = None
    card_number_column: str | None = None
    defined_in: str = field(default="", compare=False)
    """Where the definition was read from (a shipped file, a provider), for messages."""

    @functools.cached_property
    def normalised_header(self) -> tuple[str, ...]:
        return normalise_header(self.header)

    def index_of(self, column: str) -> int:
        """The position of ``column`` in the header."""
        return self.normalised_header.index(_normalise_name(column))


def normalise_header(row: Sequence[str]) -> tuple[str, ...]:
    """``row`` as compared with a layout's header: trimmed, case-folded, without the empty
    columns a trailing comma leaves, and without a leading apostrophe (a spreadsheet's
    text marker)."""
    names = [_normalise_name(cell) for cell in row]
    while names and not names[-1]:
        names.pop()
    return tuple(names)


def _normalise_name(text: str) -> str:
    return text.strip().removeprefix("\ufeff").removeprefix("'").strip().casefold()


def detect_layout(header_row: Sequence[str], layouts: Iterable[CsvLayout]) -> CsvLayout:
    """The first of ``layouts`` whose header is ``header_row``. Layouts without a header row
    are never detected."""
    candidates = tuple(layouts)
    found = normalise_header(header_row)
    for layout in candidates:
        if layout.has_header_row and layout.normalised_header == found:
            return layout
    shown = ",".join(cell.strip() for cell in header_row)[:300]
    known = ", ".join(layout.name for layout in candidates if layout.has_header_row) or "none"
    raise ImportRejected(
        f"the header {shown!r} is not that of any CSV layout (known: {known}); "
        "choose one with csv:<layout>, or define a layout for this export",
        code="layout_not_detected",
        field="header",
    )


@functools.cache
def shipped_layouts() -> tuple[CsvLayout, ...]:
    """The layouts in ``importers/layouts/*.json``, read once, in file-name order."""
    layouts = []
    for path in sorted(LAYOUTS_FOLDER.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        layouts.append(layout_from_dict(definition, source=f"importers/layouts/{path.name}"))
    return tuple(layouts)


def find_layout(name: str, layouts: Iterable[CsvLayout]) -> CsvLayout:
    wanted = name.strip().lower()
    candidates = tuple(layouts)
    for layout in candidates:
        if layout.name == wanted:
            return layout
    known = ", ".join(dict.fromkeys(layout.name for layout in candidates))
    raise ImportRejected(
        f"{name!r} is not a CSV layout (known: {known})", code="layout_unknown", field="format"
    )


def layout_as_dict(layout: CsvLayout) -> dict[str, Any]:
    """The definition ``layout_from_dict`` reads back into ``layout``."""
    body: dict[str, Any] = {
        "name": layout.name,
        "description": layout.description,
        "source": layout.source,
        "encoding": layout.encoding,
        "delimiter": layout.delimiter,
        "skip_lines": layout.skip_lines,
        "header": list(layout.header),
        "has_header_row": layout.has_header_row,
        "date_column": layout.date_column,
        "date_formats": list(layout.date_formats),
        "description_columns": list(layout.description_columns),
        "currency": layout.currency,
    }
    for key in (*_AMOUNT_COLUMN_KEYS, "amount_sign", *OPTIONAL_COLUMN_KEYS):
        value = getattr(layout, key)
        if value is not None:
            body[key] = value
    return body


def layout_from_dict(definition: Mapping[str, Any], *, source: str) -> CsvLayout:
    """A checked layout from a definition (a shipped JSON file, or a provider's through the
    API). ``source`` says where the definition comes from; it is the layout's ``source``
    when the definition has none. A wrong definition raises ``ImportRejected`` with code
    ``layout_invalid`` (``encoding_unknown`` for an encoding Python does not have) and
    ``field`` the key at fault."""
    if not isinstance(definition, Mapping):
        raise _invalid("a layout is a JSON object", "layout")
    for key in definition:
        if key not in KNOWN_KEYS:
            raise _invalid(f"{str(key)[:60]!r} is not a layout key", str(key)[:60])
    read = _DefinitionReader(definition)
    header = read.columns("header", required=True)
    layout = CsvLayout(
        name=read.name(),
        description=read.text("description", required=True),
        source=read.text("source") or source,
        header=header,
        date_column=read.column("date_column", header, required=True),
        description_columns=read.column_list("description_columns", header),
        date_formats=read.date_formats(),
        encoding=read.encoding(),
        delimiter=read.delimiter(),
        skip_lines=read.whole_number("skip_lines", 0, _SKIP_LINES_MAX),
        has_header_row=read.flag("has_header_row", True),
        amount_column=read.column("amount_column", header),
        amount_sign=read.choice("amount_sign", (MONEY_IN_POSITIVE, MONEY_OUT_POSITIVE)),
        debit_column=read.column("debit_column", header),
        credit_column=read.column("credit_column", header),
        currency=read.currency(),
        defined_in=source,
        **{key: read.column(key, header) for key in OPTIONAL_COLUMN_KEYS},
    )
    return _with_amount_checked(layout)


def _with_amount_checked(layout: CsvLayout) -> CsvLayout:
    has_signed = layout.amount_column is not None
    has_split = layout.debit_column is not None or layout.credit_column is not None
    if has_signed and has_split:
        raise _invalid("give either amount_column or debit_column and credit_column, not both", "amount_column")
    if not has_signed and not has_split:
        raise _invalid("give amount_column, or debit_column and credit_column", "amount_column")
    if has_split:
        if layout.debit_column is None:
            raise _invalid("credit_column needs debit_column", "debit_column")
        if layout.credit_column is None:
            raise _invalid("debit_column needs credit_column", "credit_column")
        if _normalise_name(layout.debit_column) == _normalise_name(layout.credit_column):
            raise _invalid("debit_column and credit_column must be different columns", "credit_column")
        if layout.amount_sign is not None:
            raise _invalid("amount_sign goes with amount_column only", "amount_sign")
        return layout
    if layout.amount_sign is None:
        return replace(layout, amount_sign=MONEY_IN_POSITIVE)
    return layout


def _invalid(reason: str, key: str) -> ImportRejected:
    return ImportRejected(f"layout: {reason}", code="layout_invalid", field=key)


class _DefinitionReader:
    """Reads one key of a definition at a time, refusing a value of the wrong shape."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self._definition = definition

    def _get(self, key: str) -> Any:
        return self._definition.get(key)

    def text(self, key: str, *, required: bool = False) -> str:
        value = self._get(key)
        if value is None:
            if required:
                raise _invalid(f"{key} is required", key)
            return ""
        if not isinstance(value, str):
            raise _invalid(f"{key} must be text", key)
        if len(value) > _TEXT_LENGTH_MAX:
            raise _invalid(f"{key} is longer than {_TEXT_LENGTH_MAX} characters", key)
        if required and not value.strip():
            raise _invalid(f"{key} is empty", key)
        return value.strip()

    def name(self) -> str:
        value = self.text("name", required=True)
        if not _NAME_RE.match(value):
            raise _invalid(
                f"name {value[:60]!r} must start with a letter and hold only a-z, 0-9 and _ (at most 40)", "name"
            )
        return value

    def columns(self, key: str, *, required: bool) -> tuple[str, ...]:
        value = self._get(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not value:
            raise _invalid(f"{key} must be a non-empty list of column names", key)
        if len(value) > _COLUMNS_MAX:
            raise _invalid(f"{key} has more than {_COLUMNS_MAX} columns", key)
        names = []
        for item in value:
            if not isinstance(item, str) or not _normalise_name(item):
                raise _invalid(f"{key} must hold non-empty column names", key)
            if len(item) > _COLUMN_NAME_LENGTH_MAX:
                raise _invalid(f"{key}: {item[:40]!r}… is too long for a column name", key)
            names.append(item.strip())
        normalised = [_normalise_name(name) for name in names]
        duplicates = sorted({name for name in normalised if normalised.count(name) > 1})
        if duplicates:
            raise _invalid(f"{key} names {duplicates[0]!r} more than once", key)
        return tuple(names)

    def column(self, key: str, header: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self._get(key)
        if value is None:
            if required:
                raise _invalid(f"{key} is required", key)
            return None
        if not isinstance(value, str) or not _normalise_name(value):
            raise _invalid(f"{key} must be a column name", key)
        if _normalise_name(value) not in normalise_header(header):
            raise _invalid(f"{key} {value[:60]!r} is not a column of the header", key)
        return value.strip()

    def column_list(self, key: str, header: tuple[str, ...]) -> tuple[str, ...]:
        names = self.columns(key, required=True)
        known = normalise_header(header)
        for name in names:
            if _normalise_name(name) not in known:
                raise _invalid(f"{key}: {name[:60]!r} is not a column of the header", key)
        return names

    def date_formats(self) -> tuple[str, ...]:
        value = self._get("date_formats")
        if value is None:
            return DEFAULT_DATE_FORMATS
        if not isinstance(value, list) or not value or len(value) > _DATE_FORMATS_MAX:
            raise _invalid(f"date_formats must be a list of 1 to {_DATE_FORMATS_MAX} strptime formats", "date_formats")
        for pattern in value:
            if not isinstance(pattern, str) or not _reads_dates(pattern):
                raise _invalid(
                    f"{str(pattern)[:40]!r} is not a strptime format that reads a day, a month and a year",
                    "date_formats",
                )
        return tuple(value)

    def encoding(self) -> str:
        value = self._get("encoding")
        if value is None:
            return AUTO_ENCODING
        if not isinstance(value, str):
            raise _invalid("encoding must be text", "encoding")
        if value.strip().lower() == AUTO_ENCODING:
            return AUTO_ENCODING
        name = known_encoding(value, field="encoding")
        if not getattr(codecs.lookup(name), "_is_text_encoding", True):
            raise ImportRejected(
                f"{value!r} is not a text encoding", code="encoding_unknown", field="encoding"
            )
        return name

    def delimiter(self) -> str:
        value = self._get("delimiter")
        if value is None:
            return ","
        if not isinstance(value, str) or len(value) != 1 or value in _FORBIDDEN_DELIMITERS or value.isalnum():
            raise _invalid("delimiter must be one character such as , ; | or a tab", "delimiter")
        return value

    def whole_number(self, key: str, default: int, most: int) -> int:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
            raise _invalid(f"{key} must be a whole number from 0 to {most}", key)
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _invalid(f"{key} must be true or false", key)
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if value not in choices:
            raise _invalid(f"{key} must be one of {', '.join(choices)}", key)
        return value

    def currency(self) -> str:
        value = self._get("currency")
        if value is None:
            return "GBP"
        if not isinstance(value, str):
            raise _invalid("currency must be an ISO 4217 code", "currency")
        try:
            return check_currency(value)
        except ImportRejected:
            raise _invalid(f"{value[:20]!r} is not an ISO 4217 currency code", "currency") from None


_PROBE_DATES = (date(2024, 1, 31), date(1999, 12, 5))


def _reads_dates(pattern: str) -> bool:
    """Whether ``pattern`` writes and reads back a whole date (so it has a day, a month and
    a year, and nothing ``strptime`` refuses)."""
    if not pattern or len(pattern) > 40 or "%" not in pattern:
        return False
    try:
        return all(datetime.strptime(day.strftime(pattern), pattern).date() == day for day in _PROBE_DATES)
    except (ValueError, TypeError, OverflowError):
        return False
