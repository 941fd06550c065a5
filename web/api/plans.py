"""Support plan versions: write a draft, change it, agree it (which posts the allocation)."""

from __future__ import annotations

import re
from datetime import UTC, date
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, Field, StrictStr
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from ledger.budgets import budget as budgets
from ledger.budgets import plans
from ledger.budgets.parties import get_funder
from ledger.core.vocabulary import Holding, ManagementOption, PlanLineKind
from ledger.errors import InvalidInput
from ledger.store.tables import Category, SupportPlanVersion
from web.api.common import ERROR_RESPONSES, AmountPence, Int, IsoDate, IsoTimestamp, RecordId, Schema, UtcTimestamp, amount_text, database
from web.auth import principal

router = APIRouter(tags=["plans"], responses=ERROR_RESPONSES)

_HUNDREDTHS_RE = re.compile(r"([0-9]{1,4})(?:\.([0-9]{1,2}))?")


def _hundredths(value: str) -> int:
    match = _HUNDREDTHS_RE.fullmatch(value.strip())
    if match is None:
        raise PydanticCustomError("number_malformed", "write it as a number with at most two decimals, e.g. 7.5")
    return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))


def _percent(value: str) -> int:
    points = _hundredths(value)
    if points > 10_000:
        raise PydanticCustomError("percent_out_of_range", "a percentage is at most 100")
    return points


Hundredths = Annotated[StrictStr, Field(max_length=10, examples=["7.5"]), AfterValidator(_hundredths)]
Percent = Annotated[StrictStr, Field(max_length=10, examples=["8"], description="Percent, up to two decimals"), AfterValidator(_percent)]


class FundingLineIn(Schema):
    funder_id: Int = Field(ge=1, le=2_147_483_647)
    amount: AmountPence = Field(description="This funder's share of the budget for the plan period")
    client_contribution: AmountPence = Field(default=0, description="Social-care lines only: what the person pays of this line")


class PartAmountIn(Schema):
    management_option: ManagementOption
    holding: Holding
    amount: AmountPence


class TopSliceIn(Schema):
    percent: Percent | None = None
    amount: AmountPence | None = None


class PlanLineIn(Schema):
    category: str = Field(max_length=40, examples=["staff_pay"])
    description: str = Field(max_length=500)
    kind: PlanLineKind
    annual_amount: AmountPence | None = Field(default=None, description="Recurring: the amount for the plan period")
    weekly_hours: Hundredths | None = Field(default=None, description="Recurring: hours a week (with hourly_rate and weeks)")
    hourly_rate: AmountPence | None = None
    weeks: Int | None = Field(default=None, ge=1, le=53)
    amount: AmountPence | None = Field(default=None, description="One-off: the amount")
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    management_option: ManagementOption | None = Field(default=None, description="Which part pays for this line (optional)")
    holding: Holding | None = None


class PlanVersionIn(Schema):
    effective_from: IsoDate
    total: AmountPence
    funding_lines: list[FundingLineIn] = Field(min_length=1, max_length=10)
    parts: list[PartAmountIn] = Field(default_factory=list, max_length=6, description="Needed when the budget has several parts")
    contingency: AmountPence = 0
    top_slice: TopSliceIn | None = None
    lines: list[PlanLineIn] = Field(max_length=200)
    outcomes: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=50)
    speaks_for_representative_id: Int | None = Field(default=None, ge=1, le=2_147_483_647)
    review_every_months: Int | None = Field(default=None, ge=1, le=24)
    cash_withdrawal_daily_cap: AmountPence | None = Field(
        default=None, description="Cash from machines is allowed only if set: at most this much a day"
    )
    next_review_on: IsoDate | None = None
    change_reason: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=4000)

    def spec(self) -> plans.PlanVersionSpec:
        top_slice = self.top_slice or TopSliceIn()
        return plans.PlanVersionSpec(
            effective_from=self.effective_from,
            total_pence=self.total,
            funding_lines=[plans.FundingLineSpec(f.funder_id, f.amount, f.client_contribution) for f in self.funding_lines],
            lines=[
                plans.PlanLineSpec(
                    category=line.category,
                    description=line.description,
                    kind=line.kind,
                    annual_amount_pence=line.annual_amount,
                    weekly_hours_hundredths=line.weekly_hours,
                    hourly_rate_pence=line.hourly_rate,
                    weeks=line.weeks,
                    amount_pence=line.amount,
                    starts_on=line.starts_on,
                    ends_on=line.ends_on,
                    management_option=line.management_option,
                    holding=line.holding,
                )
                for line in self.lines
            ],
            parts=[plans.PartAmountSpec(p.management_option, p.holding, p.amount) for p in self.parts],
            contingency_pence=self.contingency,
            top_slice_basis_points=top_slice.percent,
            top_slice_fixed_pence=top_slice.amount,
            outcomes=self.outcomes,
            speaks_for_representative_id=self.speaks_for_representative_id,
            review_every_months=self.review_every_months,
            cash_withdrawal_daily_cap_pence=self.cash_withdrawal_daily_cap,
            next_review_on=self.next_review_on,
            change_reason=self.change_reason,
            notes=self.notes,
        )


