"""Tamper evidence: the journal cannot be changed by the application, and a change made
around it is found by ``verify``, in the entry that was changed.

DESIGN.md §3: entries are never updated or deleted, and the hash chain lets ``verify`` prove
nothing was altered (research/reliability.md goal 10). Three layers are tested:

1. **``verify`` finds tampering** (both databases). Someone with more rights than the
   application — the SQLite file, or PostgreSQL's owner with the triggers disabled — edits
   one stored row: an amount, a description, a deleted posting, a deleted entry. ``verify``
   must report problems that name exactly the altered entry (for a deleted last entry: the
   book's head), by the check that should catch it.
2. **The application cannot UPDATE or DELETE journal rows.** On PostgreSQL, ``Database``
   acts as the application role, which has no such grant: permission denied. On SQLite the
   append-only triggers refuse. On PostgreSQL even the owner is refused while the triggers
   are on.
3. **PostgreSQL refuses unbalanced entries written around the ORM**, at COMMIT, by the
   deferred constraint trigger: an entry whose postings do not sum to zero within each
   fund, or with fewer than two postings. It also refuses any posting added in a later
   transaction to an entry already committed, even postings that keep it balanced: entries
   are immutable. Nothing of a refused transaction is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.core import journal
from ledger.core.entries import NewEntry, NewPosting, stored_entry_content_hash
from ledger.core.verify import Problem, verify
from ledger.store.database import Database
from ledger.store.tables import JournalEntry, LedgerBook, Posting
from tests.support.builders import World, make_budget, make_person, make_plan, make_world
from tests.support.tampering import Tamperer

# --- a small journal to tamper with ---------------------------------------------------------


@dataclass(frozen=True)
class Journal:
    """Entries, by role, of the journal every test here starts from."""

    book_id: int
    payments: list[int]
    """Four ordinary two-posting payments, in posting order; none reversed."""
    reversed_payment: int
    reversal: int
    last: int
    """The book's last entry (a payment)."""
    cash: int
    receivable: int


@pytest.fixture
def ledger_journal(db: Database) -> Journal:
    with db.write() as session:
        world = make_world(session)
        cash = world.account_id(session, "cash")
        receivable = world.account_id(session, "receivable:icb-devon")
        payments = [
            journal.post_entry(session, payment(world, cash, receivable, key=f"pay-{n}", pence=10_000 * n)).entry.id
            for n in range(1, 6)
        ]
    with db.write() as session:
        reversal = journal.reverse_entry(
            session, payments[4], entry_date=date(2026, 4, 20), idempotency_key="reverse-pay-5", created_by="test"
        ).entry.id
    with db.write() as session:
        last = journal.post_entry(session, payment(world, cash, receivable, key="pay-6", pence=60_000)).entry.id
    with db.read() as session:
        assert verify(session) == [], "the untouched journal verifies"
    return Journal(world.holder.id, payments[:4], payments[4], reversal, last, cash, receivable)


def payment(world: World, cash: int, receivable: int, *, key: str, pence: int) -> NewEntry:
    return NewEntry(
        book_id=world.holder.id,
        entry_date=date(2026, 4, 6),
        description="ICB payment for April",
        idempotency_key=key,
        postings=(NewPosting(cash, pence), NewPosting(receivable, -pence)),
        kind="funder_payment",
    )


@pytest.fixture
def tamperer(db: Database, backend: str, request: pytest.FixtureRequest) -> Tamperer:
    postgres = request.getfixturevalue("postgres_database") if backend == "postgresql" else None
    return Tamperer(db, postgres)


def problems_in(database: Database) -> list[Problem]:
    with database.read() as session:
        return verify(session)


def named(problems: list[Problem]) -> set[tuple[str, int | None]]:
    """Each problem as (check, entry it names)."""
    return {(problem.check, problem.entry_id) for problem in problems}


# --- 1. verify finds what was changed -------------------------------------------------------


def test_a_changed_amount_is_found_in_that_entry(db: Database, ledger_journal: Journal, tamperer: Tamperer) -> None:
    target = ledger_journal.payments[1]
    tamperer.execute(("UPDATE posting SET amount_pence = amount_pence + 1 WHERE entry_id = ? AND line_no = 1", [target]))
    problems = problems_in(db)
    assert named(problems) == {("balanced_per_fund", target), ("content_hash", target)}, problems
    assert all(problem.book_id == ledger_journal.book_id for problem in problems)


