"""Funder payments and client contributions on both databases: schedules that sum exactly to
the allocation across a revision, one bank line split over budgets (by amounts due or by a
remittance list), replays, conflicts, attributions of unallocated money — and every entry
balanced per fund."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.budgets import parties, plans
from ledger.core import balances, periods
from ledger.core.accounts import account_ids_by_code
from ledger.core.verify import verify
from ledger.errors import Conflict, InvalidInput
from ledger.money_in.contributions import contributions_of, record_contribution
from ledger.money_in.expected_payments import PaymentFrequency, add_expected_payment, due_dates, expected_payments, schedule_expected_payments
from ledger.money_in.funder_receipts import attribute_unallocated, funder_receipts, record_funder_receipt
from ledger.money_in.receipt_views import ReceiptView
from ledger.store.database import Database
from ledger.store.tables import Budget, JournalEntry
from ledger.store.tables.funder_payments import FunderReceipt, ReceiptShare
from tests.support.builders import PLAN_END, PLAN_START, World, make_budget, make_person, make_plan, make_world

APRIL = date(2026, 4, 1)


@dataclass
class Three:
    world: World
    budgets: list[Budget]


@pytest.fixture
def three(db: Database) -> Three:
    """Three budgets of one holder funded by the ICB, paid quarterly: £3,000, £6,000 and
    £9,000 due on 1 April."""
    with db.write() as session:
        world = make_world(session, council_pence=0, total_pence=1_200_000)
        found = [world.budget]
        for n, icb_pence in ((2, 2_400_000), (3, 3_600_000)):
            budget = make_budget(session, world.holder, make_person(session, f"Person {n}"), world.icb, reference=f"ISF-000{n}")
            make_plan(session, budget, [(world.icb, icb_pence, 0)], total_pence=icb_pence)
            found.append(budget)
        for budget in found:
            schedule_expected_payments(session, budget.id, world.icb.id, frequency="quarterly", first_due_on=APRIL, created_by="test")
    return Three(world, found)


def receive(db: Database, three: Three, pence: int, *, reference: str = "BACS 1", on: date = APRIL, remittance=None) -> ReceiptView:  # type: ignore[no-untyped-def]
    with db.write() as session:
        recorded = record_funder_receipt(
            session, three.world.holder.id, three.world.icb.id, received_on=on, amount_pence=pence, reference=reference,
            remittance=remittance, created_by="test",
        )  # fmt: skip
    assert isinstance(recorded.receipt, ReceiptView)
    return recorded.receipt


def budget_parts(receipt: ReceiptView) -> dict[str | None, int]:
    parts: dict[str | None, int] = {}
    for share in receipt.shares:
        parts[share.budget_reference] = parts.get(share.budget_reference, 0) + share.amount_pence
    return parts


def balance(db: Database, code: str) -> int:
    with db.read() as session:
        account_id = account_ids_by_code(session, [code])[code]
        return balances.signed_sums(session, [account_id]).get(account_id, 0)


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return tuple(session.execute(select(func.count()).select_from(t)).scalar_one() for t in (JournalEntry, FunderReceipt, ReceiptShare))  # type: ignore[return-value]


def assert_ledger_sound(db: Database) -> None:
    with db.read() as session:
        assert verify(session) == []


# --- schedules ----------------------------------------------------------------------------


def test_month_end_due_dates_keep_their_day() -> None:
    days = due_dates(date(2026, 1, 31), date(2026, 5, 31), PaymentFrequency.MONTHLY)
    assert days == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]
    four_weekly = due_dates(PLAN_START, PLAN_END, PaymentFrequency.FOUR_WEEKLY)
    assert len(four_weekly) == 14 and four_weekly[-1] == PLAN_END  # 13 × 28 days = 364: the last falls on 31 March


def test_a_schedule_sums_exactly_to_the_allocation_and_again_after_a_revision(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, total_pence=5_200_001, council_pence=2_000_000)  # ICB: £32,000.01
        first = schedule_expected_payments(session, world.budget.id, world.icb.id, frequency="monthly", first_due_on=APRIL, created_by="t")
    assert first.created == 12 and sum(i.amount_pence for i in first.instalments) == 3_200_001
    assert {i.amount_pence for i in first.instalments} == {266_667, 266_666}
    with db.write() as session:  # nothing changed: nothing is replaced
        again = schedule_expected_payments(session, world.budget.id, world.icb.id, frequency="monthly", first_due_on=APRIL, created_by="t")
    assert again.created == 0 and again.replaced == 0 and [i.id for i in again.instalments] == [i.id for i in first.instalments]
    with db.write() as session:  # the first six months are paid, the seventh in part
        for n, instalment in enumerate(first.instalments[:6]):
            record_funder_receipt(
                session, world.holder.id, world.icb.id, received_on=instalment.due_on, amount_pence=instalment.amount_pence,
                reference=f"ICB {n}", remittance=None, created_by="t",
            )  # fmt: skip
        record_funder_receipt(
            session, world.holder.id, world.icb.id, received_on=date(2026, 10, 1), amount_pence=100_000, reference="ICB part",
            remittance=None, created_by="t",
        )  # fmt: skip
        make_plan(session, world.budget, [(world.icb, 3_500_000, 0), (world.council, 2_000_000, 0)], total_pence=5_500_000,
                  effective_from=date(2026, 10, 1))  # fmt: skip
        revised = schedule_expected_payments(
            session, world.budget.id, world.icb.id, frequency="monthly", first_due_on=date(2026, 10, 1), created_by="t"
        )
    assert revised.replaced == 6 and revised.created == 6
    assert sum(i.amount_pence for i in revised.instalments) == 3_500_000
    october = [i for i in revised.instalments if i.due_on == date(2026, 10, 1)]
    assert [(i.replaced, i.amount_pence, i.received_pence) for i in october] == [(True, 100_000, 100_000), (False, 300_000, 0)]  # (£35,000 − £17,000.02) ÷ 6, rounded
    assert sum(i.received_pence for i in revised.instalments) == 6 * 266_667 + 100_000
    assert_ledger_sound(db)


def test_a_one_off_instalment_is_refused_beyond_the_allocation(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        add_expected_payment(session, world.budget.id, world.council.id, due_on=APRIL, amount_pence=1_500_000, description="Most", created_by="t")
        with pytest.raises(InvalidInput) as refused:
            add_expected_payment(session, world.budget.id, world.council.id, due_on=APRIL, amount_pence=500_001, description="Rest", created_by="t")
    assert refused.value.code == "schedule_exceeds_allocation"


def test_a_schedule_needs_an_agreed_plan_and_a_funder_in_it(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, agree=False)
        with pytest.raises(Conflict) as unagreed:
            schedule_expected_payments(session, world.budget.id, world.icb.id, frequency="monthly", first_due_on=APRIL, created_by="t")
        assert unagreed.value.code == "plan_not_agreed"
    with db.write() as session:
        plans.withdraw_draft(session, world.version.id)  # an ICB-only plan instead
        make_plan(session, world.budget, [(world.icb, 5_200_000, 0)], total_pence=5_200_000)
    with db.write() as session:
        with pytest.raises(InvalidInput) as absent:
            schedule_expected_payments(session, world.budget.id, world.council.id, frequency="monthly", first_due_on=APRIL, created_by="t")
        assert absent.value.code == "funder_not_in_plan"
        with pytest.raises(InvalidInput) as bad:
            schedule_expected_payments(session, world.budget.id, world.icb.id, frequency="weekly", first_due_on=APRIL, created_by="t")
        assert bad.value.field == "frequency"


# --- one payment over three budgets --------------------------------------------------------


def test_a_payment_of_exactly_what_is_due_pays_each_instalment(db: Database, three: Three) -> None:
    receipt = receive(db, three, 1_800_000)
    assert budget_parts(receipt) == {"ISF-0001": 300_000, "ISF-0002": 600_000, "ISF-0003": 900_000}
    assert balance(db, "ISF-0002:cash") == 600_000 and balance(db, "ISF-0002:receivable:icb-devon") == 2_400_000 - 600_000
    with db.read() as session:
        due = expected_payments(session, holder_id=three.world.holder.id, as_of=date(2026, 5, 1))
    assert [(i.due_on, i.outstanding_pence, i.overdue) for i in due if i.due_on == APRIL] == [(APRIL, 0, False)] * 3
    assert_ledger_sound(db)


def test_a_short_payment_is_split_pro_rata_to_the_amounts_due(db: Database, three: Three) -> None:
    receipt = receive(db, three, 900_001)
    assert budget_parts(receipt) == {"ISF-0001": 150_000, "ISF-0002": 300_000, "ISF-0003": 450_001}
    with db.read() as session:
        due = expected_payments(session, holder_id=three.world.holder.id, as_of=date(2026, 4, 2))
    overdue = [(i.budget_reference, i.outstanding_pence) for i in due if i.overdue]
    assert overdue == [("ISF-0001", 150_000), ("ISF-0002", 300_000), ("ISF-0003", 449_999)]
    assert_ledger_sound(db)


def test_an_over_payment_puts_the_excess_in_unallocated(db: Database, three: Three) -> None:
    receipt = receive(db, three, 2_000_000)
    assert budget_parts(receipt) == {"ISF-0001": 300_000, "ISF-0002": 600_000, "ISF-0003": 900_000, None: 200_000}
    assert receipt.unallocated_pence == 200_000
    assert balance(db, "holder:sunrise:unallocated") == 200_000
    assert balance(db, "holder:sunrise:unidentified") == -200_000
    with db.read() as session:
        (entry,) = session.execute(select(JournalEntry).where(JournalEntry.kind == "funder_payment")).scalars()
    assert entry.entry_date == APRIL and entry.idempotency_key == f"funder-receipt:funder-{three.world.icb.id}:2026-04-01:BACS 1"
    assert "NHS Devon ICB" in entry.description and "ISF-0003 £9,000.00" in entry.description and "unallocated £2,000.00" in entry.description
    assert_ledger_sound(db)


def test_a_remittance_list_says_which_budget_gets_what(db: Database, three: Three) -> None:
    receipt = receive(db, three, 1_000_000, remittance=[("ISF-0003", 700_000), ("ISF-0001", 250_000)])
    assert budget_parts(receipt) == {"ISF-0003": 700_000, "ISF-0001": 250_000, None: 50_000}
    assert receipt.by_remittance
    with db.read() as session:
        due = {i.budget_reference: i for i in expected_payments(session, holder_id=three.world.holder.id) if i.due_on == APRIL}
    assert due["ISF-0003"].received_pence == 700_000  # its April instalment, then July's in part
    assert due["ISF-0001"].outstanding_pence == 50_000 and due["ISF-0002"].received_pence == 0
    assert_ledger_sound(db)


def test_an_unknown_budget_in_a_remittance_is_refused_and_nothing_is_posted(db: Database, three: Three) -> None:
    with db.write() as session:  # a budget of another holder, funded by the same ICB, is not this holder's
        other = parties.create_holder(session, parties.HolderSpec("elsewhere", "Elsewhere Care", "isf_provider"))
        budget = make_budget(session, other, make_person(session, "Sam"), three.world.icb, reference="DP-0001")
        make_plan(session, budget, [(three.world.icb, 1_000_000, 0)], total_pence=1_000_000)
    before = counts(db)
    for remittance, field in (
        ([("ISF-0001", 100_000), ("ISF-0404", 100_000)], "remittance[1].budget"),
        ([("DP-0001", 100_000)], "remittance[0].budget"),
        ([("ISF-0001", 100_000), ("ISF-0002", 0)], "remittance[1].amount"),
        ([("ISF-0001", 1_000_001)], "remittance"),
    ):
        with pytest.raises(InvalidInput) as refused:
            receive(db, three, 1_000_000, remittance=remittance)
        assert refused.value.field == field
    assert counts(db) == before


def test_the_same_bank_line_again_returns_the_original_and_posts_nothing(db: Database, three: Three) -> None:
    first = receive(db, three, 1_800_000)
    before = counts(db)
    with db.write() as session:
        again = record_funder_receipt(
            session, three.world.holder.id, three.world.icb.id, received_on=APRIL, amount_pence=1_800_000, reference="BACS 1",
            remittance=None, created_by="someone else",
        )  # fmt: skip
    assert not again.created and again.receipt == first
    assert counts(db) == before
    with pytest.raises(Conflict) as conflict:
        receive(db, three, 1_800_001)
    assert conflict.value.code == "receipt_exists_with_other_amount"
    assert counts(db) == before
    with db.read() as session:
        assert [r.id for r in funder_receipts(session, three.world.holder.id)] == [first.id]


def test_a_budget_is_never_paid_beyond_its_receivable(db: Database, three: Three) -> None:
    receive(db, three, 1_000_000, remittance=[("ISF-0001", 1_000_000)])  # 12,000 owed: fine
    receipt = receive(db, three, 500_000, reference="BACS 2", remittance=[("ISF-0001", 500_000)])  # only 200,000 left
    assert budget_parts(receipt) == {"ISF-0001": 200_000, None: 300_000}
    assert balance(db, "ISF-0001:receivable:icb-devon") == 0
    assert_ledger_sound(db)


def test_a_receipt_in_a_closed_quarter_is_refused(db: Database, three: Three) -> None:
    with db.write() as session:
        periods.close_quarter(session, three.world.holder.id, periods.parse_quarter("2026Q1"), closed_by="Finance", today=date(2026, 7, 10))
    before = counts(db)
    with pytest.raises(Conflict) as closed:
        receive(db, three, 100_000, on=date(2026, 6, 30))
    assert closed.value.code == "period_closed"
    assert counts(db) == before


# --- unallocated money found to be a budget's ----------------------------------------------


def test_unallocated_money_is_attributed_to_a_budget_and_not_beyond(db: Database, three: Three) -> None:
    receive(db, three, 2_000_000)  # £2,000 unallocated
    budget = three.budgets[1]
    with db.write() as session:
        with pytest.raises(InvalidInput) as beyond:
            attribute_unallocated(
                session, three.world.holder.id, budget_id=budget.id, funder_id=three.world.icb.id, amount_pence=200_001,
                on=date(2026, 4, 10), reason="ICB said it was for Person 2", created_by="t",
            )  # fmt: skip
        assert beyond.value.code == "exceeds_unallocated"
    with db.write() as session:
        done = attribute_unallocated(
            session, three.world.holder.id, budget_id=budget.id, funder_id=three.world.icb.id, amount_pence=150_000,
            on=date(2026, 4, 10), reason="ICB said it was for Person 2", created_by="t",
        )  # fmt: skip
        again = attribute_unallocated(
            session, three.world.holder.id, budget_id=budget.id, funder_id=three.world.icb.id, amount_pence=150_000,
            on=date(2026, 4, 10), reason="ICB said it was for Person 2", created_by="t",
        )  # fmt: skip
    assert done.created and not again.created and again.receipt.id == done.receipt.id
    assert balance(db, "holder:sunrise:unallocated") == 50_000
    assert balance(db, "ISF-0002:cash") == 750_000
    with db.read() as session:
        kinds = session.execute(select(JournalEntry.kind).order_by(JournalEntry.seq)).scalars().all()
    assert kinds.count("money_identified") == 1
    assert_ledger_sound(db)


# --- client contributions -----------------------------------------------------------------


def test_a_contribution_is_refused_when_the_plan_has_none(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        with pytest.raises(InvalidInput) as refused:
            record_contribution(session, world.budget.id, received_on=APRIL, amount_pence=10_000, reference="SO 1", created_by="t")
    assert refused.value.code == "no_client_contribution"


def test_a_contribution_counts_against_the_persons_instalments(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, contribution_pence=120_000)
        schedule_expected_payments(session, world.budget.id, None, frequency="monthly", first_due_on=APRIL, created_by="t")
        first = record_contribution(session, world.budget.id, received_on=APRIL, amount_pence=15_000, reference="SO 1", created_by="t")
        replay = record_contribution(session, world.budget.id, received_on=APRIL, amount_pence=15_000, reference="SO 1", created_by="t")
        with pytest.raises(Conflict):
            record_contribution(session, world.budget.id, received_on=APRIL, amount_pence=15_001, reference="SO 1", created_by="t")
        with pytest.raises(InvalidInput) as beyond:
            record_contribution(session, world.budget.id, received_on=APRIL, amount_pence=105_001, reference="SO 2", created_by="t")
        assert beyond.value.code == "exceeds_receivable"
    assert first.created and not replay.created and replay.receipt == first.receipt
    with db.read() as session:
        due = expected_payments(session, budget_id=world.budget.id, contribution=True, as_of=date(2026, 5, 15))
        assert len(contributions_of(session, world.budget.id)) == 1
    assert [(i.received_pence, i.outstanding_pence, i.overdue) for i in due[:3]] == [(10_000, 0, False), (5_000, 5_000, True), (0, 10_000, False)]
    assert balance(db, "ISF-0001:receivable:contribution") == 105_000
    assert balance(db, "ISF-0001:cash") == 15_000
    assert_ledger_sound(db)


def test_a_contribution_needs_an_agreed_plan(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, contribution_pence=120_000, agree=False)
        with pytest.raises(Conflict) as refused:
            record_contribution(session, world.budget.id, received_on=APRIL, amount_pence=10_000, reference="SO 1", created_by="t")
    assert refused.value.code == "plan_not_agreed"


# --- racing -------------------------------------------------------------------------------


def test_racing_receipts_record_each_bank_line_once_and_never_overpay_a_budget(db: Database, three: Three) -> None:
    """On PostgreSQL the requests truly overlap, serialised by the book's lock."""
    errors: list[BaseException] = []

    def record(reference: str, pence: int, remittance) -> None:  # type: ignore[no-untyped-def]
        try:
            receive(db, three, pence, reference=reference, remittance=remittance)
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    jobs = [("BACS SAME", 1_800_000, None)] * 4 + [(f"BACS {n}", 500_000, [("ISF-0001", 500_000)]) for n in range(4)]
    threads = [threading.Thread(target=record, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.read() as session:
        receipts = funder_receipts(session, three.world.holder.id)
    assert sorted(r.reference for r in receipts) == ["BACS 0", "BACS 1", "BACS 2", "BACS 3", "BACS SAME"]
    assert balance(db, "ISF-0001:receivable:icb-devon") == 0  # £12,000 owed, £12,000 received, the rest unallocated
    assert balance(db, "ISF-0001:cash") == 1_200_000
    # whatever the order: £38,000 came in, and the budgets could take £12,000 + £6,000 + £9,000
    assert balance(db, "holder:sunrise:unallocated") == 3_800_000 - 2_700_000
    assert_ledger_sound(db)
