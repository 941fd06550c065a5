"""The demo data set (``ledger.demo``): it loads into an empty database on both backends,
every ledger invariant holds, it has the budgets the issue asks for, no card or cash
account is ever overdrawn, its card loads are the drawdown service's (nothing is left for a
later run to load twice), it is the same every time, and it refuses a database that is not
empty. Its top-slices and contingency ring-fences are the services' too, so the jobs the
scheduler runs when ``make run`` starts find nothing to post twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets import budget as budgets
from ledger.budgets import parties, plans
from ledger.budgets.pauses import pauses_of
from ledger.core import balances
from ledger.core.verify import verify
from ledger.core.vocabulary import AccountKind, EntryKind, FunderKind, HolderKind, Holding, LegalBasis, ManagementOption
from ledger.demo import DemoSummary, demo_recipes, load_demo
from ledger.demo.cast import FUNDERS, all_holders
from ledger.demo.dates import month_end, months_between
from ledger.demo.history import write_book
from ledger.demo.world import World
from ledger.errors import Conflict, InvalidInput
from ledger.loads.runs import PartSchedule, budget_schedule, post_due_drawdowns
from ledger.loads.schedule import LoadStatus
from ledger.set_asides.top_slice import due_contingency_ring_fences, take_due_top_slices
from ledger.store.database import Database
from ledger.store.tables import Drawdown, JournalEntry, Posting, utcnow
from ledger.store.tables.budget_money import TopSliceTaken
from ledger.store.tables.flags import Flag
from ledger.store.tables.reconciliation import ReconciliationMatch
from ledger.store.tables.statements import StatementLineRecord
from tests.support.databases import SqliteTemplate

TODAY = date(2026, 11, 24)
END_OF_YESTERDAY = datetime.combine(TODAY, time(0, 0), tzinfo=ZoneInfo("Europe/London")).astimezone(UTC) - timedelta(microseconds=1)
"""``phb-ledger drawdown run --as-of`` the day before ``TODAY``: every load due on or before it."""
END_OF_TODAY = datetime.combine(TODAY + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo("Europe/London")).astimezone(UTC) - timedelta(
    microseconds=1
)
"""The latest the scheduler can run on ``TODAY`` (a Tuesday: no card is loaded on it)."""
HOSPITAL_STAY = "ISF-0011"
CARD_PARTS = 21
"""Parts loaded onto a card: twelve ISFs' (ISF-0005's a direct payment), seven managed accounts', two families'."""
NEVER_NEGATIVE = (AccountKind.CASH, AccountKind.CARD, AccountKind.CONTINGENCY, AccountKind.UNALLOCATED, AccountKind.PAYABLE)
"""Assets that hold real money, and what is owed (a liability, shown in its natural sign)."""

ContentHashes = list[tuple[int, int, str]]


@pytest.fixture(scope="session")
def reference_hashes(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> ContentHashes:
    """The demo loaded once into a database of its own: every other load must equal it."""
    path: Path = tmp_path_factory.mktemp("demo-reference") / "reference.db"
    database = Database(sqlite_template.copy_to(path))
    try:
        load_demo(database, today=TODAY)
        with database.read() as session:
            return content_hashes(session)
    finally:
        database.dispose()


def content_hashes(session: Session) -> ContentHashes:
    return [
        (row.book_id, row.seq, row.content_hash)
        for row in session.execute(
            select(JournalEntry.book_id, JournalEntry.seq, JournalEntry.content_hash).order_by(JournalEntry.book_id, JournalEntry.seq)
        )
    ]


def test_the_demo_loads_holds_every_invariant_and_is_the_same_every_time(db: Database, reference_hashes: ContentHashes) -> None:
    stages: list[tuple[str, int, int]] = []
    summary = load_demo(db, today=TODAY, progress=lambda stage, done, total: stages.append((stage, done, total)))
    with db.read() as session:
        assert verify(session) == []
        check_counts(session, summary)
        check_management_options_and_holdings(session)
        check_stories(session)
        check_never_overdrawn(session)
        check_card_loads_are_the_services(session)
        check_set_asides_are_the_services(session)
        check_statements_reconciled_and_flagged(session, summary)
        # The reference is SQLite: on PostgreSQL this also shows both backends hold the same entries.
        assert content_hashes(session) == reference_hashes, "a second load (another database, same today) differs"
    check_nothing_left_to_load(db)
    check_the_scheduler_finds_nothing_to_post(db)
    assert ("budgets", summary.budgets, summary.budgets) in stages
    assert ("history", summary.holders, summary.holders) in stages
    assert stages[-1] == ("statements", 1, 1)


def check_statements_reconciled_and_flagged(session: Session, summary: DemoSummary) -> None:
    """Every statement line the demo imported is matched, every statement's closing balance
    is the ledger's, and the planted purchases are flagged — nothing else as excluded."""
    lines = session.scalar(select(func.count()).select_from(StatementLineRecord))
    matched = session.scalar(select(func.count()).select_from(ReconciliationMatch).where(ReconciliationMatch.active_line_id.is_not(None)))
    assert summary.statement_lines == lines == matched and lines > 3_000
    codes = dict(session.execute(select(Flag.code, func.count()).group_by(Flag.code)).all())
    assert "BALANCE_MISMATCH" not in codes and "UNCATEGORISED" not in codes
    assert summary.flags == sum(codes.values())
    venues = session.scalars(select(Flag.reason).where(Flag.code == "CHECK_VENUE")).all()
    excluded = session.scalars(select(Flag.reason).where(Flag.code.in_(["EXCLUDED_MCC", "EXCLUDED_MERCHANT"]))).all()
    assert len(venues) == 1 and "The Ship Inn" in venues[0]
    assert len(excluded) == 1 and "Bargain Booze" in excluded[0]
    assert codes.get("SURPLUS_HELD", 0) >= 2 and codes.get("OVER_PLAN_LINE") == 1


