"""The journal against an independent model, by Hypothesis stateful testing, on both databases.

Example-based tests (``test_journal.py``) check each rule once; this checks that the rules
hold *together*, in any order, over random sequences of actions: post random entries (some
deliberately malformed: unbalanced, a zero amount, an unknown account, a budget without an
agreed plan, another book's account, a reused key…), reverse random entries (twice, or
reversals of reversals), replay a key with the same content or with other content, close
financial quarters (twice), and post into closed ones. Before any action the model in
``tests/support/ledger_model.py`` — plain dicts that share none of the ledger's checks —
says what must happen (which outcome, or which error and code); the test asserts the
journal did exactly that, and after every step that the database holds what the model
holds:

- every account balance (``ledger.core.balances.signed_sums``) is the model's;
- every fund sums to zero;
- the journal holds exactly the model's entries (ids, books, sequence numbers 1..n,
  keys, dates, reversal links, postings, chain hashes) and each book's head is its last
  entry — so a refused request or a replay changed nothing;
- ``ledger.core.verify.verify`` finds no problem.

Each Hypothesis example runs on a fresh database: a copy of a migrated SQLite file with the
test's world already built, or the session's PostgreSQL database emptied and the world built
again. ``PHB_LEDGER_MODEL_EXAMPLES`` and ``PHB_LEDGER_MODEL_STEPS`` raise the number of
examples (at least 200) and of steps per example (at least 15) for soak runs.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets import parties
from ledger.core import journal, periods
from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, NewPosting, PostOutcome, PostResult, Provenance
from ledger.core.journal_rows import load_entries
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput, LedgerError
from ledger.store.database import Database
from ledger.store.tables import Account, Budget, Holder, JournalEntry, LedgerBook, Posting
from ledger.store.tables.journal import GENESIS_HASH
from tests.support.builders import make_budget, make_person, make_plan, make_world
from tests.support.databases import PostgresTestDatabase, SqliteTemplate
from tests.support.ledger_model import (
    AMOUNT_LIMIT_PENCE,
    LedgerModel,
    ModelAccount,
    Posted,
    Refused,
    financial_quarter,
    posting_multiset,
    quarter_days,
    with_changes,
)

EXAMPLES = max(200, int(os.environ.get("PHB_LEDGER_MODEL_EXAMPLES") or 0))
STEPS = max(15, int(os.environ.get("PHB_LEDGER_MODEL_STEPS") or 0))
"""Fifteen steps keep this file near two minutes on two cores (a fresh PostgreSQL world per
example costs as much as a dozen steps); raise both for soak runs."""
MODEL_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CREATED_BY = "model-test"
EARLIEST_DAY = date(2026, 1, 1)
LATEST_DAY = date(2027, 6, 30)
QUARTERS = [financial_quarter(EARLIEST_DAY)] + [(2026, n) for n in (1, 2, 3, 4)] + [(2027, 1)]
"""The financial quarters the random dates fall in (2025Q4 to 2027Q1); the setup's
allocations are dated 20 March 2026, in 2025Q4."""
KINDS = ["manual", "funder_payment", "drawdown", "card_purchase", "fee", "transfer"]
MISSING_ID = 987_654_321

# What the setup's agreed plans allocate, in pence, by account code: the model starts from the
# setup's entries only after checking they come to this.
SETUP_BALANCES = {
    "ISF-0001:receivable:icb-devon": 3_200_000,
    "ISF-0001:allocation:icb-devon": -3_200_000,
    "ISF-0001:receivable:plymouth-asc": 2_000_000,
    "ISF-0001:allocation:plymouth-asc": -2_000_000,
    "ISF-0002:receivable:icb-devon": 1_000_000,
    "ISF-0002:allocation:icb-devon": -1_000_000,
}
BUDGET_ACCOUNT_SUFFIXES = (
    "cash", "card", "contingency", "payable", "fees", "receivable:icb-devon", "allocation:icb-devon",
    "spend:staff_pay", "spend:activities",
)  # fmt: skip


# --- the world every example starts from ---------------------------------------------------


def build_world(session: Session) -> None:
    """Holder ``sunrise`` with three budgets — ISF-0001 (ICB and council, agreed), ISF-0002
    (ICB, agreed), ISF-0003 (no plan, so it moves no money) — and holder ``harbour`` with an
    empty book of its own."""
    world = make_world(session)
    second = make_budget(session, world.holder, make_person(session, "Sam Jones"), world.icb, reference="ISF-0002")
    make_plan(session, second, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
    make_budget(session, world.holder, make_person(session, "Kit Brown"), world.icb, reference="ISF-0003")
    parties.create_holder(session, parties.HolderSpec("harbour", "Harbour Care", "isf_provider"))


@dataclass(frozen=True)
class WorldFacts:
    """Ids the rules draw from, read from the database after :func:`build_world`."""

    main_book: int
    other_book: int
    funds_by_book: dict[int, list[list[int]]]
    """book → for each fund with money to move, the accounts random postings use."""
    unagreed_pair: tuple[int, int]
    """Two accounts of ISF-0003, which has no agreed plan."""
    accounts: dict[int, ModelAccount]
    account_codes: dict[str, int]

    @property
    def books(self) -> list[int]:
        return [self.main_book, self.other_book]


def read_world(session: Session) -> WorldFacts:
    holders = dict(session.execute(select(Holder.code, Holder.id)).all())
    budgets = dict(session.execute(select(Budget.reference, Budget.id)).all())
    agreed = {budgets["ISF-0001"], budgets["ISF-0002"]}  # by construction, see build_world
    rows = session.execute(select(Account.id, Account.code, Account.holder_id, Account.budget_id)).all()
    codes = {row.code: row.id for row in rows}
    accounts = {
        row.id: ModelAccount(row.id, row.holder_id, row.budget_id, row.budget_id is None or row.budget_id in agreed)
        for row in rows
    }
    main, other = holders["sunrise"], holders["harbour"]
    return WorldFacts(
        main_book=main,
        other_book=other,
        funds_by_book={
            main: [
                [codes[f"ISF-0001:{s}"] for s in (*BUDGET_ACCOUNT_SUFFIXES, "receivable:plymouth-asc")],
                [codes[f"ISF-0002:{s}"] for s in BUDGET_ACCOUNT_SUFFIXES],
                [codes["holder:sunrise:unallocated"], codes["holder:sunrise:unidentified"]],
            ],
            other: [[codes["holder:harbour:unallocated"], codes["holder:harbour:unidentified"]]],
        },
        unagreed_pair=(codes["ISF-0003:card"], codes["ISF-0003:cash"]),
        accounts=accounts,
        account_codes=codes,
    )


def model_of(session: Session, facts: WorldFacts) -> LedgerModel:
    """The model of a freshly built world: its accounts, and the setup's entries taken in
    after checking that they are exactly the agreed allocations."""
    model = LedgerModel(accounts=dict(facts.accounts), books=set(facts.books))
    ids = session.execute(select(JournalEntry.id).order_by(JournalEntry.book_id, JournalEntry.seq)).scalars().all()
    stored = load_entries(session, ids)
    for entry_id in ids:
        entry = stored[entry_id]
        request = NewEntry(
            book_id=entry.book_id,
            entry_date=entry.entry_date,
            description=entry.description,
            idempotency_key=entry.idempotency_key,
            postings=tuple(NewPosting(p.account_id, p.amount_pence) for p in entry.postings),
            kind=entry.kind,
            provenance=entry.provenance,
            reverses_entry_id=entry.reverses_entry_id,
            created_by=entry.created_by,
        )
        model.adopt(entry.id, entry.seq, request, entry.entry_hash)
    expected = {facts.account_codes[code]: pence for code, pence in SETUP_BALANCES.items()}
    assert model.nonzero_balances() == expected, "the setup should post exactly the agreed allocations"
    return model


class FreshDatabases:
    """Hands each Hypothesis example a new database with the world built, and cleans up."""

    def open(self) -> tuple[Database, WorldFacts, LedgerModel]:
        raise NotImplementedError

    def close(self, database: Database) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """After the last example."""


class FreshSqlite(FreshDatabases):
    """Copies of one SQLite file: the migrated template with the world built once."""

    def __init__(self, template: SqliteTemplate, directory: Path) -> None:
        self.directory = directory
        self.world_path = directory / "world.db"
        database = Database(template.copy_to(self.world_path))
        with database.write() as session:
            build_world(session)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.dispose()
        self.numbers = itertools.count(1)

    def open(self) -> tuple[Database, WorldFacts, LedgerModel]:
        path = self.directory / f"example-{next(self.numbers)}.db"
        shutil.copyfile(self.world_path, path)
        database = Database(f"sqlite:///{path}")
        with database.read() as session:
            facts = read_world(session)
            return database, facts, model_of(session, facts)

    def close(self, database: Database) -> None:
        database.dispose()
        path = Path(database.engine.url.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class FreshPostgres(FreshDatabases):
    """The session's PostgreSQL database, emptied and the world built again per example."""

    def __init__(self, postgres: PostgresTestDatabase) -> None:
        self.postgres = postgres
        self.database = postgres.database()

    def open(self) -> tuple[Database, WorldFacts, LedgerModel]:
        self.postgres.empty()
        with self.database.write() as session:
            build_world(session)
        with self.database.read() as session:
            facts = read_world(session)
            return self.database, facts, model_of(session, facts)

    def close(self, database: Database) -> None:
        pass  # emptied by the next open

    def finish(self) -> None:
        self.database.dispose()


