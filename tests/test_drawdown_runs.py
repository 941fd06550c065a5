"""Posting due card loads on both databases: exactly once, catching up after downtime, on the
holder's local load time across clock changes, around bank holidays, pauses, revisions and
closed quarters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ledger.budgets import parties, plans
from ledger.budgets.pauses import end_pause, pause_budget
from ledger.core import balances, periods
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.manual_entries import SYSTEM_KEY_PREFIXES, key_prefix, post_manual_entry, reverse_by_hand
from ledger.core.verify import verify
from ledger.core.vocabulary import EntryKind
from ledger.errors import Conflict, InvalidInput
from ledger.loads.runs import budget_schedule, post_due_drawdowns
from ledger.loads.schedule import LoadStatus
from ledger.store.database import Database
from ledger.store.tables import BudgetPart, Drawdown, JournalEntry
from tests.support.builders import PLAN_END, PLAN_START, World, make_budget, make_person, make_plan, make_world

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)  # a clock past the whole plan period
NET_PENCE = 5_200_000 - 100_000  # the world's budget less its contingency


def london(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def run(db: Database, as_of: datetime, **kwargs):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return post_due_drawdowns(session, as_of, now=NOW, **kwargs)


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        return make_world(session)


def loads_made(db: Database) -> list[tuple[date, date, int]]:
    with db.read() as session:
        rows = session.execute(
            select(Drawdown.period_starts_on, Drawdown.due_on, Drawdown.amount_pence).order_by(Drawdown.period_starts_on)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_run_posts_the_loads_due_each_dated_on_its_due_day(db: Database, world: World) -> None:
    result = run(db, london(date(2026, 5, 4)))
    assert [(p.period_starts_on, p.due_on) for p in result.posted] == [
        (date(2026, 4, 1), date(2026, 4, 1)),
        (date(2026, 4, 6), date(2026, 4, 2)),  # Easter Monday; Good Friday before it
        (date(2026, 4, 13), date(2026, 4, 13)),
        (date(2026, 4, 20), date(2026, 4, 20)),
        (date(2026, 4, 27), date(2026, 4, 27)),
        (date(2026, 5, 4), date(2026, 5, 1)),  # early May bank holiday
    ]
    with db.read() as session:
        entries = session.execute(select(JournalEntry).where(JournalEntry.kind == "drawdown").order_by(JournalEntry.seq)).scalars().all()
        assert [e.entry_date for e in entries] == [p.due_on for p in result.posted]
        card = balances.account_balance(session, _account(session, world, "card"))
        assert card == result.total_pence
        assert verify(session) == []


def test_after_five_weeks_of_downtime_it_catches_up_then_does_nothing(db: Database, world: World) -> None:
    run(db, london(date(2026, 5, 4)))
    result = run(db, london(date(2026, 6, 8)))
    assert [(p.period_starts_on, p.due_on) for p in result.posted] == [
        (date(2026, 5, 11), date(2026, 5, 11)),
        (date(2026, 5, 18), date(2026, 5, 18)),
        (date(2026, 5, 25), date(2026, 5, 22)),  # spring bank holiday
        (date(2026, 6, 1), date(2026, 6, 1)),
        (date(2026, 6, 8), date(2026, 6, 8)),
    ]
    assert run(db, london(date(2026, 6, 8))).posted == []
    assert run(db, london(date(2026, 6, 10))).posted == []
    assert len(loads_made(db)) == 11


def test_a_whole_year_loads_the_net_amount_to_the_penny(db: Database, world: World) -> None:
    result = run(db, london(date(2027, 4, 30)))
    assert len(result.posted) == 53
    assert result.total_pence == NET_PENCE
    assert run(db, london(date(2027, 5, 30))).posted == []


def test_the_load_waits_for_the_holders_local_load_time_across_the_clock_change(db: Database, world: World) -> None:
    run(db, london(date(2026, 3, 31)))  # nothing: the plan starts on 1 April
    run(db, datetime(2026, 5, 8, tzinfo=UTC))
    monday = date(2026, 5, 11)  # BST: 06:00 in London is 05:00 UTC
    assert run(db, datetime(2026, 5, 11, 4, 59, tzinfo=UTC)).posted == []
    assert [p.due_on for p in run(db, datetime(2026, 5, 11, 5, 0, tzinfo=UTC)).posted] == [monday]


def test_a_load_time_of_0130_either_side_of_the_clocks_going_back(db: Database) -> None:
    # Loads go on working days, so never on the Sunday of a clock change itself (the pure
    # tests cover that moment); 01:30 is 00:30 UTC the Monday before and 01:30 UTC the Monday after.
    with db.write() as session:
        holder = parties.create_holder(
            session, parties.HolderSpec("early-loads", "Early Loads", "isf_provider", load_time=time(1, 30))
        )
        icb = parties.create_funder(session, parties.FunderSpec("icb-x", "NHS X ICB", "icb"))
        budget = make_budget(session, holder, make_person(session), icb, reference="EARLY-0001")
        make_plan(session, budget, [(icb, 5_200_000, 0)], total_pence=5_200_000)
    run(db, london(date(2026, 10, 18)))
    assert run(db, datetime(2026, 10, 19, 0, 29, tzinfo=UTC)).posted == []
    assert [p.period_starts_on for p in run(db, datetime(2026, 10, 19, 0, 30, tzinfo=UTC)).posted] == [date(2026, 10, 19)]
    assert run(db, datetime(2026, 10, 26, 1, 29, tzinfo=UTC)).posted == []
    assert [p.period_starts_on for p in run(db, datetime(2026, 10, 26, 1, 30, tzinfo=UTC)).posted] == [date(2026, 10, 26)]


def test_a_pause_stops_loads_and_they_resume_without_a_lump(db: Database, world: World) -> None:
    run(db, london(date(2026, 5, 4)))
    with db.write() as session:
        pause = pause_budget(session, world.budget.id, starts_on=date(2026, 5, 6), reason="In hospital", recorded_by="Sam (ISF lead)")
    run(db, london(date(2026, 6, 1)))
    with db.write() as session:
        end_pause(session, pause.id, ends_on=date(2026, 6, 3), ended_by="Sam (ISF lead)")
    result = run(db, london(date(2026, 6, 15)))
    assert [p.period_starts_on for p in result.posted] == [date(2026, 6, 8), date(2026, 6, 15)]
    made = loads_made(db)
    weekly = made[2][2]
    assert [amount for _, _, amount in made[-2:]] == [weekly, weekly]
    with db.read() as session:
        (schedule,) = budget_schedule(session, world.budget.id)
    paused = [load.period.starts_on for load in schedule.loads if load.status is LoadStatus.PAUSED]
    assert paused == [date(2026, 5, 11), date(2026, 5, 18), date(2026, 5, 25), date(2026, 6, 1)]


def test_overlapping_pauses_are_refused(db: Database, world: World) -> None:
    with db.write() as session:
        pause_budget(session, world.budget.id, starts_on=date(2026, 5, 6), reason="In hospital", recorded_by="Sam")
    with pytest.raises(Conflict) as refused, db.write() as session:
        pause_budget(session, world.budget.id, starts_on=date(2026, 7, 1), reason="Again", recorded_by="Sam")
    assert refused.value.code == "pause_overlaps"


def test_a_revision_changes_the_loads_from_its_effective_week(db: Database, world: World) -> None:
    run(db, london(date(2026, 9, 28)))
    with db.write() as session:
        revised = make_plan(
            session, world.budget, [(world.icb, 5_800_000, 0), (world.council, 2_000_000, 0)],
            total_pence=7_800_000, effective_from=date(2026, 10, 5), agree=False,
        )  # fmt: skip
        plans.agree(session, revised.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=datetime(2026, 9, 30, 10))
    run(db, london(date(2027, 4, 30)))
    made = loads_made(db)
    before = [amount for start, _, amount in made if date(2026, 4, 6) <= start < date(2026, 10, 5)]
    after = [amount for start, _, amount in made if date(2026, 10, 5) <= start < date(2027, 3, 29)]
    assert max(before) - min(before) <= 1 and max(after) - min(after) <= 1
    assert min(after) > max(before)
    assert sum(amount for _, _, amount in made) == 7_800_000 - 100_000
    assert len(made) == 53


def test_a_load_due_in_a_closed_quarter_is_held_and_its_money_goes_to_later_loads(db: Database, world: World) -> None:
    with db.write() as session:
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="Finance", today=date(2026, 7, 10))
    result = run(db, london(date(2026, 7, 13)))
    assert result.posted and all(p.due_on >= date(2026, 7, 1) for p in result.posted)
    assert len(result.held) == 14 and "2026Q1" in result.held[0].reason
    run(db, london(date(2027, 4, 30)))
    assert sum(amount for _, _, amount in loads_made(db)) == NET_PENCE


def test_as_of_in_the_future_is_refused_and_nothing_is_posted(db: Database, world: World) -> None:
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        post_due_drawdowns(session, datetime(2027, 6, 2, tzinfo=UTC), now=NOW)
    assert refused.value.code == "as_of_in_future"
    assert loads_made(db) == []


def test_a_budget_whose_funder_has_not_paid_is_reported_low_on_cash(db: Database, world: World) -> None:
    result = run(db, london(date(2026, 4, 1)))
    assert [low.budget_reference for low in result.low_cash] == ["ISF-0001"]


def test_changing_the_load_weekday_after_loads_is_refused(db: Database, world: World) -> None:
    run(db, london(date(2026, 4, 1)))
    with pytest.raises(Conflict) as refused, db.write() as session:
        parties.set_load_time(session, world.holder.id, weekday=2, at=time(6, 0))
    assert refused.value.code == "load_weekday_in_use"
    with db.write() as session:
        assert parties.set_load_time(session, world.holder.id, weekday=0, at=time(7, 30)).load_time == time(7, 30)


def test_one_budget_or_one_holder_can_be_run_alone(db: Database, world: World) -> None:
    with db.write() as session:
        other = make_budget(session, world.holder, make_person(session, "Kim Lee"), world.icb, reference="ISF-0002")
        make_plan(session, other, [(world.icb, 2_600_000, 0)], total_pence=2_600_000)
        other_id = other.id
    only = run(db, london(date(2026, 4, 14)), budget_id=other_id)
    assert {p.budget_reference for p in only.posted} == {"ISF-0002"}
    both = run(db, london(date(2026, 4, 14)), holder_id=world.holder.id)
    assert {p.budget_reference for p in both.posted} == {"ISF-0001"}


def test_a_key_taken_by_other_content_holds_that_load_alone_and_every_other_load_is_made(db: Database, world: World) -> None:
    """An entry planted under a load's key (before manual entries were kept out of the
    services' keys) holds that one load with the reason; the holder's other loads and every
    other holder's are made, and its money is loaded with the loads still to come."""
    with db.write() as session:
        other_holder = parties.create_holder(session, parties.HolderSpec("moor", "Moorland Care", "isf_provider"))
        other = make_budget(session, other_holder, make_person(session, "Kim Lee"), world.icb, reference="MOOR-0001")
        make_plan(session, other, [(world.icb, 2_600_000, 0)], total_pence=2_600_000)
        part_id = session.scalar(select(BudgetPart.id).where(BudgetPart.budget_id == world.budget.id))
        key = f"drawdown:part-{part_id}:2026-04-06"
        planted = post_entry(session, NewEntry(
            book_id=world.holder.id, entry_date=date(2026, 4, 2), description="Not a load", idempotency_key=key, kind=EntryKind.MANUAL,
            postings=(NewPosting(world.account_id(session, "card"), 1), NewPosting(world.account_id(session, "cash"), -1)), created_by="test",
        )).entry.id  # fmt: skip
    result = run(db, london(date(2026, 4, 14)))
    assert [(h.budget_reference, h.period_starts_on) for h in result.held] == [("ISF-0001", date(2026, 4, 6))]
    assert f"entry {planted}" in result.held[0].reason
    assert {(p.budget_reference, p.period_starts_on) for p in result.posted} == {
        ("ISF-0001", date(2026, 4, 1)), ("ISF-0001", date(2026, 4, 13)),
        ("MOOR-0001", date(2026, 4, 1)), ("MOOR-0001", date(2026, 4, 6)), ("MOOR-0001", date(2026, 4, 13)),
    }  # fmt: skip
    again = run(db, london(date(2026, 4, 14)))
    assert again.posted == [] and again.held == []  # the held period is skipped now: its money goes to the loads to come
    run(db, london(PLAN_END))
    assert sum(amount for _, _, amount in loads_made(db)) == NET_PENCE + 2_600_000 - 100_000  # both budgets' money less their contingency, to the penny


