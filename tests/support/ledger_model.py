"""An independent model of the journal, for the stateful test in ``tests/test_journal_model.py``.

The model is a few plain dicts: accounts and the fund each belongs to, entries by book in
chain order, idempotency keys, reversals, closed quarters and a balance per account. It
decides for itself, from the rules of DESIGN.md §3, what every request should do, and it
never calls ``ledger``'s own checks: what it shares with ``ledger`` is only the vocabulary of
the API (``NewEntry``, ``NewPosting``, ``PostOutcome`` and the error classes), so a rule the
journal gets wrong cannot be got wrong the same way here.

The order in which the rules apply is part of the contract, and the model states it once
(:meth:`LedgerModel.expect_post`):

1. **The request itself** (nothing recorded is consulted): at least two postings; every
   amount non-zero and within £1bn; a description that is not blank and at most 500
   characters; an idempotency key of 1–255 printable characters without surrounding spaces;
   a date in 2000–2099; a known kind; a source line of 1 or more.
2. **The book and its accounts**: the book exists; every account exists and is in that book.
3. **Balance**: the postings sum to zero within each fund (each budget, and the holder's own).
   Steps 1–3 are input errors: like Stripe's idempotency layer, a request that fails
   validation is refused whether or not its key was used before, and records nothing.
4. **The key**: a key the book has used before answers with the original entry, ``exists`` if
   the content is the same and otherwise the first difference in the order of
   ``PostOutcome`` (postings as a multiset, date, reversal link, kind, description,
   provenance). A replay says what happened then, whatever has happened since (a quarter
   closed, the entry reversed).
5. **What is recorded**: the date is not in a closed quarter of the book; every budget
   touched has an agreed plan; a reversal names an entry of the same book that is not itself
   a reversal, not reversed already, and whose postings it negates exactly.
6. Otherwise the entry is **created** with the book's next sequence number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from ledger.core.entries import NewEntry, NewPosting, PostOutcome, Provenance
from ledger.errors import Conflict, InvalidInput, LedgerError, NotFound

# The model's own statement of the limits (DESIGN.md §2–§3 and the API contract); kept here
# rather than imported so that a limit changed by mistake in ``ledger`` shows up as a failure.
AMOUNT_LIMIT_PENCE = 100_000_000_000  # £1,000,000,000.00
DESCRIPTION_LIMIT = 500
KEY_LIMIT = 255
EARLIEST_ENTRY_DATE = date(2000, 1, 1)
LATEST_ENTRY_DATE = date(2099, 12, 31)
ENTRY_KINDS = frozenset(
    {
        "manual", "allocation", "funder_payment", "contribution_received", "notional_cost", "top_slice",
        "contingency_ring_fence", "contingency_use", "drawdown", "card_purchase", "card_refund",
        "payable_approved", "payable_paid", "fee", "surplus_return", "transfer", "reversal",
    }
)  # fmt: skip
REVERSAL_KIND = "reversal"

# UK financial year: Q1 is April–June, and January–March is Q4 of the year that began the
# April before.
_QUARTER_OF_MONTH = {4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2, 10: 3, 11: 3, 12: 3, 1: 4, 2: 4, 3: 4}


def financial_quarter(day: date) -> tuple[int, int]:
    """(year the financial year starts, quarter number 1–4) of ``day``."""
    return (day.year if day.month >= 4 else day.year - 1, _QUARTER_OF_MONTH[day.month])


def quarter_days(financial_year: int, number: int) -> tuple[date, date]:
    """First and last day of a financial quarter."""
    first_month = (3 * number) % 12 + 1  # Q1 → 4, Q2 → 7, Q3 → 10, Q4 → 1
    year = financial_year + (1 if number == 4 else 0)
    starts = date(year, first_month, 1)
    after = date(year + 1, 1, 1) if first_month == 10 else date(year, first_month + 3, 1)
    return starts, date.fromordinal(after.toordinal() - 1)


@dataclass(frozen=True, slots=True)
class ModelAccount:
    account_id: int
    book_id: int
    budget_id: int | None
    """The fund: a budget, or ``None`` for the holder's own fund (unallocated money)."""
    plan_agreed: bool
    """Whether the account's budget has an agreed plan (always true for the holder fund)."""

    @property
    def fund(self) -> tuple[int, int | None]:
        return (self.book_id, self.budget_id)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    entry_id: int
    seq: int
    request: NewEntry
    """What was asked for (for a reversal: what the reversal asked for), as recorded."""
    entry_hash: str
    """The chain hash the journal gave it; a replay must return it unchanged."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The request must fail with this error class and code, and change nothing."""

    error: type[LedgerError]
    code: str


