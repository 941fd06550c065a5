"""Writing the cast and the plans through the ledger's services: funders, holders (and a
provider's own category), people and their representatives, budgets with parts and
contacts, and support plans — every first version agreed before its plan starts, every
later version drafted now and agreed when the story reaches its review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from ledger.budgets import budget as budgets
from ledger.budgets import parties, pauses, plans
from ledger.demo.book import CREATED_BY
from ledger.demo.cast import FUNDERS, PROVIDER_CATEGORIES, all_holders
from ledger.demo.dates import add_months
from ledger.demo.plan_figures import VersionFigures, version_figures
from ledger.demo.recipes import BudgetRecipe, HospitalStay

AGREED_AT = time(10, 0)
"""Plans are agreed at 10:00 UTC, the same day in England."""

Progress = Callable[[str, int, int], None]


@dataclass
class World:
    """What the set-up created, by code and reference, for the history to use."""

    funder_ids: dict[str, int] = field(default_factory=dict)
    funder_names: dict[str, str] = field(default_factory=dict)
    holder_ids: dict[str, int] = field(default_factory=dict)
    budget_ids: dict[str, int] = field(default_factory=dict)
    speaker_ids: dict[str, int] = field(default_factory=dict)
    """Budget reference → the representative who speaks for the person, where one does."""
    drafts: dict[tuple[str, int], int] = field(default_factory=dict)
    """(budget reference, version index) → plan version id, for versions agreed later."""
    recipes: dict[str, BudgetRecipe] = field(default_factory=dict)
    people: int = 0
    allocation_entries: int = 0
    allocation_postings: int = 0
    """What agreeing the plans posted (``ledger.budgets.allocation``: a pair per funder whose
    allocation changed, in one entry per version that changed any)."""

    def agree_later(self, session: Session, reference: str, index: int) -> None:
        self.agree(session, self.drafts[(reference, index)], self.recipes[reference], index)

    def pause_loads(self, session: Session, reference: str, stay: HospitalStay) -> None:
        """The day the person goes into hospital: no loads until they are home."""
        budget_id = self.budget_ids[reference]
        pauses.pause_budget(session, budget_id, starts_on=stay.starts_on, reason=stay.reason, recorded_by=stay.recorded_by)

    def resume_loads(self, session: Session, reference: str, stay: HospitalStay) -> None:
        """The day they come home: the pause ends with their last day in hospital."""
        (pause,) = [pause for pause in pauses.pauses_of(session, self.budget_ids[reference]) if pause.ends_on is None]
        pauses.end_pause(session, pause.id, ends_on=stay.ends_on, ended_by=stay.recorded_by)

    def agree(self, session: Session, version_id: int, recipe: BudgetRecipe, index: int) -> None:
        version = recipe.versions[index]
        plans.agree(
            session,
            version_id,
            agreed_by_name=version.agreed_by.name,
            agreed_by_role=version.agreed_by.role,
            agreed_at=datetime.combine(version.agreed_on, AGREED_AT),
            created_by=CREATED_BY,
        )
        now = version_figures(recipe, index).allocations
        before = version_figures(recipe, index - 1).allocations if index else {}
        changed = [funder for funder in now.keys() | before.keys() if now.get(funder, 0) != before.get(funder, 0)]
        if changed:
            self.allocation_entries += 1
            self.allocation_postings += 2 * len(changed)


def build_world(session: Session, recipes: Sequence[BudgetRecipe], *, today: date, progress: Progress) -> World:
    world = World(recipes={recipe.reference: recipe for recipe in recipes})
    for spec in FUNDERS:
        funder = parties.create_funder(session, spec)
        world.funder_ids[funder.code], world.funder_names[funder.code] = funder.id, funder.name
    for spec in all_holders():
        world.holder_ids[spec.code] = parties.create_holder(session, spec).id
    for holder, code, name, plain_name in PROVIDER_CATEGORIES:
        budgets.add_category(session, world.holder_ids[holder], code, name, plain_name)
    first_versions = []
    for done, recipe in enumerate(recipes, 1):
        first_versions.append((recipe, _create_budget(session, world, recipe, today)))
        progress("budgets", done, len(recipes))
    for recipe, version_id in sorted(first_versions, key=lambda pair: (pair[0].versions[0].agreed_on, pair[0].reference)):
        world.agree(session, version_id, recipe, 0)
    for recipe in recipes:
        for index in range(1, len(recipe.versions)):
            spec = _plan_spec(world, recipe, version_figures(recipe, index))
            world.drafts[(recipe.reference, index)] = plans.create_draft(session, world.budget_ids[recipe.reference], spec).id
    return world


def _create_budget(session: Session, world: World, recipe: BudgetRecipe, today: date) -> int:
    """The person, their representatives, the budget and its first plan version (a draft)."""
    who = recipe.person
    spec = parties.PersonSpec(who.name, who.date_of_birth, who.eligibility_group, who.preferred_name)
    person = parties.create_person(session, spec, today=today)
    world.people += 1
    for rep in who.representatives:
        rep_spec = parties.RepresentativeSpec(rep.name, rep.legal_basis, rep.relationship, rep.speaks_for_person, rep.email, rep.phone)
        added = parties.add_representative(session, person.id, rep_spec)
        if rep.speaks_for_person:
            world.speaker_ids[recipe.reference] = added.id
    budget = budgets.create_budget(
        session,
        budgets.BudgetSpec(
            reference=recipe.reference,
            holder_id=world.holder_ids[recipe.holder],
            person_id=person.id,
            lead_funder_id=world.funder_ids[recipe.lead_funder],
            period_start=recipe.period_start,
            period_end=recipe.period_end,
            parts=[budgets.PartSpec(p.management_option, p.holding, p.cadence, p.timing, p.initial_float_weeks) for p in recipe.parts],
            contacts=recipe.contacts,
            previous_placement_annual_cost_pence=recipe.previous_placement_annual_cost_pence,
            previous_placement_description=recipe.previous_placement_description,
        ),
    )
    world.budget_ids[recipe.reference] = budget.id
    return plans.create_draft(session, budget.id, _plan_spec(world, recipe, version_figures(recipe, 0))).id


def _plan_spec(world: World, recipe: BudgetRecipe, figures: VersionFigures) -> plans.PlanVersionSpec:
    version = figures.recipe
    parts = {part.key: part for part in recipe.parts}
    return plans.PlanVersionSpec(
        effective_from=version.effective_from,
        total_pence=figures.total_pence,
        funding_lines=[plans.FundingLineSpec(world.funder_ids[f], amount, contribution) for f, amount, contribution in figures.funding],
        lines=[line.spec for line in figures.lines],
        parts=[plans.PartAmountSpec(parts[key].management_option, parts[key].holding, amount) for key, amount in figures.part_amounts],
        contingency_pence=version.contingency_pence,
        top_slice_basis_points=version.top_slice_basis_points,
        top_slice_fixed_pence=version.top_slice_fixed_pence,
        outcomes=version.outcomes,
        speaks_for_representative_id=world.speaker_ids.get(recipe.reference),
        review_every_months=version.review_every_months,
        next_review_on=add_months(version.effective_from, version.review_every_months),
        change_reason=version.change_reason,
    )
