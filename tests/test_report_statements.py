"""The provider's statement to the person and its easy-read letter
(``reports.provider_statement``), on both databases.

A small world pays two workers through a payroll run shared with another budget, an agency
invoice and a payment posted straight to the journal; the card buys, refunds and uses
contingency; the management fee and a card fee are taken. The statement's hours × rate
lines are checked one by one (to the penny, half up, plus the employer's costs) and add up
to the wages paid for the budget in the month, recomputed from the raw payable rows; every
support line adds up to what the payments took off ``B:payable`` in the raw postings; the
money at the start and the end ties to the postings. The easy-read letter has only short
sentences, a picture on every line and the statement's money left; it renders to PDF with
the same words. The demo (shared with the monitoring-return tests) gives real budgets.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.budgets.budget import ContactSpec, add_contact, budget_by_reference
from ledger.core.periods import parse_quarter
from ledger.errors import InvalidInput
from ledger.money_out.payables import approve_invoice, pay_payables
from ledger.money_out.payroll_runs import approve_and_pay
from ledger.position.figures import budget_figures
from ledger.store.database import Database
from reports.document import Document, EasyRead, PictureLine, ValueKind
from reports.formatting import whole_pounds_text
from reports.params import dates_period, month_period, quarter_period
from reports.pictures import NAMES
from reports.render import render
from tests.support.builders import World
from tests.support.payables_world import payroll_csv, world_with_budgets
from tests.test_report_monitoring_return import build, held_balance, html_text, pdf_text, post

OCTOBER = month_period(date(2026, 10, 1))
WORDS_PER_SENTENCE_MAX = 12
PAYROLL = [
    ("W-ANNA", "ISF-0001", "37.5", "12.45", "31.20", "staff_pay"),
    ("W-BEN", "ISF-0001", "10.25", "13.33", "0", "staff_pay"),
    ("W-ANNA", "ISF-0002", "5", "12.45", "3.00", "staff_pay"),
]


@pytest.fixture
def paid(db: Database) -> World:
    with db.write() as session:
        world, _ = world_with_budgets(session, 2)
        add_contact(session, world.budget.id, ContactSpec("care_coordinator", "Pat Jones", "NHS Devon ICB", phone="01752 000000"))
        post(session, world, "icb-october", date(2026, 10, 1), "funder_payment", ("cash", 900_000), ("receivable:icb-devon", -900_000))
        post(session, world, "top-slice", date(2026, 10, 1), "top_slice", ("top_slice", 30_000), ("cash", -30_000))
        post(session, world, "ring-fence", date(2026, 10, 1), "contingency_ring_fence", ("contingency", 50_000), ("cash", -50_000))
        approve_and_pay(
            session, world.holder.id, payroll_csv(PAYROLL), "payroll-october.csv", pay_date=date(2026, 10, 30), reference="PR-2026-10",
            approved_by="Ana", bank_reference="BACS-PR-10", amount_pence=69_996,
        )  # fmt: skip
        invoice = approve_invoice(
            session, world.holder.id, supplier="Harbourside Care Agency", number="INV-77", dated_on=date(2026, 10, 5),
            lines=[("ISF-0001", "agency_support", 12_000, "Agency cover in half term")], approved_by="Ana",
        )  # fmt: skip
        pay_payables(session, world.holder.id, [invoice.payable.id], paid_on=date(2026, 10, 20), bank_reference="BACS-77", amount_pence=12_000, paid_by="Ana")
        post(session, world, "taxi-approved", date(2026, 10, 2), "payable_approved", ("spend:transport", 5_000), ("payable", -5_000))
        post(session, world, "taxi-paid", date(2026, 10, 15), "payable_paid", ("payable", 5_000), ("cash", -5_000))
        post(session, world, "load", date(2026, 10, 5), "drawdown", ("card", 20_000), ("cash", -20_000))
        post(session, world, "swim", date(2026, 10, 6), "card_purchase", ("spend:activities", 4_500), ("card", -4_500))
        post(session, world, "swim-refund", date(2026, 10, 9), "card_refund", ("card", 500), ("spend:activities", -500))
        post(session, world, "bus", date(2026, 10, 12), "card_purchase", ("spend:transport", 1_250), ("card", -1_250))
        post(session, world, "fee", date(2026, 10, 12), "fee", ("fees", 20), ("card", -20))
        post(session, world, "heater", date(2026, 10, 20), "contingency_use", ("spend:equipment", 7_500), ("contingency", -7_500))
        return world


def payable_paid_total(session: Session, budget_id: int, starts_on: date, ends_on: date) -> int:
    """What payments took off the budget's ``B:payable`` in the window (raw postings)."""
    return int(session.execute(text(
        "SELECT COALESCE(SUM(p.amount_pence), 0) FROM posting p JOIN account a ON a.id = p.account_id "
        "JOIN journal_entry e ON e.id = p.entry_id WHERE a.budget_id = :b AND a.kind = 'payable' AND e.kind = 'payable_paid' "
        "AND p.entry_date BETWEEN :s AND :e"
    ), {"b": budget_id, "s": starts_on, "e": ends_on}).scalar_one())  # fmt: skip


