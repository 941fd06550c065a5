"""What the format tests' robustness properties share: a parser may refuse a file only with
an ``ImportRejected`` carrying a stable code, and every line it yields has a Money amount."""

from __future__ import annotations

import re
from collections.abc import Callable

from moneyed import Money

from importers import ImportRejected, ParsedStatement


def read_fully(read: Callable[[bytes], ParsedStatement], data: bytes) -> ParsedStatement | None:
    try:
        statement = read(data)
    except ImportRejected as rejected:
        assert rejected.code and re.fullmatch(r"[a-z0-9_]+", rejected.code)
        return None
    for line in statement.lines:
        assert isinstance(line.amount, Money)
    return statement
