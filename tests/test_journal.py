"""The journal's rules, on both databases: post, replay, conflict, reverse, close periods."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.core import journal, periods
from ledger.core.entries import NewEntry, NewPosting, PostOutcome, Provenance
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.database import Database
from ledger.store.tables import JournalEntry, Posting
from tests.support.builders import World, make_budget, make_person, make_world


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        return make_world(session)


def payment(world: World, session, *, key: str = "pay-1", pence: int = 100_000, day: date = date(2026, 4, 6), **extra) -> NewEntry:  # type: ignore[no-untyped-def]
    return NewEntry(
        book_id=world.holder.id,
        entry_date=day,
        description="ICB payment for April",
        idempotency_key=key,
        postings=(
            NewPosting(world.account_id(session, "cash"), pence),
            NewPosting(world.account_id(session, "receivable:icb-devon"), -pence),
        ),
        kind="funder_payment",
        **extra,
    )


def counts(db: Database) -> tuple[int, int]:
    with db.read() as session:
        return (
            session.execute(select(func.count()).select_from(JournalEntry)).scalar_one(),
            session.execute(select(func.count()).select_from(Posting)).scalar_one(),
        )


def test_post_then_replay_returns_the_original(db: Database, world: World) -> None:
    with db.write() as session:
        first = journal.post_entry(session, payment(world, session))
    with db.write() as session:
        again = journal.post_entry(session, payment(world, session))
    assert first.outcome is PostOutcome.CREATED
    assert again.outcome is PostOutcome.EXISTS
    assert again.entry == first.entry


def test_replay_with_postings_in_another_order_is_the_same_entry(db: Database, world: World) -> None:
    with db.write() as session:
        entry = payment(world, session)
        journal.post_entry(session, entry)
        reordered = NewEntry(**{**_fields(entry), "postings": tuple(reversed(entry.postings))})
        assert journal.post_entry(session, reordered).outcome is PostOutcome.EXISTS


def _fields(entry: NewEntry) -> dict:
    return {name: getattr(entry, name) for name in entry.__slots__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"pence": 100_001}, PostOutcome.EXISTS_WITH_DIFFERENT_POSTINGS),
        ({"day": date(2026, 4, 7)}, PostOutcome.EXISTS_WITH_DIFFERENT_DATE),
        ({"kind": "transfer"}, PostOutcome.EXISTS_WITH_DIFFERENT_KIND),
        ({"description": "something else"}, PostOutcome.EXISTS_WITH_DIFFERENT_DESCRIPTION),
        ({"provenance": Provenance("statement.ofx", 12, "ofx", "ofx")}, PostOutcome.EXISTS_WITH_DIFFERENT_PROVENANCE),
    ],
)
def test_same_key_other_content_is_a_conflict_that_changes_nothing(db: Database, world: World, change: dict, outcome: PostOutcome) -> None:
    with db.write() as session:
        journal.post_entry(session, payment(world, session))
    before = counts(db)
    with db.write() as session:
        base = _fields(payment(world, session, **{k: v for k, v in change.items() if k in ("pence", "day")}))
        base.update({k: v for k, v in change.items() if k not in ("pence", "day")})
        result = journal.post_entry(session, NewEntry(**base))
    assert result.outcome is outcome
    assert result.outcome.is_conflict
    assert counts(db) == before


def test_entries_chain_in_order_and_verify(db: Database, world: World) -> None:
    with db.write() as session:
        results = journal.post_entries(session, [payment(world, session, key=f"k{i}", pence=100 + i) for i in range(50)])
    seqs = [r.entry.seq for r in results]
    assert seqs == sorted(seqs) and len(set(seqs)) == 50
    for earlier, later in zip(results, results[1:]):
        assert later.entry.prev_hash == earlier.entry.entry_hash
    with db.read() as session:
        assert verify(session) == []


def test_a_batch_with_a_repeated_key_posts_it_once(db: Database, world: World) -> None:
    with db.write() as session:
        entries = [payment(world, session, key="same"), payment(world, session, key="same"), payment(world, session, key="same", pence=5)]
        results = journal.post_entries(session, entries)
    assert [r.outcome for r in results] == [PostOutcome.CREATED, PostOutcome.EXISTS, PostOutcome.EXISTS_WITH_DIFFERENT_POSTINGS]
    assert results[1].entry.id == results[0].entry.id
    assert counts(db)[0] == 2  # the allocation and this one


def _assert_refused(db: Database, error: type, code: str, build) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    with pytest.raises(error) as caught:
        with db.write() as session:
            journal.post_entries(session, build(session))
    assert caught.value.code == code, caught.value.message
    assert counts(db) == before


def test_unbalanced_entry_is_refused(db: Database, world: World) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        cash = world.account_id(session, "cash")
        receivable = world.account_id(session, "receivable:icb-devon")
        return [NewEntry(world.holder.id, date(2026, 4, 6), "x", "k", (NewPosting(cash, 100), NewPosting(receivable, -99)))]

    _assert_refused(db, InvalidInput, "entry_unbalanced", build)


def test_balanced_overall_but_not_within_each_budget_is_refused(db: Database, world: World) -> None:
    with db.write() as session:
        other = make_budget(session, world.holder, make_person(session, "Sam Jones"), world.icb, reference="ISF-0002")

    def build(session):  # type: ignore[no-untyped-def]
        one = world.account_id(session, "cash")
        two = world.account_id(session, "cash", other)
        return [NewEntry(world.holder.id, date(2026, 4, 6), "move", "k", (NewPosting(one, 100), NewPosting(two, -100)))]

    _assert_refused(db, InvalidInput, "entry_unbalanced", build)


def test_one_entry_may_carry_balanced_pairs_for_many_budgets(db: Database, world: World) -> None:
    with db.write() as session:
        person = make_person(session, "Sam Jones")
        other = make_budget(session, world.holder, person, world.icb, reference="ISF-0002")
        from tests.support.builders import make_plan

        make_plan(session, other, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
        postings = []
        for budget in (world.budget, other):
            postings += [NewPosting(world.account_id(session, "spend:staff_pay", budget), 5_000), NewPosting(world.account_id(session, "cash", budget), -5_000)]
        result = journal.post_entry(session, NewEntry(world.holder.id, date(2026, 4, 30), "Payroll April", "payroll-2026-04", tuple(postings), kind="payable_paid"))
    assert result.outcome is PostOutcome.CREATED


@pytest.mark.parametrize(
    ("postings", "code"),
    [
        (lambda c, r: (NewPosting(c, 100),), "entry_too_few_postings"),
        (lambda c, r: (NewPosting(c, 100), NewPosting(r, 0), NewPosting(r, -100)), "posting_zero_amount"),
        (lambda c, r: (NewPosting(c, 100), NewPosting(999_999, -100)), "unknown_account"),
    ],
)
def test_bad_shapes_are_refused(db: Database, world: World, postings, code: str) -> None:  # type: ignore[no-untyped-def]
    def build(session):  # type: ignore[no-untyped-def]
        cash = world.account_id(session, "cash")
        receivable = world.account_id(session, "receivable:icb-devon")
        return [NewEntry(world.holder.id, date(2026, 4, 6), "x", "k", postings(cash, receivable))]

    _assert_refused(db, InvalidInput, code, build)


def test_a_budget_without_an_agreed_plan_moves_no_money(db: Database, world: World) -> None:
    with db.write() as session:
        other = make_budget(session, world.holder, make_person(session, "Sam Jones"), world.icb, reference="ISF-0002")

    def build(session):  # type: ignore[no-untyped-def]
        return [
            NewEntry(
                world.holder.id,
                date(2026, 4, 6),
                "x",
                "k",
                (NewPosting(world.account_id(session, "card", other), 100), NewPosting(world.account_id(session, "cash", other), -100)),
            )
        ]

    _assert_refused(db, Conflict, "plan_not_agreed", build)


def test_reverse_once_only(db: Database, world: World) -> None:
    with db.write() as session:
        original = journal.post_entry(session, payment(world, session)).entry
    with db.write() as session:
        reversal = journal.reverse_entry(session, original.id, entry_date=date(2026, 4, 9), idempotency_key="r1", created_by="test")
    assert reversal.outcome is PostOutcome.CREATED
    assert reversal.entry.reverses_entry_id == original.id
    assert sorted(p.amount_pence for p in reversal.entry.postings) == sorted(-p.amount_pence for p in original.postings)
    with db.write() as session:  # the same request again is a replay
        assert journal.reverse_entry(session, original.id, entry_date=date(2026, 4, 9), idempotency_key="r1", created_by="test").outcome is PostOutcome.EXISTS
    before = counts(db)
    with pytest.raises(Conflict) as caught:
        with db.write() as session:
            journal.reverse_entry(session, original.id, entry_date=date(2026, 4, 9), idempotency_key="r2", created_by="test")
    assert caught.value.code == "already_reversed"
    with pytest.raises(Conflict) as caught:
        with db.write() as session:
            journal.reverse_entry(session, reversal.entry.id, entry_date=date(2026, 4, 9), idempotency_key="r3", created_by="test")
    assert caught.value.code == "reversal_not_reversible"
    with pytest.raises(NotFound):
        with db.write() as session:
            journal.reverse_entry(session, 987_654, entry_date=date(2026, 4, 9), idempotency_key="r4", created_by="test")
    assert counts(db) == before
    with db.read() as session:
        assert verify(session) == []


def test_closed_quarter_refuses_entries_dated_inside_it(db: Database, world: World) -> None:
    with db.write() as session:
        journal.post_entry(session, payment(world, session, key="before-close", day=date(2026, 5, 1)))
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="auditor")
    with pytest.raises(Conflict) as caught:
        with db.write() as session:
            journal.post_entry(session, payment(world, session, key="late", day=date(2026, 6, 30)))
    assert caught.value.code == "period_closed"
    with db.write() as session:
        # a replay of an entry posted before the close still answers "exists"
        assert journal.post_entry(session, payment(world, session, key="before-close", day=date(2026, 5, 1))).outcome is PostOutcome.EXISTS
        assert journal.post_entry(session, payment(world, session, key="july", day=date(2026, 7, 1))).outcome is PostOutcome.CREATED
    with pytest.raises(Conflict) as caught:
        with db.write() as session:
            periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="auditor")
    assert caught.value.code == "period_already_closed"


def test_quarters_follow_the_uk_financial_year() -> None:
    q = periods.parse_quarter("2026Q1")
    assert (q.starts_on, q.ends_on) == (date(2026, 4, 1), date(2026, 6, 30))
    q4 = periods.parse_quarter("2026Q4")
    assert (q4.starts_on, q4.ends_on) == (date(2027, 1, 1), date(2027, 3, 31))
    assert periods.quarter_of(date(2027, 2, 14)) == q4
    assert periods.quarter_of(date(2026, 4, 1)) == q
    with pytest.raises(InvalidInput):
        periods.parse_quarter("2026Q5")
