"""CSV bank and card statements, read through a layout (``importers.csv_layouts``).

The layout is recognised from the header row (provider layouts first, then the shipped
ones), or chosen by name (``csv:lloyds``); a layout without a header row (HSBC's) can only
be chosen. The header and the first transaction are read before ``read`` returns (so a file
no layout fits, its account and its currency are known at once); the rest is read as
``lines`` is iterated, decoding and parsing as it goes, so a 100 MB card export never sits
in memory as a million objects, and an error on line 900,000 is raised when the iteration
gets there.

Quirks handled: a UTF-8 byte-order mark; Windows-1252 files (``£`` is byte 0xA3) when the
file is not UTF-8 or the layout says so; CRLF, LF or CR line ends; a preamble above the
header (Nationwide); blank lines (skipped anywhere); a trailing comma on each line (Lloyds);
quoted fields holding commas or line breaks (``line_no`` is still the physical line where
the record starts, ``raw`` its text over all its lines); a spreadsheet's leading apostrophe
on text and numbers (``'99-88-74``); ``£`` and thousands commas in amounts; DD/MM/YY dates.

Refused, naming the line and the column: a row with fewer columns than the header (or
more, unless the extra ones are empty), an amount or date that does not read, a Debit and
a Credit both filled, an MCC that is not four digits, a line in another currency
(``currency_mixed``) or naming another account (``several_accounts``), and the header again
in the middle of the file (``header_repeated``: two exports pasted together would
otherwise import twice).

The period is not known up front (``period_start`` is ``None``): the ledger works it out
from the lines as they go by.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import chain

from moneyed import Money, get_currency

from importers.amounts import check_currency, parse_date, parse_decimal
from importers.csv_layouts import (
    AUTO_ENCODING,
    MONEY_IN_POSITIVE,
    CsvLayout,
    find_layout,
    normalise_header,
    shipped_layouts,
)
from importers.errors import ImportRejected
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine

HEAD_BYTES = 64 * 1024
"""How much of the file is looked at to find the header."""
_CACHE_SIZE_MAX = 4096
_UTF8_CHECK_CHUNK_BYTES = 1 << 20


def read(data: bytes, *, layout_name: str | None = None, layouts: Sequence[CsvLayout] = ()) -> ParsedStatement:
    candidates = (*layouts, *shipped_layouts())
    if layout_name:
        layout = find_layout(layout_name, candidates)
        header_line = _header_line(data, layout) if layout.has_header_row else None
    else:
        layout, header_line = _detect(data, candidates)
    encoding = _file_encoding(data, layout.encoding)
    records = _records(data, encoding, layout, header_line)
    columns = _Columns(layout)
    first = next(records, None)
    if first is None:
        return ParsedStatement(format="csv", currency=layout.currency, lines=iter(()), layout=layout.name)
    currency = columns.currency_of(first[1], first[0], layout.currency)
    account = columns.account_of(first[1])
    lines = _statement_lines(chain((first,), records), columns, currency, account)
    return ParsedStatement(format="csv", currency=currency, lines=lines, account=account, layout=layout.name)


# --- finding the header ----------------------------------------------------------------


def _detect(data: bytes, candidates: Sequence[CsvLayout]) -> tuple[CsvLayout, int]:
    """The layout whose header comes first in the file, and the header's line."""
    with_header = [layout for layout in candidates if layout.has_header_row]
    heads: dict[tuple[str, str], list[tuple[int, list[str]]]] = {}
    deepest = max((layout.skip_lines for layout in with_header), default=0)
    for position in range(deepest + 1):
        for layout in with_header:
            if layout.skip_lines < position:
                continue
            rows = _head_rows(data, layout, heads)
            if position < len(rows) and layout.normalised_header == normalise_header(rows[position][1]):
                return layout, rows[position][0]
    line_no, row = _first_row(data)
    shown = ",".join(cell.strip() for cell in row)[:300]
    known = ", ".join(dict.fromkeys(layout.name for layout in with_header))
    raise ImportRejected(
        f"the first row, {shown!r}, is not the header of any CSV layout (known: {known}); "
        "choose a layout with csv:<layout>, or define one for this export",
        code="layout_not_detected",
        line=line_no,
        field="header",
    )


