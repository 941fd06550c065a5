"""Which budgets a funder funds, as a subquery the funder reports filter by: the budgets it
leads, and those with a funding line for it in an agreed plan version (a share of a jointly
funded budget). A subquery, not a list of ids, so the database does the work whatever the
number of budgets."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from ledger.tables import Budget, SupportPlanVersion
from ledger.tables.plans import FundingLine
from ledger.vocabulary import PlanStatus


def funded_budget_ids(funder_id: int) -> Select:
    """``SELECT budget.id`` of every budget ``funder_id`` leads or has an agreed funding line in."""
    with_line = (
        select(SupportPlanVersion.budget_id)
        .join(FundingLine, FundingLine.plan_version_id == SupportPlanVersion.id)
        .where(FundingLine.funder_id == funder_id, SupportPlanVersion.status == PlanStatus.AGREED)
    )
    return select(Budget.id).where(or_(Budget.lead_funder_id == funder_id, Budget.id.in_(with_line)))


__all__ = ["funded_budget_ids"]
