"""Drilling down: from a figure to the account's entries in a period (a page at a time), and
from an entry to its postings on the funded budgets and the statement lines matched to it
(the statement file's name and the line's number).

An entry may touch budgets the funder does not fund (one payroll run over a dozen people, a
funder's payment split over several): only the funded budgets' lines are shown, and how many
others there are. A shared account's entries are the whole budget's: the page says so and
gives this funder's share of the balance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from ledger.access.entries import cut_entries
from ledger.access.resources import require_visible
from ledger.access.visibility import Principal, require_budget
from ledger.budgets.budget import get_budget
from ledger.core.balances import funder_shares
from ledger.core.journal import load_entry
from ledger.core.journal_rows import load_entries
from ledger.errors import InvalidInput, NotFound
from ledger.store.tables import Account, Budget, JournalEntry
from ledger.store.tables.flags import Flag
from web.pages.access import FUNDER_PAGES
from web.pages.funder_common import BIG_ID_MAX, ID_MAX, PAGE_SIZE, database, funded_ids, iso_date, require_shown_account, words
from web.pages.funder_reads import AccountPage, account_page, statement_lines_of
from web.pages.render import page

router = APIRouter(include_in_schema=False)


def _cursor(text: str | None) -> tuple[date, int] | None:
    """``2026-10-31.1234``: the last entry of the page before (date and id)."""
    if not text:
        return None
    day, _, entry_id = text.partition(".")
    try:
        return date.fromisoformat(day), int(entry_id)
    except ValueError:
        raise InvalidInput("before must look like 2026-10-31.1234", code="cursor_invalid", field="before") from None


@router.get("/funder/budgets/{budget_id}/accounts/{account_id}")
def account_entries(
    request: Request,
    budget_id: int = Path(ge=1, le=ID_MAX),
    account_id: int = Path(ge=1, le=ID_MAX),
    from_date: str | None = Query(default=None, alias="from", max_length=10),
    to_date: str | None = Query(default=None, alias="to", max_length=10),
    before: str | None = Query(default=None, max_length=40),
    who: Principal = Depends(FUNDER_PAGES),
) -> Response:
    starts_on, ends_on, cursor = iso_date(from_date, "from"), iso_date(to_date, "to"), _cursor(before)
    if starts_on and ends_on and ends_on < starts_on:
        raise InvalidInput("the period ends before it starts", code="period_order", field="to")
    with database(request).read() as session:
        require_budget(session, who, budget_id)
        account = require_shown_account(session, who, budget_id, account_id)
        budget = get_budget(session, budget_id)
        found = account_page(session, account, starts_on=starts_on, ends_on=ends_on, before=cursor, limit=PAGE_SIZE)
        found = _with_descriptions_cut(session, who, found)
        funded = funded_ids(session, who)
        lines = statement_lines_of(session, [line.entry_id for line in found.lines], funded)
        share = _share_of_account(session, budget_id, account, who.funder_id)  # type: ignore[arg-type]
    query = {key: value for key, value in (("from", from_date), ("to", to_date)) if value}
    return page(
        request, "funder/account.html", title=account.name, budget=budget, account=account, found=found, lines=lines, share=share,
        starts_on=starts_on, ends_on=ends_on, first_href=f"?{urlencode(query)}" if cursor else None,
        next_href=f"?{urlencode({**query, 'before': f'{found.next_before[0].isoformat()}.{found.next_before[1]}'})}" if found.next_before else None,
        **words(),
    )  # fmt: skip


def _with_descriptions_cut(session, who: Principal, found: AccountPage) -> AccountPage:  # type: ignore[no-untyped-def]
    """Each line's description as the auditor may read it (an entry over other budgets or
    funders tells only what it is and which of its budgets it is the part of)."""
    entries = load_entries(session, [line.entry_id for line in found.lines])
    cuts = cut_entries(session, who, list(entries.values()))
    return replace(found, lines=[replace(line, description=cuts[line.entry_id].description) for line in found.lines])


def _share_of_account(session, budget_id: int, account: Account, funder_id: int) -> tuple[int, int] | None:  # type: ignore[no-untyped-def]
    """This funder's share of a shared account's balance and the whole, when the budget is
    jointly funded; None for its own account or a budget it funds alone."""
    if account.funder_id is not None:
        return None
    shares = funder_shares(session, budget_id)
    if len(shares) < 2:
        return None
    own = next((b.balance_pence for b in shares.get(funder_id, []) if b.account_id == account.id), 0)
    whole = sum(b.balance_pence for balances in shares.values() for b in balances if b.account_id == account.id)
    return own, whole  # balances are in the account's natural sign already


@router.get("/funder/entries/{entry_id}")
def entry_page(request: Request, entry_id: int = Path(ge=1, le=BIG_ID_MAX), who: Principal = Depends(FUNDER_PAGES)) -> Response:
    with database(request).read() as session:
        require_visible(session, who, "entry_id", entry_id)
        entry = load_entry(session, entry_id)
        funded = funded_ids(session, who)
        accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_({p.account_id for p in entry.postings})))}
        cut = cut_entries(session, who, [entry])[entry.id]
        shown = list(cut.postings)
        if not shown:
            raise NotFound(f"there is no journal entry {entry_id}", code="entry_not_found")
        references = dict(session.execute(select(Budget.id, Budget.reference).where(Budget.id.in_({accounts[p.account_id].budget_id for p in shown}))).all())
        reversed_by = session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry_id))
        flags = list(session.scalars(select(Flag).where(Flag.entry_id == entry_id, Flag.budget_id.in_(funded)).order_by(Flag.id)))
        lines = statement_lines_of(session, [entry_id], funded).get(entry_id, [])
        reverses_shown = entry.reverses_entry_id is not None and _is_shown(session, who, entry.reverses_entry_id)
        reversal_shown = reversed_by is not None and _is_shown(session, who, reversed_by)
    return page(
        request, "funder/entry.html", title=f"Entry {entry_id}", entry=entry, description=cut.description, postings=shown, hidden=cut.hidden,
        accounts=accounts, references=references, lines=lines, flags=flags, reversed_by=reversed_by if reversal_shown else None,
        reverses=entry.reverses_entry_id if reverses_shown else None, **words(),
    )  # fmt: skip


def _is_shown(session, who: Principal, entry_id: int) -> bool:  # type: ignore[no-untyped-def]
    try:
        require_visible(session, who, "entry_id", entry_id)
    except NotFound:
        return False
    return True
