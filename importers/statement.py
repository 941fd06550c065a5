"""What every importer produces: a ``ParsedStatement`` holding ``StatementLine`` values.

An amount is ``moneyed.Money`` in the statement's currency, signed from the account
holder's side: money in is positive, money out negative. Dates are the day the bank or card
provider booked the line. ``line_no`` is the 1-based line of the file where the line's
record starts, and ``raw`` its text as it appears there: together with the file's name and
hash they trace a stored line back to the file (DESIGN.md §3, provenance).

A card line that carries a scheme or provider fee in a column of its own becomes two lines
with the same ``line_no``: the purchase (``part`` 0) and the fee (``part`` 1,
``is_fee``), so that the fee is counted as a fee, not as spend.

``ParsedStatement.lines`` is iterated once: for a large CSV file it is a generator that
reads the file as it goes (so a 100 MB file never sits in memory as a million objects), and
a line that cannot be read raises ``ImportRejected`` when the iteration reaches it.
Statement-level facts a format states (OFX's ledger balance, CAMT's and MT940's opening and
closing balances, the period) are on the statement; what can only be known by reading every
line (the period of a CSV file, its running balances) is worked out by
``importers.totals.StatementTotals`` as the lines go by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from moneyed import Money

FORMATS = ("ofx", "qif", "csv", "camt053", "mt940")


@dataclass(frozen=True, slots=True)
class AccountIdentifiers:
    """How the file names the account. UK banks: sort code (six digits, no dashes) and
    account number; ISO 20022 and SWIFT: IBAN and BIC; card providers: a masked card number
    or the provider's account id (``other``)."""

    sort_code: str | None = None
    account_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    other: str | None = None

    def describe(self) -> str:
        parts = []
        if self.sort_code:
            parts.append(f"sort code {self.sort_code[:2]}-{self.sort_code[2:4]}-{self.sort_code[4:]}")
        if self.account_number:
            parts.append(f"account {self.account_number}")
        if self.iban:
            parts.append(f"IBAN {self.iban}")
        if self.bic:
            parts.append(f"BIC {self.bic}")
        if self.other:
            parts.append(self.other)
        return ", ".join(parts) or "not named in the file"

    @property
    def is_empty(self) -> bool:
        return not any((self.sort_code, self.account_number, self.iban, self.bic, self.other))


@dataclass(frozen=True, slots=True)
class StatementLine:
    line_no: int
    posted_on: date
    amount: Money
    description: str
    payee: str | None = None
    mcc: str | None = None
    """Merchant category code, four digits, where the card provider gives it."""
    bank_id: str | None = None
    """The bank's own id for the transaction (OFX FITID, Monzo's Transaction ID, CAMT's
    AcctSvcrRef, MT940's bank reference), where the file has one."""
    balance: Money | None = None
    """The running balance after this line, where the file gives one."""
    kind: str | None = None
    """The bank's own type code or word, as written (``DEB``, ``FPI``, ``POS``, ``DIRECTDEBIT``)."""
    is_fee: bool = False
    part: int = 0
    raw: str = ""


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    format: str
    """One of ``FORMATS``."""
    currency: str
    """ISO 4217 code; every line is in it (a file with several is refused)."""
    lines: Iterable[StatementLine]
    account: AccountIdentifiers = field(default_factory=AccountIdentifiers)
    layout: str | None = None
    """For CSV: the name of the layout that read it."""
    period_start: date | None = None
    period_end: date | None = None
    opening_balance: Money | None = None
    closing_balance: Money | None = None
    closing_balance_on: date | None = None
    warnings: tuple[str, ...] = ()
    """Things worth telling a person that do not stop the import (a running balance that
    jumps, an OFX ledger balance dated before the last line)."""
