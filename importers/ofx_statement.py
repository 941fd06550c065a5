"""OFX and QFX: bank and credit-card statements, OFX 1.x (SGML) and 2.x (XML).

A file holds an ``<OFX>`` element with a sign-on (``SONRS``) and one or more statements:
``STMTRS`` (bank) or ``CCSTMTRS`` (credit card), each naming its account
(``BANKACCTFROM``/``CCACCTFROM``: ``BANKID``, ``ACCTID``), its currency (``CURDEF``), its
transactions (``BANKTRANLIST`` of ``STMTTRN``: ``TRNTYPE``, ``DTPOSTED``, ``TRNAMT``,
``FITID``, ``NAME`` or ``PAYEE``, ``MEMO``, on cards ``SIC``) and its ledger balance
(``LEDGERBAL``: ``BALAMT`` as at ``DTASOF``). ``ofxparse`` reads the structure and the text
fields; ``importers.ofx_cleanup`` stands in front of it (encodings, entities, empty elements,
speed — see there).

How fields are read:
- ``TRNAMT`` is signed from the account holder's side already (money out negative), and is
  read from the file's text here, strictly (``importers.amounts``), never by ``ofxparse``
  (whose ``toDecimal`` reads ``1,234`` as 1.234 and accepts ``NaN``). OFX writes a plain
  number with a decimal point or comma: ``12,34`` is 12.34; ``1,234`` is refused as ambiguous;
  a currency symbol (``$120``) is refused (an OFX amount is in ``CURDEF``, and a ``$`` in a
  sterling statement is a question, not a number). Balances (``BALAMT``) the same way.
- Dates are the first eight digits as written (``YYYYMMDD``): the day the bank booked the
  line. ``ofxparse`` converts ``20250401000000[+1:BST]`` to UTC, which is the day before.
- ``bank_id`` is ``FITID`` (none when the bank left it empty; a warning counts them, and
  names a ``FITID`` that repeats, since de-duplication by it would drop a real line);
  ``payee`` is ``NAME`` (or ``PAYEE``'s name); the description is ``NAME`` and ``MEMO`` (one
  of them when the other repeats it); ``kind`` is ``TRNTYPE`` as written; ``mcc`` is ``SIC``
  when it is one to four digits (zero-padded; OFX allows six, which is no MCC).
- The account: a UK sort code and account number when ``BANKID`` is six digits and
  ``ACCTID`` eight (or the fourteen digits of both); a card number (12–19 digits) is kept
  as ``card ending NNNN``, never whole; else ``ACCTID`` as written.
- The currency is ``CURDEF``; without one, the currency the transactions name
  (``<CURRENCY><CURSYM>``), else GBP, with a warning. A transaction in another currency is
  refused (``currency_mixed``).
- ``closing_balance`` is ``LEDGERBAL/BALAMT`` as at ``DTASOF``; an empty or missing one gives
  no closing balance and a warning (the lines are sound; only the check is lost). The
  period is ``BANKTRANLIST``'s ``DTSTART``–``DTEND`` dates as written. OFX has no opening
  balance.

Refused: an error status from the bank's server, quoting it (``ofx_bank_error``); a file
with no bank or card statement (``ofx_no_statement``); an investment statement
(``ofx_investment_statement``: a personal health budget account is never a brokerage);
statements of different accounts (``several_accounts``; several of the same account are
merged); anything ``ofxparse`` raises on (``ofx_unreadable``), with the line of the
transaction where there is one.

``line_no`` is the line of the file where the transaction's ``<STMTTRN>`` starts, and
``raw`` its block as written (CRLF read as LF). ``lines`` is a generator: the file is
checked line by line when read, then handed to ``ofxparse`` a slice at a time as the lines
are consumed, so memory does not grow with the file.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from moneyed import Money
from ofxparse import OfxParser
from ofxparse.ofxparse import AccountType

from importers import ofx_cleanup
from importers.amounts import check_currency, minor_units, parse_date, parse_decimal
from importers.errors import ImportRejected
from importers.ofx_cleanup import CleanOfx, TransactionBlock
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine
from importers.text import line_at

FORMAT = "ofx"
DEFAULT_CURRENCY = "GBP"
_LEAF_RE = re.compile(r"<([A-Za-z0-9_.]+)>([^<]*)")
_TRNTYPE_RE = re.compile(r"<TRNTYPE>([^<]*)", re.IGNORECASE)
_STATUS_RE = re.compile(r"<STATUS>(.*?)</STATUS>", re.IGNORECASE | re.DOTALL)
_OFX_AMOUNT_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+\.\d*|\d*[.,]?\d*)")
_AMBIGUOUS_COMMA_RE = re.compile(r"[+-]?\d{1,3},\d{3}")
_OFX_DATE_RE = re.compile(r"\d{8}")
_SEPARATORS_RE = re.compile(r"[\s-]")
_KIND_ACCOUNT_TYPE = {"STMTRS": AccountType.Bank, "CCSTMTRS": AccountType.CreditCard}
_WARNING_EXAMPLES = 3


def read(data: bytes) -> ParsedStatement:
    try:
        return _read(data)
    except ImportRejected:
        raise
    except Exception as error:  # noqa: BLE001 - whatever ofxparse or BeautifulSoup raise, the file is refused
        raise _unreadable(error, "the file") from None


def _read(data: bytes) -> ParsedStatement:
    cleaned = ofx_cleanup.clean(data)
    warnings = _bank_statuses(cleaned)
    if not cleaned.statements:
        raise ImportRejected(
            "the file holds no bank or credit-card statement (no <STMTRS> or <CCSTMTRS>)", code="ofx_no_statement"
        )
    currencies = _statement_currencies(cleaned)
    heads = [_statement_head(cleaned, index, *currency) for index, currency in enumerate(currencies)]
    for head, account in zip(heads, _ofxparse_accounts(cleaned), strict=True):
        head.account = _identifiers(cleaned.statements[head.index].kind, account)
    _refuse_several_accounts(heads)
    _refuse_several_currencies(heads)
    checked = _check_transactions(cleaned, heads)
    return _merged(cleaned, heads, checked, warnings)


# --- the envelope: statuses, accounts, balances ----------------------------------------------


def _bank_statuses(cleaned: CleanOfx) -> list[str]:
    """Refuses a file whose sign-on or statement status is an error, quoting the bank; other
    non-zero statuses become warnings."""
    warnings = []
    for match in _STATUS_RE.finditer(cleaned.envelope, cleaned.body_start):
        values = {name.upper(): html.unescape(value).strip() for name, value in _LEAF_RE.findall(match.group(1))}
        code, severity, message = values.get("CODE", ""), values.get("SEVERITY", "").upper(), values.get("MESSAGE", "")
        if code in ("", "0"):
            continue
        said = f"{message!r} (OFX status {code}{', ' + severity if severity else ''})" if message else f"OFX status {code}"
        line = line_at(cleaned.envelope, match.start())
        if severity not in ("INFO", "WARN"):
            raise ImportRejected(
                f"the bank's server answered with an error instead of a statement: {said}", code="ofx_bank_error", line=line
            )
        warnings.append(f"line {line}: the bank's server added a status: {said}")
    return warnings


def _ofxparse_accounts(cleaned: CleanOfx) -> list[object]:
    """``ofxparse``'s accounts, in the file's order (it lists bank statements before card ones)."""
    ofx = _ofxparse(ofx_cleanup.envelope_document(cleaned), "the file's statements")
    parsed = list(getattr(ofx, "accounts", []))
    by_kind = {kind: [a for a in parsed if a.type == account_type] for kind, account_type in _KIND_ACCOUNT_TYPE.items()}
    ordered = []
    for outline in cleaned.statements:
        if not by_kind[outline.kind]:
            raise ImportRejected(
                f"ofxparse found no account for the <{outline.kind}> statement here",
                code="ofx_structure_invalid",
                line=outline.line,
            )
        ordered.append(by_kind[outline.kind].pop(0))
    return ordered


@dataclass(slots=True)
class _StatementHead:
    index: int
    line: int
    currency: str
    period_start: date | None
    period_end: date | None
    closing_balance: Decimal | None
    closing_balance_on: date | None
    warnings: list[str] = field(default_factory=list)
    account: AccountIdentifiers = field(default_factory=AccountIdentifiers)
    first_posted: date | None = None
    last_posted: date | None = None
    lines: int = 0


def _statement_head(cleaned: CleanOfx, index: int, currency: str, currency_warning: str | None) -> _StatementHead:
    """What the statement says of itself, read from the envelope's text."""
    outline = cleaned.statements[index]
    envelope, start, end = cleaned.envelope, outline.envelope_start, outline.envelope_end
    warnings = [currency_warning] if currency_warning else []
    period = [_optional_date(envelope, name, start, end) for name in ("DTSTART", "DTEND")]
    closing, closing_on = None, None
    ledger = _aggregate(envelope, "LEDGERBAL", start, end)
    unchecked = "the statement's closing balance cannot be checked"
    if ledger is None:
        warnings.append(f"the statement on line {outline.line} has no ledger balance (LEDGERBAL): {unchecked}")
    else:
        closing = _optional_amount(envelope, "BALAMT", *ledger, currency=currency)
        closing_on = _optional_date(envelope, "DTASOF", *ledger)
        if closing is None:
            warnings.append(f"line {line_at(envelope, ledger[0])}: the ledger balance (LEDGERBAL/BALAMT) is empty: {unchecked}")
    available = _aggregate(envelope, "AVAILBAL", start, end)
    if available is not None:  # not used, but held to the same rules as every amount
        _optional_amount(envelope, "BALAMT", *available, currency=currency)
    return _StatementHead(
        index=index, line=outline.line, currency=currency,
        period_start=period[0], period_end=period[1], closing_balance=closing, closing_balance_on=closing_on,
        warnings=warnings,
    )  # fmt: skip


