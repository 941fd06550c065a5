"""OFX/QFX statements: ``importers.ofx_statement`` and the layer in front of ``ofxparse``
(``importers.ofx_cleanup``).

1. Every OFX file of the shared test data (jseutter/ofxparse's fixtures) gives what it must:
   its lines, first and last amount, balances and period, or its refusal.
2. Each trap of ``ofxparse`` 0.21 (research/reliability.md §4) has a test showing the trap
   in ``ofxparse`` alone, then what the importer does instead: encodings it cannot decode,
   ``1,234`` read as 1.234, ``NaN``, empty elements, exceptions of every kind, entities.
3. A Hypothesis round trip: random transactions are written as an OFX file here (SGML or
   XML, bank or card, one or two statements, several layouts, encodings and date and
   amount forms: the writer is the model), read back, and compared field by field,
   line numbers and raw text included — with the transactions handed to ``ofxparse`` in
   slices as small as one, so slice boundaries are crossed.
4. Robustness: mutated real files, token soup and random bytes only ever raise
   ``ImportRejected``, lines included.
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money
from ofxparse import OfxParser

from importers import ImportRejected, ofx_cleanup, ofx_statement, read_statement
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated method findAll:DeprecationWarning")
"""Where a test calls ``ofxparse`` itself: it uses BeautifulSoup's old ``findAll``."""

DATA = Path(__file__).parent / "data" / "statements" / "ofx"
SGML_HEADER = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:{encoding}\nCHARSET:{charset}\n"
    "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)
SIGNON = "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20250131<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>"
UK_ACCOUNT = "<BANKACCTFROM><BANKID>601234<ACCTID>12345678<ACCTTYPE>CHECKING</BANKACCTFROM>"
LEDGER = "<LEDGERBAL><BALAMT>100.00<DTASOF>20250131</LEDGERBAL>"


def read(data: bytes) -> tuple[ParsedStatement, list[StatementLine]]:
    statement = ofx_statement.read(data)
    return statement, list(statement.lines)


def rejection(data: bytes) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        read(data)
    return caught.value


def transaction(
    amount: str = "-1.00", posted: str = "20250110", fitid: str | None = "T1", name: str = "TESCO", extra: str = ""
) -> str:
    fitid_element = f"<FITID>{fitid}\n" if fitid is not None else ""
    return f"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>{posted}\n<TRNAMT>{amount}\n{fitid_element}<NAME>{name}\n{extra}</STMTTRN>\n"


def bank_statement(*transactions: str, curdef: str = "<CURDEF>GBP", account: str = UK_ACCOUNT, ledger: str = LEDGER) -> str:
    return (
        f"<STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n<STMTRS>{curdef}{account}\n"
        f"<BANKTRANLIST><DTSTART>20250101<DTEND>20250131\n{''.join(transactions)}</BANKTRANLIST>{ledger}</STMTRS></STMTTRNRS>\n"
    )


def sgml(*statements: str, encoding: str = "USASCII", charset: str = "1252") -> str:
    body = "".join(statements) or bank_statement(transaction())
    return SGML_HEADER.format(encoding=encoding, charset=charset) + f"<OFX>\n{SIGNON}\n<BANKMSGSRSV1>\n{body}</BANKMSGSRSV1>\n</OFX>\n"


def ofxparse_alone(data: bytes) -> object:
    return OfxParser.parse(io.BytesIO(data))


# --- 1. the shared files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Gives:
    currency: str
    lines: int
    first: str
    last: str
    closing: str | None
    closing_on: date | None
    period: tuple[date | None, date | None]
    account: AccountIdentifiers


@dataclass(frozen=True)
class Refused:
    code: str
    line: int | None = None
    field: str | None = None
    says: str = ""


SHARED_FILES = {
    "ofxparse__anzcc.ofx": Gives(
        "AUD", 1, "-5.50", "-5.50", "-123.45", date(2017, 5, 10), (date(2017, 3, 11), date(2017, 5, 9)),
        AccountIdentifiers(other="card ending 1234"),
    ),
    "ofxparse__bank_medium.ofx": Gives(
        "CAD", 3, "-6.60", "-22.00", "382.34", date(2009, 5, 23), (date(2009, 4, 1), date(2009, 5, 23)),
        AccountIdentifiers(other="12300 000012345678"),
    ),
    "ofxparse__bank_small.ofx": Refused("ofx_no_statement"),
    "ofxparse__checking.ofx": Gives(
        "USD", 3, "0.01", "-25.00", "100.99", date(2013, 5, 25), (date(2000, 1, 1), date(2013, 5, 25)),
        AccountIdentifiers(other="1452687~7"),
    ),
    "ofxparse__error_message.ofx": Refused("ofx_bank_error", line=22, says="'General Server Error' (OFX status 2000, ERROR)"),
    "ofxparse__fail_nice__date_missing.ofx": Refused("date_missing", line=33, field="DTPOSTED"),
    "ofxparse__fail_nice__decimal_error.ofx": Refused("amount_invalid", line=37, field="TRNAMT", says="'$120'"),
    "ofxparse__fail_nice__empty_balance.ofx": Gives(
        "CAD", 1, "120.00", "120.00", None, None, (date(2011, 4, 12), date(2011, 6, 14)),
        AccountIdentifiers(other="192639749"),
    ),
    "ofxparse__fidelity.ofx": Refused("ofx_investment_statement", line=11, field="INVSTMTMSGSRSV1"),
    "ofxparse__multiple_accounts.ofx": Refused("several_accounts", says="2 accounts (9100; 9200)"),
    "ofxparse__ofx-v102-empty-tags.ofx": Gives(
        "AUD", 1, "12.34", "12.34", None, None, (date(2018, 5, 6), date(2018, 8, 4)), AccountIdentifiers(other="12345678"),
    ),
    "ofxparse__suncorp.ofx": Gives(
        "AUD", 1, "-16.85", "-16.85", "1234.12", date(2013, 12, 15), (date(2013, 6, 18), date(2013, 12, 15)),
        AccountIdentifiers(other="123456789"),
    ),
}  # fmt: skip