def _header_line(data: bytes, layout: CsvLayout) -> int:
    """The line of ``layout``'s header in a file it was chosen for."""
    rows = _head_rows(data, layout, {})
    for line_no, row in rows[: layout.skip_lines + 1]:
        if layout.normalised_header == normalise_header(row):
            return line_no
    line_no, row = rows[0] if rows else _first_row(data)
    expected = ",".join(layout.header)
    found = ",".join(cell.strip() for cell in row)[:300]
    raise ImportRejected(
        f"layout {layout.name} expects the header {expected!r}"
        + (f" within its first {layout.skip_lines + 1} lines" if layout.skip_lines else "")
        + f"; the file has {found!r}",
        code="layout_header_mismatch",
        line=line_no,
        field="header",
    )


def _head_rows(
    data: bytes, layout: CsvLayout, cache: dict[tuple[str, str], list[tuple[int, list[str]]]]
) -> list[tuple[int, list[str]]]:
    """The first non-blank lines of the file (enough for ``layout``), each read as one CSV
    row, decoded leniently: this only looks for a header."""
    key = (layout.encoding, layout.delimiter)
    rows = cache.get(key)
    if rows is None or len(rows) < layout.skip_lines + 1:
        rows = list(_lenient_rows(data, layout.encoding, layout.delimiter, layout.skip_lines + 1))
        cache[key] = rows
    return rows


def _first_row(data: bytes) -> tuple[int, list[str]]:
    rows = list(_lenient_rows(data, AUTO_ENCODING, ",", 1))
    if not rows:
        raise ImportRejected("the file is empty", code="file_empty")
    return rows[0]


def _lenient_rows(data: bytes, encoding: str, delimiter: str, count: int) -> Iterator[tuple[int, list[str]]]:
    name = "utf-8-sig" if encoding in (AUTO_ENCODING, "utf-8") else encoding
    text = io.TextIOWrapper(io.BytesIO(data[:HEAD_BYTES]), encoding=name, errors="replace", newline="")
    found = 0
    for line_no, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            row = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            row = [line.strip()]
        yield line_no, row
        found += 1
        if found >= count:
            return


# --- reading the records ---------------------------------------------------------------


def _file_encoding(data: bytes, declared: str) -> str:
    """The codec to read the whole file with: UTF-8 (a byte-order mark dropped) when the
    layout says so or, for ``auto``, when the file is valid UTF-8; else Windows-1252."""
    if declared == "utf-8" or (declared == AUTO_ENCODING and _is_utf8(data)):
        return "utf-8-sig"
    return "cp1252" if declared == AUTO_ENCODING else declared


def _is_utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _UTF8_CHECK_CHUNK_BYTES):
            end = start + _UTF8_CHECK_CHUNK_BYTES
            decoder.decode(data[start:end], final=end >= len(data))
    except UnicodeDecodeError:
        return False
    return True


class _PhysicalLines:
    """The file's lines, decoded as they are read. Each line read is kept in ``taken``
    until the record it belongs to is complete, to give the record's ``raw`` text."""

    def __init__(self, data: bytes, encoding: str) -> None:
        self._data = data
        self._encoding = encoding
        self._text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
        self.count = 0
        self.taken: list[str] = []

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._text)
        except UnicodeDecodeError:
            raise self._encoding_error() from None
        self.count += 1
        self.taken.append(line)
        return line

    def _encoding_error(self) -> ImportRejected:
        offset = _first_bad_byte(self._data, self._encoding)
        before = io.TextIOWrapper(io.BytesIO(self._data[:offset]), encoding=self._encoding, newline="").read()
        line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
        shown = "UTF-8" if self._encoding.startswith("utf-8") else self._encoding
        return ImportRejected(
            f"byte 0x{self._data[offset]:02X} is not valid {shown} text", code="encoding_invalid", line=line
        )


