"""A document as CSV (UTF-8 with a byte-order mark, so Excel reads the pound sign).

A return with one table of rows (``Document.primary_table``) is that table alone: a header
row, the rows, the totals. Any other document is its blocks one after another, each under a
row naming it and separated by an empty row; charts are left out (their figures are a table).

Numbers are plain (1234.56, 4.3), dates ISO (2026-04-01). A text cell that a spreadsheet
would run as a formula — starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return — is written with a leading apostrophe (OWASP's advice on CSV injection), so a payee
named ``=HYPERLINK(…)`` stays text. Numbers are never changed: a negative amount is -12.00.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from reports.document import Chart, Declaration, Document, EasyRead, Facts, Paragraphs, Table, Value, ValueKind
from reports.formatting import cell, moment_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"

Row = list[str]


def safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Value, kind: ValueKind) -> str:
    text = cell(value, kind)
    return safe_text(text) if kind == ValueKind.TEXT else text


def _table_rows(block: Table) -> Iterator[Row]:
    yield [safe_text(column.label) for column in block.columns]
    for row in block.rows:
        yield [_cell(value, column.kind) for value, column in zip(row, block.columns, strict=True)]
    if block.totals is not None:
        yield [_cell(value, column.kind) for value, column in zip(block.totals, block.columns, strict=True)]


def document_rows(document: Document) -> Iterator[Row]:
    if document.primary_table is not None:
        yield from _table_rows(document.table(document.primary_table))
        return
    yield [safe_text(document.title)]
    yield [safe_text(document.subtitle)]
    if document.period_start and document.period_end:
        yield ["Period", f"{document.period_start.isoformat()} to {document.period_end.isoformat()}"]
    yield ["Made on", safe_text(moment_text(document.generated_at))]
    for line in document.summary:
        yield [safe_text(line)]
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Chart):
                continue
            yield []
            yield [safe_text(_heading(section.title, getattr(block, "title", None)))]
            yield from _block_rows(block)


def _heading(section_title: str, block_title: str | None) -> str:
    return f"{section_title}: {block_title}" if block_title and block_title != section_title else section_title


def _block_rows(block: Facts | Table | Paragraphs | Declaration | EasyRead) -> Iterator[Row]:
    if isinstance(block, Facts):
        for fact in block.facts:
            yield [safe_text(fact.label), _cell(fact.value, fact.kind)] + ([safe_text(fact.note)] if fact.note else [])
    elif isinstance(block, Table):
        yield from _table_rows(block)
    elif isinstance(block, Paragraphs):
        for line in block.lines:
            yield [safe_text(line)]
    elif isinstance(block, Declaration):
        yield [safe_text(block.text)]
        for who in block.signatories:
            yield [safe_text(who), "Name:", "Signed:", "Date:"]
    elif isinstance(block, EasyRead):
        for line in block.lines:
            yield [safe_text(line.text)] + ([_cell(line.value, line.kind)] if line.value is not None else [])


def write_rows(rows: Sequence[Row] | Iterator[Row]) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def render_csv(document: Document) -> bytes:
    return write_rows(document_rows(document))


__all__ = ["FORMULA_STARTS", "document_rows", "render_csv", "safe_text", "write_rows"]
