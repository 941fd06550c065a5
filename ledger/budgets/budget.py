"""Budgets: one person's PHB for one plan period, its parts and contacts, and the spend
categories a holder adds to the standard list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.parties import get_funder, get_holder, get_person
from ledger.core import checks
from ledger.core.accounts import budget_fixed_specs, budget_funder_specs, categories_for_holder, ensure_accounts
from ledger.core.vocabulary import Cadence, ContactRole, DrawdownTiming, HolderKind, Holding, ManagementOption
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.tables import Budget, BudgetContact, BudgetPart, Category

PLAN_PERIOD_DAYS_MAX = 3 * 366
PARTS_MAX = 6
CONTACTS_MAX = 20
BUDGET_DATE_EARLIEST = date(2010, 1, 1)
BUDGET_DATE_LATEST = date(2099, 12, 31)


@dataclass(frozen=True)
class PartSpec:
    management_option: str
    holding: str
    cadence: str = Cadence.WEEKLY
    timing: str = DrawdownTiming.IN_ADVANCE
    initial_float_weeks: int = 0


@dataclass(frozen=True)
class ContactSpec:
    role: str
    name: str
    organisation: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class BudgetSpec:
    reference: str
    holder_id: int
    person_id: int
    lead_funder_id: int
    period_start: date
    period_end: date
    parts: Sequence[PartSpec]
    contacts: Sequence[ContactSpec] = field(default_factory=tuple)
    previous_placement_annual_cost_pence: int | None = None
    previous_placement_description: str | None = None


def create_budget(session: Session, spec: BudgetSpec) -> Budget:
    """A budget with its parts, contacts and chart of accounts (fixed accounts, a spend
    account per category, and the lead funder's accounts)."""
    reference = checks.reference(spec.reference, "reference")
    holder = get_holder(session, spec.holder_id)
    get_person(session, spec.person_id)
    lead_funder = get_funder(session, spec.lead_funder_id)
    _check_period(spec.period_start, spec.period_end)
    if session.execute(select(Budget.id).where(Budget.reference == reference)).first() is not None:
        raise Conflict(f"a budget with reference {reference!r} already exists", code="budget_reference_taken", field="reference")
    if spec.previous_placement_annual_cost_pence is not None and spec.previous_placement_annual_cost_pence < 0:
        raise InvalidInput("previous_placement_annual_cost cannot be negative", code="amount_negative", field="previous_placement_annual_cost")
    budget = Budget(
        reference=reference,
        holder_id=holder.id,
        person_id=spec.person_id,
        lead_funder_id=lead_funder.id,
        period_start=spec.period_start,
        period_end=spec.period_end,
        previous_placement_annual_cost_pence=spec.previous_placement_annual_cost_pence,
        previous_placement_description=checks.text(
            spec.previous_placement_description, "previous_placement_description", max_length=300, required=False
        ),
    )
    session.add(budget)
    session.flush()
    assert budget.id is not None
    parts = list(spec.parts)
    if not parts:
        raise InvalidInput("a budget needs at least one part (management option and holding)", code="parts_required", field="parts")
    if len(parts) > PARTS_MAX:
        raise InvalidInput(f"a budget has at most {PARTS_MAX} parts", code="too_many_parts", field="parts")
    for index, part in enumerate(parts):
        add_part(session, budget, part, field_name=f"parts[{index}]", holder_kind=holder.kind)
    if len(spec.contacts) > CONTACTS_MAX:
        raise InvalidInput(f"a budget has at most {CONTACTS_MAX} contacts", code="too_many_contacts", field="contacts")
    for index, contact in enumerate(spec.contacts):
        add_contact(session, budget.id, contact, field_name=f"contacts[{index}]")
    ensure_accounts(session, budget_fixed_specs(budget, categories_for_holder(session, holder.id)))
    ensure_accounts(session, budget_funder_specs(budget, lead_funder))
    return budget


def _check_period(start: date, end: date) -> None:
    checks.date_between(start, "period_start", earliest=BUDGET_DATE_EARLIEST, latest=BUDGET_DATE_LATEST)
    checks.date_between(end, "period_end", earliest=BUDGET_DATE_EARLIEST, latest=BUDGET_DATE_LATEST)
    if end <= start:
        raise InvalidInput("period_end must be after period_start", code="period_order", field="period_end")
    if end - start > timedelta(days=PLAN_PERIOD_DAYS_MAX):
        raise InvalidInput("a plan period is at most three years", code="period_too_long", field="period_end")


def add_part(
    session: Session, budget: Budget, spec: PartSpec, *, field_name: str = "part", holder_kind: str | None = None
) -> BudgetPart:
    option = checks.choice(spec.management_option, ManagementOption, f"{field_name}.management_option")
    holding = checks.choice(spec.holding, Holding, f"{field_name}.holding")
    if (option is ManagementOption.NOTIONAL) != (holding is Holding.NONE):
        raise InvalidInput(
            f"{field_name}: a notional part has holding 'none' (nobody holds the money); any other part names its holding",
            code="part_holding_mismatch",
            field=f"{field_name}.holding",
        )
    if holder_kind == HolderKind.COMMISSIONER and option is not ManagementOption.NOTIONAL:
        raise InvalidInput(
            f"{field_name}: a commissioner holds notional budgets only",
            code="part_not_for_holder",
            field=f"{field_name}.management_option",
        )
    duplicate = session.execute(
        select(BudgetPart.id).where(
            BudgetPart.budget_id == budget.id, BudgetPart.management_option == option, BudgetPart.holding == holding
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"{field_name}: the budget already has a {option} part held as {holding}", code="part_exists", field=field_name)
    part = BudgetPart(
        budget_id=budget.id,
        management_option=option,
        holding=holding,
        cadence=checks.choice(spec.cadence, Cadence, f"{field_name}.cadence"),
        timing=checks.choice(spec.timing, DrawdownTiming, f"{field_name}.timing"),
        initial_float_weeks=checks.whole_number(spec.initial_float_weeks, f"{field_name}.initial_float_weeks", minimum=0, maximum=52),
    )
    session.add(part)
    session.flush()
    return part


def add_contact(session: Session, budget_id: int, spec: ContactSpec, *, field_name: str = "contact") -> BudgetContact:
    contact = BudgetContact(
        budget_id=budget_id,
        role=checks.choice(spec.role, ContactRole, f"{field_name}.role"),
        name=checks.required_text(spec.name, f"{field_name}.name", max_length=200),
        organisation=checks.text(spec.organisation, f"{field_name}.organisation", max_length=200, required=False),
        phone=checks.text(spec.phone, f"{field_name}.phone", max_length=40, required=False),
        email=checks.text(spec.email, f"{field_name}.email", max_length=254, required=False),
    )
    session.add(contact)
    session.flush()
    return contact


def add_category(session: Session, holder_id: int, code: str, name: str, plain_name: str | None = None) -> Category:
    """A holder's own spend category, with a spend account in each of its budgets."""
    holder = get_holder(session, holder_id)
    checked_code = checks.category_code(code, "code")
    taken = session.execute(
        select(Category.id).where(
            Category.code == checked_code, (Category.holder_id.is_(None)) | (Category.holder_id == holder.id)
        )
    ).first()
    if taken is not None:
        raise Conflict(f"category {checked_code!r} already exists", code="category_exists", field="code")
    category = Category(
        holder_id=holder.id,
        code=checked_code,
        name=checks.required_text(name, "name", max_length=120),
        plain_name=checks.text(plain_name, "plain_name", max_length=120, required=False) or name.strip(),
    )
    session.add(category)
    session.flush()
    for budget in list_budgets(session, holder_id=holder.id):
        ensure_accounts(session, budget_fixed_specs(budget, [category])[-1:])
    return category


def category_by_code(session: Session, holder_id: int, code: str, *, field: str = "category") -> Category:
    found = session.execute(
        select(Category).where(
            Category.code == code, (Category.holder_id.is_(None)) | (Category.holder_id == holder_id)
        )
    ).scalar_one_or_none()
    if found is None:
        raise InvalidInput(f"{field}: there is no category {code!r} for this holder", code="category_unknown", field=field)
    return found


def get_budget(session: Session, budget_id: int) -> Budget:
    budget = session.get(Budget, budget_id)
    if budget is None:
        raise NotFound(f"there is no budget {budget_id}", code="budget_not_found")
    return budget


def budget_by_reference(session: Session, reference: str) -> Budget:
    budget = session.execute(select(Budget).where(Budget.reference == reference)).scalar_one_or_none()
    if budget is None:
        raise NotFound(f"there is no budget {reference!r}", code="budget_not_found")
    return budget


def list_budgets(session: Session, *, holder_id: int | None = None) -> list[Budget]:
    query = select(Budget).order_by(Budget.id)
    if holder_id is not None:
        query = query.where(Budget.holder_id == holder_id)
    return list(session.execute(query).scalars())


def parts_of(session: Session, budget_id: int) -> list[BudgetPart]:
    return list(session.execute(select(BudgetPart).where(BudgetPart.budget_id == budget_id).order_by(BudgetPart.id)).scalars())


def has_direct_payment(session: Session, budget_id: int | None) -> bool:
    """Whether the budget has a direct payment part: the person (or their representative)
    then manages that money themselves, so the family sends its statements and answers its
    flags."""
    if budget_id is None:
        return False
    found = session.scalar(
        select(BudgetPart.id).where(BudgetPart.budget_id == budget_id, BudgetPart.management_option == ManagementOption.DIRECT_PAYMENT).limit(1)
    )
    return found is not None


def contacts_of(session: Session, budget_id: int) -> list[BudgetContact]:
    return list(
        session.execute(select(BudgetContact).where(BudgetContact.budget_id == budget_id).order_by(BudgetContact.id)).scalars()
    )


def open_funder_accounts(session: Session, budget: Budget, funder_id: int | None) -> None:
    """Make sure the budget has its per-funder accounts for ``funder_id`` (``None``: the
    person's client contribution)."""
    funder = get_funder(session, funder_id) if funder_id is not None else None
    ensure_accounts(session, budget_funder_specs(budget, funder))
