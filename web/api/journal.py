"""The journal: post and reverse entries, read them, close quarters.

Posting is idempotent by the key the client sends: 201 the first time, 200 with the same
entry for a replay with the same content, 409 for the same key with other content.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from ledger.access.entries import EntryCut, cut_entries
from ledger.budgets.parties import get_holder
from ledger.core import accounts as chart
from ledger.core import journal, periods
from ledger.core.entries import KEY_LENGTH_MAX, NewEntry, NewPosting, PostResult, Provenance, StoredEntry
from ledger.core.manual_entries import post_manual_entry, reverse_by_hand
from ledger.core.vocabulary import EntryKind
from ledger.errors import Conflict, NotFound
from ledger.store.tables import Account, ClosedPeriod
from web.api.common import ERROR_RESPONSES, AmountPence, EntryId, Int, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in
from web.auth import principal
from web.clock import today_in_england

router = APIRouter(tags=["journal"], responses=ERROR_RESPONSES)


class PostingIn(Schema):
    account: str = Field(max_length=200, examples=["ISF-0007:cash"], description="Account code")
    amount: AmountPence = Field(description="Positive for a debit, negative for a credit")


class ProvenanceIn(Schema):
    source_file: str | None = Field(default=None, max_length=500)
    source_line: Int | None = Field(default=None, ge=1, le=2_147_483_647)
    source_format: str | None = Field(default=None, max_length=40)
    importer: str | None = Field(default=None, max_length=80)


class EntryIn(Schema):
    idempotency_key: str = Field(min_length=1, max_length=KEY_LENGTH_MAX, description="Chosen by the client; a retry sends the same key")
    entry_date: IsoDate
    description: str = Field(min_length=1, max_length=500)
    kind: EntryKind = Field(default=EntryKind.MANUAL, description="manual, transfer or fee: the other kinds are posted by the ledger's own services")
    postings: list[PostingIn] = Field(min_length=2, max_length=1000)
    provenance: ProvenanceIn | None = None


class ReverseIn(Schema):
    idempotency_key: str = Field(min_length=1, max_length=KEY_LENGTH_MAX)
    entry_date: IsoDate | None = Field(default=None, description="Defaults to today (in England)")
    description: str | None = Field(default=None, max_length=500)


class CloseQuarterIn(Schema):
    quarter: str = Field(max_length=6, examples=["2026Q1"], description="Financial-year quarter: 2026Q1 = April–June 2026")
    reason: str | None = Field(default=None, max_length=1000)


class PostingOut(BaseModel):
    line_no: int
    account: str
    amount: str


class EntryOut(BaseModel):
    id: int
    holder_id: int
    seq: int
    entry_date: date
    kind: str
    description: str
    idempotency_key: str
    reverses_entry_id: int | None
    source_file: str | None
    source_line: int | None
    source_format: str | None
    importer: str | None
    created_at: UtcTimestamp
    created_by: str
    content_hash: str
    prev_hash: str
    entry_hash: str
    postings: list[PostingOut]
    other_postings: int = Field(default=0, description="Postings of this entry to other budgets, not shown here")


class ClosedQuarterOut(BaseModel):
    quarter: str
    starts_on: date
    ends_on: date
    closed_at: UtcTimestamp
    closed_by: str
    reason: str | None

    @classmethod
    def of(cls, period: ClosedPeriod) -> ClosedQuarterOut:
        return cls.model_validate(period, from_attributes=True)


def entry_out(entry: StoredEntry, codes: dict[int, str], *, only_accounts: set[int] | None = None, cut: EntryCut | None = None) -> EntryOut:
    """The entry as its reader sees it: ``cut`` for its postings and description (see
    ``ledger.access.entries``), ``only_accounts`` to keep to one budget's accounts."""
    postings = cut.postings if cut is not None else entry.postings
    shown = [p for p in postings if only_accounts is None or p.account_id in only_accounts]
    return EntryOut(
        id=entry.id,
        holder_id=entry.book_id,
        seq=entry.seq,
        entry_date=entry.entry_date,
        kind=entry.kind,
        description=cut.description if cut is not None else entry.description,
        # a key and a file name may carry the words of other budgets' money, like the description
        idempotency_key="" if cut is not None and cut.hidden else entry.idempotency_key,
        reverses_entry_id=entry.reverses_entry_id,
        source_file=None if cut is not None and cut.hidden else entry.provenance.source_file,
        source_line=None if cut is not None and cut.hidden else entry.provenance.source_line,
        source_format=entry.provenance.source_format,
        importer=entry.provenance.importer,
        created_at=entry.created_at,
        created_by=entry.created_by,
        content_hash=entry.content_hash,
        prev_hash=entry.prev_hash,
        entry_hash=entry.entry_hash,
        postings=[PostingOut(line_no=p.line_no, account=codes[p.account_id], amount=amount_text(p.amount_pence)) for p in shown],
        other_postings=len(entry.postings) - len(shown),
    )


