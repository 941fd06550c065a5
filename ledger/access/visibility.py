"""Who may see what: the one place that decides it (DESIGN.md §4). Every endpoint and page
asks here, and every list is filtered by :func:`visible_budget_ids`.

- A **system admin** sees everything.
- A holder's **admin** and **staff** see their holder: its budgets, accounts, statements,
  payables, flags; the people those budgets are for; and the funders that fund them.
- A funder's **auditor** sees the budgets its funder funds (leads, or has a funding line for
  in an agreed plan version), the people they are for, and its own funder — never a
  holder-wide record, which would show other funders' budgets.
- A **family** member sees only the budgets linked to them (on their recorded legal basis).

What is not visible is reported exactly as what does not exist ("there is no budget 12"),
so a refusal never tells anyone that something is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import PlanStatus
from ledger.errors import NotFound
from ledger.store.tables import Budget, Funder, Person, SupportPlanVersion
from ledger.store.tables.access import FamilyLink, UserAccount
from ledger.store.tables.plans import FundingLine


class Role(StrEnum):
    HOLDER_ADMIN = "holder_admin"
    HOLDER_STAFF = "holder_staff"
    FUNDER_AUDITOR = "funder_auditor"
    FAMILY = "family"
    SYSTEM_ADMIN = "system_admin"


HOLDER_ROLES = (Role.HOLDER_ADMIN, Role.HOLDER_STAFF)
SIGNATURE_LENGTH_MAX = 200
"""The width of every ``*_by`` column."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user a request acts for."""

    user_id: int
    username: str
    display_name: str
    role: Role
    holder_id: int | None = None
    funder_id: int | None = None

    @classmethod
    def of(cls, user: UserAccount) -> Principal:
        assert user.id is not None
        return cls(user.id, user.username, user.display_name, Role(user.role), user.holder_id, user.funder_id)

    @property
    def signature(self) -> str:
        """Who did it, as every record keeps it: the name a reviewer recognises and the
        username no one else has ("Sam Reed (sam@sunrise.test)"), at most 200 characters."""
        room = SIGNATURE_LENGTH_MAX - len(self.username) - 3
        name = self.display_name if len(self.display_name) <= room else self.display_name[: max(room - 1, 0)] + "…"
        return f"{name} ({self.username})"[-SIGNATURE_LENGTH_MAX:]

    @property
    def is_admin(self) -> bool:
        return self.role is Role.SYSTEM_ADMIN

    @property
    def is_holder(self) -> bool:
        return self.role in HOLDER_ROLES

    @property
    def is_auditor(self) -> bool:
        return self.role is Role.FUNDER_AUDITOR

    @property
    def is_family(self) -> bool:
        return self.role is Role.FAMILY


def funded_budget_ids(funder_id: int) -> Select:
    """``SELECT budget.id`` of every budget ``funder_id`` leads or has an agreed funding line in."""
    with_line = (
        select(SupportPlanVersion.budget_id)
        .join(FundingLine, FundingLine.plan_version_id == SupportPlanVersion.id)
        .where(FundingLine.funder_id == funder_id, SupportPlanVersion.status == PlanStatus.AGREED)
    )
    return select(Budget.id).where(or_(Budget.lead_funder_id == funder_id, Budget.id.in_(with_line)))


def visible_budget_ids(principal: Principal) -> Select | None:
    """The budgets ``principal`` may see, as a subquery; None for everything (a system admin)."""
    if principal.is_admin:
        return None
    if principal.is_holder:
        return select(Budget.id).where(Budget.holder_id == principal.holder_id)
    if principal.is_auditor:
        assert principal.funder_id is not None
        return funded_budget_ids(principal.funder_id)
    return select(FamilyLink.budget_id).where(FamilyLink.user_id == principal.user_id)


def can_see_budget(session: Session, principal: Principal, budget_id: int) -> bool:
    scope = visible_budget_ids(principal)
    if scope is None:
        return session.get(Budget, budget_id) is not None
    return bool(session.scalar(select(exists().where(Budget.id == budget_id, Budget.id.in_(scope)))))


