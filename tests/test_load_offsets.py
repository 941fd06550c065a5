"""A surplus on the card offset against the next loads: the pure rule, then the service on
both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledger.core import balances
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput
from ledger.loads.offsets import offset_against_loads, offsets_of
from ledger.loads.runs import budget_schedule, post_due_drawdowns
from ledger.loads.schedule import LoadStatus, Offset, PartTerms, VersionTerms, schedule
from ledger.position.surplus import surplus_decisions
from ledger.store.database import Database
from ledger.store.tables import Budget, Drawdown
from ledger.store.tables.load_offsets import WithheldLoad
from tests.support.builders import PLAN_END, PLAN_START, World, make_world

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
PART = PartTerms(1)
NET = 5_100_000


def _schedule(offsets=(), posted=None, withheld=None):  # type: ignore[no-untyped-def]
    return schedule(PLAN_START, PLAN_END, PART, [VersionTerms(1, PLAN_START, NET)], offsets=offsets, posted=posted, withheld=withheld)


def test_an_offset_is_withheld_from_the_next_loads_earliest_first() -> None:
    plain = _schedule()
    week = plain[10].amount_pence
    offset = Offset(plain[10].period.starts_on, week + week // 2)
    loads = _schedule([offset])
    assert [load.withheld_pence for load in loads[9:13]] == [0, week, week // 2, 0]
    assert [load.amount_pence for load in loads[9:13]] == [plain[9].amount_pence, 0, week - week // 2, plain[12].amount_pence]
    # the loads after are not raised to make up for it
    assert [load.amount_pence for load in loads[12:]] == [load.amount_pence for load in plain[12:]]
    assert sum(load.amount_pence + load.withheld_pence for load in loads) == NET


def test_what_loads_already_withheld_counts_and_the_rest_follows() -> None:
    plain = _schedule()
    start = plain[10].period.starts_on
    week = plain[10].amount_pence
    offset = Offset(start, week + 100)
    first = _schedule([offset])
    # period 10 was made withheld whole (posted 0), period 11 is to come
    posted = {load.period.starts_on: load.amount_pence for load in first[:11]}
    later = _schedule([offset], posted=posted, withheld={start: week})
    assert later[10].status is LoadStatus.POSTED and later[10].withheld_pence == week
    assert later[11].withheld_pence == 100
    assert later[12].withheld_pence == 0


@settings(max_examples=150, deadline=None)
@given(
    start_index=st.integers(0, 52),
    amount=st.integers(1, 600_000),
    made_upto=st.integers(0, 53),
)
def test_loads_and_withheld_always_come_to_the_net_amount(start_index: int, amount: int, made_upto: int) -> None:
    plain = _schedule()
    offset = Offset(plain[start_index].period.starts_on, amount)
    first = _schedule([offset])
    posted = {load.period.starts_on: load.amount_pence for load in first[:made_upto]}
    withheld = {load.period.starts_on: load.withheld_pence for load in first[:made_upto] if load.withheld_pence}
    again = _schedule([offset], posted=posted, withheld=withheld)
    # running the schedule again after some loads is stable
    assert [(load.amount_pence, load.withheld_pence) for load in again] == [(load.amount_pence, load.withheld_pence) for load in first]
    capacity = sum(load.amount_pence for load in plain[start_index:])
    assert sum(load.withheld_pence for load in first) == min(amount, capacity)
    assert sum(load.amount_pence + load.withheld_pence for load in first) == NET
    assert all(load.withheld_pence == 0 for load in first[:start_index])


# --- the service -------------------------------------------------------------------------


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        return make_world(session)


def _run(db: Database, day: date):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return post_due_drawdowns(session, datetime.combine(day, time(12), tzinfo=LONDON), now=NOW)


def test_offset_withholds_the_next_loads_once_and_keeps_the_money_in_held_funds(db: Database, world: World) -> None:
    _run(db, date(2026, 6, 29))  # 14 loads on the card, nobody spent them
    with db.write() as session:
        week = budget_schedule(session, world.budget.id)[0].loads[20].amount_pence
        offset_against_loads(
            session, world.budget.id, amount_pence=week * 2 + 500, starts_on=date(2026, 7, 6),
            reason="Card balance built up over the spring", decided_by="ICB PHB team", decided_on=date(2026, 7, 1),
        )  # fmt: skip
    result = _run(db, date(2026, 7, 27))
    assert [w.withheld_pence for w in result.withheld] == [week, week, 500]
    assert [p.period_starts_on for p in result.posted] == [date(2026, 7, 20), date(2026, 7, 27)]
    assert result.posted[0].amount_pence == week - 500
    assert _run(db, date(2026, 7, 27)).posted == []
    with db.read() as session:
        assert sum(session.execute(select(WithheldLoad.withheld_pence)).scalars()) == week * 2 + 500
        (decision,) = surplus_decisions(session, world.budget.id)
        assert (decision.action, decision.amount_pence) == ("offset", week * 2 + 500)
        (view,) = offsets_of(session, world.budget.id)
        assert view.used_pence == week * 2 + 500 and view.left_pence == 0
        cash = balances.account_balance(session, _account(session, world, "cash"))
        card = balances.account_balance(session, _account(session, world, "card"))
        loaded = sum(session.execute(select(Drawdown.amount_pence)).scalars())
        assert card == loaded and cash == -loaded  # nothing paid in: held funds carried the loads
        assert verify(session) == []
    with db.write() as session:  # the whole year still comes to the net amount
        loads = budget_schedule(session, world.budget.id)[0].loads
        assert sum(load.amount_pence + load.withheld_pence for load in loads) == 5_100_000


def test_offset_refused_beyond_the_card_or_the_loads_to_come(db: Database, world: World) -> None:
    _run(db, date(2026, 4, 13))
    with db.write() as session:
        on_card = sum(session.execute(select(Drawdown.amount_pence)).scalars())
        with pytest.raises(InvalidInput) as too_much:
            offset_against_loads(session, world.budget.id, amount_pence=on_card + 1, starts_on=date(2026, 4, 20),
                                 reason="r", decided_by="d", decided_on=date(2026, 4, 14))  # fmt: skip
        assert too_much.value.code == "offset_exceeds_card"
        with pytest.raises(InvalidInput) as late:
            offset_against_loads(session, world.budget.id, amount_pence=on_card, starts_on=date(2027, 3, 29),
                                 reason="r", decided_by="d", decided_on=date(2026, 4, 14))  # fmt: skip
        assert late.value.code == "offset_exceeds_loads"
        for bad, code in ((0, "offset_amount_not_positive"), (-5, "offset_amount_not_positive")):
            with pytest.raises(InvalidInput) as error:
                offset_against_loads(session, world.budget.id, amount_pence=bad, starts_on=date(2026, 4, 20),
                                     reason="r", decided_by="d", decided_on=date(2026, 4, 14))  # fmt: skip
            assert error.value.code == code
        with pytest.raises(InvalidInput):
            offset_against_loads(session, world.budget.id, amount_pence=100, starts_on=date(2026, 4, 20),
                                 reason="  ", decided_by="d", decided_on=date(2026, 4, 14))  # fmt: skip


def test_the_same_offset_twice_is_recorded_once_and_a_closed_budget_has_none(db: Database, world: World) -> None:
    _run(db, date(2026, 4, 13))
    arguments = dict(amount_pence=1_000, starts_on=date(2026, 4, 20), reason="r", decided_by="d", decided_on=date(2026, 4, 14))
    with db.write() as session:
        first = offset_against_loads(session, world.budget.id, **arguments)  # type: ignore[arg-type]
        second = offset_against_loads(session, world.budget.id, **arguments)  # type: ignore[arg-type]
        assert first.id == second.id
        session.get(Budget, world.budget.id).status = "closed"  # type: ignore[union-attr]
        session.flush()
        with pytest.raises(Conflict):
            offset_against_loads(session, world.budget.id, **arguments)  # type: ignore[arg-type]


def _account(session, world: World, suffix: str):  # type: ignore[no-untyped-def]
    from ledger.core.accounts import account_by_code

    return account_by_code(session, f"{world.budget.reference}:{suffix}")
