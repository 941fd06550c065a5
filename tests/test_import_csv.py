"""CSV statements through layouts (``importers.csv_statement``, ``importers.csv_layouts``).

Every file in ``tests/data/statements/csv/`` is listed with what it must give: the two
real exports (Lloyds, Starling) line for line, and a small sample written for each shipped
layout. The round-trip property writes random lines in each layout's columns with
``csv.writer`` (the oracle) and reads them back field by field, line numbers and raw text
included; the robustness property feeds random and mutated bytes and accepts only
``ImportRejected``. The bad-input cases each check the code, the line and the column.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

from importers import read_statement
from importers.csv_layouts import (
    LAYOUTS_FOLDER,
    MONEY_IN_POSITIVE,
    CsvLayout,
    detect_layout,
    layout_as_dict,
    layout_from_dict,
    shipped_layouts,
)
from importers.csv_statement import read
from importers.errors import ImportRejected
from importers.statement import AccountIdentifiers, StatementLine

DATA = Path(__file__).parent / "data" / "statements" / "csv"
SHIPPED = {layout.name: layout for layout in shipped_layouts()}


def gbp(text: str) -> Money:
    return Money(Decimal(text), "GBP")


def rejection(data: bytes, **options) -> ImportRejected:
    """The error reading ``data`` (and iterating all its lines) raises."""
    with pytest.raises(ImportRejected) as caught:
        list(read(data, **options).lines)
    return caught.value


# --- the files -------------------------------------------------------------------------

LLOYDS_REAL = "ofxstatement-lloyds__sample-statement.csv"
STARLING_REAL = "starling-developer-sdk__v2-get-statement.csv"


def test_the_real_lloyds_export_reads_line_for_line() -> None:
    raw = (DATA / LLOYDS_REAL).read_text().splitlines()
    statement = read((DATA / LLOYDS_REAL).read_bytes())
    assert (statement.format, statement.layout, statement.currency) == ("csv", "lloyds", "GBP")
    assert statement.account == AccountIdentifiers(sort_code="998874", account_number="1515152252")
    assert statement.period_start is None and statement.opening_balance is None

    def lloyds(line_no: int, day: date, amount: str, description: str, balance: str, kind: str) -> StatementLine:
        return StatementLine(
            line_no=line_no,
            posted_on=day,
            amount=gbp(amount),
            description=description,
            balance=gbp(balance),
            kind=kind,
            raw=raw[line_no - 1],
        )

    assert list(statement.lines) == [
        lloyds(2, date(2024, 1, 15), "-8.99", "Ebay*xxxx CD xxxx    14JAN24", "2040.59", "DEB"),
        lloyds(3, date(2024, 1, 12), "-4.79", "NON-GBP TRANS FEE          2.75% CD 1417", "2049.58", "DEB"),
        lloyds(4, date(2024, 1, 12), "-5975.12", "OUiog dollaros      202.40 VISAXR     1.16168 CD 1417", "2054.37", "DEB"),
        lloyds(5, date(2023, 12, 1), "2000.00", "HHHHH LTD RP010110001110 207348     10 01DEC23 16:05", "8029.49", "FPI"),
        lloyds(6, date(2023, 12, 1), "-5.97", "INS2 01000011/010011110010", "6029.49", "DD"),
        lloyds(7, date(2023, 12, 1), "-4.12", "INS1 1010100110101-10101010", "6039.58", "DD"),
    ]


def test_the_real_starling_export_reads_line_for_line() -> None:
    statement = read((DATA / STARLING_REAL).read_bytes())
    assert (statement.layout, statement.currency, statement.account) == ("starling", "GBP", AccountIdentifiers())
    assert list(statement.lines) == [
        StatementLine(
            line_no=2,
            posted_on=date(2019, 10, 1),
            amount=gbp("1500.00"),
            description="SALARY",
            payee="An Employer",
            balance=gbp("5500.00"),
            kind="FASTER PAYMENT",
            raw="01/10/2019,An Employer,SALARY,FASTER PAYMENT,1500.00,5500.00,INCOME",
        ),
        StatementLine(
            line_no=3,
            posted_on=date(2019, 10, 2),
            amount=gbp("-1000.00"),
            description="Rent",
            payee="Landlord",
            balance=gbp("4500.00"),
            kind="FASTER PAYMENT",
            raw="02/10/2019,Landlord,Rent,FASTER PAYMENT,-1000.00,4500.00,PAYMENTS",
        ),
    ]


@dataclass(frozen=True)
class Sample:
    layout: str
    line_nos: tuple[int, ...]
    amounts: tuple[str, ...]
    last_balance: str | None
    account: AccountIdentifiers
    chosen: bool = False
    """Read as ``csv:<layout>`` (the layout has no header row to recognise)."""


SAMPLES = {
    "sample__barclays.csv": Sample(
        "barclays", (2, 3, 4, 5, 6), ("-12.49", "-4.20", "400.00", "-85.00", "-30.00"), None,
        AccountIdentifiers(sort_code="203206", account_number="13152170"),
    ),
    "sample__hsbc.csv": Sample(
        "hsbc", (1, 2, 3, 4), ("-23.40", "1200.00", "-7.99", "-1085.00"), None, AccountIdentifiers(), chosen=True
    ),
    "sample__lloyds.csv": Sample(
        "lloyds", (2, 3, 4), ("-85.00", "400.00", "-12.49"), "1000.00",
        AccountIdentifiers(sort_code="309457", account_number="12345678"),
    ),
    "sample__natwest.csv": Sample(
        "natwest", (4, 5, 6), ("-24.50", "-7.99", "400.00"), "1322.99",
        AccountIdentifiers(sort_code="600008", account_number="49127454"),
    ),
    "sample__nationwide.csv": Sample(
        "nationwide", (6, 7, 8), ("400.00", "-7.99", "-24.50"), "1290.50", AccountIdentifiers()
    ),
    "sample__santander.csv": Sample(
        "santander", (2, 3, 4), ("400.00", "-7.99", "-24.50"), "1290.50", AccountIdentifiers()
    ),
    "sample__monzo.csv": Sample(
        "monzo", (2, 3, 4, 5), ("400.00", "-7.99", "-4.30", "-50.00"), None, AccountIdentifiers()
    ),
    "sample__starling.csv": Sample(
        "starling", (2, 3, 4), ("400.00", "-7.99", "-24.50"), "1290.50", AccountIdentifiers()
    ),
    "sample__prepaid_card.csv": Sample(
        "prepaid_card", (2, 3, 4, 5, 5, 6, 6), ("150.00", "-23.40", "-6.50", "-12.00", "-0.33", "-20.00", "-1.50"),
        "86.27", AccountIdentifiers(other="card ************4821"),
    ),
}


def test_every_file_is_listed() -> None:
    assert sorted(path.name for path in DATA.iterdir()) == sorted([LLOYDS_REAL, STARLING_REAL, *SAMPLES])


def test_there_is_a_sample_for_every_shipped_layout() -> None:
    assert sorted(sample.layout for sample in SAMPLES.values()) == sorted(SHIPPED)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_reads_through_its_layout(name: str) -> None:
    expected = SAMPLES[name]
    data = (DATA / name).read_bytes()
    statement = read_statement(data, name, format=f"csv:{expected.layout}" if expected.chosen else "auto")
    lines = list(statement.lines)
    assert statement.layout == expected.layout
    assert statement.account == expected.account
    assert tuple(line.line_no for line in lines) == expected.line_nos
    assert tuple(line.amount for line in lines) == tuple(gbp(amount) for amount in expected.amounts)
    assert lines[-1].balance == (gbp(expected.last_balance) if expected.last_balance else None)
    assert all(line.description for line in lines)


def test_the_hsbc_sample_is_not_recognised_without_its_layout() -> None:
    error = rejection((DATA / "sample__hsbc.csv").read_bytes())
    assert (error.code, error.line, error.field) == ("layout_not_detected", 1, "header")
    assert "02/04/2024,TESCO STORES 3315    LONDON,-23.40" in error.reason


def test_nationwide_reads_pound_signs_from_windows_1252_below_its_preamble() -> None:
    lines = list(read((DATA / "sample__nationwide.csv").read_bytes()).lines)
    assert [(line.posted_on, line.kind, line.balance) for line in lines] == [
        (date(2024, 4, 5), "Bank credit NHS SOMERSET ICB", gbp("1322.99")),
        (date(2024, 4, 8), "Visa purchase", gbp("1315.00")),
        (date(2024, 4, 9), "Direct debit", gbp("1290.50")),
    ]


def test_natwest_drops_the_apostrophes_and_keeps_a_quoted_comma() -> None:
    lines = list(read((DATA / "sample__natwest.csv").read_bytes()).lines)
    assert [line.description for line in lines] == [
        "SOUTH WEST WATER",
        "4545 07APR24 , BOOTS 1123 , EXETER GB",
        "NHS DEVON ICB PHB",
    ]


def test_monzo_keeps_its_ids_and_payees_and_falls_back_to_the_name() -> None:
    lines = list(read((DATA / "sample__monzo.csv").read_bytes()).lines)
    assert [(line.bank_id, line.payee, line.kind) for line in lines][1:3] == [
        ("tx_0000AbCdEf1234567891", "Boots", "Card payment"),
        ("tx_0000AbCdEf1234567892", "Café de Paris", "Card payment"),
    ]
    assert lines[3].description == "Savings"  # a pot transfer has no description


def test_a_card_line_with_a_fee_becomes_a_purchase_and_a_fee() -> None:
    lines = list(read((DATA / "sample__prepaid_card.csv").read_bytes()).lines)
    purchase, fee = lines[3], lines[4]
    assert (purchase.part, purchase.is_fee, purchase.amount, purchase.mcc, purchase.balance) == (
        0, False, gbp("-12.00"), "9402", None,
    )
    assert (fee.part, fee.is_fee, fee.amount, fee.mcc, fee.balance, fee.line_no, fee.raw) == (
        1, True, gbp("-0.33"), None, gbp("107.77"), purchase.line_no, purchase.raw,
    )
    assert fee.bank_id == purchase.bank_id == "PC0000004"
    assert lines[1].payee == "TESCO STORES 3021" and lines[2].payee == "LEISURE CENTRE, EXETER"


# --- recognising layouts ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(name for name, layout in SHIPPED.items() if layout.has_header_row))
def test_every_shipped_layout_is_recognised_from_its_own_header(name: str) -> None:
    layout = SHIPPED[name]
    assert detect_layout(list(layout.header), shipped_layouts()) is layout
    shouted = [f"  {column.upper()} " for column in layout.header] + [""]  # case, spaces, trailing comma
    assert detect_layout(shouted, shipped_layouts()) is layout
    data = ",".join(f'"{column}"' for column in layout.header).encode() + b"\r\n"
    statement = read(data)
    assert (statement.layout, list(statement.lines)) == (name, [])


def test_no_two_shipped_layouts_share_a_header_and_each_cites_its_source() -> None:
    headers = [layout.normalised_header for layout in SHIPPED.values()]
    assert len(set(headers)) == len(headers)
    for path in LAYOUTS_FOLDER.glob("*.json"):
        definition = json.loads(path.read_text())
        assert definition["name"] == path.stem
        source = definition["source"].lower()
        assert any(word in source for word in ("verified", "unverified", "own definition")), path.name
        assert definition["description"].strip()


def test_a_layout_without_a_header_row_is_never_detected() -> None:
    with pytest.raises(ImportRejected) as caught:
        detect_layout(["Date", "Description", "Amount"], [SHIPPED["hsbc"]])
    assert caught.value.code == "layout_not_detected"


def test_an_unknown_header_is_named_in_the_error() -> None:
    error = rejection(b"\r\n\r\nWhen,What,How much\r\n01/02/2024,Tea,-1.00\r\n")
    assert (error.code, error.line, error.field) == ("layout_not_detected", 3, "header")
    assert "'When,What,How much'" in error.reason and "lloyds" in error.reason


def test_an_unknown_layout_name_is_refused() -> None:
    error = rejection(b"a,b\r\n", layout_name="barclay")
    assert (error.code, error.field) == ("layout_unknown", "format")
    assert "barclays" in error.reason


def test_a_chosen_layout_must_find_its_header() -> None:
    error = rejection((DATA / STARLING_REAL).read_bytes(), layout_name="lloyds")
    assert (error.code, error.line, error.field) == ("layout_header_mismatch", 1, "header")


def test_a_chosen_layout_reads_a_file_another_would_also_fit() -> None:
    statement = read((DATA / "sample__lloyds.csv").read_bytes(), layout_name="LLOYDS")
    assert statement.layout == "lloyds" and len(list(statement.lines)) == 3


def test_a_headerless_file_that_starts_with_the_labels_skips_them() -> None:
    statement = read(b"Date,Description,Amount\n01/02/2024,TEA,-1.00\n", layout_name="hsbc")
    assert [line.line_no for line in statement.lines] == [2]


PROVIDER_STARLING = layout_from_dict(
    {**layout_as_dict(SHIPPED["starling"]), "name": "acme_starling", "description_columns": ["Counter Party", "Reference"]},
    source="provider Acme Care",
)


def test_provider_layouts_are_tried_before_the_shipped_ones() -> None:
    statement = read((DATA / STARLING_REAL).read_bytes(), layouts=[PROVIDER_STARLING])
    assert statement.layout == "acme_starling"
    assert [line.description for line in statement.lines] == ["An Employer SALARY", "Landlord Rent"]
    chosen = read_statement((DATA / STARLING_REAL).read_bytes(), "s.csv", format="csv:acme_starling", layouts=[PROVIDER_STARLING])
    assert chosen.layout == "acme_starling"


# --- layout definitions ----------------------------------------------------------------

MINIMAL = {
    "name": "acme",
    "description": "Acme card export",
    "header": ["Date", "Details", "Amount"],
    "date_column": "Date",
    "amount_column": "Amount",
    "description_columns": ["Details"],
}


def test_a_minimal_definition_gets_the_defaults() -> None:
    layout = layout_from_dict(MINIMAL, source="provider 7")
    assert (layout.encoding, layout.delimiter, layout.skip_lines, layout.amount_sign, layout.currency) == (
        "auto", ",", 0, MONEY_IN_POSITIVE, "GBP",
    )
    assert layout.date_formats == ("%d/%m/%Y", "%d/%m/%y")
    assert layout.source == layout.defined_in == "provider 7"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_layout_survives_being_written_as_a_definition(name: str) -> None:
    layout = SHIPPED[name]
    assert layout_from_dict(json.loads(json.dumps(layout_as_dict(layout))), source="copy") == layout


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"colour": "red"}, "layout_invalid", "colour"),
        ({"date_column": None}, "layout_invalid", "date_column"),
        ({"debit_column": "Amount", "credit_column": "Details"}, "layout_invalid", "amount_column"),
        ({"amount_column": None}, "layout_invalid", "amount_column"),
        ({"amount_column": None, "debit_column": "Amount"}, "layout_invalid", "credit_column"),
        ({"encoding": "klingon-8"}, "encoding_unknown", "encoding"),
        ({"encoding": "rot13"}, "encoding_unknown", "encoding"),
        ({"date_column": "Posted"}, "layout_invalid", "date_column"),
        ({"payee_column": "Merchant"}, "layout_invalid", "payee_column"),
        ({"description_columns": []}, "layout_invalid", "description_columns"),
        ({"description_columns": ["Details", "Memo"]}, "layout_invalid", "description_columns"),
        ({"date_formats": ["%m/%Y"]}, "layout_invalid", "date_formats"),
        ({"date_formats": ["DD/MM/YYYY"]}, "layout_invalid", "date_formats"),
        ({"date_formats": "%d/%m/%Y"}, "layout_invalid", "date_formats"),
        ({"delimiter": ",,"}, "layout_invalid", "delimiter"),
        ({"delimiter": '"'}, "layout_invalid", "delimiter"),
        ({"name": "Acme Card!"}, "layout_invalid", "name"),
        ({"name": None}, "layout_invalid", "name"),
        ({"description": ""}, "layout_invalid", "description"),
        ({"header": ["Date", "date", "Amount"]}, "layout_invalid", "header"),
        ({"header": "Date,Details,Amount"}, "layout_invalid", "header"),
        ({"skip_lines": -1}, "layout_invalid", "skip_lines"),
        ({"skip_lines": True}, "layout_invalid", "skip_lines"),
        ({"has_header_row": "no"}, "layout_invalid", "has_header_row"),
        ({"amount_sign": "positive"}, "layout_invalid", "amount_sign"),
        ({"currency": "POUNDS"}, "layout_invalid", "currency"),
    ],
)
def test_a_wrong_definition_is_refused_naming_the_key(change: dict, code: str, field: str) -> None:
    definition = {key: value for key, value in {**MINIMAL, **change}.items() if value is not None}
    with pytest.raises(ImportRejected) as caught:
        layout_from_dict(definition, source="provider 7")
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_definition_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ImportRejected) as caught:
        layout_from_dict(["Date"], source="provider 7")  # type: ignore[arg-type]
    assert caught.value.code == "layout_invalid"


# --- quirks and bad input --------------------------------------------------------------

STARLING_HEADER = b"Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category"
STARLING_ROW = b"05/04/2024,Boots,BOOTS 1123,CARD,-7.99,1315.00,SHOPPING"
LLOYDS_HEADER = (
    b"Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
    b"Debit Amount,Credit Amount,Balance,"
)


def starling(*rows: bytes, newline: bytes = b"\r\n") -> bytes:
    return newline.join((STARLING_HEADER, *rows)) + newline


def test_a_byte_order_mark_crlf_blank_lines_and_two_digit_years_are_read() -> None:
    data = b"\xef\xbb\xbf" + starling(b"", STARLING_ROW, b"   ", b"06/04/24,Tesco,,CARD,-1.00,1314.00,", b"")
    lines = list(read(data).lines)
    assert [(line.line_no, line.posted_on) for line in lines] == [(3, date(2024, 4, 5)), (5, date(2024, 4, 6))]
    assert lines[1].description == "Tesco"


def test_cr_only_line_ends_count_as_lines() -> None:
    lines = list(read(starling(STARLING_ROW, STARLING_ROW, newline=b"\r")).lines)
    assert [line.line_no for line in lines] == [2, 3]


def test_quoted_line_breaks_keep_the_line_numbers_physical() -> None:
    data = starling(
        b'05/04/2024,"Boots\r\nExeter",",,""quoted""\r\n\r\nthree lines",CARD,-7.99,1315.00,SHOPPING',
        b"",
        STARLING_ROW,
        b'06/04/2024,Tesco,"x\ny",CARD,-1.00,1314.00,',
        STARLING_ROW,
    )
    statement = read(data)
    lines = list(statement.lines)
    assert [line.line_no for line in lines] == [2, 7, 8, 10]
    assert lines[0].payee == "Boots\r\nExeter"
    assert lines[0].description == ',,"quoted"\r\n\r\nthree lines'
    assert lines[0].raw.count("\n") == 3 and lines[0].raw.startswith("05/04/2024,\"Boots")
    assert lines[2].raw == '06/04/2024,Tesco,"x\ny",CARD,-1.00,1314.00,'


@pytest.mark.parametrize(
    ("rows", "code", "line", "field"),
    [
        ((STARLING_ROW, b"06/04/2024,Tesco,,CARD,-1.00"), "columns_too_few", 3, "Balance (GBP)"),
        ((STARLING_ROW, b"06/04/2024,Tesco,,CARD,-1.00,1.00,X,,surprise"), "columns_too_many", 3, "column 9"),
        ((STARLING_ROW, b"06/04/2024,Tesco,,CARD,-1.0O,1.00,X"), "amount_invalid", 3, "Amount (GBP)"),
        ((STARLING_ROW, b"06/04/2024,Tesco,,CARD,1.234,1.00,X"), "amount_sub_penny", 3, "Amount (GBP)"),
        ((STARLING_ROW, b"06/04/2024,Tesco,,CARD,NaN,1.00,X"), "amount_not_a_number", 3, "Amount (GBP)"),
        ((STARLING_ROW, b"06/04/2024,Tesco,,CARD,,1.00,X"), "amount_missing", 3, "Amount (GBP)"),
        ((STARLING_ROW, b"06/04/2024,Tesco,,CARD,-1.00,1.0.0,X"), "amount_invalid", 3, "Balance (GBP)"),
        ((STARLING_ROW, b"31/02/2024,Tesco,,CARD,-1.00,1.00,X"), "date_invalid", 3, "Date"),
        ((STARLING_ROW, b"2024-04-06,Tesco,,CARD,-1.00,1.00,X"), "date_invalid", 3, "Date"),
        ((STARLING_ROW, b",Tesco,,CARD,-1.00,1.00,X"), "date_missing", 3, "Date"),
        ((STARLING_ROW, b"", STARLING_HEADER, STARLING_ROW), "header_repeated", 4, "header"),
    ],
)
def test_a_bad_row_is_refused_naming_its_line_and_column(rows: tuple[bytes, ...], code: str, line: int, field: str) -> None:
    error = rejection(starling(*rows))
    assert (error.code, error.line, error.field) == (code, line, field)
    assert f"line {line}" in error.message


def lloyds(*rows: bytes) -> bytes:
    return b"\r\n".join((LLOYDS_HEADER, *rows)) + b"\r\n"


def test_debit_and_credit_both_filled_are_refused() -> None:
    error = rejection(lloyds(b"08/04/2024,FPO,'30-94-57,12345678,WAGES,85.00,1.00,1315.00"))
    assert (error.code, error.line, error.field) == ("amount_ambiguous", 2, "Debit Amount")


def test_debit_and_credit_both_empty_are_refused() -> None:
    error = rejection(lloyds(b"08/04/2024,FPO,'30-94-57,12345678,WAGES,,,1315.00"))
    assert (error.code, error.line, error.field) == ("amount_missing", 2, "Debit Amount/Credit Amount")


def test_a_zero_beside_an_amount_and_a_sign_in_a_debit_column_are_read() -> None:
    lines = list(read(lloyds(b"08/04/2024,FPO,'30-94-57,12345678,WAGES,0.00,5.00,1", b"09/04/2024,DEB,'30-94-57,12345678,TEA,-2.50,,1")).lines)
    assert [line.amount for line in lines] == [gbp("5.00"), gbp("-2.50")]


def test_a_second_account_in_the_file_is_refused() -> None:
    error = rejection(
        lloyds(
            b"08/04/2024,FPO,'30-94-57,12345678,WAGES,85.00,,1315.00",
            b"08/04/2024,FPO,30-94-57,12345678,WAGES,85.00,,1315.00",
            b"09/04/2024,FPO,'30-94-57,87654321,WAGES,85.00,,1315.00",
        )
    )
    assert (error.code, error.line, error.field) == ("several_accounts", 4, "Account Number")
    assert "account 87654321" in error.reason and "account 12345678" in error.reason


PREPAID_HEADER = b"Transaction ID,Date,Card Number,Merchant,Description,MCC,Type,Amount,Fee,Currency,Balance"


def prepaid(*rows: bytes) -> bytes:
    return b"\n".join((PREPAID_HEADER, *rows)) + b"\n"


@pytest.mark.parametrize(
    ("row", "code", "field"),
    [
        (b"T2,02/04/2024,**21,TESCO,TESCO,54A1,PURCHASE,-1.00,,GBP,1.00", "mcc_invalid", "MCC"),
        (b"T2,02/04/2024,**21,TESCO,TESCO,54111,PURCHASE,-1.00,,GBP,1.00", "mcc_invalid", "MCC"),
        (b"T2,02/04/2024,**21,TESCO,TESCO,5411,PURCHASE,-1.00,,EUR,1.00", "currency_mixed", "Currency"),
        (b"T2,02/04/2024,**21,TESCO,TESCO,5411,PURCHASE,-1.00,,QQQ,1.00", "currency_unknown", "Currency"),
        (b"T2,02/04/2024,**21,TESCO,TESCO,5411,PURCHASE,-1.00,1.5p,GBP,1.00", "amount_invalid", "Fee"),
        (b"T2,02/04/2024,**99,TESCO,TESCO,5411,PURCHASE,-1.00,,GBP,1.00", "several_accounts", "Card Number"),
    ],
)
def test_a_bad_card_row_is_refused_naming_its_column(row: bytes, code: str, field: str) -> None:
    error = rejection(prepaid(b"T1,01/04/2024,**21,,Load,,LOAD,10.00,,GBP,10.00", row))
    assert (error.code, error.line, error.field) == (code, 3, field)


def test_a_short_mcc_gets_its_leading_zero_and_826_is_pounds() -> None:
    lines = list(read(prepaid(b"T1,01/04/2024,**21,VET,VET,742,PURCHASE,-10.00,0,826,1.00")).lines)
    assert (lines[0].mcc, lines[0].amount, len(lines)) == ("0742", gbp("-10.00"), 1)


def test_a_statement_is_in_the_currency_of_its_first_line() -> None:
    statement = read(prepaid(b"T1,01/04/2024,**21,,Load,,LOAD,10.00,,eur,10.00", b"T2,01/04/2024,**21,,Load,,LOAD,10.00,,EUR,20.00"))
    assert statement.currency == "EUR"
    assert [line.amount for line in statement.lines] == [Money("10.00", "EUR")] * 2


def test_bytes_that_are_not_utf8_in_a_utf8_layout_name_their_line() -> None:
    error = rejection(starling(STARLING_ROW, STARLING_ROW, b"06/04/2024,Caf\xe9,,CARD,-1.00,1.00,X"))
    assert (error.code, error.line) == ("encoding_invalid", 4)


def test_a_windows_1252_file_is_read_when_the_layout_leaves_the_encoding_open() -> None:
    lines = list(read(lloyds(b"08/04/2024,DEB,'30-94-57,12345678,CAF\xc9 \xa35 OFF,\xa385.00,,1315.00")).lines)
    assert (lines[0].description, lines[0].amount) == ("CAFÉ £5 OFF", gbp("-85.00"))


def test_an_unclosed_quote_is_refused_at_the_line_where_its_record_starts() -> None:
    data = starling(STARLING_ROW, b'06/04/2024,"Tesco,,CARD,-1.00,1.00,X', *([b"x" * 1000] * 200))
    error = rejection(data)
    assert (error.code, error.line) == ("csv_invalid", 3)


def test_lines_are_read_as_they_are_iterated() -> None:
    rows = [STARLING_ROW] * 5000 + [b"06/04/2024,Tesco,,CARD,oops,1.00,X"]
    statement = read(starling(*rows))
    lines = iter(statement.lines)
    assert iter(lines) is lines  # a generator, not a list
    assert [next(lines).line_no for _ in range(3)] == [2, 3, 4]
    with pytest.raises(ImportRejected) as caught:
        for _ in lines:
            pass
    assert (caught.value.code, caught.value.line) == ("amount_invalid", 5002)


def test_a_file_with_only_a_header_has_no_lines() -> None:
    statement = read(STARLING_HEADER)
    assert (statement.currency, list(statement.lines)) == ("GBP", [])


# --- the round trip: random lines written in each layout, read back ----------------------

PROVIDER_LAYOUT = layout_from_dict(
    {
        "name": "acme_card",
        "description": "A provider's own export, semicolons, money out positive, two description columns",
        "encoding": "cp1252",
        "delimiter": ";",
        "skip_lines": 2,
        "header": ["Booked", "Merchant", "Detail", "Spent", "Ref", "Card"],
        "date_column": "Booked",
        "date_formats": ["%d.%m.%Y"],
        "amount_column": "Spent",
        "amount_sign": "money_out_positive",
        "description_columns": ["Merchant", "Detail"],
        "payee_column": "Merchant",
        "bank_id_column": "Ref",
        "card_number_column": "Card",
    },
    source="test",
)
ROUND_TRIP_LAYOUTS = [*shipped_layouts(), PROVIDER_LAYOUT]

UTF8_ALPHABET = "abcXYZ019 ,;\"&*/£é–💊\n"
CP1252_ALPHABET = "abcXYZ019 ,;\"&*/£é–\n"
text_values = st.text(alphabet=UTF8_ALPHABET, min_size=1, max_size=25).map(str.strip).filter(bool)


@dataclass(frozen=True)
class CardLine:
    posted_on: date
    amount_pence: int
    description: str
    payee: str
    mcc: str
    balance_pence: int | None
    kind: str
    fee_pence: int


card_lines = st.builds(
    CardLine,
    posted_on=st.dates(date(2000, 1, 1), date(2060, 12, 31)),
    amount_pence=st.integers(-10**9, 10**9),
    description=text_values,
    payee=st.one_of(st.just(""), text_values),
    mcc=st.one_of(st.just(""), st.integers(0, 9999).map(lambda n: f"{n:04d}")),
    balance_pence=st.one_of(st.none(), st.integers(-10**9, 10**9)),
    kind=st.sampled_from(["DEB", "FPI", "CARD", "Card payment", "LOAD"]),
    fee_pence=st.one_of(st.just(0), st.integers(1, 500)),
)


def pounds(pence: int, style: str) -> str:
    sign = "-" if pence < 0 else ""
    whole, fraction = divmod(abs(pence), 100)
    if style == "plain":
        return f"{sign}{whole}.{fraction:02d}"
    grouped = f"{whole:,}.{fraction:02d}"
    return f"{sign}{grouped}" if style == "grouped" else f"{sign}£{grouped}"


def written_statement(layout: CsvLayout, lines: list[CardLine], rng: random.Random) -> tuple[bytes, list[StatementLine], AccountIdentifiers]:
    """``lines`` written as ``layout``'s bank would, and what reading them must give."""
    style = rng.choice(["plain", "grouped", "pound"])
    newline = rng.choice(["\r\n", "\n"])
    trailing_comma = rng.random() < 0.3
    date_format = rng.choice(layout.date_formats)
    index = {name: i for i, name in enumerate(layout.header)}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=layout.delimiter, lineterminator=newline)
    physical_line = 0
    for number in range(layout.skip_lines):
        out.write(f"Statement preamble {number}{newline}")
        physical_line += 1
    if layout.has_header_row:
        writer.writerow(layout.header)
        physical_line += 1
    account_cells, account = written_account(layout, rng)
    expected = []
    for number, line in enumerate(lines):
        cells = ["filler"] * len(layout.header)

        def put(column: str | None, value: str) -> None:
            if column is not None:
                cells[index[column]] = value

        for column, value in account_cells.items():
            put(column, value)
        for column in layout.description_columns:
            put(column, "")
        put(layout.date_column, line.posted_on.strftime(date_format))
        if layout.amount_column:
            signed = line.amount_pence if layout.amount_sign == MONEY_IN_POSITIVE else -line.amount_pence
            put(layout.amount_column, pounds(signed, style))
        else:
            put(layout.debit_column, pounds(-line.amount_pence, style) if line.amount_pence < 0 else "")
            put(layout.credit_column, pounds(line.amount_pence, style) if line.amount_pence >= 0 else "")
        put(layout.payee_column, line.payee)
        description_columns = [c for c in layout.description_columns if c != layout.payee_column]
        put(description_columns[-1] if description_columns else None, line.description)
        put(layout.mcc_column, line.mcc)
        put(layout.bank_id_column, f"tx{number}")
        put(layout.kind_column, line.kind)
        put(layout.currency_column, "GBP")
        put(layout.balance_column, "" if line.balance_pence is None else pounds(line.balance_pence, style))
        fee = line.fee_pence if layout.fee_column else 0
        put(layout.fee_column, pounds(fee, style) if fee else "")
        row_text = io.StringIO()
        csv.writer(row_text, delimiter=layout.delimiter, lineterminator=newline).writerow(cells + [""] * trailing_comma)
        out.write(row_text.getvalue())
        line_no = physical_line + 1
        physical_line += 1 + sum(cell.count("\n") for cell in cells)
        raw = row_text.getvalue()[: -len(newline)]
        description = " ".join(cells[index[c]] for c in layout.description_columns if cells[index[c]]) or line.payee
        balance = None
        if layout.balance_column and line.balance_pence is not None:
            balance = Money(Decimal(line.balance_pence) / 100, "GBP")
        purchase = StatementLine(
            line_no=line_no,
            posted_on=line.posted_on,
            amount=Money(Decimal(line.amount_pence) / 100, "GBP"),
            description=description,
            payee=(line.payee or None) if layout.payee_column else None,
            mcc=(line.mcc or None) if layout.mcc_column else None,
            bank_id=f"tx{number}" if layout.bank_id_column else None,
            balance=None if fee else balance,
            kind=line.kind if layout.kind_column else None,
            raw=raw,
        )
        expected.append(purchase)
        if fee:
            expected.append(
                replace(
                    purchase, amount=Money(Decimal(-fee) / 100, "GBP"), description=f"Fee: {description}",
                    payee=None, mcc=None, balance=balance, is_fee=True, part=1,
                )
            )
    return out.getvalue().encode("utf-8" if layout.encoding == "auto" else layout.encoding), expected, account


