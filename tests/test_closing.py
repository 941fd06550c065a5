"""Closing a budget on both databases: contingency and card money come back to held funds,
allocation not received is released, loads stop, the surplus (never transition money) or
the amount to recover is recorded; refused while money is committed; a second close returns
the first; the ledger verifies after."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledger.core import periods
from ledger.core.balances import budget_balances
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput
from ledger.loads.runs import post_due_drawdowns
from ledger.position.closing import close_budget, closure_of
from ledger.position.figures import budget_position
from ledger.store.database import Database
from ledger.store.tables import Budget, JournalEntry
from tests.test_position import NOW, Setup, london, make_setup, post, post_the_year_so_far
from web.cli import app

CLOSED_ON = date(2026, 9, 30)


@pytest.fixture
def world(db: Database) -> Setup:
    with db.write() as session:
        return make_setup(session)


def entry_count(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


def close(db: Database, world: Setup, on: date = CLOSED_ON):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return close_budget(session, world.budget.id, closed_on=on, reason="Moved to another area", closed_by="Sam Finance")


def test_closing_returns_contingency_and_card_money_and_releases_the_allocation(db: Database, world: Setup) -> None:
    loads = post_the_year_so_far(db, world)
    with db.write() as session:
        post(session, world, "wages-paid-rest", date(2026, 5, 8), "payable_paid", ("payable", 100_000), ("cash", -100_000))
    closure = close(db, world)
    assert (closure.contingency_returned_pence, closure.card_returned_pence) == (84_000, loads - 4_503)
    assert closure.allocation_released_pence == 5_200_000 - 2_550_000
    held_after = (1_736_000 - loads - 100_000) + 84_000 + (loads - 4_503)
    assert held_after == 1_715_497
    assert (closure.surplus_pence, closure.to_recover_pence) == (held_after - 220_000, 0)  # unspent transition is not surplus
    with db.read() as session:
        position = budget_position(session, world.budget.id)
        kinds = session.execute(
            select(JournalEntry.kind, JournalEntry.entry_date).where(JournalEntry.idempotency_key.like(f"budget:{world.budget.id}:close:%"))
            .order_by(JournalEntry.seq)
        ).all()  # fmt: skip
        assert verify(session) == []
        assert session.get(Budget, world.budget.id).status == "closed"
    assert [tuple(row) for row in kinds] == [("contingency_return", CLOSED_ON), ("card_unload", CLOSED_ON), ("allocation", CLOSED_ON)]
    f = position.figures
    assert (f.contingency_left_pence, f.card_pence, f.receivable_pence, f.committed_pence) == (0, 0, 0, 0)
    assert f.held_pence == held_after and f.allocated_pence == f.received_pence == 2_550_000
    assert {s.funder_code: s.figures.receivable_pence for s in position.shares} == {"icb-devon": 0, "plymouth-asc": 0, "contribution": 0}
    assert f.contingency_returned_pence == 84_000 and f.surplus_pence == closure.surplus_pence


def test_loads_stop_once_a_budget_is_closed(db: Database, world: Setup) -> None:
    with db.write() as session:
        assert len(post_due_drawdowns(session, london(date(2026, 4, 14)), now=NOW).posted) == 3
    close(db, world, date(2026, 4, 14))
    with db.write() as session:
        assert post_due_drawdowns(session, london(date(2026, 12, 31)), now=NOW).posted == []
    with db.read() as session:
        card = {b.kind: b.balance_pence for b in budget_balances(session, world.budget.id)}["card"]
    assert card == 0


def test_closing_is_refused_while_money_is_committed(db: Database, world: Setup) -> None:
    post_the_year_so_far(db, world)
    before = entry_count(db)
    with pytest.raises(Conflict) as error:
        close(db, world)
    assert error.value.code == "budget_has_committed_money" and "pay or cancel" in error.value.message
    assert entry_count(db) == before
    with db.read() as session:
        assert session.get(Budget, world.budget.id).status == "open" and closure_of(session, world.budget.id) is None


def test_a_second_close_returns_the_first_and_posts_nothing(db: Database, world: Setup) -> None:
    with db.write() as session:
        post(session, world, "icb", date(2026, 4, 1), "funder_payment", ("cash", 500_000), ("receivable:icb-devon", -500_000))
    first = close(db, world)
    after_first = entry_count(db)
    second = close(db, world, date(2026, 10, 31))
    assert (second.id, second.closed_on, second.surplus_pence) == (first.id, CLOSED_ON, first.surplus_pence)
    assert entry_count(db) == after_first


def test_an_overdrawn_card_leaves_an_amount_to_recover(db: Database, world: Setup) -> None:
    with db.write() as session:
        post(session, world, "overdrawn", date(2026, 4, 20), "card_purchase", ("spend:activities", 10_000), ("card", -10_000))
    closure = close(db, world)
    assert (closure.card_returned_pence, closure.surplus_pence, closure.to_recover_pence) == (-10_000, 0, 10_000)
    with db.read() as session:
        figures = budget_position(session, world.budget.id).figures
        assert verify(session) == []
    assert (figures.card_pence, figures.held_pence, figures.receivable_pence) == (0, -10_000, 0)


def test_closing_before_the_last_entry_or_in_a_closed_quarter_is_refused(db: Database, world: Setup) -> None:
    with db.write() as session:
        post(session, world, "icb", date(2026, 4, 1), "funder_payment", ("cash", 500_000), ("receivable:icb-devon", -500_000))
        post(session, world, "swim", date(2026, 8, 1), "card_purchase", ("spend:activities", 1_000), ("card", -1_000))
    with pytest.raises(Conflict) as error:
        close(db, world, date(2026, 7, 31))
    assert error.value.code == "closing_before_last_entry"
    with db.write() as session:
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q2"), closed_by="Finance", today=date(2026, 10, 10))
    with pytest.raises(Conflict) as error:
        close(db, world, date(2026, 9, 30))
    assert error.value.code == "period_closed"
    with db.read() as session:
        assert closure_of(session, world.budget.id) is None


def test_closing_needs_a_reason_and_who(db: Database, world: Setup) -> None:
    with db.write() as session, pytest.raises(InvalidInput) as error:
        close_budget(session, world.budget.id, closed_on=CLOSED_ON, reason="  ", closed_by="Sam")
    assert error.value.field == "reason"


# --- the command line ---------------------------------------------------------------------


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_command_line_shows_closes_and_returns(db: Database, world: Setup) -> None:
    with db.write() as session:
        post(session, world, "icb", date(2026, 4, 1), "funder_payment", ("cash", 900_000), ("receivable:icb-devon", -900_000))
        post(session, world, "council", date(2026, 4, 1), "funder_payment", ("cash", 600_000), ("receivable:plymouth-asc", -600_000))
    code, out, _ = cli("budget-position", "ISF-0001", "--db", db.url)
    assert code == 0 and "Money left this year" in out and "Weeks held" in out
    code, out, _ = cli("budget-position", "ISF-0001", "--db", db.url, "--json", "--as-of", "2026-04-30")
    body = json.loads(out)
    assert code == 0 and body["figures"]["held"] == "15000.00" and [s["funder"] for s in body["shares"]] == ["icb-devon", "plymouth-asc", "contribution"]
    code, out, _ = cli("close-budget", "ISF-0001", "--on", "2026-05-01", "--reason", "Moved away", "--by", "Sam", "--db", db.url, "--json")
    closure = json.loads(out)
    assert code == 0 and closure["surplus"] == "9800.00"  # £15,000 less £5,200 unspent transition
    code, out, _ = cli("surplus", "return", "ISF-0001", "--on", "2026-05-02", "--reason", "Year end", "--by", "ICB",
                       "--share", "icb-devon=6000", "--share", "plymouth-asc=3800.00", "--amount", "9800", "--db", db.url, "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["shares"] == [{"funder": "icb-devon", "amount": "6000.00"}, {"funder": "plymouth-asc", "amount": "3800.00"}]
    code, _, err = cli("surplus", "decide", "ISF-0001", "--action", "accept", "--amount", "1", "--on", "2026-05-03",
                       "--reason", "x", "--by", "ICB", "--db", db.url)  # fmt: skip
    assert code == 1 and "more than the surplus" in err
    code, _, err = cli("close-budget", "ISF-0001", "--on", "01/05/2026", "--reason", "x", "--by", "y", "--db", db.url)
    assert code == 1 and "--on must be a date" in err