@dataclass(frozen=True, slots=True)
class Posted:
    """The request must succeed with ``outcome``. ``original`` is the entry a replay returns;
    ``seq`` is the sequence number a created entry gets."""

    outcome: PostOutcome
    original: ModelEntry | None = None
    seq: int | None = None


Expectation = Refused | Posted


@dataclass
class LedgerModel:
    """The journal as dicts. Build it with the accounts and books the test set up, then
    :meth:`adopt` whatever entries the setup posted."""

    accounts: dict[int, ModelAccount]
    books: set[int]
    entries: dict[int, ModelEntry] = field(default_factory=dict)
    chains: dict[int, list[int]] = field(default_factory=dict)
    """book → entry ids in sequence order."""
    keys: dict[tuple[int, str], int] = field(default_factory=dict)
    """(book, idempotency key) → entry id."""
    reversed_by: dict[int, int] = field(default_factory=dict)
    closed: set[tuple[int, tuple[int, int]]] = field(default_factory=set)
    """(book, (financial year, quarter))."""
    balances: Counter[int] = field(default_factory=Counter)
    """account → debit-positive sum of its postings."""

    # --- what a request should do ----------------------------------------------------------

    def expect_post(self, request: NewEntry) -> Expectation:
        """What posting ``request`` must do, by the rules in the order of the module docstring."""
        for check in (self._request_problem, self._book_problem, self._balance_problem):
            refusal = check(request)
            if refusal is not None:
                return refusal
        used = self.keys.get((request.book_id, request.idempotency_key))
        if used is not None:
            original = self.entries[used]
            return Posted(replay_difference(original.request, request), original=original)
        refusal = self._recorded_problem(request)
        if refusal is not None:
            return refusal
        return Posted(PostOutcome.CREATED, seq=len(self.chains.get(request.book_id, [])) + 1)

    def reversal_request(
        self, entry_id: int, *, entry_date: date, idempotency_key: str, description: str | None, created_by: str
    ) -> NewEntry | None:
        """The entry that reversing ``entry_id`` asks for (``None``: there is no such entry):
        the original's postings negated in their order, linked to it, in its book."""
        original = self.entries.get(entry_id)
        if original is None:
            return None
        if description is None:
            description = f"Reversal of entry {entry_id}: {original.request.description}"[:DESCRIPTION_LIMIT]
        return NewEntry(
            book_id=original.request.book_id,
            entry_date=entry_date,
            description=description,
            idempotency_key=idempotency_key,
            postings=tuple(NewPosting(p.account_id, -p.amount_pence) for p in original.request.postings),
            kind=REVERSAL_KIND,
            reverses_entry_id=entry_id,
            created_by=created_by,
        )

    def expect_reverse(self, reversal: NewEntry | None) -> Expectation:
        if reversal is None:
            return Refused(NotFound, "entry_not_found")
        return self.expect_post(reversal)

    def expect_close(self, book_id: int, quarter: tuple[int, int]) -> Refused | None:
        if book_id not in self.books:
            return Refused(NotFound, "book_not_found")
        if (book_id, quarter) in self.closed:
            return Refused(Conflict, "period_already_closed")
        return None

    # --- recording what happened -----------------------------------------------------------

    def adopt(self, entry_id: int, seq: int, request: NewEntry, entry_hash: str) -> ModelEntry:
        """Take an entry the setup posted (or the journal just created) into the model."""
        chain = self.chains.setdefault(request.book_id, [])
        assert seq == len(chain) + 1, f"entry {entry_id} has seq {seq}; the book's next is {len(chain) + 1}"
        assert entry_id not in self.entries, f"entry id {entry_id} was given out twice"
        entry = ModelEntry(entry_id, seq, request, entry_hash)
        self.entries[entry_id] = entry
        chain.append(entry_id)
        self.keys[(request.book_id, request.idempotency_key)] = entry_id
        if request.reverses_entry_id is not None:
            self.reversed_by[request.reverses_entry_id] = entry_id
        for posting in request.postings:
            self.balances[posting.account_id] += posting.amount_pence
        return entry

    def record_close(self, book_id: int, quarter: tuple[int, int]) -> None:
        self.closed.add((book_id, quarter))

    # --- what must hold ----------------------------------------------------------------------

    def nonzero_balances(self) -> dict[int, int]:
        return {account: total for account, total in self.balances.items() if total != 0}

    def fund_totals(self, balances: Mapping[int, int]) -> dict[tuple[int, int | None], int]:
        """Sum of ``balances`` per fund, using the model's own idea of which fund an account
        is in."""
        totals: Counter[tuple[int, int | None]] = Counter()
        for account_id, total in balances.items():
            totals[self.accounts[account_id].fund] += total
        return dict(totals)

    def closed_quarters_of(self, book_id: int) -> list[tuple[int, int]]:
        return sorted(quarter for book, quarter in self.closed if book == book_id)

    # --- the rules ---------------------------------------------------------------------------

    @staticmethod
    def _request_problem(request: NewEntry) -> Refused | None:
        if len(request.postings) < 2:
            return Refused(InvalidInput, "entry_too_few_postings")
        for posting in request.postings:
            if posting.amount_pence == 0:
                return Refused(InvalidInput, "posting_zero_amount")
            if abs(posting.amount_pence) > AMOUNT_LIMIT_PENCE:
                return Refused(InvalidInput, "amount_too_large")
        if request.description.strip() == "":
            return Refused(InvalidInput, "description_empty")
        if len(request.description) > DESCRIPTION_LIMIT:
            return Refused(InvalidInput, "description_too_long")
        key = request.idempotency_key
        if not 1 <= len(key) <= KEY_LIMIT or key != key.strip() or not key.isprintable():
            return Refused(InvalidInput, "idempotency_key_invalid")
        if not EARLIEST_ENTRY_DATE <= request.entry_date <= LATEST_ENTRY_DATE:
            return Refused(InvalidInput, "entry_date_out_of_range")
        if request.kind not in ENTRY_KINDS:
            return Refused(InvalidInput, "entry_kind_unknown")
        line = request.provenance.source_line
        if line is not None and line < 1:
            return Refused(InvalidInput, "provenance_invalid")
        return None

    def _book_problem(self, request: NewEntry) -> Refused | None:
        if request.book_id not in self.books:
            return Refused(NotFound, "book_not_found")
        for posting in request.postings:
            account = self.accounts.get(posting.account_id)
            if account is None:
                return Refused(InvalidInput, "unknown_account")
            if account.book_id != request.book_id:
                return Refused(InvalidInput, "account_in_other_book")
        return None

    def _balance_problem(self, request: NewEntry) -> Refused | None:
        per_fund: Counter[tuple[int, int | None]] = Counter()
        for posting in request.postings:
            per_fund[self.accounts[posting.account_id].fund] += posting.amount_pence
        if any(total != 0 for total in per_fund.values()):
            return Refused(InvalidInput, "entry_unbalanced")
        return None

    def _recorded_problem(self, request: NewEntry) -> Refused | None:
        if (request.book_id, financial_quarter(request.entry_date)) in self.closed:
            return Refused(Conflict, "period_closed")
        if not all(self.accounts[p.account_id].plan_agreed for p in request.postings):
            return Refused(Conflict, "plan_not_agreed")
        target_id = request.reverses_entry_id
        if target_id is None:
            return None
        target = self.entries.get(target_id)
        if target is None or target.request.book_id != request.book_id:
            return Refused(NotFound, "entry_not_found")
        if target.request.reverses_entry_id is not None:
            return Refused(Conflict, "reversal_not_reversible")
        if target_id in self.reversed_by:
            return Refused(Conflict, "already_reversed")
        negation = Counter((p.account_id, -p.amount_pence) for p in target.request.postings)
        if posting_multiset(request.postings) != negation:
            return Refused(InvalidInput, "reversal_mismatch")
        return None