def _statement_currencies(cleaned: CleanOfx) -> list[tuple[str, str | None]]:
    """Each statement's currency, and a warning where the file does not state it (``CURDEF``):
    then it is the one its first transaction names (``<CURRENCY><CURSYM>``; the others must
    agree), else GBP."""
    stated: dict[int, str] = {}
    for index, outline in enumerate(cleaned.statements):
        found = _leaf(cleaned.envelope, "CURDEF", outline.envelope_start, outline.envelope_end)
        if found and found[0]:
            stated[index] = check_currency(found[0], line=line_at(cleaned.envelope, found[1]), field="CURDEF")
    named: dict[int, str] = {}
    if len(stated) < len(cleaned.statements):
        for block in ofx_cleanup.transactions(cleaned):  # one pass, for every statement without CURDEF
            if len(stated) + len(named) == len(cleaned.statements):
                break
            if block.statement in stated or block.statement in named:
                continue
            found_symbol = _fields(cleaned.text[block.start : block.end]).get("CURRENCY.CURSYM")
            symbol, offset = found_symbol if found_symbol else ("", 0)
            line = block.line + cleaned.text.count("\n", block.start, block.start + offset)
            named[block.statement] = check_currency(symbol, line=line, field="CURSYM") if symbol.strip() else ""
    currencies: list[tuple[str, str | None]] = []
    for index, outline in enumerate(cleaned.statements):
        if index in stated:
            currencies.append((stated[index], None))
        elif named.get(index):
            said = f"the statement on line {outline.line} has no currency (CURDEF); its transactions say {named[index]}"
            currencies.append((named[index], said))
        else:
            said = (
                f"the statement on line {outline.line} has no currency (CURDEF); it is read as {DEFAULT_CURRENCY},"
                " the currency of every personal health budget account"
            )
            currencies.append((DEFAULT_CURRENCY, said))
    return currencies


