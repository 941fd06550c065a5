"""Funders, holders, people and representatives: creating and finding them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core import checks
from ledger.core.accounts import CONTRIBUTION_CODE, ensure_accounts, holder_specs
from ledger.core.vocabulary import DEFAULT_FUNDER_LABEL, BudgetStatus, EligibilityGroup, FunderKind, HolderKind, LegalBasis
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.tables import Budget, BudgetPart, Drawdown, Funder, Holder, LedgerBook, Person, Representative

DATE_OF_BIRTH_EARLIEST = date(1900, 1, 1)


@dataclass(frozen=True)
class FunderSpec:
    code: str
    name: str
    kind: str
    label: str | None = None


@dataclass(frozen=True)
class HolderSpec:
    code: str
    name: str
    kind: str
    load_weekday: int = 0
    """The weekday cards are loaded, 0 = Monday (the Plymouth ISF model)."""
    load_time: time = time(6, 0)
    """Local time (Europe/London) of the loads."""


@dataclass(frozen=True)
class PersonSpec:
    name: str
    date_of_birth: date
    eligibility_group: str
    preferred_name: str | None = None


@dataclass(frozen=True)
class RepresentativeSpec:
    name: str
    legal_basis: str
    relationship: str | None = None
    speaks_for_person: bool = False
    email: str | None = None
    phone: str | None = None


def create_funder(session: Session, spec: FunderSpec) -> Funder:
    code = checks.code(spec.code, "code")
    if code == CONTRIBUTION_CODE:
        raise InvalidInput(f"{code!r} is reserved for the person's client contribution", code="code_reserved", field="code")
    kind = checks.choice(spec.kind, FunderKind, "kind")
    _refuse_duplicate_code(session, Funder, code, "funder")
    funder = Funder(
        code=code,
        name=checks.required_text(spec.name, "name", max_length=200),
        kind=kind,
        label=checks.text(spec.label, "label", max_length=60, required=False) or DEFAULT_FUNDER_LABEL[kind],
    )
    session.add(funder)
    session.flush()
    return funder


def create_holder(session: Session, spec: HolderSpec) -> Holder:
    """A holder with its book (an empty hash chain) and its own fund's accounts."""
    code = checks.code(spec.code, "code")
    _refuse_duplicate_code(session, Holder, code, "holder")
    holder = Holder(
        code=code,
        name=checks.required_text(spec.name, "name", max_length=200),
        kind=checks.choice(spec.kind, HolderKind, "kind"),
        load_weekday=checks.whole_number(spec.load_weekday, "load_weekday", minimum=0, maximum=6),
        load_time=_minute(spec.load_time),
    )
    session.add(holder)
    session.flush()
    assert holder.id is not None
    session.add(LedgerBook(holder_id=holder.id))
    session.flush()
    ensure_accounts(session, holder_specs(holder))
    return holder


def set_load_time(session: Session, holder_id: int, *, weekday: int, at: time) -> Holder:
    """Change when a holder's loads go onto cards. The time of day may change at any time;
    the weekday only while none of the holder's open budgets has had a load, because the
    weekday decides where each load period starts and a period must never be cut twice."""
    holder = get_holder(session, holder_id)
    weekday = checks.whole_number(weekday, "load_weekday", minimum=0, maximum=6)
    if weekday != holder.load_weekday:
        loaded = session.execute(
            select(Budget.reference)
            .join(BudgetPart, BudgetPart.budget_id == Budget.id)
            .join(Drawdown, Drawdown.budget_part_id == BudgetPart.id)
            .where(Budget.holder_id == holder.id, Budget.status == BudgetStatus.OPEN)
            .limit(1)
        ).scalar_one_or_none()
        if loaded is not None:
            raise Conflict(
                f"{holder.name} has open budgets with loads made ({loaded}, for one): the load weekday can change"
                " once they have ended, or for a holder with no loads yet",
                code="load_weekday_in_use",
                field="load_weekday",
            )
    holder.load_weekday = weekday
    holder.load_time = _minute(at)
    session.flush()
    return holder