class AgreeIn(Schema):
    """Agreeing a plan is the funder's decision. A funder's user agrees it as itself (the
    fields below are then optional); a holder's admin records an agreement the funder made,
    and then names who agreed, when, and the document that shows it."""

    agreed_by_name: str | None = Field(default=None, max_length=200, description="The funder's person who agreed it")
    agreed_by_role: str | None = Field(default=None, max_length=200, examples=["ICB personal health budget manager"])
    agreed_at: IsoTimestamp | None = Field(default=None, description="When it was agreed (required when recorded for the funder); default now")
    agreement_funder_id: Int | None = Field(default=None, ge=1, le=2_147_483_647, description="Whose decision it was (a funder of the plan); default the lead funder")
    document: str | None = Field(
        default=None, max_length=500, description="What shows the funder agreed (a letter, the panel's minutes); required when recorded for the funder"
    )


class FundingLineOut(BaseModel):
    funder_id: int
    amount: str
    client_contribution: str
    funder_pays: str


class PartAmountOut(BaseModel):
    part_id: int
    management_option: str
    holding: str
    amount: str


class PlanLineOut(BaseModel):
    position: int
    category: str
    description: str
    kind: str
    amount: str = Field(description="The line's cost over the plan period")
    annual_amount: str | None
    weekly_hours: str | None
    hourly_rate: str | None
    weeks: int | None
    starts_on: date | None
    ends_on: date | None
    part_id: int | None


class PlanVersionOut(BaseModel):
    id: int
    budget_id: int
    version: int
    status: str
    effective_from: date
    total: str
    contingency: str
    top_slice: str
    top_slice_percent: str | None
    funding_lines: list[FundingLineOut]
    parts: list[PartAmountOut]
    lines: list[PlanLineOut]
    outcomes: list[str]
    speaks_for_representative_id: int | None
    review_every_months: int | None
    cash_withdrawal_daily_cap: str | None
    next_review_on: date | None
    change_reason: str | None
    notes: str | None
    created_at: UtcTimestamp
    agreed_by_name: str | None
    agreed_by_role: str | None
    agreed_at: UtcTimestamp | None
    agreement_funder_id: int | None
    agreement_document: str | None
    agreement_recorded_by: str | None


def _hundredths_text(value: int | None) -> str | None:
    return None if value is None else f"{value // 100}.{value % 100:02d}"


def _optional_amount(pence: int | None) -> str | None:
    return None if pence is None else amount_text(pence)


