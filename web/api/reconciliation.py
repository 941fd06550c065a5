"""Reconciliation: run it on an account, see where an account stands, the unmatched queue
with suggestions, match / unmatch / split / re-categorise a line by hand, lock and reopen a
reconciled period; categorisation rules (shipped and holders' own) and remittance advices."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from ledger.budgets import parties
from ledger.budgets.budget import budget_by_reference
from ledger.core import checks
from ledger.errors import InvalidInput, NotFound
from ledger.reconcile.automatic import ReconcileOptions, reconcile_accounts
from ledger.reconcile.category_rules import define_rule, retire_rule, rules_of
from ledger.reconcile.combinations import ReceivablesProposal
from ledger.reconcile.manual import SplitPart, match_line, recategorise, split_line, unmatch_line
from ledger.reconcile.status import AccountStatus, account_status, lock_reconciled, locks_of, reopen_reconciled, unmatched_queue
from ledger.rules import shipped_category_rules_text
from ledger.store.tables import Category
from ledger.store.tables.reconciliation import (
    Categorisation,
    CategoryRule,
    ReconciliationEvent,
    ReconciliationLock,
    ReconciliationMatch,
    ReconciliationMatchPart,
    RemittanceAdvice,
)
from ledger.store.tables.statements import StatementLineRecord
from web.api.common import ERROR_RESPONSES, AmountPence, Bool, Int, IsoDate, RecordId, Schema, UtcTimestamp, amount_text, database, signed_in

router = APIRouter(tags=["reconciliation"], responses=ERROR_RESPONSES)

LineId = Annotated[int, Field(ge=1, le=9_223_372_036_854_775_807)]
Who = Annotated[str, Field(min_length=1, max_length=200)]
Why = Annotated[str, Field(min_length=1, max_length=1000)]


class ReconcileIn(Schema):
    load_window_days: Int = Field(default=3, ge=0, le=31, description="How far a card load's date may be from its drawdown's")
    match_window_days: Int = Field(default=5, ge=0, le=31, description="How far any other line's date may be from its entry's")


class ReconcileOut(BaseModel):
    accounts: list[int]
    lines_seen: int
    matched: int = Field(description="Lines matched by this run")
    matched_existing: int
    bulk_loads: int
    funder_receipts: int
    payments: int
    posted_spend: int
    posted_refunds: int
    posted_fees: int
    uncategorised: int
    unmatched: int = Field(description="Lines left in the unmatched queue")
    held: int = Field(description="Of the unmatched, lines the ledger cannot post (a date outside its range, no money): the queue says why")
    ambiguous: int = Field(description="Lines more than one combination fits: a person must choose")
    locked: int
    in_closed_quarter: int
    flags_raised: int


@router.post("/accounts/{account_id}/reconcile", response_model=ReconcileOut)
def reconcile(account_id: RecordId, body: ReconcileIn, request: Request) -> ReconcileOut:
    """Match every unmatched line of the account's statements, post what they show, and
    raise the flags they call for. Running it again changes nothing."""
    with database(request).write() as session:
        options = ReconcileOptions(body.load_window_days, body.match_window_days)
        result = reconcile_accounts(session, [account_id], actor=signed_in(request), options=options).as_dict()
    return ReconcileOut(**result)  # type: ignore[arg-type]


class StatusOut(BaseModel):
    account_id: int
    account: str
    statement_kind: str = Field(description="card, budget_bank or client_bank")
    period_start: date | None
    period_end: date | None
    statement_balance: str | None = Field(description="The latest statement's closing balance in the period")
    statement_balance_on: date | None
    ledger_balance: str | None = Field(description="The ledger's balance of the same money that day")
    difference: str | None = Field(description="Ledger minus statement")
    unmatched_lines: int
    unmatched_lines_total: str
    unmatched_entries: int = Field(description="Ledger entries no statement line stands for yet")
    unmatched_entries_total: str
    statements_cover_to: date | None
    reconciled_through: date | None
    locked_through: date | None

    @classmethod
    def of(cls, status: AccountStatus) -> StatusOut:
        optional = lambda pence: None if pence is None else amount_text(pence)  # noqa: E731
        return cls(
            account_id=status.account_id, account=status.account_code, statement_kind=status.statement_kind,
            period_start=status.period_start, period_end=status.period_end,
            statement_balance=optional(status.statement_balance_pence), statement_balance_on=status.statement_balance_on,
            ledger_balance=optional(status.ledger_balance_pence), difference=optional(status.difference_pence),
            unmatched_lines=status.unmatched_line_count, unmatched_lines_total=amount_text(status.unmatched_line_pence),
            unmatched_entries=status.unmatched_entry_count, unmatched_entries_total=amount_text(status.unmatched_entry_pence),
            statements_cover_to=status.statements_cover_to, reconciled_through=status.reconciled_through,
            locked_through=status.locked_through,
        )  # fmt: skip


@router.get("/accounts/{account_id}/reconciliation", response_model=StatusOut)
def reconciliation_status(
    account_id: RecordId, request: Request, period_start: IsoDate | None = None, period_end: IsoDate | None = None
) -> StatusOut:
    with database(request).read() as session:
        return StatusOut.of(account_status(session, account_id, period_start=period_start, period_end=period_end))


class LockIn(Schema):
    through_on: IsoDate
    reason: str | None = Field(default=None, max_length=1000)


class ReopenIn(Schema):
    reason: Why


class LockOut(BaseModel):
    id: int
    account_id: int
    through_on: date
    reason: str | None
    locked_by: str
    locked_at: UtcTimestamp
    reopened_at: UtcTimestamp | None
    reopened_by: str | None
    reopen_reason: str | None

    @classmethod
    def of(cls, lock: ReconciliationLock) -> LockOut:
        return cls(**lock.model_dump())


@router.post("/accounts/{account_id}/reconciliation/lock", response_model=LockOut, status_code=201)
def lock(account_id: RecordId, body: LockIn, request: Request) -> LockOut:
    """Lock the account's reconciliation up to a day it is reconciled through."""
    with database(request).write() as session:
        found = lock_reconciled(session, account_id, body.through_on, actor=signed_in(request), reason=body.reason)
        return LockOut.of(found)