def _identifiers(kind: str, account: object) -> AccountIdentifiers:
    account_id = str(getattr(account, "account_id", "") or "").strip()
    bank_id = str(getattr(account, "routing_number", "") or "").strip()
    bank_digits, account_digits = _SEPARATORS_RE.sub("", bank_id), _SEPARATORS_RE.sub("", account_id)
    if kind == "STMTRS" and re.fullmatch(r"\d{6}", bank_digits):
        if re.fullmatch(r"\d{8}", account_digits):
            return AccountIdentifiers(sort_code=bank_digits, account_number=account_digits)
        if re.fullmatch(r"\d{14}", account_digits) and account_digits.startswith(bank_digits):
            return AccountIdentifiers(sort_code=bank_digits, account_number=account_digits[6:])
    if kind == "CCSTMTRS" and re.fullmatch(r"\d{12,19}", account_digits):
        return AccountIdentifiers(other=f"card ending {account_digits[-4:]}")
    return AccountIdentifiers(other=account_id or None)


def _refuse_several_accounts(heads: list[_StatementHead]) -> None:
    accounts = list(dict.fromkeys(head.account for head in heads))
    if len(accounts) > 1:
        named = "; ".join(account.describe() for account in accounts)
        raise ImportRejected(
            f"the file holds statements of {len(accounts)} accounts ({named}); import each account's statement on its own",
            code="several_accounts",
        )