def test_every_shared_file_is_listed() -> None:
    assert sorted(SHARED_FILES) == sorted(p.name for p in DATA.iterdir() if p.name.startswith("ofxparse__"))


@pytest.mark.parametrize("name", sorted(SHARED_FILES))
def test_shared_file(name: str) -> None:
    data = (DATA / name).read_bytes()
    expected = SHARED_FILES[name]
    if isinstance(expected, Refused):
        refused = rejection(data)
        assert (refused.code, refused.line, refused.field) == (expected.code, expected.line, expected.field), refused.message
        assert expected.says in refused.message
        return
    statement, lines = read(data)
    assert statement.format == "ofx"
    assert statement.currency == expected.currency
    assert len(lines) == expected.lines
    assert lines[0].amount == Money(expected.first, expected.currency)
    assert lines[-1].amount == Money(expected.last, expected.currency)
    closing = Money(expected.closing, expected.currency) if expected.closing is not None else None
    assert (statement.closing_balance, statement.closing_balance_on) == (closing, expected.closing_on)
    assert (statement.period_start, statement.period_end) == expected.period
    assert statement.opening_balance is None
    assert statement.account == expected.account


def test_bank_medium_line_by_line() -> None:
    _, lines = read((DATA / "ofxparse__bank_medium.ofx").read_bytes())
    assert [(line.line_no, line.posted_on, line.bank_id, line.kind, line.payee) for line in lines] == [
        (15, date(2009, 4, 1), "0000123456782009040100001", "POS", "MCDONALD'S #112"),
        (16, date(2009, 4, 2), "0000123456782009040200004", "CHECK", "Joe's Bald Hairstyles"),
        (17, date(2009, 4, 3), "0000123456782009040300005", "POS", "CONNIE'S HAIR D"),
    ]
    assert lines[0].description == "POS MERCHANDISE;MCDONALD'S #112"  # the memo repeats the name: said once
    assert lines[0].raw.startswith("<STMTTRN><TRNTYPE>POS<DTPOSTED>20090401122017.000[-5:EST]")
    assert lines[0].raw.endswith("</STMTTRN>")


def test_xml_with_cdata_and_crlf() -> None:
    _, [line] = read((DATA / "ofxparse__suncorp.ofx").read_bytes())
    assert (line.line_no, line.payee) == (35, "EFTPOS WDL HANDYWAY ALDI STORE")
    assert line.description == "EFTPOS WDL HANDYWAY ALDI STORE GEELONG WEST VICAU"
    assert "\r" not in line.raw and line.raw.count("\n") == 8


def test_card_statement_keeps_no_whole_card_number() -> None:
    statement, [line] = read((DATA / "ofxparse__anzcc.ofx").read_bytes())
    assert statement.account.describe() == "card ending 1234"
    assert (line.line_no, line.payee, line.description, line.kind) == (29, None, "SOME MEMO", "DEBIT")


def test_empty_tags_file_imports_with_warnings() -> None:
    """ofxparse raises IndexError on it (an empty CURDEF); its data is sound."""
    data = (DATA / "ofxparse__ofx-v102-empty-tags.ofx").read_bytes()
    with pytest.raises(IndexError):
        ofxparse_alone(data)
    statement, [line] = read(data)
    assert (line.line_no, line.posted_on, line.bank_id, line.payee, line.description, line.kind) == (
        23, date(2018, 5, 7), None, None, "CBA:Transfer", "Credit",
    )  # fmt: skip
    said = " ".join(statement.warnings)
    assert "no currency (CURDEF); its transactions say AUD" in said
    assert "ledger balance (LEDGERBAL/BALAMT) is empty" in said
    assert "1 transaction(s) have no FITID (line 23)" in said


def test_empty_ledger_balance_imports_without_a_closing_balance() -> None:
    statement, _ = read((DATA / "ofxparse__fail_nice__empty_balance.ofx").read_bytes())
    assert statement.closing_balance is None
    assert any("line 37: the ledger balance (LEDGERBAL/BALAMT) is empty" in w for w in statement.warnings)
    assert any("dated outside its period" in w for w in statement.warnings)  # posted 2011-03-08, period from 2011-04-12


def test_through_the_dispatcher_the_error_names_the_file() -> None:
    with pytest.raises(ImportRejected) as caught:
        read_statement((DATA / "ofxparse__fail_nice__date_missing.ofx").read_bytes(), "march.qfx")
    assert caught.value.message == "march.qfx, line 33, field DTPOSTED: the transaction has no date (DTPOSTED)"