def test_a_key_of_the_services_and_their_kinds_are_not_for_entries_by_hand(db: Database, world: World) -> None:
    with db.write() as session:
        postings = (NewPosting(world.account_id(session, "card"), 100), NewPosting(world.account_id(session, "cash"), -100))
    for key, kind, code in (("drawdown:part-1:2026-04-06", EntryKind.MANUAL, "idempotency_key_reserved"),
                            (" Top-Slice:budget-1:2026-04-01", EntryKind.MANUAL, "idempotency_key_reserved"),
                            ("my-card-top-up", EntryKind.DRAWDOWN, "kind_reserved"),
                            ("my-allocation", EntryKind.ALLOCATION, "kind_reserved")):  # fmt: skip
        with pytest.raises(InvalidInput) as refused, db.write() as session:
            post_manual_entry(session, NewEntry(book_id=world.holder.id, entry_date=date(2026, 4, 2), description="By hand",
                                                idempotency_key=key, kind=kind, postings=postings, created_by="test"))  # fmt: skip
        assert refused.value.code == code, (key, kind)
    with db.write() as session:
        made = post_manual_entry(session, NewEntry(book_id=world.holder.id, entry_date=date(2026, 4, 2), description="Emergency top-up",
                                                   idempotency_key="top-up:2026-04-02", kind=EntryKind.TRANSFER, postings=postings,
                                                   created_by="test"))  # fmt: skip
        assert made.outcome.value == "created"
        with pytest.raises(InvalidInput) as refused:
            reverse_by_hand(session, made.entry.id, entry_date=date(2026, 4, 3), idempotency_key="unmatch:match-1:entry-1", created_by="test")
        assert refused.value.code == "idempotency_key_reserved"


