"""camt.053 statements (``importers.camt053_statement``).

Every file in ``tests/data/statements/camt053/`` is listed with what it must give: the public
genkgo/camt files (versions 02, 04, 08; EUR, which this layer reads and the ledger refuses
later), a UK GBP statement written for these tests, and hostile XML (a billion-laughs bomb,
an external entity, an external DTD, a truncated file). The round-trip property writes
random statements as camt.053 XML with a writer of its own (the oracle) and reads them
back field by field, line numbers and raw text included; the robustness properties feed
random bytes and mutated real files and accept only ``ImportRejected``.
"""

from __future__ import annotations

import random
import re
import tracemalloc
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

from importers import read_statement
from importers.camt053_statement import read
from importers.errors import ImportRejected
from importers.statement import AccountIdentifiers
from tests.support.statement_reading import read_fully

DATA = Path(__file__).parent / "data" / "statements" / "camt053"
MEMORY_BYTES_MAX = 2 * 1024 * 1024
"""What refusing a hostile file may allocate at most (it takes about 25 KB): a bomb that
expanded would need gigabytes."""


@dataclass(frozen=True)
class Parsed:
    line_nos: tuple[int, ...]
    first: str
    last: str
    currency: str
    opening: str | None
    closing: str | None
    account: AccountIdentifiers
    warnings: tuple[str, ...] = ()
    """Fragments, one per warning expected, in order."""


@dataclass(frozen=True)
class Rejected:
    code: str
    line: int | None = None
    reason: str = ""


NL_IBAN = AccountIdentifiers(iban="NL26VAYB8060476890")
EXPECTED: dict[str, Parsed | Rejected] = {
    # Five-decimal amounts (18.150, 8.850, 27.050) are whole cents; the file's closing balance
    # is 5 cents more than opening + entry, which the reader reports and does not hide.
    "camt__camt053.v2.five.decimals.xml": Parsed(
        (61,), "8.85", "8.85", "EUR", "18.15", "27.05", NL_IBAN, ("a difference of EUR 0.05",)
    ),
    # Its CLBD is in SEK on a EUR account: not used. Its period (2007) does not hold its entry (2014).
    "camt__camt053.v2.minimal.xml": Parsed(
        (90,), "8.85", "8.85", "EUR", "18.15", None, NL_IBAN,
        ("the CLBD balance is in SEK", "1 line(s) are dated outside the statement's period"),
    ),
    # Two statements for the same IBAN: merged, opening of the first, closing of the second.
    "camt__camt053.v2.multi.statement.xml": Parsed(
        (66, 145), "8.85", "-7.00", "EUR", "18.15", "20.00", NL_IBAN,
        ("1 line(s) are dated outside the statement's period",),
    ),
    "camt__camt053.v2.wrong.xml": Rejected("statement_missing", reason="no statement (no Stmt element)"),
    # Versions 04 and 08 write the IBAN as Othr/Id; it passes the IBAN check, so it is one.
    "camt__camt053.v4.xml": Parsed(
        (110,), "8.85", "8.85", "EUR", "18.15", None, NL_IBAN,
        ("the CLBD balance is in SEK", "1 line(s) are dated outside the statement's period"),
    ),
    "camt__camt053.v8.xml": Parsed(
        (110,), "8.85", "8.85", "EUR", "18.15", None, NL_IBAN,
        ("the CLBD balance is in SEK", "1 line(s) are dated outside the statement's period"),
    ),
    "uk_gbp_statement.xml": Parsed(
        (44, 64, 89, 110), "1500.00", "-12.50", "GBP", "1250.00", "2131.75",
        AccountIdentifiers(sort_code="202015", account_number="55555555", iban="GB33BUKB20201555555555", bic="BUKBGB22"),
        ("line 82: an entry with status PDNG (pending) was skipped", "line 89: the entry is a batch of 2 transactions"),
    ),
    "uk_gbp_truncated.xml": Rejected("xml_invalid", 80, "not well formed"),
    "xml_bomb_billion_laughs.xml": Rejected("xml_entities_forbidden", 2, "document type (DTD) or entities"),
    "xml_external_entity.xml": Rejected("xml_entities_forbidden", 2, "document type (DTD) or entities"),
    "xml_external_dtd.xml": Rejected("xml_entities_forbidden", 2, "document type (DTD) or entities"),
}