def test_a_changed_amount_that_still_balances_is_found_by_the_content_hash(
    db: Database, ledger_journal: Journal, tamperer: Tamperer
) -> None:
    target = ledger_journal.payments[2]
    tamperer.execute(
        ("UPDATE posting SET amount_pence = amount_pence + 500 WHERE entry_id = ? AND line_no = 1", [target]),
        ("UPDATE posting SET amount_pence = amount_pence - 500 WHERE entry_id = ? AND line_no = 2", [target]),
    )
    assert named(problems_in(db)) == {("content_hash", target)}


def test_recomputing_the_content_hash_does_not_hide_a_change(db: Database, ledger_journal: Journal, tamperer: Tamperer) -> None:
    """A tamperer who also rewrites the entry's content hash breaks its link in the chain:
    the chain hash covers the content hash."""
    target = ledger_journal.payments[0]
    with db.read() as session:
        original = journal.load_entry(session, target)
    altered = original._replace(description="Refund to the family")
    tamperer.execute(
        (
            "UPDATE journal_entry SET description = ?, content_hash = ? WHERE id = ?",
            [altered.description, stored_entry_content_hash(altered), target],
        )
    )
    assert named(problems_in(db)) == {("chain_hash", target)}


def test_an_edited_description_is_found_in_that_entry(db: Database, ledger_journal: Journal, tamperer: Tamperer) -> None:
    target = ledger_journal.payments[3]
    tamperer.execute(("UPDATE journal_entry SET description = ? WHERE id = ?", ["ICB payment for May", target]))
    problems = problems_in(db)
    assert named(problems) == {("content_hash", target)}
    assert "changed after posting" in problems[0].message


def test_a_deleted_posting_is_found_in_that_entry(db: Database, ledger_journal: Journal, tamperer: Tamperer) -> None:
    target = ledger_journal.payments[1]
    tamperer.execute(("DELETE FROM posting WHERE entry_id = ? AND line_no = 2", [target]))
    assert named(problems_in(db)) == {("posting_count", target), ("balanced_per_fund", target), ("content_hash", target)}


def test_deleting_the_last_entry_of_a_book_is_found_at_the_book_head(
    db: Database, ledger_journal: Journal, tamperer: Tamperer
) -> None:
    last = ledger_journal.last
    tamperer.execute(
        ("DELETE FROM posting WHERE entry_id = ?", [last]),
        ("DELETE FROM journal_entry WHERE id = ?", [last]),
    )
    problems = problems_in(db)
    assert named(problems) == {("book_head", None)}, problems
    assert problems[0].book_id == ledger_journal.book_id
    assert "entries are missing" in problems[0].message


def test_deleting_an_entry_inside_the_chain_breaks_the_next_link(
    db: Database, ledger_journal: Journal, tamperer: Tamperer
) -> None:
    deleted, following = ledger_journal.payments[1], ledger_journal.payments[2]
    tamperer.execute(
        ("DELETE FROM posting WHERE entry_id = ?", [deleted]),
        ("DELETE FROM journal_entry WHERE id = ?", [deleted]),
    )
    assert named(problems_in(db)) == {("chain_sequence", following), ("chain_link", following)}


def test_changing_a_reversed_entry_is_found_in_it_and_in_its_reversal(
    db: Database, ledger_journal: Journal, tamperer: Tamperer
) -> None:
    target = ledger_journal.reversed_payment
    tamperer.execute(
        ("UPDATE posting SET amount_pence = amount_pence * 2 WHERE entry_id = ?", [target]),
    )
    assert named(problems_in(db)) == {("content_hash", target), ("reversal", ledger_journal.reversal)}


# --- 2. the application cannot change journal rows --------------------------------------------

CHANGES = [
    pytest.param("UPDATE journal_entry SET description = 'edited' WHERE id = :id", id="update-entry"),
    pytest.param("DELETE FROM journal_entry WHERE id = :id", id="delete-entry"),
    pytest.param("UPDATE posting SET amount_pence = amount_pence + 1 WHERE entry_id = :id", id="update-posting"),
    pytest.param("DELETE FROM posting WHERE entry_id = :id", id="delete-posting"),
]


