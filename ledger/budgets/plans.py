"""Support plans, versioned: write a draft, agree it, and only then does money move.

A version states the whole plan period. Its money must add up, exactly, to the penny:

    Σ funding lines = Σ part amounts = total
    Σ plan lines + contingency + top-slice = total

Agreeing a version (who, in what role, when) posts the allocation: for each funder, and for
the person's client contribution, the change from the previous agreed version (all of it for
the first) as ``B:receivable:F`` debit / ``B:allocation:F`` credit. Agreed versions never
change; a change of plan is a new version with its own effective date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.allocation import post_allocation
from ledger.budgets.budget import PartSpec, add_part, category_by_code, get_budget, open_funder_accounts, parts_of
from ledger.budgets.parties import get_funder
from ledger.budgets.plan_money import PlanMoney, allocations_of, check_adds_up, line_amount
from ledger.core import checks
from ledger.core.entries import ENTRY_DATE_MIN
from ledger.core.money import format_gbp, split_pence
from ledger.core.vocabulary import TRANSITION_CATEGORY, UNCATEGORISED_CATEGORY, FunderKind, Holding, ManagementOption, PlanLineKind, PlanStatus
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.tables import (
    Budget,
    BudgetPart,
    FundingLine,
    PlanLine,
    PlanOutcome,
    PlanPartAmount,
    Representative,
    SupportPlanVersion,
    utcnow,
)

LONDON = ZoneInfo("Europe/London")
LINES_MAX = 200
OUTCOMES_MAX = 50
TRANSITION_LEAD_DAYS_MAX = 366
BASIS_POINTS_WHOLE = 10_000


@dataclass(frozen=True)
class FundingLineSpec:
    funder_id: int
    amount_pence: int
    client_contribution_pence: int = 0


@dataclass(frozen=True)
class PartAmountSpec:
    management_option: str
    holding: str
    amount_pence: int


@dataclass(frozen=True)
class PlanLineSpec:
    category: str
    description: str
    kind: str
    annual_amount_pence: int | None = None
    weekly_hours_hundredths: int | None = None
    hourly_rate_pence: int | None = None
    weeks: int | None = None
    amount_pence: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    management_option: str | None = None
    holding: str | None = None


@dataclass(frozen=True)
class PlanVersionSpec:
    effective_from: date
    total_pence: int
    funding_lines: Sequence[FundingLineSpec]
    lines: Sequence[PlanLineSpec]
    parts: Sequence[PartAmountSpec] = field(default_factory=tuple)
    contingency_pence: int = 0
    top_slice_basis_points: int | None = None
    top_slice_fixed_pence: int | None = None
    outcomes: Sequence[str] = field(default_factory=tuple)
    speaks_for_representative_id: int | None = None
    review_every_months: int | None = None
    next_review_on: date | None = None
    change_reason: str | None = None
    notes: str | None = None
    cash_withdrawal_daily_cap_pence: int | None = None
    """None: the plan allows no cash from machines; otherwise up to this much a day."""


@dataclass(frozen=True)
class PlanVersionView:
    """A version with everything it says, for reading."""

    version: SupportPlanVersion
    funding_lines: list[FundingLine]
    parts: list[tuple[BudgetPart, PlanPartAmount]]
    lines: list[PlanLine]
    outcomes: list[PlanOutcome]


def create_draft(session: Session, budget_id: int, spec: PlanVersionSpec) -> SupportPlanVersion:
    budget = get_budget(session, budget_id)
    open_draft = session.execute(
        select(SupportPlanVersion.id).where(
            SupportPlanVersion.budget_id == budget.id, SupportPlanVersion.status == PlanStatus.DRAFT
        )
    ).first()
    if open_draft is not None:
        raise Conflict(
            f"budget {budget.reference} already has a draft plan (version id {open_draft.id}); change or withdraw it first",
            code="draft_exists",
        )
    number = session.execute(
        select(func.coalesce(func.max(SupportPlanVersion.version), 0)).where(SupportPlanVersion.budget_id == budget.id)
    ).scalar_one()
    version = SupportPlanVersion(budget_id=budget.id, version=number + 1, effective_from=spec.effective_from, total_pence=0)
    session.add(version)
    session.flush()
    _write_content(session, budget, version, spec)
    return version


def replace_draft(session: Session, version_id: int, spec: PlanVersionSpec) -> SupportPlanVersion:
    version = get_version(session, version_id)
    _require_draft(version)
    budget = get_budget(session, version.budget_id)
    for table in (FundingLine, PlanPartAmount, PlanLine, PlanOutcome):
        for row in session.execute(select(table).where(table.plan_version_id == version.id)).scalars():
            session.delete(row)
    session.flush()
    _write_content(session, budget, version, spec)
    return version


def withdraw_draft(session: Session, version_id: int) -> SupportPlanVersion:
    version = get_version(session, version_id)
    _require_draft(version)
    version.status = PlanStatus.WITHDRAWN
    session.flush()
    return version


def agree(
    session: Session,
    version_id: int,
    *,
    agreed_by_name: str,
    agreed_by_role: str,
    agreed_at: datetime | None = None,
    created_by: str = "system",
    funder_id: int | None = None,
    document: str | None = None,
) -> SupportPlanVersion:
    """Agree a draft ("sound, sensible and affordable") and post its allocation. Agreeing is
    the funder's decision: ``funder_id`` is whose (default: the lead funder), and it must fund
    the plan; ``document`` is what shows it (a letter, the panel's minutes), where somebody
    other than the funder's own user records it; ``created_by`` is who agreed or recorded it."""
    version = get_version(session, version_id)
    _require_draft(version)
    budget = get_budget(session, version.budget_id)
    deciding_funder = _deciding_funder(session, budget, version, funder_id)
    now = utcnow()
    when = agreed_at or now
    if when > now + timedelta(minutes=5):
        raise InvalidInput("agreed_at cannot be in the future", code="agreed_in_future", field="agreed_at")
    if when.date() < ENTRY_DATE_MIN:
        raise InvalidInput(f"agreed_at must be on or after {ENTRY_DATE_MIN}", code="date_out_of_range", field="agreed_at")
    latest = latest_agreed(session, budget.id)
    if latest is not None and version.effective_from < latest.effective_from:
        raise Conflict(
            f"this version takes effect on {version.effective_from}, before the agreed version {latest.version}"
            f" ({latest.effective_from}); a revision takes effect on or after the one it revises",
            code="effective_before_agreed",
            field="effective_from",
        )
    check_adds_up(_plan_money(session, version), budget.lead_funder_id)
    version.status = PlanStatus.AGREED
    version.agreed_by_name = checks.required_text(agreed_by_name, "agreed_by_name", max_length=200)
    version.agreed_by_role = checks.required_text(agreed_by_role, "agreed_by_role", max_length=200)
    version.agreed_at = when
    version.agreement_funder_id = deciding_funder
    version.agreement_document = checks.text(document, "agreement_document", max_length=500, required=False)
    version.agreement_recorded_by = checks.required_text(created_by, "created_by", max_length=200)
    session.flush()
    post_allocation(
        session,
        budget,
        version,
        allocations=version_allocations(session, version),
        previous_allocations=version_allocations(session, latest) if latest else {},
        on=london_date(when),
        created_by=created_by,
    )
    return version


def _deciding_funder(session: Session, budget: Budget, version: SupportPlanVersion, funder_id: int | None) -> int:
    if funder_id is None:
        return budget.lead_funder_id
    funding = set(session.scalars(select(FundingLine.funder_id).where(FundingLine.plan_version_id == version.id)))
    if funder_id not in funding | {budget.lead_funder_id}:
        raise InvalidInput(
            f"funder {funder_id} does not fund plan version {version.version} of {budget.reference}: only a funder of the plan agrees it",
            code="agreement_funder_not_funding",
            field="agreement_funder_id",
        )
    return funder_id


def london_date(moment: datetime) -> date:
    """The date in England of a UTC timestamp stored without a zone."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(LONDON).date()


def get_version(session: Session, version_id: int) -> SupportPlanVersion:
    version = session.get(SupportPlanVersion, version_id)
    if version is None:
        raise NotFound(f"there is no plan version {version_id}", code="plan_version_not_found")
    return version


def versions_of(session: Session, budget_id: int) -> list[SupportPlanVersion]:
    return list(
        session.execute(
            select(SupportPlanVersion).where(SupportPlanVersion.budget_id == budget_id).order_by(SupportPlanVersion.version)
        ).scalars()
    )


def latest_agreed(session: Session, budget_id: int) -> SupportPlanVersion | None:
    return session.execute(
        select(SupportPlanVersion)
        .where(SupportPlanVersion.budget_id == budget_id, SupportPlanVersion.status == PlanStatus.AGREED)
        .order_by(SupportPlanVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def agreed_version_on(session: Session, budget_id: int, day: date) -> SupportPlanVersion | None:
    """The agreed version in force on ``day``: the latest agreed whose effective date has come."""
    return session.execute(
        select(SupportPlanVersion)
        .where(
            SupportPlanVersion.budget_id == budget_id,
            SupportPlanVersion.status == PlanStatus.AGREED,
            SupportPlanVersion.effective_from <= day,
        )
        .order_by(SupportPlanVersion.effective_from.desc(), SupportPlanVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def view(session: Session, version: SupportPlanVersion) -> PlanVersionView:
    vid = version.id
    parts = session.execute(
        select(BudgetPart, PlanPartAmount)
        .join(PlanPartAmount, PlanPartAmount.budget_part_id == BudgetPart.id)
        .where(PlanPartAmount.plan_version_id == vid)
        .order_by(BudgetPart.id)
    ).all()
    return PlanVersionView(
        version=version,
        funding_lines=list(
            session.execute(select(FundingLine).where(FundingLine.plan_version_id == vid).order_by(FundingLine.id)).scalars()
        ),
        parts=[(part, amount) for part, amount in parts],
        lines=list(session.execute(select(PlanLine).where(PlanLine.plan_version_id == vid).order_by(PlanLine.position)).scalars()),
        outcomes=list(
            session.execute(select(PlanOutcome).where(PlanOutcome.plan_version_id == vid).order_by(PlanOutcome.position)).scalars()
        ),
    )


def version_allocations(session: Session, version: SupportPlanVersion) -> dict[int | None, int]:
    """What each funder (and the person, key ``None``) is to pay under ``version``."""
    return allocations_of(_plan_money(session, version))


def _require_draft(version: SupportPlanVersion) -> None:
    if version.status != PlanStatus.DRAFT:
        raise Conflict(
            f"plan version {version.version} is {version.status}; only a draft can be changed or agreed",
            code="plan_version_not_draft",
        )


def _write_content(session: Session, budget: Budget, version: SupportPlanVersion, spec: PlanVersionSpec) -> None:
    _check_header(session, budget, spec)
    version.effective_from = spec.effective_from
    version.total_pence = _non_negative(spec.total_pence, "total")
    version.contingency_pence = _non_negative(spec.contingency_pence, "contingency")
    version.top_slice_basis_points, version.top_slice_pence = _top_slice(spec)
    version.speaks_for_representative_id = spec.speaks_for_representative_id
    version.review_every_months = spec.review_every_months
    cap = spec.cash_withdrawal_daily_cap_pence
    version.cash_withdrawal_daily_cap_pence = None if cap is None else _non_negative(cap, "cash_withdrawal_daily_cap")
    version.next_review_on = spec.next_review_on
    version.change_reason = checks.text(spec.change_reason, "change_reason", max_length=1000, required=False)
    version.notes = checks.text(spec.notes, "notes", max_length=4000, required=False)
    _write_funding_lines(session, budget, version, spec.funding_lines)
    parts = _write_part_amounts(session, budget, version, spec)
    _write_lines(session, budget, version, spec.lines, parts)
    if len(spec.outcomes) > OUTCOMES_MAX:
        raise InvalidInput(f"a plan lists at most {OUTCOMES_MAX} outcomes", code="too_many_outcomes", field="outcomes")
    for position, outcome in enumerate(spec.outcomes, 1):
        session.add(
            PlanOutcome(
                plan_version_id=version.id,
                position=position,
                description=checks.required_text(outcome, f"outcomes[{position - 1}]", max_length=1000),
            )
        )
    session.flush()
    check_adds_up(_plan_money(session, version), budget.lead_funder_id)


def _check_header(session: Session, budget: Budget, spec: PlanVersionSpec) -> None:
    if not budget.period_start <= spec.effective_from <= budget.period_end:
        raise InvalidInput(
            f"effective_from {spec.effective_from} is outside the plan period {budget.period_start} to {budget.period_end}",
            code="date_outside_plan_period",
            field="effective_from",
        )
    if spec.speaks_for_representative_id is not None:
        representative = session.get(Representative, spec.speaks_for_representative_id)
        if representative is None or representative.person_id != budget.person_id:
            raise InvalidInput(
                "speaks_for_representative_id must be one of this person's representatives",
                code="representative_unknown",
                field="speaks_for_representative_id",
            )
    if spec.review_every_months is not None:
        checks.whole_number(spec.review_every_months, "review_every_months", minimum=1, maximum=24)


def _top_slice(spec: PlanVersionSpec) -> tuple[int | None, int]:
    if spec.top_slice_basis_points is not None and spec.top_slice_fixed_pence is not None:
        raise InvalidInput("give the top-slice as a percentage or as a fixed sum, not both", code="top_slice_both", field="top_slice")
    if spec.top_slice_basis_points is not None:
        points = checks.whole_number(spec.top_slice_basis_points, "top_slice.percent", minimum=0, maximum=BASIS_POINTS_WHOLE)
        if points == BASIS_POINTS_WHOLE:
            return points, spec.total_pence
        # The percentage of the total, by the one split rule: top-slice and the rest.
        top_slice, _rest = split_pence(_non_negative(spec.total_pence, "total"), [points, BASIS_POINTS_WHOLE - points])
        return points, top_slice
    return None, _non_negative(spec.top_slice_fixed_pence or 0, "top_slice.amount")


def _write_funding_lines(
    session: Session, budget: Budget, version: SupportPlanVersion, lines: Sequence[FundingLineSpec]
) -> None:
    if not lines:
        raise InvalidInput("a plan needs at least one funding line", code="funding_lines_required", field="funding_lines")
    seen: set[int] = set()
    for index, spec in enumerate(lines):
        where = f"funding_lines[{index}]"
        funder = get_funder(session, spec.funder_id)
        if funder.id in seen:
            raise InvalidInput(f"{where}: {funder.name} has two funding lines", code="funder_repeated", field=f"{where}.funder")
        seen.add(funder.id)
        amount = _non_negative(spec.amount_pence, f"{where}.amount")
        contribution = _non_negative(spec.client_contribution_pence, f"{where}.client_contribution")
        if contribution and not FunderKind(funder.kind).is_social_care:
            raise InvalidInput(
                f"{where}: a client contribution applies to the social-care share only, and {funder.name} is not a"
                " social-care funder",
                code="contribution_not_social_care",
                field=f"{where}.client_contribution",
            )
        if contribution > amount:
            raise InvalidInput(
                f"{where}: the client contribution ({format_gbp(contribution)}) is more than the line ({format_gbp(amount)})",
                code="contribution_exceeds_line",
                field=f"{where}.client_contribution",
            )
        session.add(
            FundingLine(plan_version_id=version.id, funder_id=funder.id, amount_pence=amount, client_contribution_pence=contribution)
        )
        open_funder_accounts(session, budget, funder.id)
        if contribution:
            open_funder_accounts(session, budget, None)


def _write_part_amounts(
    session: Session, budget: Budget, version: SupportPlanVersion, spec: PlanVersionSpec
) -> dict[tuple[str, str], BudgetPart]:
    parts = {(p.management_option, p.holding): p for p in parts_of(session, budget.id)}
    amounts = list(spec.parts)
    if not amounts:
        if len(parts) != 1:
            raise InvalidInput(
                "this budget has several parts: say how much of the total goes through each",
                code="part_amounts_required",
                field="parts",
            )
        (only,) = parts.values()
        amounts = [PartAmountSpec(only.management_option, only.holding, spec.total_pence)]
    for index, part_spec in enumerate(amounts):
        where = f"parts[{index}]"
        option = checks.choice(part_spec.management_option, ManagementOption, f"{where}.management_option")
        holding = checks.choice(part_spec.holding, Holding, f"{where}.holding")
        part = parts.get((option, holding))
        if part is None:  # a plan revision can add a part ("start small": a direct payment later)
            part = add_part(session, budget, PartSpec(option, holding), field_name=where)
            parts[(option, holding)] = part
        session.add(
            PlanPartAmount(plan_version_id=version.id, budget_part_id=part.id, amount_pence=_non_negative(part_spec.amount_pence, f"{where}.amount"))
        )
    session.flush()
    return parts


def _write_lines(
    session: Session,
    budget: Budget,
    version: SupportPlanVersion,
    lines: Sequence[PlanLineSpec],
    parts: dict[tuple[str, str], BudgetPart],
) -> None:
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"a plan has at most {LINES_MAX} lines", code="too_many_lines", field="lines")
    for position, spec in enumerate(lines, 1):
        where = f"lines[{position - 1}]"
        category = category_by_code(session, budget.holder_id, spec.category, field=f"{where}.category")
        if category.code == UNCATEGORISED_CATEGORY[0]:
            raise InvalidInput(
                f"{where}.category: {category.code!r} is where spend waits to be sorted, not something a plan pays for",
                code="category_not_plannable",
                field=f"{where}.category",
            )
        kind = checks.choice(spec.kind, PlanLineKind, f"{where}.kind")
        _check_line_dates(budget, spec, kind, category.code == TRANSITION_CATEGORY, where)
        part_id = None
        if spec.management_option is not None or spec.holding is not None:
            part = parts.get((spec.management_option or "", spec.holding or ""))
            if part is None:
                raise InvalidInput(f"{where}: the plan has no such part", code="part_unknown", field=f"{where}.part")
            part_id = part.id
        session.add(
            PlanLine(
                plan_version_id=version.id,
                position=position,
                category_id=category.id,
                budget_part_id=part_id,
                description=checks.required_text(spec.description, f"{where}.description", max_length=500),
                kind=kind,
                annual_amount_pence=spec.annual_amount_pence,
                weekly_hours_hundredths=spec.weekly_hours_hundredths,
                hourly_rate_pence=spec.hourly_rate_pence,
                weeks=spec.weeks,
                starts_on=spec.starts_on,
                ends_on=spec.ends_on,
                amount_pence=line_amount(spec, kind, where),
            )
        )


def _check_line_dates(budget: Budget, spec: PlanLineSpec, kind: PlanLineKind, is_transition: bool, where: str) -> None:
    if kind is PlanLineKind.ONE_OFF and spec.starts_on is None:
        raise InvalidInput(f"{where}: a one-off line needs a date (starts_on)", code="one_off_needs_date", field=f"{where}.starts_on")
    if is_transition and kind is not PlanLineKind.ONE_OFF:
        raise InvalidInput(
            f"{where}: transition costs are one-off lines with their own dates", code="transition_needs_dates", field=f"{where}.kind"
        )
    if spec.ends_on is not None and spec.starts_on is not None and spec.ends_on < spec.starts_on:
        raise InvalidInput(f"{where}: ends_on is before starts_on", code="line_dates_order", field=f"{where}.ends_on")
    earliest = budget.period_start - timedelta(days=TRANSITION_LEAD_DAYS_MAX) if is_transition else budget.period_start
    for name in ("starts_on", "ends_on"):
        day = getattr(spec, name)
        if day is not None and not earliest <= day <= budget.period_end:
            raise InvalidInput(
                f"{where}.{name} {day} is outside the plan period {budget.period_start} to {budget.period_end}"
                + (" (transition lines may start up to a year before it)" if is_transition else ""),
                code="date_outside_plan_period",
                field=f"{where}.{name}",
            )


def _non_negative(amount: int, where: str) -> int:
    assert isinstance(amount, int) and not isinstance(amount, bool), f"{where} must be int pence"
    if amount < 0:
        raise InvalidInput(f"{where} cannot be negative", code="amount_negative", field=where)
    return amount


def _plan_money(session: Session, version: SupportPlanVersion) -> PlanMoney:
    vid = version.id
    return PlanMoney(
        total_pence=version.total_pence,
        contingency_pence=version.contingency_pence,
        top_slice_pence=version.top_slice_pence,
        funding=[
            (line.funder_id, line.amount_pence, line.client_contribution_pence)
            for line in session.execute(select(FundingLine).where(FundingLine.plan_version_id == vid)).scalars()
        ],
        part_amounts=list(session.execute(select(PlanPartAmount.amount_pence).where(PlanPartAmount.plan_version_id == vid)).scalars()),
        line_amounts=list(session.execute(select(PlanLine.amount_pence).where(PlanLine.plan_version_id == vid)).scalars()),
    )