def test_every_file_in_the_folder_is_listed() -> None:
    assert sorted(path.name for path in DATA.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file(name: str) -> None:
    expected = EXPECTED[name]
    data = (DATA / name).read_bytes()
    if isinstance(expected, Rejected):
        with pytest.raises(ImportRejected) as caught:
            read_statement(data, name)
        assert caught.value.code == expected.code
        assert caught.value.line == expected.line
        assert expected.reason in caught.value.reason
        assert name in str(caught.value)
        return
    statement = read_statement(data, name)
    lines = list(statement.lines)
    assert statement.format == "camt053"
    assert statement.currency == expected.currency
    assert statement.account == expected.account
    assert tuple(line.line_no for line in lines) == expected.line_nos
    assert lines[0].amount == Money(expected.first, expected.currency)
    assert lines[-1].amount == Money(expected.last, expected.currency)
    assert statement.opening_balance == (Money(expected.opening, expected.currency) if expected.opening else None)
    assert statement.closing_balance == (Money(expected.closing, expected.currency) if expected.closing else None)
    assert len(statement.warnings) == len(expected.warnings)
    for warning, fragment in zip(statement.warnings, expected.warnings, strict=True):
        assert fragment in warning
    text_lines = data.decode("utf-8").splitlines()
    for line in lines:
        assert text_lines[line.line_no - 1].strip().startswith("<Ntry>")
        assert line.raw.startswith("<Ntry>") and line.raw.endswith("</Ntry>")
        assert line.raw in data.decode("utf-8")


def test_uk_statement_fields() -> None:
    statement = read((DATA / "uk_gbp_statement.xml").read_bytes())
    council, agency, wages, fee = statement.lines
    assert (statement.period_start, statement.period_end) == (date(2024, 3, 1), date(2024, 3, 11))
    assert statement.closing_balance_on == date(2024, 3, 11)
    assert council.posted_on == date(2024, 3, 1)
    assert council.description == "DP-PHB-000123 DIRECT PAYMENT MARCH"
    assert council.payee == "DERBYSHIRE COUNTY COUNCIL"  # the debtor: money came in
    assert council.bank_id == "FP24061000123456"
    assert council.kind == "PMNT/RCDT/DMCT"
    assert agency.amount == Money("-420.00", "GBP")  # written 420.00000: whole pence
    assert agency.posted_on == date(2024, 3, 4)  # from BookgDt/DtTm
    assert agency.payee == "BRIGHT CARE AGENCY LTD"  # the creditor: money went out
    assert agency.description == "DIRECT DEBIT BRIGHT CARE AGENCY LTD INVOICE 2024-02"
    assert wages.amount == Money("-185.75", "GBP")  # one line for the batch the bank booked
    assert wages.payee is None  # two different people were paid
    assert wages.kind == "BACS"
    assert fee.posted_on == date(2024, 3, 11)  # no BookgDt: the value date
    assert fee.bank_id == "CHG2403110001"  # NtryRef when there is no AcctSvcrRef
    assert fee.kind == "CHG"


def test_windows_line_endings_keep_line_numbers() -> None:
    unix = read((DATA / "uk_gbp_statement.xml").read_bytes())
    windows = read((DATA / "uk_gbp_statement.xml").read_bytes().replace(b"\n", b"\r\n"))
    assert list(windows.lines) == list(unix.lines)


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "UTF-16"])
def test_declared_encodings_give_the_same_lines(encoding: str) -> None:
    text = (DATA / "uk_gbp_statement.xml").read_text().replace("ACCOUNT FEE", "ACCOUNT FEE £2")
    utf8 = read(text.encode())
    other = read(text.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding))
    assert list(other.lines) == list(utf8.lines)
    assert list(other.lines)[-1].description == "ACCOUNT FEE £2"