@router.post("/accounts/{account_id}/reconciliation/reopen", response_model=list[LockOut])
def reopen(account_id: RecordId, body: ReopenIn, request: Request) -> list[LockOut]:
    """Reopen a locked reconciliation (an audit): recorded on the lock and in the trail."""
    with database(request).write() as session:
        return [LockOut.of(found) for found in reopen_reconciled(session, account_id, actor=signed_in(request), reason=body.reason)]


@router.get("/accounts/{account_id}/reconciliation/locks", response_model=list[LockOut])
def list_locks(account_id: RecordId, request: Request) -> list[LockOut]:
    with database(request).read() as session:
        return [LockOut.of(found) for found in locks_of(session, account_id)]


# --- the unmatched queue ------------------------------------------------------------------


class SuggestionOut(BaseModel):
    kind: str = Field(description="entries, receivables, payables, category or check")
    words: str
    entry_ids: list[int]
    payable_ids: list[int]
    funder_id: int | None
    shares: list[tuple[int, str]] = Field(description="(budget id, amount) of a funder payment's proposed split")
    category: str | None


class QueueItemOut(BaseModel):
    line_id: int
    account_id: int
    budget_id: int | None
    posted_on: date
    amount: str
    description: str
    payee: str | None
    mcc: str | None
    suggestions: list[SuggestionOut]
    held_because: str | None = Field(default=None, description="Why reconciliation cannot post this line (it waits here until someone looks at the statement)")


