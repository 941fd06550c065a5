"""Quick ways to set up the parties, budgets and agreed plans a test needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from ledger.budgets import budget as budgets
from ledger.budgets import parties, plans
from ledger.core import accounts
from ledger.store.tables import Budget, Funder, Holder, Person, SupportPlanVersion

TODAY = date(2026, 11, 24)
PLAN_START = date(2026, 4, 1)
PLAN_END = date(2027, 3, 31)
AGREED_AT = datetime(2026, 3, 20, 10, 0)


@dataclass
class World:
    icb: Funder
    council: Funder
    holder: Holder
    person: Person
    budget: Budget
    version: SupportPlanVersion | None

    def account_id(self, session: Session, suffix: str, budget: Budget | None = None) -> int:
        code = f"{(budget or self.budget).reference}:{suffix}"
        return accounts.account_ids_by_code(session, [code])[code]


def make_world(
    session: Session,
    *,
    reference: str = "ISF-0001",
    total_pence: int = 5_200_000,
    council_pence: int = 2_000_000,
    contribution_pence: int = 0,
    agree: bool = True,
) -> World:
    icb = parties.create_funder(session, parties.FunderSpec("icb-devon", "NHS Devon ICB", "icb"))
    council = parties.create_funder(
        session, parties.FunderSpec("plymouth-asc", "Plymouth City Council", "council_adult_social_care")
    )
    holder = parties.create_holder(session, parties.HolderSpec("sunrise", "Sunrise Support", "isf_provider"))
    person = make_person(session)
    budget = make_budget(session, holder, person, icb, reference=reference)
    funding = [(icb, total_pence - council_pence, 0)]
    if council_pence:
        funding.append((council, council_pence, contribution_pence))
    version = make_plan(session, budget, funding, total_pence=total_pence, agree=agree)
    return World(icb, council, holder, person, budget, version)


def make_person(session: Session, name: str = "Alex Smith") -> Person:
    return parties.create_person(
        session, parties.PersonSpec(name, date(1990, 5, 1), "learning_disability_autism"), today=TODAY
    )


def make_budget(
    session: Session,
    holder: Holder,
    person: Person,
    lead_funder: Funder,
    *,
    reference: str,
    parts: tuple[budgets.PartSpec, ...] = (budgets.PartSpec("third_party", "prepaid_card"),),
) -> Budget:
    return budgets.create_budget(
        session,
        budgets.BudgetSpec(
            reference=reference,
            holder_id=holder.id,
            person_id=person.id,
            lead_funder_id=lead_funder.id,
            period_start=PLAN_START,
            period_end=PLAN_END,
            parts=parts,
        ),
    )


def make_plan(
    session: Session,
    budget: Budget,
    funding: list[tuple[Funder, int, int]],
    *,
    total_pence: int,
    contingency_pence: int = 100_000,
    agree: bool = True,
    effective_from: date = PLAN_START,
) -> SupportPlanVersion:
    """A plan whose lines take whatever contingency leaves: one staff line and one activity."""
    staff = total_pence - contingency_pence - 50_000
    version = plans.create_draft(
        session,
        budget.id,
        plans.PlanVersionSpec(
            effective_from=effective_from,
            total_pence=total_pence,
            funding_lines=[plans.FundingLineSpec(f.id, amount, contribution) for f, amount, contribution in funding],
            lines=[
                plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=staff),
                plans.PlanLineSpec("activities", "Swimming", "recurring", annual_amount_pence=50_000),
            ],
            contingency_pence=contingency_pence,
        ),
    )
    if agree:
        plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)
    return version