# --- strategies -----------------------------------------------------------------------------

signed_amounts = st.tuples(st.booleans(), st.integers(min_value=1, max_value=1_000_000_000)).map(
    lambda pair: pair[1] if pair[0] else -pair[1]
)
entry_days = st.dates(min_value=EARLIEST_DAY, max_value=LATEST_DAY)
descriptions = st.sampled_from(
    [
        "ICB payment for April",
        "Card: Tesco Extra, Plymouth",
        "Payroll — PA wages wk 14",
        "Swimming lessons £4.50 × 6",
        "Café visit with support worker",
        "x" * 500,  # the longest allowed
    ]
)
provenances = st.sampled_from(
    [
        Provenance(),
        Provenance("bank-2026-04.csv", 17, "csv", "csv-importer"),
        Provenance("card-2026-05.ofx", 3, "ofx", "ofx-importer"),
    ]
)


@st.composite
def balanced_postings(draw: st.DrawFn, funds: list[list[int]]) -> tuple[NewPosting, ...]:
    """Postings over one to three funds, two or three per fund, each fund summing to zero.
    (A three-posting fund can draw a last amount of zero: the model knows what that means.)"""
    chosen = draw(st.lists(st.sampled_from(range(len(funds))), min_size=1, max_size=min(3, len(funds)), unique=True))
    postings: list[NewPosting] = []
    for fund in chosen:
        width = draw(st.integers(min_value=2, max_value=3))
        amounts = [draw(signed_amounts) for _ in range(width - 1)]
        amounts.append(-sum(amounts))
        postings += [NewPosting(draw(st.sampled_from(funds[fund])), amount) for amount in amounts]
    return tuple(draw(st.permutations(postings)))


