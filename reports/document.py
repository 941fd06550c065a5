"""The one view model every report is made of, whatever format it is read in.

A report builder reads the ledger and returns a :class:`Document`: a title, a plain-English
summary, and sections of blocks — facts (label and value), tables (typed columns), paragraphs,
charts, lists of actions, a declaration to sign, easy-read lines with a picture each. The
renderers (``reports.render_*``) turn the same document into HTML, PDF, CSV and XLSX, so a
figure can never differ between formats: each is the same value, formatted by its kind.

Values are typed by :class:`ValueKind` and stored the way the ledger stores them: money in
integer pence, weeks in tenths, percentages in basis points, hours in hundredths, days as
``date``. Nothing here is ever a float. A document is plain data: it turns into JSON and back
(:func:`to_json`, :func:`from_json`), which is how a generated document is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Union

FORMAT_VERSION = 1


class ValueKind(StrEnum):
    TEXT = "text"
    MONEY = "money"
    """Integer pence."""
    COUNT = "count"
    DATE = "date"
    WEEKS = "weeks"
    """Tenths of a week (43 = 4.3 weeks)."""
    PERCENT = "percent"
    """Basis points (1250 = 12.5%)."""
    HOURS = "hours"
    """Hundredths of an hour (750 = 7.5 hours)."""


Value = Union[str, int, date, None]


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: Value
    kind: ValueKind = ValueKind.TEXT
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Labelled values, one per line (an NHS.UK summary list)."""

    key: str
    title: str | None
    facts: tuple[Fact, ...]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: ValueKind = ValueKind.TEXT


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of typed cells. ``totals`` is a last row that adds up the columns it fills (a
    builder works it out; the tests check it). ``row_marks`` names rows that stand out (an
    exception listed first, a flag still open): one mark or None per row."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    totals: tuple[Value, ...] | None = None
    note: str | None = None
    row_marks: tuple[str | None, ...] = ()
    empty_text: str = "Nothing to show."

    def column_index(self, key: str) -> int:
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(key)

    def values(self, key: str) -> list[Value]:
        index = self.column_index(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True, slots=True)
class Paragraphs:
    key: str
    title: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart (one group of bars per category) or a line chart (one point per day).
    The numbers are those of a table in the same document (``table_key``), which is the
    chart's text alternative."""

    key: str
    title: str
    kind: str
    """``bar`` or ``line``."""
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    value_kind: ValueKind = ValueKind.MONEY
    table_key: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Declaration:
    """A statement to sign, with the lines for names, signatures and dates."""

    key: str
    title: str
    text: str
    signatories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PictureLine:
    """One easy-read idea: a picture, a short sentence, and perhaps one big number."""

    picture: str
    text: str
    value: Value = None
    kind: ValueKind = ValueKind.TEXT


@dataclass(frozen=True, slots=True)
class EasyRead:
    key: str
    title: str | None
    lines: tuple[PictureLine, ...]


Block = Union[Facts, Table, Paragraphs, Chart, Declaration, EasyRead]


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]
    intro: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    kind: str
    """The report's name in the catalogue (``quarterly-review``, ``monitoring-return``, …)."""
    title: str
    subtitle: str
    subject: str
    """What it is about, for file names and lists: a budget reference, a funder code, …"""
    period: str
    """The period it covers, as the catalogue names it (``2026Q1``, ``2026-10``, …)."""
    period_start: date | None
    period_end: date | None
    generated_at: datetime
    summary: tuple[str, ...]
    sections: tuple[Section, ...]
    style: str = "standard"
    """``standard`` or ``easy_read`` (large type, pictures)."""
    primary_table: str | None = None
    """When set, the CSV holds this table alone (a return with one table of rows)."""
    organisation: str = ""
    """Who it comes from (the holder or funder), shown in the header."""
    print_rows_max: int | None = None
    """In the PDF, a longer table shows this many rows, its totals, and where the rest is
    (the CSV and XLSX hold every row): a journal of thousands of entries is not printed."""

    def blocks(self) -> Iterator[Block]:
        for section in self.sections:
            yield from section.blocks

    def table(self, key: str) -> Table:
        for block in self.blocks():
            if isinstance(block, Table) and block.key == key:
                return block
        raise KeyError(key)

    def facts(self, key: str) -> Facts:
        for block in self.blocks():
            if isinstance(block, Facts) and block.key == key:
                return block
        raise KeyError(key)

    def fact(self, block_key: str, label: str) -> Value:
        for fact in self.facts(block_key).facts:
            if fact.label == label:
                return fact.value
        raise KeyError(label)

    @property
    def file_stem(self) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in f"{self.kind}-{self.subject}-{self.period}")
        return safe.strip("-").lower()


# --- small helpers builders share ------------------------------------------------------------


def table(key: str, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Value]], **options: Any) -> Table:
    """A table from lists; ``totals=True`` adds up every money, count and hours column."""
    want_totals = options.pop("totals", False)
    frozen_rows = tuple(tuple(row) for row in rows)
    for row in frozen_rows:
        assert len(row) == len(columns), f"{key}: a row has {len(row)} cells for {len(columns)} columns"
    totals = options.pop("totals_row", None)
    if want_totals and totals is None and frozen_rows:
        totals = totals_of(columns, frozen_rows)
    marks = tuple(options.pop("row_marks", ()))
    assert not marks or len(marks) == len(frozen_rows), f"{key}: one mark per row"
    return Table(key, title, tuple(columns), frozen_rows, tuple(totals) if totals is not None else None, row_marks=marks, **options)


