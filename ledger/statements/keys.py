"""How a statement line is recognised when a file brings it again (pure).

Re-importing a file, or importing an overlapping one (last month's file shares a week with
this month's), must store each real transaction once:

- where the bank gives its own transaction id, the key is that id (``id:<bank id>``);
- otherwise a content key: the day, the amount, the description and payee (case and spacing
  ignored) and the row part, hashed — plus the *occurrence*: the n-th line with the same
  content in this file gets ``#n``. Two genuinely identical purchases on one day (two £2.50
  coffees) are two lines in every file that holds that day, so they keep two keys, while the
  same day seen again in the next month's file maps onto the same two keys.

A bank id that repeats inside one file (some banks reuse ids for a transaction and its fee)
gets the occurrence suffix too. Keys are per ledger account: the same id on two accounts is
two lines.
"""

from __future__ import annotations

import hashlib
from datetime import date

KEY_LENGTH_MAX = 80
_BANK_ID_SHOWN_MAX = 60


class LineKeys:
    """Gives each line of one file its key; one instance per file."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def key(
        self,
        *,
        posted_on: date,
        amount_pence: int,
        description: str,
        payee: str | None,
        part: int,
        bank_id: str | None,
    ) -> str:
        if bank_id:
            base = f"id:{bank_id}" if len(bank_id) <= _BANK_ID_SHOWN_MAX else f"id#{_digest(bank_id)}"
            if part:
                base += f"/{part}"
        else:
            content = f"{posted_on.isoformat()}\x1f{amount_pence}\x1f{_normal(description)}\x1f{_normal(payee or '')}\x1f{part}"
            base = f"c:{_digest(content)}"
        occurrence = self._seen.get(base, 0) + 1
        self._seen[base] = occurrence
        key = base if occurrence == 1 else f"{base}#{occurrence}"
        assert len(key) <= KEY_LENGTH_MAX
        return key


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