FLAWS = [
    "unbalanced",
    "zero_amount",
    "too_large",
    "single_posting",
    "unknown_account",
    "other_book_account",
    "unagreed_budget",
    "blank_description",
    "long_description",
    "bad_key",
    "date_out_of_range",
    "unknown_book",
    "unknown_kind",
    "claims_reversal",
    "bad_source_line",
    "reused_key",
]


# --- the state machine ------------------------------------------------------------------------


class JournalMachine(RuleBasedStateMachine):
    """One Hypothesis example: a fresh database and its model, driven by the rules below.
    Each rule asks the model what must happen, does it through the ledger's own functions,
    and checks the outcome; the invariant then compares the whole database with the model."""

    def __init__(self, databases: FreshDatabases) -> None:
        super().__init__()
        self.databases = databases
        self.database, self.facts, self.model = databases.open()
        self.key_numbers = itertools.count(1)

    def teardown(self) -> None:
        self.databases.close(self.database)

    # --- helpers ---

    def fresh_key(self) -> str:
        return f"model-{next(self.key_numbers)}"

    def draw_request(self, data: st.DataObject, book: int, *, entry_date: date | None = None) -> NewEntry:
        return NewEntry(
            book_id=book,
            entry_date=entry_date or data.draw(entry_days, label="entry_date"),
            description=data.draw(descriptions, label="description"),
            idempotency_key=self.fresh_key(),
            postings=data.draw(balanced_postings(self.facts.funds_by_book[book]), label="postings"),
            kind=data.draw(st.sampled_from(KINDS), label="kind"),
            provenance=data.draw(provenances, label="provenance"),
            created_by=CREATED_BY,
        )

    def keys_of(self, book: int) -> list[str]:
        return sorted(key for key_book, key in self.model.keys if key_book == book)

    def attempt(self, action: Callable[[Session], PostResult]) -> PostResult | LedgerError:
        try:
            with self.database.write() as session:
                return action(session)
        except LedgerError as error:
            return error

    def check_post(self, expected: Refused | Posted, got: PostResult | LedgerError, request: NewEntry | None) -> None:
        """Assert the journal did what the model expected; take a created entry into the model."""
        if isinstance(expected, Refused):
            assert isinstance(got, LedgerError), f"expected refusal {expected.code}, got {got!r}"
            assert isinstance(got, expected.error) and got.code == expected.code, (
                f"expected {expected.error.__name__}({expected.code}), got {type(got).__name__}({got.code}): {got.message}"
            )
            return
        assert isinstance(got, PostResult), f"expected {expected.outcome}, got {type(got).__name__}: {got}"
        assert got.outcome is expected.outcome, f"expected {expected.outcome}, got {got.outcome}"
        stored = got.entry
        if expected.outcome is PostOutcome.CREATED:
            assert request is not None
            assert (stored.book_id, stored.seq) == (request.book_id, expected.seq)
            assert (stored.entry_date, stored.kind, stored.description, stored.idempotency_key) == (
                request.entry_date, request.kind, request.description, request.idempotency_key
            )  # fmt: skip
            assert (stored.reverses_entry_id, stored.provenance) == (request.reverses_entry_id, request.provenance)
            assert posting_multiset(stored.postings) == posting_multiset(request.postings)
            self.model.adopt(stored.id, stored.seq, request, stored.entry_hash)
            return
        original = expected.original
        assert original is not None
        assert (stored.id, stored.seq, stored.entry_hash) == (original.entry_id, original.seq, original.entry_hash), (
            "a replay must return the original entry unchanged"
        )

    def post_and_check(self, request: NewEntry) -> Refused | Posted:
        expected = self.model.expect_post(request)
        self.check_post(expected, self.attempt(lambda session: journal.post_entry(session, request)), request)
        return expected

    # --- rules ---

    @rule(data=st.data())
    def post_a_random_entry(self, data: st.DataObject) -> None:
        book = data.draw(st.sampled_from([self.facts.main_book] * 4 + [self.facts.other_book]), label="book")
        request = self.draw_request(data, book)
        if data.draw(st.booleans(), label="flawed"):
            request = self.with_flaw(data, request, data.draw(st.sampled_from(FLAWS), label="flaw"))
        self.post_and_check(request)

    def with_flaw(self, data: st.DataObject, request: NewEntry, flaw: str) -> NewEntry:
        postings = list(request.postings)
        where = data.draw(st.integers(min_value=0, max_value=len(postings) - 1), label="posting")
        account, amount = postings[where]
        if flaw == "unbalanced":
            postings[where] = NewPosting(account, amount + data.draw(st.sampled_from([-100, -1, 1, 7, 100_000])))
        elif flaw == "zero_amount":
            postings[where] = NewPosting(account, 0)
        elif flaw == "too_large":
            postings[where] = NewPosting(account, AMOUNT_LIMIT_PENCE + 1)
        elif flaw == "single_posting":
            postings = postings[:1]
        elif flaw == "unknown_account":
            postings[where] = NewPosting(MISSING_ID, amount)
        elif flaw == "other_book_account":
            other = next(b for b in self.facts.books if b != request.book_id)
            postings[where] = NewPosting(self.facts.funds_by_book[other][0][0], amount)
        elif flaw == "unagreed_budget":
            card, cash = self.facts.unagreed_pair
            postings += [NewPosting(card, abs(amount)), NewPosting(cash, -abs(amount))]
        elif flaw == "blank_description":
            return with_changes(request, description="   ")
        elif flaw == "long_description":
            return with_changes(request, description="x" * 501)
        elif flaw == "bad_key":
            return with_changes(request, idempotency_key=data.draw(st.sampled_from(["", " padded", "tab\there"])))
        elif flaw == "date_out_of_range":
            return with_changes(request, entry_date=data.draw(st.sampled_from([date(1999, 12, 31), date(2100, 1, 1)])))
        elif flaw == "unknown_book":
            return with_changes(request, book_id=MISSING_ID)
        elif flaw == "unknown_kind":
            return with_changes(request, kind="gift")
        elif flaw == "claims_reversal":
            targets = sorted(self.model.entries) + [MISSING_ID]
            return with_changes(request, reverses_entry_id=data.draw(st.sampled_from(targets), label="claims_to_reverse"))
        elif flaw == "bad_source_line":
            return with_changes(request, provenance=Provenance("bank.csv", 0, "csv", "csv-importer"))
        elif flaw == "reused_key" and self.model.keys:
            # Usually a key of this book (a replay with other content); sometimes one only
            # another book has used, which is fresh here: keys are per book.
            book_keys = self.keys_of(request.book_id)
            any_keys = sorted(key for _, key in self.model.keys)
            keys = book_keys if book_keys and data.draw(st.integers(0, 3), label="same_book") else any_keys
            return with_changes(request, idempotency_key=data.draw(st.sampled_from(keys), label="reused_key"))
        return with_changes(request, postings=tuple(postings))

    @precondition(lambda self: self.model.entries)
    @rule(data=st.data())
    def reverse_a_random_entry(self, data: st.DataObject) -> None:
        # Mostly an entry already in a reversal (reversed, or a reversal itself) when there is
        # one, so that second reversals and reversals of reversals come up often.
        involved = sorted(set(self.model.reversed_by) | set(self.model.reversed_by.values()))
        pool = involved if involved and data.draw(st.booleans(), label="involved") else sorted(self.model.entries)
        target = MISSING_ID if data.draw(st.integers(0, 9), label="missing") == 0 else data.draw(st.sampled_from(pool))
        book = self.model.entries[target].request.book_id if target in self.model.entries else self.facts.main_book
        reuse = data.draw(st.booleans(), label="reuse_a_key") and self.keys_of(book)
        key = data.draw(st.sampled_from(self.keys_of(book))) if reuse else self.fresh_key()
        entry_date = data.draw(entry_days, label="entry_date")
        description = data.draw(st.none() | descriptions, label="description")
        request = self.model.reversal_request(
            target, entry_date=entry_date, idempotency_key=key, description=description, created_by=CREATED_BY
        )
        expected = self.model.expect_reverse(request)
        got = self.attempt(
            lambda session: journal.reverse_entry(
                session, target, entry_date=entry_date, idempotency_key=key, created_by=CREATED_BY, description=description
            )
        )
        self.check_post(expected, got, request)

    @precondition(lambda self: self.model.entries)
    @rule(data=st.data())
    def replay_an_entry_unchanged(self, data: st.DataObject) -> None:
        entry = self.model.entries[data.draw(st.sampled_from(sorted(self.model.entries)), label="entry")]
        request = entry.request
        target = request.reverses_entry_id
        if target is not None and data.draw(st.booleans(), label="through_reverse_entry"):
            # The same reversal asked for again, by anyone: the same request rebuilt.
            again = self.model.reversal_request(
                target,
                entry_date=request.entry_date,
                idempotency_key=request.idempotency_key,
                description=request.description,
                created_by="someone else",
            )
            expected = self.model.expect_reverse(again)
            assert expected == Posted(PostOutcome.EXISTS, original=entry)
            got = self.attempt(
                lambda session: journal.reverse_entry(
                    session,
                    target,
                    entry_date=request.entry_date,
                    idempotency_key=request.idempotency_key,
                    created_by="someone else",
                    description=request.description,
                )
            )
            self.check_post(expected, got, again)
            return
        shuffled = with_changes(request, postings=tuple(data.draw(st.permutations(request.postings), label="order")))
        assert self.post_and_check(shuffled) == Posted(PostOutcome.EXISTS, original=entry)

    @precondition(lambda self: self.model.entries)
    @rule(data=st.data())
    def replay_a_key_with_other_content(self, data: st.DataObject) -> None:
        entry = self.model.entries[data.draw(st.sampled_from(sorted(self.model.entries)), label="entry")]
        request = entry.request
        # One field alone half the time, so that every outcome of the precedence order comes
        # up, not mostly the first.
        every_field = ["postings", "date", "reversal", "kind", "description", "provenance"]
        fields = data.draw(
            st.sets(st.sampled_from(every_field), min_size=1, max_size=1 if data.draw(st.booleans()) else 6),
            label="changed",
        )
        changes: dict[str, object] = {}
        if "postings" in fields:
            changes["postings"] = data.draw(balanced_postings(self.facts.funds_by_book[request.book_id]))
        if "date" in fields:
            changes["entry_date"] = request.entry_date + timedelta(days=data.draw(st.integers(1, 400)))
        if "reversal" in fields:
            others = [i for i in sorted(self.model.entries) if i != request.reverses_entry_id] + [MISSING_ID]
            changes["reverses_entry_id"] = None if request.reverses_entry_id else data.draw(st.sampled_from(others))
        if "kind" in fields:
            changes["kind"] = data.draw(st.sampled_from([k for k in KINDS + ["reversal"] if k != request.kind]))
        if "description" in fields:
            changes["description"] = request.description[:400] + " (amended)"
        if "provenance" in fields:
            changes["provenance"] = Provenance("amended.csv", data.draw(st.integers(1, 99)), "csv", "csv-importer")
        expected = self.post_and_check(with_changes(request, **changes))
        if isinstance(expected, Posted):
            assert expected.outcome.is_conflict or expected.outcome is PostOutcome.EXISTS

    @rule(data=st.data(), quarter=st.sampled_from(QUARTERS))
    def close_a_quarter(self, data: st.DataObject, quarter: tuple[int, int]) -> None:
        book = data.draw(st.sampled_from(self.facts.books), label="book")
        expected = self.model.expect_close(book, quarter)
        try:
            with self.database.write() as session:
                periods.close_quarter(session, book, periods.Quarter(*quarter), closed_by=CREATED_BY)
        except LedgerError as error:
            assert expected is not None, f"closing {quarter} was refused: {error.code}: {error.message}"
            assert isinstance(error, expected.error) and error.code == expected.code, f"{error.code}: {error.message}"
            return
        assert expected is None, f"closing {quarter} twice should be refused with {expected.code}"
        self.model.record_close(book, quarter)

    @precondition(lambda self: self.model.closed)
    @rule(data=st.data())
    def post_into_a_closed_quarter(self, data: st.DataObject) -> None:
        book, quarter = data.draw(st.sampled_from(sorted(self.model.closed)), label="closed")
        first, last = quarter_days(*quarter)
        request = self.draw_request(data, book, entry_date=data.draw(st.dates(first, last), label="entry_date"))
        request = with_changes(request, description="Posted into a closed quarter")
        expected = self.post_and_check(request)
        # A fresh key and a balanced entry: refused for the closed quarter (unless a
        # three-posting fund drew a zero amount, which is refused before anything is looked up).
        assert expected in (Refused(Conflict, "period_closed"), Refused(InvalidInput, "posting_zero_amount"))

    # --- the invariant: checked after every step, in one read transaction ---

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        with self.database.read() as session:
            self.check_balances(session)
            self.check_journal(session)
            self.check_verify(session)

    def check_balances(self, session: Session) -> None:
        """Every account's balance is the model's, and every fund sums to zero."""
        balances = {account: total for account, total in signed_sums(session).items() if total != 0}
        assert balances == self.model.nonzero_balances()
        unbalanced = {fund: total for fund, total in self.model.fund_totals(balances).items() if total != 0}
        assert unbalanced == {}, f"funds that do not sum to zero: {unbalanced}"

    def check_journal(self, session: Session) -> None:
        """The journal holds exactly the model's entries, and each book's head is its last."""
        entry, posting, book = JournalEntry.__table__, Posting.__table__, LedgerBook.__table__
        rows = session.execute(
            select(entry.c.id, entry.c.book_id, entry.c.seq, entry.c.idempotency_key, entry.c.entry_date,
                   entry.c.reverses_entry_id, entry.c.entry_hash)
        ).all()  # fmt: skip
        postings: dict[int, Counter[tuple[int, int]]] = {}
        for row in session.execute(select(posting.c.entry_id, posting.c.account_id, posting.c.amount_pence)):
            postings.setdefault(row.entry_id, Counter())[(row.account_id, row.amount_pence)] += 1
        heads = {row.holder_id: (row.head_seq, row.head_hash) for row in session.execute(select(book))}
        stored = {
            row.id: (row.book_id, row.seq, row.idempotency_key, row.entry_date, row.reverses_entry_id, row.entry_hash,
                     postings.get(row.id, Counter()))
            for row in rows
        }  # fmt: skip
        modelled = {
            e.entry_id: (e.request.book_id, e.seq, e.request.idempotency_key, e.request.entry_date,
                         e.request.reverses_entry_id, e.entry_hash, posting_multiset(e.request.postings))
            for e in self.model.entries.values()
        }  # fmt: skip
        assert stored == modelled
        expected_heads = {
            book_id: (len(chain), self.model.entries[chain[-1]].entry_hash) if chain else (0, GENESIS_HASH)
            for book_id in self.model.books
            for chain in [self.model.chains.get(book_id, [])]
        }
        assert heads == expected_heads

    @staticmethod
    def check_verify(session: Session) -> None:
        problems = verify(session)
        assert problems == [], "\n".join(str(problem) for problem in problems)


