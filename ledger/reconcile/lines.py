"""A statement line as reconciliation sees it, how a match was made, and a line's match
before its rows are written: shared by automatic reconciliation, the search for combinations
and the people's steps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from ledger.core.entries import NewEntry, Provenance
from ledger.reconcile.categorise import Categorised

_FEE_KINDS = frozenset({"fee", "fees", "srvchg", "charge", "charges", "chg", "bank charge", "service charge"})
_LOAD_WORDS = re.compile(r"\b(load|loaded|top ?up|topup|funds? added|card funding)\b", re.IGNORECASE)


class MatchMethod:
    EXISTING_ENTRY = "existing_entry"
    BULK_LOADS = "bulk_loads"
    REMITTANCE = "remittance"
    RECEIVABLES = "receivables"
    PAYABLES = "payables"
    SPEND = "spend"
    REFUND = "refund"
    FEE = "fee"
    MANUAL = "manual"
    SPLIT = "split"

    POSTING_HERE = frozenset({SPEND, REFUND, FEE, SPLIT})


class Line(NamedTuple):
    """A stored statement line with what reconciliation needs of its import (a named tuple:
    a reconciliation makes one for every line, and a tuple is the cheapest to make)."""

    id: int
    account_id: int
    posted_on: date
    amount_pence: int
    description: str
    payee: str | None
    mcc: str | None
    kind: str | None
    is_fee: bool
    dedupe_key: str
    line_no: int
    file_name: str
    format: str
    layout: str | None

    @property
    def merchant(self) -> str:
        return self.payee or self.description

    @property
    def looks_like_fee(self) -> bool:
        return self.is_fee or (self.kind or "").strip().casefold() in _FEE_KINDS

    @property
    def looks_like_load(self) -> bool:
        return "load" in (self.kind or "").casefold() or bool(_LOAD_WORDS.search(f"{self.payee or ''} {self.description}"))

    def provenance(self) -> Provenance:
        return Provenance(self.file_name[:500], self.line_no, self.format, (self.layout or self.format)[:80])


@dataclass(slots=True)


class Decided:
    """A line's match, before its rows are written."""

    line: Line
    method: str
    parts: list[tuple[int | None, int, int | None, bool]]
    """(entry id or None while its entry is unposted, pence, budget id, posted here)."""
    entry: NewEntry | None = None
    category: Categorised | None = None
    budget_id: int | None = None


__all__ = ["Decided", "Line", "MatchMethod"]
