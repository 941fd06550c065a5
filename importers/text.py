"""Turning a file's bytes into text, with errors that name the line.

UK bank exports are UTF-8 (often with a byte-order mark) or Windows-1252 (where ``£`` is
byte 0xA3). Without a declared encoding we try UTF-8 first and fall back to Windows-1252;
a declared one that Python does not know, or bytes that are not valid in it, are refused
with the line where the first bad byte is.
"""

from __future__ import annotations

import codecs

from importers.errors import ImportRejected

FALLBACK_ENCODINGS = ("utf-8", "cp1252")


def known_encoding(name: str, *, field: str = "encoding") -> str:
    try:
        return codecs.lookup(name.strip()).name
    except (LookupError, ValueError):
        raise ImportRejected(f"{name!r} is not an encoding this service knows", code="encoding_unknown", field=field) from None


def decode(data: bytes, encoding: str | None = None) -> str:
    """``data`` as text, without a byte-order mark."""
    if encoding is not None:
        return _decode_as(data, known_encoding(encoding))
    if data.startswith(codecs.BOM_UTF8):
        return _decode_as(data, "utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _decode_as(data, "cp1252")


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportRejected(
            f"byte 0x{data[error.start]:02X} is not valid {encoding} text", code="encoding_invalid", line=line
        ) from None
    return text.removeprefix("\ufeff")


def line_at(text: str, offset: int) -> int:
    """The 1-based line number of character ``offset`` of ``text``."""
    return text.count("\n", 0, offset) + 1
