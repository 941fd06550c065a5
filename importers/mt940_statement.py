"""SWIFT MT940: the customer statement UK business banking exports (Lloyds Commercial Banking
Online, NatWest Bankline, HSBCnet, Barclays).

A file holds one or more messages; each starts with ``:20:`` and carries the account
(``:25:``), the statement number (``:28C:``), the opening balance (``:60F:``, or ``:60M:`` for
a statement continued over several messages), statement lines (``:61:``, each followed by
its ``:86:`` details), the closing balance (``:62F:``/``:62M:``) and optional available
balances (``:64:``, ``:65:``). A balance is ``C``/``D``, ``YYMMDD``, currency, amount; an amount
has a decimal comma (``1234,5``, ``1234,``).

The file is read line by line here, and each field's value is read with the ``mt-940``
library's own field definitions (``mt940.tags``: the :61: and balance patterns) and its
reader of German structured details (``?00``, ``?20``… in :86:). The library's whole-file
reader (``mt940.parse``) is not used, because it: loses the line numbers and the statement
boundaries (a second statement's balances and account overwrite the first's); attaches a
statement-level :86: that follows :62F: to the last transaction; turns a 30 February into
the 29th without a word; reads ``RC`` (a reversed credit) as money in; and can fold two
:61: lines into one when the first has no type code.

Quirks handled:
- ``RD`` (reversal of a debit) is money in, ``RC`` (reversal of a credit) money out.
- The date a line is posted on is its entry (booking) date where the :61: gives one, else
  its value date; an entry date ``MMDD`` takes the year that puts it nearest the value date
  (a line valued 31 December and booked 2 January is booked in the next year).
- A date that does not exist (the 30/360 convention's ``160230``) is refused.
- The bank reference (after ``//``) is the line's ``bank_id``; ``NONREF`` is no reference.
- :25: ``309634-12345678``, ``309634 12345678``, ``30963412345678`` give a UK sort code and
  account number; an IBAN is recognised (a UK one gives both as well); anything else is kept
  as written.
- SWIFT envelopes (``{1:…}{2:…}{4:``, ``-}``), bank header lines before :20:, ``-``
  separators and blank lines are skipped.
- Several statements for the same account are merged; for different accounts the file is
  refused.

``line_no`` is the line where the :61: starts; ``raw`` is the :61: and its :86: as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import mt940
from moneyed import Money

from importers.accounts import account_identifiers as identifiers_of
from importers.accounts import refuse_several_accounts
from importers.amounts import check_currency, parse_decimal
from importers.errors import ImportRejected
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine
from importers.text import decode

FORMAT = "mt940"
_KNOWN_TAGS = frozenset(str(tag_id) for tag_id in mt940.tags.TAG_BY_ID)
_TAG_LINE_RE = re.compile(r":(?P<tag>(?P<number>[0-9]{2})[A-Z]?|NS):")
_STATEMENT_LINE = mt940.tags.Statement()
_BALANCE_RE = re.compile(mt940.tags.BalanceBase.pattern + r"$", mt940.tags.Tag.RE_FLAGS)
_STRUCTURED_DETAILS_RE = re.compile(r"^\d{3}\?\d{2}")  # as mt940.processors reads them
_OPENING_TAGS = ("60F", "60M", "60")
_CLOSING_TAGS = ("62F", "62M", "62")
_BALANCE_TAGS = (*_OPENING_TAGS, *_CLOSING_TAGS, "64", "65")
_NO_REFERENCE = {"", "NONREF"}
_SIGN_BY_MARK = {"C": 1, "D": -1, "RC": -1, "RD": 1}
_CURRENCY_SUFFIX_RE = re.compile(r"(.+?)[ /]?[A-Z]{3}")
_DETAILS_LINES_MAX = 60
"""SWIFT allows six lines of :86: details (some banks write more); past this many the text is
not a statement's."""


def read(data: bytes) -> ParsedStatement:
    text = decode(data)
    messages = _messages(_fields(text.split("\n")))
    if not messages:
        raise ImportRejected(
            "the file holds no MT940 statement (no :20: field starting one)", code="statement_missing"
        )
    accounts = [_account(message) for message in messages]
    refuse_several_accounts(accounts)
    return _merge([_read_message(message) for message in messages], accounts[0])