def _first_bad_byte(data: bytes, encoding: str) -> int:
    decoder = codecs.getincrementaldecoder(encoding)()
    for start in range(0, len(data), _UTF8_CHECK_CHUNK_BYTES):
        pending = len(decoder.getstate()[0])
        end = start + _UTF8_CHECK_CHUNK_BYTES
        try:
            decoder.decode(data[start:end], final=end >= len(data))
        except UnicodeDecodeError as error:
            return max(0, start - pending + error.start)
    return 0  # pragma: no cover - only called after a decoding error


def _records(
    data: bytes, encoding: str, layout: CsvLayout, header_line: int | None
) -> Iterator[tuple[int, list[str], str]]:
    """``(line_no, fields, raw)`` for each non-blank record after the header (for a layout
    without one, after its ``skip_lines``)."""
    lines = _PhysicalLines(data, encoding)
    for _ in range(header_line if header_line is not None else layout.skip_lines):
        if next(lines, None) is None:
            return
    taken = lines.taken
    taken.clear()
    reader = csv.reader(lines, delimiter=layout.delimiter)
    skip_header_once = header_line is None
    while True:
        line_no = lines.count + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRejected(f"the CSV text does not read: {error}", code="csv_invalid", line=line_no) from None
        raw = taken[0] if len(taken) == 1 else "".join(taken)
        taken.clear()
        if not row or not "".join(row).strip():
            continue
        if skip_header_once:
            # A file for a layout without a header row may still start with the labels.
            skip_header_once = False
            if normalise_header(row) == layout.normalised_header:
                continue
        yield line_no, row, raw.rstrip("\r\n")


# --- turning records into statement lines ----------------------------------------------


def _text(cell: str) -> str:
    """A cell's text, trimmed, without a spreadsheet's leading apostrophe."""
    text = cell.strip()
    if text[:1] == "'":
        text = text[1:].strip()
    return text


class _Columns:
    """Where each value is in a row of ``layout``, and how to read the values that are not
    read on every line (the account, the currency)."""

    def __init__(self, layout: CsvLayout) -> None:
        self.layout = layout
        index = layout.index_of
        self.width = len(layout.normalised_header)
        self.names = layout.header
        self.date = index(layout.date_column)
        self.amount = index(layout.amount_column) if layout.amount_column else None
        self.money_in_positive = layout.amount_sign == MONEY_IN_POSITIVE
        self.debit = index(layout.debit_column) if layout.debit_column else None
        self.credit = index(layout.credit_column) if layout.credit_column else None
        self.descriptions = tuple(index(name) for name in layout.description_columns)

        def optional(name: str | None) -> int | None:
            return index(name) if name else None

        self.payee = optional(layout.payee_column)
        self.mcc = optional(layout.mcc_column)
        self.bank_id = optional(layout.bank_id_column)
        self.balance = optional(layout.balance_column)
        self.currency = optional(layout.currency_column)
        self.fee = optional(layout.fee_column)
        self.kind = optional(layout.kind_column)
        self.sort_code = optional(layout.sort_code_column)
        self.account_number = optional(layout.account_number_column)
        self.sort_code_and_account = optional(layout.sort_code_and_account_column)
        self.card_number = optional(layout.card_number_column)
        self.account_cells = tuple(
            i
            for i in (self.sort_code, self.account_number, self.sort_code_and_account, self.card_number)
            if i is not None
        )

    @staticmethod
    def _cell(row: list[str], i: int | None) -> str:
        return _text(row[i]) if i is not None and i < len(row) else ""

    def currency_of(self, row: list[str], line_no: int, default: str) -> str:
        text = self._cell(row, self.currency)
        if not text:
            return default
        return check_currency(text, line=line_no, field=self.names[self.currency])  # type: ignore[index]

    def account_of(self, row: list[str]) -> AccountIdentifiers:
        sort_code = _digits(self._cell(row, self.sort_code))
        number = _digits(self._cell(row, self.account_number))
        other = []
        both = self._cell(row, self.sort_code_and_account)
        if both:
            joined = _digits(both)
            if len(joined) == 14 and joined.isdigit():
                sort_code, number = sort_code or joined[:6], number or joined[6:]
            else:
                other.append(both)
        if sort_code and not (len(sort_code) == 6 and sort_code.isdigit()):
            other.append(f"sort code {sort_code}")
            sort_code = ""
        card = self._cell(row, self.card_number)
        if card:
            other.append(f"card {card}")
        return AccountIdentifiers(
            sort_code=sort_code or None, account_number=number or None, other=", ".join(other) or None
        )