def check_counts(session: Session, summary: DemoSummary) -> None:
    assert summary.funders == len(parties.list_funders(session)) == 4
    assert summary.holders == len(parties.list_holders(session)) == 9
    assert summary.people == len(parties.list_people(session)) == 40
    assert summary.budgets == len(budgets.list_budgets(session)) == 40
    assert summary.entries == session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
    assert summary.postings == session.execute(select(func.count()).select_from(Posting)).scalar_one()
    assert summary.entries > 3_000, "about a year of history"
    kinds = {holder.kind for holder in parties.list_holders(session)}
    assert kinds == {kind.value for kind in HolderKind}


def check_management_options_and_holdings(session: Session) -> None:
    parts = [part for budget in budgets.list_budgets(session) for part in budgets.parts_of(session, budget.id)]
    assert {part.management_option for part in parts} == {option.value for option in ManagementOption}
    assert {part.holding for part in parts} == {holding.value for holding in Holding}


def check_stories(session: Session) -> None:
    """The budgets the issue names: jointly funded (contribution on the council's share
    only), start small (two agreed versions, more to the direct payment), notional,
    transition costs before the plan, a child's, representatives on every legal basis."""
    by_reference = {budget.reference: budget for budget in budgets.list_budgets(session)}
    funder_kinds = {funder.id: funder.kind for funder in parties.list_funders(session)}
    joint = _agreed_view(session, by_reference["ISF-0002"].id)
    assert len(joint.funding_lines) == 2
    contributing = [funder_kinds[line.funder_id] for line in joint.funding_lines if line.client_contribution_pence]
    assert contributing == [FunderKind.COUNCIL_ADULT_SOCIAL_CARE]

    first, second = (plans.view(session, v) for v in plans.versions_of(session, by_reference["ISF-0005"].id))
    assert first.version.status == second.version.status == "agreed"
    assert second.version.effective_from > first.version.effective_from and second.version.change_reason
    assert _direct_payment_pence(second) > _direct_payment_pence(first) > 0
    assert {part.management_option for part, _ in second.parts} == {ManagementOption.THIRD_PARTY, ManagementOption.DIRECT_PAYMENT}

    notional = by_reference["NOT-0001"]
    assert parties.get_holder(session, notional.holder_id).kind == HolderKind.COMMISSIONER
    assert {(p.management_option, p.holding) for p in budgets.parts_of(session, notional.id)} == {(ManagementOption.NOTIONAL, Holding.NONE)}

    moving = by_reference["ISF-0009"]
    transition = [line for line in _agreed_view(session, moving.id).lines if line.starts_on and line.starts_on < moving.period_start]
    assert transition and moving.previous_placement_annual_cost_pence

    people = parties.list_people(session)
    assert any(not parties.is_adult_on(person, TODAY) for person in people)
    bases = {rep.legal_basis for person in people for rep in parties.representatives_of(session, person.id)}
    assert bases == {basis.value for basis in LegalBasis}


