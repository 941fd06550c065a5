"""Invoices and wages approved (committed) and paid from the client bank account, and
cancelled, on both databases: the postings of DESIGN.md §3, exactly once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ledger.budgets import plans
from ledger.budgets.parties import HolderSpec, create_holder
from ledger.core import periods
from ledger.core.journal import load_entry
from ledger.core.verify import verify
from ledger.core.vocabulary import EntryKind
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.money_out.payable_views import get_payable, payables_of
from ledger.money_out.payables import approve_invoice, approve_wages, cancel_payable, pay_payables
from ledger.store.database import Database
from ledger.store.tables import Account, Budget, Funder, JournalEntry
from tests.support.builders import AGREED_AT, make_budget, make_person, make_world
from tests.support.payables_world import balance, counts, world_with_budgets

MAY = date(2026, 5, 15)


@pytest.fixture
def holder_id(db: Database) -> int:
    with db.write() as session:
        world, _ = world_with_budgets(session, 3)
        return world.holder.id


def invoice(db: Database, holder_id: int, number: str = "INV-1", supplier: str = "Acme Care Agency", **overrides):  # type: ignore[no-untyped-def]
    arguments = {
        "supplier": supplier,
        "number": number,
        "dated_on": MAY,
        "lines": [("ISF-0001", "agency_support", 120_000, "Two weeks of support"), ("ISF-0002", "agency_support", 30_050)],
        "approved_by": "Sam Manager",
    }
    arguments.update(overrides)
    with db.write() as session:
        return approve_invoice(session, holder_id, **arguments)


def test_approving_an_invoice_commits_each_budgets_share_in_one_entry(db: Database, holder_id: int) -> None:
    result = invoice(db, holder_id)
    assert result.created and result.payable.total_pence == 150_050 and result.payable.payable.status == "approved"
    with db.read() as session:
        entry = load_entry(session, result.payable.payable.approval_entry_id)
        assert entry.kind == EntryKind.PAYABLE_APPROVED and entry.entry_date == MAY
        codes = dict(session.execute(select(Account.id, Account.code)).all())
        assert sorted((codes[p.account_id], p.amount_pence) for p in entry.postings) == [
            ("ISF-0001:payable", -120_000),
            ("ISF-0001:spend:agency_support", 120_000),
            ("ISF-0002:payable", -30_050),
            ("ISF-0002:spend:agency_support", 30_050),
        ]
        # Committed = the B:payable balance (a liability: credit).
        assert balance(session, "ISF-0001:payable") == -120_000
        assert balance(session, "ISF-0002:payable") == -30_050
        assert verify(session) == []


def test_the_same_invoice_again_is_a_replay_and_other_content_is_refused(db: Database, holder_id: int) -> None:
    first = invoice(db, holder_id)
    again = invoice(db, holder_id, number=" inv-1 ", supplier="ACME  care agency")
    assert not again.created and again.payable.id == first.payable.id
    with db.read() as session:
        before = counts(session)
    with pytest.raises(Conflict) as refused:
        invoice(db, holder_id, number="inv-1", supplier="acme care agency", lines=[("ISF-0001", "agency_support", 120_001)])
    assert refused.value.code == "invoice_exists" and refused.value.details["payable_id"] == first.payable.id
    with db.read() as session:
        assert counts(session) == before
    other_supplier = invoice(db, holder_id, supplier="Bright Homecare")
    assert other_supplier.created and other_supplier.payable.id != first.payable.id


def test_wages_are_approved_like_an_invoice(db: Database, holder_id: int) -> None:
    with db.write() as session:
        result = approve_wages(
            session, holder_id, supplier="Jane Smith", number="2026-05", dated_on=MAY,
            lines=[("ISF-0003", "staff_pay", 45_000)], approved_by="Sam Manager",
        )  # fmt: skip
    assert result.payable.payable.kind == "wages"
    with db.read() as session:
        assert balance(session, "ISF-0003:spend:staff_pay") == 45_000


def test_paying_moves_the_commitment_out_of_cash_once(db: Database, holder_id: int) -> None:
    first = invoice(db, holder_id)
    second = invoice(db, holder_id, number="INV-2", lines=[("ISF-0002", "agency_support", 9_950)])
    ids = [first.payable.id, second.payable.id]
    with db.write() as session:
        paid = pay_payables(session, holder_id, ids, paid_on=date(2026, 5, 20), bank_reference="BACS 8812", amount_pence=160_000, paid_by="Sam")
    assert paid.created and paid.totals_by_budget == {"ISF-0001": 120_000, "ISF-0002": 40_000}
    with db.read() as session:
        entry = load_entry(session, paid.entry_id)
        assert entry.kind == EntryKind.PAYABLE_PAID and len(entry.postings) == 4  # one pair per budget
        assert balance(session, "ISF-0001:payable") == 0 and balance(session, "ISF-0002:payable") == 0
        assert balance(session, "ISF-0001:cash") == -120_000 and balance(session, "ISF-0002:cash") == -40_000
        assert {get_payable(session, i).payable.status for i in ids} == {"paid"}
        assert verify(session) == []
        before = counts(session)
    with db.write() as session:
        replay = pay_payables(session, holder_id, ids, paid_on=date(2026, 5, 20), bank_reference="BACS 8812", amount_pence=160_000, paid_by="Sam")
    assert not replay.created and replay.entry_id == paid.entry_id
    with pytest.raises(Conflict) as twice, db.write() as session:
        pay_payables(session, holder_id, ids[:1], paid_on=date(2026, 5, 21), bank_reference="BACS 9999", amount_pence=120_000, paid_by="Sam")
    assert twice.value.code == "payable_already_paid"
    with db.read() as session:
        assert counts(session) == before


@pytest.mark.parametrize(("amount", "words"), [(150_049, "£0.01 less"), (150_150, "£1.00 more")])
def test_a_payment_that_is_not_the_total_is_refused_naming_the_difference(db: Database, holder_id: int, amount: int, words: str) -> None:
    result = invoice(db, holder_id)
    with db.read() as session:
        before = counts(session)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        pay_payables(session, holder_id, [result.payable.id], paid_on=MAY, bank_reference="X", amount_pence=amount, paid_by="Sam")
    assert refused.value.code == "payment_amount_mismatch" and words in refused.value.message
    assert refused.value.details["difference"] == amount - 150_050
    with db.read() as session:
        assert counts(session) == before and get_payable(session, result.payable.id).payable.status == "approved"


def test_cancelling_reverses_the_approval_and_the_invoice_can_then_be_approved_again(db: Database, holder_id: int) -> None:
    result = invoice(db, holder_id)
    with db.write() as session:
        cancelled = cancel_payable(session, result.payable.id, cancelled_on=date(2026, 5, 16), cancelled_by="Sam")
    assert cancelled.payable.status == "cancelled"
    with db.read() as session:
        reversal = load_entry(session, cancelled.payable.cancel_entry_id)
        assert reversal.reverses_entry_id == result.payable.payable.approval_entry_id
        assert balance(session, "ISF-0001:payable") == 0 and balance(session, "ISF-0001:spend:agency_support") == 0
    with db.write() as session:
        assert cancel_payable(session, result.payable.id, cancelled_on=date(2026, 5, 16), cancelled_by="Sam").payable.cancel_entry_id == reversal.id
    with pytest.raises(Conflict) as pay_cancelled, db.write() as session:
        pay_payables(session, holder_id, [result.payable.id], paid_on=MAY, bank_reference="X", amount_pence=150_050, paid_by="Sam")
    assert pay_cancelled.value.code == "payable_cancelled"
    corrected = invoice(db, holder_id, lines=[("ISF-0001", "agency_support", 100_000)])
    assert corrected.created and corrected.payable.id != result.payable.id
    with db.read() as session:
        assert verify(session) == []


def test_a_paid_payable_cannot_be_cancelled(db: Database, holder_id: int) -> None:
    result = invoice(db, holder_id)
    with db.write() as session:
        pay_payables(session, holder_id, [result.payable.id], paid_on=MAY, bank_reference="X", amount_pence=150_050, paid_by="Sam")
    with pytest.raises(Conflict) as refused, db.write() as session:
        cancel_payable(session, result.payable.id, cancelled_on=MAY, cancelled_by="Sam")
    assert refused.value.code == "payable_already_paid"


def test_a_transition_invoice_may_come_before_the_plan_period_but_staff_pay_may_not(db: Database, holder_id: int) -> None:
    before_plan = date(2026, 2, 10)
    result = invoice(db, holder_id, number="T-1", dated_on=before_plan, lines=[("ISF-0001", "transition", 250_000, "Staff recruited early")])
    assert result.created
    with db.read() as session:
        assert load_entry(session, result.payable.payable.approval_entry_id).entry_date == before_plan
        assert balance(session, "ISF-0001:spend:transition") == 250_000
        before = counts(session)
    with pytest.raises(InvalidInput) as refused:
        invoice(db, holder_id, number="T-2", dated_on=before_plan, lines=[("ISF-0001", "staff_pay", 250_000)])
    assert refused.value.code == "date_outside_plan_period" and refused.value.field == "lines[0].dated_on"
    with pytest.raises(InvalidInput) as after_plan:
        invoice(db, holder_id, number="T-3", dated_on=date(2027, 4, 1), lines=[("ISF-0001", "transition", 100)])
    assert after_plan.value.code == "date_outside_plan_period"
    with db.read() as session:
        assert counts(session) == before


def test_bad_lines_are_refused_naming_the_line_and_nothing_is_posted(db: Database, holder_id: int) -> None:
    with db.write() as session:
        other = create_holder(session, HolderSpec("other", "Other Provider", "isf_provider"))
        icb = session.execute(select(Funder).where(Funder.code == "icb-devon")).scalar_one()
        make_budget(session, other, make_person(session, "Someone Else"), icb, reference="OTH-0001")
        closed = session.execute(select(Budget).where(Budget.reference == "ISF-0003")).scalar_one()
        closed.status = "closed"
    with db.read() as session:
        before = counts(session)
    cases = [
        ([("ISF-0001", "agency_support", 100), ("ISF-0404", "agency_support", 100)], "budget_unknown", "lines[1].budget"),
        ([("OTH-0001", "agency_support", 100)], "budget_unknown", "lines[0].budget"),
        ([("ISF-0003", "agency_support", 100)], "budget_closed", "lines[0].budget"),
        ([("ISF-0001", "horse_riding", 100)], "category_unknown", "lines[0].category"),
        ([("ISF-0001", "agency_support", 0)], "amount_not_positive", "lines[0].amount"),
        ([("ISF-0001", "agency_support", -500)], "amount_not_positive", "lines[0].amount"),
        ([], "lines_empty", "lines"),
    ]
    for number, (lines, code, field) in enumerate(cases):
        with pytest.raises(InvalidInput) as refused:
            invoice(db, holder_id, number=f"BAD-{number}", lines=lines)
        assert (refused.value.code, refused.value.field) == (code, field), lines
    with pytest.raises(InvalidInput) as blank:
        invoice(db, holder_id, supplier="   ")
    assert blank.value.field == "supplier"
    with db.read() as session:
        assert counts(session) == before


def test_an_unagreed_plan_and_a_closed_quarter_refuse_the_entry(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, agree=False)
    with pytest.raises(Conflict) as unagreed:
        invoice(db, world.holder.id, lines=[("ISF-0001", "agency_support", 100)])
    assert unagreed.value.code == "plan_not_agreed"
    with db.write() as session:
        plans.agree(session, world.version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)
        periods.close_quarter(session, world.holder.id, periods.parse_quarter("2026Q1"), closed_by="Auditor")
    with pytest.raises(Conflict) as closed:
        invoice(db, world.holder.id, lines=[("ISF-0001", "agency_support", 100)])
    assert closed.value.code == "period_closed"
    with db.read() as session:
        assert session.execute(select(JournalEntry.id).where(JournalEntry.kind == EntryKind.PAYABLE_APPROVED)).first() is None


def test_one_budget_sees_only_its_own_lines(db: Database, holder_id: int) -> None:
    invoice(db, holder_id)
    invoice(db, holder_id, number="INV-9", lines=[("ISF-0003", "agency_support", 700)])
    with db.read() as session:
        budget_two = session.execute(select(Budget.id).where(Budget.reference == "ISF-0002")).scalar_one()
        (seen,) = payables_of(session, budget_id=budget_two)
        assert [line.budget_reference for line in seen.lines] == ["ISF-0002"] and seen.total_pence == 30_050
        assert len(payables_of(session, holder_id=holder_id)) == 2
        assert len(payables_of(session, holder_id=holder_id, status="paid")) == 0
        with pytest.raises(InvalidInput):
            payables_of(session, status="owed")


def test_paying_unknown_or_another_holders_payable_is_not_found(db: Database, holder_id: int) -> None:
    result = invoice(db, holder_id)
    with db.write() as session:
        other = create_holder(session, HolderSpec("other", "Other Provider", "isf_provider"))
    with pytest.raises(NotFound), db.write() as session:
        pay_payables(session, other.id, [result.payable.id], paid_on=MAY, bank_reference="X", amount_pence=150_050, paid_by="Sam")
    with pytest.raises(InvalidInput) as twice, db.write() as session:
        pay_payables(session, holder_id, [result.payable.id, result.payable.id], paid_on=MAY, bank_reference="X", amount_pence=1, paid_by="Sam")
    assert twice.value.code == "payable_named_twice"
    with pytest.raises(InvalidInput) as early, db.write() as session:
        pay_payables(session, holder_id, [result.payable.id], paid_on=date(2026, 5, 1), bank_reference="X", amount_pence=150_050, paid_by="Sam")
    assert early.value.code == "paid_before_dated"


def test_the_cli_approves_pays_and_lists(db: Database, holder_id: int) -> None:
    import json

    from typer.testing import CliRunner

    from web.cli import app

    runner = CliRunner()
    base = ["--db", db.url, "--json"]
    approved = runner.invoke(app, ["invoice", "approve", "--holder", "sunrise", "--supplier", "Acme", "--number", "7", "--date", "2026-05-15",
                                   "--line", "ISF-0001:agency_support:1,000.00:Two weeks", "--line", "ISF-0002:agency_support:5.00", *base])  # fmt: skip
    assert approved.exit_code == 0, approved.stderr
    payable = json.loads(approved.stdout)
    assert payable["total"] == "1005.00" and payable["created"]
    short = runner.invoke(app, ["invoice", "pay", str(payable["id"]), "--holder", "sunrise", "--paid-on", "2026-05-20",
                                "--bank-reference", "B1", "--amount", "1000.00", *base])  # fmt: skip
    assert short.exit_code == 1 and "£5.00 less" in short.stderr
    paid = runner.invoke(app, ["invoice", "pay", str(payable["id"]), "--holder", "sunrise", "--paid-on", "2026-05-20",
                               "--bank-reference", "B1", "--amount", "1005.00", *base])  # fmt: skip
    assert paid.exit_code == 0 and json.loads(paid.stdout)["amount"] == "1005.00"
    listed = runner.invoke(app, ["invoice", "list", "--budget", "ISF-0002", *base])
    (only,) = json.loads(listed.stdout)
    assert only["status"] == "paid" and only["total"] == "5.00" and [line["budget"] for line in only["lines"]] == ["ISF-0002"]


def test_the_database_itself_refuses_a_second_live_invoice_with_the_same_supplier_and_number(db: Database, holder_id: int) -> None:
    from sqlalchemy.exc import IntegrityError

    from ledger.store.tables.payables import Payable

    first = invoice(db, holder_id)
    row = {
        "holder_id": holder_id, "kind": "invoice", "supplier": "ACME CARE AGENCY", "supplier_key": "acme care agency",
        "number": "INV-1", "number_key": "inv-1", "dated_on": MAY, "approved_by": "x", "total_pence": 1, "status": "approved",
    }  # fmt: skip
    assert first.payable.payable.supplier_key == row["supplier_key"] and first.payable.payable.number_key == row["number_key"]
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Payable(**row))
        session.flush()
    with db.write() as session:  # a cancelled one does not count
        session.add(Payable(**{**row, "status": "cancelled"}))
