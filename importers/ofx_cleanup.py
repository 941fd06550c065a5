"""The layer in front of ``ofxparse``: turns an OFX file's bytes into documents it reads.

``ofxparse`` 0.21 (the last release, 2021) reads OFX 1.x (SGML) and 2.x (XML) statements,
but trips over files banks really send. This module decodes the bytes itself, finds the
statement's structure, and hands ``ofxparse`` small, clean documents:

- **Encoding.** ``ofxparse`` decodes with the header's ``ENCODING``/``CHARSET``: ``CHARSET:NONE``
  fails (``unknown encoding: cpNONE``), an unlisted ``ENCODING`` raises ``UnboundLocalError``,
  a UTF-8 body under an ASCII header fails on the ``'ascii'`` codec, and a UTF-8 file labelled
  ``CHARSET:1252`` reads as mojibake. Here the bytes are read as UTF-8 when they are valid
  UTF-8 (ASCII is), else in the declared 8-bit character set if Python knows it, else as
  Windows-1252 (``importers.text``). Every document given to ``ofxparse`` carries a header
  of our own saying UTF-8, and the text re-encoded as UTF-8.
- **Entities.** A ``<!DOCTYPE`` or ``<!ENTITY`` anywhere is refused before anything else
  (``xml_entities_forbidden``): an OFX statement never needs one, and an external entity
  must never be fetched.
- **Empty elements.** ``<NAME></NAME>``, ``<CURDEF></CURDEF>``, ``<BALAMT> </BALAMT>`` or an
  SGML ``<MEMO>`` with nothing before the next tag make ``ofxparse`` raise (``IndexError``,
  "Empty transaction name", "Empty ledger balance"). An empty element says nothing, so it is
  dropped — except the statement's own aggregates (``STMTTRN``, ``LEDGERBAL``, …).
- **Bare ``<``.** An SGML ``<NAME>A<B STORES`` is text with a ``<`` in it; ``ofxparse`` takes
  text starting with ``<`` for a tag and raises ``IndexError``. It is escaped (``&lt;``).
- **Missing FITID.** ``ofxparse`` refuses a transaction without a ``FITID`` (some UK building
  societies leave it empty). Such a transaction is given a placeholder (``FITID_PLACEHOLDER``)
  for ``ofxparse``; the importer keeps no bank id for it.
- **Speed.** ``ofxparse`` closes SGML's unclosed elements by checking every tag against a
  *list* of every closing tag in the file — quadratic: 10,000 transactions take 7 s, 100,000
  take 7 minutes and 1 GB. Here every element is closed in one linear pass, and the
  transactions go to ``ofxparse`` a slice at a time (``Chunk``), each slice in a small
  envelope of its statement's kind, so time is linear and memory bounded by the slice. Of
  each transaction, only the elements the importer takes from ``ofxparse`` are given to it
  (``TRANSACTION_ELEMENTS_READ``): ``ofxparse`` spends its time walking elements.

Nothing here reads an amount or a date: ``importers.ofx_statement`` reads those from the
file's text itself. Line numbers are those of the file: the envelope (the file with every
``<STMTTRN>`` block blanked to its line breaks) keeps every line where it was.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

from importers import text as statement_text
from importers.errors import ImportRejected

OFXPARSE_HEADER = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:UTF-8\nCHARSET:NONE\n"
    "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)
"""The header of every document given to ``ofxparse``: one whose encoding it knows."""
FITID_PLACEHOLDER = "PHB-LEDGER-NO-FITID"
CHUNK_TRANSACTIONS = 2_000
CHUNK_ELEMENTS_MAX = 40_000
"""A slice given to ``ofxparse`` holds at most this many transactions, and this many elements
(a real transaction has 5–20, so the second limit only binds on odd files)."""
ENVELOPE_ELEMENTS_MAX = 10_000
"""Elements outside the transactions: a statement has a few dozen. A file with more is refused
before ``ofxparse`` sees it (its closing pass is quadratic in elements of different names)."""
_HEADER_BYTES = 4096
_SLICE_HEAD = (
    "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><FI><ORG>-</ORG></FI>"
    "</SONRS></SIGNONMSGSRSV1>"
)
_SLICE_STATEMENT_HEAD = (
    "<TRNUID>0</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>{statement}<CURDEF>XXX</CURDEF>"
    "<ACCTFROM><BANKID>-</BANKID><BRANCHID>-</BRANCHID><ACCTID>-</ACCTID><ACCTTYPE>-</ACCTTYPE></ACCTFROM>"
    "<LEDGERBAL><BALAMT>0</BALAMT><DTASOF>19700101</DTASOF></LEDGERBAL>"
    "<AVAILBAL><BALAMT>0</BALAMT><DTASOF>19700101</DTASOF></AVAILBAL>"
    "<BANKTRANLIST><DTSTART>19700101</DTSTART><DTEND>19700101</DTEND>"
)
_ENVELOPES = {
    kind: (f"<OFX>{_SLICE_HEAD}<{messages}><{wrapper}>{_SLICE_STATEMENT_HEAD.format(statement=f'<{kind}>')}",
           f"</BANKTRANLIST></{kind}></{wrapper}></{messages}></OFX>")
    for kind, wrapper, messages in (("STMTRS", "STMTTRNRS", "BANKMSGSRSV1"),
                                    ("CCSTMTRS", "CCSTMTTRNRS", "CREDITCARDMSGSRSV1"))
}  # fmt: skip
"""The envelope around a slice of transactions. Its values are placeholders nobody reads
(the statement's own come from ``envelope_document``); they are there, ahead of the
transactions, because ``OfxParser.parse`` looks for each of them with ``find``, which walks
every element of the document when the one it looks for is absent."""
_KEPT_WHEN_EMPTY = frozenset({
    "OFX", "SIGNONMSGSRSV1", "SONRS", "STATUS", "BANKMSGSRSV1", "CREDITCARDMSGSRSV1", "STMTTRNRS",
    "CCSTMTTRNRS", "STMTRS", "CCSTMTRS", "BANKACCTFROM", "CCACCTFROM", "BANKTRANLIST", "STMTTRN",
    "LEDGERBAL", "AVAILBAL",
})  # fmt: skip
"""Aggregates that stay even when empty: they give the document its shape."""
TRANSACTION_ELEMENTS_READ = frozenset({"STMTTRN", "DTPOSTED", "TRNAMT", "FITID", "NAME", "PAYEE", "MEMO", "SIC"})
"""The elements of a transaction given to ``ofxparse``: those the importer takes from it
(``NAME``/``PAYEE``, ``MEMO``, ``FITID``, ``SIC``) and those it requires (``TRNAMT``,
``DTPOSTED``). The rest (``DTUSER``, ``REFNUM``, ``CURRENCY``, ``BANKACCTTO``, …) would cost
time, and could make ``ofxparse`` refuse a file for a field nobody reads (a bad ``DTUSER``)."""

_FORBIDDEN_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_OFX_START_RE = re.compile(r"<OFX>", re.IGNORECASE)
_INVESTMENT_RE = re.compile(r"<(INVSTMTRS|INVSTMTTRNRS|INVSTMTMSGSRSV1)>", re.IGNORECASE)
_STRUCTURE_RE = re.compile(r"<(/?)(STMTTRN|STMTRS|CCSTMTRS)>", re.IGNORECASE)
_TAG_SPLIT_RE = re.compile(r"(</?[A-Za-z0-9_.]+>)")
"""How ``ofxparse`` itself finds tags (``OfxPreprocessedFile``)."""
_KEPT_MARKUP_RE = re.compile(r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.DOTALL)
_SGML_HEADER_RE = re.compile(rb"^\s*([A-Z]+)\s*:\s*(\S*)\s*$", re.MULTILINE)
_XML_ENCODING_RE = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StatementOutline:
    """One ``<STMTRS>`` (bank) or ``<CCSTMTRS>`` (credit card) of the file, and where it is in
    the envelope."""

    kind: str
    line: int
    envelope_start: int
    envelope_end: int


@dataclass(frozen=True, slots=True)
class TransactionBlock:
    """One ``<STMTTRN>…</STMTTRN>`` of the file."""

    statement: int
    """Index of its statement in ``CleanOfx.statements``."""
    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class CleanOfx:
    text: str
    """The file as text; line *n* of it is line *n* of the file."""
    body_start: int
    """Offset of ``<OFX>``."""
    envelope: str
    """``text`` with every ``<STMTTRN>`` block replaced by its line breaks."""
    statements: tuple[StatementOutline, ...]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive transactions of one statement, as a document ``ofxparse`` reads."""

    statement: int
    transactions: tuple[TransactionBlock, ...]
    document: bytes


def clean(data: bytes) -> CleanOfx:
    """The file decoded and outlined; refuses entities, investment statements, and files that
    are not OFX or whose statements and transactions do not nest."""
    if _FORBIDDEN_RE.search(data):
        raise ImportRejected(
            "the file declares a DTD or an entity (<!DOCTYPE or <!ENTITY); an OFX statement never needs one,"
            " and it is not read",
            code="xml_entities_forbidden",
        )
    text = decode(data)
    found = _OFX_START_RE.search(text)
    if found is None:
        raise ImportRejected("the file has no <OFX> element: it is not an OFX or QFX statement", code="ofx_not_ofx")
    investment = _INVESTMENT_RE.search(text, found.start())
    if investment:
        raise ImportRejected(
            "the file is an investment (brokerage) statement; a personal health budget account is a bank"
            " or card account, so only bank and credit-card statements are read",
            code="ofx_investment_statement",
            line=statement_text.line_at(text, investment.start()),
            field=investment.group(1).upper(),
        )
    envelope, statements = _outline(text, found.start())
    elements = sum(1 for _ in _TAG_SPLIT_RE.finditer(envelope, found.start()))
    if elements > ENVELOPE_ELEMENTS_MAX:
        raise ImportRejected(
            f"the file has {elements:,} tags outside its transactions; a statement has a few dozen",
            code="ofx_structure_invalid",
        )
    return CleanOfx(text=text, body_start=found.start(), envelope=envelope, statements=statements)


def decode(data: bytes) -> str:
    """The file as text: UTF-8 if it is valid UTF-8, else the declared 8-bit character set,
    else Windows-1252. A declaration ``ofxparse`` cannot use (``CHARSET:NONE``, an unknown
    ``ENCODING``, ``USASCII`` over UTF-8 bytes, a UTF-8 file labelled 1252) is not trusted."""
    if data.startswith(codecs.BOM_UTF8):
        return statement_text.decode(data, "utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return statement_text.decode(data, _declared_single_byte_charset(data[:_HEADER_BYTES]))


def _declared_single_byte_charset(head: bytes) -> str | None:
    declared: str | None = None
    sgml = dict((key.upper(), value) for key, value in _SGML_HEADER_RE.findall(head.split(b"<", 1)[0]))
    if b"CHARSET" in sgml:
        charset = sgml[b"CHARSET"].decode("ascii", "replace").upper()
        declared = {"8859-1": "latin-1", "ISO-8859-1": "latin-1"}.get(charset, f"cp{charset}" if charset.isdigit() else charset)
    elif xml := _XML_ENCODING_RE.search(head):
        declared = xml.group(1).decode("ascii")
    if declared is None:
        return None
    try:
        name = codecs.lookup(declared).name
        single_byte = len("A".encode(name)) == 1 and not name.startswith("utf") and name != "ascii"
    except (LookupError, UnicodeError, ValueError):
        return None
    return name if single_byte else None  # UTF-8 and ASCII were tried already; others fall back to Windows-1252


def _outline(text: str, body_start: int) -> tuple[str, tuple[StatementOutline, ...]]:
    pieces: list[str] = []
    copied_to = 0
    removed = 0  # characters the envelope has fewer than the text, before the current position
    statements: list[StatementOutline] = []
    envelope_start = 0
    for event in _structure(text, body_start):
        if event.kind == "STMTTRN":
            line_breaks = text.count("\n", event.start, event.end)
            pieces += (text[copied_to : event.start], "\n" * line_breaks)
            copied_to = event.end
            removed += event.end - event.start - line_breaks
        elif event.opens:
            envelope_start = event.start - removed
        else:
            statements.append(StatementOutline(event.kind, event.line, envelope_start, event.end - removed))
    pieces.append(text[copied_to:])
    return "".join(pieces), tuple(statements)


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str
    opens: bool
    start: int
    end: int
    line: int
    statement: int


def _structure(text: str, body_start: int) -> Iterator[_Event]:
    """Statements opening and closing, and whole transactions, in file order. Refuses a
    transaction outside a statement, and anything opened and not closed (or the reverse)."""
    line = statement_text.line_at(text, body_start)
    position = body_start
    statement: _Event | None = None
    transaction: _Event | None = None
    statements = 0
    for match in _STRUCTURE_RE.finditer(text, body_start):
        line += text.count("\n", position, match.start())
        position = match.start()
        closes, name = bool(match.group(1)), match.group(2).upper()
        if name == "STMTTRN" and not closes:
            if statement is None:
                _refuse_structure("a <STMTTRN> transaction is outside any bank or card statement", line)
            if transaction is not None:
                _refuse_structure("the <STMTTRN> transaction here is not closed (no </STMTTRN>)", transaction.line)
            transaction = _Event(name, True, match.start(), match.end(), line, statements)
        elif name == "STMTTRN":
            if transaction is None:
                _refuse_structure("</STMTTRN> closes no transaction", line)
            yield _Event(name, False, transaction.start, match.end(), transaction.line, statements)
            transaction = None
        elif not closes:
            if statement is not None:
                _refuse_structure(f"<{name}> opens inside the <{statement.kind}> statement opened on line {statement.line}", line)
            statement = _Event(name, True, match.start(), match.end(), line, statements)
            yield statement
        else:
            if statement is None or statement.kind != name:
                _refuse_structure(f"</{name}> closes no <{name}> statement", line)
            if transaction is not None:
                _refuse_structure("the <STMTTRN> transaction here is not closed (no </STMTTRN>)", transaction.line)
            yield _Event(name, False, statement.start, match.end(), statement.line, statements)
            statement = None
            statements += 1
    if transaction is not None:
        _refuse_structure("the <STMTTRN> transaction here is not closed (no </STMTTRN>)", transaction.line)
    if statement is not None:
        _refuse_structure(f"the <{statement.kind}> statement here is not closed", statement.line)


def _refuse_structure(reason: str, line: int) -> None:
    raise ImportRejected(reason, code="ofx_structure_invalid", line=line)


def transactions(cleaned: CleanOfx) -> Iterator[TransactionBlock]:
    """Every ``<STMTTRN>`` block, in file order (found again on each call: 100,000 of them are
    not kept)."""
    for event in _structure(cleaned.text, cleaned.body_start):
        if event.kind == "STMTTRN":
            yield TransactionBlock(event.statement, event.line, event.start, event.end)


def envelope_document(cleaned: CleanOfx) -> bytes:
    """The whole file without its transactions, for ``ofxparse``: sign-on, statuses, accounts,
    currencies, balances."""
    return _document(for_ofxparse(cleaned.envelope[cleaned.body_start :]))


def chunks(cleaned: CleanOfx) -> Iterator[Chunk]:
    """The transactions, a slice of one statement at a time, each slice as a document."""
    blocks: list[TransactionBlock] = []
    parts: list[str] = []
    elements = 0
    for block in transactions(cleaned):
        part = for_ofxparse(cleaned.text[block.start : block.end], transaction=True)
        if blocks and (
            block.statement != blocks[0].statement
            or len(blocks) >= CHUNK_TRANSACTIONS
            or elements + part.count("</") > CHUNK_ELEMENTS_MAX
        ):
            yield _chunk(cleaned, blocks, parts)
            blocks, parts, elements = [], [], 0
        blocks.append(block)
        parts.append(part)
        elements += part.count("</")
    if blocks:
        yield _chunk(cleaned, blocks, parts)


def _chunk(cleaned: CleanOfx, blocks: list[TransactionBlock], parts: list[str]) -> Chunk:
    opening, closing = _ENVELOPES[cleaned.statements[blocks[0].statement].kind]
    return Chunk(blocks[0].statement, tuple(blocks), _document(opening + "".join(parts) + closing))


def ofxparse_inputs(cleaned: CleanOfx) -> Iterator[bytes]:
    """Every document ``ofxparse`` is given for the file: the envelope, then the slices."""
    yield envelope_document(cleaned)
    for chunk in chunks(cleaned):
        yield chunk.document


def transaction_document(cleaned: CleanOfx, block: TransactionBlock) -> bytes:
    """One transaction alone (to find which one of a slice ``ofxparse`` refused)."""
    opening, closing = _ENVELOPES[cleaned.statements[block.statement].kind]
    return _document(opening + for_ofxparse(cleaned.text[block.start : block.end], transaction=True) + closing)


def _document(body: str) -> bytes:
    return (OFXPARSE_HEADER + body).encode("utf-8")


def for_ofxparse(fragment: str, *, transaction: bool = False) -> str:
    """``fragment`` with every element closed, empty elements dropped and whitespace between
    tags removed; with ``transaction``, only ``TRANSACTION_ELEMENTS_READ`` kept and a ``FITID``
    placeholder added where there is none.

    An element is a leaf (data, no closing tag in SGML) when no closing tag of its name is in
    the fragment — the rule ``ofxparse`` uses; here it is applied with a set, in one pass.
    """
    tokens = _TAG_SPLIT_RE.split(fragment)
    closed = {token[2:-1].upper() for token in tokens[1::2] if token[1] == "/"}
    out: list[str] = []
    has_fitid = False
    index = 1
    while index < len(tokens):
        tag, data = tokens[index], tokens[index + 1]
        index += 2
        if transaction and tag.lstrip("</").rstrip(">").upper() not in TRANSACTION_ELEMENTS_READ:
            continue  # with its data: a leaf's text, or the blank after an aggregate's tag
        if tag[1] == "/":
            out.append(tag)
        else:
            name = tag[1:-1]
            upper = name.upper()
            if upper not in closed:  # an SGML leaf: its data runs to the next tag
                if data.strip():
                    out.append(f"{tag}{_escape_bare_brackets(data.strip())}</{name}>")
                    has_fitid = has_fitid or upper == "FITID"
                continue
            if (
                not data.strip()
                and index < len(tokens)
                and tokens[index].upper() == f"</{upper}>"
                and upper not in _KEPT_WHEN_EMPTY
            ):
                index += 2  # an empty element: skip its closing tag too
                continue
            out.append(tag)
            has_fitid = has_fitid or (upper == "FITID" and bool(data.strip()))
        if data.strip():
            out.append(_escape_bare_brackets(data))
    if transaction and not has_fitid and out and out[-1].upper() == "</STMTTRN>":
        out.insert(len(out) - 1, f"<FITID>{FITID_PLACEHOLDER}</FITID>")
    return "".join(out)


def _escape_bare_brackets(data: str) -> str:
    """``<`` in text as ``&lt;``, outside CDATA sections and comments: SGML files do not
    always escape it, and ``ofxparse`` takes text starting with ``<`` for a tag (``IndexError``)."""
    if "<" not in data:
        return data
    parts = _KEPT_MARKUP_RE.split(data)
    return "".join(part if index % 2 else part.replace("<", "&lt;") for index, part in enumerate(parts))
