"""Finding flags: by budget, holder, funder, code, state and quarter."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.periods import parse_quarter
from ledger.store.tables import SupportPlanVersion
from ledger.store.tables.flags import Flag
from ledger.store.tables.plans import FundingLine as PlanFunding

FLAGS_PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class FlagFilter:
    budget_id: int | None = None
    holder_id: int | None = None
    funder_id: int | None = None
    code: str | None = None
    state: str | None = None
    quarter: str | None = None
    offset: int = 0
    limit: int = 200


def find_flags(session: Session, wanted: FlagFilter) -> list[Flag]:
    """Flags matching every filter given, newest cause first. A funder sees the flags of
    every budget it funds (a share of a jointly funded one included)."""
    query = select(Flag)
    if wanted.budget_id is not None:
        query = query.where(Flag.budget_id == wanted.budget_id)
    if wanted.holder_id is not None:
        query = query.where(Flag.holder_id == wanted.holder_id)
    if wanted.funder_id is not None:
        funded = (
            select(SupportPlanVersion.budget_id)
            .join(PlanFunding, PlanFunding.plan_version_id == SupportPlanVersion.id)
            .where(PlanFunding.funder_id == wanted.funder_id)
        )
        query = query.where((Flag.funder_id == wanted.funder_id) | Flag.budget_id.in_(funded))
    if wanted.code is not None:
        query = query.where(Flag.code == wanted.code)
    if wanted.state is not None:
        query = query.where(Flag.state == wanted.state)
    if wanted.quarter is not None:
        quarter = parse_quarter(wanted.quarter)
        query = query.where(Flag.occurred_on.between(quarter.starts_on, quarter.ends_on))
    query = query.order_by(Flag.occurred_on.desc(), Flag.id.desc()).offset(wanted.offset).limit(min(wanted.limit, FLAGS_PAGE_MAX))
    return list(session.scalars(query))