def test_every_key_the_services_post_under_has_its_prefix_reserved(report_demo: Database) -> None:
    with report_demo.read() as session:
        keys = session.execute(select(JournalEntry.kind, JournalEntry.idempotency_key)).all()
    unreserved = sorted({(kind, key_prefix(key)) for kind, key in keys if key_prefix(key) not in SYSTEM_KEY_PREFIXES})
    assert not unreserved, unreserved


def test_notional_and_bank_account_parts_load_nothing(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        from ledger.budgets import budget as budgets

        bank = make_budget(session, world.holder, make_person(session, "Pat Doe"), world.icb, reference="ISF-0009",
                           parts=(budgets.PartSpec("third_party", "bank_account"),))  # fmt: skip
        make_plan(session, bank, [(world.icb, 2_600_000, 0)], total_pence=2_600_000)
    result = run(db, london(date(2026, 5, 4)))
    assert {p.budget_reference for p in result.posted} == {"ISF-0001"}


def _account(session, world: World, suffix: str):  # type: ignore[no-untyped-def]
    from ledger.core.accounts import account_by_code

    return account_by_code(session, f"{world.budget.reference}:{suffix}")


def test_the_drawdown_table_refuses_a_second_load_of_a_period(db: Database, world: World) -> None:
    run(db, london(date(2026, 4, 1)))
    with db.read() as session:
        count = session.execute(select(func.count()).select_from(Drawdown)).scalar_one()
    assert count == 1
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.write() as session:
        row = session.execute(select(Drawdown)).scalar_one()
        session.add(Drawdown(budget_part_id=row.budget_part_id, period_starts_on=row.period_starts_on, period_ends_on=row.period_ends_on,
                             due_on=row.due_on, amount_pence=1, plan_version_id=row.plan_version_id, entry_id=row.entry_id))  # fmt: skip
        session.flush()


assert PLAN_START == date(2026, 4, 1) and PLAN_END == date(2027, 3, 31)
