"""The council's monitoring return (``reports.monitoring_return``), on both databases.

Every figure is recomputed here from the raw postings (SQL over ``posting``, ``account`` and
``journal_entry``), not from the code under test: opening and closing balances of the money
held (cash + card + contingency), each entry that changed it, the running balance. The
amount allowed to be retained is worked by hand for a small world and checked by a
hypothesis property against an independent model (fractions, rounded half up). Also: a
budget with no transactions, a closed budget, a jointly funded budget's council share, the
statement line behind a reconciled card purchase, and every format (HTML, PDF, CSV, XLSX)
read back to the same figures. The demo (loaded once for this module and the statements')
gives realistic budgets: family direct payments, managed accounts and ISFs.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.budgets.budget import budget_by_reference
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal import post_entry, reverse_entry
from ledger.core.periods import parse_quarter
from ledger.errors import InvalidInput
from ledger.position.closing import close_budget
from ledger.position.surplus import record_surplus_decision, return_surplus
from ledger.reconcile.automatic import reconcile_accounts
from ledger.store.database import Database
from reports.catalogue import report_kind
from reports.document import Document
from reports.monitoring_return import allowed_to_retain, amount_requested, surplus_returnable, weeks_retained_pence
from reports.params import ReportParams, dates_period, month_period, quarter_period
from reports.render import render
from tests.support.builders import World, make_world
from tests.support.card_statements import CardLine, import_card, post_drawdown

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)
Q2 = quarter_period(parse_quarter("2026Q2"))
"""July to September 2026."""
ICB_PENCE, COUNCIL_PENCE, CONTINGENCY_PENCE = 3_200_000, 2_000_000, 100_000
HELD = ("cash", "card", "contingency")


# --- helpers shared with tests/test_report_statements.py ------------------------------------


def post(session: Session, world: World, key: str, day: date, kind: str, *pairs: tuple[str, int]) -> int:
    """A plain entry on the world's budget: (account suffix, signed pence) pairs."""
    result = post_entry(
        session,
        NewEntry(
            book_id=world.holder.id, entry_date=day, description=f"{kind} {key}", idempotency_key=f"{world.budget.reference}:{key}",
            postings=tuple(NewPosting(world.account_id(session, suffix), pence) for suffix, pence in pairs), kind=kind, created_by="test",
        ),  # fmt: skip
    )
    assert result.outcome is PostOutcome.CREATED
    return result.entry.id


def held_balance(session: Session, budget_id: int, as_of: date) -> int:
    """Cash + card + contingency at the end of ``as_of``, straight from the postings."""
    return int(session.execute(text(
        "SELECT COALESCE(SUM(p.amount_pence), 0) FROM posting p JOIN account a ON a.id = p.account_id "
        "WHERE a.budget_id = :budget AND a.kind IN ('cash', 'card', 'contingency') AND p.entry_date <= :day"
    ), {"budget": budget_id, "day": as_of}).scalar_one())  # fmt: skip


def held_changes(session: Session, budget_id: int, starts_on: date, ends_on: date) -> list[tuple[date, int]]:
    """(date, net change) of every entry in the window whose held postings do not net to zero."""
    rows = session.execute(text(
        "SELECT p.entry_id, MIN(p.entry_date), SUM(p.amount_pence) FROM posting p JOIN account a ON a.id = p.account_id "
        "WHERE a.budget_id = :budget AND a.kind IN ('cash', 'card', 'contingency') AND p.entry_date BETWEEN :start AND :end "
        "GROUP BY p.entry_id HAVING SUM(p.amount_pence) <> 0"
    ), {"budget": budget_id, "start": starts_on, "end": ends_on}).all()  # fmt: skip
    return sorted((day if isinstance(day, date) else date.fromisoformat(day), int(net)) for _, day, net in rows)


def pence_of(value: object) -> int:
    """A money cell read back (pounds as text or as a spreadsheet number) → pence."""
    if isinstance(value, str):
        value = value.replace("£", "").replace(",", "")
    return int(Decimal(str(value)) * 100)


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(content: bytes) -> str:
    parser = _Text()
    parser.feed(content.decode("utf-8"))
    return re.sub(r"\s+", " ", " ".join(parser.parts))







def build(session: Session, name: str, budget_id: int, period) -> Document:  # type: ignore[no-untyped-def]
    return report_kind(name).build(session, ReportParams(budget_id=budget_id, period=period), now=NOW)


# --- a small world worked by hand -----------------------------------------------------------