def test_payer_chosen_references_are_not_bank_ids() -> None:
    statement = read((DATA / "camt__camt053.v2.five.decimals.xml").read_bytes())
    (line,) = statement.lines
    assert line.bank_id is None  # only an EndToEndId, which the payer chose


# --- hostile and broken XML -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["xml_bomb_billion_laughs.xml", "xml_external_entity.xml", "xml_external_dtd.xml"])
def test_hostile_xml_is_refused_before_anything_expands(name: str) -> None:
    data = (DATA / name).read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(ImportRejected) as caught:
            read(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "xml_entities_forbidden"
    assert peak < MEMORY_BYTES_MAX


def test_quadratic_blowup_is_refused() -> None:
    big = "x" * 100_000
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "{big}">]>\n<Document>' + "&a;" * 10_000 + "</Document>"
    ).encode()
    with pytest.raises(ImportRejected) as caught:
        read(data)
    assert caught.value.code == "xml_entities_forbidden"


def test_truncated_file_names_the_line_where_it_stops() -> None:
    whole = (DATA / "uk_gbp_statement.xml").read_bytes()
    for cut in (100, 1000, 2600, len(whole) - 5):
        with pytest.raises(ImportRejected) as caught:
            read(whole[:cut])
        assert caught.value.code == "xml_invalid"
        assert caught.value.line == whole[:cut].count(b"\n") + 1


@pytest.mark.parametrize(
    ("xml", "named"),
    [
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"><BkToCstmrAcctRpt/></Document>', "camt.052.001.02 (BkToCstmrAcctRpt)"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn/></Document>', "camt.054.001.02"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>', "pain.001.001.03"),
        (b"<OFX><BANKMSGSRSV1/></OFX>", "OFX"),
    ],
)
def test_other_xml_is_not_a_camt053_statement(xml: bytes, named: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        read(xml)
    assert caught.value.code == "format_unknown"
    assert named in caught.value.reason


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        (b"", "xml_invalid"),
        (b"<Document>&nbsp;</Document>", "xml_invalid"),
        (b'<?xml version="1.0" encoding="shift_jis"?><Document/>', "xml_invalid"),
        (b'<?xml version="1.0" encoding="no-such-encoding"?><Document/>', "encoding_unknown"),
    ],
)
def test_unreadable_xml(xml: bytes, code: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        read(xml)
    assert caught.value.code == code


# --- amounts, statuses, accounts --------------------------------------------------------------


def _replace_first_entry(old: str, new: str) -> bytes:
    text = (DATA / "uk_gbp_statement.xml").read_text()
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("1500.00500", "amount_sub_penny"),  # half a penny: cannot be kept in pence
        ("-1500.00", "amount_invalid"),  # the sign is CdtDbtInd's
        ("1,500.00", "amount_invalid"),
        ("NaN", "amount_invalid"),
        ("", "amount_missing"),
        ("1500000000000.00", "amount_too_large"),
    ],
)
def test_amount_refusals_name_the_entry_line(amount: str, code: str) -> None:
    data = _replace_first_entry('<Amt Ccy="GBP">1500.00</Amt>', f'<Amt Ccy="GBP">{amount}</Amt>')
    with pytest.raises(ImportRejected) as caught:
        read(data)
    assert caught.value.code == code
    assert caught.value.line == 44


def test_five_decimal_whole_pence_are_accepted() -> None:
    data = _replace_first_entry('<Amt Ccy="GBP">1500.00</Amt>', '<Amt Ccy="GBP">1500.00000</Amt>')
    assert next(iter(read(data).lines)).amount == Money("1500.00", "GBP")


def test_an_entry_in_another_currency_is_refused() -> None:
    data = _replace_first_entry('<Amt Ccy="GBP">1500.00</Amt>', '<Amt Ccy="EUR">1500.00</Amt>')
    with pytest.raises(ImportRejected) as caught:
        read(data)
    assert (caught.value.code, caught.value.line) == ("currency_mixed", 44)


