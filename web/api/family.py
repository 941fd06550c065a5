"""The family's API: their budgets and each one's balance page, as JSON — only what the
balance page shows, nothing else (a family member's sign-in reaches no other endpoint but
asking for a review and, on a direct payment, sending statements and explaining flags).
Every read of a balance is recorded."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from ledger.access.log import FAMILY_BALANCE_PAGE, record_access
from ledger.access.visibility import require_budget
from ledger.store.tables.access import FamilyLink
from reports.balance_page import balance_page
from web.api.common import ERROR_RESPONSES, RecordId, amount_text, database
from web.auth import principal
from web.clock import ENGLAND, today_in_england

router = APIRouter(tags=["family"], responses=ERROR_RESPONSES)


def _json(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k.removesuffix("_pence"): _json(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if key.endswith("_pence") and isinstance(value, int):
        return amount_text(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.get("/family/budgets")
def family_budgets(request: Request) -> list[dict[str, Any]]:
    """The budgets linked to the signed-in family member (others: their own visible budgets' ids)."""
    who = principal(request)
    with database(request).read() as session:
        ids = session.scalars(select(FamilyLink.budget_id).where(FamilyLink.user_id == who.user_id).order_by(FamilyLink.budget_id)).all()
    return [{"budget_id": budget_id, "balance": f"/api/v1/family/budgets/{budget_id}"} for budget_id in ids]


@router.get("/family/budgets/{budget_id}")
def family_balance(budget_id: RecordId, request: Request) -> dict[str, Any]:
    """What the balance page shows: money for the year and how it was worked out, money
    left, the next payment, emergency money left, this month's spending, contacts."""
    who = principal(request)
    with database(request).read() as session:  # built without holding the write lock
        require_budget(session, who, budget_id)
        view = balance_page(session, budget_id, today=today_in_england(), now=datetime.now(ENGLAND))
    if who.is_family:
        with database(request).write() as session:
            record_access(session, who, action=FAMILY_BALANCE_PAGE, reason="read the balance through the API", budget_ids=[budget_id])
    body = _json(asdict(view))
    body["spent_this_month_total"] = amount_text(view.spent_this_month_pence)
    return body
