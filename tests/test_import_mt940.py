"""MT940 statements (``importers.mt940_statement``).

Every file in ``tests/data/statements/mt940/`` is listed with what it must give: the public
wolph/mt940 test files (ABN AMRO, ING, a generic two-statement file, fragments that test
amount formats, and three broken ones), and a Lloyds Commercial Banking Online style export
written for these tests (SWIFT envelope, ``:25:`` sort code and account number, an ``RD``
reversal). The round-trip property writes random statements as MT940 with a writer of its
own (the oracle) and reads them back field by field, line numbers and raw text included;
the robustness properties feed random bytes and mutated real files and accept only
``ImportRejected``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

from importers import read_statement
from importers.errors import ImportRejected
from importers.mt940_statement import account_identifiers, read
from importers.statement import AccountIdentifiers
from tests.support.statement_reading import read_fully

DATA = Path(__file__).parent / "data" / "statements" / "mt940"


@dataclass(frozen=True)
class Parsed:
    line_nos: tuple[int, ...]
    first: str
    last: str
    currency: str
    opening: str
    closing: str
    account: AccountIdentifiers
    period: tuple[date, date]
    warnings: tuple[str, ...] = ()
    """Fragments, one per warning expected, in order."""


@dataclass(frozen=True)
class Rejected:
    code: str
    line: int | None
    reason: str


EXPECTED: dict[str, Parsed | Rejected] = {
    # Fragments from the library's unit tests: balances without a statement around them.
    "mt940__betterplace_amount_formats.sta": Rejected("mt940_invalid", 1, ":60F: comes before any :20:"),
    "mt940__betterplace_empty_86.sta": Rejected("mt940_invalid", 1, ":86: comes before any :20:"),
    "mt940__betterplace_missing_crlf_at_end.sta": Rejected("mt940_invalid", 1, ":62F: comes before any :20:"),
    # Three statements for three accounts (and in DEM, EUR and PLN).
    "mt940__cmxl_mt940.sta": Rejected(
        "several_accounts", None, "45050050/76198810; 10020030/1234567; BPHKPLPK/320000546101"
    ),
    # Two statements for one account; the test file's balances do not add up, and are reported.
    "mt940__jejik_abnamro.sta": Parsed(
        (8, 12, 14, 16, 18, 20, 23, 25, 36, 38), "-9.00", "-15.00", "EUR", "3236.28", "1849.75",
        AccountIdentifiers(other="517852257"), (date(2011, 5, 23), date(2011, 5, 24)),
        ("a difference of EUR -2,038.00", "a difference of EUR -1,002.60", "opens at EUR 2,876.84, but statement 19321/1"),
    ),
    "mt940__jejik_generic.sta": Parsed(
        (5, 13), "-10.00", "-10.00", "EUR", "100.00", "80.00",
        AccountIdentifiers(other="11111111"), (date(2011, 1, 1), date(2011, 2, 1)),
    ),
    "mt940__jejik_ing.sta": Parsed(
        (8, 12, 14, 16, 18, 20, 22), "-25.03", "1.00", "EUR", "0.00", "3.47",
        AccountIdentifiers(other="0001234567"), (date(2010, 7, 22), date(2010, 7, 23)),
        ("a difference of EUR 49.06",),
    ),
    # 30/360 interest convention: the value date 160230 does not exist. Refused, not moved.
    "mt940__self-provided_february_30.sta": Rejected("date_invalid", 6, "30/02/2016 is not a date"),
    "mt940__self-provided_invalid_statement.sta": Rejected("statement_missing", None, "no MT940 statement"),
    # Its :86: ends in a stray "?"; the details still read. Its closing balance does not add up.
    "mt940__self-provided_malformed_details.sta": Parsed(
        (5,), "-233.15", "-233.15", "EUR", "12345.12", "12345.98",
        AccountIdentifiers(other="12345678/1020304050"), (date(2017, 9, 14), date(2017, 9, 14)),
        ("a difference of EUR 234.01",),
    ),
    "uk_lloyds_sort_code.sta": Parsed(
        (6, 11, 14, 16, 18), "1500.00", "-85.75", "GBP", "1250.00", "2651.75",
        AccountIdentifiers(sort_code="309634", account_number="12345678"), (date(2024, 3, 1), date(2024, 3, 11)),
    ),
}


def test_every_file_in_the_folder_is_listed() -> None:
    assert sorted(path.name for path in DATA.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file(name: str) -> None:
    expected = EXPECTED[name]
    data = (DATA / name).read_bytes()
    if isinstance(expected, Rejected):
        with pytest.raises(ImportRejected) as caught:
            read_statement(data, name, format="mt940")
        assert caught.value.code == expected.code
        assert caught.value.line == expected.line
        assert expected.reason in caught.value.reason
        return
    statement = read_statement(data, name)
    lines = list(statement.lines)
    assert statement.format == "mt940"
    assert statement.currency == expected.currency
    assert statement.account == expected.account
    assert tuple(line.line_no for line in lines) == expected.line_nos
    assert lines[0].amount == Money(expected.first, expected.currency)
    assert lines[-1].amount == Money(expected.last, expected.currency)
    assert statement.opening_balance == Money(expected.opening, expected.currency)
    assert statement.closing_balance == Money(expected.closing, expected.currency)
    assert (statement.period_start, statement.period_end) == expected.period
    assert len(statement.warnings) == len(expected.warnings)
    for warning, fragment in zip(statement.warnings, expected.warnings, strict=True):
        assert fragment in warning
    text_lines = data.decode("cp1252").replace("\r", "").split("\n")
    for line in lines:
        assert text_lines[line.line_no - 1].startswith(":61:")
        assert line.raw.startswith(text_lines[line.line_no - 1])


def test_lloyds_fields() -> None:
    statement = read((DATA / "uk_lloyds_sort_code.sta").read_bytes())
    council, agency, fee, returned, wages = statement.lines
    assert statement.closing_balance_on == date(2024, 3, 11)
    assert council.posted_on == date(2024, 3, 1)
    assert council.description == "FASTER PAYMENT RECEIVED DERBYSHIRE COUNTY COUNCIL REF DP-PHB-000123"
    assert council.bank_id == "FP24061000123456"
    assert council.kind == "NTRF"
    assert council.raw == (
        ":61:2403010301C1500,00NTRFDP24-0301//FP24061000123456\nCOUNCIL DIRECT PAYMENT\n"
        ":86:FASTER PAYMENT RECEIVED\nDERBYSHIRE COUNTY COUNCIL\nREF DP-PHB-000123"
    )
    assert agency.amount == Money("-420.00", "GBP")
    assert fee.amount == Money("-12.50", "GBP")  # written 12,5
    assert returned.amount == Money("420.00", "GBP")  # RD: a returned debit is money back in
    assert returned.kind == "NDDT"
    assert wages.description == "FASTER PAYMENT SENT J SMITH PA WAGES"


def test_german_structured_details_give_purpose_and_payee() -> None:
    statement = read((DATA / "mt940__self-provided_malformed_details.sta").read_bytes())
    (line,) = statement.lines
    assert line.payee == "Finanzamt Muenchen Abteilung Erhebung"
    assert line.description.startswith("STEUERNR 123/123/12345")


def test_a_statement_level_86_after_the_closing_balance_is_not_a_line_s() -> None:
    statement = read((DATA / "mt940__jejik_ing.sta").read_bytes())
    last = list(statement.lines)[-1]
    assert "D000004C000002D25,24C28,71" not in last.description
    assert last.raw.endswith("Betaling transactiedatum: 22-07-2010")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("309634-12345678", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("309634 12345678", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("30963412345678", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("30-96-34 12345678", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("309634/12345678", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("GB29NWBK60161331926819", AccountIdentifiers(sort_code="601613", account_number="31926819", iban="GB29NWBK60161331926819")),
        ("GB29 NWBK 6016 1331 9268 19", AccountIdentifiers(sort_code="601613", account_number="31926819", iban="GB29NWBK60161331926819")),
        ("NL26VAYB8060476890", AccountIdentifiers(iban="NL26VAYB8060476890")),
        ("NL26VAYB8060476890EUR", AccountIdentifiers(iban="NL26VAYB8060476890")),
        ("309634 12345678 GBP", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("12345678GBP", AccountIdentifiers(other="12345678GBP")),
        ("GB00NWBK60161331926819", AccountIdentifiers(other="GB00NWBK60161331926819")),  # check digits wrong
        ("12345678", AccountIdentifiers(other="12345678")),
        ("00309634/12345678", AccountIdentifiers(other="00309634/12345678")),
    ],
)
def test_account_identification(written: str, expected: AccountIdentifiers) -> None:
    assert account_identifiers(written) == expected


LLOYDS = (DATA / "uk_lloyds_sort_code.sta").read_text()


def _lloyds_with(old: str, new: str) -> bytes:
    assert old in LLOYDS
    return LLOYDS.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("old", "new", "code", "line"),
    [
        (":61:2403010301C1500,00", ":61:2403010301C1500,005", "amount_sub_penny", 6),
        (":61:2403010301C1500,00", ":61:2403010301C15,00,00", "amount_invalid", 6),
        (":61:2403010301C1500,00", ":61:2402300301C1500,00", "date_invalid", 6),
        (":61:2403010301C1500,00", ":61:2403011301C1500,00", "date_invalid", 6),
        (":61:2403010301C1500,00", ":61:24030103X1C1500,00", "mt940_invalid", 6),
        (":62F:C240311GBP2651,75", ":62F:C240311EUR2651,75", "currency_mixed", 21),
        (":60F:C240229GBP1250,00", ":60F:C240229XYZ1250,00", "currency_unknown", 5),
        (":60F:C240229GBP1250,00", ":60F:X240229GBP1250,00", "mt940_invalid", 5),
        (":60F:C240229GBP1250,00", ":60F:C240229GBP1250,00 EXTRA", "mt940_invalid", 5),
        (":28C:00042/00001", ":99:00042/00001", "mt940_invalid", 4),
        (":62F:C240311GBP2651,75\n", "", "mt940_invalid", 2),
    ],
)
def test_refusals_name_the_line(old: str, new: str, code: str, line: int) -> None:
    with pytest.raises(ImportRejected) as caught:
        read(_lloyds_with(old, new))
    assert (caught.value.code, caught.value.line) == (code, line)


def test_a_reversed_credit_is_money_out() -> None:
    statement = read(_lloyds_with(":61:2403010301C1500,00", ":61:2403010301RC1500,00"))
    assert next(iter(statement.lines)).amount == Money("-1500.00", "GBP")


def test_statement_lines_without_a_type_code_stay_apart() -> None:
    # mt-940 4.30's whole-file reader folds the second into the first, losing a line.
    data = b":20:X\n:25:A\n:60F:C200101GBP0,00\n:61:200101C5,00\n:61:200102D3,00\n:62F:C200102GBP2,00\n"
    statement = read(data)
    assert [(line.line_no, line.amount, line.kind) for line in statement.lines] == [
        (4, Money("5.00", "GBP"), None),
        (5, Money("-3.00", "GBP"), None),
    ]
    assert statement.warnings == ()


def test_messages_in_swift_envelopes_one_after_another() -> None:
    second = LLOYDS.replace(":60F:C240229GBP1250,00", ":60F:C240311GBP2651,75").replace(":62F:C240311GBP2651,75", ":62F:C240311GBP4053,50")
    second = second.replace(":64:C240311GBP2651,75", ":64:C240311GBP4053,50").removeprefix(LLOYDS.split("\n")[0] + "\n")
    data = LLOYDS.rstrip("\n") + "{1:F01LOYDGB2LAXXX0000000000}{2:O940LOYDGB2LXXXXN}{4:\n" + second + "{5:{CHK:123456789ABC}}\n"
    statement = read(data.encode())
    assert [line.line_no for line in statement.lines] == [6, 11, 14, 16, 18, 28, 33, 36, 38, 40]
    assert statement.closing_balance == Money("4053.50", "GBP")
    assert statement.warnings == ()


def test_an_entry_date_in_the_next_year() -> None:
    data = _lloyds_with(":61:2403010301C", ":61:2312310102C")
    assert next(iter(read(data).lines)).posted_on == date(2024, 1, 2)


def test_an_unknown_tag_inside_details_is_part_of_them() -> None:
    statement = read(_lloyds_with("REF DP-PHB-000123", ":99:REF DP-PHB-000123"))
    assert next(iter(statement.lines)).description.endswith(":99:REF DP-PHB-000123")


def test_windows_line_endings_and_latin_1() -> None:
    data = LLOYDS.replace("ACCOUNT FEE", "ACCOUNT FEE £2").replace("\n", "\r\n").encode("cp1252")
    statement = read(data)
    fee = list(statement.lines)[2]
    assert fee.description == "ACCOUNT FEE £2"
    assert fee.line_no == 14
    assert "\r" not in fee.raw


# --- round trip: random statements written as MT940 and read back -----------------------------

SWIFT_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-?:().,'+ "


@dataclass(frozen=True)
class Line:
    pence: int
    mark: str
    funds_code: str
    value_on: date
    entry_offset: int | None
    type_code: str
    customer_reference: str
    bank_reference: str | None
    supplementary: str | None
    details: tuple[str, ...]
    amount_style: int


def details_line() -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, rest: (first + rest).rstrip(),
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
        st.text(alphabet=SWIFT_TEXT, max_size=64),
    )


LINE = st.builds(
    Line,
    pence=st.integers(0, 10**11),
    mark=st.sampled_from(["C", "D", "RC", "RD"]),
    funds_code=st.sampled_from(["", "R", "F"]),
    value_on=st.dates(date(2001, 1, 1), date(2060, 12, 31)),
    entry_offset=st.none() | st.integers(-4, 6),
    type_code=st.from_regex(r"N[A-Z0-9]{3}", fullmatch=True),
    customer_reference=st.from_regex(r"[A-Z0-9]([A-Z0-9 ]{0,14}[A-Z0-9])?", fullmatch=True) | st.just("NONREF"),
    bank_reference=st.none() | st.from_regex(r"[A-Z0-9]{1,16}", fullmatch=True),
    supplementary=st.none() | details_line().map(lambda text: text[:34].rstrip()),
    details=st.lists(details_line(), max_size=6).map(tuple),
    amount_style=st.integers(0, 2),
)
SIGN = {"C": 1, "D": -1, "RC": -1, "RD": 1}


def mt940_amount(pence: int, style: int) -> str:
    """``pence`` as MT940 writes it: ``12,30``, and where it can, ``12,3`` or ``12,``."""
    whole, cents = divmod(pence, 100)
    if style == 1 and cents % 10 == 0:
        return f"{whole},{cents // 10}" if cents else f"{whole},"
    if style == 2 and cents == 0:
        return f"{whole},"
    return f"{whole},{cents:02d}"


def balance_field(tag: str, pence: int, on: date) -> str:
    return f":{tag}:{'D' if pence < 0 else 'C'}{on:%y%m%d}GBP{mt940_amount(abs(pence), 0)}"


@dataclass(frozen=True)
class Written:
    data: bytes
    line_nos: tuple[int, ...]
    raws: tuple[str, ...]


def write_mt940(account: str, opening_pence: int, statements: list[list[Line]], envelope: bool) -> Written:
    out: list[str] = []
    line_nos: list[int] = []
    raws: list[str] = []
    balance = opening_pence
    for number, lines in enumerate(statements, start=1):
        if envelope:
            out.append("{1:F01LOYDGB2LAXXX0000000000}{2:O940LOYDGB2LXXXXN}{4:")
        out += [f":20:STMT{number}", f":25:{account}", f":28C:{number:05d}/00001", balance_field("60F", balance, date(2024, 1, 1))]
        for line in lines:
            record = [line_61(line)]
            if line.supplementary:
                record.append(line.supplementary)
            if line.details:
                record += [f":86:{line.details[0]}", *line.details[1:]]
            line_nos.append(len(out) + 1)
            raws.append("\n".join(record))
            out += record
            balance += SIGN[line.mark] * line.pence
        out += [balance_field("62F", balance, date(2024, 1, 31)), "-}" if envelope else "-"]
    return Written(("\r\n".join(out) + "\r\n").encode("ascii"), tuple(line_nos), tuple(raws))


def line_61(line: Line) -> str:
    entry = ""
    if line.entry_offset is not None:
        entry = f"{line.value_on + timedelta(days=line.entry_offset):%m%d}"
    bank = f"//{line.bank_reference}" if line.bank_reference else ""
    amount = mt940_amount(line.pence, line.amount_style)
    return f":61:{line.value_on:%y%m%d}{entry}{line.mark}{line.funds_code}{amount}{line.type_code}{line.customer_reference}{bank}"


def expected_description(line: Line) -> str:
    details = " ".join(" ".join(line.details).split())
    reference = "" if line.customer_reference == "NONREF" else line.customer_reference
    return details or line.supplementary or reference or line.type_code


ACCOUNTS = st.sampled_from(
    [
        ("309634-12345678", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("309634 12345678", AccountIdentifiers(sort_code="309634", account_number="12345678")),
        ("60161331926819", AccountIdentifiers(sort_code="601613", account_number="31926819")),
        ("GB29NWBK60161331926819", AccountIdentifiers(sort_code="601613", account_number="31926819", iban="GB29NWBK60161331926819")),
        ("ACME CLIENT ACCOUNT 7", AccountIdentifiers(other="ACME CLIENT ACCOUNT 7")),
    ]
)


@settings(max_examples=150, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(
    account=ACCOUNTS,
    opening_pence=st.integers(-10**9, 10**9),
    statements=st.lists(st.lists(LINE, max_size=6), min_size=1, max_size=3),
    envelope=st.booleans(),
)
def test_round_trip(
    account: tuple[str, AccountIdentifiers], opening_pence: int, statements: list[list[Line]], envelope: bool
) -> None:
    written = write_mt940(account[0], opening_pence, statements, envelope)
    statement = read(written.data)
    lines = list(statement.lines)
    expected = [line for group in statements for line in group]
    assert statement.format == "mt940" and statement.currency == "GBP"
    assert statement.account == account[1]
    assert statement.warnings == ()
    closing = opening_pence + sum(SIGN[line.mark] * line.pence for line in expected)
    assert statement.opening_balance == Money(Decimal(opening_pence) / 100, "GBP")
    assert statement.closing_balance == Money(Decimal(closing) / 100, "GBP")
    assert statement.closing_balance_on == date(2024, 1, 31)
    assert len(lines) == len(expected)
    posted = []
    for got, want, line_no, raw in zip(lines, expected, written.line_nos, written.raws, strict=True):
        want_posted = want.value_on + timedelta(days=want.entry_offset or 0)
        posted.append(want_posted)
        assert got.line_no == line_no
        assert got.raw == raw
        assert got.amount == Money(Decimal(SIGN[want.mark] * want.pence) / 100, "GBP")
        assert got.posted_on == want_posted
        assert got.description == expected_description(want)
        assert got.payee is None
        assert got.bank_id == want.bank_reference
        assert got.kind == want.type_code
    if posted:
        assert (statement.period_start, statement.period_end) == (min(posted), max(posted))
    else:
        assert (statement.period_start, statement.period_end) == (date(2024, 1, 1), date(2024, 1, 31))


# --- robustness: nothing but ImportRejected escapes -------------------------------------------

SEEDS = [path.read_bytes() for path in sorted(DATA.iterdir())]
FRAGMENTS = [
    b":20:X\n", b":25:309634-12345678\n", b":60F:C240229GBP1,00\n", b":61:", b":86:", b":62F:", b"-\n", b"-}\n",
    b"RD", b"RC", b",", b",,", b"\n", b"\r\n", b"\xa3", b"\x81", b"999999999999999", b"?20", b"//", b"{4:\n",
    b"\xd9\xa3",  # an Arabic-Indic digit in UTF-8: the library's \d would take it
]


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(st.binary(max_size=2000))
def test_random_bytes_only_raise_import_rejected(data: bytes) -> None:
    read_fully(read, data)


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(st.text(alphabet=":0123456789CDRF,/-\nNTRFGBPEUR ?", max_size=600))
def test_random_mt940_like_text_only_raises_import_rejected(text: str) -> None:
    read_fully(read, text.encode())


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(seed=st.sampled_from(SEEDS), choices=st.randoms(use_true_random=False), mutations=st.integers(1, 4))
def test_mutated_files_only_raise_import_rejected(seed: bytes, choices: random.Random, mutations: int) -> None:
    data = bytearray(seed)
    for _ in range(mutations):
        how = choices.randrange(4)
        start = choices.randrange(len(data) + 1)
        if how == 0:  # insert a piece of MT940
            data[start:start] = choices.choice(FRAGMENTS)
        elif how == 1 and data:  # flip a byte
            data[min(start, len(data) - 1)] = choices.randrange(256)
        elif how == 2:  # cut a piece out
            del data[start : start + choices.randrange(1, 80)]
        else:  # duplicate a piece (a line twice, a statement twice)
            data[start:start] = data[start : start + choices.randrange(1, 300)]
    read_fully(read, bytes(data))