# --- 2. the traps -----------------------------------------------------------------------------


def test_charset_none() -> None:
    data = sgml(charset="NONE").encode("ascii")
    with pytest.raises(LookupError, match="cpNONE"):
        ofxparse_alone(data)
    _, [line] = read(data)
    assert line.amount == Money("-1.00", "GBP")


def test_unknown_encoding() -> None:
    data = sgml(encoding="UTF8", charset="NONE").encode("ascii")
    with pytest.raises(UnboundLocalError):
        ofxparse_alone(data)
    assert read(data)[1][0].payee == "TESCO"


def test_utf8_body_without_a_declared_encoding() -> None:
    """An OFX 2 file: ofxparse reads no SGML header, so decodes the body as ASCII."""
    xml = (DATA / "ofxparse__suncorp.ofx").read_bytes().replace(b"ALDI STORE  ", "CAFÉ £".encode())
    with pytest.raises(UnicodeDecodeError, match="'ascii' codec"):
        ofxparse_alone(xml)
    assert read(xml)[1][0].payee == "EFTPOS WDL HANDYWAY CAFÉ £"


def test_utf8_body_under_usascii_and_charset_1252() -> None:
    data = sgml(bank_statement(transaction(name="Café £5"))).encode("utf-8")
    assert ofxparse_alone(data).account.statement.transactions[0].payee == "CafÃ© Â£5"  # type: ignore[attr-defined]
    assert read(data)[1][0].payee == "Café £5"


def test_real_windows_1252_and_latin_1() -> None:
    assert read(sgml(bank_statement(transaction(name="Café £5 €"))).encode("cp1252"))[1][0].payee == "Café £5 €"
    assert read(sgml(bank_statement(transaction(name="Café £5")), charset="8859-1").encode("latin-1"))[1][0].payee == "Café £5"


def test_bytes_invalid_in_every_reading_are_refused_with_their_line() -> None:
    data = sgml(bank_statement(transaction(name="TESCO"))).encode("ascii").replace(b"TESCO", b"TE\x81CO")
    refused = rejection(data)
    assert (refused.code, refused.line) == ("encoding_invalid", 22)


def test_thousands_comma_without_decimals_is_ambiguous() -> None:
    data = sgml(bank_statement(transaction(amount="1,234"))).encode("ascii")
    assert ofxparse_alone(data).account.statement.transactions[0].amount == Decimal("1.234")  # type: ignore[attr-defined]
    refused = rejection(data)
    assert (refused.code, refused.line, refused.field) == ("amount_invalid", 20, "TRNAMT")
    assert "ambiguous" in refused.reason


@pytest.mark.parametrize(
    ("written", "pounds"), [("12,34", "12.34"), ("-0,5", "-0.50"), ("1,234.56", "1234.56"), ("+7", "7.00"), ("-.25", "-0.25")]
)
def test_amount_forms_ofx_allows(written: str, pounds: str) -> None:
    assert read(sgml(bank_statement(transaction(amount=written))).encode("ascii"))[1][0].amount == Money(pounds, "GBP")


@pytest.mark.parametrize(
    ("written", "code"),
    [("NaN", "amount_not_a_number"), ("-Infinity", "amount_not_a_number"), ("0.001", "amount_sub_penny"),
     ("£5.00", "amount_invalid"), ("(5.00)", "amount_invalid"), ("5.00-", "amount_invalid"), ("1.2.3", "amount_invalid"),
     ("", "amount_missing")],
)  # fmt: skip
def test_amounts_refused(written: str, code: str) -> None:
    data = sgml(bank_statement(transaction(amount=written))).encode("utf-8")
    refused = rejection(data)
    assert (refused.code, refused.line, refused.field) == (code, 20, "TRNAMT"), refused.message


def test_nan_is_accepted_by_ofxparse_alone() -> None:
    data = sgml(bank_statement(transaction(amount="NaN"))).encode("ascii")
    assert ofxparse_alone(data).account.statement.transactions[0].amount.is_nan()  # type: ignore[attr-defined]


def test_a_transaction_without_an_amount() -> None:
    data = sgml(bank_statement(transaction().replace("<TRNAMT>-1.00\n", ""))).encode("ascii")
    assert (rejection(data).code, rejection(data).field) == ("amount_missing", "TRNAMT")


@pytest.mark.parametrize("balance", ["1,234", "NaN", "$5", "0.001"])
def test_balance_amounts_are_read_strictly(balance: str) -> None:
    data = sgml(bank_statement(transaction(), ledger=f"<LEDGERBAL><BALAMT>{balance}<DTASOF>20250131</LEDGERBAL>"))
    refused = rejection(data.encode("ascii"))
    assert (refused.line, refused.field) == (24, "BALAMT"), refused.message


def test_available_balance_is_read_strictly_too() -> None:
    ledger = LEDGER + "<AVAILBAL><BALAMT>NaN<DTASOF>20250131</AVAILBAL>"
    assert rejection(sgml(bank_statement(transaction(), ledger=ledger)).encode("ascii")).code == "amount_not_a_number"


