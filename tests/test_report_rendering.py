"""The view model and its renderers, apart from any report: a document survives JSON (how
it is kept) exactly; CSV neutralises cells a spreadsheet would run as formulas and leaves
numbers alone; XLSX keeps money as numbers in pounds with a pound format and text as text;
every format shows the same figures; charts and pictures are well-formed SVG; the plan's
pace is right to the penny against fractions (a hypothesis property)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timedelta
from fractions import Fraction

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.charts import chart_svg
from reports.document import Chart, Column, Document, Fact, Facts, Paragraphs, Section, Series, ValueKind, from_json, table, to_json
from reports.pictures import NAMES, picture_svg
from reports.plan_pacing import LineToPace, paced_to
from reports.render import render
from tests.support.report_formats import check_every_format, csv_rows

M, T, D = ValueKind.MONEY, ValueKind.TEXT, ValueKind.DATE
HOSTILE = ("=HYPERLINK(\"http://x\",\"pay\")", "+44 7700 900000", "-2+3", "@SUM(A1:A9)", "\tTabbed", "\rReturned")


def document_with(*blocks, primary: str | None = None) -> Document:  # type: ignore[no-untyped-def]
    return Document(
        kind="test", title="A test", subtitle="for renderers", subject="T-1", period="2026Q1",
        period_start=date(2026, 4, 1), period_end=date(2026, 6, 30), generated_at=datetime(2026, 7, 1, 9, 0),
        summary=("£1.00 is left.",), sections=(Section("one", "One", tuple(blocks)),), primary_table=primary,
    )  # fmt: skip


def test_csv_neutralises_formulas_in_text_and_leaves_numbers_alone() -> None:
    payments = table(
        "payments", "Payments", (Column("payee", "Paid to"), Column("amount", "Amount", M), Column("on", "On", D)),
        [(text, -1_250, date(2026, 5, 1)) for text in HOSTILE], totals=True,
    )  # fmt: skip
    notes = Facts("notes", "Notes", (Fact("=cmd|' /C calc'!A0", "@evil"),))
    rows = csv_rows(render(document_with(payments, notes), "csv").content)
    cells = [cell for row in rows for cell in row]
    for text in HOSTILE:
        assert "'" + text in cells and text not in cells
    assert "'=cmd|' /C calc'!A0" in cells and "'@evil" in cells
    assert cells.count("-12.50") == len(HOSTILE) and "-75.00" in cells and "2026-05-01" in cells


def test_a_primary_table_is_the_whole_csv() -> None:
    counts = table("counts", "Counts", (Column("group", "Group"), Column("people", "People", ValueKind.COUNT)), [("Adults", 3), ("Children", 1)])
    rows = csv_rows(render(document_with(counts, Paragraphs("p", None, ("Ignored in the CSV",)), primary="counts"), "csv").content)
    assert rows == [["Group", "People"], ["Adults", "3"], ["Children", "1"]]


def test_xlsx_keeps_money_as_pounds_with_a_pound_format_and_text_as_text() -> None:
    payments = table("payments", "Payments", (Column("payee", "Paid to"), Column("amount", "Amount", M)), [(HOSTILE[0], 123_456), ("Shop", -5)], totals=True)
    workbook = openpyxl.load_workbook(io.BytesIO(render(document_with(payments), "xlsx").content))
    sheet = workbook["Payments"]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == HOSTILE[0]
    assert sheet["B2"].value == 1234.56 and "£" in sheet["B2"].number_format
    assert sheet["B3"].value == -0.05 and sheet["B4"].value == 1234.51
    assert sheet["A4"].value == "Total"


def test_the_same_document_gives_the_same_xlsx_bytes_whenever_it_is_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept version read twice is one file, even across a second's boundary."""
    import xlsxwriter.core

    payments = table("payments", "Payments", (Column("payee", "Paid to"), Column("amount", "Amount", M)), [("Shop", 5)], totals=True)
    document = document_with(payments)
    first = render(document, "xlsx").content
    later = datetime.now() + timedelta(hours=1)
    monkeypatch.setattr(xlsxwriter.core, "datetime", type("Later", (datetime,), {"now": classmethod(lambda cls, tz=None: later)}))
    assert render(document, "xlsx").content == first


def test_every_format_shows_the_same_figures() -> None:
    payments = table("payments", "Payments", (Column("payee", "Paid to"), Column("amount", "Amount", M), Column("on", "On", D)),
                     [("Card shop", 1_999, date(2026, 4, 2)), ("Refund", -250, date(2026, 4, 3)), ("Big", 12_345_678, date(2026, 6, 30))], totals=True)  # fmt: skip
    facts = Facts("position", "Position", (Fact("Money left", 4_567_890, M), Fact("Weeks held", 43, ValueKind.WEEKS), Fact("Share", 1250, ValueKind.PERCENT)))
    check_every_format(document_with(facts, payments))