def _refuse_several_currencies(heads: list[_StatementHead]) -> None:
    for head in heads[1:]:
        if head.currency != heads[0].currency:
            raise ImportRejected(
                f"the statement here is in {head.currency}, the one on line {heads[0].line} in {heads[0].currency}",
                code="currency_mixed",
                line=head.line,
                field="CURDEF",
            )


# --- transactions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checked:
    """Each transaction's amount (in minor units) and date as the check read them, in file
    order: 16 bytes a transaction, so the lines need not read them again."""

    minor_units: array[int] = field(default_factory=lambda: array("q"))
    days: array[int] = field(default_factory=lambda: array("l"))


@dataclass(frozen=True, slots=True)
class _Fields:
    """What is read from a transaction's text here rather than by ``ofxparse``."""

    posted_on: date
    amount: Decimal
    fitid: str | None


def _check_transactions(cleaned: CleanOfx, heads: list[_StatementHead]) -> _Checked:
    """Reads every transaction's amount, date and currency once before any line is handed
    out, so that a bad file is refused before anything is stored; notes what warnings need."""
    checked = _Checked()
    missing_fitid: list[int] = []
    first_line_of: dict[str, int] = {}
    repeated: list[str] = []
    outside: dict[int, list[int]] = {}
    for block in ofx_cleanup.transactions(cleaned):
        head = heads[block.statement]
        read = _transaction_fields(cleaned.text, block, head.currency)
        checked.minor_units.append(int(read.amount.scaleb(minor_units(head.currency))))
        checked.days.append(read.posted_on.toordinal())
        head.lines += 1
        head.first_posted = min(head.first_posted or read.posted_on, read.posted_on)
        head.last_posted = max(head.last_posted or read.posted_on, read.posted_on)
        if _outside(head, read.posted_on):
            outside.setdefault(head.index, []).append(block.line)
        if read.fitid is None:
            missing_fitid.append(block.line)
        elif read.fitid in first_line_of:
            repeated.append(f"{read.fitid!r} (lines {first_line_of[read.fitid]} and {block.line})")
        else:
            first_line_of[read.fitid] = block.line
    for head in heads:
        if head.index in outside:
            lines = outside[head.index]
            head.warnings.append(
                f"{len(lines)} transaction(s) of the statement on line {head.line} are dated outside its period"
                f" {head.period_start or '…'} to {head.period_end or '…'} (line {', '.join(map(str, lines[:_WARNING_EXAMPLES]))}"
                f"{', …' if len(lines) > _WARNING_EXAMPLES else ''})"
            )
        if head.closing_balance_on and head.last_posted and head.closing_balance_on < head.last_posted:
            head.warnings.append(
                f"the ledger balance of the statement on line {head.line} is dated {head.closing_balance_on},"
                f" before its last transaction ({head.last_posted}): it may not include every line"
            )
    if missing_fitid:
        heads[0].warnings.append(
            f"{len(missing_fitid)} transaction(s) have no FITID (line {', '.join(map(str, missing_fitid[:_WARNING_EXAMPLES]))}"
            f"{', …' if len(missing_fitid) > _WARNING_EXAMPLES else ''}): they are told apart by their content only"
        )
    if repeated:
        heads[0].warnings.append(
            f"{len(repeated)} FITID(s) repeat in the file: {'; '.join(repeated[:_WARNING_EXAMPLES])}"
            f"{'; …' if len(repeated) > _WARNING_EXAMPLES else ''}. The bank's id should be unique; check these lines"
        )
    return checked


def _outside(head: _StatementHead, posted_on: date) -> bool:
    return bool((head.period_start and posted_on < head.period_start) or (head.period_end and posted_on > head.period_end))


def _transaction_fields(text: str, block: TransactionBlock, currency: str) -> _Fields:
    body = text[block.start : block.end]
    found = _fields(body)

    def line_of(name: str) -> int:
        return block.line + body.count("\n", 0, found[name][1])

    if "TRNAMT" not in found:
        raise ImportRejected("the transaction has no amount (TRNAMT)", code="amount_missing", line=block.line, field="TRNAMT")
    amount = _read_amount(found["TRNAMT"][0], currency=currency, line=line_of("TRNAMT"), field="TRNAMT")
    if "DTPOSTED" not in found:
        raise ImportRejected("the transaction has no date (DTPOSTED)", code="date_missing", line=block.line, field="DTPOSTED")
    posted_on = _read_date(found["DTPOSTED"][0], line=line_of("DTPOSTED"), field="DTPOSTED")
    named = found.get("CURRENCY.CURSYM")
    if named and named[0] and named[0].strip().upper() != currency:
        raise ImportRejected(
            f"the transaction is in {named[0].strip()!r}, the statement in {currency}",
            code="currency_mixed",
            line=line_of("CURRENCY.CURSYM"),
            field="CURSYM",
        )
    fitid = html.unescape(found["FITID"][0]).strip() if "FITID" in found else ""
    return _Fields(posted_on=posted_on, amount=amount, fitid=fitid or None)