@router.get("/unmatched", response_model=list[QueueItemOut])
def unmatched(
    request: Request,
    holder_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    account_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    budget_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[QueueItemOut]:
    """Statement lines nothing stands for yet, oldest first, each with what it might be."""
    if holder_id is None and account_id is None and budget_id is None:
        raise InvalidInput("filter by holder_id, account_id or budget_id", code="filter_required", field="holder_id")
    with database(request).read() as session:
        items = unmatched_queue(session, holder_id=holder_id, account_id=account_id, budget_id=budget_id, offset=offset, limit=limit)
        return [
            QueueItemOut(
                line_id=i.line_id, account_id=i.account_id, budget_id=i.budget_id, posted_on=i.posted_on, amount=amount_text(i.amount_pence),
                description=i.description, payee=i.payee, mcc=i.mcc, held_because=i.held_because,
                suggestions=[
                    SuggestionOut(
                        kind=s.kind, words=s.words, entry_ids=list(s.entry_ids), payable_ids=list(s.payable_ids), funder_id=s.funder_id,
                        shares=[(b, amount_text(p)) for b, p in s.shares], category=s.category,
                    )  # fmt: skip
                    for s in i.suggestions
                ],
            )  # fmt: skip
            for i in items
        ]


# --- one line -----------------------------------------------------------------------------


class MatchPartOut(BaseModel):
    id: int
    entry_id: int
    budget_id: int | None
    amount: str
    posted_by_reconciliation: bool
    category: str | None
    rule_id: str | None
    rule_version: str | None


class MatchOut(BaseModel):
    line_id: int
    match_id: int | None
    method: str | None
    matched_by: str | None
    matched_at: UtcTimestamp | None
    parts: list[MatchPartOut]
    history: list[dict[str, object]] = Field(description="Every match, unmatch, split and re-categorisation of the line")


def _match_out(session, line_id: int) -> MatchOut:  # type: ignore[no-untyped-def]
    if session.get(StatementLineRecord, line_id) is None:
        raise NotFound(f"there is no statement line {line_id}", code="statement_line_not_found")
    match = session.scalar(select(ReconciliationMatch).where(ReconciliationMatch.active_line_id == line_id))
    parts: list[MatchPartOut] = []
    if match is not None:
        for part in session.scalars(select(ReconciliationMatchPart).where(ReconciliationMatchPart.match_id == match.id).order_by(ReconciliationMatchPart.id)):
            latest = session.execute(
                select(Category.code, Categorisation.rule_id, Categorisation.rule_version)
                .join(Category, Category.id == Categorisation.category_id)
                .where(Categorisation.match_part_id == part.id)
                .order_by(Categorisation.id.desc())
                .limit(1)
            ).first()
            parts.append(
                MatchPartOut(
                    id=part.id, entry_id=part.entry_id, budget_id=part.budget_id, amount=amount_text(part.amount_pence),
                    posted_by_reconciliation=part.posted_here, category=latest[0] if latest else None,
                    rule_id=latest[1] if latest else None, rule_version=latest[2] if latest else None,
                )  # fmt: skip
            )
    history = [
        {"action": e.action, "actor": e.actor, "at": e.at.isoformat() + "Z", "detail": json.loads(e.detail)}
        for e in session.scalars(select(ReconciliationEvent).where(ReconciliationEvent.statement_line_id == line_id).order_by(ReconciliationEvent.id))
    ]
    return MatchOut(
        line_id=line_id, match_id=match.id if match else None, method=match.method if match else None,
        matched_by=match.created_by if match else None, matched_at=match.created_at if match else None, parts=parts, history=history,
    )  # fmt: skip


@router.get("/statement-lines/{line_id}/match", response_model=MatchOut)
def get_match(line_id: LineId, request: Request) -> MatchOut:
    with database(request).read() as session:
        return _match_out(session, line_id)


class ShareIn(Schema):
    budget_id: Int = Field(ge=1, le=2_147_483_647)
    amount: AmountPence


class ReceivablesIn(Schema):
    funder_id: Int = Field(ge=1, le=2_147_483_647)
    shares: list[ShareIn] = Field(min_length=1, max_length=1000)


class MatchIn(Schema):
    entry_ids: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=1000, description="Entries already in the ledger")
    payable_ids: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=1000, description="Approved payables the line paid")
    receivables: ReceivablesIn | None = Field(default=None, description="A funder's payment: the budgets and amounts it is for")
    category: str | None = Field(default=None, max_length=40, description="A purchase or refund on a card or a budget's bank account")
    note: str | None = Field(default=None, max_length=1000)


@router.post("/statement-lines/{line_id}/match", response_model=MatchOut, status_code=201)
def match(line_id: LineId, body: MatchIn, request: Request) -> MatchOut:
    """Match a line by hand (exactly one of entry_ids, payable_ids, receivables, category)."""
    receivables = None
    if body.receivables is not None:
        receivables = ReceivablesProposal(body.receivables.funder_id, tuple((s.budget_id, s.amount) for s in body.receivables.shares))
    with database(request).write() as session:
        match_line(
            session, line_id, actor=signed_in(request), entry_ids=body.entry_ids, payable_ids=body.payable_ids, receivables=receivables,
            category=body.category, note=body.note,
        )  # fmt: skip
    with database(request).read() as session:
        return _match_out(session, line_id)


class UnmatchIn(Schema):
    reason: Why