def snapshot(database: Database) -> tuple[object, ...]:
    """Everything of the journal a change could touch."""
    entry, posting = JournalEntry.__table__, Posting.__table__
    with database.read() as session:
        return (
            session.execute(select(entry).order_by(entry.c.id)).all(),
            session.execute(select(posting).order_by(posting.c.entry_id, posting.c.line_no)).all(),
            session.execute(select(LedgerBook.__table__).order_by(LedgerBook.holder_id)).all(),
        )


@pytest.mark.parametrize("statement", CHANGES)
def test_the_application_cannot_update_or_delete_journal_rows(
    db: Database, ledger_journal: Journal, statement: str
) -> None:
    before = snapshot(db)
    with pytest.raises(DBAPIError) as caught:
        with db.write() as session:
            session.execute(text(statement), {"id": ledger_journal.payments[0]})
    if db.is_sqlite:
        assert "journal rows are append-only" in str(caught.value.orig)
    else:
        assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege)
        assert "permission denied for table" in str(caught.value.orig), "refused by the grant, not only the trigger"
    assert snapshot(db) == before
    assert problems_in(db) == []


@pytest.mark.parametrize("table", ["journal_entry", "posting"])
def test_the_application_role_cannot_truncate_the_journal(pg: Database, table: str) -> None:
    with pg.write() as session:
        make_world(session)
    before = snapshot(pg)
    with pytest.raises(DBAPIError) as caught:
        with pg.write() as session:
            session.execute(text(f"TRUNCATE {table} CASCADE"))
    assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege)
    assert snapshot(pg) == before


@pytest.mark.parametrize("statement", CHANGES)
def test_even_the_owner_cannot_change_journal_rows_while_the_triggers_are_on(
    pg: Database, postgres_database, statement: str  # type: ignore[no-untyped-def]
) -> None:
    with pg.write() as session:
        make_world(session)
        entry_id = session.execute(select(JournalEntry.id)).scalar_one()
    before = snapshot(pg)
    with postgres_database.owner_connection() as owner:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="journal rows are append-only"):
            owner.execute(statement.replace(":id", "%s"), (entry_id,))
    assert snapshot(pg) == before


# --- 3. PostgreSQL refuses unbalanced entries written around the ORM, at COMMIT ----------------


@dataclass(frozen=True)
class Accounts:
    book_id: int
    cash: int
    receivable: int
    other_budget_cash: int
    existing_entry: int