# --- fields and messages ----------------------------------------------------------------------


@dataclass(slots=True)
class _Field:
    tag: str
    """As written: ``20``, ``60F``, ``61``, ``86``."""
    line_no: int
    lines: list[str] = field(default_factory=list)
    """The field's text lines as written: the first without its ``:tag:``."""
    source: list[str] = field(default_factory=list)
    """The same lines whole, as the file has them."""

    @property
    def value(self) -> str:
        return "\n".join(self.lines).strip()

    @property
    def number(self) -> str:
        return self.tag[:2]


def _fields(lines: list[str]) -> list[_Field | None]:
    """The file's fields in order; ``None`` where a message ends (``-``, ``-}``)."""
    found: list[_Field | None] = []
    current: _Field | None = None
    for index, written in enumerate(lines):
        line = written.rstrip("\r").rstrip()
        tag = _tag_of(line)
        in_details = current is not None and current.number == "86"
        if tag is not None and not _is_known(tag) and not in_details:
            raise ImportRejected(f":{tag}: is not an MT940 field", code="mt940_invalid", line=index + 1)
        if tag is not None and _is_known(tag):
            current = _Field(tag, index + 1, [line[len(tag) + 2 :]], [line])
            found.append(current)
        elif line.strip() == "-" or line.startswith(("-}", "{")):  # a message's end, a SWIFT envelope
            current = None
            found.append(None)
        elif not line.strip():
            continue
        elif current is not None:  # a continuation line (in :86:, also one that looks like an unknown tag)
            if in_details and len(current.lines) >= _DETAILS_LINES_MAX:
                raise ImportRejected(
                    f"the :86: details starting at line {current.line_no} run past {_DETAILS_LINES_MAX} lines",
                    code="mt940_invalid",
                    line=index + 1,
                )
            current.lines.append(line)
            current.source.append(line)
        # else: a bank's header line between messages (ABNANL2A, 940)
    return found


def _tag_of(line: str) -> str | None:
    match = _TAG_LINE_RE.match(line)
    return match["tag"] if match else None


def _is_known(tag: str) -> bool:
    return tag in _KNOWN_TAGS or tag[:2] in _KNOWN_TAGS


def _messages(fields: list[_Field | None]) -> list[list[_Field]]:
    messages: list[list[_Field]] = []
    current: list[_Field] | None = None
    for item in fields:
        if item is None:
            current = None
        elif item.tag == "20":
            current = [item]
            messages.append(current)
        elif current is None:
            raise ImportRejected(
                f":{item.tag}: comes before any :20: (each MT940 statement starts with :20:)",
                code="mt940_invalid",
                line=item.line_no,
            )
        else:
            current.append(item)
    return messages


def _account(message: list[_Field]) -> AccountIdentifiers:
    written = next((item.value for item in message if item.tag == "25"), None)
    if not written:
        raise ImportRejected(
            "the statement has no :25: account identification", code="mt940_invalid", line=message[0].line_no, field=":25:"
        )
    return account_identifiers(written)


def account_identifiers(text: str) -> AccountIdentifiers:
    """An account as :25: writes it: an IBAN (a UK one also gives sort code and account
    number), a UK sort code and account number, or anything else, kept as written. Some
    banks add the currency (``NL91RABO0123456789EUR``); it is dropped when what is left is
    an IBAN or a sort code and account number."""
    found = identifiers_of(text)
    suffixed = _CURRENCY_SUFFIX_RE.fullmatch(found.other or "")
    if suffixed:
        without = identifiers_of(suffixed[1])
        if without.other is None:
            return without
    return found


# --- one statement ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Balance:
    amount: Money
    on: date


@dataclass(frozen=True, slots=True)
class _Statement:
    name: str
    currency: str
    opening: _Balance
    closing: _Balance
    lines: tuple[StatementLine, ...]
    warnings: tuple[str, ...]


