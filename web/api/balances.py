"""Balances and history: by account, by budget, by funder share, by holder — as at any date."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from ledger.access.entries import cut_entries
from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core import accounts as chart
from ledger.core import balances, history
from ledger.core.accounts import CONTRIBUTION_CODE
from ledger.core.balances import AccountBalance
from ledger.errors import InvalidInput
from ledger.store.tables import Budget, Category, Funder
from web.api.common import ERROR_RESPONSES, IsoDate, RecordId, amount_text, database
from web.api.journal import EntryOut, account_codes, entry_out
from web.auth import principal

router = APIRouter(tags=["balances"], responses=ERROR_RESPONSES)

AS_OF = Query(default=None, description="Balances as at the end of this day; all entries when absent")
_CURSOR_RE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}):([0-9]{1,19})")


class BalanceOut(BaseModel):
    account: str
    kind: str
    type: str
    funder: str | None = Field(description="Funder code, 'contribution' for the person, or null")
    category: str | None
    balance: str = Field(description="In the account's natural sign: assets and expenses as debits, funds and liabilities as credits")


class BudgetBalancesOut(BaseModel):
    budget_id: int
    reference: str
    as_of: date | None
    accounts: list[BalanceOut]
    totals_by_kind: dict[str, str]


class FunderShareOut(BaseModel):
    funder: str = Field(description="Funder code, or 'contribution' for the person's client contribution")
    funder_id: int | None
    accounts: list[BalanceOut]
    totals_by_kind: dict[str, str]


class FunderSharesOut(BaseModel):
    budget_id: int
    reference: str
    as_of: date | None
    shares: list[FunderShareOut]


class BudgetTotalsOut(BaseModel):
    budget_id: int
    reference: str
    totals_by_kind: dict[str, str]


class HolderBalancesOut(BaseModel):
    holder_id: int
    as_of: date | None
    holder_fund: list[BalanceOut]
    budgets: list[BudgetTotalsOut]


class AccountBalanceOut(BaseModel):
    account: str
    as_of: date | None
    balance: str


class HistoryOut(BaseModel):
    budget_id: int
    entries: list[EntryOut]
    next_before: str | None = Field(description="Pass as ?before= for the next, older page")


def _labels(session) -> tuple[dict[int, str], dict[int, str]]:  # type: ignore[no-untyped-def]
    funders = dict(session.execute(select(Funder.id, Funder.code)).all())
    categories = dict(session.execute(select(Category.id, Category.code)).all())
    return funders, categories


def _balance_out(balance: AccountBalance, funders: dict[int, str], categories: dict[int, str]) -> BalanceOut:
    funder = CONTRIBUTION_CODE if balance.is_person_contribution else funders.get(balance.funder_id or 0)
    return BalanceOut(
        account=balance.code,
        kind=balance.kind,
        type=balance.type,
        funder=funder,
        category=categories.get(balance.category_id or 0),
        balance=amount_text(balance.balance_pence),
    )


def _totals(rows: list[AccountBalance]) -> dict[str, str]:
    return {kind: amount_text(total) for kind, total in sorted(balances.totals_by_kind(rows).items())}


@router.get("/budgets/{budget_id}/balances", response_model=BudgetBalancesOut)
def budget_balances(budget_id: RecordId, request: Request, as_of: IsoDate | None = AS_OF) -> BudgetBalancesOut:
    who = principal(request)
    with database(request).read() as session:
        budget = budgets.get_budget(session, budget_id)
        if who.is_auditor:  # a funder sees its own share of a jointly funded budget
            rows = balances.funder_shares(session, budget_id, as_of=as_of).get(who.funder_id, [])
        else:
            rows = balances.budget_balances(session, budget_id, as_of=as_of)
        funders, categories = _labels(session)
    return BudgetBalancesOut(
        budget_id=budget.id,
        reference=budget.reference,
        as_of=as_of,
        accounts=[_balance_out(r, funders, categories) for r in rows],
        totals_by_kind=_totals(rows),
    )


@router.get("/budgets/{budget_id}/balances/by-funder", response_model=FunderSharesOut)
def budget_funder_shares(budget_id: RecordId, request: Request, as_of: IsoDate | None = AS_OF) -> FunderSharesOut:
    who = principal(request)
    with database(request).read() as session:
        budget = budgets.get_budget(session, budget_id)
        shares = balances.funder_shares(session, budget_id, as_of=as_of)
        funders, categories = _labels(session)
    return FunderSharesOut(
        budget_id=budget.id,
        reference=budget.reference,
        as_of=as_of,
        shares=[
            FunderShareOut(
                funder=CONTRIBUTION_CODE if key is None else funders[key],
                funder_id=key,
                accounts=[_balance_out(r, funders, categories) for r in rows],
                totals_by_kind=_totals(rows),
            )
            for key, rows in sorted(shares.items(), key=lambda item: (item[0] is None, item[0] or 0))
            if not who.is_auditor or key == who.funder_id
        ],
    )


@router.get("/budgets/{budget_id}/journal", response_model=HistoryOut)
def budget_journal(
    budget_id: RecordId,
    request: Request,
    date_from: IsoDate | None = Query(default=None, alias="from"),
    date_to: IsoDate | None = Query(default=None, alias="to"),
    before: str | None = Query(default=None, max_length=40, description="Cursor from next_before"),
    limit: int = Query(default=100, ge=1, le=history.PAGE_SIZE_MAX),
) -> HistoryOut:
    cursor = None
    if before is not None:
        match = _CURSOR_RE.fullmatch(before)
        if match is None:
            raise InvalidInput("before must be a cursor from next_before (DATE:ENTRY_ID)", code="cursor_invalid", field="before")
        try:
            cursor = (date.fromisoformat(match[1]), int(match[2]))
        except ValueError:
            raise InvalidInput("before has an impossible date", code="cursor_invalid", field="before") from None
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        page = history.budget_history(session, budget_id, date_from=date_from, date_to=date_to, before=cursor, limit=limit)
        codes = account_codes(session, page.entries)
        cuts = cut_entries(session, principal(request), page.entries)
    return HistoryOut(
        budget_id=budget_id,
        entries=[entry_out(e, codes, only_accounts=page.account_ids, cut=cuts[e.id]) for e in page.entries],
        next_before=f"{page.next_before[0].isoformat()}:{page.next_before[1]}" if page.next_before else None,
    )


@router.get("/holders/{holder_id}/balances", response_model=HolderBalancesOut)
def holder_balances(holder_id: RecordId, request: Request, as_of: IsoDate | None = AS_OF) -> HolderBalancesOut:
    with database(request).read() as session:
        parties.get_holder(session, holder_id)
        rows = balances.holder_balances(session, holder_id, as_of=as_of)
        references = dict(session.execute(select(Budget.id, Budget.reference).where(Budget.holder_id == holder_id)).all())
        funders, categories = _labels(session)
    by_budget: dict[int, list[AccountBalance]] = defaultdict(list)
    holder_fund = []
    for row in rows:
        if row.budget_id is None:
            holder_fund.append(_balance_out(row, funders, categories))
        else:
            by_budget[row.budget_id].append(row)
    return HolderBalancesOut(
        holder_id=holder_id,
        as_of=as_of,
        holder_fund=holder_fund,
        budgets=[
            BudgetTotalsOut(budget_id=budget_id, reference=references[budget_id], totals_by_kind=_totals(by_budget[budget_id]))
            for budget_id in sorted(by_budget)
        ],
    )


@router.get("/accounts/{code}/balance", response_model=AccountBalanceOut)
def account_balance(code: str, request: Request, as_of: IsoDate | None = AS_OF) -> AccountBalanceOut:
    with database(request).read() as session:
        account = chart.account_by_code(session, code[:200])
        pence = balances.account_balance(session, account, as_of=as_of)
    return AccountBalanceOut(account=account.code, as_of=as_of, balance=amount_text(pence))