@pytest.fixture
def accounts(pg: Database) -> Accounts:
    with pg.write() as session:
        world = make_world(session)
        other = make_budget(session, world.holder, make_person(session, "Sam Jones"), world.icb, reference="ISF-0002")
        make_plan(session, other, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
        cash = world.account_id(session, "cash")
        receivable = world.account_id(session, "receivable:icb-devon")
        existing = journal.post_entry(session, payment(world, cash, receivable, key="pay-1", pence=10_000)).entry.id
        return Accounts(world.holder.id, cash, receivable, world.account_id(session, "cash", other), existing)


def insert_entry_row(session: Session, book_id: int) -> int:
    """A journal_entry row written with plain SQL, as a bug or a script might, bypassing
    ``ledger.core.journal``."""
    entry_id = session.execute(text("SELECT nextval('journal_entry_id_seq')")).scalar_one()
    head_seq = session.execute(text("SELECT head_seq FROM ledger_book WHERE holder_id = :b"), {"b": book_id}).scalar_one()
    session.execute(
        text(
            "INSERT INTO journal_entry (id, book_id, seq, entry_date, kind, description, idempotency_key,"
            " created_at, created_by, content_hash, prev_hash, entry_hash)"
            " VALUES (:id, :book, :seq, DATE '2026-04-06', 'manual', 'written around the ORM', :key,"
            " now(), 'script', repeat('a', 64), repeat('b', 64), repeat('c', 64))"
        ),
        {"id": entry_id, "book": book_id, "seq": head_seq + 1, "key": f"raw-{entry_id}"},
    )
    return entry_id


def insert_postings(session: Session, entry_id: int, postings: list[tuple[int, int]], *, first_line: int = 1) -> None:
    for line_no, (account_id, amount) in enumerate(postings, first_line):
        session.execute(
            text(
                "INSERT INTO posting (entry_id, line_no, account_id, amount_pence, entry_date)"
                " VALUES (:entry, :line, :account, :amount, DATE '2026-04-06')"
            ),
            {"entry": entry_id, "line": line_no, "account": account_id, "amount": amount},
        )


def refused(database: Database, write: Callable[[Session], None], *, at_commit: bool) -> psycopg.Error:
    """Run ``write`` in a transaction; assert the database refused it with a check violation
    (``at_commit``: its statements were accepted and the COMMIT was refused) and that nothing
    of it was kept. Returns the database's error."""
    before = snapshot(database)
    statements_accepted = False
    with pytest.raises(DBAPIError) as caught:
        with database.write() as session:
            write(session)
            statements_accepted = True
    if at_commit:
        assert statements_accepted, f"refused before COMMIT, not by the deferred check: {caught.value.orig}"
    assert isinstance(caught.value.orig, psycopg.errors.CheckViolation), caught.value.orig
    assert snapshot(database) == before
    return caught.value.orig


UNBALANCED = [
    pytest.param(lambda a: [(a.cash, 100), (a.receivable, -99)], "does not sum to zero", id="off-by-a-penny"),
    pytest.param(lambda a: [(a.cash, 100)], "has 1 posting", id="one-posting"),
    pytest.param(lambda a: [], "has 0 posting", id="no-postings"),
    pytest.param(
        lambda a: [(a.cash, 100), (a.other_budget_cash, -100)], "does not sum to zero within fund", id="across-two-budgets"
    ),
]


@pytest.mark.parametrize(("postings", "message"), UNBALANCED)
def test_an_unbalanced_entry_written_around_the_orm_is_refused_at_commit(
    pg: Database, accounts: Accounts, postings: Callable[[Accounts], list[tuple[int, int]]], message: str
) -> None:
    def write(session: Session) -> None:
        insert_postings(session, insert_entry_row(session, accounts.book_id), postings(accounts))

    assert message in str(refused(pg, write, at_commit=True))


def test_a_balanced_entry_written_around_the_orm_passes_the_trigger_but_not_verify(pg: Database, accounts: Accounts) -> None:
    """The control for the test above: the trigger refuses imbalance, not raw SQL as such;
    what it lets through, ``verify`` still reports (the entry is outside the chain)."""
    with pg.write() as session:
        entry_id = insert_entry_row(session, accounts.book_id)
        insert_postings(session, entry_id, [(accounts.cash, 100), (accounts.receivable, -100)])
    problems = problems_in(pg)
    assert ("content_hash", entry_id) in named(problems)
    assert ("book_head", None) in named(problems)


LATE_POSTINGS = [
    pytest.param(lambda a: [(a.cash, 5)], id="one-posting-that-unbalances-it"),
    pytest.param(lambda a: [(a.cash, 1_000_000), (a.receivable, -1_000_000)], id="a-pair-that-still-balances"),
]


@pytest.mark.parametrize("postings", LATE_POSTINGS)
def test_a_posting_added_later_to_a_committed_entry_is_refused(
    pg: Database, accounts: Accounts, postings: Callable[[Accounts], list[tuple[int, int]]]
) -> None:
    """Entries are immutable: not even postings that keep an entry balanced may be added in a
    later transaction (refused at once or at COMMIT; either way nothing is kept)."""

    def write(session: Session) -> None:
        insert_postings(session, accounts.existing_entry, postings(accounts), first_line=3)

    refused(pg, write, at_commit=False)


def test_postings_appended_to_an_entry_behind_the_application_are_found_by_verify(
    db: Database, ledger_journal: Journal, tamperer: Tamperer
) -> None:
    """What the triggers refuse the application, someone with the owner's rights can still
    do; ``verify`` then names the entry (the pair balances, so only its hash shows it)."""
    target = ledger_journal.payments[0]
    appended = "INSERT INTO posting (entry_id, line_no, account_id, amount_pence, entry_date) VALUES (?, ?, ?, ?, ?)"
    tamperer.execute(
        (appended, [target, 3, ledger_journal.cash, 1_000_000, "2026-04-06"]),
        (appended, [target, 4, ledger_journal.receivable, -1_000_000, "2026-04-06"]),
    )
    assert named(problems_in(db)) == {("content_hash", target)}