def purchases_total(session: Session, budget_id: int, starts_on: date, ends_on: date) -> int:
    return int(session.execute(text(
        "SELECT COALESCE(SUM(p.amount_pence), 0) FROM posting p JOIN account a ON a.id = p.account_id "
        "JOIN journal_entry e ON e.id = p.entry_id WHERE a.budget_id = :b AND a.kind = 'spend' "
        "AND e.kind IN ('card_purchase', 'card_refund', 'bank_spend', 'contingency_use', 'recategorisation', 'recovery') "
        "AND p.entry_date BETWEEN :s AND :e"
    ), {"b": budget_id, "s": starts_on, "e": ends_on}).scalar_one())  # fmt: skip


def test_hours_times_rate_lines_add_up_to_the_wages_paid(db: Database, paid: World) -> None:
    with db.read() as session:
        document = build(session, "provider-statement", paid.budget.id, OCTOBER)
        wages_paid = int(session.execute(text(
            "SELECT SUM(l.amount_pence) FROM payable_line l JOIN payable p ON p.id = l.payable_id "
            "WHERE l.budget_id = :b AND p.kind IN ('payroll', 'wages') AND p.status = 'paid' AND p.paid_on BETWEEN :s AND :e"
        ), {"b": paid.budget.id, "s": OCTOBER.starts_on, "e": OCTOBER.ends_on}).scalar_one())  # fmt: skip
        all_paid = payable_paid_total(session, paid.budget.id, OCTOBER.starts_on, OCTOBER.ends_on)
    wages = document.table("wages")
    assert [row[1] for row in wages.rows] == ["W-ANNA", "W-BEN"], "the other budget's line is not here"
    for _day, _worker, hours, rate, pay, costs, amount in wages.rows:
        exact = Fraction(hours * rate, 100)
        assert pay == int(exact + Fraction(1, 2)), "hours × rate to the penny, half up"
        assert pay + costs == amount
    assert [row[6] for row in wages.rows] == [49_808, 13_663]
    assert wages.totals[2] == 3_750 + 1_025 and wages.totals[6] == wages_paid == 63_471
    assert document.fact("support_totals", "Paid to your support workers") == wages_paid
    assert document.fact("support_totals", "Hours your support workers worked") == 4_775
    other = document.table("other_support")
    assert sorted(row[3] for row in other.rows) == [5_000, 12_000]
    assert document.fact("support_totals", "Paid for your support in all") == wages_paid + other.totals[3] == all_paid


def test_what_was_bought_the_fee_and_the_money(db: Database, paid: World) -> None:
    with db.read() as session:
        document = build(session, "provider-statement", paid.budget.id, OCTOBER)
        bought = purchases_total(session, paid.budget.id, OCTOBER.starts_on, OCTOBER.ends_on)
        opening = held_balance(session, paid.budget.id, OCTOBER.starts_on - timedelta(days=1))
        closing = held_balance(session, paid.budget.id, OCTOBER.ends_on)
        figures = budget_figures(session, paid.budget, as_of=OCTOBER.ends_on)
    categories = dict((row[0], row[1]) for row in document.table("by_category").rows)
    assert categories == {"Equipment": 7_500, "Things to do": 4_000, "Getting about": 1_250}
    assert document.table("by_category").totals[1] == document.table("purchases").totals[3] == bought == 12_750
    assert document.fact("fees", "Our management fee this month") == 30_000
    assert document.fact("fees", "Bank and card fees this month") == 20
    flow = {fact.label: fact.value for fact in document.facts("money_flow").facts}
    assert flow["Money on 30 September 2026"] == opening == 0
    assert flow["Money on 31 October 2026"] == closing
    assert opening + flow["Money paid in"] - flow["Money paid out"] == closing
    assert document.fact("balance", "Money left for the rest of your plan year") == figures.money_left_pence
    assert document.fact("balance", "Emergency money left (contingency)") == 50_000 - 7_500
    words = render(document, "csv").content.decode("utf-8-sig")
    assert "ISF-0002" not in words, "nothing about anyone else"


def easy_lines(document: Document) -> list[PictureLine]:
    return [line for block in document.blocks() if isinstance(block, EasyRead) for line in block.lines]


def check_easy_read(document: Document) -> None:
    """Only easy-read blocks; a known picture on every line; one idea a line (a sentence, or
    a short question before it); every sentence at most twelve words."""
    assert document.style == "easy_read"
    assert all(isinstance(block, EasyRead) for block in document.blocks())
    lines = easy_lines(document)
    assert lines
    for line in lines:
        assert line.picture in NAMES, line
        sentences = [s for s in re.split(r"(?<=[.?!:])\s+", line.text.strip()) if s]
        assert 1 <= len(sentences) <= 2, line.text
        for sentence in sentences:
            assert len(sentence.split()) <= WORDS_PER_SENTENCE_MAX, sentence
            assert sentence[-1] in ".?!:", sentence
        if line.kind == ValueKind.MONEY:
            assert isinstance(line.value, int) and line.text.endswith(":")


