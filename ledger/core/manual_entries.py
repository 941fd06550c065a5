"""Entries people post by hand: a manual entry or a named adjustment, never an entry of the
kind the ledger's own services post, and never under a key those services use.

Every service's idempotency key starts with its own prefix and a colon
(``drawdown:part-4:2026-12-21``); the prefixes are reserved here. A key chosen by a person
that took one of them would claim a load, a payment or an allocation before the service made
it: the service's own run would then find its key taken by other content and stop. A person's
entry is kind ``manual`` or one of the adjustments below; the kinds the services post
(a card load, a funder's payment, an allocation) are theirs alone, so that every figure read by
kind (money received, loads made) counts only what the services recorded.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ledger.core.entries import NewEntry, PostResult
from ledger.core.journal import post_entry, reverse_entry
from ledger.core.vocabulary import EntryKind
from ledger.errors import InvalidInput

MANUAL_KINDS = frozenset({EntryKind.MANUAL, EntryKind.TRANSFER, EntryKind.FEE})
"""What a person may post by hand: a correction, money moved between a budget's own accounts
(a card topped up outside the schedule), a bank or card fee."""

SYSTEM_KEY_PREFIXES = frozenset({
    "allocation", "budget", "contingency-ring-fence", "contingency-use", "contribution", "demo", "drawdown", "flag-recovery",
    "funder-receipt", "money-identified", "notional", "payable", "recategorise", "reconcile", "reconcile-split", "top-slice",
    "unmatch",
})  # fmt: skip
"""The prefixes (before the first colon) of the keys the ledger's services, the demo and the
scheduler post under. A new service adds its prefix here (a test reads every entry the demo
posts and fails on a key with a prefix this set lacks)."""


def key_prefix(key: str) -> str | None:
    head, colon, _ = key.partition(":")
    return head.strip().casefold() if colon else None


def check_manual_key(key: str, field: str = "idempotency_key") -> None:
    prefix = key_prefix(key) if isinstance(key, str) else None
    if prefix in SYSTEM_KEY_PREFIXES:
        raise InvalidInput(
            f"{field} {key!r} starts with {prefix!r}:, which the ledger's own {prefix} entries use; choose a key of your own"
            " (for example without that prefix)",
            code="idempotency_key_reserved",
            field=field,
        )


def check_manual_kind(kind: str, field: str = "kind") -> None:
    if kind not in MANUAL_KINDS:
        allowed = ", ".join(sorted(MANUAL_KINDS))
        raise InvalidInput(
            f"an entry posted by hand is {allowed}; {str(kind)!r} entries are posted by the ledger's own services", code="kind_reserved", field=field
        )


def post_manual_entry(session: Session, entry: NewEntry) -> PostResult:
    """Post an entry a person wrote: as ``post_entry``, once its kind and key are a person's to use."""
    check_manual_kind(entry.kind)
    check_manual_key(entry.idempotency_key)
    return post_entry(session, entry)


def reverse_by_hand(
    session: Session, entry_id: int, *, entry_date: date, idempotency_key: str, created_by: str, description: str | None = None
) -> PostResult:
    """A person's reversal of an entry, under a key of their own."""
    check_manual_key(idempotency_key)
    return reverse_entry(
        session, entry_id, entry_date=entry_date, idempotency_key=idempotency_key, created_by=created_by, description=description
    )


__all__ = ["MANUAL_KINDS", "SYSTEM_KEY_PREFIXES", "check_manual_key", "check_manual_kind", "key_prefix", "post_manual_entry", "reverse_by_hand"]
