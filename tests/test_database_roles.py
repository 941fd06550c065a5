"""What the database itself refuses, whoever asks: the service's PostgreSQL login may be
neither a superuser nor an owner, it cannot migrate (its owner does), a posting dated other
than its entry is refused, and evidence once given is kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledger.core import journal
from ledger.core import journal_rows as rows
from ledger.core.entries import NewEntry, NewPosting
from ledger.flags.evidence import attach_evidence
from ledger.store import migrate
from ledger.store.database import Database, DatabaseConfigError
from ledger.store.roles import ensure_application_login
from tests.support.builders import World, make_world
from tests.support.databases import TEST_LOGIN, PostgresTestDatabase, admin_url

PDF = b"%PDF-1.7\n a receipt \n%%EOF"


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        return make_world(session)


def _entry(world: World, session, day: date) -> NewEntry:  # type: ignore[no-untyped-def]
    return NewEntry(
        book_id=world.holder.id, entry_date=day, description="ICB payment for April", idempotency_key=f"pay-{day}", kind="funder_payment",
        postings=(NewPosting(world.account_id(session, "cash"), 100_000), NewPosting(world.account_id(session, "receivable:icb-devon"), -100_000)),
    )  # fmt: skip


def test_a_posting_dated_otherwise_than_its_entry_is_refused_by_the_database(db: Database, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    insert_rows = rows.insert_rows

    def misdating(session, table, columns, values):  # type: ignore[no-untyped-def]
        if table == "posting":
            at = columns.index("entry_date")
            values = [(*row[:at], str(date.fromisoformat(str(row[at])) + timedelta(days=1)), *row[at + 1 :]) for row in values]
        insert_rows(session, table, columns, values)

    monkeypatch.setattr(rows, "insert_rows", misdating)
    with pytest.raises(DBAPIError, match="a posting is dated as its entry"), db.write() as session:
        journal.post_entry(session, _entry(world, session, date(2026, 4, 6)))
    monkeypatch.setattr(rows, "insert_rows", insert_rows)
    with db.write() as session:
        posted = journal.post_entry(session, _entry(world, session, date(2026, 4, 6)))
    with db.read() as session:
        dates = session.execute(text("SELECT DISTINCT entry_date FROM posting WHERE entry_id = :e"), {"e": posted.entry.id}).scalars().all()
    assert [str(d) for d in dates] == ["2026-04-06"]


def test_evidence_once_given_cannot_be_changed_or_deleted(db: Database, world: World) -> None:
    with db.write() as session:
        evidence = attach_evidence(
            session, world.holder.id, kind="receipt", file_name="receipt.pdf", content_type="application/pdf", content=PDF,
            uploaded_by="Sam (sam@test)", budget_id=world.budget.id,
        )  # fmt: skip
    for change in ("UPDATE evidence SET note = 'changed'", "DELETE FROM evidence"):
        with pytest.raises(DBAPIError, match="permission denied|are kept"), db.write() as session:
            session.execute(text(change))
    with db.read() as session:
        assert session.execute(text("SELECT id, note FROM evidence")).all() == [(evidence.id, None)]
        if not db.is_sqlite:
            for table in ("evidence", "repayment_notice"):
                for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
                    assert not session.execute(text("SELECT has_table_privilege(:t, :p)"), {"t": table, "p": privilege}).scalar_one()
                assert session.execute(text("SELECT has_table_privilege(:t, 'INSERT')"), {"t": table}).scalar_one()


# --- PostgreSQL's roles ---------------------------------------------------------------------------


def test_the_service_logs_in_as_neither_superuser_nor_owner_and_acts_as_the_application_role(pg: Database) -> None:
    with pg.read() as session:
        assert session.execute(text("SELECT session_user, current_user")).one() == (TEST_LOGIN, "phb_ledger_app")
        superuser, owns = session.execute(text(
            "SELECT r.rolsuper, EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) FROM pg_roles r WHERE r.rolname = session_user"
        )).one()  # fmt: skip
        assert (superuser, owns) == (False, False)
        assert not session.execute(text("SELECT has_schema_privilege('public', 'CREATE')")).scalar_one()


def test_a_superuser_login_is_refused_naming_what_to_do(postgres_database: PostgresTestDatabase) -> None:
    database = Database(postgres_database.owner_url)
    try:
        with pytest.raises(DatabaseConfigError, match="a superuser: give it a login that is neither"), database.read() as session:
            session.execute(text("SELECT 1"))
    finally:
        database.dispose()


@pytest.fixture
def owning_login(postgres_database: PostgresTestDatabase) -> Iterator[str]:
    """A login that is a member of the application role and owns one table."""
    login = f"phb_owner_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        ensure_application_login(connection, login)
    with postgres_database.owner_connection() as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(login)))
        connection.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(login), sql.Identifier(login)))
    try:
        yield login
    finally:
        with postgres_database.owner_connection() as connection:
            connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(login)))
        with psycopg.connect(admin_url(), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))


def test_a_login_that_owns_a_table_or_is_a_member_of_its_owner_is_refused(postgres_database: PostgresTestDatabase, owning_login: str) -> None:
    member = f"{owning_login}_member"
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        ensure_application_login(connection, member)
        connection.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(owning_login), sql.Identifier(member)))
    try:
        for login in (owning_login, member):
            database = Database(make_url(postgres_database.url).set(username=login).render_as_string(hide_password=False))
            try:
                with pytest.raises(DatabaseConfigError, match="the owner of the database or its tables"), database.read() as session:
                    session.execute(text("SELECT 1"))
            finally:
                database.dispose()
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(member)))


@pytest.fixture
def empty_database(postgres_database: PostgresTestDatabase) -> Iterator[tuple[str, str]]:
    """A new, unmigrated database: (the service's login URL, the owner's URL)."""
    name = f"phb_empty_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    owner = make_url(postgres_database.owner_url).set(database=name)
    try:
        yield (owner.set(username=TEST_LOGIN, password=None).render_as_string(hide_password=False),
               owner.render_as_string(hide_password=False))  # fmt: skip
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_service_cannot_migrate_and_says_the_owner_does(empty_database: tuple[str, str]) -> None:
    login_url, owner_url = empty_database
    service = Database(login_url)
    try:
        with pytest.raises(DatabaseConfigError, match="its owner does: set PHB_LEDGER_OWNER_DATABASE_URL"):
            migrate.upgrade(service)
    finally:
        service.dispose()
    with_owner = Database(login_url, owner_url=owner_url)
    try:
        migrate.upgrade(with_owner)
        assert migrate.current_revision(with_owner) == migrate.head_revision(with_owner)
        with with_owner.read() as session:
            assert session.execute(text("SELECT count(*) FROM category")).scalar_one() > 0
    finally:
        with_owner.dispose()