def test_dates_are_the_day_written_not_shifted_to_utc() -> None:
    data = sgml(bank_statement(transaction(posted="20250401000000[+1:BST]"))).encode("ascii")
    assert ofxparse_alone(data).account.statement.transactions[0].date.date() == date(2025, 3, 31)  # type: ignore[attr-defined]
    assert read(data)[1][0].posted_on == date(2025, 4, 1)


@pytest.mark.parametrize(("written", "code"), [("20250231", "date_invalid"), ("2025-01-10", "date_invalid"), ("", "date_missing")])
def test_dates_refused(written: str, code: str) -> None:
    refused = rejection(sgml(bank_statement(transaction(posted=written))).encode("ascii"))
    assert (refused.code, refused.line, refused.field) == (code, 19, "DTPOSTED"), refused.message


def test_statement_dates_are_read_strictly() -> None:
    data = sgml(bank_statement(transaction())).replace("<DTEND>20250131", "<DTEND>20251340")
    refused = rejection(data.encode("ascii"))
    assert (refused.code, refused.line, refused.field) == ("date_invalid", 16, "DTEND")


def test_elements_the_importer_does_not_read_cannot_sink_the_file() -> None:
    extra = "<DTUSER>yesterday\n<REFNUM>\n<BANKACCTTO><BANKID>x<ACCTID>y</BANKACCTTO>\n"
    data = sgml(bank_statement(transaction(extra=extra))).encode("ascii")
    with pytest.raises(Exception, match="does not match format"):
        ofxparse_alone(data)
    assert read(data)[1][0].amount == Money("-1.00", "GBP")


def test_empty_elements_are_dropped() -> None:
    extra = "<MEMO>\n<CHECKNUM></CHECKNUM><SIC>\n"
    data = sgml(bank_statement(transaction(name="", extra=extra), curdef="<CURDEF></CURDEF>"))
    statement, [line] = read(data.encode("ascii"))
    assert (line.payee, line.description, line.mcc, statement.currency) == (None, "DEBIT", None, "GBP")
    assert any("no currency (CURDEF); it is read as GBP" in w for w in statement.warnings)


def test_a_bare_less_than_sign_in_sgml_text() -> None:
    """ofxparse cuts the first name short (html.parser takes ``<B STORES…`` for a tag) and
    raises on the second (its own pass takes text starting with ``<`` for a tag)."""
    cut_short = sgml(bank_statement(transaction(name="A<B STORES"))).encode("ascii")
    assert ofxparse_alone(cut_short).account.statement.transactions[0].payee == "A"  # type: ignore[attr-defined]
    assert read(cut_short)[1][0].payee == "A<B STORES"
    crashes = sgml(bank_statement(transaction(name="<5 ITEMS"))).encode("ascii")
    with pytest.raises(IndexError):
        ofxparse_alone(crashes)
    assert read(crashes)[1][0].payee == "<5 ITEMS"


def test_entities_in_text_are_read() -> None:
    assert read(sgml(bank_statement(transaction(name="M&amp;S &lt;FOOD&gt;"))).encode("ascii"))[1][0].payee == "M&S <FOOD>"


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE OFX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>',
        '<!ENTITY x SYSTEM "http://example.invalid/x">',
        "<!doctype ofx>",
    ],
)
def test_dtds_and_entities_are_refused(declaration: str) -> None:
    xml = (DATA / "ofxparse__suncorp.ofx").read_text()
    data = xml.replace("<OFX>", f"{declaration}\n<OFX>", 1).replace("ALDI", "&xxe;")
    assert rejection(data.encode()).code == "xml_entities_forbidden"


NAME_HOLDING_AN_ELEMENT = "<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>20250110\n<TRNAMT>-1.00\n<FITID>BAD\n<NAME><MEMO>x</MEMO></NAME>\n</STMTTRN>\n"
"""A transaction ofxparse refuses ("No Transaction name") after every check of ours passed."""


def test_an_error_ofxparse_raises_names_the_transaction() -> None:
    good = [transaction(fitid=f"T{n}") for n in range(5)]
    bad = NAME_HOLDING_AN_ELEMENT
    data = sgml(bank_statement(*good[:3], bad, *good[3:])).encode("ascii")
    with mock.patch.object(ofx_cleanup, "CHUNK_TRANSACTIONS", 2):
        refused = rejection(data)
    assert (refused.code, refused.line) == ("ofx_unreadable", 38)
    assert "OfxParserException" in refused.reason


def test_an_error_ofxparse_raises_in_the_envelope() -> None:
    data = sgml(bank_statement(transaction())).replace("<CODE>0<SEVERITY>INFO</STATUS><DTSERVER>", "<CODE>OK<SEVERITY>INFO</STATUS><DTSERVER>")
    refused = rejection(data.encode("ascii"))
    assert refused.code == "ofx_unreadable" and "ValueError" in refused.reason


def test_sign_on_error_quotes_the_bank() -> None:
    data = sgml().replace("<CODE>0<SEVERITY>INFO</STATUS><DTSERVER>", "<CODE>15500<SEVERITY>ERROR<MESSAGE>Signon invalid</STATUS><DTSERVER>")
    refused = rejection(data.encode("ascii"))
    assert refused.code == "ofx_bank_error" and "'Signon invalid' (OFX status 15500, ERROR)" in refused.reason


