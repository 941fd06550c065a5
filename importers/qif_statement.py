"""QIF (Quicken Interchange Format) statements, as UK banks export them.

A QIF file is a list of sections. ``!Type:Bank`` (also ``CCard``, ``Cash``, ``Oth A``,
``Oth L``) opens a list of transactions; each transaction is a record of lines, each line a
field letter and its value, and ``^`` ends the record::

    !Type:Bank
    D30/03/2024
    T-1,080.00
    PTRANSFER TO J SMITH
    ^

Fields read: ``D`` date, ``T`` amount (``U`` repeats it in newer files), ``P`` payee, ``M``
memo, ``N`` number or type (``kind``). ``C`` cleared status, ``A`` address, ``L`` category,
``F`` and the split fields ``S``/``E``/``$``/``%`` are the user's bookkeeping, not the bank's,
and are skipped. A statement line's ``line_no`` is its record's first line, ``raw`` the
record's lines up to and including ``^``.

UK quirks handled: day-first dates (``30/03/2024``, ``30/03/24``, Quicken's ``1/ 2'03``
where the apostrophe marks a year after 2000, and ISO ``2024-03-30``); thousands commas in
amounts; Santander UK's payee text, padded with spaces, ending in ``, <amount>`` and with
``&amp;`` for ``&`` (the repeated amount and the escapes are removed).

A Quicken export may hold several accounts (``!Account`` blocks, each followed by its
transactions): one account is read, naming it; transactions for more than one are refused
(``several_accounts``). Its ``Opening Balance`` record (payee ``Opening Balance``, category
``[<account>]``) is the statement's opening balance, not a line. Category, class and
memorised-transaction lists are skipped; investment accounts are refused. QIF has no
currency: lines are GBP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from moneyed import Money

from importers.amounts import parse_decimal
from importers.errors import ImportRejected
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine
from importers.text import decode

CURRENCY = "GBP"
TRANSACTION_TYPES = ("bank", "ccard", "cash", "oth a", "oth l")
LIST_TYPES = ("cat", "class", "memorized", "prices", "security", "invoice")
READ_FIELDS = frozenset("DTUPMN")
SKIPPED_FIELDS = frozenset("CALFSE$%X")
ACCOUNT_FIELDS = frozenset("NTDLB/$X")

_DAY_FIRST_RE = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*(['/.\-])\s*(\d{4}|\d{2})$")
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_REPEATED_AMOUNT_RE = re.compile(r"^(?P<text>.*?)\s*,\s*(?P<amount>-?[\d,]+\.\d{2})$")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&#39;", "'"), ("&amp;", "&"))


@dataclass
class _Record:
    first_line: int
    lines: list[str] = field(default_factory=list)
    fields: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class _Account:
    name: str | None
    first_line: int
    lines: list[StatementLine] = field(default_factory=list)
    opening_balance: Money | None = None


def read(data: bytes) -> ParsedStatement:
    reader = _QifReader()
    for line_no, line in enumerate(_physical_lines(decode(data)), start=1):
        reader.feed(line_no, line)
    reader.finish()
    accounts = [account for account in reader.accounts.values() if account.lines or account.opening_balance]
    if len(accounts) > 1:
        named = "; ".join(f"{account.name or 'unnamed'} (from line {account.first_line})" for account in accounts)
        raise ImportRejected(
            f"the file holds transactions for {len(accounts)} accounts: {named}; export each account on its own",
            code="several_accounts",
            line=accounts[1].first_line,
        )
    if not accounts:
        return ParsedStatement(format="qif", currency=CURRENCY, lines=())
    account = accounts[0]
    return ParsedStatement(
        format="qif",
        currency=CURRENCY,
        lines=tuple(account.lines),
        account=AccountIdentifiers(other=account.name),
        opening_balance=account.opening_balance,
    )


def _physical_lines(text: str) -> list[str]:
    """The text's lines split at CRLF, LF or CR only (``str.splitlines`` also splits at form
    feeds and other separators, which would shift the line numbers)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class _QifReader:
    """Reads a QIF file line by line: which section it is in, which account, and the record
    being read."""

    def __init__(self) -> None:
        self.section: str | None = None
        self.accounts: dict[str | None, _Account] = {}
        self.account_name: str | None = None
        self.record: _Record | None = None

    def feed(self, line_no: int, line: str) -> None:
        text = line.strip()
        if not text:
            return
        if text.startswith("!"):
            self._end_record(line_no)
            self._header(line_no, text)
            return
        if self.section is None:
            raise ImportRejected(
                "a QIF file starts with a !Type: line (such as !Type:Bank)", code="qif_header_missing", line=line_no
            )
        if self.section == "list":
            return
        if self.record is None:
            self.record = _Record(first_line=line_no)
        self.record.lines.append(line.rstrip())
        if text == "^":
            self._end_record(line_no)
            return
        self._field(line_no, text)

    def finish(self) -> None:
        self._end_record(None)

    def _header(self, line_no: int, text: str) -> None:
        word, _, value = text[1:].partition(":")
        word, value = word.strip().lower(), value.strip().lower()
        if word == "type":
            if value in TRANSACTION_TYPES:
                self.section = "transactions"
            elif value in LIST_TYPES:
                self.section = "list"
            else:
                raise ImportRejected(
                    f"{text[:40]!r}: only bank, card and cash accounts are read (Bank, CCard, Cash, Oth A, Oth L)",
                    code="qif_type_unsupported",
                    line=line_no,
                    field="!Type",
                )
        elif word == "account":
            self.section = "account"
        elif word in ("option", "clear"):
            pass
        else:
            raise ImportRejected(f"{text[:40]!r} is not a QIF header", code="qif_header_unknown", line=line_no)

    def _field(self, line_no: int, text: str) -> None:
        assert self.record is not None
        letter, value = text[0], text[1:].strip()
        allowed = ACCOUNT_FIELDS if self.section == "account" else READ_FIELDS | SKIPPED_FIELDS
        if letter not in allowed:
            raise ImportRejected(
                f"{text[:40]!r}: {letter!r} is not a QIF field here", code="qif_field_unknown", line=line_no, field=letter
            )
        if letter in self.record.fields and letter in READ_FIELDS:
            raise ImportRejected(
                f"the record has field {letter} twice", code="qif_field_repeated", line=line_no, field=letter
            )
        self.record.fields.setdefault(letter, (line_no, value))

    def _end_record(self, line_no: int | None) -> None:
        record, self.record = self.record, None
        if record is None or not record.fields:
            return
        if self.section == "account":
            name = record.fields.get("N", (0, ""))[1]
            self.account_name = name or None
            return
        account = self.accounts.get(self.account_name)
        if account is None:
            account = self.accounts[self.account_name] = _Account(self.account_name, record.first_line)
        line = _statement_line(record)
        if _is_opening_balance(record, account):
            account.opening_balance = line.amount
            return
        account.lines.append(line)