@pytest.fixture
def exact(db: Database) -> World:
    """A jointly funded budget (ICB £32,000, council £20,000, contingency £1,000): funder
    payments and contingency set aside in April; in July–September a payment in, one posted
    in error and reversed, a card load (a move between its own accounts), a card purchase
    from a reconciled statement, wages approved and partly paid, contingency used and a fee;
    a payment in October, after the period."""
    with db.write() as session:
        world = make_world(session, total_pence=ICB_PENCE + COUNCIL_PENCE, council_pence=COUNCIL_PENCE)
        post(session, world, "icb-april", date(2026, 4, 1), "funder_payment", ("cash", 1_000_000), ("receivable:icb-devon", -1_000_000))
        post(session, world, "council-april", date(2026, 4, 1), "funder_payment", ("cash", 600_000), ("receivable:plymouth-asc", -600_000))
        post(session, world, "ring-fence", date(2026, 4, 1), "contingency_ring_fence", ("contingency", CONTINGENCY_PENCE), ("cash", -CONTINGENCY_PENCE))
        post(session, world, "icb-july", date(2026, 7, 1), "funder_payment", ("cash", 800_000), ("receivable:icb-devon", -800_000))
        wrong = post(session, world, "icb-wrong", date(2026, 7, 2), "funder_payment", ("cash", 1_000), ("receivable:icb-devon", -1_000))
        reverse_entry(session, wrong, entry_date=date(2026, 7, 3), idempotency_key="reverse-wrong", created_by="test")
        post_drawdown(session, world, world.budget, date(2026, 7, 6), 40_000, "load-1")
        import_card(session, world, world.budget, [
            CardLine("L1", date(2026, 7, 6), "LOAD", "", "LOAD", 40_000),
            CardLine("P1", date(2026, 7, 8), "TESCO STORES 3297", "5411", "PURCHASE", -4_500),
        ], name="card-2026-07.csv")  # fmt: skip
        reconcile_accounts(session, [world.account_id(session, "card")], actor="test")
        post(session, world, "wages-approved", date(2026, 7, 31), "payable_approved", ("spend:staff_pay", 250_000), ("payable", -250_000))
        post(session, world, "wages-paid", date(2026, 8, 1), "payable_paid", ("payable", 150_000), ("cash", -150_000))
        post(session, world, "boiler", date(2026, 8, 2), "contingency_use", ("spend:activities", 20_000), ("contingency", -20_000))
        post(session, world, "fee", date(2026, 8, 3), "fee", ("fees", 20), ("cash", -20))
        post(session, world, "icb-october", date(2026, 10, 1), "funder_payment", ("cash", 500_000), ("receivable:icb-devon", -500_000))
        return world


def weekly_by_hand(total: int, contingency: int, days: int) -> int:
    """The plan's weekly amount: (total − contingency) × 7 ÷ days, rounded half up."""
    return int(Fraction((total - contingency) * 7, days) + Fraction(1, 2))


def test_the_return_adds_up_against_the_raw_postings(db: Database, exact: World) -> None:
    with db.read() as session:
        document = build(session, "monitoring-return", exact.budget.id, Q2)
        opening = held_balance(session, exact.budget.id, Q2.starts_on - timedelta(days=1))
        closing = held_balance(session, exact.budget.id, Q2.ends_on)
        changes = held_changes(session, exact.budget.id, Q2.starts_on, Q2.ends_on)
    assert (opening, closing) == (1_600_000, 2_225_480), "worked by hand"
    money_in = sum(net for _, net in changes if net > 0)
    money_out = -sum(net for _, net in changes if net < 0)
    assert (money_in, money_out) == (801_000, 175_520)
    assert document.fact("balances", "Opening balance") == opening
    assert document.fact("balances", "Closing balance") == closing
    assert document.fact("balances", "Money in") == money_in and document.fact("balances", "Money out") == money_out
    assert opening + money_in - money_out == closing
    transactions = document.table("transactions")
    rows = [(row[0], (row[4] or 0) - (row[5] or 0)) for row in transactions.rows]
    assert sorted(rows) == changes, "one row per entry that changed the money held, none for the card load"
    balance = opening
    for row in transactions.rows:
        balance += (row[4] or 0) - (row[5] or 0)
        assert row[6] == balance, "the running balance"
    assert balance == closing and transactions.totals[4:7] == (money_in, money_out, closing)
    notes = next(b for b in document.blocks() if getattr(b, "key", "") == "notes")
    assert "1 move between the budget's own accounts (card load £400.00)" in notes.lines[0]
    accounts = document.table("accounts")
    assert accounts.totals[1:] == (opening, closing - opening, closing)