def _fields(body: str) -> dict[str, tuple[str, int]]:
    """Each element's text and offset in ``body`` (the first of each name); ``CURSYM`` inside
    ``CURRENCY`` (the amount's currency) as ``CURRENCY.CURSYM``, apart from ``ORIGCURRENCY``'s
    (where the amount was converted from, into ``CURDEF``)."""
    found: dict[str, tuple[str, int]] = {}
    context = ""
    for match in _LEAF_RE.finditer(body):
        name = match.group(1).upper()
        if name in ("CURRENCY", "ORIGCURRENCY"):
            context = name
        elif name == "CURSYM" and context == "CURRENCY":
            name = "CURRENCY.CURSYM"
        found.setdefault(name, (match.group(2), match.start()))
    return found


def _lines(cleaned: CleanOfx, heads: list[_StatementHead], checked: _Checked) -> Iterator[StatementLine]:
    try:
        number = 0
        for chunk in ofx_cleanup.chunks(cleaned):
            currency = heads[chunk.statement].currency
            transactions = _ofxparse_transactions(cleaned, chunk)
            for block, transaction in zip(chunk.transactions, transactions, strict=True):
                amount = Money(Decimal(checked.minor_units[number]).scaleb(-minor_units(currency)), currency)
                yield _line(cleaned.text, block, transaction, amount, date.fromordinal(checked.days[number]))
                number += 1
    except ImportRejected:
        raise
    except Exception as error:  # noqa: BLE001 - see read()
        raise _unreadable(error, "the file's transactions") from None


def _ofxparse_transactions(cleaned: CleanOfx, chunk: ofx_cleanup.Chunk) -> list[object]:
    try:
        ofx = _parse_quietly(chunk.document)
        transactions = list(ofx.account.statement.transactions)
    except Exception as error:  # noqa: BLE001 - find which transaction it was, and say so
        for block in chunk.transactions:
            _ofxparse(ofx_cleanup.transaction_document(cleaned, block), "the transaction", line=block.line)
        raise _unreadable(error, "the transactions from here on", line=chunk.transactions[0].line) from None
    if len(transactions) != len(chunk.transactions):
        raise ImportRejected(
            f"ofxparse read {len(transactions)} transactions where the file has {len(chunk.transactions)}",
            code="ofx_structure_invalid",
            line=chunk.transactions[0].line,
        )
    return transactions


def _line(text: str, block: TransactionBlock, transaction: object, amount: Money, posted_on: date) -> StatementLine:
    trntype = _TRNTYPE_RE.search(text, block.start, block.end)
    kind = html.unescape(trntype.group(1)).strip() if trntype else ""
    name = str(getattr(transaction, "payee", "") or "").strip()
    memo = str(getattr(transaction, "memo", "") or "").strip()
    sic = str(getattr(transaction, "sic", "") or "").strip()
    bank_id = str(getattr(transaction, "id", "") or "").strip()
    return StatementLine(
        line_no=block.line,
        posted_on=posted_on,
        amount=amount,
        description=_description(name, memo) or kind,
        payee=name or None,
        mcc=sic.zfill(4) if re.fullmatch(r"\d{1,4}", sic) else None,
        bank_id=bank_id if bank_id != ofx_cleanup.FITID_PLACEHOLDER else None,
        kind=kind or None,
        raw=text[block.start : block.end].replace("\r\n", "\n"),
    )


def _description(name: str, memo: str) -> str:
    name, memo = " ".join(name.split()), " ".join(memo.split())
    if not memo or memo.casefold() in name.casefold():
        return name
    if not name or name.casefold() in memo.casefold():
        return memo
    return f"{name} / {memo}"


# --- the statement ----------------------------------------------------------------------------


