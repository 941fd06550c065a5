"""Which format a file is in, from its content (never its name: people rename files, and
banks name an OFX file ``.qfx``, ``.ofx`` or ``statement.txt``)."""

from __future__ import annotations

import codecs
import re

from importers.errors import ImportRejected

_SNIFF_BYTES = 8192
_MT940_RE = re.compile(r"^(\{[1-4]:|:20:)", re.MULTILINE)
_SWIFT_TAG_RE = re.compile(r"^:[0-9]{2}[A-Z]?:")


def detect_format(data: bytes) -> str:
    head = data[:_SNIFF_BYTES].removeprefix(codecs.BOM_UTF8)
    text = head.decode("latin-1").lstrip("\x00\r\n\t ")
    upper = text.upper()
    if not text:
        raise ImportRejected("the file is empty", code="file_empty")
    if upper.startswith("OFXHEADER") or "<OFX>" in upper or "<?OFX" in upper:
        return "ofx"
    if text.startswith("<"):
        if "camt.053" in text or "<BkToCstmrStmt" in text:
            return "camt053"
        raise ImportRejected(
            "the file is XML but neither OFX nor a CAMT.053 bank-to-customer statement",
            code="format_unknown",
        )
    if upper.startswith(("!TYPE:", "!ACCOUNT", "!OPTION", "!CLEAR:")):
        return "qif"
    if _SWIFT_TAG_RE.match(text) or text.startswith(("{1:", "{2:", "{3:", "{4:")) or (_MT940_RE.search(text[:2000]) and ":61:" in text):
        return "mt940"
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if any(separator in first_line for separator in (",", ";", "\t")):
        return "csv"
    raise ImportRejected(
        "the file is not in a statement format this service reads (OFX/QFX, QIF, CSV, CAMT.053 or MT940)",
        code="format_unknown",
    )