def _agreed_view(session: Session, budget_id: int) -> plans.PlanVersionView:
    version = plans.latest_agreed(session, budget_id)
    assert version is not None
    return plans.view(session, version)


def _direct_payment_pence(view: plans.PlanVersionView) -> int:
    return sum(amount.amount_pence for part, amount in view.parts if part.management_option == ManagementOption.DIRECT_PAYMENT)


def check_never_overdrawn(session: Session) -> None:
    for day in [*(month_end(month) for month in months_between(date(2025, 9, 1), TODAY)), TODAY]:
        overdrawn = [
            (balance.code, balance.balance_pence)
            for balance in balances.all_balances(session, as_of=day)
            if balance.kind in NEVER_NEGATIVE and balance.balance_pence < 0
        ]
        assert overdrawn == [], f"overdrawn on {day}"


def check_card_loads_are_the_services(session: Session) -> None:
    """Every load is the drawdown service's: a ``drawdown`` row per load entry, each part's
    rows its schedule's posted loads, and nothing due before ``TODAY`` left unloaded."""
    schedules = [schedule for budget in budgets.list_budgets(session) for schedule in budget_schedule(session, budget.id)]
    assert len(schedules) == CARD_PARTS
    for schedule in schedules:
        check_rows_are_the_posted_loads(session, schedule)
    drawdown_entries = session.execute(select(func.count()).where(JournalEntry.kind == EntryKind.DRAWDOWN)).scalar_one()
    assert drawdown_entries == session.execute(select(func.count()).select_from(Drawdown)).scalar_one(), "a load of the demo's own"
    check_the_hospital_stay_paused_loads(session)


def check_nothing_left_to_load(db: Database) -> None:
    """What ``phb-ledger drawdown run --as-of <the day before today>`` does next: nothing."""
    with db.write() as session:
        run = post_due_drawdowns(session, END_OF_YESTERDAY, now=END_OF_YESTERDAY)
        assert (run.posted, run.held) == ([], []), "the demo left loads for the service to make again"
        assert run.parts_checked == CARD_PARTS


def check_set_asides_are_the_services(session: Session) -> None:
    """Every top-slice entry has its ``top_slice_taken`` row, and every ring-fence is the
    contingency service's (its key)."""
    top_slices = session.execute(select(func.count()).where(JournalEntry.kind == EntryKind.TOP_SLICE)).scalar_one()
    assert top_slices > 200
    assert top_slices == session.execute(select(func.count()).select_from(TopSliceTaken)).scalar_one(), "a top-slice of the demo's own"
    keys = (
        session.execute(select(JournalEntry.idempotency_key).where(JournalEntry.kind == EntryKind.CONTINGENCY_RING_FENCE)).scalars().all()
    )
    assert keys and all(key.startswith("contingency-ring-fence:budget-") for key in keys), "a ring-fence of the demo's own"


