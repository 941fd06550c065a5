"""ISO 20022 camt.053: the bank-to-customer statement (``BkToCstmrStmt``), versions 02, 04 and 08.

A ``Document`` holds one message with one or more ``Stmt`` elements; each names its account
(``Acct/Id``: an IBAN, or ``Othr/Id``), states its booked balances (``Bal`` with code ``OPBD``
or ``PRCD`` for the opening one, ``CLBD`` for the closing one, each an unsigned ``Amt`` with a
``CdtDbtInd``), its period (``FrToDt``) and its entries (``Ntry``). Elements are matched on
their local names, so every version's namespace (and none) reads the same way.

Quirks handled:
- Parsing goes through ``defusedxml`` with DTDs, entity declarations and external references
  forbidden: a billion-laughs bomb or an XXE file is refused at its ``<!DOCTYPE``, before
  anything expands, with ``xml_entities_forbidden``. A statement never needs a DTD.
- Amounts are unsigned decimals with up to five places; the sign comes from ``CdtDbtInd``
  (``DBIT`` is money out). ``100.12000`` is a whole number of pence and reads as 100.12; a
  true fraction of a penny (``100.12345``) is refused by ``importers.amounts``.
- A reversal (``RvslInd`` true) is signed by its own ``CdtDbtInd``, as ISO 20022 says: a
  reversed debit is booked as a credit.
- The statement's currency is ``Acct/Ccy``, else the entries' ``Ccy``, else the balances'.
- Version 08 nests the status (``Sts/Cd``) and the party names (``Cdtr/Pty/Nm``); both forms
  are read. Only booked entries (``BOOK``) are imported; pending and information-only ones
  are skipped with a warning.
- An entry with several ``TxDtls`` is a batch booking: it becomes one line for the total the
  bank booked (what the account moved by), with a warning; its parts are not split.
- The bank's id for a line is the entry's ``AcctSvcrRef`` (or ``NtryRef``, or, for an entry
  of one transaction, that transaction's ``AcctSvcrRef`` or ``TxId``). References the payer
  chose (``EndToEndId``, ``InstrId``) are not used: they repeat (``NOTPROVIDED``), and
  de-duplication on them would drop real lines.
- A balance in a currency other than the statement's is not used (the two cannot be
  compared) and a warning says so; an entry in another currency is refused.
- A UK IBAN (``GBkk BBBB SSSSSS AAAAAAAA``) also gives the sort code and account number.

``line_no`` is the line where the ``<Ntry`` tag starts, as expat reports it, and ``raw`` the
entry's element as the file writes it (CRLF line ends read as LF).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from datetime import date
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser
from moneyed import Money

from importers.accounts import account_identifiers, refuse_several_accounts
from importers.amounts import check_currency, parse_date, parse_money
from importers.errors import ImportRejected
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine

FORMAT = "camt053"
_BOOKED = "BOOK"
_OPENING_CODES = ("OPBD", "PRCD")
"""Opening booked balance; some banks state instead the previous statement's closing one."""
_CLOSING_CODE = "CLBD"
_NOT_A_REFERENCE = {"", "NOTPROVIDED", "NONREF"}
_AMOUNT_RE = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,18})?")
_ISO_DATE_RE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T+\-Z].*)?", re.DOTALL)
_STATUS_NAMES = {"PDNG": "pending", "INFO": "information only", "FUTR": "future"}


def read(data: bytes) -> ParsedStatement:
    root, positions = _parse_xml(data)
    message = _statement_message(root)
    statements = _children(message, "Stmt")
    if not statements:
        raise ImportRejected("the camt.053 message holds no statement (no Stmt element)", code="statement_missing")
    accounts = [_account(statement) for statement in statements]
    refuse_several_accounts(accounts)
    read_statements = [
        _read_statement(statement, account, positions) for statement, account in zip(statements, accounts, strict=True)
    ]
    return _merge(read_statements)


# --- XML --------------------------------------------------------------------------------------


