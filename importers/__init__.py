"""Statement importers: one module per format, bytes in, a parsed statement out.

Pure (no database, no web); nothing here imports ``ledger``, ``reports`` or ``web``.

    read_statement(data, "march.ofx")                 # the format is detected from the content
    read_statement(data, "march.csv", format="csv:lloyds")

Every failure is an ``ImportRejected`` naming the file, and where there is one, the line and
the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from importers.detect import detect_format
from importers.errors import ImportRejected
from importers.statement import FORMATS, AccountIdentifiers, ParsedStatement, StatementLine

if TYPE_CHECKING:
    from importers.csv_layouts import CsvLayout

STATEMENT_BYTES_MAX = 128 * 1024 * 1024
"""The largest statement file read: far beyond any real month of a client account (a 100 MB
card export is about 1.3 million lines), small enough to bound memory."""

__all__ = [
    "FORMATS",
    "STATEMENT_BYTES_MAX",
    "AccountIdentifiers",
    "ImportRejected",
    "ParsedStatement",
    "StatementLine",
    "detect_format",
    "read_statement",
]


def read_statement(
    data: bytes,
    file_name: str,
    *,
    format: str = "auto",
    layouts: Sequence[CsvLayout] = (),
) -> ParsedStatement:
    """Parse ``data``. ``format`` is ``auto``, one of ``FORMATS``, or ``csv:<layout name>``;
    ``layouts`` are CSV layouts defined by a provider, tried before the shipped ones."""
    try:
        return _read(data, format, layouts)
    except ImportRejected as error:
        raise error.in_file(file_name) from None


def _read(data: bytes, format: str, layouts: Sequence[CsvLayout]) -> ParsedStatement:
    if len(data) > STATEMENT_BYTES_MAX:
        raise ImportRejected(
            f"the file is {len(data):,} bytes; statements larger than {STATEMENT_BYTES_MAX:,} bytes are not read",
            code="file_too_large",
        )
    if not data.strip():
        raise ImportRejected("the file is empty", code="file_empty")
    kind, _, layout_name = (format or "auto").partition(":")
    kind = kind.strip().lower()
    if kind == "auto":
        kind = detect_format(data)
    if kind not in FORMATS:
        raise ImportRejected(
            f"{format!r} is not a format; use auto, {', '.join(FORMATS)} or csv:LAYOUT", code="format_unknown", field="format"
        )
    if layout_name and kind != "csv":
        raise ImportRejected("only CSV files have layouts", code="format_unknown", field="format")
    if kind == "ofx":
        from importers import ofx_statement

        return ofx_statement.read(data)
    if kind == "qif":
        from importers import qif_statement

        return qif_statement.read(data)
    if kind == "camt053":
        from importers import camt053_statement

        return camt053_statement.read(data)
    if kind == "mt940":
        from importers import mt940_statement

        return mt940_statement.read(data)
    from importers import csv_statement

    return csv_statement.read(data, layout_name=layout_name or None, layouts=layouts)