def test_the_journal_behaves_like_the_model(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Fixtures are per test, not per Hypothesis example, so the test takes the session's
    template or database and hands the machine a factory for a fresh one per example."""
    databases: FreshDatabases
    if backend == "sqlite":
        databases = FreshSqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        databases = FreshPostgres(request.getfixturevalue("postgres_database"))
    try:
        run_state_machine_as_test(lambda: JournalMachine(databases), settings=MODEL_SETTINGS)
    finally:
        databases.finish()


# --- found while building the model: limits both databases must enforce alike ---------------------


TOO_LONG_TO_STORE = [
    pytest.param({"provenance": Provenance("f" * 501, 1, "csv", "csv-importer")}, id="source_file-501-chars"),
    pytest.param({"provenance": Provenance("bank.csv", 1, "x" * 41, "csv-importer")}, id="source_format-41-chars"),
    pytest.param({"provenance": Provenance("bank.csv", 1, "csv", "i" * 81)}, id="importer-81-chars"),
    pytest.param({"provenance": Provenance("bank.csv", 2**31, "csv", "csv-importer")}, id="source_line-2**31"),
    pytest.param({"created_by": "u" * 201}, id="created_by-201-chars"),
]


@pytest.mark.parametrize("change", TOO_LONG_TO_STORE)
def test_an_entry_the_database_cannot_store_is_refused_as_invalid_input_on_both_databases(
    db: Database, change: dict[str, object]
) -> None:
    with db.write() as session:
        build_world(session)
    with db.read() as session:
        facts = read_world(session)
        before = session.execute(select(JournalEntry.id)).scalars().all()
    cash, receivable = facts.account_codes["ISF-0001:cash"], facts.account_codes["ISF-0001:receivable:icb-devon"]
    entry = NewEntry(
        book_id=facts.main_book,
        entry_date=date(2026, 5, 1),
        description="Statement line",
        idempotency_key="too-long",
        postings=(NewPosting(cash, 500), NewPosting(receivable, -500)),
        kind="funder_payment",
    )
    with pytest.raises(InvalidInput):
        with db.write() as session:
            journal.post_entry(session, with_changes(entry, **change))
    with db.read() as session:
        assert session.execute(select(JournalEntry.id)).scalars().all() == before