def test_the_amount_allowed_to_retain_and_the_surplus_worked_by_hand(db: Database, exact: World) -> None:
    with db.read() as session:
        document = build(session, "monitoring-return", exact.budget.id, Q2)
        closing = held_balance(session, exact.budget.id, Q2.ends_on)
    weekly = weekly_by_hand(ICB_PENCE + COUNCIL_PENCE, CONTINGENCY_PENCE, 365)
    assert weekly == 97_808
    weeks_pence = weekly * 8
    contingency_left, committed = CONTINGENCY_PENCE - 20_000, 250_000 - 150_000
    allowed = weeks_pence + contingency_left + committed
    assert document.fact("retained", "Weekly amount") == weekly
    assert document.fact("retained", "Weeks allowed") == 80
    assert document.fact("retained", "Weeks × weekly amount") == weeks_pence
    assert document.fact("retained", "Contingency left") == contingency_left
    assert document.fact("retained", "Committed: wages and invoices approved, not yet paid") == committed
    assert document.fact("retained", "Total allowed to be retained") == allowed
    assert document.fact("surplus", "Surplus returnable") == closing - allowed == 1_263_016
    assert document.fact("surplus", "Amount requested") == closing - allowed, "no decision in the period"


def test_a_jointly_funded_budgets_council_share_adds_up(db: Database, exact: World) -> None:
    with db.read() as session:
        document = build(session, "monitoring-return", exact.budget.id, Q2)
    surplus = document.fact("surplus", "Surplus returnable")
    shares = document.table("funder_shares")
    by_funder = {row[0]: row for row in shares.rows}
    council = by_funder["Plymouth City Council"]
    icb = by_funder["NHS Devon ICB"]
    assert (icb[1], council[1]) == (ICB_PENCE, COUNCIL_PENCE)
    assert icb[2] + council[2] == surplus == shares.totals[2]
    exact_share = Fraction(surplus * COUNCIL_PENCE, ICB_PENCE + COUNCIL_PENCE)
    assert abs(council[2] - exact_share) < 1, "within a penny of its exact share"
    assert document.fact("surplus", "Plymouth City Council's share of the surplus") == council[2]
    assert shares.row_marks == (None, "council")


def test_decisions_in_the_period_are_shown_and_accepted_surplus_is_a_reserve(db: Database, exact: World) -> None:
    with db.write() as session:
        record_surplus_decision(
            session, exact.budget.id, action="accept", amount_pence=50_000, reason="Saving for a holiday in the plan",
            decided_by="Jo Bloggs", decided_on=date(2026, 6, 15),
        )  # fmt: skip
        return_surplus(session, exact.budget.id, amount_pence=10_000, on=date(2026, 9, 10), reason="Held too long", decided_by="Jo Bloggs")
    with db.read() as session:
        document = build(session, "monitoring-return", exact.budget.id, Q2)
        closing = held_balance(session, exact.budget.id, Q2.ends_on)
    assert closing == 2_225_480 - 10_000, "the return left the account"
    allowed = 97_808 * 8 + 80_000 + 100_000 + 50_000
    assert document.fact("retained", "Surplus the funder agreed could be kept (15 June 2026)") == 50_000
    assert document.fact("retained", "Total allowed to be retained") == allowed
    assert document.fact("surplus", "Surplus returnable") == closing - allowed
    assert document.fact("surplus", "Returned in the period (already out of the closing balance)") == 10_000
    assert document.fact("surplus", "Amount requested") == closing - allowed
    decisions = document.table("decisions")
    assert [(row[0], row[1], row[2]) for row in decisions.rows] == [(date(2026, 9, 10), "Returned to the funders", 10_000)]
    assert any(row[2] == "Surplus returned to the funder" and row[5] == 10_000 for row in document.table("transactions").rows)


def test_the_statement_line_behind_a_reconciled_card_purchase(db: Database, exact: World) -> None:
    with db.read() as session:
        document = build(session, "monitoring-return", exact.budget.id, Q2)
        file_name, line_no = session.execute(text(
            "SELECT si.file_name, sl.line_no FROM statement_line sl JOIN statement_import si ON si.id = sl.import_id WHERE sl.amount_pence = -4500"
        )).one()  # fmt: skip
    purchase = next(row for row in document.table("transactions").rows if row[2] == "Card purchase")
    assert (purchase[0], purchase[3], purchase[5]) == (date(2026, 7, 8), "Card", 4_500)
    assert purchase[7] == f"{file_name} line {line_no}" == "card-2026-07.csv line 3"
    paid = next(row for row in document.table("transactions").rows if row[2] == "Wages or invoice paid")
    assert paid[7] == "Not on a statement"