def posting_multiset(postings: Iterable[NewPosting]) -> Counter[tuple[int, int]]:
    """Postings as a multiset: their order does not make another entry."""
    return Counter((p.account_id, p.amount_pence) for p in postings)


def replay_difference(stored: NewEntry, replayed: NewEntry) -> PostOutcome:
    """``exists``, or the first thing a replay changes, in the order of ``PostOutcome``."""
    if posting_multiset(stored.postings) != posting_multiset(replayed.postings):
        return PostOutcome.EXISTS_WITH_DIFFERENT_POSTINGS
    if stored.entry_date != replayed.entry_date:
        return PostOutcome.EXISTS_WITH_DIFFERENT_DATE
    if stored.reverses_entry_id != replayed.reverses_entry_id:
        return PostOutcome.EXISTS_WITH_DIFFERENT_REVERSAL
    if stored.kind != replayed.kind:
        return PostOutcome.EXISTS_WITH_DIFFERENT_KIND
    if stored.description != replayed.description:
        return PostOutcome.EXISTS_WITH_DIFFERENT_DESCRIPTION
    if _provenance_fields(stored.provenance) != _provenance_fields(replayed.provenance):
        return PostOutcome.EXISTS_WITH_DIFFERENT_PROVENANCE
    return PostOutcome.EXISTS


def _provenance_fields(provenance: Provenance) -> tuple[object, ...]:
    return (provenance.source_file, provenance.source_line, provenance.source_format, provenance.importer)


def with_changes(request: NewEntry, **changes: object) -> NewEntry:
    """``request`` with some fields replaced (``NewEntry`` is frozen)."""
    return replace(request, **changes)  # type: ignore[arg-type]