def account_codes(session, entries: list[StoredEntry]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    ids = {p.account_id for e in entries for p in e.postings}
    return dict(session.execute(select(Account.id, Account.code).where(Account.id.in_(ids))).all()) if ids else {}


def _answer(session, result: PostResult, response: Response) -> EntryOut:  # type: ignore[no-untyped-def]
    if result.outcome.is_conflict:
        raise Conflict(
            f"idempotency key {result.entry.idempotency_key!r} was already used for entry {result.entry.id}, which says"
            f" something else ({result.outcome.value.replace('_', ' ')}); use a new key for a new entry",
            code=result.outcome.value,
            details={"entry_id": result.entry.id},
        )
    response.status_code = 201 if result.outcome.value == "created" else 200
    response.headers["Idempotency-Outcome"] = result.outcome.value
    return entry_out(result.entry, account_codes(session, [result.entry]))


REPLAY = {200: {"model": EntryOut, "description": "A replay of the same key and content: the original entry"}}


@router.post("/entries", status_code=201, response_model=EntryOut, responses=REPLAY)
def post_entry(body: EntryIn, request: Request, response: Response) -> EntryOut:
    who = principal(request)
    with database(request).write() as session:
        ids = chart.account_ids_by_code(session, [p.account for p in body.postings], field="postings")
        holders = set(session.scalars(select(Account.holder_id).where(Account.id.in_(list(ids.values())))))
        if not who.is_admin and holders != {who.holder_id}:
            missing = next(code for code, account_id in ids.items() if session.get(Account, account_id).holder_id != who.holder_id)  # type: ignore[union-attr]
            raise NotFound(f"there is no account {missing!r}", code="account_not_found", field="postings")
        book = session.execute(select(Account.holder_id).where(Account.id == ids[body.postings[0].account])).scalar_one()
        provenance = Provenance(**body.provenance.model_dump()) if body.provenance else Provenance()
        entry = NewEntry(
            book_id=book,
            entry_date=body.entry_date,
            description=body.description,
            idempotency_key=body.idempotency_key,
            postings=tuple(NewPosting(ids[p.account], p.amount) for p in body.postings),
            kind=body.kind,
            provenance=provenance,
            created_by=signed_in(request),
        )
        result = post_manual_entry(session, entry)
        out = _answer(session, result, response)
    return out


@router.get("/entries/{entry_id}", response_model=EntryOut)
def get_entry(entry_id: EntryId, request: Request) -> EntryOut:
    with database(request).read() as session:
        entry = journal.load_entry(session, entry_id)
        # Outside the holder, only its postings to budgets one may see, and a description that
        # tells of nothing else (a payroll run over twelve budgets shows an auditor its own lines).
        cut = cut_entries(session, principal(request), [entry])[entry.id]
        return entry_out(entry, account_codes(session, [entry]), cut=cut)


@router.post("/entries/{entry_id}/reverse", status_code=201, response_model=EntryOut, responses=REPLAY)
def reverse_entry(entry_id: EntryId, body: ReverseIn, request: Request, response: Response) -> EntryOut:
    with database(request).write() as session:
        result = reverse_by_hand(
            session,
            entry_id,
            entry_date=body.entry_date or today_in_england(),
            idempotency_key=body.idempotency_key,
            created_by=signed_in(request),
            description=body.description,
        )
        out = _answer(session, result, response)
    return out


@router.post("/holders/{holder_id}/closed-quarters", status_code=201, response_model=ClosedQuarterOut)
def close_quarter(holder_id: RecordId, body: CloseQuarterIn, request: Request) -> ClosedQuarterOut:
    quarter = periods.parse_quarter(body.quarter)
    with database(request).write() as session:
        closed = periods.close_quarter(
            session, holder_id, quarter, closed_by=signed_in(request), reason=body.reason, today=today_in_england()
        )
        out = ClosedQuarterOut.of(closed)
    return out


@router.get("/holders/{holder_id}/closed-quarters", response_model=list[ClosedQuarterOut])
def list_closed_quarters(holder_id: RecordId, request: Request) -> list[ClosedQuarterOut]:
    with database(request).read() as session:
        get_holder(session, holder_id)
        return [ClosedQuarterOut.of(p) for p in periods.closed_quarters(session, holder_id)]
