"""What recording money in gives back: the receipt, contribution or attribution with its shares
(what went to each budget and instalment), and whether the call made it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class ShareView:
    budget_id: int | None
    """``None``: the holder's unallocated account."""
    budget_reference: str | None
    expected_payment_id: int | None
    due_on: date | None
    amount_pence: int


@dataclass(frozen=True, slots=True)
class ReceiptView:
    id: int
    holder_id: int
    funder_id: int
    funder_code: str
    received_on: date
    amount_pence: int
    reference: str
    by_remittance: bool
    entry_id: int
    created_by: str
    shares: list[ShareView]

    @property
    def unallocated_pence(self) -> int:
        return sum(share.amount_pence for share in self.shares if share.budget_id is None)


@dataclass(frozen=True, slots=True)
class AttributionView:
    id: int
    holder_id: int
    budget_id: int
    budget_reference: str
    funder_id: int | None
    attributed_on: date
    amount_pence: int
    reason: str
    entry_id: int
    created_by: str
    shares: list[ShareView]


@dataclass(frozen=True, slots=True)
class ContributionView:
    id: int
    budget_id: int
    budget_reference: str
    received_on: date
    amount_pence: int
    reference: str
    entry_id: int
    created_by: str
    shares: list[ShareView]


@dataclass(frozen=True, slots=True)
class Recorded:
    """A receipt, contribution or attribution, and whether this call made it (``False``:
    it was recorded before and this is the original)."""

    receipt: ReceiptView | ContributionView | AttributionView
    created: bool


__all__ = ["AttributionView", "ContributionView", "ReceiptView", "Recorded", "ShareView"]