def _is_opening_balance(record: _Record, account: _Account) -> bool:
    payee = record.fields.get("P", (0, ""))[1]
    category = record.fields.get("L", (0, ""))[1]
    return (
        not account.lines
        and account.opening_balance is None
        and payee.lower() == "opening balance"
        and category.startswith("[")
        and category.endswith("]")
    )


def _statement_line(record: _Record) -> StatementLine:
    fields = record.fields
    if "D" not in fields:
        raise ImportRejected("the record has no date (D line)", code="date_missing", line=record.first_line, field="D")
    posted_on = _read_date(*fields["D"])
    amount = _amount(record)
    payee = _clean_text(fields.get("P", (0, ""))[1], amount)
    memo = _clean_text(fields.get("M", (0, ""))[1], amount)
    description = f"{payee} {memo}" if payee and memo and memo != payee else payee or memo
    return StatementLine(
        line_no=record.first_line,
        posted_on=posted_on,
        amount=Money(amount, CURRENCY),
        description=description,
        payee=payee or None,
        kind=fields.get("N", (0, ""))[1] or None,
        raw="\n".join(record.lines),
    )


def _amount(record: _Record) -> Decimal:
    values = {
        letter: parse_decimal(text, currency=CURRENCY, line=line_no, field=letter)
        for letter, (line_no, text) in record.fields.items()
        if letter in "TU"
    }
    if not values:
        raise ImportRejected(
            "the record has no amount (T line)", code="amount_missing", line=record.first_line, field="T"
        )
    if len(values) == 2 and values["T"] != values["U"]:
        raise ImportRejected(
            f"T ({values['T']}) and U ({values['U']}) give different amounts",
            code="amount_conflict",
            line=record.fields["U"][0],
            field="U",
        )
    return values.get("T", values.get("U"))  # type: ignore[return-value]


def _read_date(line_no: int, text: str) -> date:
    """A day-first QIF date."""
    match = _DAY_FIRST_RE.match(text)
    try:
        if match:
            day, month, separator, year_text = match.groups()
            year = int(year_text)
            if len(year_text) == 2:
                # Quicken writes 1/ 2'03 for 2003 and 1/ 2/99 for 1999; otherwise Python's
                # strptime rule: 00-68 are 2000s.
                year += 2000 if separator == "'" or year < 69 else 1900
            return date(year, int(month), int(day))
        iso = _ISO_DATE_RE.match(text)
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
    except ValueError:
        pass
    raise ImportRejected(
        f"{text[:40]!r} is not a date written day first (DD/MM/YYYY, DD/MM/YY or D/M'YY)",
        code="date_invalid" if text else "date_missing",
        line=line_no,
        field="D",
    )


def _clean_text(text: str, amount: Decimal) -> str:
    """``text`` without HTML escapes and without the amount Santander UK repeats at its end."""
    if "&" in text:
        for escaped, plain in _ENTITIES:
            text = text.replace(escaped, plain)
    match = _REPEATED_AMOUNT_RE.match(text)
    if match:
        try:
            repeated = Decimal(match["amount"].replace(",", ""))
        except ArithmeticError:  # pragma: no cover - the pattern admits only numbers
            repeated = None
        if repeated is not None and abs(repeated) == abs(amount):
            text = match["text"]
    return text.strip()