def test_a_budget_with_no_transactions(db: Database, tmp_path: Path) -> None:
    with db.write() as session:
        world = make_world(session)
    with db.read() as session:
        document = build(session, "monitoring-return", world.budget.id, Q2)
    for label in ("Opening balance", "Money in", "Money out", "Closing balance"):
        assert document.fact("balances", label) == 0
    transactions = document.table("transactions")
    assert transactions.rows == () and transactions.totals is None
    assert document.fact("surplus", "Surplus returnable") == 0 and document.fact("surplus", "Amount requested") == 0
    for name in ("html", "csv", "xlsx", "pdf"):
        assert render(document, name).content
    assert "No money came in or went out in the period." in html_text(render(document, "html").content)


def test_a_closed_budget_keeps_no_weeks(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, council_pence=0)
        post(session, world, "icb-april", date(2026, 4, 1), "funder_payment", ("cash", 900_000), ("receivable:icb-devon", -900_000))
        post(session, world, "ring-fence", date(2026, 4, 1), "contingency_ring_fence", ("contingency", 100_000), ("cash", -100_000))
        post_drawdown(session, world, world.budget, date(2026, 7, 6), 30_000, "load-1")
        post(session, world, "swim", date(2026, 7, 9), "card_purchase", ("spend:activities", 2_500), ("card", -2_500))
        close_budget(session, world.budget.id, closed_on=date(2026, 8, 14), reason="Moved away", closed_by="Jo Bloggs")
    with db.read() as session:
        document = build(session, "monitoring-return", world.budget.id, Q2)
        closing = held_balance(session, world.budget.id, Q2.ends_on)
        cash = int(session.execute(text(
            "SELECT SUM(p.amount_pence) FROM posting p JOIN account a ON a.id = p.account_id WHERE a.budget_id = :b AND a.kind = 'cash'"
        ), {"b": world.budget.id}).scalar_one())  # fmt: skip
        changes = held_changes(session, world.budget.id, Q2.starts_on, Q2.ends_on)
    assert closing == cash == 900_000 - 2_500, "closing brought the card and the contingency home"
    assert document.fact("retained", "Weeks allowed") == 0
    assert document.fact("retained", "Total allowed to be retained") == 0, "nothing committed"
    assert document.fact("surplus", "Surplus returnable") == closing
    assert len(document.table("transactions").rows) == len(changes) == 1, "the purchase; the card load and the closing moves are internal"
    notes = next(b for b in document.blocks() if getattr(b, "key", "") == "notes")
    assert any("The budget closed on 14 August 2026" in line for line in notes.lines)
    assert "The budget closed on 14 August 2026." in document.summary


def test_every_format_reads_back_the_same_figures(db: Database, exact: World, tmp_path: Path) -> None:
    with db.read() as session:
        document = build(session, "monitoring-return", exact.budget.id, Q2)
    opening, closing = document.fact("balances", "Opening balance"), document.fact("balances", "Closing balance")
    allowed, requested = document.fact("retained", "Total allowed to be retained"), document.fact("surplus", "Amount requested")
    totals = document.table("transactions").totals
    money_in, money_out = totals[4], totals[5]
    expected = {"Opening balance": opening, "Closing balance": closing, "Total allowed to be retained": allowed, "Amount requested": requested}

    rows = list(csv.reader(io.StringIO(render(document, "csv").content.decode("utf-8-sig"))))
    facts = {row[0]: row[1] for row in rows if len(row) >= 2 and row[0] in expected}
    assert {label: pence_of(value) for label, value in facts.items()} == expected
    total_row = next(row for row in rows if len(row) == 8 and row[1] == "Total")
    assert (pence_of(total_row[4]), pence_of(total_row[5]), pence_of(total_row[6])) == (money_in, money_out, closing)

    workbook = openpyxl.load_workbook(io.BytesIO(render(document, "xlsx").content))
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row[0] in expected}
    assert {label: pence_of(value) for label, value in summary.items()} == expected
    sheet = list(workbook["Every transaction"].iter_rows(values_only=True))
    count = len(document.table("transactions").rows)
    assert sheet[0][4:7] == ("Money in", "Money out", "Balance") and sheet[count][6] is not None
    assert sheet[count + 1][1] == "Total" and [pence_of(v) for v in sheet[count + 1][4:7]] == [money_in, money_out, closing]

    words = html_text(render(document, "html").content)
    for label, pence in expected.items():
        assert f"{label} {money(pence)}" in words
    assert f"Total {money(money_in)} {money(money_out)} {money(closing)}" in words

    layout = pdf_text(render(document, "pdf").content, tmp_path)
    for label, pence in expected.items():
        assert re.search(rf"{re.escape(label)}\s+{re.escape(money(pence))}", layout), label
    assert re.search(rf"Total\s+{re.escape(money(money_in))}\s+{re.escape(money(money_out))}\s+{re.escape(money(closing))}", layout)