def can_see_holder(session: Session, principal: Principal, holder_id: int) -> bool:
    """A holder's own records: its admin and staff, and the system admin."""
    return principal.is_admin or (principal.is_holder and principal.holder_id == holder_id)


def can_see_funder(session: Session, principal: Principal, funder_id: int) -> bool:
    if principal.is_admin:
        return True
    if principal.is_auditor:
        return principal.funder_id == funder_id
    if principal.is_holder:
        funds_one = funded_budget_ids(funder_id).where(Budget.holder_id == principal.holder_id)
        return bool(session.scalar(select(exists(funds_one))))
    return False


def can_see_person(session: Session, principal: Principal, person_id: int) -> bool:
    """Through a budget one may see; a holder's users also see a person their holder
    registered who has no budget yet (the one they are setting a budget up for)."""
    scope = visible_budget_ids(principal)
    query = select(Budget.id).where(Budget.person_id == person_id)
    if scope is not None:
        query = query.where(Budget.id.in_(scope))
    if session.scalar(select(exists(query))):
        return True
    if principal.is_holder and principal.holder_id is not None:
        return bool(session.scalar(select(exists(_registered_without_budget(principal.holder_id).where(Person.id == person_id)))))
    return False


def _registered_without_budget(holder_id: int) -> Select:
    return select(Person.id).where(Person.registered_by_holder_id == holder_id, ~exists().where(Budget.person_id == Person.id))


def visible_funder_ids(principal: Principal) -> Select | None:
    """The funders ``principal`` may see, as a subquery; None for all."""
    if principal.is_admin:
        return None
    if principal.is_auditor:
        return select(Funder.id).where(Funder.id == principal.funder_id)
    if principal.is_holder:
        with_line = (
            select(FundingLine.funder_id)
            .join(SupportPlanVersion, SupportPlanVersion.id == FundingLine.plan_version_id)
            .join(Budget, Budget.id == SupportPlanVersion.budget_id)
            .where(Budget.holder_id == principal.holder_id, SupportPlanVersion.status == PlanStatus.AGREED)
        )
        leads = select(Budget.lead_funder_id).where(Budget.holder_id == principal.holder_id)
        return select(Funder.id).where(or_(Funder.id.in_(with_line), Funder.id.in_(leads)))
    return select(Funder.id).where(Funder.id.is_(None))


def visible_holder_ids(principal: Principal) -> list[int] | None:
    """The holders whose own records ``principal`` may see; None for all."""
    if principal.is_admin:
        return None
    return [principal.holder_id] if principal.is_holder and principal.holder_id is not None else []


def visible_person_ids(principal: Principal) -> Select | None:
    scope = visible_budget_ids(principal)
    if scope is None:
        return None
    through_budgets = select(Budget.person_id).where(Budget.id.in_(scope))
    if principal.is_holder and principal.holder_id is not None:
        without_budget = _registered_without_budget(principal.holder_id)
        return select(Person.id).where(or_(Person.id.in_(through_budgets), Person.id.in_(without_budget)))
    return through_budgets


def require_budget(session: Session, principal: Principal, budget_id: int) -> None:
    if not can_see_budget(session, principal, budget_id):
        raise NotFound(f"there is no budget {budget_id}", code="budget_not_found")


def require_holder(session: Session, principal: Principal, holder_id: int) -> None:
    if not can_see_holder(session, principal, holder_id):
        raise NotFound(f"there is no holder {holder_id}", code="holder_not_found")


def require_funder(session: Session, principal: Principal, funder_id: int) -> None:
    if not can_see_funder(session, principal, funder_id):
        raise NotFound(f"there is no funder {funder_id}", code="funder_not_found")


def require_person(session: Session, principal: Principal, person_id: int) -> None:
    if not principal.is_admin and not can_see_person(session, principal, person_id):
        raise NotFound(f"there is no person {person_id}", code="person_not_found")
