"""Posting what funders have allocated to a budget when its plan is agreed or revised.

DESIGN.md §3: allocation agreed or revised (per funder) → debit ``B:receivable:F``, credit
``B:allocation:F``. A revision posts only the change, so the allocation accounts always
hold what the agreed plan in force says each funder pays.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.accounts import CONTRIBUTION_CODE, budget_account_code
from ledger.core.entries import NewEntry, NewPosting, PostResult
from ledger.core.journal import post_entry
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.store.tables import Account, Budget, Funder, SupportPlanVersion


def post_allocation(
    session: Session,
    budget: Budget,
    version: SupportPlanVersion,
    *,
    allocations: dict[int | None, int],
    previous_allocations: dict[int | None, int],
    on: date,
    created_by: str,
) -> PostResult | None:
    """Post the change in each funder's allocation; nothing if no allocation changed."""
    changes = {
        funder_id: allocations.get(funder_id, 0) - previous_allocations.get(funder_id, 0)
        for funder_id in sorted(set(allocations) | set(previous_allocations), key=lambda f: (f is None, f or 0))
    }
    changes = {funder_id: change for funder_id, change in changes.items() if change != 0}
    if not changes:
        return None
    codes = _funder_codes(session, [f for f in changes if f is not None])
    postings: list[NewPosting] = []
    for funder_id, change in changes.items():
        code = CONTRIBUTION_CODE if funder_id is None else codes[funder_id]
        receivable = _account_id(session, budget_account_code(budget.reference, AccountKind.RECEIVABLE, code))
        allocation = _account_id(session, budget_account_code(budget.reference, AccountKind.ALLOCATION, code))
        postings += [NewPosting(receivable, change), NewPosting(allocation, -change)]
    verb = "agreed" if not previous_allocations else "revised"
    return post_entry(
        session,
        NewEntry(
            book_id=budget.holder_id,
            entry_date=on,
            description=f"Allocation {verb}: support plan version {version.version} of {budget.reference}",
            idempotency_key=f"allocation:plan-version:{version.id}",
            postings=tuple(postings),
            kind=EntryKind.ALLOCATION,
            created_by=created_by,
        ),
    )


def _funder_codes(session: Session, funder_ids: list[int]) -> dict[int, str]:
    return dict(session.execute(select(Funder.id, Funder.code).where(Funder.id.in_(funder_ids))).all())


def _account_id(session: Session, code: str) -> int:
    account_id = session.execute(select(Account.id).where(Account.code == code)).scalar_one_or_none()
    assert account_id is not None, f"account {code} should have been opened with the funding line"
    return account_id