@router.post("/statement-lines/{line_id}/unmatch", response_model=MatchOut)
def unmatch(line_id: LineId, body: UnmatchIn, request: Request) -> MatchOut:
    """Undo a line's match; what reconciliation posted for it is reversed."""
    with database(request).write() as session:
        unmatch_line(session, line_id, actor=signed_in(request), reason=body.reason)
    with database(request).read() as session:
        return _match_out(session, line_id)


class SplitPartIn(Schema):
    amount: AmountPence = Field(description="Positive: this part's share of the line")
    category: str | None = Field(default=None, max_length=40)
    budget_id: Int | None = Field(default=None, ge=1, le=2_147_483_647, description="On the client bank account: the budget")
    fee: Bool = False


class SplitIn(Schema):
    reason: Why
    parts: list[SplitPartIn] = Field(min_length=1, max_length=20)


@router.post("/statement-lines/{line_id}/split", response_model=MatchOut, status_code=201)
def split(line_id: LineId, body: SplitIn, request: Request) -> MatchOut:
    """Post a line as several parts: categories, or budgets of the client bank account."""
    parts = [SplitPart(p.amount, p.category, p.budget_id, p.fee) for p in body.parts]
    with database(request).write() as session:
        split_line(session, line_id, parts, actor=signed_in(request), reason=body.reason)
    with database(request).read() as session:
        return _match_out(session, line_id)


class RecategoriseIn(Schema):
    reason: Why
    category: str = Field(min_length=1, max_length=40)
    part_id: Int | None = Field(default=None, ge=1, description="Needed when the line was split")


@router.post("/statement-lines/{line_id}/recategorise", response_model=MatchOut)
def recategorise_line(line_id: LineId, body: RecategoriseIn, request: Request) -> MatchOut:
    """Move a spend to another category (twice alike for a merchant teaches a rule)."""
    with database(request).write() as session:
        recategorise(session, line_id, body.category, actor=signed_in(request), reason=body.reason, part_id=body.part_id)
    with database(request).read() as session:
        return _match_out(session, line_id)


# --- rules and remittances ----------------------------------------------------------------


class CategoryRuleIn(Schema):
    match_on: str = Field(description="merchant (a merchant-name pattern) or mcc (four digits)")
    pattern: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=40)


class CategoryRuleOut(BaseModel):
    id: int
    holder_id: int
    rule_id: str = Field(description="What categorisations record: origin:key")
    rule_key: str
    version: int
    match_on: str
    pattern: str
    category: str
    origin: str
    created_by: str
    created_at: UtcTimestamp
    retired_at: UtcTimestamp | None
    retired_by: str | None


def _rule_out(session, rule: CategoryRule) -> CategoryRuleOut:  # type: ignore[no-untyped-def]
    category = session.get(Category, rule.category_id)
    return CategoryRuleOut(
        id=rule.id, holder_id=rule.holder_id, rule_id=f"{rule.origin}:{rule.rule_key}", rule_key=rule.rule_key, version=rule.version,
        match_on=rule.match_on, pattern=rule.pattern, category=category.code, origin=rule.origin, created_by=rule.created_by,
        created_at=rule.created_at, retired_at=rule.retired_at, retired_by=rule.retired_by,
    )  # fmt: skip


@router.get("/holders/{holder_id}/category-rules", response_model=list[CategoryRuleOut])
def list_rules(holder_id: RecordId, request: Request, include_retired: bool = False) -> list[CategoryRuleOut]:
    """The holder's own and learned rules (the shipped ones: GET /rules/categories)."""
    with database(request).read() as session:
        return [_rule_out(session, r) for r in rules_of(session, holder_id, include_retired=include_retired)]


@router.post("/holders/{holder_id}/category-rules", response_model=CategoryRuleOut, status_code=201)
def create_rule(holder_id: RecordId, body: CategoryRuleIn, request: Request) -> CategoryRuleOut:
    with database(request).write() as session:
        rule = define_rule(session, holder_id, match_on=body.match_on, pattern=body.pattern, category=body.category, created_by=signed_in(request))
        return _rule_out(session, rule)


@router.post("/holders/{holder_id}/category-rules/{rule_key}", response_model=CategoryRuleOut, status_code=201)
def revise_rule(holder_id: RecordId, rule_key: Annotated[str, Field(max_length=80)], body: CategoryRuleIn, request: Request) -> CategoryRuleOut:
    """The rule's next version (the one before is retired, and stays on record)."""
    with database(request).write() as session:
        rule = define_rule(
            session, holder_id, match_on=body.match_on, pattern=body.pattern, category=body.category, created_by=signed_in(request), rule_key=rule_key
        )
        return _rule_out(session, rule)