def _minute(at: time) -> time:
    assert isinstance(at, time), "load_time must be a datetime.time"
    if at.tzinfo is not None or at.second or at.microsecond:
        raise InvalidInput("load_time is a local time in whole minutes, such as 06:00", code="load_time_invalid", field="load_time")
    return at


def create_person(session: Session, spec: PersonSpec, *, today: date, registered_by_holder_id: int | None = None) -> Person:
    """``registered_by_holder_id``: the holder whose user registers the person; until the person
    has a budget, only that holder's users see them (``ledger.access.visibility``)."""
    if registered_by_holder_id is not None:
        get_holder(session, registered_by_holder_id)
    person = Person(
        name=checks.required_text(spec.name, "name", max_length=200),
        preferred_name=checks.text(spec.preferred_name, "preferred_name", max_length=100, required=False),
        date_of_birth=checks.date_between(spec.date_of_birth, "date_of_birth", earliest=DATE_OF_BIRTH_EARLIEST, latest=today),
        eligibility_group=checks.choice(spec.eligibility_group, EligibilityGroup, "eligibility_group"),
        registered_by_holder_id=registered_by_holder_id,
    )
    session.add(person)
    session.flush()
    return person


def add_representative(session: Session, person_id: int, spec: RepresentativeSpec) -> Representative:
    get_person(session, person_id)
    representative = Representative(
        person_id=person_id,
        name=checks.required_text(spec.name, "name", max_length=200),
        relationship=checks.text(spec.relationship, "relationship", max_length=100, required=False),
        legal_basis=checks.choice(spec.legal_basis, LegalBasis, "legal_basis"),
        speaks_for_person=bool(spec.speaks_for_person),
        email=checks.text(spec.email, "email", max_length=254, required=False),
        phone=checks.text(spec.phone, "phone", max_length=40, required=False),
    )
    session.add(representative)
    session.flush()
    return representative


def age_on(person: Person, day: date) -> int:
    born = person.date_of_birth
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_adult_on(person: Person, day: date) -> bool:
    return age_on(person, day) >= 18


def get_funder(session: Session, funder_id: int) -> Funder:
    return _get(session, Funder, funder_id, "funder")


def get_holder(session: Session, holder_id: int) -> Holder:
    return _get(session, Holder, holder_id, "holder")


def get_person(session: Session, person_id: int) -> Person:
    return _get(session, Person, person_id, "person")


def funder_by_code(session: Session, code: str) -> Funder:
    return _by_code(session, Funder, code, "funder")


def holder_by_code(session: Session, code: str) -> Holder:
    return _by_code(session, Holder, code, "holder")


def list_funders(session: Session) -> list[Funder]:
    return list(session.execute(select(Funder).order_by(Funder.id)).scalars())


def list_holders(session: Session) -> list[Holder]:
    return list(session.execute(select(Holder).order_by(Holder.id)).scalars())


def list_people(session: Session) -> list[Person]:
    return list(session.execute(select(Person).order_by(Person.id)).scalars())


def representatives_of(session: Session, person_id: int) -> list[Representative]:
    return list(
        session.execute(
            select(Representative).where(Representative.person_id == person_id).order_by(Representative.id)
        ).scalars()
    )


def _get(session: Session, table: type, record_id: int, noun: str):  # type: ignore[no-untyped-def]
    record = session.get(table, record_id)
    if record is None:
        raise NotFound(f"there is no {noun} {record_id}", code=f"{noun}_not_found")
    return record


def _by_code(session: Session, table: type, code: str, noun: str):  # type: ignore[no-untyped-def]
    record = session.execute(select(table).where(table.code == code)).scalar_one_or_none()  # type: ignore[attr-defined]
    if record is None:
        raise NotFound(f"there is no {noun} {code!r}", code=f"{noun}_not_found")
    return record


def _refuse_duplicate_code(session: Session, table: type, code: str, noun: str) -> None:
    if session.execute(select(table.id).where(table.code == code)).first() is not None:  # type: ignore[attr-defined]
        raise Conflict(f"a {noun} with code {code!r} already exists", code=f"{noun}_code_taken", field="code")
