"""How statements name the account they are for, read the same way by every format.

An IBAN (its check digits verified; a UK one, ``GBkk BANK SSSSSS AAAAAAAA``, also gives the
sort code and account number), a UK sort code and account number as banks write them
(``309634 12345678``, ``30-96-34-12345678``, ``309634/12345678``), or anything else, kept
as written. One import is for one account: a file naming several is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from importers.errors import ImportRejected
from importers.statement import AccountIdentifiers

_IBAN_RE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_UK_ACCOUNT_RE = re.compile(r"([0-9]{2})-?([0-9]{2})-?([0-9]{2})[ /-]?([0-9]{8})")


def account_identifiers(text: str) -> AccountIdentifiers:
    written = " ".join(text.split())
    compact = written.replace(" ", "").upper()
    if _IBAN_RE.fullmatch(compact) and iban_checks(compact):
        if compact.startswith("GB") and len(compact) == 22:
            return AccountIdentifiers(sort_code=compact[8:14], account_number=compact[14:], iban=compact)
        return AccountIdentifiers(iban=compact)
    uk = _UK_ACCOUNT_RE.fullmatch(written)
    if uk:
        return AccountIdentifiers(sort_code="".join(uk.groups()[:3]), account_number=uk[4])
    return AccountIdentifiers(other=written or None)


def iban_checks(iban: str) -> bool:
    """ISO 13616: the IBAN, rearranged and read as a number, leaves 1 when divided by 97."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1


def refuse_several_accounts(accounts: Iterable[AccountIdentifiers]) -> None:
    """Refuse a file whose statements name more than one account (a BIC alone differing
    does not make another account)."""
    distinct = list(dict.fromkeys(replace(account, bic=None) for account in accounts))
    if len(distinct) > 1:
        raise ImportRejected(
            "the file holds statements for more than one account ("
            + "; ".join(account.describe() for account in distinct)
            + "); import one file per account",
            code="several_accounts",
        )