def test_a_warning_status_is_a_warning() -> None:
    data = sgml().replace("<TRNUID>1<STATUS><CODE>0<SEVERITY>INFO", "<TRNUID>1<STATUS><CODE>2000<SEVERITY>WARN<MESSAGE>Partial")
    statement, _ = read(data.encode("ascii"))
    assert any("'Partial' (OFX status 2000, WARN)" in w for w in statement.warnings)


def test_a_file_with_thousands_of_tags_outside_its_transactions_is_refused() -> None:
    """ofxparse's closing pass is quadratic in elements of different names: such a file would
    take minutes. A statement has a few dozen."""
    padding = "".join(f"<X{n}>1</X{n}>" for n in range(ofx_cleanup.ENVELOPE_ELEMENTS_MAX))
    refused = rejection(sgml(bank_statement(transaction())).replace("<BANKMSGSRSV1>", padding + "<BANKMSGSRSV1>").encode())
    assert refused.code == "ofx_structure_invalid" and "tags outside its transactions" in refused.reason


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("hello, world", "ofx_not_ofx", None),
        (SGML_HEADER + "<OFX>" + SIGNON + "</OFX>", "ofx_no_statement", None),
        (SGML_HEADER + "<OFX>\n" + transaction() + "</OFX>", "ofx_structure_invalid", 12),
        (sgml(bank_statement(transaction().replace("</STMTTRN>", ""), transaction())), "ofx_structure_invalid", 17),
        (sgml(bank_statement(transaction())).replace("</STMTRS>", ""), "ofx_structure_invalid", 15),
        (sgml(bank_statement(transaction())).replace("<STMTRS>", ""), "ofx_structure_invalid", 17),
    ],
)
def test_files_without_a_readable_statement(text: str, code: str, line: int | None) -> None:
    refused = rejection(text.encode("ascii"))
    assert (refused.code, refused.line) == (code, line), refused.message


# --- accounts, currencies, merging, warnings ---------------------------------------------------


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (UK_ACCOUNT, AccountIdentifiers(sort_code="601234", account_number="12345678")),
        ("<BANKACCTFROM><BANKID>60-12-34<ACCTID>60123412345678<ACCTTYPE>CHECKING</BANKACCTFROM>",
         AccountIdentifiers(sort_code="601234", account_number="12345678")),
        ("<BANKACCTFROM><BANKID>021000021<ACCTID>12345678<ACCTTYPE>CHECKING</BANKACCTFROM>", AccountIdentifiers(other="12345678")),
        ("<BANKACCTFROM><BANKID>NPBS<ACCTID>ABC-1<ACCTTYPE>SAVINGS</BANKACCTFROM>", AccountIdentifiers(other="ABC-1")),
    ],
)  # fmt: skip
def test_account_identifiers(account: str, expected: AccountIdentifiers) -> None:
    assert read(sgml(bank_statement(transaction(), account=account)).encode("ascii"))[0].account == expected


def card_file(*transactions: str, acctid: str = "4111111111111111") -> str:
    return (
        SGML_HEADER.format(encoding="USASCII", charset="1252") + f"<OFX>{SIGNON}<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1"
        f"<STATUS><CODE>0<SEVERITY>INFO</STATUS><CCSTMTRS><CURDEF>GBP<CCACCTFROM><ACCTID>{acctid}</CCACCTFROM>\n"
        f"<BANKTRANLIST><DTSTART>20250101<DTEND>20250131\n{''.join(transactions)}</BANKTRANLIST>{LEDGER}</CCSTMTRS>"
        "</CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>"
    )


@pytest.mark.parametrize(("sic", "mcc"), [("5411", "5411"), ("742", "0742"), (" 5812 ", "5812"), ("541100", None), ("ABCD", None)])
def test_sic_is_kept_as_the_merchant_category_code(sic: str, mcc: str | None) -> None:
    statement, [line] = read(card_file(transaction(extra=f"<SIC>{sic}\n")).encode("ascii"))
    assert line.mcc == mcc
    assert statement.account == AccountIdentifiers(other="card ending 1111")


def test_a_masked_card_number_is_kept_as_written() -> None:
    assert read(card_file(transaction(), acctid="************1234").encode("ascii"))[0].account.other == "************1234"


def test_statements_of_the_same_account_are_merged() -> None:
    first = bank_statement(transaction(fitid="A", posted="20250110"), ledger="<LEDGERBAL><BALAMT>10.00<DTASOF>20250131</LEDGERBAL>")
    second = bank_statement(transaction(fitid="B", posted="20250210"), ledger="<LEDGERBAL><BALAMT>7.00<DTASOF>20250228</LEDGERBAL>")
    second = second.replace("<DTSTART>20250101<DTEND>20250131", "<DTSTART>20250201<DTEND>20250228")
    statement, lines = read(sgml(first, second).encode("ascii"))
    assert [line.bank_id for line in lines] == ["A", "B"]
    assert (statement.period_start, statement.period_end) == (date(2025, 1, 1), date(2025, 2, 28))
    assert (statement.closing_balance, statement.closing_balance_on) == (Money("7.00", "GBP"), date(2025, 2, 28))
    assert any("2 statements of the same account" in w for w in statement.warnings)