def _merged(cleaned: CleanOfx, heads: list[_StatementHead], checked: _Checked, warnings: list[str]) -> ParsedStatement:
    """One statement for the file: the period spanning all, the closing balance of the last."""
    last = max(heads, key=lambda h: (h.closing_balance_on or h.period_end or h.last_posted or date.min, h.index))
    starts = [h.period_start for h in heads if h.period_start]
    ends = [h.period_end for h in heads if h.period_end]
    for head in heads:
        warnings += head.warnings
    if len(heads) > 1:
        warnings.append(f"the file holds {len(heads)} statements of the same account; they are read as one")
    closing = Money(last.closing_balance, last.currency) if last.closing_balance is not None else None
    return ParsedStatement(
        format=FORMAT,
        currency=heads[0].currency,
        lines=_lines(cleaned, heads, checked),
        account=heads[0].account,
        period_start=min(starts) if starts else None,
        period_end=max(ends) if ends else None,
        closing_balance=closing,
        closing_balance_on=last.closing_balance_on if closing is not None else None,
        warnings=tuple(warnings),
    )


# --- reading values from the text -------------------------------------------------------------


def _read_amount(text: str, *, currency: str, line: int, field: str) -> Decimal:
    written = text.strip()
    compact = written.replace(" ", "").replace("\u00a0", "")
    if compact.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity") or not compact:
        return parse_decimal(written, currency=currency, line=line, field=field)  # refuses, with its own code
    if not _OFX_AMOUNT_RE.fullmatch(compact):
        raise ImportRejected(
            f"{written[:40]!r} is not an OFX amount (a number with an optional sign and a decimal point or comma,"
            " in the statement's currency, with no currency symbol)",
            code="amount_invalid",
            line=line,
            field=field,
        )
    if _AMBIGUOUS_COMMA_RE.fullmatch(compact):
        raise ImportRejected(
            f"{written!r} is ambiguous: OFX allows a decimal comma, so it may be {compact.replace(',', '.')}"
            f" or {compact.replace(',', '')}; ask the bank for a corrected file",
            code="amount_invalid",
            line=line,
            field=field,
        )
    decimal_comma = "," in compact and "." not in compact
    return parse_decimal(compact, currency=currency, line=line, field=field, decimal_comma=decimal_comma)


def _read_date(text: str, *, line: int, field: str) -> date:
    written = text.strip()
    if written and not _OFX_DATE_RE.match(written):
        raise ImportRejected(
            f"{written[:40]!r} is not an OFX date (YYYYMMDD, then an optional time)", code="date_invalid", line=line, field=field
        )
    return parse_date(written[:8], ("%Y%m%d",), line=line, field=field)


@lru_cache(maxsize=64)
def _leaf_re(name: str) -> re.Pattern[str]:
    return re.compile(rf"<{re.escape(name)}>([^<]*)", re.IGNORECASE)


def _leaf(text: str, name: str, start: int, end: int) -> tuple[str, int] | None:
    match = _leaf_re(name).search(text, start, end)
    return (html.unescape(match.group(1)).strip(), match.start()) if match else None


def _aggregate(text: str, name: str, start: int, end: int) -> tuple[int, int] | None:
    opening = _leaf_re(name).search(text, start, end)
    if opening is None:
        return None
    closing = _leaf_re(f"/{name}").search(text, opening.end(), end)
    return opening.start(), closing.start() if closing else end


def _optional_amount(text: str, name: str, start: int, end: int, *, currency: str) -> Decimal | None:
    found = _leaf(text, name, start, end)
    if not found or not found[0]:
        return None
    return _read_amount(found[0], currency=currency, line=line_at(text, found[1]), field=name)


def _optional_date(text: str, name: str, start: int, end: int) -> date | None:
    found = _leaf(text, name, start, end)
    if not found or not found[0]:
        return None
    return _read_date(found[0], line=line_at(text, found[1]), field=name)


# --- ofxparse ---------------------------------------------------------------------------------


def _ofxparse(document: bytes, what: str, *, line: int | None = None) -> object:
    try:
        return _parse_quietly(document)
    except Exception as error:  # noqa: BLE001 - every failure of ofxparse is a refused file
        raise _unreadable(error, what, line=line) from None


def _parse_quietly(document: bytes) -> object:
    """``OfxParser.parse``, without the deprecation warnings ofxparse 0.21 sets off on every
    call (it uses BeautifulSoup's old method names)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return OfxParser.parse(io.BytesIO(document))


def _unreadable(error: BaseException, what: str, *, line: int | None = None) -> ImportRejected:
    detail = " ".join(str(error).split())[:200]
    return ImportRejected(
        f"{what} could not be read as OFX ({type(error).__name__}{': ' + detail if detail else ''})",
        code="ofx_unreadable",
        line=line,
    )
