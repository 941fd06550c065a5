"""What of a journal entry a user may see: the one place that cuts an entry to its reader.

A holder's own users (and the system admin) see an entry whole. Anyone else sees only its
postings to budgets they may see, and a funder's auditor, of those, only the shared accounts
(cash, card, spend, …) and its own funder's accounts — never another funder's receivable,
allocation or returned money, nor the person's contribution. Where anything of the entry is
cut, its description is cut too: a service's description may name other budgets and their
amounts ("ISF-0001 £9,050.00; ISF-0003 £8,141.66", "staff of 10 budgets"), so the reader is
given what kind of entry it is and which of its budgets it is the part of instead; its
idempotency key and source file, which may carry the same words, are not shown either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal, visible_budget_ids
from ledger.core.entries import StoredEntry, StoredPosting
from ledger.core.vocabulary import ENTRY_KIND_WORDS
from ledger.store.tables import Account, Budget


@dataclass(frozen=True, slots=True)
class AccountFacts:
    budget_id: int | None
    funder_id: int | None
    is_person_contribution: bool


@dataclass(frozen=True, slots=True)
class EntryCut:
    """An entry as one reader sees it."""

    postings: tuple[StoredPosting, ...]
    hidden: int
    """How many of its postings are not shown."""
    description: str


def shown_account(account: AccountFacts, *, visible: set[int] | None, auditor_of: int | None = None) -> bool:
    """Whether postings to ``account`` are shown to a reader who sees the budgets ``visible``
    (None: all), who is ``auditor_of`` that funder's auditor (None: not an auditor)."""
    if visible is None:
        return True
    if account.budget_id is None or account.budget_id not in visible:
        return False
    if auditor_of is not None:
        return not account.is_person_contribution and account.funder_id in (None, auditor_of)
    return True


def cut_entries(session: Session, who: Principal, entries: Sequence[StoredEntry]) -> dict[int, EntryCut]:
    """Each entry as ``who`` sees it; an entry they see nothing of has no postings."""
    if not entries:
        return {}
    if who.is_admin or (who.is_holder and all(entry.book_id == who.holder_id for entry in entries)):
        return {entry.id: EntryCut(tuple(entry.postings), 0, entry.description) for entry in entries}
    scope = visible_budget_ids(who)
    visible = set(session.scalars(scope)) if scope is not None else None
    facts = _account_facts(session, {p.account_id for entry in entries for p in entry.postings})
    cuts, shown_budgets = {}, set()
    for entry in entries:
        if who.is_holder and entry.book_id == who.holder_id:
            cuts[entry.id] = EntryCut(tuple(entry.postings), 0, entry.description)
            continue
        auditor_of = who.funder_id if who.is_auditor else None
        shown = tuple(p for p in entry.postings if shown_account(facts[p.account_id], visible=visible, auditor_of=auditor_of))
        cuts[entry.id] = EntryCut(shown, len(entry.postings) - len(shown), entry.description)
        shown_budgets |= {facts[p.account_id].budget_id for p in shown}
    wanted = select(Budget.id, Budget.reference).where(Budget.id.in_(shown_budgets - {None}))
    references: dict[int, str] = {row[0]: row[1] for row in session.execute(wanted)} if shown_budgets else {}
    by_id = {entry.id: entry for entry in entries}
    for entry_id, cut in cuts.items():
        if cut.hidden:
            budgets = sorted({references[facts[p.account_id].budget_id] for p in cut.postings if facts[p.account_id].budget_id in references})
            cuts[entry_id] = EntryCut(cut.postings, cut.hidden, cut_description(by_id[entry_id].kind, budgets))
    return cuts


def cut_description(kind: str, budget_references: Sequence[str]) -> str:
    words = ENTRY_KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())
    if not budget_references:
        return f"{words}: its parts for other budgets or funders are not shown"
    return f"{words}: the part for {', '.join(budget_references)} (its parts for other budgets or funders are not shown)"


def _account_facts(session: Session, account_ids: set[int]) -> dict[int, AccountFacts]:
    rows = session.execute(
        select(Account.id, Account.budget_id, Account.funder_id, Account.is_person_contribution).where(Account.id.in_(account_ids))
    )
    return {account_id: AccountFacts(budget_id, funder_id, bool(contribution)) for account_id, budget_id, funder_id, contribution in rows}


__all__ = ["AccountFacts", "EntryCut", "cut_description", "cut_entries", "shown_account"]
