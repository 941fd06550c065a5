"""The unmatched queue: statement lines nothing in the ledger stands for yet, oldest first,
each with what it might be. A suggestion is a small form that makes that match; a card or
budget bank line can also be put to a spend category. Each account has a button to
reconcile it now. Matching goes through ``ledger.reconcile.manual.match_line`` and
reconciling through ``ledger.reconcile.automatic.reconcile_accounts``, as the API's do, with the
signed-in user as the one who did it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import or_, select

from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, require_budget, require_funder
from ledger.core.vocabulary import AccountKind
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.reconcile.automatic import reconcile_accounts
from ledger.reconcile.combinations import ReceivablesProposal
from ledger.reconcile.manual import match_line
from ledger.reconcile.status import unmatched_queue
from ledger.store.tables import Category
from web.pages.access import HOLDER_PAGES
from web.pages.holder_accounts import account_states
from web.pages.holder_common import Errors, budget_names, database, holder_of, statement_account_of, statement_accounts, whole_id
from web.pages.render import page

router = APIRouter(include_in_schema=False)
QUEUE_PAGE = 25
LineId = Path(ge=1, le=9_223_372_036_854_775_807)
MATCH_KINDS = ("entries", "payables", "receivables", "category")


def _filters(account: int | None, budget: int | None) -> str:
    return "&".join(f"{name}={value}" for name, value in (("account", account), ("budget", budget)) if value)


def _queue_page(request: Request, who: Principal, *, account: str | None = None, budget: str | None = None, page_number: int = 1,
                errors: Errors | None = None, done: str | None = None, status_code: int = 200) -> Response:  # fmt: skip
    holder_id = holder_of(who)
    account_id, budget_id = whole_id(account), whole_id(budget)
    with database(request).read() as session:
        if budget_id is not None:
            require_budget(session, who, budget_id)
        if account_id is not None:
            statement_account_of(session, who, account_id)
        accounts = [a for a in statement_accounts(session, holder_id, budget_id=budget_id) if account_id is None or a.id == account_id]
        states = [s for s in account_states(session, holder_id, accounts).values() if s.has_statements]
        waiting = sum(s.unmatched_lines for s in states)
        items = unmatched_queue(
            session, holder_id=holder_id, account_id=account_id, budget_id=budget_id, offset=(page_number - 1) * QUEUE_PAGE, limit=QUEUE_PAGE
        )
        categories = list(session.execute(
            select(Category.code, Category.name).where(or_(Category.holder_id.is_(None), Category.holder_id == holder_id)).order_by(Category.name)
        ))  # fmt: skip
        names = budget_names(session, holder_id)
    labels = {a.id: a for a in accounts}
    query = _filters(account_id, budget_id)
    previous = ("Earlier lines", f"/holder/unmatched?page={page_number - 1}&{query}") if page_number > 1 else None
    following = ("Later lines", f"/holder/unmatched?page={page_number + 1}&{query}") if page_number * QUEUE_PAGE < waiting else None
    return page(
        request, "holder/unmatched.html", title=("Error: " if errors else "") + "Unmatched lines", states=states, items=items, waiting=waiting, accounts=labels,
        categories=categories, names=names, account_id=account_id, budget_id=budget_id, errors=errors or [], done=done,
        previous=previous, following=following, card_kinds=(AccountKind.CARD, AccountKind.CASH), status_code=status_code,
    )  # fmt: skip


@router.get("/holder/unmatched")
def queue(request: Request, account: str | None = None, budget: str | None = None, page_number: int = Query(default=1, alias="page"), reconciled: str | None = None,
          matched: str | None = None, who: Principal = Depends(HOLDER_PAGES)) -> Response:  # fmt: skip
    done = None
    if reconciled:
        counts = [int(part) for part in reconciled.split("-") if part.isdigit() and len(part) <= 9]
        if len(counts) == 3:
            done = f"Reconciled: {counts[0]} line{'s' if counts[0] != 1 else ''} matched, {counts[1]} left unmatched, {counts[2]} flag{'s' if counts[2] != 1 else ''} raised."
    elif matched and whole_id(matched, big=True):
        done = f"Line {matched} is matched."
    return _queue_page(request, who, account=account, budget=budget, page_number=max(1, min(page_number, 100_000)), done=done)


def _ids(text: str, *, big: bool = False) -> list[int]:
    found = [whole_id(part.strip(), big=big) for part in text.split(",") if part.strip()]
    if not found or any(number is None for number in found):
        raise InvalidInput("the suggestion is not one this page made", code="suggestion_malformed")
    return [number for number in found if number is not None]


def _receivables(session, who: Principal, funder: str, shares: str) -> ReceivablesProposal:  # type: ignore[no-untyped-def]
    funder_id = whole_id(funder)
    pairs = [part.partition(":") for part in shares.split(",") if part]
    if funder_id is None or not pairs or any(not (b.isdigit() and p.isdigit()) or len(b) > 9 or len(p) > 15 for b, _, p in pairs):
        raise InvalidInput("the suggestion is not one this page made", code="suggestion_malformed")
    require_funder(session, who, funder_id)
    for budget, _, _ in pairs:
        require_budget(session, who, int(budget))
    return ReceivablesProposal(funder_id, tuple((int(b), int(p)) for b, _, p in pairs))


@router.post("/holder/unmatched/{line_id}/match")
def match(
    request: Request,
    line_id: int = LineId,
    kind: str = Form(default="", max_length=20),
    entry_ids: str = Form(default="", max_length=2000),
    payable_ids: str = Form(default="", max_length=2000),
    funder_id: str = Form(default="", max_length=20),
    shares: str = Form(default="", max_length=20000),
    category: str = Form(default="", max_length=40),
    account: str = Form(default="", max_length=20),
    budget: str = Form(default="", max_length=20),
    who: Principal = Depends(HOLDER_PAGES),
) -> Response:
    try:
        with database(request).write() as session:
            require_visible(session, who, "line_id", line_id)
            chosen: dict = {}
            if kind == "entries":
                chosen["entry_ids"] = _ids(entry_ids, big=True)
                for entry_id in chosen["entry_ids"]:
                    require_visible(session, who, "entry_id", entry_id)
            elif kind == "payables":
                chosen["payable_ids"] = _ids(payable_ids)
                for payable_id in chosen["payable_ids"]:
                    require_visible(session, who, "payable_id", payable_id)
            elif kind == "receivables":
                chosen["receivables"] = _receivables(session, who, funder_id, shares)
            elif kind == "category" and category:
                chosen["category"] = category
            else:
                raise InvalidInput("Choose a spend category for the line" if kind == "category" else "Choose what the line is", code="match_target_missing")
            match_line(session, line_id, actor=who.signature, note="matched on the unmatched page", **chosen)
    except NotFound:
        raise
    except LedgerError as refused:
        return _queue_page(request, who, account=account, budget=budget, errors=[(f"line-{line_id}", refused.message)], status_code=refused.status_code)
    query = _filters(whole_id(account), whole_id(budget))
    return RedirectResponse(f"/holder/unmatched?matched={line_id}{'&' + query if query else ''}", status_code=303)


@router.post("/holder/accounts/{account_id}/reconcile")
def reconcile(request: Request, account_id: int = Path(ge=1, le=2_147_483_647), who: Principal = Depends(HOLDER_PAGES)) -> Response:
    with database(request).write() as session:
        statement_account_of(session, who, account_id)
        result = reconcile_accounts(session, [account_id], actor=who.signature)
    counts = f"{len(result.matched_line_ids)}-{result.unmatched}-{result.flags_raised}"
    return RedirectResponse(f"/holder/unmatched?account={account_id}&reconciled={counts}", status_code=303)