values = st.one_of(st.none(), st.integers(-10**12, 10**12), st.text(max_size=30), st.dates(date(2000, 1, 1), date(2100, 1, 1)))


@given(rows=st.lists(st.tuples(st.text(max_size=20), st.integers(-10**10, 10**10), values), max_size=8),
       lines=st.lists(st.text(max_size=40), max_size=4))  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_a_document_survives_json_exactly(rows: list, lines: list) -> None:
    block = table("t", "T", (Column("a", "A"), Column("b", "B", M), Column("c", "C")), rows, totals=True)
    document = document_with(block, Paragraphs("p", "P", tuple(lines)), Facts("f", None, (Fact("x", 5, M, "note"),)))
    assert from_json(to_json(document)) == document


def test_a_kept_document_holding_a_float_is_refused() -> None:
    text = to_json(document_with(Facts("f", None, (Fact("x", 5, M),)))).replace('"value":5', '"value":5.0')
    with pytest.raises(ValueError, match="float"):
        from_json(text)


@pytest.mark.parametrize("kind", ["bar", "line"])
def test_charts_are_well_formed_svg_with_a_title(kind: str) -> None:
    chart = Chart("c", "Spending & plan <by category>", kind, ("Staff pay", "Transport", "Equipment"),
                  (Series("Paced", (1_000_000, 50_000, 0)), Series("Spent", (900_000, -2_500, 35_000))), M)  # fmt: skip
    svg = ElementTree.fromstring(chart_svg(chart))
    assert svg.find("{http://www.w3.org/2000/svg}title").text == "Spending & plan <by category>"  # type: ignore[union-attr]
    assert svg.get("role") == "img"


@pytest.mark.parametrize("name", [*NAMES, "unknown"])
def test_every_easy_read_picture_is_well_formed_svg(name: str) -> None:
    assert ElementTree.fromstring(picture_svg(name)).get("viewBox") == "0 0 96 96"


def pace_by_fractions(line: LineToPace, start: date, end: date, day: date) -> int:
    def half_up(value: Fraction) -> int:
        return (1 if value >= 0 else -1) * int(abs(value) + Fraction(1, 2))

    if line.kind == "one_off":
        if line.starts_on is None:
            return line.amount_pence
        if line.ends_on is None or line.ends_on <= line.starts_on:
            return line.amount_pence if line.starts_on <= day else 0
        days = (line.ends_on - line.starts_on).days + 1
        return half_up(Fraction(line.amount_pence * max(0, min(days, (min(day, line.ends_on) - line.starts_on).days + 1)), days))
    days = (end - start).days + 1
    return half_up(Fraction(line.amount_pence * max(0, min(days, (min(day, end) - start).days + 1)), days))


@given(
    amount=st.integers(0, 10**9), kind=st.sampled_from(["recurring", "one_off"]), offset=st.integers(-400, 800),
    starts=st.one_of(st.none(), st.integers(-200, 400)), length=st.one_of(st.none(), st.integers(0, 300)),
)  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_the_pace_of_a_line_is_exact(amount: int, kind: str, offset: int, starts: int | None, length: int | None) -> None:
    start, end = date(2026, 4, 1), date(2027, 3, 31)
    starts_on = start + timedelta(days=starts) if starts is not None else None
    ends_on = starts_on + timedelta(days=length) if starts_on is not None and length is not None else None
    line = LineToPace("activities", kind, amount, starts_on, ends_on)
    day = start + timedelta(days=offset)
    paced = paced_to(line, start, end, day)
    assert paced == pace_by_fractions(line, start, end, day)
    assert 0 <= paced <= amount
    assert paced <= paced_to(line, start, end, day + timedelta(days=1))
    if kind == "recurring":
        assert paced_to(line, start, end, end) == amount


def test_a_title_cut_to_a_sheet_name_never_ends_with_an_apostrophe() -> None:
    long = table("t", "Totals per holder (this funder's share)", (Column("a", "A"),), [("x",)])
    again = table("u", "Totals per holder (this funder's share) again", (Column("a", "A"),), [("y",)])
    workbook = openpyxl.load_workbook(io.BytesIO(render(document_with(long, again), "xlsx").content))
    assert all(not name.endswith("'") for name in workbook.sheetnames) and len(workbook.sheetnames) == 3