def _read_message(message: list[_Field]) -> _Statement:
    head = message[0]
    number = next((item.value for item in message if item.number == "28"), "")
    name = f"statement {number or head.value} (line {head.line_no})"
    opening_field = next((item for item in message if item.tag in _OPENING_TAGS), None)
    closing_field = next((item for item in reversed(message) if item.tag in _CLOSING_TAGS), None)
    if opening_field is None or closing_field is None:
        missing = ":60F: opening balance" if opening_field is None else ":62F: closing balance"
        raise ImportRejected(f"{name} has no {missing}", code="mt940_invalid", line=head.line_no)
    currency_written = _balance_parts(opening_field)["currency"]
    currency = check_currency(currency_written, line=opening_field.line_no, field=f":{opening_field.tag}: currency")
    balances = {id(item): _balance(item, currency) for item in message if item.tag in _BALANCE_TAGS}
    lines = _statement_lines(message, currency, closing_field)
    opening, closing = balances[id(opening_field)], balances[id(closing_field)]
    total = sum((line.amount for line in lines), Money(0, currency))
    warnings = []
    if opening.amount + total != closing.amount:
        warnings.append(
            f"{name}: the opening balance {_show(opening.amount)} and the lines' total {_show(total)} make "
            f"{_show(opening.amount + total)}, but the closing balance is {_show(closing.amount)} "
            f"(a difference of {_show(closing.amount - opening.amount - total)})"
        )
    return _Statement(name, currency, opening, closing, lines, tuple(warnings))


def _balance_parts(item: _Field) -> dict[str, str]:
    match = _BALANCE_RE.match(item.value)
    if match is None:
        raise ImportRejected(
            f"{item.value[:40]!r} is not a balance written as C/D, YYMMDD, currency and amount",
            code="mt940_invalid",
            line=item.line_no,
            field=f":{item.tag}:",
        )
    return match.groupdict()


def _balance(item: _Field, currency: str) -> _Balance:
    parts = _balance_parts(item)
    if parts["currency"].upper() != currency:
        raise ImportRejected(
            f"the :{item.tag}: balance is in {parts['currency']!r} but the statement is in {currency}",
            code="currency_mixed",
            line=item.line_no,
            field=f":{item.tag}:",
        )
    on = _date(parts["year"], parts["month"], parts["day"], line=item.line_no, field=f":{item.tag}: date")
    amount = _amount(parts["amount"], currency, line=item.line_no, field=f":{item.tag}: amount")
    return _Balance(Money(amount * _SIGN_BY_MARK[parts["status"].upper()], currency), on)


def _statement_lines(message: list[_Field], currency: str, closing: _Field) -> tuple[StatementLine, ...]:
    lines: list[StatementLine] = []
    index = 0
    while index < len(message):
        item = message[index]
        index += 1
        if item.tag != "61":
            continue
        if item.line_no > closing.line_no:
            raise ImportRejected(
                "a :61: statement line comes after the closing balance", code="mt940_invalid", line=item.line_no
            )
        attached: list[_Field] = []  # its :86: details (and any bank's :NS: field among them)
        while index < len(message) and message[index].tag in ("86", "NS"):
            attached.append(message[index])
            index += 1
        lines.append(_statement_line(item, attached, currency))
    return tuple(lines)


def _statement_line(item: _Field, attached: list[_Field], currency: str) -> StatementLine:
    line = item.line_no
    match = _STATEMENT_LINE.re.match(item.value)
    if match is None:
        raise ImportRejected(
            f"{item.value[:60]!r} is not a statement line (value date YYMMDD, optional entry date MMDD, "
            "D/C/RD/RC, amount, type code, references)",
            code="mt940_invalid",
            line=line,
            field=":61:",
        )
    parts = match.groupdict()
    value_date = _date(parts["year"], parts["month"], parts["day"], line=line, field=":61: value date")
    posted_on = value_date
    if parts["entry_month"] and parts["entry_day"]:
        posted_on = _entry_date(value_date, parts["entry_month"], parts["entry_day"], line=line)
    amount = _amount(parts["amount"], currency, line=line, field=":61: amount")
    signed = Money(amount * _SIGN_BY_MARK[parts["status"].upper()], currency)
    kind = (parts["id"] or "").strip() or None
    customer_reference = (parts["customer_reference"] or "").strip()
    bank_reference = (parts["bank_reference"] or "").strip()
    description, payee = _details([part for part in attached if part.tag == "86"])
    if not description:
        supplementary = (parts["extra_details"] or "").strip()
        reference = "" if customer_reference.upper() in _NO_REFERENCE else customer_reference
        description = supplementary or reference or kind or ""
    raw = "\n".join(source for part in (item, *attached) for source in part.source)
    return StatementLine(
        line_no=line,
        posted_on=posted_on,
        amount=signed,
        description=description,
        payee=payee,
        bank_id=None if bank_reference.upper() in _NO_REFERENCE else bank_reference,
        kind=kind,
        raw=raw,
    )