def check_the_scheduler_finds_nothing_to_post(db: Database) -> None:
    """What the scheduler's jobs do when ``make run`` starts on the demo's ``TODAY``: the
    05:00 set-asides and the card loads post nothing (the demo posted everything due)."""
    with db.write() as session:
        fences = due_contingency_ring_fences(session, TODAY, created_by="scheduler")
        slices = take_due_top_slices(session, TODAY, created_by="scheduler", today=TODAY)
        loads = post_due_drawdowns(session, END_OF_TODAY, now=END_OF_TODAY, created_by="scheduler")
        assert (fences.posted, fences.held) == ([], []), "the demo left contingency to ring-fence"
        assert (slices.posted, slices.held) == ([], []), "the demo left a top-slice to take again"
        assert (loads.posted, loads.held) == ([], []), "the demo left loads for the service to make again"
        assert fences.budgets_checked == slices.budgets_checked == 40


def check_rows_are_the_posted_loads(session: Session, schedule: PartSchedule) -> None:
    rows = session.execute(
        select(Drawdown.period_starts_on, Drawdown.period_ends_on, Drawdown.due_on, Drawdown.amount_pence, Drawdown.plan_version_id)
        .where(Drawdown.budget_part_id == schedule.part.terms.part_id)
        .order_by(Drawdown.period_starts_on)
    ).all()
    posted = [
        (load.period.starts_on, load.period.ends_on, load.period.due_on, load.amount_pence, load.version_id)
        for load in schedule.loads
        if load.status is LoadStatus.POSTED
    ]
    assert [tuple(row) for row in rows] == posted and posted, schedule.part.reference
    assert all(load.status is not LoadStatus.DUE or load.period.due_on >= TODAY for load in schedule.loads), schedule.part.reference


def check_the_hospital_stay_paused_loads(session: Session) -> None:
    """Loads paused for the stay, never made up, then made again at their usual amount."""
    budget = budgets.budget_by_reference(session, HOSPITAL_STAY)
    (pause,) = pauses_of(session, budget.id)
    assert pause.ends_on is not None and pause.ends_on - pause.starts_on < timedelta(weeks=3)
    (schedule,) = budget_schedule(session, budget.id)
    paused = [load for load in schedule.loads if load.status is LoadStatus.PAUSED]
    assert paused and all(pause.starts_on <= load.period.due_on <= pause.ends_on for load in paused)
    after = [load for load in schedule.loads if load.period.due_on > pause.ends_on and load.status is LoadStatus.POSTED]
    assert after and after[0].amount_pence == paused[0].amount_pence


def test_the_demo_refuses_a_database_that_is_not_empty(db: Database) -> None:
    with db.write() as session:
        parties.create_funder(session, FUNDERS[0])
    with pytest.raises(Conflict) as refused:
        load_demo(db, today=TODAY)
    assert refused.value.code == "demo_needs_empty_database"
    with db.read() as session:
        assert len(parties.list_funders(session)) == 1
        assert parties.list_holders(session) == []


def test_the_demo_refuses_a_today_whose_plans_would_be_agreed_in_the_future(db: Database) -> None:
    with pytest.raises(InvalidInput) as refused:
        load_demo(db, today=utcnow().date() + timedelta(days=400))
    assert refused.value.code == "demo_today_in_future"


@pytest.mark.parametrize("today", [date(2026, 3, 1), date(2026, 8, 31), date(2026, 12, 28), date(2027, 2, 14)])
def test_for_any_today_the_year_never_overdraws_a_card_or_an_account(today: date) -> None:
    """The demo's own guard (``ledger.demo.book``) asserts as each entry is written; here
    it runs over other calendars: other month lengths, bank holidays and weekdays."""
    world = _world_without_a_database()
    recipes = demo_recipes(today)
    written = sum(len(write_book(world, holder, [r for r in recipes if r.holder == holder], today).items) for holder in world.holder_ids)
    assert written > 3_000
    assert all(recipe.period_start <= today <= recipe.period_end for recipe in recipes), "every plan is running on today"


def _world_without_a_database() -> World:
    return World(
        funder_names={funder.code: funder.name for funder in FUNDERS},
        holder_ids={holder.code: number for number, holder in enumerate(all_holders(), 1)},
    )
