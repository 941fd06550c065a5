"""The append-only record of who saw which budget, when and why: every family view of a
balance and every auditor's export (a report, a return, an audit pack)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal
from ledger.store.tables.access import AccessRecord
from ledger.store.tables.base import utcnow

FAMILY_BALANCE_PAGE = "family_balance_page"
AUDITOR_EXPORT = "auditor_export"


def record_access(
    session: Session, principal: Principal, *, action: str, reason: str, budget_ids: Iterable[int] = (), funder_id: int | None = None
) -> int:
    """One row per budget seen (one row without a budget when none is named); returns how many."""
    at = utcnow()
    rows = [
        {"user_id": principal.user_id, "role": principal.role.value, "budget_id": budget_id, "funder_id": funder_id,
         "action": action, "reason": reason[:300], "at": at}
        for budget_id in sorted(set(budget_ids))
    ] or [{"user_id": principal.user_id, "role": principal.role.value, "budget_id": None, "funder_id": funder_id, "action": action,
           "reason": reason[:300], "at": at}]  # fmt: skip
    session.execute(insert(AccessRecord), rows)
    return len(rows)