def test_an_impossible_date_is_refused() -> None:
    data = _replace_first_entry("<BookgDt><Dt>2024-03-01</Dt></BookgDt>", "<BookgDt><Dt>2024-02-30</Dt></BookgDt>")
    with pytest.raises(ImportRejected) as caught:
        read(data)
    assert (caught.value.code, caught.value.line) == ("date_invalid", 44)


def test_version_08_status_and_info_entries() -> None:
    data = _replace_first_entry("<Sts>BOOK</Sts>", "<Sts><Cd>INFO</Cd></Sts>")
    statement = read(data)
    assert [line.line_no for line in statement.lines] == [64, 89, 110]
    assert any("line 44: an entry with status INFO" in warning for warning in statement.warnings)
    # the skipped 1,500 no longer adds up to the closing balance: reported, with the figures
    assert any("a difference of GBP 1,500.00" in warning for warning in statement.warnings)


def test_an_entry_without_a_status_is_refused() -> None:
    data = _replace_first_entry("<Sts>BOOK</Sts>", "")
    with pytest.raises(ImportRejected) as caught:
        read(data)
    assert (caught.value.code, caught.value.line) == ("camt_invalid", 44)


def test_statements_for_two_accounts_are_refused() -> None:
    text = (DATA / "camt__camt053.v2.multi.statement.xml").read_text()
    second = text.rindex("<IBAN>NL26VAYB8060476890</IBAN>")
    data = (text[:second] + "<IBAN>GB33BUKB20201555555555</IBAN>" + text[second + 31 :]).encode()
    with pytest.raises(ImportRejected) as caught:
        read(data)
    assert caught.value.code == "several_accounts"
    assert "IBAN NL26VAYB8060476890" in caught.value.reason and "IBAN GB33BUKB20201555555555" in caught.value.reason


def test_a_prcd_balance_opens_when_there_is_no_opbd() -> None:
    data = _replace_first_entry("<Cd>OPBD</Cd>", "<Cd>PRCD</Cd>")
    assert read(data).opening_balance == Money("1250.00", "GBP")


def test_a_debit_closing_balance_is_negative() -> None:
    text = (DATA / "uk_gbp_statement.xml").read_text()
    data = re.sub(
        r"(<Cd>CLBD</Cd></CdOrPrtry></Tp>\s*<Amt Ccy=\"GBP\">2131.75</Amt>\s*<CdtDbtInd>)CRDT", r"\1DBIT", text
    ).encode()
    statement = read(data)
    assert statement.closing_balance == Money("-2131.75", "GBP")
    assert any("a difference of GBP -4,263.50" in warning for warning in statement.warnings)


# --- round trip: random statements written as camt.053 and read back ---------------------------


@dataclass(frozen=True)
class Line:
    pence: int
    booked_on: date
    description: str
    in_additional_info: bool
    payee: str | None
    bank_id: str | None
    kind: tuple[str, ...]
    """(domain, family, sub-family) or (proprietary code,)."""
    date_time: bool
    extra_zeros: int


@dataclass(frozen=True)
class Written:
    data: bytes
    line_nos: tuple[int, ...]
    raws: tuple[str, ...]


def iban_gb(bank: str, sort_code: str, account: str) -> str:
    """A GB IBAN with its check digits worked out (ISO 13616, mod 97)."""
    digits = "".join(str(int(character, 36)) for character in f"{bank}{sort_code}{account}GB00")
    return f"GB{98 - int(digits) % 97:02d}{bank}{sort_code}{account}"