class RetireIn(Schema):
    """Nothing to give: who retires the rule is the signed-in user."""


@router.post("/holders/{holder_id}/category-rules/{rule_key}/retire", response_model=CategoryRuleOut)
def retire(holder_id: RecordId, rule_key: Annotated[str, Field(max_length=80)], body: RetireIn, request: Request) -> CategoryRuleOut:
    with database(request).write() as session:
        return _rule_out(session, retire_rule(session, holder_id, rule_key, retired_by=signed_in(request)))


@router.get("/rules/categories")
def shipped_category_rules_document() -> dict[str, object]:
    """The shipped categorisation rules (MCCs and merchant names → plan categories), with
    each entry's source."""
    return json.loads(shipped_category_rules_text())


class RemittanceLineIn(Schema):
    budget: str = Field(min_length=1, max_length=32, description="The budget's reference")
    amount: AmountPence


class RemittanceIn(Schema):
    funder_id: Int = Field(ge=1, le=2_147_483_647)
    reference: str = Field(min_length=1, max_length=140, description="The reference the bank line will carry")
    lines: list[RemittanceLineIn] = Field(min_length=1, max_length=1000)


class RemittanceOut(BaseModel):
    id: int
    holder_id: int
    funder_id: int
    reference: str
    total: str
    lines: list[tuple[str, str]]
    receipt_id: int | None = Field(description="The funder receipt its bank line became, once reconciled")
    created_by: str
    created_at: UtcTimestamp


def _remittance_out(advice: RemittanceAdvice) -> RemittanceOut:
    return RemittanceOut(
        id=advice.id, holder_id=advice.holder_id, funder_id=advice.funder_id, reference=advice.reference, total=amount_text(advice.total_pence),
        lines=[(ref, amount_text(p)) for ref, p in json.loads(advice.lines)], receipt_id=advice.receipt_id, created_by=advice.created_by,
        created_at=advice.created_at,
    )  # fmt: skip


@router.post("/holders/{holder_id}/remittances", response_model=RemittanceOut, status_code=201)
def create_remittance(holder_id: RecordId, body: RemittanceIn, request: Request) -> RemittanceOut:
    """Record a funder's remittance advice: when a bank line carrying its reference and
    amount arrives, reconciliation records the payment split as the advice says."""
    with database(request).write() as session:
        parties.get_holder(session, holder_id)
        parties.get_funder(session, body.funder_id)
        reference = checks.required_text(body.reference, "reference", max_length=140)
        for index, line in enumerate(body.lines):
            try:
                budget = budget_by_reference(session, line.budget)
            except NotFound:
                budget = None
            if budget is None or budget.holder_id != holder_id:
                raise InvalidInput(f"lines[{index}].budget: this holder has no budget {line.budget!r}", code="budget_unknown", field=f"lines[{index}].budget")
            if line.amount <= 0:
                raise InvalidInput(f"lines[{index}].amount must be more than £0.00", code="amount_not_positive", field=f"lines[{index}].amount")
        taken = session.scalar(
            select(RemittanceAdvice.id).where(
                RemittanceAdvice.holder_id == holder_id, RemittanceAdvice.funder_id == body.funder_id, RemittanceAdvice.reference == reference
            )
        )
        if taken is not None:
            from ledger.errors import Conflict

            raise Conflict(f"remittance {reference!r} from this funder is recorded already (id {taken})", code="remittance_exists", field="reference")
        advice = RemittanceAdvice(
            holder_id=holder_id, funder_id=body.funder_id, reference=reference, total_pence=sum(l.amount for l in body.lines),
            lines=json.dumps([[l.budget, l.amount] for l in body.lines]), created_by=signed_in(request),
        )  # fmt: skip
        session.add(advice)
        session.flush()
        return _remittance_out(advice)


@router.get("/holders/{holder_id}/remittances", response_model=list[RemittanceOut])
def list_remittances(holder_id: RecordId, request: Request) -> list[RemittanceOut]:
    with database(request).read() as session:
        parties.get_holder(session, holder_id)
        return [_remittance_out(a) for a in session.scalars(select(RemittanceAdvice).where(RemittanceAdvice.holder_id == holder_id).order_by(RemittanceAdvice.id))]

