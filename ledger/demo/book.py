"""One holder's book as the demo writes it: entries in the order they happen, with running
balances, then posted through ``ledger.core.journal``.

The running balances are the demo's own guard: no card, cash, contingency or unallocated
account may go below zero and no payable above it, at any moment. Breaking that is a mistake
in the demo's data, so it is an assertion. Purchases ask :meth:`DemoBook.balance` first and
are declined, as a card would decline them, when the money is not there.

Some entries are posted by a service rather than by the demo (the card loads, by the drawdown
service): the demo writes them as an action with the postings it knows the service will
make, so the running balances include them from the moment they happen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ledger.core import accounts, journal
from ledger.core.entries import NewEntry, NewPosting, PostOutcome

CREATED_BY = "demo"
_NEVER_BELOW_ZERO = (":cash", ":card", ":contingency", ":unallocated")
_NEVER_ABOVE_ZERO = (":payable",)


@dataclass(frozen=True)
class Draft:
    """An entry to post, its postings by account code (debit positive)."""

    day: date
    kind: str
    description: str
    key: str
    postings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Reversal:
    day: date
    original_key: str
    key: str
    description: str


@dataclass(frozen=True)
class Posted:
    entries: int
    postings: int


@dataclass(frozen=True)
class Action:
    """Something done through a service between entries: agreeing a plan revision, pausing
    a budget's loads, a day's card loads."""

    run: Callable[[Session], None]
    posts: Posted = Posted(0, 0)
    """The journal entries the service posts, counted with the demo's own."""


@dataclass(frozen=True)
class ServiceEntry:
    """An entry a service will post, as far as the running balances go."""

    what: str
    postings: tuple[tuple[str, int], ...]


class DemoBook:
    def __init__(self, holder_code: str, holder_id: int) -> None:
        self.holder_code = holder_code
        self.holder_id = holder_id
        self.items: list[Draft | Reversal | Action] = []
        self._balances: defaultdict[str, int] = defaultdict(int)
        self._postings_by_key: dict[str, tuple[tuple[str, int], ...]] = {}

    def balance(self, code: str) -> int:
        """Debit-positive balance of an account so far."""
        return self._balances[code]

    def post(self, day: date, kind: str, description: str, key: str, postings: Sequence[tuple[str, int]]) -> None:
        kept = tuple((code, amount) for code, amount in postings if amount != 0)
        assert len(kept) >= 2, f"{key}: an entry needs two postings that are not zero"
        assert key not in self._postings_by_key, f"{key} is used twice"
        self._apply(kept, key)
        self._postings_by_key[key] = kept
        self.items.append(Draft(day, kind, description[:500], key, kept))

    def reverse(self, day: date, original_key: str, key: str, description: str) -> None:
        original = self._postings_by_key[original_key]
        self._apply(tuple((code, -amount) for code, amount in original), key)
        self.items.append(Reversal(day, original_key, key, description))

    def act(self, run: Callable[[Session], None], *, entries: Sequence[ServiceEntry] = ()) -> None:
        """Do ``run`` when the book is posted. ``entries`` are those it posts, which the
        running balances take in now: ``run`` must check it posts exactly those."""
        for entry in entries:
            self._apply(entry.postings, entry.what)
        self.items.append(Action(run, Posted(len(entries), sum(len(entry.postings) for entry in entries))))

    def _apply(self, postings: tuple[tuple[str, int], ...], key: str) -> None:
        for code, amount in postings:
            self._balances[code] += amount
        for code, _ in postings:
            balance = self._balances[code]
            assert not (code.endswith(_NEVER_BELOW_ZERO) and balance < 0), f"{key} takes {code} below zero ({balance} pence)"
            assert not (code.endswith(_NEVER_ABOVE_ZERO) and balance > 0), f"{key} pays more than {code} owes ({balance} pence)"


def post_book(session: Session, book: DemoBook) -> Posted:
    """Post the book's items in order: entries in batches, reversals and actions between."""
    account_ids = {account.code: account.id for account in accounts.holder_accounts(session, book.holder_id)}
    entry_ids: dict[str, int] = {}
    batch: list[NewEntry] = []
    entries = postings = 0

    def flush() -> None:
        nonlocal entries, postings
        for result in journal.post_entries(session, batch):
            assert result.outcome is PostOutcome.CREATED, f"{result.entry.idempotency_key}: {result.outcome}"
            entry_ids[result.entry.idempotency_key] = result.entry.id
            entries, postings = entries + 1, postings + len(result.entry.postings)
        batch.clear()

    for item in book.items:
        if isinstance(item, Draft):
            batch.append(_new_entry(book.holder_id, item, account_ids))
            continue
        flush()
        if isinstance(item, Reversal):
            result = journal.reverse_entry(
                session, entry_ids[item.original_key], entry_date=item.day, idempotency_key=item.key,
                created_by=CREATED_BY, description=item.description,
            )  # fmt: skip
            entry_ids[item.key] = result.entry.id
            entries, postings = entries + 1, postings + len(result.entry.postings)
        else:
            item.run(session)
            entries, postings = entries + item.posts.entries, postings + item.posts.postings
    flush()
    return Posted(entries, postings)


def _new_entry(book_id: int, draft: Draft, account_ids: dict[str, int]) -> NewEntry:
    return NewEntry(
        book_id=book_id,
        entry_date=draft.day,
        description=draft.description,
        idempotency_key=draft.key,
        postings=tuple(NewPosting(account_ids[code], amount) for code, amount in draft.postings),
        kind=draft.kind,
        created_by=CREATED_BY,
    )