def money_left_line(document: Document) -> PictureLine:
    return next(line for line in easy_lines(document) if line.text == "You have this much money left this year:")


def test_the_easy_read_letter_is_short_pictured_and_agrees_with_the_statement(db: Database, paid: World, tmp_path: Path) -> None:
    with db.read() as session:
        statement = build(session, "provider-statement", paid.budget.id, OCTOBER)
        letter = build(session, "easy-read-statement", paid.budget.id, OCTOBER)
    check_easy_read(letter)
    left = statement.fact("balance", "Money left for the rest of your plan year")
    assert money_left_line(letter).value == left
    texts = {line.text: line.value for line in easy_lines(letter)}
    assert texts["This letter is about your money for October 2026."] is None
    assert texts["We paid your support workers:"] == statement.fact("support_totals", "Paid to your support workers")
    assert texts["They worked this many hours:"] == 4_775
    assert texts["Your emergency money left:"] == 42_500
    assert texts["Our fee for looking after your money:"] == 30_000
    assert "Bank and card fees:" not in texts, "20p would read £0"
    assert "Your card gets money every Monday." in texts
    assert texts["The next money goes on your card on:"] == date(2026, 11, 2)
    assert texts["Questions? Call Pat Jones:"] == "01752 000000"
    page = render(letter, "html").content.decode("utf-8")
    assert page.count('class="report-easy-read__picture"') == len(easy_lines(letter)) == page.count("<svg")
    assert "report--easy-read" in page
    layout = pdf_text(render(letter, "pdf").content, tmp_path)
    flat = re.sub(r"\s+", " ", layout)
    for sentence in ("This letter is about your money for October 2026.", "You have this much money left this year:", "Questions? Call Pat Jones:"):
        assert sentence in flat
    assert whole_pounds_text(left) in flat


def test_a_statement_takes_a_month_or_a_quarter_inside_the_plan(db: Database, paid: World) -> None:
    with db.read() as session:
        for name in ("provider-statement", "easy-read-statement"):
            with pytest.raises(InvalidInput) as refused:
                build(session, name, paid.budget.id, dates_period(date(2026, 10, 1), date(2026, 10, 31)))
            assert refused.value.code == "report_period_kind"
            with pytest.raises(InvalidInput) as outside:
                build(session, name, paid.budget.id, month_period(date(2028, 1, 1)))
            assert outside.value.code == "period_outside_plan"
        quarter = build(session, "provider-statement", paid.budget.id, quarter_period(parse_quarter("2026Q3")))
    assert quarter.subtitle.endswith("October to December 2026")
    assert quarter.fact("support_totals", "Paid to your support workers") == 63_471


# --- the demo ---------------------------------------------------------------------------------


@pytest.fixture
def demo(report_demo: Database) -> Database:
    return report_demo


@pytest.mark.parametrize(("reference", "period"), [
    ("ISF-0002", OCTOBER), ("MA-0004", quarter_period(parse_quarter("2026Q2"))), ("DP-0001", OCTOBER), ("DP-0005", OCTOBER),
])  # fmt: skip
def test_demo_statements_tie_to_the_postings(demo: Database, reference: str, period, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with demo.read() as session:
        budget = budget_by_reference(session, reference)
        statement = build(session, "provider-statement", budget.id, period)
        letter = build(session, "easy-read-statement", budget.id, period)
        support = payable_paid_total(session, budget.id, period.starts_on, period.ends_on)
        bought = purchases_total(session, budget.id, period.starts_on, period.ends_on)
        opening = held_balance(session, budget.id, period.starts_on - timedelta(days=1))
        closing = held_balance(session, budget.id, period.ends_on)
        others = [r for (r,) in session.execute(text("SELECT reference FROM budget WHERE id <> :b"), {"b": budget.id})]
    assert statement.fact("support_totals", "Paid for your support in all") == support > 0
    assert (statement.table("by_category").totals or (None, 0))[1] == bought
    flow = [fact.value for fact in statement.facts("money_flow").facts]
    assert (flow[0], flow[3]) == (opening, closing) and flow[0] + flow[1] - flow[2] == flow[3]
    check_easy_read(letter)
    assert money_left_line(letter).value == statement.fact("balance", "Money left for the rest of your plan year")
    words = render(statement, "csv").content.decode("utf-8-sig") + html_text(render(letter, "html").content)
    assert not [other for other in others if other in words], "nothing about anyone else"


def test_demo_family_letter_speaks_to_the_family(demo: Database) -> None:
    with demo.read() as session:
        budget = budget_by_reference(session, "DP-0001")
        letter = build(session, "easy-read-statement", budget.id, OCTOBER)
    texts = [line.text for line in easy_lines(letter)]
    assert "Money in your bank account:" in texts and "You paid for your support:" in texts
    assert not [t for t in texts if t.startswith("We ")], "a family holds its own direct payment"
    assert not [t for t in texts if "card" in t], "DP-0001 has no card"
