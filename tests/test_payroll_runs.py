"""Payroll runs from the provider's CSV, on both databases: one approval entry with a balanced
pair per budget, paid by one bank payment; a file with anything wrong is refused whole, with
its lines named, and nothing is posted."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ledger.budgets.parties import HolderSpec, create_holder
from ledger.core.journal import load_entry
from ledger.core.verify import verify
from ledger.core.vocabulary import EntryKind
from ledger.errors import Conflict, InvalidInput
from ledger.money_out.payables import cancel_payable, pay_payables
from ledger.money_out.payroll_runs import approve_and_pay, import_payroll_run
from ledger.store.database import Database
from ledger.store.tables import Account, Budget, Funder
from tests.support.builders import make_budget, make_person
from tests.support.payables_world import balance, counts, payroll_csv, world_with_budgets

PAY_DATE = date(2026, 5, 28)


@pytest.fixture
def holder_id(db: Database) -> int:
    with db.write() as session:
        world, _ = world_with_budgets(session, 12)
        return world.holder.id


def twelve_budget_rows() -> list[tuple[str, ...]]:
    """One worker per budget, and Jane Smith split between ISF-0001 and ISF-0002 at
    different rates: 13 rows over 12 budgets."""
    rows = [("Jane Smith", "ISF-0001", "20", "12.50", "30.00", "staff_pay"), ("Jane Smith", "ISF-0002", "7.5", "11.33", "", "staff_pay")]
    for number in range(1, 13):
        rows.append((f"Worker {number}", f"ISF-{number:04d}", "37.5", "11.44", "45.10", "staff_pay"))
    return rows


def run_import(db: Database, holder_id: int, data: bytes, reference: str = "PAY-2026-05", name: str = "may.csv"):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return import_payroll_run(session, holder_id, data, name, pay_date=PAY_DATE, reference=reference, approved_by="Sam Manager")


def test_a_run_over_12_budgets_posts_12_balanced_pairs_that_sum_to_the_bank_payment(db: Database, holder_id: int) -> None:
    data = payroll_csv(twelve_budget_rows())
    run = run_import(db, holder_id, data)
    jane_one = 20 * 1250 + 3000  # £250.00 + £30.00
    jane_two = 8498  # 7.5 × £11.33 = £84.975 → £84.98
    worker = 37 * 1144 + 572 + 4510  # 37.5 × £11.44 = £429.00, + £45.10
    expected = {f"ISF-{n:04d}": worker for n in range(1, 13)}
    expected["ISF-0001"] += jane_one
    expected["ISF-0002"] += jane_two
    assert run.created and run.totals_by_budget() == expected
    bank_payment = sum(expected.values())
    assert run.total_pence == bank_payment
    with db.read() as session:
        codes = dict(session.execute(select(Account.id, Account.code)).all())
        approval = load_entry(session, run.payable.payable.approval_entry_id)
        assert approval.kind == EntryKind.PAYABLE_APPROVED and approval.entry_date == PAY_DATE
        assert approval.provenance.source_file == "may.csv" and approval.provenance.source_format == "payroll_csv"
        assert approval.provenance.importer == "payroll_runs"
        pairs = _pairs(approval.postings, codes)
        assert len(pairs) == 12 and len(approval.postings) == 24
        assert pairs == {ref: (pence, -pence) for ref, pence in expected.items()}
    with db.write() as session:
        payment = pay_payables(
            session, holder_id, [run.payable.id], paid_on=PAY_DATE, bank_reference="BACS PAYROLL MAY", amount_pence=bank_payment, paid_by="Sam"
        )
    with db.read() as session:
        paid = load_entry(session, payment.entry_id)
        assert paid.kind == EntryKind.PAYABLE_PAID and len(paid.postings) == 24
        assert -sum(p.amount_pence for p in paid.postings if codes[p.account_id].endswith(":cash")) == bank_payment
        for reference, pence in expected.items():
            assert balance(session, f"{reference}:payable") == 0
            assert balance(session, f"{reference}:cash") == -pence
            assert balance(session, f"{reference}:spend:staff_pay") == pence
        lines = {(line.worker, line.budget_reference): line for line in run.payable.lines}
        assert lines[("Jane Smith", "ISF-0002")].rate_pence == 1133 and lines[("Jane Smith", "ISF-0002")].hours_hundredths == 750
        assert lines[("Jane Smith", "ISF-0001")].line_no == 2  # the CSV line, the header being line 1
        assert verify(session) == []


def _pairs(postings, codes) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Budget → (spend debit, payable credit) of an approval entry."""
    found: dict[str, list[int]] = {}
    for posting in postings:
        reference, kind = codes[posting.account_id].split(":")[:2]
        found.setdefault(reference, [0, 0])[0 if kind == "spend" else 1] += posting.amount_pence
    return {reference: (spend, owed) for reference, (spend, owed) in found.items()}


