"""Reading a rendered document back, format by format, to check it shows the same numbers
as the view model it was made from: CSV rows (csv module), XLSX cells (openpyxl), PDF text
(poppler's ``pdftotext``), HTML text. Used by every report's tests."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from reports.document import Document, Facts, Table, ValueKind
from reports.formatting import display
from reports.render import render

MONEY_RE = re.compile(r"-?£[0-9]{1,3}(?:,[0-9]{3})*\.[0-9]{2}")
ARTEFACTS = Path(__file__).resolve().parent.parent.parent / "var" / "test-artefacts"
"""Where tests leave PDF pages as pictures for a person to look at (``var/`` is ignored by git)."""


def require_poppler() -> None:
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        import os

        reason = "poppler-utils (pdftotext, pdftoppm) is not installed: `make test` installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def pdf_text(pdf: bytes) -> str:
    require_poppler()
    result = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def pdf_pages_to_png(pdf: bytes, name: str, *, resolution: int = 60) -> list[Path]:
    """Turn each page into a PNG under ``var/test-artefacts/<name>-N.png`` and return them."""
    require_poppler()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(resolution), "-png", "-", str(ARTEFACTS / name)], input=pdf, check=True)
    return sorted(ARTEFACTS.glob(f"{name}-*.png"))


def money_values(document: Document, *, rows_max: int | None = None) -> Counter[str]:
    """Every money figure the document shows in facts and tables, as the page writes it
    (with ``rows_max``, as the PDF prints a long table: its first rows and its totals)."""
    shown: Counter[str] = Counter()
    for block in document.blocks():
        if isinstance(block, Facts):
            shown.update(display(f.value, f.kind) for f in block.facts if f.kind == ValueKind.MONEY and f.value is not None)
        elif isinstance(block, Table):
            rows = list(block.rows[:rows_max] if rows_max else block.rows) + ([block.totals] if block.totals else [])
            for row in rows:
                shown.update(display(v, c.kind) for v, c in zip(row, block.columns, strict=True) if c.kind == ValueKind.MONEY and v is not None)
    return shown


def missing_money(document: Document, text: str, *, printed: bool = False) -> Counter[str]:
    """Money figures of the document that the text shows fewer times than the document does
    (``printed``: as its PDF shows them)."""
    found = Counter(MONEY_RE.findall(text))
    wanted = money_values(document, rows_max=document.print_rows_max if printed else None)
    return Counter({value: count - found[value] for value, count in wanted.items() if found[value] < count})


def csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff"), "the CSV starts with a byte-order mark so Excel reads £"
    return list(csv.reader(io.StringIO(text[1:])))


def pence_of_cell(value: object) -> int:
    """An XLSX money cell (pounds, a number) → pence, exactly."""
    assert isinstance(value, (int, float)), f"a money cell holds a number, not {value!r}"
    pence = Decimal(repr(value)) * 100
    assert pence == pence.to_integral_value(), f"{value!r} is not a whole number of pence"
    return int(pence)


def xlsx_tables(content: bytes) -> dict[str, list[tuple[object, ...]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), data_only=True)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def table_sheet(sheets: dict[str, list[tuple[object, ...]]], table: Table) -> list[tuple[object, ...]]:
    """The sheet a table was written to: its header row is the table's columns and its name
    begins the table's title (sheet names drop characters Excel refuses and stop at 31)."""
    for title, rows in sheets.items():
        if rows and [str(c) if c is not None else "" for c in rows[0][: len(table.columns)]] == [c.label for c in table.columns]:
            if _letters(table.title).startswith(_letters(title.split(" (")[0])[:16]):
                return rows
    raise AssertionError(f"no sheet holds the table {table.title!r}")


def xlsx_value(cell: object, kind: ValueKind) -> object:
    """An XLSX cell → the view model's value of that kind."""
    if cell is None:
        return None
    if kind == ValueKind.MONEY:
        return pence_of_cell(cell)
    if kind == ValueKind.DATE:
        return cell.date() if isinstance(cell, datetime) else cell
    if kind == ValueKind.WEEKS:
        return int(Decimal(repr(cell)) * 10)
    if kind == ValueKind.PERCENT:
        return int((Decimal(repr(cell)) * 10_000).to_integral_value())
    if kind == ValueKind.HOURS:
        return int((Decimal(repr(cell)) * 100).to_integral_value())
    if kind == ValueKind.COUNT:
        return int(cell)  # type: ignore[call-overload]
    return cell


def check_every_format(document: Document, *, artefact: str | None = None) -> None:
    """Render all four formats and check each shows the view model's numbers:
    CSV and XLSX cell by cell (every table), PDF and HTML by every money figure."""
    xlsx = render(document, "xlsx").content
    sheets = xlsx_tables(xlsx)
    for block in document.blocks():
        if isinstance(block, Table) and block.rows:
            rows = table_sheet(sheets, block)
            expected = list(block.rows) + ([block.totals] if block.totals else [])
            assert len(rows) >= len(expected) + 1
            for got, want in zip(rows[1 : 1 + len(expected)], expected, strict=True):
                values = [xlsx_value(cell, column.kind) for cell, column in zip(got, block.columns, strict=False)]
                assert [None if v == "" else v for v in values] == [None if v == "" else v for v in want], (block.key, got, want)
    csv_content = render(document, "csv").content
    csv_text = "\n".join(",".join(row) for row in csv_rows(csv_content))
    for block in document.blocks():
        if isinstance(block, Table):
            for row in list(block.rows) + ([block.totals] if block.totals else []):
                for value, column in zip(row, block.columns, strict=True):
                    if column.kind == ValueKind.MONEY and value is not None:
                        assert Decimal(value) / 100 == Decimal(_money_cell(value)) and _money_cell(value) in csv_text
    html = render(document, "html").content.decode("utf-8")
    assert not missing_money(document, _unescape(html)), f"the HTML lacks {missing_money(document, _unescape(html))}"
    pdf = render(document, "pdf").content
    text = pdf_text(pdf)
    assert not missing_money(document, text, printed=True), f"the PDF lacks {missing_money(document, text, printed=True)}"
    if artefact:
        assert pdf_pages_to_png(pdf, artefact)


def _money_cell(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def _unescape(html: str) -> str:
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", " ", html))