def _details(details: list[_Field]) -> tuple[str, str | None]:
    """The description and payee from the :86: fields: free text as one line, or for German
    structured details (``805?00…?20…?32…``) the purpose and the other party's name."""
    text = "\n".join(item.value for item in details)
    if not text.strip():
        return "", None
    if _STRUCTURED_DETAILS_RE.match(text):
        parts = mt940.processors.transaction_details_post_processor(
            None, None, {"transaction_details": text}, {"transaction_details": text}
        )
        purpose = _one_line(parts.get("purpose") or parts.get("posting_text") or "")
        name = _one_line(parts.get("applicant_name") or "") or None
        return purpose or name or _one_line(text), name
    return _one_line(text), None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _date(year: str, month: str, day: str, *, line: int, field: str) -> date:
    try:
        if not (year + month + day).isascii():  # the library's \d takes any script's digits
            raise ValueError
        written = mt940.models.Date(year=year, month=month, day=day)
    except ValueError:
        raise ImportRejected(
            f"{day}/{month}/20{year} is not a date ({year}{month}{day} as YYMMDD)",
            code="date_invalid",
            line=line,
            field=field,
        ) from None
    return date(written.year, written.month, written.day)


def _entry_date(value_date: date, month: str, day: str, *, line: int) -> date:
    """The booking date ``MMDD`` in the year that puts it nearest the value date."""
    candidates = []
    if not (month + day).isascii():
        month = day = "00"
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, int(month), int(day)))
        except ValueError:
            continue
    if not candidates:
        raise ImportRejected(
            f"{day}/{month} is not a date ({month}{day} as the entry date MMDD)",
            code="date_invalid",
            line=line,
            field=":61: entry date",
        )
    return min(candidates, key=lambda candidate: abs((candidate - value_date).days))


def _amount(text: str, currency: str, *, line: int, field: str) -> Decimal:
    """An MT940 amount: digits with a decimal comma, the comma written even when nothing
    follows it (``1234,``)."""
    if not text.isascii():  # the library's pattern takes any script's digits; SWIFT has only 0-9
        raise ImportRejected(f"{text!r} is not an amount in SWIFT digits", code="amount_invalid", line=line, field=field)
    if text.count(",") > 1:
        raise ImportRejected(f"{text!r} has more than one decimal comma", code="amount_invalid", line=line, field=field)
    written = text + "0" if text.endswith(",") else text
    return parse_decimal(written, currency=currency, line=line, field=field, decimal_comma=True)


def _show(amount: Money) -> str:
    return f"{amount.currency.code} {amount.amount:,}"


# --- the file ---------------------------------------------------------------------------------


def _merge(statements: list[_Statement], account: AccountIdentifiers) -> ParsedStatement:
    currencies = list(dict.fromkeys(statement.currency for statement in statements))
    if len(currencies) > 1:
        raise ImportRejected(
            f"the file's statements are in more than one currency ({', '.join(currencies)})", code="currency_mixed"
        )
    warnings = [warning for statement in statements for warning in statement.warnings]
    for before, after in zip(statements, statements[1:], strict=False):
        if before.closing.amount != after.opening.amount:
            warnings.append(
                f"{after.name} opens at {_show(after.opening.amount)}, but {before.name} closed at "
                f"{_show(before.closing.amount)}"
            )
    lines = tuple(line for statement in statements for line in statement.lines)
    days = [line.posted_on for line in lines] or [
        day for statement in statements for day in (statement.opening.on, statement.closing.on)
    ]
    first, last = statements[0], statements[-1]
    return ParsedStatement(
        format=FORMAT,
        currency=currencies[0],
        lines=lines,
        account=account,
        period_start=min(days),
        period_end=max(days),
        opening_balance=first.opening.amount,
        closing_balance=last.closing.amount,
        closing_balance_on=last.closing.on,
        warnings=tuple(warnings),
    )
