"""A document as an Excel workbook (XlsxWriter): a Summary sheet with the title, the summary
and every block that is not a table, then one sheet per table.

Cells keep their kind: money is a number in pounds with a pound format (so sums work),
dates are dates, weeks and hours are numbers, percentages are Excel percentages. Text that
Excel would run as a formula is written as a string cell, never a formula. A chart whose
figures are a table is drawn as an Excel chart beside that table."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.document import Chart, Declaration, Document, EasyRead, Facts, Paragraphs, Table, Value, ValueKind
from reports.formatting import moment_text

SHEET_NAME_MAX = 31
MONEY_FORMAT = '[$£-809]#,##0.00;-[$£-809]#,##0.00'
_INVALID_SHEET_CHARACTERS = set("[]:*?/\\")


class _Formats:
    def __init__(self, workbook: Workbook) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 16, "font_color": "#005EB8"})
        self.heading = workbook.add_format({"bold": True, "font_size": 12})
        self.header = workbook.add_format({"bold": True, "bottom": 2, "text_wrap": True, "valign": "top"})
        self.label = workbook.add_format({"bold": True, "valign": "top"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.by_kind = {
            ValueKind.MONEY: workbook.add_format({"num_format": MONEY_FORMAT}),
            ValueKind.DATE: workbook.add_format({"num_format": "d mmm yyyy"}),
            ValueKind.WEEKS: workbook.add_format({"num_format": "0.0"}),
            ValueKind.PERCENT: workbook.add_format({"num_format": "0.00%"}),
            ValueKind.HOURS: workbook.add_format({"num_format": "0.00"}),
            ValueKind.COUNT: workbook.add_format({"num_format": "#,##0"}),
            ValueKind.TEXT: workbook.add_format({"valign": "top"}),
        }
        self.totals = {
            kind: workbook.add_format({"num_format": MONEY_FORMAT if kind == ValueKind.MONEY else "#,##0.00" if kind == ValueKind.HOURS else "#,##0", "bold": True, "top": 2})
            for kind in ValueKind
        }  # fmt: skip


def excel_number(value: Value, kind: ValueKind) -> Any:
    """What goes into the cell: pounds for money (a Decimal, which XlsxWriter stores as
    Excel's number), a fraction for a percentage, weeks and hours as decimals."""
    if value is None:
        return None
    if kind == ValueKind.MONEY:
        return Decimal(int(value)) / 100  # type: ignore[arg-type]
    if kind == ValueKind.PERCENT:
        return Decimal(int(value)) / 10_000  # type: ignore[arg-type]
    if kind == ValueKind.WEEKS:
        return Decimal(int(value)) / 10  # type: ignore[arg-type]
    if kind == ValueKind.HOURS:
        return Decimal(int(value)) / 100  # type: ignore[arg-type]
    return value


def _write(sheet: Worksheet, row: int, col: int, value: Value, kind: ValueKind, formats: _Formats, *, totals: bool = False) -> None:
    if value is None:
        return
    cell_format = formats.totals[kind] if totals and kind != ValueKind.TEXT else formats.by_kind[kind]
    if kind == ValueKind.TEXT or isinstance(value, str):
        sheet.write_string(row, col, str(value), formats.label if totals else cell_format)
    elif kind == ValueKind.DATE:
        sheet.write_datetime(row, col, value, cell_format)  # type: ignore[arg-type]
    else:
        sheet.write_number(row, col, excel_number(value, kind), cell_format)


def _sheet_name(title: str, taken: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in _INVALID_SHEET_CHARACTERS).strip().strip("'") or "Table"
    # Excel refuses a sheet name that starts or ends with an apostrophe, which cutting a
    # title ("Totals per holder (this funder's share)") can leave.
    name = base[:SHEET_NAME_MAX].rstrip().rstrip("'")
    counter = 2
    while name.lower() in taken:
        suffix = f" ({counter})"
        name = base[: SHEET_NAME_MAX - len(suffix)].rstrip().rstrip("'") + suffix
        counter += 1
    taken.add(name.lower())
    return name


def render_xlsx(document: Document) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    # Dated when the document was made, not when it is rendered: the same document gives the
    # same bytes (a kept version read twice, across a second's boundary, is one file).
    workbook.set_properties({"title": f"{document.title} — {document.subtitle}", "subject": document.kind, "created": document.generated_at})
    formats = _Formats(workbook)
    taken: set[str] = {"summary"}
    summary = workbook.add_worksheet("Summary")
    summary.set_column(0, 0, 48)
    summary.set_column(1, 3, 22)
    row = _summary_top(summary, document, formats)
    table_sheets: dict[str, tuple[str, Table]] = {}
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                name = _sheet_name(block.title, taken)
                _table_sheet(workbook.add_worksheet(name), block, formats)
                table_sheets[block.key] = (name, block)
    for section in document.sections:
        heading_written = False
        for block in section.blocks:
            if isinstance(block, Table | Chart):
                continue
            if not heading_written:
                row += 1
                summary.write_string(row, 0, section.title, formats.heading)
                row += 1
                heading_written = True
            row = _summary_block(summary, row, block, formats)
    for block in document.blocks():
        if isinstance(block, Chart) and block.table_key in table_sheets:
            _chart(workbook, table_sheets[block.table_key], block)
    workbook.close()
    return buffer.getvalue()


def _summary_top(sheet: Worksheet, document: Document, formats: _Formats) -> int:
    sheet.write_string(0, 0, document.title, formats.title)
    sheet.write_string(1, 0, document.subtitle)
    row = 2
    if document.period_start and document.period_end:
        sheet.write_string(row, 0, "Period", formats.label)
        sheet.write_datetime(row, 1, document.period_start, formats.by_kind[ValueKind.DATE])
        sheet.write_datetime(row, 2, document.period_end, formats.by_kind[ValueKind.DATE])
        row += 1
    sheet.write_string(row, 0, "Made on", formats.label)
    sheet.write_string(row, 1, moment_text(document.generated_at))
    row += 2
    for line in document.summary:
        sheet.write_string(row, 0, line, formats.wrap)
        row += 1
    return row


def _summary_block(sheet: Worksheet, row: int, block: Facts | Paragraphs | Declaration | EasyRead, formats: _Formats) -> int:
    if getattr(block, "title", None):
        sheet.write_string(row, 0, block.title, formats.label)  # type: ignore[arg-type]
        row += 1
    if isinstance(block, Facts):
        for fact in block.facts:
            sheet.write_string(row, 0, fact.label, formats.wrap)
            _write(sheet, row, 1, fact.value, fact.kind, formats)
            if fact.note:
                sheet.write_string(row, 2, fact.note, formats.wrap)
            row += 1
    elif isinstance(block, Paragraphs):
        for line in block.lines:
            sheet.write_string(row, 0, line, formats.wrap)
            row += 1
    elif isinstance(block, Declaration):
        sheet.write_string(row, 0, block.text, formats.wrap)
        row += 1
        for who in block.signatories:
            sheet.write_row(row, 0, [who, "Name:", "Signed:", "Date:"])
            row += 1
    elif isinstance(block, EasyRead):
        for line in block.lines:
            sheet.write_string(row, 0, line.text, formats.wrap)
            _write(sheet, row, 1, line.value, line.kind, formats)
            row += 1
    return row + 1


def _table_sheet(sheet: Worksheet, block: Table, formats: _Formats) -> None:
    for col, column in enumerate(block.columns):
        sheet.write_string(0, col, column.label, formats.header)
        sheet.set_column(col, col, 40 if column.kind == ValueKind.TEXT and col == 0 else 16 if column.kind != ValueKind.TEXT else 28)
    for r, values in enumerate(block.rows, start=1):
        for col, (value, column) in enumerate(zip(values, block.columns, strict=True)):
            _write(sheet, r, col, value, column.kind, formats)
    if block.totals is not None:
        r = len(block.rows) + 1
        for col, (value, column) in enumerate(zip(block.totals, block.columns, strict=True)):
            _write(sheet, r, col, value, column.kind, formats, totals=True)
    sheet.freeze_panes(1, 1)
    if block.rows:
        sheet.autofilter(0, 0, len(block.rows), len(block.columns) - 1)
    if block.note:
        sheet.write_string(len(block.rows) + 3, 0, block.note, formats.wrap)


def _chart(workbook: Workbook, target: tuple[str, Table], block: Chart) -> None:
    name, table = target
    money_columns = [i for i, column in enumerate(table.columns) if column.kind == block.value_kind]
    wanted = [i for i, column in enumerate(table.columns) if column.label in {s.label for s in block.series}] or money_columns[: len(block.series)]
    if not wanted or not table.rows:
        return
    chart = workbook.add_chart({"type": "column" if block.kind == "bar" else "line"})
    last = len(table.rows)
    for col in wanted:
        chart.add_series({
            "name": [name, 0, col],
            "categories": [name, 1, 0, last, 0],
            "values": [name, 1, col, last, col],
        })  # fmt: skip
    chart.set_title({"name": block.title})
    chart.set_y_axis({"num_format": MONEY_FORMAT if block.value_kind == ValueKind.MONEY else "General"})
    chart.set_size({"width": 720, "height": 360})
    workbook.get_worksheet_by_name(name).insert_chart(last + 5, 0, chart)