class _PositionRecorder:
    """A tree builder that notes the line where each ``Stmt``, ``Bal`` and ``Ntry`` element
    starts, and the text of each ``Ntry`` as the file writes it (expat's positions, read while
    the parser is at the tag)."""

    _NOTED = frozenset(("Stmt", "Bal", "Ntry"))

    def __init__(self, data: bytes) -> None:
        self._builder = TreeBuilder()
        self._data = data
        self._codec, self._tag_end = _codec_of(data)
        self._open_entries: list[tuple[Element, int]] = []
        self.expat: expat.XMLParserType | None = None
        self.lines: dict[Element, int] = {}
        self.raws: dict[Element, str] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        element = self._builder.start(tag, attrs)
        name = _local(tag)
        if name in self._NOTED and self.expat is not None:
            self.lines[element] = self.expat.CurrentLineNumber
            if name == "Ntry":
                self._open_entries.append((element, self.expat.CurrentByteIndex))
        return element

    def end(self, tag: str) -> Element:
        element = self._builder.end(tag)
        if _local(tag) == "Ntry" and self._open_entries and self.expat is not None:
            entry, start = self._open_entries.pop()
            stop = self._data.find(self._tag_end, self.expat.CurrentByteIndex)
            stop = len(self._data) if stop < 0 else stop + len(self._tag_end)
            raw = self._data[start:stop].decode(self._codec, errors="replace")
            self.raws[entry] = raw.replace("\r\n", "\n")
        return element

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> Element:
        return self._builder.close()