def written_account(layout: CsvLayout, rng: random.Random) -> tuple[dict[str, str], AccountIdentifiers]:
    apostrophe = rng.choice(["", "'"])
    cells: dict[str, str] = {}
    sort_code = number = other = None
    if layout.sort_code_column:
        cells[layout.sort_code_column], sort_code = f"{apostrophe}30-94-57", "309457"
    if layout.account_number_column:
        cells[layout.account_number_column], number = f"{apostrophe}12345678", "12345678"
    if layout.sort_code_and_account_column:
        cells[layout.sort_code_and_account_column] = rng.choice([f"{apostrophe}309457-12345678", "30-94-57 12345678"])
        sort_code, number = "309457", "12345678"
    if layout.card_number_column:
        cells[layout.card_number_column], other = "************4821", "card ************4821"
    return cells, AccountIdentifiers(sort_code=sort_code, account_number=number, other=other)


@pytest.mark.parametrize("layout", ROUND_TRIP_LAYOUTS, ids=lambda layout: layout.name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(card_lines, min_size=1, max_size=12), seed=st.integers(0, 2**32))
def test_random_lines_written_in_a_layout_read_back_the_same(layout: CsvLayout, lines: list[CardLine], seed: int) -> None:
    if layout.encoding == "cp1252":
        lines = [replace(line, description=_cp1252(line.description), payee=_cp1252(line.payee)) for line in lines]
    data, expected, account = written_statement(layout, lines, random.Random(seed))
    is_provider = layout is PROVIDER_LAYOUT
    statement = read(
        data,
        layout_name=None if layout.has_header_row and not is_provider else layout.name,
        layouts=[PROVIDER_LAYOUT] if is_provider else (),
    )
    assert (statement.layout, statement.currency, statement.account) == (layout.name, "GBP", account)
    assert list(statement.lines) == expected


