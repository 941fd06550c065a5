"""Funders, holders, people and representatives."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ledger.access import visibility as access
from ledger.budgets import parties
from ledger.core.vocabulary import EligibilityGroup, FunderKind, HolderKind, LegalBasis
from ledger.store.tables import Funder, Holder, Person, Representative
from web.api.common import ERROR_RESPONSES, Bool, Int, IsoDate, LocalTime, RecordId, Schema, UtcTimestamp, database, local_time
from web.auth import principal
from web.clock import today_in_england

router = APIRouter(tags=["parties"], responses=ERROR_RESPONSES)


class FunderIn(Schema):
    code: str = Field(description="Short stable code, e.g. icb-devon", examples=["icb-devon"], max_length=40)
    name: str = Field(max_length=200, examples=["NHS Devon ICB"])
    kind: FunderKind
    label: str | None = Field(default=None, max_length=60, description='How people name this kind of funder ("ICB", "CCG")')


class FunderOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    label: str
    created_at: UtcTimestamp

    @classmethod
    def of(cls, funder: Funder) -> FunderOut:
        return cls.model_validate(funder, from_attributes=True)


class HolderIn(Schema):
    code: str = Field(max_length=40, examples=["sunrise-support"])
    name: str = Field(max_length=200, examples=["Sunrise Support CIC"])
    kind: HolderKind
    load_weekday: Int = Field(default=0, ge=0, le=6, description="The weekday cards are loaded: 0 = Monday … 6 = Sunday")
    load_time: LocalTime = Field(default="06:00", description="Local time in England (HH:MM) cards are loaded")


class HolderOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    load_weekday: int
    load_time: str = Field(description="HH:MM, local time in England")
    created_at: UtcTimestamp

    @classmethod
    def of(cls, holder: Holder) -> HolderOut:
        return cls(
            id=holder.id, code=holder.code, name=holder.name, kind=holder.kind, load_weekday=holder.load_weekday,
            load_time=holder.load_time.strftime("%H:%M"), created_at=holder.created_at,
        )  # fmt: skip


class PersonIn(Schema):
    name: str = Field(max_length=200)
    preferred_name: str | None = Field(default=None, max_length=100)
    date_of_birth: IsoDate
    eligibility_group: EligibilityGroup
    holder_id: RecordId | None = Field(
        default=None,
        description="The holder setting up a budget for the person: until it has one, only this holder's users see the person."
        " A holder's own users register for their holder whatever they send; the system admin may name one or none.",
    )


class PersonOut(BaseModel):
    id: int
    name: str
    preferred_name: str | None
    date_of_birth: date
    eligibility_group: str
    registered_by_holder_id: int | None
    created_at: UtcTimestamp

    @classmethod
    def of(cls, person: Person) -> PersonOut:
        return cls.model_validate(person, from_attributes=True)


class RepresentativeIn(Schema):
    name: str = Field(max_length=200)
    legal_basis: LegalBasis
    relationship: str | None = Field(default=None, max_length=100)
    speaks_for_person: Bool = False
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)


class RepresentativeOut(BaseModel):
    id: int
    person_id: int
    name: str
    legal_basis: str
    relationship: str | None
    speaks_for_person: bool
    email: str | None
    phone: str | None

    @classmethod
    def of(cls, representative: Representative) -> RepresentativeOut:
        return cls.model_validate(representative, from_attributes=True)


@router.post("/funders", status_code=201, response_model=FunderOut)
def create_funder(body: FunderIn, request: Request) -> FunderOut:
    with database(request).write() as session:
        funder = parties.create_funder(session, parties.FunderSpec(body.code, body.name, body.kind, body.label))
    return FunderOut.of(funder)


@router.get("/funders", response_model=list[FunderOut])
def list_funders(request: Request) -> list[FunderOut]:
    with database(request).read() as session:
        scope = access.visible_funder_ids(principal(request))
        return [FunderOut.of(f) for f in parties.list_funders(session) if scope is None or f.id in set(session.scalars(scope))]


@router.get("/funders/{funder_id}", response_model=FunderOut)
def get_funder(funder_id: RecordId, request: Request) -> FunderOut:
    with database(request).read() as session:
        return FunderOut.of(parties.get_funder(session, funder_id))


@router.post("/holders", status_code=201, response_model=HolderOut)
def create_holder(body: HolderIn, request: Request) -> HolderOut:
    with database(request).write() as session:
        holder = parties.create_holder(
            session, parties.HolderSpec(body.code, body.name, body.kind, body.load_weekday, local_time(body.load_time))
        )
    return HolderOut.of(holder)


@router.get("/holders", response_model=list[HolderOut])
def list_holders(request: Request) -> list[HolderOut]:
    with database(request).read() as session:
        scope = access.visible_holder_ids(principal(request))
        return [HolderOut.of(h) for h in parties.list_holders(session) if scope is None or h.id in scope]


@router.get("/holders/{holder_id}", response_model=HolderOut)
def get_holder(holder_id: RecordId, request: Request) -> HolderOut:
    with database(request).read() as session:
        return HolderOut.of(parties.get_holder(session, holder_id))


@router.post("/people", status_code=201, response_model=PersonOut)
def create_person(body: PersonIn, request: Request) -> PersonOut:
    spec = parties.PersonSpec(body.name, body.date_of_birth, body.eligibility_group, body.preferred_name)
    who = principal(request)
    holder_id = who.holder_id if who.is_holder else body.holder_id
    with database(request).write() as session:
        person = parties.create_person(session, spec, today=today_in_england(), registered_by_holder_id=holder_id)
    return PersonOut.of(person)


@router.get("/people", response_model=list[PersonOut])
def list_people(request: Request) -> list[PersonOut]:
    with database(request).read() as session:
        scope = access.visible_person_ids(principal(request))
        visible = None if scope is None else set(session.scalars(scope))
        return [PersonOut.of(p) for p in parties.list_people(session) if visible is None or p.id in visible]


@router.get("/people/{person_id}", response_model=PersonOut)
def get_person(person_id: RecordId, request: Request) -> PersonOut:
    with database(request).read() as session:
        return PersonOut.of(parties.get_person(session, person_id))


@router.post("/people/{person_id}/representatives", status_code=201, response_model=RepresentativeOut)
def add_representative(person_id: RecordId, body: RepresentativeIn, request: Request) -> RepresentativeOut:
    spec = parties.RepresentativeSpec(
        body.name, body.legal_basis, body.relationship, body.speaks_for_person, body.email, body.phone
    )
    with database(request).write() as session:
        representative = parties.add_representative(session, person_id, spec)
    return RepresentativeOut.of(representative)


@router.get("/people/{person_id}/representatives", response_model=list[RepresentativeOut])
def list_representatives(person_id: RecordId, request: Request) -> list[RepresentativeOut]:
    with database(request).read() as session:
        parties.get_person(session, person_id)
        return [RepresentativeOut.of(r) for r in parties.representatives_of(session, person_id)]