def _parse_xml(data: bytes) -> tuple[Element, _PositionRecorder]:
    recorder = _PositionRecorder(data)
    parser = DefusedXMLParser(target=recorder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    recorder.expat = parser.parser
    try:
        parser.feed(data)
        root = parser.close()
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise ImportRejected(
            "the XML declares a document type (DTD) or entities; a statement needs neither, and they are "
            "refused because they can expand without bound or read other files",
            code="xml_entities_forbidden",
            line=parser.parser.CurrentLineNumber,
        ) from None
    except ParseError as error:
        code = getattr(error, "code", None)
        reason = expat.ErrorString(code) if isinstance(code, int) else str(error)
        line = error.position[0] if getattr(error, "position", None) else None
        raise ImportRejected(f"the XML is not well formed: {reason}", code="xml_invalid", line=line) from None
    except LookupError as error:  # the declaration names an encoding Python does not know
        raise ImportRejected(
            f"the XML cannot be read: {error}", code="encoding_unknown", line=1, field="encoding"
        ) from None
    except ValueError as error:  # pyexpat refuses a multi-byte encoding it cannot map
        raise ImportRejected(f"the XML cannot be read: {error}", code="xml_invalid") from None
    return root, recorder


def _codec_of(data: bytes) -> tuple[str, bytes]:
    """The codec the file's bytes are in (from its byte-order mark or XML declaration, UTF-8
    by default), and how ``>`` is written in it: to cut an entry's text out of the bytes."""
    if data.startswith(codecs.BOM_UTF16_LE):
        codec = "utf-16-le"
    elif data.startswith(codecs.BOM_UTF16_BE):
        codec = "utf-16-be"
    else:
        declared = re.match(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']", data[:200])
        codec = declared[1].decode("ascii") if declared else "utf-8"
    try:
        codec = codecs.lookup(codec).name
        tag_end = ">".encode(codec)
    except (LookupError, UnicodeError, ValueError):
        codec, tag_end = "utf-8", b">"
    if codec in ("utf-16", "utf-32"):  # no byte-order mark matched above: the default order
        codec = "utf-16-le" if codec == "utf-16" else "utf-32-le"
        tag_end = ">".encode(codec)
    return codec, tag_end


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _find(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((child for child in element if _local(child.tag) == name), None)
    return element


def _text(element: Element | None, *path: str) -> str | None:
    found = _find(element, *path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _statement_message(root: Element) -> Element:
    if _local(root.tag) == "BkToCstmrStmt":
        return root
    message = _find(root, "BkToCstmrStmt") if _local(root.tag) == "Document" else None
    if message is None:
        inner = next(iter(root), None)
        what = _namespace(root.tag).rpartition(":")[2] or _local(root.tag)
        named = f" ({_local(inner.tag)})" if inner is not None and _local(root.tag) == "Document" else ""
        raise ImportRejected(
            f"the XML is {what}{named}, not a camt.053 bank-to-customer statement (BkToCstmrStmt)",
            code="format_unknown",
        )
    return message


# --- one statement ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Statement:
    name: str
    account: AccountIdentifiers
    currency: str
    opening: Money | None
    closing: Money | None
    closing_on: date | None
    period_start: date | None
    period_end: date | None
    lines: tuple[StatementLine, ...]
    warnings: tuple[str, ...]


def _read_statement(statement: Element, account: AccountIdentifiers, positions: _PositionRecorder) -> _Statement:
    line = positions.lines.get(statement)
    identifier = _text(statement, "Id")
    name = f"statement {identifier} (line {line})" if identifier else f"the statement at line {line}"
    currency = _currency(statement, line)
    warnings: list[str] = []
    opening, closing, closing_on = _balances(statement, currency, positions, warnings)
    lines = tuple(
        parsed
        for entry in _children(statement, "Ntry")
        if (parsed := _entry_line(entry, currency, positions, warnings)) is not None
    )
    period_start, period_end = _period(statement, lines, line)
    outside = [item for item in lines if period_start and period_end and not period_start <= item.posted_on <= period_end]
    if outside:
        warnings.append(
            f"{name}: {len(outside)} line(s) are dated outside the statement's period "
            f"{period_start:%d/%m/%Y} to {period_end:%d/%m/%Y} (first at line {outside[0].line_no})"
        )
    if opening is not None and closing is not None:
        warnings.extend(_balance_check(name, opening, lines, closing))
    return _Statement(
        name, account, currency, opening, closing, closing_on, period_start, period_end, lines, tuple(warnings)
    )


def _account(statement: Element) -> AccountIdentifiers:
    identifiers = _find(statement, "Acct", "Id")
    iban = _text(identifiers, "IBAN")
    other = _text(identifiers, "Othr", "Id")
    bic = _text(statement, "Acct", "Svcr", "FinInstnId", "BIC") or _text(statement, "Acct", "Svcr", "FinInstnId", "BICFI")
    found = account_identifiers(iban or other or "")
    return replace(found, bic=bic)


def _currency(statement: Element, line: int | None) -> str:
    written = _text(statement, "Acct", "Ccy")
    if written is None:
        amounts = [_find(entry, "Amt") for entry in _children(statement, "Ntry")]
        amounts += [_find(balance, "Amt") for balance in _children(statement, "Bal")]
        written = next((amount.get("Ccy") for amount in amounts if amount is not None and amount.get("Ccy")), None)
    if written is None:
        raise ImportRejected(
            "the statement names no currency (no Acct/Ccy, and no amount carries a Ccy)",
            code="currency_missing",
            line=line,
            field="Acct/Ccy",
        )
    return check_currency(written, line=line, field="Ccy")


def _balances(
    statement: Element, currency: str, positions: _PositionRecorder, warnings: list[str]
) -> tuple[Money | None, Money | None, date | None]:
    found: dict[str, tuple[Money, date]] = {}
    for balance in _children(statement, "Bal"):
        code = (_text(balance, "Tp", "CdOrPrtry", "Cd") or "").upper()
        if code not in (*_OPENING_CODES, _CLOSING_CODE) or code in found:
            continue
        line = positions.lines.get(balance)
        written_currency = _amount_currency(balance) or currency
        if written_currency != currency:
            warnings.append(
                f"line {line}: the {code} balance is in {written_currency}, not the statement's {currency}; it is not used"
            )
            continue
        amount = _signed_amount(balance, currency, line, what=f"{code} balance")
        on = _date_of(_find(balance, "Dt"), line, field=f"{code} Dt")
        if on is None:
            raise ImportRejected(f"the {code} balance has no date", code="date_missing", line=line, field="Bal/Dt")
        found[code] = (amount, on)
    opening = found.get("OPBD") or found.get("PRCD")
    closing = found.get(_CLOSING_CODE)
    return (
        opening[0] if opening else None,
        closing[0] if closing else None,
        closing[1] if closing else None,
    )


def _amount_currency(element: Element) -> str | None:
    amount = _find(element, "Amt")
    written = amount.get("Ccy") if amount is not None else None
    return written.strip().upper() if written else None


def _signed_amount(element: Element, currency: str, line: int | None, *, what: str) -> Money:
    text = _text(element, "Amt")
    if text is None:
        raise ImportRejected(f"the {what} has no amount", code="amount_missing", line=line, field="Amt")
    if not _AMOUNT_RE.fullmatch(text):
        raise ImportRejected(
            f"{text[:40]!r} is not a camt.053 amount (digits, a point and up to five decimals, no sign)",
            code="amount_invalid",
            line=line,
            field="Amt",
        )
    amount = parse_money(text, currency=currency, line=line, field="Amt")
    indicator = (_text(element, "CdtDbtInd") or "").upper()
    if indicator not in ("CRDT", "DBIT"):
        raise ImportRejected(
            f"the {what} has no credit/debit indicator (CdtDbtInd is {indicator or 'missing'}, not CRDT or DBIT)",
            code="camt_invalid",
            line=line,
            field="CdtDbtInd",
        )
    return -amount if indicator == "DBIT" else amount


def _date_of(holder: Element | None, line: int | None, *, field: str) -> date | None:
    """The date in a ``Dt``/``DtTm`` choice, as the bank wrote it (its local day, no time zone
    arithmetic)."""
    text = _text(holder, "Dt") or _text(holder, "DtTm")
    if text is None:
        return None
    return _iso_date(text, line, field=field)


def _iso_date(text: str, line: int | None, *, field: str) -> date:
    match = _ISO_DATE_RE.fullmatch(text)
    if match is None:
        raise ImportRejected(f"{text[:40]!r} is not a date written as YYYY-MM-DD", code="date_invalid", line=line, field=field)
    return parse_date(match[1], ("%Y-%m-%d",), line=line, field=field)


def _period(statement: Element, lines: tuple[StatementLine, ...], line: int | None) -> tuple[date | None, date | None]:
    start = _text(statement, "FrToDt", "FrDtTm")
    end = _text(statement, "FrToDt", "ToDtTm")
    if start and end:
        return _iso_date(start, line, field="FrToDt/FrDtTm"), _iso_date(end, line, field="FrToDt/ToDtTm")
    if lines:
        days = [item.posted_on for item in lines]
        return min(days), max(days)
    return None, None


# --- entries ----------------------------------------------------------------------------------


def _entry_line(
    entry: Element, currency: str, positions: _PositionRecorder, warnings: list[str]
) -> StatementLine | None:
    line = positions.lines.get(entry, 0)
    status = (_text(entry, "Sts") or _text(entry, "Sts", "Cd") or _text(entry, "Sts", "Prtry") or "").upper()
    if not status:
        raise ImportRejected("the entry has no status (Sts)", code="camt_invalid", line=line, field="Sts")
    if status != _BOOKED:
        shown = _STATUS_NAMES.get(status, "not booked")
        warnings.append(f"line {line}: an entry with status {status} ({shown}) was skipped; only booked entries are imported")
        return None
    written_currency = _amount_currency(entry)
    if written_currency is not None and written_currency != currency:
        raise ImportRejected(
            f"the entry is in {written_currency!r} but the statement is in {currency}",
            code="currency_mixed",
            line=line,
            field="Amt/@Ccy",
        )
    amount = _signed_amount(entry, currency, line, what="entry")
    posted_on = _date_of(_find(entry, "BookgDt"), line, field="BookgDt") or _date_of(
        _find(entry, "ValDt"), line, field="ValDt"
    )
    if posted_on is None:
        raise ImportRejected("the entry has no booking or value date", code="date_missing", line=line, field="BookgDt")
    transactions = [tx for details in _children(entry, "NtryDtls") for tx in _children(details, "TxDtls")]
    if len(transactions) > 1:
        warnings.append(
            f"line {line}: the entry is a batch of {len(transactions)} transactions; it is imported as one line "
            "for the total the bank booked"
        )
    kind = _bank_code(_find(entry, "BkTxCd")) or next(
        (code for tx in transactions if (code := _bank_code(_find(tx, "BkTxCd")))), None
    )
    payee = _payee(transactions, "Cdtr" if amount.amount < 0 else "Dbtr")
    return StatementLine(
        line_no=line,
        posted_on=posted_on,
        amount=amount,
        description=_description(entry, transactions) or payee or kind or "",
        payee=payee,
        bank_id=_bank_id(entry, transactions),
        kind=kind,
        raw=positions.raws.get(entry, ""),
    )


def _bank_code(code: Element | None) -> str | None:
    domain = _text(code, "Domn", "Cd")
    if domain:
        parts = [domain, _text(code, "Domn", "Fmly", "Cd"), _text(code, "Domn", "Fmly", "SubFmlyCd")]
        return "/".join(part for part in parts if part)
    return _text(code, "Prtry", "Cd")


def _bank_id(entry: Element, transactions: list[Element]) -> str | None:
    candidates = [_text(entry, "AcctSvcrRef"), _text(entry, "NtryRef")]
    if len(transactions) == 1:
        candidates += [_text(transactions[0], "Refs", "AcctSvcrRef"), _text(transactions[0], "Refs", "TxId")]
    return next((ref for ref in candidates if ref and ref.upper() not in _NOT_A_REFERENCE), None)


def _payee(transactions: list[Element], party: str) -> str | None:
    names = []
    for tx in transactions:
        name = _text(tx, "RltdPties", party, "Nm") or _text(tx, "RltdPties", party, "Pty", "Nm")
        if name:
            names.append(_one_line(name))
    distinct = list(dict.fromkeys(names))
    return distinct[0] if len(distinct) == 1 else None


def _description(entry: Element, transactions: list[Element]) -> str:
    written = _text(entry, "AddtlNtryInf")
    if written:
        return _one_line(written)
    for path in (("RmtInf", "Ustrd"), ("RmtInf", "Strd", "CdtrRefInf", "Ref"), ("AddtlTxInf",)):
        texts = [
            _one_line(element.text)
            for tx in transactions
            for element in _all(tx, *path)
            if element.text and element.text.strip()
        ]
        if texts:
            return "; ".join(dict.fromkeys(texts))
    return ""


def _all(element: Element, *path: str) -> list[Element]:
    found = [element]
    for name in path:
        found = [child for parent in found for child in parent if _local(child.tag) == name]
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the file ---------------------------------------------------------------------------------


def _balance_check(
    name: str, opening: Money, lines: tuple[StatementLine, ...], closing: Money
) -> list[str]:
    total = sum((item.amount for item in lines), Money(0, opening.currency))
    if opening + total == closing:
        return []
    return [
        f"{name}: the opening balance {_show(opening)} and the lines' total {_show(total)} make "
        f"{_show(opening + total)}, but the closing balance is {_show(closing)} "
        f"(a difference of {_show(closing - opening - total)})"
    ]


def _show(amount: Money) -> str:
    return f"{amount.currency.code} {amount.amount:,}"


def _merge(statements: list[_Statement]) -> ParsedStatement:
    currencies = list(dict.fromkeys(statement.currency for statement in statements))
    if len(currencies) > 1:
        raise ImportRejected(
            f"the file's statements are in more than one currency ({', '.join(currencies)})", code="currency_mixed"
        )
    warnings = [warning for statement in statements for warning in statement.warnings]
    for before, after in zip(statements, statements[1:], strict=False):
        if before.closing is not None and after.opening is not None and before.closing != after.opening:
            warnings.append(
                f"{after.name} opens at {_show(after.opening)}, but {before.name} closed at {_show(before.closing)}"
            )
    starts = [statement.period_start for statement in statements if statement.period_start]
    ends = [statement.period_end for statement in statements if statement.period_end]
    first, last = statements[0], statements[-1]
    return ParsedStatement(
        format=FORMAT,
        currency=currencies[0],
        lines=tuple(line for statement in statements for line in statement.lines),
        account=first.account,
        period_start=min(starts) if starts else None,
        period_end=max(ends) if ends else None,
        opening_balance=first.opening,
        closing_balance=last.closing,
        closing_balance_on=last.closing_on,
        warnings=tuple(warnings),
    )