TEXT = st.text(
    alphabet=st.characters(
        categories=("L", "N", "P", "S", "Zs"), exclude_characters="\u2028\u2029\x85", max_codepoint=0x2FFF
    ),
    min_size=1,
    max_size=60,
).filter(lambda text: text.strip() != "")
REFERENCE = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/-]{0,34}", fullmatch=True).filter(
    lambda ref: ref.upper() not in ("NOTPROVIDED", "NONREF")
)
KIND = st.one_of(
    st.tuples(st.sampled_from(["PMNT", "ACMT"]), st.sampled_from(["RCDT", "ICDT", "IDDT"]), st.sampled_from(["ESCT", "BOOK", "DMCT"])),
    st.tuples(st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True)),
)
LINE = st.builds(
    Line,
    pence=st.integers(-10**11, 10**11).filter(lambda pence: pence != 0),
    booked_on=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    description=TEXT,
    in_additional_info=st.booleans(),
    payee=st.none() | TEXT,
    bank_id=st.none() | REFERENCE,
    kind=KIND,
    date_time=st.booleans(),
    extra_zeros=st.integers(0, 3),
)


def write_camt053(
    version: str, iban: str, opening_pence: int, statements: list[list[Line]], namespaced: bool
) -> Written:
    """A camt.053 document, one ``Stmt`` per list of lines, balances that add up."""
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    namespace = f' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"' if namespaced else ""
    out += [f"<Document{namespace}>", "<BkToCstmrStmt>", "<GrpHdr><MsgId>M1</MsgId></GrpHdr>"]
    line_nos: list[int] = []
    raws: list[str] = []
    balance = opening_pence
    for number, lines in enumerate(statements):
        out += [f"<Stmt><Id>S{number}</Id>", f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>GBP</Ccy></Acct>"]
        out += balance_xml("OPBD", balance)
        balance += sum(line.pence for line in lines)
        out += balance_xml("CLBD", balance)
        for line in lines:
            entry = entry_xml(line, version)
            line_nos.append(len(out) + 1)
            raws.append("\n".join(entry))
            out += entry
        out.append("</Stmt>")
    out += ["</BkToCstmrStmt>", "</Document>"]
    return Written("\n".join(out).encode("utf-8"), tuple(line_nos), tuple(raws))


def amount_xml(pence: int, extra_zeros: int = 0) -> str:
    return f'<Amt Ccy="GBP">{abs(pence) // 100}.{abs(pence) % 100:02d}{"0" * extra_zeros}</Amt>'


def balance_xml(code: str, pence: int) -> list[str]:
    indicator = "DBIT" if pence < 0 else "CRDT"
    return [
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{amount_xml(pence)}",
        f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>2024-01-01</Dt></Dt></Bal>",
    ]


def entry_xml(line: Line, version: str) -> list[str]:
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version == "08" else "<Sts>BOOK</Sts>"
    booked = (
        f"<DtTm>{line.booked_on.isoformat()}T23:59:59+01:00</DtTm>" if line.date_time else f"<Dt>{line.booked_on.isoformat()}</Dt>"
    )
    entry = ["<Ntry>", amount_xml(line.pence, line.extra_zeros), f"<CdtDbtInd>{'DBIT' if line.pence < 0 else 'CRDT'}</CdtDbtInd>"]
    entry += [status, f"<BookgDt>{booked}</BookgDt>"]
    if line.bank_id:
        entry.append(f"<AcctSvcrRef>{escape(line.bank_id)}</AcctSvcrRef>")
    if len(line.kind) == 3:
        domain, family, sub_family = line.kind
        entry.append(f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub_family}</SubFmlyCd></Fmly></Domn></BkTxCd>")
    else:
        entry.append(f"<BkTxCd><Prtry><Cd>{line.kind[0]}</Cd></Prtry></BkTxCd>")
    entry += ["<NtryDtls>", "<TxDtls>"]
    if line.payee:
        party = "Cdtr" if line.pence < 0 else "Dbtr"
        name = f"<Pty><Nm>{escape(line.payee)}</Nm></Pty>" if version == "08" else f"<Nm>{escape(line.payee)}</Nm>"
        entry.append(f"<RltdPties><{party}>{name}</{party}></RltdPties>")
    if not line.in_additional_info:
        entry.append(f"<RmtInf><Ustrd>{escape(line.description)}</Ustrd></RmtInf>")
    entry += ["</TxDtls>", "</NtryDtls>"]
    if line.in_additional_info:
        entry.append(f"<AddtlNtryInf>{escape(line.description)}</AddtlNtryInf>")
    entry.append("</Ntry>")
    return entry


@settings(max_examples=150, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from(["02", "04", "08"]),
    namespaced=st.booleans(),
    bank=st.from_regex(r"[A-Z]{4}", fullmatch=True),
    sort_code=st.from_regex(r"[0-9]{6}", fullmatch=True),
    account=st.from_regex(r"[0-9]{8}", fullmatch=True),
    opening_pence=st.integers(-10**9, 10**9),
    statements=st.lists(st.lists(LINE, max_size=6), min_size=1, max_size=3),
)
def test_round_trip(
    version: str, namespaced: bool, bank: str, sort_code: str, account: str, opening_pence: int, statements: list[list[Line]]
) -> None:
    iban = iban_gb(bank, sort_code, account)
    written = write_camt053(version, iban, opening_pence, statements, namespaced)
    statement = read(written.data)
    lines = list(statement.lines)
    expected = [line for group in statements for line in group]
    assert statement.format == "camt053" and statement.currency == "GBP"
    assert statement.account == AccountIdentifiers(sort_code=sort_code, account_number=account, iban=iban)
    assert statement.warnings == ()
    assert statement.opening_balance == Money(Decimal(opening_pence) / 100, "GBP")
    closing = opening_pence + sum(line.pence for line in expected)
    assert statement.closing_balance == Money(Decimal(closing) / 100, "GBP")
    assert len(lines) == len(expected)
    for got, want, line_no, raw in zip(lines, expected, written.line_nos, written.raws, strict=True):
        assert got.line_no == line_no
        assert got.raw == raw
        assert got.amount == Money(Decimal(want.pence) / 100, "GBP")
        assert got.posted_on == want.booked_on
        assert got.description == " ".join(want.description.split())
        assert got.payee == (" ".join(want.payee.split()) if want.payee else None)
        assert got.bank_id == want.bank_id
        assert got.kind == "/".join(want.kind)
    if expected:
        assert statement.period_start == min(line.booked_on for line in expected)
        assert statement.period_end == max(line.booked_on for line in expected)


# --- robustness: nothing but ImportRejected escapes -------------------------------------------

SEEDS = [path.read_bytes() for path in sorted(DATA.iterdir())]
_TEXT_NODE_RE = re.compile(rb">([^<]*)<")


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(st.binary(max_size=2000))
def test_random_bytes_only_raise_import_rejected(data: bytes) -> None:
    read_fully(read, data)


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(
    seed=st.sampled_from(SEEDS),
    choices=st.randoms(use_true_random=False),
    mutations=st.integers(1, 4),
    replacement=st.sampled_from(
        [b"", b"-1", b"NaN", b"1e5", b"0.001", b"2024-02-30", b"DBIT", b"PDNG", b"&amp;", b"\xff", b"<", b"]]>", b"99999999999999999999", b"\x00"]
    ),
)
def test_mutated_files_only_raise_import_rejected(
    seed: bytes, choices: random.Random, mutations: int, replacement: bytes
) -> None:
    data = bytearray(seed)
    for _ in range(mutations):
        nodes = list(_TEXT_NODE_RE.finditer(data))
        how = choices.randrange(4)
        if how == 0 and nodes:  # replace the text of an element: amounts, dates, codes
            node = choices.choice(nodes)
            data[node.start(1) : node.end(1)] = replacement
        elif how == 1 and data:  # flip a byte
            data[choices.randrange(len(data))] = choices.randrange(256)
        elif how == 2 and data:  # cut a piece out
            start = choices.randrange(len(data))
            del data[start : start + choices.randrange(1, 200)]
        else:  # duplicate a piece (an element twice, a statement twice)
            start = choices.randrange(len(data) + 1)
            data[start:start] = data[start : start + choices.randrange(1, 400)]
    read_fully(read, bytes(data))
