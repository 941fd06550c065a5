"""Reading a budget's history: the entries that touch it, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ledger.core.entries import StoredEntry
from ledger.core.journal_rows import load_entries
from ledger.store.tables import Account, Posting

PAGE_SIZE_MAX = 500


@dataclass(frozen=True)
class HistoryPage:
    entries: list[StoredEntry]
    account_ids: set[int]
    """The budget's accounts: an entry's postings to other budgets are not the budget's."""
    next_before: tuple[date, int] | None
    """Pass back as ``before`` for the next (older) page; ``None`` on the last page."""


def budget_history(
    session: Session,
    budget_id: int,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    before: tuple[date, int] | None = None,
    limit: int = 100,
) -> HistoryPage:
    assert 1 <= limit <= PAGE_SIZE_MAX
    account_ids = set(session.execute(select(Account.id).where(Account.budget_id == budget_id)).scalars())
    if not account_ids:
        return HistoryPage([], account_ids, None)
    posting = Posting.__table__
    query = (
        select(posting.c.entry_date, posting.c.entry_id)
        .where(posting.c.account_id.in_(sorted(account_ids)))
        .group_by(posting.c.entry_date, posting.c.entry_id)
        .order_by(posting.c.entry_date.desc(), posting.c.entry_id.desc())
        .limit(limit + 1)
    )
    if date_from is not None:
        query = query.where(posting.c.entry_date >= date_from)
    if date_to is not None:
        query = query.where(posting.c.entry_date <= date_to)
    if before is not None:
        before_date, before_id = before
        query = query.where(
            or_(posting.c.entry_date < before_date, and_(posting.c.entry_date == before_date, posting.c.entry_id < before_id))
        )
    keys = session.execute(query).all()
    page, more = keys[:limit], len(keys) > limit
    found = load_entries(session, [entry_id for _, entry_id in page])
    entries = [found[entry_id] for _, entry_id in page]
    next_before = (page[-1][0], page[-1][1]) if more else None
    return HistoryPage(entries, account_ids, next_before)