def test_statements_of_different_accounts_are_refused() -> None:
    other = "<BANKACCTFROM><BANKID>601234<ACCTID>87654321<ACCTTYPE>CHECKING</BANKACCTFROM>"
    refused = rejection(sgml(bank_statement(transaction()), bank_statement(transaction(), account=other)).encode("ascii"))
    assert refused.code == "several_accounts"
    assert "sort code 60-12-34, account 12345678; sort code 60-12-34, account 87654321" in refused.reason


def test_statements_in_different_currencies_are_refused() -> None:
    data = sgml(bank_statement(transaction()), bank_statement(transaction(), curdef="<CURDEF>EUR"))
    assert (rejection(data.encode("ascii")).code, rejection(data.encode("ascii")).field) == ("currency_mixed", "CURDEF")


def test_a_transaction_in_another_currency_is_refused() -> None:
    foreign = transaction(extra="<CURRENCY><CURRATE>1.17<CURSYM>EUR</CURRENCY>\n")
    refused = rejection(sgml(bank_statement(transaction(), foreign)).encode("ascii"))
    assert (refused.code, refused.line, refused.field) == ("currency_mixed", 30, "CURSYM")


def test_an_original_currency_is_not_the_amounts_currency() -> None:
    converted = transaction(extra="<ORIGCURRENCY><CURRATE>1.17<CURSYM>EUR</ORIGCURRENCY>\n")
    assert read(sgml(bank_statement(converted)).encode("ascii"))[1][0].amount == Money("-1.00", "GBP")


def test_each_statement_without_a_currency_takes_its_first_transactions() -> None:
    euro = transaction(extra="<CURRENCY><CURRATE>1<CURSYM>EUR</CURRENCY>\n")
    statement, _ = read(sgml(bank_statement(euro, euro, curdef="")).encode("ascii"))
    assert statement.currency == "EUR"
    mixed = sgml(bank_statement(euro, curdef=""), bank_statement(transaction(), curdef=""))
    assert (rejection(mixed.encode("ascii")).code, rejection(mixed.encode("ascii")).field) == ("currency_mixed", "CURDEF")


def test_an_unknown_currency_is_refused() -> None:
    refused = rejection(sgml(bank_statement(transaction(), curdef="<CURDEF>XYZ")).encode("ascii"))
    assert (refused.code, refused.field) == ("currency_unknown", "CURDEF")


def test_warnings_for_a_late_line_and_a_repeated_fitid() -> None:
    lines = [transaction(fitid="X", posted="20250105"), transaction(fitid="X", posted="20250210")]
    statement, _ = read(sgml(bank_statement(*lines)).encode("ascii"))
    said = " ".join(statement.warnings)
    assert "dated 2025-01-31, before its last transaction (2025-02-10)" in said
    assert "1 transaction(s) of the statement on line 15 are dated outside its period" in said
    assert "'X' (lines 17 and 24)" in said


def test_no_ledger_balance_is_a_warning() -> None:
    statement, _ = read(sgml(bank_statement(transaction(), ledger="")).encode("ascii"))
    assert statement.closing_balance is None
    assert any("has no ledger balance (LEDGERBAL)" in w for w in statement.warnings)


def test_a_statement_without_transactions_has_no_lines() -> None:
    statement, lines = read(sgml(bank_statement()).encode("ascii"))
    assert lines == [] and statement.closing_balance == Money("100.00", "GBP")


def test_lines_are_handed_out_lazily_in_slices() -> None:
    """Each slice is its own ofxparse document; a refusal in a later slice comes when the
    iteration reaches it (here: ofxparse refusing a name that holds an element)."""
    many = [transaction(fitid=f"T{n}") for n in range(7)] + [NAME_HOLDING_AN_ELEMENT]
    with mock.patch.object(ofx_cleanup, "CHUNK_TRANSACTIONS", 3):
        statement = ofx_statement.read(sgml(bank_statement(*many)).encode("ascii"))
        lines = iter(statement.lines)
        assert [next(lines).bank_id for _ in range(6)] == [f"T{n}" for n in range(6)]
        with pytest.raises(ImportRejected) as caught:
            list(lines)
    assert caught.value.code == "ofx_unreadable" and caught.value.line == 66


def test_the_documents_ofxparse_is_given() -> None:
    cleaned = ofx_cleanup.clean(sgml(bank_statement(*[transaction(fitid=f"T{n}") for n in range(5)])).encode("ascii"))
    with mock.patch.object(ofx_cleanup, "CHUNK_TRANSACTIONS", 2):
        documents = list(ofx_cleanup.ofxparse_inputs(cleaned))
    assert len(documents) == 4  # the envelope, then slices of 2, 2 and 1
    assert [len(ofxparse_alone(d).account.statement.transactions) for d in documents] == [0, 2, 2, 1]  # type: ignore[attr-defined]
    assert all(d.startswith(ofx_cleanup.OFXPARSE_HEADER.encode()) for d in documents)


# --- 3. round trip ----------------------------------------------------------------------------

NAME_CHARACTERS = string.ascii_letters + string.digits + " &<>'\"#;:/.,-*()éüñ£€"


@dataclass(frozen=True)
class Written:
    posted_on: date
    pence: int
    fitid: str | None
    sic: str | None
    name: str | None
    memo: str | None
    trntype: str
    date_form: int
    amount_form: int
    empty_fitid_written: bool


def words(draw: st.DrawFn) -> str | None:
    text = draw(st.text(alphabet=NAME_CHARACTERS, min_size=0, max_size=24))
    return " ".join(text.split()) or None


