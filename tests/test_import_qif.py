"""QIF statements (``importers.qif_statement``).

Every file in ``tests/data/statements/qif/`` is listed with what it must give. They are
written for these tests (no public UK bank QIF export was available to copy): Santander UK's
form (payee padded and ending in the amount again, ``&amp;``, ``!Type:Oth L`` for its credit
card), a plain Lloyds-style bank file, a Quicken export with an account list, an opening
balance, apostrophe years, splits and addresses, a two-account export and an investment one
(both refused). The round-trip property writes random records with a QIF writer of its own
(the oracle) and reads them back field by field; the robustness properties feed random
bytes and mutated files and accept only ``ImportRejected``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

from importers import read_statement
from importers.errors import ImportRejected
from importers.qif_statement import read
from importers.statement import AccountIdentifiers, StatementLine

DATA = Path(__file__).parent / "data" / "statements" / "qif"


def gbp(text: str) -> Money:
    return Money(Decimal(text), "GBP")


def rejection(data: bytes) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        list(read(data).lines)
    return caught.value


@dataclass(frozen=True)
class Parsed:
    line_nos: tuple[int, ...]
    amounts: tuple[str, ...]
    descriptions: tuple[str, ...]
    account: AccountIdentifiers = AccountIdentifiers()
    opening_balance: str | None = None


@dataclass(frozen=True)
class Rejected:
    code: str
    line: int
    fragment: str


EXPECTED: dict[str, Parsed | Rejected] = {
    "sample__santander_uk.qif": Parsed(
        (2, 6, 10, 14),
        ("-1080.00", "-2.75", "1200.00", "-100.00"),
        (
            "TRANSFER REFERENCE R&D CARE LTD",
            "FOREIGN CURRENCY CONVERSION FEE",
            "FASTER PAYMENTS RECEIPT REF NHS DEVON ICB",
            "DIRECT DEBIT PAYMENT TO SOUTH WEST WATER, MANDATE NO 94",
        ),
    ),
    "sample__santander_uk_credit_card.qif": Parsed(
        (2, 6), ("-23.40", "100.00"), ("TESCO STORES 3021", "PAYMENT RECEIVED - THANK YOU")
    ),
    "sample__lloyds.qif": Parsed(
        (2, 6, 10),
        ("-8.99", "-4.79", "2000.00"),
        ("Ebay*xxxx CD xxxx 14JAN24", "NON-GBP TRANS FEE 2.75% CD 1417", "HHHHH LTD RP010110001110"),
    ),
    "sample__quicken_export.qif": Parsed(
        (23, 31, 41),
        ("-23.40", "-106.50", "1200.00"),
        ("TESCO STORES Weekly shop", "J CARER Wages week 14", "NHS DEVON ICB"),
        AccountIdentifiers(other="PHB Current"),
        opening_balance="150.00",
    ),
    "sample__ccard.qif": Parsed(
        (2, 7, 11), ("-23.40", "-6.50", "30.00"), ("TESCO STORES 3021 Groceries", "LEISURE CENTRE", "PAYMENT THANK YOU")
    ),
    "sample__quicken_two_accounts.qif": Rejected("several_accounts", 15, "PHB Current (from line 6); PHB Card (from line 15)"),
    "sample__investment.qif": Rejected("qif_type_unsupported", 1, "'!Type:Invst'"),
}


def test_every_file_is_listed() -> None:
    assert sorted(path.name for path in DATA.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_gives_what_it_must(name: str) -> None:
    data = (DATA / name).read_bytes()
    expected = EXPECTED[name]
    if isinstance(expected, Rejected):
        with pytest.raises(ImportRejected) as caught:
            read_statement(data, name)
        assert (caught.value.code, caught.value.line) == (expected.code, expected.line)
        assert expected.fragment in caught.value.message and name in caught.value.message
        return
    statement = read_statement(data, name)
    lines = list(statement.lines)
    assert (statement.format, statement.currency, statement.account) == ("qif", "GBP", expected.account)
    assert tuple(line.line_no for line in lines) == expected.line_nos
    assert tuple(line.amount for line in lines) == tuple(gbp(amount) for amount in expected.amounts)
    assert tuple(line.description for line in lines) == expected.descriptions
    assert statement.opening_balance == (gbp(expected.opening_balance) if expected.opening_balance else None)


def test_a_quicken_record_keeps_its_lines_number_and_payee() -> None:
    text = (DATA / "sample__quicken_export.qif").read_text()
    lines = list(read((DATA / "sample__quicken_export.qif").read_bytes()).lines)
    first = lines[0]
    assert (first.posted_on, first.payee, first.kind, first.bank_id) == (date(2024, 4, 2), "TESCO STORES", "1001", None)
    assert first.raw == "\n".join(text.splitlines()[22:30])
    assert first.raw.startswith("D2/ 4'24") and first.raw.endswith("^")
    assert lines[1].posted_on == date(2024, 4, 3)


def test_santander_payees_lose_the_padding_and_the_repeated_amount() -> None:
    line = next(iter(read((DATA / "sample__santander_uk.qif").read_bytes()).lines))
    assert line.payee == "TRANSFER REFERENCE R&D CARE LTD"
    assert "R&amp;D" in line.raw and line.raw.count("\n") == 3


def test_a_trailing_amount_that_is_not_the_lines_is_kept() -> None:
    data = b"!Type:Bank\nD01/02/2024\nT-5.00\nPREFUND, 4.00\n^\n"
    assert next(iter(read(data).lines)).description == "REFUND, 4.00"


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("30/03/2024", date(2024, 3, 30)),
        ("30/03/24", date(2024, 3, 30)),
        ("1/ 2'03", date(2003, 2, 1)),
        ("1/ 2/99", date(1999, 2, 1)),
        ("01.02.2024", date(2024, 2, 1)),
        ("1-2-2024", date(2024, 2, 1)),
        ("2024-03-30", date(2024, 3, 30)),
    ],
)
def test_dates_are_read_day_first(written: str, day: date) -> None:
    data = f"!Type:Bank\nD{written}\nT1.00\n^\n".encode()
    assert next(iter(read(data).lines)).posted_on == day


@pytest.mark.parametrize(
    ("body", "code", "line", "field"),
    [
        ("D12/25/2023\nT1.00\n^", "date_invalid", 2, "D"),
        ("D31/02/2024\nT1.00\n^", "date_invalid", 2, "D"),
        ("D\nT1.00\n^", "date_missing", 2, "D"),
        ("T1.00\nPTEA\n^", "date_missing", 2, "D"),
        ("D01/02/2024\nPTEA\n^", "amount_missing", 2, "T"),
        ("D01/02/2024\nT1.0.0\n^", "amount_invalid", 3, "T"),
        ("D01/02/2024\nT1,23\n^", "amount_invalid", 3, "T"),
        ("D01/02/2024\nT1.001\n^", "amount_sub_penny", 3, "T"),
        ("D01/02/2024\nTNaN\n^", "amount_not_a_number", 3, "T"),
        ("D01/02/2024\nT1.00\nU2.00\n^", "amount_conflict", 4, "U"),
        ("D01/02/2024\nT1.00\nT2.00\n^", "qif_field_repeated", 4, "T"),
        ("D01/02/2024\nT1.00\nZoo\n^", "qif_field_unknown", 4, "Z"),
        ("^\nD01/02/2024\nT1.00\n^\nD02/02/2024\nTx\n^", "amount_invalid", 7, "T"),
    ],
)
def test_a_bad_record_is_refused_naming_its_line_and_field(body: str, code: str, line: int, field: str) -> None:
    error = rejection(f"!Type:Bank\n{body}\n".encode())
    assert (error.code, error.line, error.field) == (code, line, field)


def test_a_file_without_a_type_line_is_refused() -> None:
    error = rejection(b"\n\nD01/02/2024\nT1.00\n^\n")
    assert (error.code, error.line) == ("qif_header_missing", 3)


def test_an_unknown_header_is_refused() -> None:
    error = rejection(b"!Type:Bank\nD01/02/2024\nT1.00\n^\n!Banana\n")
    assert (error.code, error.line) == ("qif_header_unknown", 5)


def test_category_lists_are_skipped_and_records_may_end_without_a_caret() -> None:
    data = b"!Type:Cat\nNGroceries\nE\n^\n!Type:Bank\r\nD01/02/2024\r\nT-1.00\r\nPTEA\r\n"
    lines = list(read(data).lines)
    assert [(line.line_no, line.amount, line.raw) for line in lines] == [(6, gbp("-1.00"), "D01/02/2024\nT-1.00\nPTEA")]


def test_sections_of_one_unnamed_account_are_merged() -> None:
    data = b"!Type:Bank\nD01/02/2024\nT-1.00\n^\n!Type:Bank\nD02/02/2024\nT-2.00\n^\n"
    assert [line.line_no for line in read(data).lines] == [2, 6]


def test_an_empty_transaction_list_has_no_lines() -> None:
    statement = read(b"!Type:Bank\n")
    assert (statement.currency, list(statement.lines), statement.account) == ("GBP", [], AccountIdentifiers())


def test_windows_1252_text_is_read() -> None:
    line = next(iter(read(b"!Type:Bank\nD01/02/2024\nT-1.00\nPCAF\xc9 \xa31 OFF\n^\n").lines))
    assert line.payee == "CAFÉ £1 OFF"


# --- the round trip --------------------------------------------------------------------

texts = st.text(alphabet="abcXYZ019 *-/'£é()#.", max_size=30).map(str.strip)


@dataclass(frozen=True)
class QifLine:
    posted_on: date
    amount_pence: int
    payee: str
    memo: str
    number: str
    date_style: str
    grouped: bool
    with_u: bool


qif_lines = st.builds(
    QifLine,
    posted_on=st.dates(date(2000, 1, 1), date(2068, 12, 31)),
    amount_pence=st.integers(-10**10, 10**10),
    payee=texts,
    memo=texts,
    number=st.one_of(st.just(""), st.sampled_from(["1001", "ATM", "DEP", "EFT"])),
    date_style=st.sampled_from(["dd/mm/yyyy", "dd/mm/yy", "quicken", "iso"]),
    grouped=st.booleans(),
    with_u=st.booleans(),
)


def qif_date(day: date, style: str) -> str:
    if style == "dd/mm/yyyy":
        return f"{day:%d/%m/%Y}"
    if style == "dd/mm/yy":
        return f"{day:%d/%m/%y}"
    if style == "quicken":
        return f"{day.day}/{day.month:2d}'{day:%y}"
    return day.isoformat()


def qif_amount(pence: int, grouped: bool) -> str:
    sign = "-" if pence < 0 else ""
    whole, fraction = divmod(abs(pence), 100)
    return f"{sign}{whole:,}.{fraction:02d}" if grouped else f"{sign}{whole}.{fraction:02d}"


def written_qif(lines: list[QifLine], account_type: str, newline: str) -> tuple[bytes, list[StatementLine]]:
    """``lines`` as a QIF file, and what reading it must give."""
    out = [f"!Type:{account_type}"]
    expected = []
    for line in lines:
        amount = qif_amount(line.amount_pence, line.grouped)
        record = [f"D{qif_date(line.posted_on, line.date_style)}", f"T{amount}"]
        record += [f"U{amount}"] * line.with_u
        record += [f"P{line.payee}"] * bool(line.payee) + [f"M{line.memo}"] * bool(line.memo)
        record += [f"N{line.number}"] * bool(line.number) + ["^"]
        description = line.payee
        if line.memo and line.memo != line.payee:
            description = f"{line.payee} {line.memo}".strip()
        expected.append(
            StatementLine(
                line_no=len(out) + 1,
                posted_on=line.posted_on,
                amount=Money(Decimal(line.amount_pence) / 100, "GBP"),
                description=description,
                payee=line.payee or None,
                kind=line.number or None,
                raw="\n".join(record),
            )
        )
        out += record
    return (newline.join(out) + newline).encode("cp1252"), expected


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(qif_lines, max_size=15),
    account_type=st.sampled_from(["Bank", "CCard", "Cash", "Oth L"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_random_records_written_as_qif_read_back_the_same(lines: list[QifLine], account_type: str, newline: str) -> None:
    data, expected = written_qif(lines, account_type, newline)
    statement = read(data)
    assert (statement.format, statement.currency) == ("qif", "GBP")
    assert list(statement.lines) == expected


# --- robustness ------------------------------------------------------------------------

SAMPLE_BYTES = [(DATA / name).read_bytes() for name in sorted(EXPECTED)]


def read_fully(data: bytes) -> None:
    try:
        for _ in read(data).lines:
            pass
    except ImportRejected as error:
        assert error.code and error.code == error.code.strip().lower()


@settings(max_examples=300, deadline=2000)
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda tail: b"!Type:Bank\n" + tail)))
def test_random_bytes_only_ever_give_import_rejected(data: bytes) -> None:
    read_fully(data)


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