def version_out(session, version: SupportPlanVersion) -> PlanVersionOut:  # type: ignore[no-untyped-def]
    view = plans.view(session, version)
    codes = dict(session.execute(select(Category.id, Category.code)).all())
    return PlanVersionOut(
        id=version.id,
        budget_id=version.budget_id,
        version=version.version,
        status=version.status,
        effective_from=version.effective_from,
        total=amount_text(version.total_pence),
        contingency=amount_text(version.contingency_pence),
        top_slice=amount_text(version.top_slice_pence),
        top_slice_percent=_hundredths_text(version.top_slice_basis_points),
        funding_lines=[
            FundingLineOut(
                funder_id=f.funder_id,
                amount=amount_text(f.amount_pence),
                client_contribution=amount_text(f.client_contribution_pence),
                funder_pays=amount_text(f.amount_pence - f.client_contribution_pence),
            )
            for f in view.funding_lines
        ],
        parts=[PartAmountOut(part_id=p.id, management_option=p.management_option, holding=p.holding, amount=amount_text(a.amount_pence)) for p, a in view.parts],
        lines=[
            PlanLineOut(
                position=line.position,
                category=codes[line.category_id],
                description=line.description,
                kind=line.kind,
                amount=amount_text(line.amount_pence),
                annual_amount=_optional_amount(line.annual_amount_pence),
                weekly_hours=_hundredths_text(line.weekly_hours_hundredths),
                hourly_rate=_optional_amount(line.hourly_rate_pence),
                weeks=line.weeks,
                starts_on=line.starts_on,
                ends_on=line.ends_on,
                part_id=line.budget_part_id,
            )
            for line in view.lines
        ],
        outcomes=[o.description for o in view.outcomes],
        speaks_for_representative_id=version.speaks_for_representative_id,
        review_every_months=version.review_every_months,
        cash_withdrawal_daily_cap=_optional_amount(version.cash_withdrawal_daily_cap_pence),
        next_review_on=version.next_review_on,
        change_reason=version.change_reason,
        notes=version.notes,
        created_at=version.created_at,
        agreed_by_name=version.agreed_by_name,
        agreed_by_role=version.agreed_by_role,
        agreed_at=version.agreed_at,
        agreement_funder_id=version.agreement_funder_id,
        agreement_document=version.agreement_document,
        agreement_recorded_by=version.agreement_recorded_by,
    )


@router.post("/budgets/{budget_id}/plan-versions", status_code=201, response_model=PlanVersionOut)
def create_draft(budget_id: RecordId, body: PlanVersionIn, request: Request) -> PlanVersionOut:
    with database(request).write() as session:
        out = version_out(session, plans.create_draft(session, budget_id, body.spec()))
    return out


@router.get("/budgets/{budget_id}/plan-versions", response_model=list[PlanVersionOut])
def list_versions(budget_id: RecordId, request: Request) -> list[PlanVersionOut]:
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        return [version_out(session, v) for v in plans.versions_of(session, budget_id)]


@router.get("/plan-versions/{version_id}", response_model=PlanVersionOut)
def get_version(version_id: RecordId, request: Request) -> PlanVersionOut:
    with database(request).read() as session:
        return version_out(session, plans.get_version(session, version_id))


@router.put("/plan-versions/{version_id}", response_model=PlanVersionOut)
def replace_draft(version_id: RecordId, body: PlanVersionIn, request: Request) -> PlanVersionOut:
    with database(request).write() as session:
        out = version_out(session, plans.replace_draft(session, version_id, body.spec()))
    return out


@router.post("/plan-versions/{version_id}/agree", response_model=PlanVersionOut)
def agree(version_id: RecordId, body: AgreeIn, request: Request) -> PlanVersionOut:
    """Agree a draft: its allocation is posted and card loads follow it. A funder's user
    agrees it; a holder's admin records the funder's agreement (who, when, the document);
    a holder's staff cannot (403)."""
    who = principal(request)
    agreed_at = body.agreed_at
    if agreed_at is not None and agreed_at.tzinfo is not None:
        agreed_at = agreed_at.astimezone(UTC).replace(tzinfo=None)
    with database(request).write() as session:
        if who.is_auditor:
            funder = get_funder(session, who.funder_id)  # type: ignore[arg-type]
            if body.agreement_funder_id not in (None, funder.id):
                raise InvalidInput("a funder's user agrees for its own funder", code="agreement_funder_not_yours", field="agreement_funder_id")
            name, role, funder_id = who.display_name, body.agreed_by_role or f"for {funder.name}", funder.id
        else:
            for field in ("agreed_by_name", "agreed_by_role", "agreed_at", "document"):
                if not getattr(body, field):
                    raise InvalidInput(
                        f"{field} is required: recording a funder's agreement names who agreed, their role, when, and the document that shows it",
                        code="field_required", field=field,
                    )  # fmt: skip
            name, role, funder_id = body.agreed_by_name, body.agreed_by_role, body.agreement_funder_id
        version = plans.agree(
            session, version_id, agreed_by_name=name, agreed_by_role=role, agreed_at=agreed_at,  # type: ignore[arg-type]
            created_by=who.signature, funder_id=funder_id, document=body.document,
        )  # fmt: skip
        out = version_out(session, version)
    return out


@router.post("/plan-versions/{version_id}/withdraw", response_model=PlanVersionOut)
def withdraw(version_id: RecordId, body: None = None, *, request: Request) -> PlanVersionOut:
    with database(request).write() as session:
        out = version_out(session, plans.withdraw_draft(session, version_id))
    return out
