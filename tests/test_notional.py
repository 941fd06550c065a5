"""Notional costs on both databases: recorded against the funder's allocation so money left is
true, once per supplier reference, refused on a budget with no notional part and beyond what
the funder allocated — and every refusal posts nothing."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core import balances
from ledger.core.verify import verify
from ledger.errors import Conflict, LedgerError
from ledger.money_out.notional import notional_costs, record_notional_cost
from ledger.store.database import Database
from ledger.store.tables import Account, Budget, Funder, JournalEntry
from ledger.store.tables.budget_money import NotionalCost
from tests.support.builders import TODAY, make_budget, make_person, make_plan, make_world
from web.cli import app

ALLOCATION = 1_000_000  # £10,000 from the ICB


@pytest.fixture
def notional(db: Database) -> tuple[Budget, Funder]:
    with db.write() as session:
        icb = parties.create_funder(session, parties.FunderSpec("icb-devon", "NHS Devon ICB", "icb"))
        holder = parties.create_holder(session, parties.HolderSpec("devon-chc", "Devon CHC team", "commissioner"))
        budget = make_budget(session, holder, make_person(session), icb, reference="NOT-0001",
                             parts=(budgets.PartSpec("notional", "none"),))  # fmt: skip
        make_plan(session, budget, [(icb, ALLOCATION, 0)], total_pence=ALLOCATION, contingency_pence=0)
        return budget, icb


def record(db: Database, budget: Budget, funder: Funder, **overrides: Any):  # type: ignore[no-untyped-def]
    arguments: dict[str, Any] = {
        "funder_id": funder.id,
        "category_code": "agency_support",
        "amount_pence": 120_000,
        "on": date(2026, 5, 31),
        "supplier": "Careway Agency",
        "reference": "INV-1001",
        "description": "Home care, May",
        "recorded_by": "CHC finance",
        "today": TODAY,
    }
    arguments.update(overrides)
    with db.write() as session:
        return record_notional_cost(session, budget.id, **arguments)


def entries(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


def balance(db: Database, code: str) -> int:
    with db.read() as session:
        account_id = session.execute(select(Account.id).where(Account.code == code)).scalar_one()
        return balances.signed_sums(session, [account_id]).get(account_id, 0)


def test_a_cost_is_spend_against_the_funders_allocation(db: Database, notional: tuple[Budget, Funder]) -> None:
    budget, icb = notional
    recorded = record(db, budget, icb)
    assert recorded.created
    assert balance(db, "NOT-0001:spend:agency_support") == 120_000
    assert balance(db, "NOT-0001:receivable:icb-devon") == ALLOCATION - 120_000
    with db.read() as session:
        (cost,) = notional_costs(session, budget.id)
        entry = session.get(JournalEntry, cost.entry_id)
        assert (entry.kind, entry.entry_date) == ("notional_cost", date(2026, 5, 31))
        assert verify(session) == []


def test_the_same_cost_again_returns_the_original_and_other_details_conflict(db: Database, notional: tuple[Budget, Funder]) -> None:
    budget, icb = notional
    first = record(db, budget, icb)
    again = record(db, budget, icb)
    assert not again.created and again.cost.id == first.cost.id
    before = entries(db)
    with pytest.raises(Conflict) as refused:
        record(db, budget, icb, amount_pence=130_000)
    assert refused.value.code == "notional_cost_conflict"
    assert entries(db) == before
    assert balance(db, "NOT-0001:spend:agency_support") == 120_000


def test_refused_on_a_budget_with_no_notional_part(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
    before = entries(db)
    with pytest.raises(Conflict) as refused:
        record(db, world.budget, world.icb)
    assert refused.value.code == "budget_not_notional" and "ISF-0001" in refused.value.message
    assert entries(db) == before


def test_refused_beyond_the_allocation_until_the_plan_is_revised(db: Database, notional: tuple[Budget, Funder]) -> None:
    budget, icb = notional
    record(db, budget, icb, amount_pence=900_000)
    before = entries(db)
    with pytest.raises(Conflict) as refused:
        record(db, budget, icb, amount_pence=100_001, reference="INV-1002")
    assert refused.value.code == "notional_exceeds_allocation"
    assert "£1,000.00" in refused.value.message and "revise the plan" in refused.value.message
    assert entries(db) == before
    assert record(db, budget, icb, amount_pence=100_000, reference="INV-1002").created
    assert balance(db, "NOT-0001:receivable:icb-devon") == 0
    with db.read() as session:
        assert verify(session) == []


REFUSALS = [
    ({"amount_pence": 0}, "amount_not_positive", "amount"),
    ({"amount_pence": -100}, "amount_not_positive", "amount"),
    ({"supplier": "  "}, "field_required", "supplier"),
    ({"reference": ""}, "field_required", "reference"),
    ({"description": " "}, "field_required", "description"),
    ({"category_code": "yachts"}, "category_unknown", "category"),
    ({"on": date(2026, 3, 31)}, "date_outside_plan_period", "on"),
    ({"on": date(2026, 12, 1)}, "date_in_future", "on"),
]


@pytest.mark.parametrize(("overrides", "code", "field"), REFUSALS, ids=[f"{r[1]}-{i}" for i, r in enumerate(REFUSALS)])
def test_bad_input_is_refused_and_posts_nothing(
    db: Database, notional: tuple[Budget, Funder], overrides: dict[str, Any], code: str, field: str
) -> None:
    budget, icb = notional
    before = entries(db)
    with pytest.raises(LedgerError) as refused:
        record(db, budget, icb, **overrides)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert entries(db) == before


def test_a_funder_that_does_not_fund_the_budget_is_refused(db: Database, notional: tuple[Budget, Funder]) -> None:
    budget, _icb = notional
    with db.write() as session:
        other = parties.create_funder(session, parties.FunderSpec("icb-kernow", "NHS Cornwall ICB", "icb"))
    with pytest.raises(LedgerError) as refused:
        record(db, budget, other)
    assert refused.value.code == "funder_not_on_budget"
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(NotionalCost)).scalar_one() == 0


def test_two_racing_costs_beyond_the_allocation_one_wins(db: Database, notional: tuple[Budget, Funder]) -> None:
    budget, icb = notional
    start_together = threading.Barrier(2, timeout=60)

    def attempt(writer: int) -> str:
        start_together.wait()
        try:
            record(db, budget, icb, amount_pence=600_000, reference=f"INV-{writer}")
        except Conflict as error:
            return error.code
        return "created"

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sorted(pool.map(attempt, range(2))) == ["created", "notional_exceeds_allocation"]
    assert balance(db, "NOT-0001:receivable:icb-devon") == 400_000
    with db.read() as session:
        assert verify(session) == []


def test_the_cli_records_and_lists_notional_costs(db: Database, notional: tuple[Budget, Funder]) -> None:
    runner = CliRunner()
    arguments = ["notional", "record", "NOT-0001", "--funder", "icb-devon", "--category", "agency_support", "--amount", "120.00",
                 "--on", "2026-05-31", "--supplier", "Careway Agency", "--reference", "INV-1001", "--description", "Home care, May",
                 "--db", db.url, "--json"]  # fmt: skip
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] is True
    assert json.loads(runner.invoke(app, arguments).stdout)["created"] is False
    listed = json.loads(runner.invoke(app, ["notional", "list", "NOT-0001", "--db", db.url, "--json"]).stdout)
    assert [(c["reference"], c["amount"], c["category"]) for c in listed] == [("INV-1001", "120.00", "agency_support")]
