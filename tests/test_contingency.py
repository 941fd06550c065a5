"""Contingency on both databases: ring-fenced to the plan's figure (and released when a
revision lowers it), used onto the card or straight to a spend category, refused beyond what is
left — and every refusal posts nothing."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledger.budgets import budget as budgets
from ledger.budgets import plans
from ledger.core import balances, journal, periods
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput, LedgerError
from ledger.set_asides.contingency import (
    contingency_left,
    contingency_position,
    contingency_uses,
    ring_fence_contingency,
    use_contingency,
)
from ledger.store.database import Database
from ledger.store.tables import JournalEntry
from ledger.store.tables.budget_money import ContingencyUse
from tests.support.builders import PLAN_START, TODAY, World, make_budget, make_person, make_plan, make_world
from web.cli import app

CONTINGENCY = 100_000  # make_plan's £1,000


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        world = make_world(session)
        ring_fence_contingency(session, world.budget.id, on=PLAN_START, created_by="test")
        return world


def use(db: Database, world: World, **overrides: Any):  # type: ignore[no-untyped-def]
    arguments: dict[str, Any] = {
        "amount_pence": 25_000,
        "reason": "Boiler broke: emergency heater hire",
        "agreed_by_name": "Jo Bloggs",
        "agreed_by_role": "ICB PHB manager",
        "agreed_on": date(2026, 6, 1),
        "used_on": date(2026, 6, 2),
        "to": "card",
        "recorded_by": "Sam (ISF lead)",
        "today": TODAY,
    }
    arguments.update(overrides)
    budget_id = arguments.pop("budget_id", world.budget.id)
    with db.write() as session:
        return use_contingency(session, budget_id, **arguments)


def entries(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


def balance(db: Database, world: World, suffix: str) -> int:
    with db.read() as session:
        return balances.signed_sums(session, [world.account_id(session, suffix)]).get(world.account_id(session, suffix), 0)


def revise(db: Database, world: World, *, contingency_pence: int, effective_from: date, agreed_at: datetime) -> None:
    with db.write() as session:
        version = make_plan(
            session, world.budget, [(world.icb, 3_200_000, 0), (world.council, 2_000_000, 0)], total_pence=5_200_000,
            contingency_pence=contingency_pence, effective_from=effective_from, agree=False,
        )  # fmt: skip
        plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=agreed_at)


# --- ring-fencing --------------------------------------------------------------------------


def test_ring_fencing_moves_the_plans_contingency_from_cash_once(db: Database, world: World) -> None:
    assert balance(db, world, "contingency") == CONTINGENCY
    assert balance(db, world, "cash") == -CONTINGENCY
    before = entries(db)
    with db.write() as session:
        again = ring_fence_contingency(session, world.budget.id, on=date(2026, 5, 1), created_by="test")
    assert again.entry_id is None and again.change_pence == 0 and again.ring_fenced_pence == CONTINGENCY
    assert entries(db) == before
    with db.read() as session:
        entry = session.execute(select(JournalEntry).where(JournalEntry.kind == "contingency_ring_fence")).scalar_one()
        assert entry.entry_date == PLAN_START  # agreed in March, in force from 1 April
        assert verify(session) == []


def test_a_revision_lowering_contingency_releases_only_what_is_unused(db: Database, world: World) -> None:
    use(db, world, amount_pence=30_000)
    revise(db, world, contingency_pence=40_000, effective_from=date(2026, 10, 1), agreed_at=datetime(2026, 10, 5, 9))
    with db.write() as session:
        fence = ring_fence_contingency(session, world.budget.id, on=date(2026, 10, 6), created_by="test")
    assert (fence.change_pence, fence.ring_fenced_pence) == (-60_000, 40_000)
    assert balance(db, world, "contingency") == 10_000  # £400 planned, £300 used
    with db.read() as session:
        entry = session.get(JournalEntry, fence.entry_id)
        assert entry.entry_date == date(2026, 10, 5)  # the day the revision was agreed
    # A second revision lowers it below what was used: only the £100 left can go back.
    revise(db, world, contingency_pence=20_000, effective_from=date(2026, 11, 1), agreed_at=datetime(2026, 11, 2, 9))
    with db.write() as session:
        fence = ring_fence_contingency(session, world.budget.id, on=date(2026, 11, 3), created_by="test")
        assert (fence.change_pence, fence.ring_fenced_pence) == (-10_000, 30_000)
        assert ring_fence_contingency(session, world.budget.id, on=date(2026, 11, 4), created_by="test").entry_id is None
        position = contingency_position(session, world.budget.id)
        assert (position.planned_pence, position.ring_fenced_pence, position.used_pence, position.left_pence) == (20_000, 30_000, 30_000, 0)
        assert verify(session) == []


def test_a_revision_raising_contingency_ring_fences_the_difference(db: Database, world: World) -> None:
    revise(db, world, contingency_pence=150_000, effective_from=date(2026, 7, 1), agreed_at=datetime(2026, 6, 20, 9))
    with db.write() as session:
        early = ring_fence_contingency(session, world.budget.id, on=date(2026, 6, 30), created_by="test")
        assert early.entry_id is None  # the revision is not in force yet
        fence = ring_fence_contingency(session, world.budget.id, on=date(2026, 7, 2), created_by="test")
        assert fence.change_pence == 50_000
        assert session.get(JournalEntry, fence.entry_id).entry_date == date(2026, 7, 1)
    assert balance(db, world, "contingency") == 150_000


def test_reversals_count_against_what_they_reverse(db: Database, world: World) -> None:
    recorded = use(db, world, amount_pence=30_000)
    with db.write() as session:
        fence_entry = session.execute(select(JournalEntry.id).where(JournalEntry.kind == "contingency_ring_fence")).scalar_one()
        journal.reverse_entry(session, recorded.use.entry_id, entry_date=date(2026, 6, 3), idempotency_key="undo-use", created_by="test")
        journal.reverse_entry(session, fence_entry, entry_date=date(2026, 6, 3), idempotency_key="undo-fence", created_by="test")
        position = contingency_position(session, world.budget.id)
        assert (position.ring_fenced_pence, position.used_pence, position.left_pence) == (0, 0, 0)
        again = ring_fence_contingency(session, world.budget.id, on=date(2026, 6, 4), created_by="test")
        assert again.change_pence == CONTINGENCY and again.entry_id is not None
        assert contingency_left(session, world.budget.id) == CONTINGENCY
        assert verify(session) == []


def test_ring_fencing_needs_an_agreed_plan_in_force(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, agree=False)
    with pytest.raises(Conflict) as refused, db.write() as session:
        ring_fence_contingency(session, world.budget.id, on=PLAN_START, created_by="test")
    assert refused.value.code == "plan_not_agreed" and "ISF-0001" in refused.value.message
    assert entries(db) == 0


# --- using it ------------------------------------------------------------------------------


def test_a_use_onto_the_card_moves_contingency_to_the_card(db: Database, world: World) -> None:
    recorded = use(db, world, amount_pence=25_000)
    assert recorded.created
    assert balance(db, world, "card") == 25_000
    assert balance(db, world, "contingency") == CONTINGENCY - 25_000
    with db.read() as session:
        (row,) = contingency_uses(session, world.budget.id)
        assert (row.destination, row.category_id, row.agreed_by_role) == ("card", None, "ICB PHB manager")
        entry = session.get(JournalEntry, row.entry_id)
        assert (entry.kind, entry.entry_date, entry.created_by) == ("contingency_use", date(2026, 6, 2), "Sam (ISF lead)")
        assert contingency_left(session, world.budget.id) == 75_000
        assert verify(session) == []


def test_a_use_straight_to_a_spend_category(db: Database, world: World) -> None:
    recorded = use(db, world, amount_pence=40_000, to="spend", category_code="equipment", reason="Replacement hoist sling")
    assert balance(db, world, "spend:equipment") == 40_000
    assert balance(db, world, "card") == 0
    with db.read() as session:
        position = contingency_position(session, world.budget.id)
        assert (position.planned_pence, position.ring_fenced_pence, position.used_pence, position.left_pence) == (
            CONTINGENCY, CONTINGENCY, 40_000, 60_000,
        )  # fmt: skip
        assert recorded.use.category_id is not None
        assert verify(session) == []


def test_a_double_submitted_form_posts_once(db: Database, world: World) -> None:
    first = use(db, world)
    second = use(db, world)
    assert first.created and not second.created and second.use.id == first.use.id
    assert balance(db, world, "card") == 25_000
    # The same key for another decision is a conflict, not a second use.
    use(db, world, idempotency_key="form-7")
    with pytest.raises(Conflict) as refused:
        use(db, world, idempotency_key="form-7", amount_pence=30_000)
    assert refused.value.code == "contingency_use_conflict"
    assert balance(db, world, "card") == 50_000


REFUSALS = [
    ({"amount_pence": -500}, "contingency_amount_not_positive", "amount"),
    ({"amount_pence": 0}, "contingency_amount_not_positive", "amount"),
    ({"reason": ""}, "reason_required", "reason"),
    ({"reason": "   "}, "reason_required", "reason"),
    ({"reason": None}, "reason_required", "reason"),
    ({"agreed_by_name": " "}, "agreed_by_required", "agreed_by_name"),
    ({"agreed_by_role": None}, "agreed_by_required", "agreed_by_role"),
    ({"agreed_on": date(2026, 6, 3)}, "agreed_after_use", "agreed_on"),
    ({"agreed_on": date(2026, 12, 1), "used_on": date(2026, 12, 2)}, "agreed_in_future", "agreed_on"),
    ({"used_on": date(2026, 12, 2)}, "used_in_future", "used_on"),
    ({"to": "bank"}, "field_not_allowed", "to"),
    ({"to": "spend"}, "category_required", "category"),
    ({"to": "spend", "category_code": "yachts"}, "category_unknown", "category"),
    ({"to": "card", "category_code": "equipment"}, "category_not_for_card", "category"),
    ({"amount_pence": CONTINGENCY + 1}, "contingency_exceeded", "amount"),
    ({"used_on": date(2026, 3, 31), "agreed_on": date(2026, 3, 30)}, "plan_not_agreed", "used_on"),
]


@pytest.mark.parametrize(("overrides", "code", "field"), REFUSALS, ids=[r[1] + "-" + str(i) for i, r in enumerate(REFUSALS)])
def test_each_refusal_is_clear_and_posts_nothing(db: Database, world: World, overrides: dict[str, Any], code: str, field: str) -> None:
    before = entries(db)
    with pytest.raises(LedgerError) as refused:
        use(db, world, **overrides)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert entries(db) == before
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(ContingencyUse)).scalar_one() == 0


def test_over_drawing_says_how_much_is_left(db: Database, world: World) -> None:
    use(db, world, amount_pence=80_000)
    before = entries(db)
    with pytest.raises(Conflict) as refused:
        use(db, world, amount_pence=20_001, reason="Another emergency")
    assert refused.value.code == "contingency_exceeded"
    assert "£200.00" in refused.value.message and refused.value.details == {"left": 20_000}
    assert entries(db) == before
    assert use(db, world, amount_pence=20_000, reason="Another emergency").created
    assert balance(db, world, "contingency") == 0


def test_an_unagreed_plan_version_is_refused(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, agree=False)
    with pytest.raises(Conflict) as refused:
        use(db, world)
    assert refused.value.code == "plan_not_agreed" and "ISF-0001" in refused.value.message
    assert entries(db) == 0


def test_a_use_before_the_first_version_takes_effect_is_refused(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, agree=False)
        plans.withdraw_draft(session, world.version.id)
        late = make_plan(session, world.budget, [(world.icb, 3_200_000, 0), (world.council, 2_000_000, 0)],
                         total_pence=5_200_000, effective_from=date(2026, 7, 1), agree=False)  # fmt: skip
        plans.agree(session, late.id, agreed_by_name="Jo", agreed_by_role="ICB PHB manager", agreed_at=datetime(2026, 6, 1))
        ring_fence_contingency(session, world.budget.id, on=date(2026, 7, 1), created_by="test")
    before = entries(db)
    with pytest.raises(Conflict) as refused:
        use(db, world, agreed_on=date(2026, 6, 1), used_on=date(2026, 6, 30))
    assert refused.value.code == "plan_not_agreed" and "2026-06-30" in refused.value.message
    assert entries(db) == before
    assert use(db, world, agreed_on=date(2026, 6, 1), used_on=date(2026, 7, 1)).created


def test_onto_the_card_needs_a_card_part(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        bank_only = make_budget(session, world.holder, make_person(session, "Bo Jones"), world.icb, reference="ISF-0002",
                                parts=(budgets.PartSpec("third_party", "bank_account"),))  # fmt: skip
        make_plan(session, bank_only, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
        ring_fence_contingency(session, bank_only.id, on=PLAN_START, created_by="test")
    before = entries(db)
    with pytest.raises(InvalidInput) as refused:
        use(db, world, budget_id=bank_only.id)
    assert (refused.value.code, refused.value.field) == ("no_card_part", "to")
    assert entries(db) == before
    assert use(db, world, budget_id=bank_only.id, to="spend", category_code="equipment").created


def test_a_use_dated_in_a_closed_quarter_is_refused_by_the_journal(db: Database, world: World) -> None:
    with db.write() as session:
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="Finance", today=TODAY)
    before = entries(db)
    with pytest.raises(Conflict) as refused:
        use(db, world)
    assert refused.value.code == "period_closed"
    assert entries(db) == before
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(ContingencyUse)).scalar_one() == 0


def test_two_racing_uses_that_together_exceed_what_is_left_one_wins(db: Database, world: World) -> None:
    start_together = threading.Barrier(2, timeout=60)

    def attempt(writer: int) -> str:
        start_together.wait()
        try:
            use(db, world, amount_pence=70_000, reason=f"Emergency {writer}", idempotency_key=f"race-{writer}")
        except Conflict as error:
            return error.code
        return "created"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(attempt, range(2)))
    assert outcomes == ["contingency_exceeded", "created"]
    assert balance(db, world, "contingency") == 30_000
    with db.read() as session:
        assert len(contingency_uses(session, world.budget.id)) == 1
        assert verify(session) == []


def test_the_cli_uses_and_shows_contingency(db: Database, world: World) -> None:
    runner = CliRunner()
    arguments = ["contingency", "use", "ISF-0001", "--amount", "250.00", "--reason", "Emergency heater hire", "--agreed-by", "Jo Bloggs",
                 "--agreed-role", "ICB PHB manager", "--agreed-on", "2026-06-01", "--used-on", "2026-06-02", "--to", "card",
                 "--db", db.url, "--json"]  # fmt: skip
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] is True and json.loads(first.stdout)["left"] == "750.00"
    assert json.loads(runner.invoke(app, arguments).stdout)["created"] is False
    over = runner.invoke(app, [*arguments[:4], "2000.00", *arguments[5:]])
    assert over.exit_code == 1 and "£750.00" in over.stderr
    shown = json.loads(runner.invoke(app, ["contingency", "show", "ISF-0001", "--db", db.url, "--json"]).stdout)
    assert (shown["used"], shown["left"], len(shown["uses"])) == ("250.00", "750.00", 1)