def money(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def test_a_period_outside_the_budget_is_refused(db: Database, exact: World) -> None:
    with db.read() as session, pytest.raises(InvalidInput) as refused:
        build(session, "monitoring-return", exact.budget.id, quarter_period(parse_quarter("2028Q1")))
    assert refused.value.code == "period_outside_plan"


# --- the arithmetic against an independent model -------------------------------------------


@given(
    weekly=st.integers(min_value=0, max_value=10_000_000),
    weeks_tenths=st.integers(min_value=0, max_value=520),
    reserves=st.lists(st.integers(min_value=0, max_value=10_000_000), max_size=6),
    closing=st.integers(min_value=-10_000_000, max_value=100_000_000),
    deducted=st.integers(min_value=0, max_value=10_000_000),
)
def test_property_allowed_to_retain_matches_a_model(weekly: int, weeks_tenths: int, reserves: list[int], closing: int, deducted: int) -> None:
    exact_weeks = Fraction(weekly * weeks_tenths, 10)
    model_weeks = int(exact_weeks) + (1 if exact_weeks - int(exact_weeks) >= Fraction(1, 2) else 0)
    assert weeks_retained_pence(weekly, weeks_tenths) == model_weeks
    allowed = allowed_to_retain(weekly, weeks_tenths, reserves)
    assert allowed == model_weeks + sum(reserves)
    surplus = surplus_returnable(closing, allowed)
    assert surplus >= 0 and surplus == (closing - allowed if closing > allowed else 0)
    requested = amount_requested(surplus, deducted)
    assert 0 <= requested <= surplus and requested == max(surplus - deducted, 0)


# --- the demo --------------------------------------------------------------------------------


@pytest.fixture
def demo(report_demo: Database) -> Database:
    return report_demo


@pytest.mark.parametrize(("reference", "period"), [
    ("DP-0001", Q2), ("DP-0005", month_period(date(2026, 10, 1))), ("MA-0004", Q2), ("ISF-0002", Q2),
    ("ISF-0009", dates_period(date(2025, 11, 1), date(2026, 10, 31))),
])  # fmt: skip
def test_demo_returns_add_up_against_the_raw_postings(demo: Database, reference: str, period) -> None:  # type: ignore[no-untyped-def]
    with demo.read() as session:
        budget = budget_by_reference(session, reference)
        document = build(session, "monitoring-return", budget.id, period)
        opening = held_balance(session, budget.id, period.starts_on - timedelta(days=1))
        closing = held_balance(session, budget.id, period.ends_on)
        changes = held_changes(session, budget.id, period.starts_on, period.ends_on)
    assert document.fact("balances", "Opening balance") == opening
    assert document.fact("balances", "Closing balance") == closing
    assert opening + sum(net for _, net in changes) == closing
    rows = document.table("transactions").rows
    assert sorted((row[0], (row[4] or 0) - (row[5] or 0)) for row in rows) == changes
    assert all(row[7] != "Not on a statement" for row in rows if row[2] in ("Card purchase", "Paid in by the funder")), "the demo's statements"
    allowed = document.fact("retained", "Total allowed to be retained")
    assert document.fact("surplus", "Surplus returnable") == max(0, closing - allowed)


def test_demo_isf_jointly_funded_shares_and_privacy(demo: Database) -> None:
    with demo.read() as session:
        budget = budget_by_reference(session, "ISF-0002")
        document = build(session, "monitoring-return", budget.id, Q2)
        others = [r for (r,) in session.execute(text("SELECT reference FROM budget WHERE reference <> 'ISF-0002'"))]
    shares = document.table("funder_shares")
    assert len(shares.rows) == 3, "ICB, council and the person's contribution"
    for column in (2, 3):
        assert sum(row[column] for row in shares.rows) == shares.totals[column]
    assert shares.totals[2] == document.fact("surplus", "Surplus returnable")
    words = render(document, "csv").content.decode("utf-8-sig")
    assert not [reference for reference in others if reference in words], "a shared payment's description names nobody else"
