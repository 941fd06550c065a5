"""Transition costs: what a first-year ISF spends before the person moves home (staff
recruited and trained in advance, say), and the comparison with the previous placement that
shows the saving from year two.

Transition costs are one-off plan lines in the ``transition`` category, possibly dated up
to a year before the plan period; they are spent against their own account
(``B:spend:transition``). Money planned for transition and not yet spent is never surplus:
weeks held and the surplus leave it out (``ledger.position.figures``).

The comparison: the year-one cost is the whole plan (transition included), the recurring
cost leaves out transition and every other one-off line. Year-one saving = previous
placement − year-one cost (often negative: the move costs money); year-two saving =
previous placement − recurring cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.position.figures import agreed_plan_in_force, budget_figures


@dataclass(frozen=True, slots=True)
class TransitionPosition:
    budget_id: int
    reference: str
    plan_version_id: int | None
    planned_pence: int
    spent_pence: int
    left_pence: int
    """Planned and not yet spent (never below zero): never counted as surplus."""
    overspent_pence: int
    """Spent beyond the plan's transition lines."""


@dataclass(frozen=True, slots=True)
class PlacementComparison:
    budget_id: int
    reference: str
    plan_version_id: int | None
    previous_placement_annual_cost_pence: int | None
    previous_placement_description: str | None
    year_one_cost_pence: int
    """The plan's total, transition and other one-off lines included."""
    transition_pence: int
    one_off_pence: int
    """One-off lines other than transition."""
    recurring_cost_pence: int
    year_one_saving_pence: int | None
    """Previous placement − year-one cost; None when the previous cost is not recorded."""
    year_two_saving_pence: int | None
    """Previous placement − recurring cost."""


def transition_position(session: Session, budget_id: int, *, as_of: date | None = None) -> TransitionPosition:
    budget = get_budget(session, budget_id)
    figures, plan = budget_figures(session, budget, as_of=as_of), agreed_plan_in_force(session, budget, as_of)
    spent = figures.transition_spent_pence
    return TransitionPosition(
        budget_id=budget.id,
        reference=budget.reference,
        plan_version_id=plan.version_id,
        planned_pence=figures.transition_planned_pence,
        spent_pence=spent,
        left_pence=figures.transition_left_pence,
        overspent_pence=max(0, spent - figures.transition_planned_pence),
    )


def placement_comparison(session: Session, budget_id: int) -> PlacementComparison:
    """The agreed plan in force (the latest) against the previous placement's annual cost."""
    budget = get_budget(session, budget_id)
    plan = agreed_plan_in_force(session, budget, None)
    recurring = plan.total_pence - plan.transition_pence - plan.one_off_pence
    previous = budget.previous_placement_annual_cost_pence
    return PlacementComparison(
        budget_id=budget.id,
        reference=budget.reference,
        plan_version_id=plan.version_id,
        previous_placement_annual_cost_pence=previous,
        previous_placement_description=budget.previous_placement_description,
        year_one_cost_pence=plan.total_pence,
        transition_pence=plan.transition_pence,
        one_off_pence=plan.one_off_pence,
        recurring_cost_pence=recurring,
        year_one_saving_pence=None if previous is None else previous - plan.total_pence,
        year_two_saving_pence=None if previous is None else previous - recurring,
    )