def _digits(text: str) -> str:
    """An account number or sort code as written, without spaces and dashes."""
    return text.replace("-", "").replace(" ", "")


def _statement_lines(
    records: Iterator[tuple[int, list[str], str]],
    columns: _Columns,
    currency_code: str,
    account: AccountIdentifiers,
) -> Iterator[StatementLine]:
    layout = columns.layout
    currency = get_currency(currency_code)
    names = columns.names
    width = columns.width
    date_i, date_formats, date_name = columns.date, layout.date_formats, names[columns.date]
    descriptions = columns.descriptions
    payee_i, mcc_i, bank_id_i, kind_i = columns.payee, columns.mcc, columns.bank_id, columns.kind
    balance_i, currency_i, fee_i = columns.balance, columns.currency, columns.fee
    account_cells = columns.account_cells
    first_account_cells: tuple[str, ...] | None = None
    same_currency_cells = {"", currency_code}
    dates: dict[str, date] = {}
    amounts = _AmountReader(currency_code)

    for line_no, row, raw in records:
        if len(row) != width:
            _check_width(row, width, names, line_no)
        date_text = row[date_i]
        posted_on = dates.get(date_text)
        if posted_on is None:
            if len(dates) >= _CACHE_SIZE_MAX:
                dates.clear()
            posted_on = dates[date_text] = _read_date(row, date_text, date_formats, layout, line_no, date_name)
        amount = _amount_of(row, columns, amounts, line_no)
        payee = _text(row[payee_i]) or None if payee_i is not None else None
        if len(descriptions) == 1:
            description = _text(row[descriptions[0]]) or payee or ""
        else:
            description = " ".join(part for part in (_text(row[i]) for i in descriptions) if part) or payee or ""
        mcc = _mcc(row[mcc_i], line_no, names[mcc_i]) if mcc_i is not None else None
        balance_text = _text(row[balance_i]) if balance_i is not None else ""
        balance = Money(amounts.read(balance_text, line_no, names[balance_i]), currency) if balance_text else None  # type: ignore[index]
        if currency_i is not None and row[currency_i] not in same_currency_cells:
            _check_currency(row[currency_i], currency_code, line_no, names[currency_i])
            same_currency_cells.add(row[currency_i])
        if account_cells:
            cells = tuple(row[i] for i in account_cells)
            if first_account_cells is None:
                first_account_cells = cells
            elif cells != first_account_cells:
                _check_account(row, columns, account, first_account_cells, line_no)
        fee_text = _text(row[fee_i]) if fee_i is not None else ""
        fee = amounts.read(fee_text, line_no, names[fee_i]) if fee_text else None  # type: ignore[index]
        line = StatementLine(
            line_no=line_no,
            posted_on=posted_on,
            amount=Money(amount, currency),
            description=description,
            payee=payee,
            mcc=mcc,
            bank_id=_text(row[bank_id_i]) or None if bank_id_i is not None else None,
            balance=None if fee else balance,
            kind=_text(row[kind_i]) or None if kind_i is not None else None,
            raw=raw,
        )
        yield line
        if fee:
            # The fee is the provider's charge, not the merchant's: no payee or MCC. The
            # balance column is the balance after the purchase and its fee.
            yield replace(
                line,
                amount=Money(fee.copy_negate(), currency),
                description=f"Fee: {description}" if description else "Fee",
                payee=None,
                mcc=None,
                balance=balance,
                is_fee=True,
                part=1,
            )