@st.composite
def written_lines(draw: st.DrawFn) -> Written:
    return Written(
        posted_on=draw(st.dates(date(1990, 1, 1), date(2099, 12, 31))),
        pence=draw(st.integers(-10**9, 10**9)),
        fitid=draw(st.none() | st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=30)),
        sic=draw(st.none() | st.from_regex(r"\A[0-9]{4}\Z")),
        name=words(draw),
        memo=words(draw),
        trntype=draw(st.sampled_from(["DEBIT", "CREDIT", "POS", "ATM", "FEE", "DIRECTDEBIT", "XFER", "Credit", "OTHER"])),
        date_form=draw(st.integers(0, 3)),
        amount_form=draw(st.integers(0, 3)),
        empty_fitid_written=draw(st.booleans()),
    )


@dataclass(frozen=True)
class Layout:
    xml: bool
    card: bool
    newline: str
    element_per_line: bool
    indent: str
    encoding: str
    statements: int


layouts = st.builds(
    Layout,
    xml=st.booleans(),
    card=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    element_per_line=st.booleans(),
    indent=st.sampled_from(["", "  ", "\t"]),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-8-labelled-1252", "utf-8-charset-none"]),
    statements=st.integers(1, 2),
)


class OfxWriter:
    """Writes an OFX file as a bank would, noting where each transaction starts and its text."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.parts: list[str] = []
        self.lines_so_far = 1
        self.blocks: list[tuple[int, str]] = []

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.lines_so_far += text.count("\n")

    def element(self, name: str, value: str | None, depth: int) -> str:
        if value is None:
            return ""
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        closing = f"</{name}>" if self.layout.xml else ""
        return self.separator(depth) + f"<{name}>{value}{closing}"

    def separator(self, depth: int) -> str:
        return (self.layout.newline + self.layout.indent * depth) if self.layout.element_per_line else ""

    def file(self, lines: list[Written], closing_pence: int) -> bytes:
        layout = self.layout
        if layout.xml:
            encoding = {"cp1252": "windows-1252", "utf-8-labelled-1252": "us-ascii"}.get(layout.encoding, "UTF-8")
            self.write(f'<?xml version="1.0" encoding="{encoding}" standalone="no"?>{layout.newline}')
            self.write(f'<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>{layout.newline}')
        else:
            charset = "NONE" if layout.encoding == "utf-8-charset-none" else "1252"
            header = SGML_HEADER.format(encoding="UNICODE" if layout.encoding == "utf-8" else "USASCII", charset=charset)
            self.write(header.replace("\n", layout.newline))
        kind, wrapper, messages, account = (
            ("CCSTMTRS", "CCSTMTTRNRS", "CREDITCARDMSGSRSV1", "CCACCTFROM") if layout.card
            else ("STMTRS", "STMTTRNRS", "BANKMSGSRSV1", "BANKACCTFROM")
        )  # fmt: skip
        self.write(f"<OFX>{self.separator(1)}<{messages}>")
        split = len(lines) // 2 if layout.statements == 2 else len(lines)
        for number, part in enumerate((lines[:split], lines[split:]) if layout.statements == 2 else (lines,)):
            last = number == layout.statements - 1
            self.write(self.separator(2) + f"<{wrapper}>{self.element('TRNUID', str(number), 3)}")
            self.write(self.separator(3) + f"<{kind}>{self.element('CURDEF', 'GBP', 4)}{self.separator(4)}<{account}>")
            if not layout.card:
                self.write(self.element("BANKID", "601234", 5))
            self.write(self.element("ACCTID", "12345678", 5) + self.separator(4) + f"</{account}>")
            self.write(self.separator(4) + "<BANKTRANLIST>" + self.element("DTSTART", "19900101", 5))
            self.write(self.element("DTEND", "20991231", 5))
            for line in part:
                self.transaction(line)
            self.write(self.separator(4) + "</BANKTRANLIST>" + self.separator(4) + "<LEDGERBAL>")
            balance = pounds(closing_pence if last else 0, 0)
            self.write(self.element("BALAMT", balance, 5) + self.element("DTASOF", "20991231" if last else "19991231", 5))
            self.write(self.separator(4) + "</LEDGERBAL>" + self.separator(3) + f"</{kind}>" + self.separator(2) + f"</{wrapper}>")
        self.write(self.separator(1) + f"</{messages}>{layout.newline}</OFX>{layout.newline}")
        text = "".join(self.parts)
        return text.encode("cp1252" if layout.encoding == "cp1252" else "utf-8")

    def transaction(self, line: Written) -> None:
        self.write(self.separator(5))
        started = self.lines_so_far
        fitid = line.fitid if line.fitid is not None else ("" if line.empty_fitid_written else None)
        block = (
            "<STMTTRN>" + self.element("TRNTYPE", line.trntype, 6)
            + self.element("DTPOSTED", ofx_date(line.posted_on, line.date_form), 6)
            + self.element("TRNAMT", pounds(line.pence, line.amount_form), 6) + self.element("FITID", fitid, 6)
            + self.element("SIC", line.sic, 6) + self.element("NAME", line.name, 6) + self.element("MEMO", line.memo, 6)
            + self.separator(5) + "</STMTTRN>"
        )  # fmt: skip
        self.write(block)
        self.blocks.append((started, block))


def ofx_date(day: date, form: int) -> str:
    return [f"{day:%Y%m%d}", f"{day:%Y%m%d}120000", f"{day:%Y%m%d}235959.999[-5:EST]", f"{day:%Y%m%d}000000[+1:BST]"][form]


def pounds(pence: int, form: int) -> str:
    sign = "-" if pence < 0 else ("+" if form == 3 else "")
    whole, fraction = divmod(abs(pence), 100)
    if form == 1:
        return f"{sign}{whole},{fraction:02d}"  # a decimal comma
    if form == 2 and fraction % 10 == 0:
        return f"{sign}{whole}" + (f".{fraction // 10}" if fraction else "")
    return f"{sign}{whole}.{fraction:02d}"


def encodable(line: Written, layout: Layout) -> bool:
    if layout.encoding != "cp1252":
        return True
    try:
        f"{line.name}{line.memo}".encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(written_lines(), max_size=12), layout=layouts, closing=st.integers(-10**9, 10**9), slice_size=st.integers(1, 5))
def test_round_trip(lines: list[Written], layout: Layout, closing: int, slice_size: int) -> None:
    lines = [line for line in lines if encodable(line, layout)]
    writer = OfxWriter(layout)
    data = writer.file(lines, closing)
    with mock.patch.object(ofx_cleanup, "CHUNK_TRANSACTIONS", slice_size):
        statement, read_lines = read(data)
    assert statement.currency == "GBP"
    assert statement.account == (
        AccountIdentifiers(other="12345678") if layout.card else AccountIdentifiers(sort_code="601234", account_number="12345678")
    )
    assert (statement.closing_balance, statement.closing_balance_on) == (Money(Decimal(closing) / 100, "GBP"), date(2099, 12, 31))
    assert (statement.period_start, statement.period_end) == (date(1990, 1, 1), date(2099, 12, 31))
    assert len(read_lines) == len(lines)
    for written, (line_no, block), got in zip(lines, writer.blocks, read_lines, strict=True):
        assert got.line_no == line_no
        assert got.raw == block.replace("\r\n", "\n")
        assert got.posted_on == written.posted_on
        assert got.amount == Money(Decimal(written.pence) / 100, "GBP")
        assert got.bank_id == written.fitid
        assert got.mcc == written.sic
        assert got.payee == written.name
        assert got.kind == written.trntype
        for said in (written.name, written.memo):
            assert said is None or said.casefold() in got.description.casefold()  # said once when one repeats the other
        assert got.description or not (written.name or written.memo)
    missing = sum(1 for line in lines if line.fitid is None)
    assert any(f"{missing} transaction(s) have no FITID" in w for w in statement.warnings) == (missing > 0)


# --- 4. robustness ----------------------------------------------------------------------------

SHARED_BYTES = [path.read_bytes() for path in sorted(DATA.iterdir())]
TOKENS = [
    b"<OFX>", b"</OFX>", b"<STMTRS>", b"</STMTRS>", b"<CCSTMTRS>", b"</CCSTMTRS>", b"<STMTTRN>", b"</STMTTRN>",
    b"<BANKTRANLIST>", b"<TRNAMT>", b"<DTPOSTED>", b"<FITID>", b"<NAME>", b"<MEMO>", b"<SIC>", b"<CURDEF>", b"<CURSYM>",
    b"<CURRENCY>", b"</CURRENCY>", b"<LEDGERBAL>", b"</LEDGERBAL>", b"<BALAMT>", b"<DTASOF>", b"<STATUS>", b"</STATUS>",
    b"<CODE>", b"<SEVERITY>", b"<MESSAGE>", b"<SONRS>", b"<ACCTID>", b"<BANKID>", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b"<script>", b"&amp;", b"&", b"<", b">", b"\n", b"\r\n", b"20250110", b"-1.00", b"1,234", b"NaN", b"GBP", b"0",
    b"ERROR", b"\x00", b"\xa3", b"\xe2\x82\xac", b"\xff",
]  # fmt: skip


def refused_or_read(data: bytes) -> None:
    try:
        statement = ofx_statement.read(data)
        for _ in statement.lines:
            pass
    except ImportRejected:
        pass


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SHARED_BYTES)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.integers(0, 3))
        if operation == 0:
            del data[at : at + draw(st.integers(1, 64))]
        elif operation == 1:
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(max_size=6))
        elif operation == 2:
            start = draw(st.integers(0, len(data)))
            data[at:at] = data[start : start + draw(st.integers(1, 300))]
        elif data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=300, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_files())
def test_mutated_files_are_read_or_refused(data: bytes) -> None:
    refused_or_read(data)


@settings(max_examples=200, deadline=timedelta(seconds=2))
@given(parts=st.lists(st.sampled_from(TOKENS) | st.binary(max_size=8), max_size=80), header=st.booleans())
def test_token_soup_is_read_or_refused(parts: list[bytes], header: bool) -> None:
    prefix = SGML_HEADER.format(encoding="USASCII", charset="1252").encode() if header else b""
    refused_or_read(prefix + b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>" + b"".join(parts))


@settings(max_examples=100, deadline=timedelta(seconds=2))
@given(data=st.binary(max_size=2000))
def test_random_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(ImportRejected):
        read(data)