@pytest.mark.parametrize(
    ("bad_row", "code", "column"),
    [
        (("Tom Jones", "ISF-0003", "10", "12.5.0", "", "staff_pay"), "payroll_bad_rate", "rate"),
        (("Tom Jones", "ISF-0404", "10", "12.00", "", "staff_pay"), "payroll_rejected", "budget"),
        (("Worker 3", "ISF-0003", "4", "11.44", "", "staff_pay"), "payroll_duplicate_row", "worker"),
    ],
)
def test_a_bad_rate_an_unknown_budget_or_a_duplicate_row_refuses_the_whole_file_naming_the_line(
    db: Database, holder_id: int, bad_row: tuple[str, ...], code: str, column: str
) -> None:
    rows = twelve_budget_rows()
    rows.insert(6, bad_row)  # line 8 of the file
    with db.read() as session:
        before = counts(session)
    with pytest.raises(InvalidInput) as refused:
        run_import(db, holder_id, payroll_csv(rows))
    error = refused.value
    assert error.code == code
    assert "may.csv line 8" in error.message and f"column {column}" in error.message
    problems = error.details["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [(8, column)]
    with db.read() as session:
        assert counts(session) == before


def test_every_database_problem_is_listed_with_its_line(db: Database, holder_id: int) -> None:
    with db.write() as session:
        other = create_holder(session, HolderSpec("other", "Other Provider", "isf_provider"))
        icb = session.execute(select(Funder).where(Funder.code == "icb-devon")).scalar_one()
        make_budget(session, other, make_person(session, "Someone Else"), icb, reference="OTH-0001")
        session.execute(select(Budget).where(Budget.reference == "ISF-0005")).scalar_one().status = "closed"
        before = counts(session)
    rows = [
        ("Ann", "ISF-0001", "10", "12.00", "", "staff_pay"),
        ("Bob", "ISF-0404", "10", "12.00", "", "staff_pay"),
        ("Cat", "OTH-0001", "10", "12.00", "", "staff_pay"),
        ("Dan", "ISF-0005", "10", "12.00", "", "staff_pay"),
        ("Eve", "ISF-0002", "10", "12.00", "", "horse_riding"),
    ]
    with pytest.raises(InvalidInput) as refused:
        run_import(db, holder_id, payroll_csv(rows))
    error = refused.value
    assert error.code == "payroll_rejected" and error.message.startswith("the payroll run was not posted: may.csv line 3, column budget")
    assert [(p["line"], p["column"], p["code"]) for p in error.details["problems"]] == [
        (3, "budget", "budget_unknown"),
        (4, "budget", "budget_unknown"),
        (5, "budget", "budget_closed"),
        (6, "category", "category_unknown"),
    ]
    assert "OTH" in error.details["problems"][1]["message"] and "Other Provider" not in error.message
    with db.read() as session:
        assert counts(session) == before


def test_a_pay_date_outside_the_plan_period_is_refused_on_every_line(db: Database, holder_id: int) -> None:
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        import_payroll_run(session, holder_id, payroll_csv(twelve_budget_rows()), "x.csv", pay_date=date(2026, 3, 27), reference="R", approved_by="Sam")
    assert refused.value.code == "payroll_rejected" and len(refused.value.details["problems"]) == 14


def test_the_same_file_twice_returns_the_original_run_and_a_reused_reference_is_refused(db: Database, holder_id: int) -> None:
    data = payroll_csv(twelve_budget_rows())
    first = run_import(db, holder_id, data)
    with db.read() as session:
        before = counts(session)
    again = run_import(db, holder_id, data, reference="ANOTHER", name="copy.csv")
    assert not again.created and again.payable.id == first.payable.id
    with db.read() as session:
        assert counts(session) == before
    other_file = payroll_csv(twelve_budget_rows()[:5])
    with pytest.raises(Conflict) as taken:
        run_import(db, holder_id, other_file, reference=" pay-2026-05 ")
    assert taken.value.code == "payroll_reference_taken"
    with db.write() as session:
        cancel_payable(session, first.payable.id, cancelled_on=PAY_DATE, cancelled_by="Sam")
    assert run_import(db, holder_id, other_file).created  # the cancelled run's reference is free again


def test_approve_and_pay_in_one_go_and_a_wrong_bank_amount_posts_nothing(db: Database, holder_id: int) -> None:
    data = payroll_csv(twelve_budget_rows())
    with db.read() as session:
        before = counts(session)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        approve_and_pay(session, holder_id, data, "may.csv", pay_date=PAY_DATE, reference="R1", approved_by="Sam",
                        bank_reference="BACS", amount_pence=1)  # fmt: skip
    assert refused.value.code == "payment_amount_mismatch"
    with db.read() as session:
        assert counts(session) == before
    total = run_total(twelve_budget_rows())
    with db.write() as session:
        run = approve_and_pay(session, holder_id, data, "may.csv", pay_date=PAY_DATE, reference="R1", approved_by="Sam",
                              bank_reference="BACS", amount_pence=total)  # fmt: skip
    assert run.payable.payable.status == "paid" and run.payment is not None and run.payment.amount_pence == total
    with db.write() as session:
        again = approve_and_pay(session, holder_id, data, "may.csv", pay_date=PAY_DATE, reference="R1", approved_by="Sam",
                                bank_reference="BACS", amount_pence=total)  # fmt: skip
    assert not again.created and again.payment is not None and again.payment.entry_id == run.payment.entry_id
    with db.read() as session:
        assert verify(session) == []


def run_total(rows: list[tuple[str, ...]]) -> int:
    from ledger.money_out.payroll_sheet import read_payroll_sheet

    return read_payroll_sheet(payroll_csv(rows), "x.csv").total_pence


def test_500_lines_over_100_budgets_land_in_one_run(db: Database) -> None:
    """The benchmark's shape (benchmarks/bench_payroll.py times it)."""
    with db.write() as session:
        world, _ = world_with_budgets(session, 100)
    rows = [(f"Worker {n}", f"ISF-{n % 100 + 1:04d}", "12.25", f"{11 + n % 7}.{n % 100:02d}", "3.10", "staff_pay") for n in range(500)]
    run = run_import(db, world.holder.id, payroll_csv(rows))
    with db.write() as session:
        pay_payables(session, world.holder.id, [run.payable.id], paid_on=PAY_DATE, bank_reference="B", amount_pence=run.total_pence, paid_by="Sam")
    assert len(run.payable.lines) == 500 and len(run.totals_by_budget()) == 100


def test_the_cli_imports_pays_and_names_the_lines_of_a_bad_file(db: Database, holder_id: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from web.cli import app

    runner = CliRunner()
    good = tmp_path / "may.csv"
    good.write_bytes(payroll_csv(twelve_budget_rows()[:3]))
    total = run_total(twelve_budget_rows()[:3])
    args = ["payroll", "import", str(good), "--holder", "sunrise", "--pay-date", "2026-05-28", "--reference", "PAY-05", "--db", db.url]
    result = runner.invoke(app, [*args, "--bank-reference", "BACS", "--amount", f"{total // 100}.{total % 100:02d}", "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["created"] and out["payable"]["status"] == "paid" and [b["budget"] for b in out["by_budget"]] == ["ISF-0001", "ISF-0002"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "Already imported" in table.stdout and "ISF-0002" in table.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(payroll_csv([("Ann", "ISF-0404", "1", "10.00", "", "staff_pay"), ("Bob", "ISF-0001", "1", "10.00", "", "riding")]))
    refused = runner.invoke(app, ["payroll", "import", str(bad), "--holder", "sunrise", "--pay-date", "2026-05-28", "--reference", "P2", "--db", db.url])
    assert refused.exit_code == 1
    assert "bad.csv line 2, column budget" in refused.stderr and "line 3, column category" in refused.stderr