class _AmountReader:
    """``parse_decimal`` for one currency, remembering the texts it has read (card
    statements repeat the same few amounts and balances)."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self._seen: dict[str, Decimal] = {}

    def read(self, text: str, line_no: int, field: str) -> Decimal:
        value = self._seen.get(text)
        if value is None:
            value = parse_decimal(text, currency=self.currency, line=line_no, field=field)
            if len(self._seen) >= _CACHE_SIZE_MAX:
                self._seen.clear()
            self._seen[text] = value
        return value


def _amount_of(row: list[str], columns: _Columns, amounts: _AmountReader, line_no: int) -> Decimal:
    names = columns.names
    if columns.amount is not None:
        value = amounts.read(_text(row[columns.amount]), line_no, names[columns.amount])
        return value if columns.money_in_positive or not value else value.copy_negate()
    debit_i, credit_i = columns.debit, columns.credit
    assert debit_i is not None and credit_i is not None
    debit_text, credit_text = _text(row[debit_i]), _text(row[credit_i])
    debit = amounts.read(debit_text, line_no, names[debit_i]) if debit_text else None
    credit = amounts.read(credit_text, line_no, names[credit_i]) if credit_text else None
    if debit and credit:
        raise ImportRejected(
            f"both {names[debit_i]} ({debit_text}) and {names[credit_i]} ({credit_text}) are filled in",
            code="amount_ambiguous",
            line=line_no,
            field=names[debit_i],
        )
    if debit:
        return abs(debit).copy_negate()
    if credit is not None:
        return abs(credit)
    if debit is not None:
        return abs(debit)
    raise ImportRejected(
        f"neither {names[debit_i]} nor {names[credit_i]} has an amount",
        code="amount_missing",
        line=line_no,
        field=f"{names[debit_i]}/{names[credit_i]}",
    )


def _read_date(
    row: list[str], text: str, formats: tuple[str, ...], layout: CsvLayout, line_no: int, field: str
) -> date:
    try:
        return parse_date(_text(text), formats, line=line_no, field=field)
    except ImportRejected:
        if normalise_header(row) == layout.normalised_header:
            raise ImportRejected(
                "the header row appears again: the file looks like two exports joined together; "
                "import each export on its own",
                code="header_repeated",
                line=line_no,
                field="header",
            ) from None
        raise


def _check_width(row: list[str], width: int, names: tuple[str, ...], line_no: int) -> None:
    if len(row) < width:
        missing = names[len(row)]
        raise ImportRejected(
            f"the row has {len(row)} columns, the layout {width}: {missing} and after are missing",
            code="columns_too_few",
            line=line_no,
            field=missing,
        )
    extra = [i for i in range(width, len(row)) if row[i].strip()]
    if extra:
        raise ImportRejected(
            f"the row has {len(row)} columns, the layout {width}; column {extra[0] + 1} holds {row[extra[0]][:40]!r}",
            code="columns_too_many",
            line=line_no,
            field=f"column {extra[0] + 1}",
        )


def _mcc(cell: str, line_no: int, field: str) -> str | None:
    text = _text(cell)
    if not text:
        return None
    if not (len(text) <= 4 and text.isascii() and text.isdigit()):
        raise ImportRejected(
            f"{text[:40]!r} is not a merchant category code (four digits)", code="mcc_invalid", line=line_no, field=field
        )
    return text.zfill(4)


def _check_currency(cell: str, statement_currency: str, line_no: int, field: str) -> None:
    text = _text(cell)
    if not text:
        return
    code = check_currency(text, line=line_no, field=field)
    if code != statement_currency:
        raise ImportRejected(
            f"this line is in {code}, the lines before in {statement_currency}; a statement is in one currency",
            code="currency_mixed",
            line=line_no,
            field=field,
        )


def _check_account(
    row: list[str], columns: _Columns, first: AccountIdentifiers, first_cells: tuple[str, ...], line_no: int
) -> None:
    named = columns.account_of(row)
    if named.is_empty or named == first or first.is_empty:
        return
    differing = next(
        (i for i, cell in zip(columns.account_cells, first_cells) if _digits(_text(row[i])) != _digits(_text(cell))),
        columns.account_cells[0],
    )
    raise ImportRejected(
        f"this line is for {named.describe()}, the first line for {first.describe()}; "
        "import each account's statement on its own",
        code="several_accounts",
        line=line_no,
        field=columns.names[differing],
    )