SUMMABLE = (ValueKind.MONEY, ValueKind.COUNT, ValueKind.HOURS)


def totals_of(columns: Sequence[Column], rows: Sequence[Sequence[Value]], *, label: str = "Total") -> tuple[Value, ...]:
    totals: list[Value] = []
    for index, column in enumerate(columns):
        if column.kind in SUMMABLE:
            totals.append(sum(int(row[index] or 0) for row in rows))  # type: ignore[arg-type]
        else:
            totals.append(None)
    first_text = next((i for i, c in enumerate(columns) if c.kind == ValueKind.TEXT), None)
    if first_text is not None:
        totals[first_text] = label
    return tuple(totals)


# --- JSON ---------------------------------------------------------------------------------

_BLOCK_TYPES: dict[str, type] = {
    "facts": Facts,
    "table": Table,
    "paragraphs": Paragraphs,
    "chart": Chart,
    "declaration": Declaration,
    "easy_read": EasyRead,
}
_TYPE_NAMES = {kind: name for name, kind in _BLOCK_TYPES.items()}


def to_json(document: Document) -> str:
    """The document as JSON: dates as ``{"date": "2026-04-01"}``, every number an integer."""
    return json.dumps({"format": FORMAT_VERSION, "document": _encode(document)}, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str | bytes) -> Document:
    data = json.loads(text)
    if data.get("format") != FORMAT_VERSION:
        raise ValueError(f"a stored document of format {data.get('format')!r}; this version reads {FORMAT_VERSION}")
    return _decode_document(data["document"])


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, (str, int, type(None))):
        assert not isinstance(value, float)
        return value
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        encoded = {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
        if type(value) in _TYPE_NAMES:
            encoded["type"] = _TYPE_NAMES[type(value)]
        return encoded
    raise TypeError(f"cannot keep a {type(value).__name__} in a document")


def _value(raw: Any) -> Value:
    if isinstance(raw, dict):
        if "date" in raw:
            return date.fromisoformat(raw["date"])
        raise ValueError(f"unknown value {raw!r}")
    if isinstance(raw, float):
        raise ValueError("a stored document holds a float")
    return raw


def _values(raw: Sequence[Any]) -> tuple[Value, ...]:
    return tuple(_value(item) for item in raw)


def _decode_block(raw: dict[str, Any]) -> Block:
    kind = raw["type"]
    if kind == "facts":
        return Facts(raw["key"], raw["title"], tuple(Fact(f["label"], _value(f["value"]), ValueKind(f["kind"]), f["note"]) for f in raw["facts"]))
    if kind == "table":
        return Table(
            raw["key"], raw["title"], tuple(Column(c["key"], c["label"], ValueKind(c["kind"])) for c in raw["columns"]),
            tuple(_values(row) for row in raw["rows"]), _values(raw["totals"]) if raw["totals"] is not None else None,
            raw["note"], tuple(raw["row_marks"]), raw["empty_text"],
        )  # fmt: skip
    if kind == "paragraphs":
        return Paragraphs(raw["key"], raw["title"], tuple(raw["lines"]))
    if kind == "chart":
        return Chart(
            raw["key"], raw["title"], raw["kind"], tuple(raw["labels"]),
            tuple(Series(s["label"], tuple(s["values"])) for s in raw["series"]), ValueKind(raw["value_kind"]),
            raw["table_key"], raw["description"],
        )  # fmt: skip
    if kind == "declaration":
        return Declaration(raw["key"], raw["title"], raw["text"], tuple(raw["signatories"]))
    if kind == "easy_read":
        lines = tuple(PictureLine(p["picture"], p["text"], _value(p["value"]), ValueKind(p["kind"])) for p in raw["lines"])
        return EasyRead(raw["key"], raw["title"], lines)
    raise ValueError(f"unknown block type {kind!r}")


def _decode_document(raw: dict[str, Any]) -> Document:
    sections = tuple(
        Section(s["key"], s["title"], tuple(_decode_block(b) for b in s["blocks"]), s["intro"]) for s in raw["sections"]
    )
    return Document(
        kind=raw["kind"], title=raw["title"], subtitle=raw["subtitle"], subject=raw["subject"], period=raw["period"],
        period_start=_value(raw["period_start"]), period_end=_value(raw["period_end"]),  # type: ignore[arg-type]
        generated_at=datetime.fromisoformat(raw["generated_at"]["datetime"]), summary=tuple(raw["summary"]),
        sections=sections, style=raw["style"], primary_table=raw["primary_table"], organisation=raw["organisation"],
        print_rows_max=raw.get("print_rows_max"),
    )  # fmt: skip


__all__ = [
    "Block", "Chart", "Column", "Declaration", "Document", "EasyRead", "Fact", "Facts", "Paragraphs", "PictureLine",
    "Section", "Series", "Table", "Value", "ValueKind", "from_json", "table", "to_json", "totals_of",
]  # fmt: skip