def _cp1252(text: str) -> str:
    return text.replace("💊", "x").strip() or ("x" if text else "")


# --- robustness ------------------------------------------------------------------------

SAMPLE_BYTES = [(DATA / name).read_bytes() for name in sorted(SAMPLES)] + [
    (DATA / LLOYDS_REAL).read_bytes(),
    (DATA / STARLING_REAL).read_bytes(),
]


def read_fully(data: bytes, layout_name: str | None = None) -> None:
    try:
        statement = read(data, layout_name=layout_name)
        for _ in statement.lines:
            pass
    except ImportRejected as error:
        assert error.code and error.code == error.code.strip().lower()


@settings(max_examples=300, deadline=2000)
@given(data=st.binary(max_size=400), layout_name=st.sampled_from([None, *SHIPPED]))
def test_random_bytes_only_ever_give_import_rejected(data: bytes, layout_name: str | None) -> None:
    read_fully(data, layout_name)


@settings(max_examples=300, deadline=2000)
@given(
    original=st.sampled_from(SAMPLE_BYTES),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=4), st.integers(0, 3)), min_size=1, max_size=6),
)
def test_mutated_files_only_ever_give_import_rejected(original: bytes, edits: list[tuple[int, bytes, int]]) -> None:
    data = bytearray(original)
    for position, inserted, removed in edits:
        at = position % (len(data) + 1)
        data[at : at + removed] = inserted
    read_fully(bytes(data))
    read_fully(bytes(data), "hsbc")


@settings(max_examples=100, deadline=2000)
@given(
    rows=st.lists(
        st.lists(st.sampled_from(["", "x", "01/02/2024", "-1.00", "£1,000.00", '"', "'", "\n", "5411", "GBP", "EUR", "a,b"]), max_size=13),
        max_size=8,
    ),
    layout=st.sampled_from(sorted(SHIPPED)),
)
def test_rows_of_plausible_cells_only_ever_give_import_rejected(rows: list[list[str]], layout: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    if SHIPPED[layout].has_header_row:
        writer.writerow(SHIPPED[layout].header)
    writer.writerows(rows)
    read_fully(out.getvalue().encode(), layout)
