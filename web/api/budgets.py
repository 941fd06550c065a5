"""Budgets: create and read them, with their parts, contacts, accounts and categories."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ledger.access import visibility as access
from ledger.budgets import budget as budgets
from ledger.budgets import parties, plans
from ledger.core import accounts as chart
from ledger.core.vocabulary import Cadence, ContactRole, DrawdownTiming, Holding, ManagementOption
from ledger.store.tables import Account, Budget, BudgetContact, BudgetPart, Category
from web.api.common import ERROR_RESPONSES, AmountPence, Int, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database
from web.auth import principal

router = APIRouter(tags=["budgets"], responses=ERROR_RESPONSES)


class PartIn(Schema):
    management_option: ManagementOption
    holding: Holding = Field(description="'none' for a notional part")
    cadence: Cadence = Cadence.WEEKLY
    timing: DrawdownTiming = DrawdownTiming.IN_ADVANCE
    initial_float_weeks: Int = Field(default=0, ge=0, le=52)


class ContactIn(Schema):
    role: ContactRole
    name: str = Field(max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)


class BudgetIn(Schema):
    reference: str = Field(max_length=32, examples=["ISF-0007"], description="Upper-case letters, digits and hyphens")
    holder_id: Int = Field(ge=1, le=2_147_483_647)
    person_id: Int = Field(ge=1, le=2_147_483_647)
    lead_funder_id: Int = Field(ge=1, le=2_147_483_647)
    period_start: IsoDate
    period_end: IsoDate = Field(description="Last day of the plan period")
    parts: list[PartIn] = Field(min_length=1, max_length=6)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    previous_placement_annual_cost: AmountPence | None = None
    previous_placement_description: str | None = Field(default=None, max_length=300)


class CategoryIn(Schema):
    code: str = Field(max_length=40, examples=["music_lessons"])
    name: str = Field(max_length=120)
    plain_name: str | None = Field(default=None, max_length=120, description="Plain words for families")


class PartOut(BaseModel):
    id: int
    management_option: str
    holding: str
    cadence: str
    timing: str
    initial_float_weeks: int

    @classmethod
    def of(cls, part: BudgetPart) -> PartOut:
        return cls.model_validate(part, from_attributes=True)


class ContactOut(BaseModel):
    id: int
    role: str
    name: str
    organisation: str | None
    phone: str | None
    email: str | None

    @classmethod
    def of(cls, contact: BudgetContact) -> ContactOut:
        return cls.model_validate(contact, from_attributes=True)


class BudgetSummary(BaseModel):
    id: int
    reference: str
    holder_id: int
    person_id: int
    lead_funder_id: int
    period_start: date
    period_end: date
    status: str
    created_at: UtcTimestamp

    @classmethod
    def of(cls, budget: Budget) -> BudgetSummary:
        return cls.model_validate(budget, from_attributes=True)


class BudgetOut(BudgetSummary):
    previous_placement_annual_cost: str | None
    previous_placement_description: str | None
    parts: list[PartOut]
    contacts: list[ContactOut]
    agreed_plan_version_id: int | None = Field(description="The latest agreed support plan version, if any")
    draft_plan_version_id: int | None


class AccountOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    type: str
    budget_id: int | None
    funder_id: int | None
    is_person_contribution: bool
    category_id: int | None

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls.model_validate(account, from_attributes=True)


class CategoryOut(BaseModel):
    id: int
    code: str
    name: str
    plain_name: str
    holder_id: int | None = Field(description="null for the standard list")

    @classmethod
    def of(cls, category: Category) -> CategoryOut:
        return cls.model_validate(category, from_attributes=True)


def budget_out(session, budget: Budget) -> BudgetOut:  # type: ignore[no-untyped-def]
    versions = plans.versions_of(session, budget.id)
    agreed = [v for v in versions if v.status == "agreed"]
    drafts = [v for v in versions if v.status == "draft"]
    cost = budget.previous_placement_annual_cost_pence
    return BudgetOut(
        **BudgetSummary.of(budget).model_dump(),
        previous_placement_annual_cost=amount_text(cost) if cost is not None else None,
        previous_placement_description=budget.previous_placement_description,
        parts=[PartOut.of(p) for p in budgets.parts_of(session, budget.id)],
        contacts=[ContactOut.of(c) for c in budgets.contacts_of(session, budget.id)],
        agreed_plan_version_id=agreed[-1].id if agreed else None,
        draft_plan_version_id=drafts[-1].id if drafts else None,
    )


@router.post("/budgets", status_code=201, response_model=BudgetOut)
def create_budget(body: BudgetIn, request: Request) -> BudgetOut:
    spec = budgets.BudgetSpec(
        reference=body.reference,
        holder_id=body.holder_id,
        person_id=body.person_id,
        lead_funder_id=body.lead_funder_id,
        period_start=body.period_start,
        period_end=body.period_end,
        parts=[budgets.PartSpec(p.management_option, p.holding, p.cadence, p.timing, p.initial_float_weeks) for p in body.parts],
        contacts=[budgets.ContactSpec(c.role, c.name, c.organisation, c.phone, c.email) for c in body.contacts],
        previous_placement_annual_cost_pence=body.previous_placement_annual_cost,
        previous_placement_description=body.previous_placement_description,
    )
    with database(request).write() as session:
        budget = budgets.create_budget(session, spec)
        out = budget_out(session, budget)
    return out


@router.get("/budgets", response_model=list[BudgetSummary])
def list_budgets(request: Request, holder_id: int | None = Query(default=None, ge=1, le=2_147_483_647)) -> list[BudgetSummary]:
    with database(request).read() as session:
        scope = access.visible_budget_ids(principal(request))
        visible = None if scope is None else set(session.scalars(scope))
        return [BudgetSummary.of(b) for b in budgets.list_budgets(session, holder_id=holder_id) if visible is None or b.id in visible]


@router.get("/budgets/{budget_id}", response_model=BudgetOut)
def get_budget(budget_id: RecordId, request: Request) -> BudgetOut:
    with database(request).read() as session:
        return budget_out(session, budgets.get_budget(session, budget_id))


@router.post("/budgets/{budget_id}/contacts", status_code=201, response_model=ContactOut)
def add_contact(budget_id: RecordId, body: ContactIn, request: Request) -> ContactOut:
    with database(request).write() as session:
        budgets.get_budget(session, budget_id)
        contact = budgets.add_contact(
            session, budget_id, budgets.ContactSpec(body.role, body.name, body.organisation, body.phone, body.email)
        )
    return ContactOut.of(contact)


@router.get("/budgets/{budget_id}/accounts", response_model=list[AccountOut])
def list_budget_accounts(budget_id: RecordId, request: Request) -> list[AccountOut]:
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        return [AccountOut.of(a) for a in chart.budget_accounts(session, budget_id)]


@router.post("/holders/{holder_id}/categories", status_code=201, response_model=CategoryOut)
def add_category(holder_id: RecordId, body: CategoryIn, request: Request) -> CategoryOut:
    with database(request).write() as session:
        category = budgets.add_category(session, holder_id, body.code, body.name, body.plain_name)
    return CategoryOut.of(category)


@router.get("/holders/{holder_id}/categories", response_model=list[CategoryOut])
def list_categories(holder_id: RecordId, request: Request) -> list[CategoryOut]:
    with database(request).read() as session:
        parties.get_holder(session, holder_id)
        return [CategoryOut.of(c) for c in chart.categories_for_holder(session, holder_id)]


@router.get("/holders/{holder_id}/accounts", response_model=list[AccountOut])
def list_holder_accounts(holder_id: RecordId, request: Request) -> list[AccountOut]:
    with database(request).read() as session:
        parties.get_holder(session, holder_id)
        return [AccountOut.of(a) for a in chart.holder_accounts(session, holder_id)]
