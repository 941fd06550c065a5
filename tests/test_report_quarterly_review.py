"""The quarterly quality review document, figure by figure, against the ledger.

Golden tests on the demo: for a jointly funded ISF, a "start small" ISF revised mid-year, one
with transition costs, a managed account, a family's own bank account and a notional budget,
every figure of the review (the position, the plan table with its pace, the quarter's money
in and out, contingency, the weekly balances, the projection, the flags) is worked out again
here from raw postings with plain SQL and plain arithmetic — not with the code under test —
and must agree to the penny. Then the budgets a review must cope with, on both databases: no
spend, one that started mid-quarter, a plan revised mid-quarter, a jointly funded one, a
closed one and a notional one. Every format reads back to the same numbers, and the PDFs are
turned into PNG pages under ``var/test-artefacts/`` for a person to look at.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.budgets import budget as budgets
from ledger.budgets import plans
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.periods import parse_quarter
from ledger.money_out import notional
from ledger.position.closing import close_budget
from ledger.store.database import Database
from ledger.store.tables import Budget
from reports import quarterly_review
from reports.document import Document, Table
from reports.params import ReportParams, quarter_period
from tests.support.builders import make_budget, make_person, make_plan, make_world
from tests.support.report_formats import check_every_format

DEMO_TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
GOLDEN = [
    ("ISF-0002", "2026Q2"),  # jointly funded with the council, a client contribution
    ("ISF-0005", "2026Q2"),  # "start small": money moved to a direct payment by revision
    ("ISF-0009", "2026Q1"),  # transition costs spent before the plan started
    ("ISF-0011", "2026Q2"),  # a hospital stay paused the loads; a revision added waking nights
    ("MA-0006", "2026Q2"),  # a managed account with a notional part
    ("DP-0001", "2026Q2"),  # a family's own bank account
    ("NOT-0001", "2026Q2"),  # notional: the ICB pays, costs recorded
    ("ISF-0006", "2026Q2"),  # a surplus building; the review decided to keep part of it
]


@pytest.fixture
def demo(report_demo: Database) -> Database:
    return report_demo


def review_of(session: Session, reference: str, quarter: str) -> tuple[Budget, Document]:
    budget = budgets.budget_by_reference(session, reference)
    params = ReportParams(budget_id=budget.id, period=quarter_period(parse_quarter(quarter)))
    return budget, quarterly_review.build(session, params, now=NOW)


# --- an independent reading of the ledger ------------------------------------------------------


class Oracle:
    """Plain SQL over postings, accounts and entries; natural signs by account type."""

    def __init__(self, session: Session, budget: Budget) -> None:
        self.session, self.budget = session, budget

    def sum(self, *, kinds: tuple[str, ...], after: date | None = None, through: date, entry_kinds: tuple[str, ...] | None = None,
            category: str | None = None) -> int:  # fmt: skip
        sql = """
            SELECT COALESCE(SUM(p.amount_pence), 0) AS total, a.type AS type
            FROM posting p JOIN account a ON a.id = p.account_id JOIN journal_entry e ON e.id = p.entry_id
            LEFT JOIN journal_entry o ON o.id = e.reverses_entry_id
            WHERE a.budget_id = :budget AND a.kind IN :kinds AND p.entry_date <= :through
        """
        values: dict = {"budget": self.budget.id, "kinds": kinds, "through": through}
        if after is not None:
            sql += " AND p.entry_date >= :after"
            values["after"] = after
        if entry_kinds is not None:
            sql += " AND COALESCE(o.kind, e.kind) IN :entry_kinds"
            values["entry_kinds"] = entry_kinds
        if category is not None:
            sql += " AND a.code = :code"
            values["code"] = f"{self.budget.reference}:spend:{category}"
        sql += " GROUP BY a.type"
        statement = text(sql).bindparams(*[_expanding(name) for name in ("kinds", "entry_kinds") if name in values])
        total = 0
        for amount, account_type in self.session.execute(statement, values):
            total += int(amount) if account_type in ("asset", "expense") else -int(amount)
        return total

    def plan_lines(self, day: date) -> list[tuple[str, str, int, date | None, date | None]]:
        version = self.session.execute(text("""
            SELECT id FROM support_plan_version WHERE budget_id = :b AND status = 'agreed' AND effective_from <= :d
            ORDER BY effective_from DESC, version DESC LIMIT 1"""), {"b": self.budget.id, "d": day}).scalar()
        if version is None:
            version = self.session.execute(text("""
                SELECT id FROM support_plan_version WHERE budget_id = :b AND status = 'agreed' ORDER BY effective_from, version LIMIT 1"""),
                {"b": self.budget.id}).scalar()  # fmt: skip
        rows = self.session.execute(text("""
            SELECT c.code, l.kind, l.amount_pence, l.starts_on, l.ends_on FROM plan_line l JOIN category c ON c.id = l.category_id
            WHERE l.plan_version_id = :v ORDER BY l.position"""), {"v": version}).all()  # fmt: skip
        return [(code, kind, int(amount), _day(s), _day(e)) for code, kind, amount, s, e in rows]


def _expanding(name: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value))


def paced(kind: str, amount: int, starts_on: date | None, ends_on: date | None, start: date, end: date, day: date) -> int:
    """The plan's pace, written again with fractions and round-half-up."""
    def half_up(value: Fraction) -> int:
        sign = -1 if value < 0 else 1
        return sign * int(abs(value) + Fraction(1, 2))

    if kind == "one_off":
        if starts_on is None:
            return amount
        if ends_on is None or ends_on <= starts_on:
            return amount if starts_on <= day else 0
        days = (ends_on - starts_on).days + 1
        done = max(0, min((min(day, ends_on) - starts_on).days + 1, days))
        return half_up(Fraction(amount * done, days))
    days = (end - start).days + 1
    done = max(0, min((min(day, end) - start).days + 1, days))
    return half_up(Fraction(amount * done, days))


def rows_by_first_cell(table: Table) -> dict[object, tuple]:
    return {row[0]: row for row in table.rows}


# --- golden tests on the demo ------------------------------------------------------------------


@pytest.mark.parametrize(("reference", "quarter"), GOLDEN)
def test_every_figure_of_a_demo_review_is_the_ledgers(demo: Database, reference: str, quarter: str) -> None:
    with demo.read() as session:
        budget, document = review_of(session, reference, quarter)
        q = parse_quarter(quarter)
        start, end = max(q.starts_on, budget.period_start), min(q.ends_on, budget.period_end)
        oracle = Oracle(session, budget)
        check_position(document, oracle, end)
        check_plan_table(document, oracle, start, end)
        check_flows(document, oracle, start, end)
        check_contingency(document, oracle, start, end)
        check_balances(document, oracle, start, end)
        check_projection(document, oracle, end)
        check_flags(document, session, budget, start, end)
    assert document.period_start == start and document.period_end == end


def test_every_demo_budget_every_quarter_agrees_with_the_ledger(demo: Database) -> None:
    """The same checks over the whole demo: each budget, each quarter its plan overlaps."""
    checked = 0
    with demo.read() as session:
        for budget in session.scalars(select(Budget).order_by(Budget.reference)).all():
            for quarter in ("2025Q4", "2026Q1", "2026Q2", "2026Q3"):
                q = parse_quarter(quarter)
                if q.ends_on < budget.period_start or q.starts_on > budget.period_end:
                    continue
                _, document = review_of(session, budget.reference, quarter)
                start, end = max(q.starts_on, budget.period_start), min(q.ends_on, budget.period_end)
                oracle = Oracle(session, budget)
                check_position(document, oracle, end)
                check_plan_table(document, oracle, start, end)
                check_contingency(document, oracle, start, end)
                check_projection(document, oracle, end)
                checked += 1
    assert checked > 100


def check_position(document: Document, oracle: Oracle, end: date) -> None:
    allocated = oracle.sum(kinds=("allocation",), through=end)
    spent = oracle.sum(kinds=("spend",), through=end)
    fees = oracle.sum(kinds=("fees",), through=end)
    top_slice = oracle.sum(kinds=("top_slice",), through=end)
    returned = oracle.sum(kinds=("returned",), through=end)
    fact = lambda label: document.fact("position", label)  # noqa: E731
    assert fact("Allocated for the plan year") == allocated
    assert fact("Spent so far (including committed)") == spent
    assert fact("Fees so far") == fees
    assert fact("Top-slice taken so far") == top_slice
    assert fact("Returned to the funders") == returned
    assert fact("Money left for the rest of the plan year") == allocated - spent - fees - top_slice - returned
    assert fact("Held funds (in the bank)") == oracle.sum(kinds=("cash",), through=end)
    assert fact("On the card") == oracle.sum(kinds=("card",), through=end)
    assert fact("Committed (approved, not yet paid)") == oracle.sum(kinds=("payable",), through=end)
    assert fact("Contingency left") == oracle.sum(kinds=("contingency",), through=end)
    assert fact("Still to come from the funders") == oracle.sum(kinds=("receivable",), through=end)
    received = -oracle.sum(kinds=("receivable",), through=end, entry_kinds=("funder_payment", "contribution_received", "money_identified", "surplus_return", "manual", "transfer"))
    assert fact("Received from the funders so far") == received
    assert fact("Paid directly by the funder (notional)") == -oracle.sum(kinds=("receivable",), through=end, entry_kinds=("notional_cost",))
    assert document.summary[0].startswith(_money(allocated - spent - fees - top_slice - returned))


def check_plan_table(document: Document, oracle: Oracle, start: date, end: date) -> None:
    table = document.table("plan_vs_spend")
    budget = oracle.budget
    planned: dict[str, int] = {}
    pace: dict[str, int] = {}
    for code, kind, amount, starts_on, ends_on in oracle.plan_lines(end):
        planned[code] = planned.get(code, 0) + amount
        pace[code] = pace.get(code, 0) + paced(kind, amount, starts_on, ends_on, budget.period_start, budget.period_end, end)
    names = dict(oracle.session.execute(text("SELECT code, name FROM category WHERE holder_id IS NULL OR holder_id = :h"), {"h": budget.holder_id}).all())
    spend_codes = [code.rsplit(":", 1)[1] for code in oracle.session.execute(
        text("SELECT code FROM account WHERE budget_id = :b AND kind = 'spend'"), {"b": budget.id}).scalars()]  # fmt: skip
    rows = rows_by_first_cell(table)
    expected_codes = list(planned) + [c for c in spend_codes if c not in planned and (oracle.sum(kinds=("spend",), through=end, category=c) or oracle.sum(kinds=("spend",), after=start, through=end, category=c))]
    assert [row[0] for row in table.rows] == [names[c] for c in list(planned) + sorted(set(expected_codes) - set(planned))]
    for code in expected_codes:
        to_date = oracle.sum(kinds=("spend",), through=end, category=code)
        in_quarter = oracle.sum(kinds=("spend",), after=start, through=end, category=code)
        row = rows[names[code]]
        assert row[1:] == (planned.get(code, 0), pace.get(code, 0), in_quarter, to_date, to_date - pace.get(code, 0), planned.get(code, 0) - to_date), code
    assert table.totals is not None
    assert table.totals[4] == sum(oracle.sum(kinds=("spend",), through=end, category=c) for c in expected_codes)


def check_flows(document: Document, oracle: Oracle, start: date, end: date) -> None:
    fact = lambda label: document.fact("quarter_flows", label)  # noqa: E731
    loads = oracle.session.execute(text("""
        SELECT COUNT(*), COALESCE(SUM(d.amount_pence), 0) FROM drawdown d JOIN budget_part bp ON bp.id = d.budget_part_id
        JOIN journal_entry e ON e.id = d.entry_id WHERE bp.budget_id = :b AND e.entry_date BETWEEN :s AND :e"""),
        {"b": oracle.budget.id, "s": start, "e": end}).one()  # fmt: skip
    assert fact("Card loads") == int(loads[1])
    assert fact("Card loads") == oracle.sum(kinds=("card",), after=start, through=end, entry_kinds=("drawdown",))
    assert fact("Fees") == oracle.sum(kinds=("fees",), after=start, through=end)
    assert fact("Top-slice taken") == oracle.sum(kinds=("top_slice",), after=start, through=end)
    assert fact("Returned to the funders") == oracle.sum(kinds=("returned",), after=start, through=end)
    assert fact("Card and bank spending (less refunds)") == oracle.sum(kinds=("spend",), after=start, through=end, entry_kinds=("card_purchase", "card_refund", "bank_spend"))
    paid = oracle.session.execute(text("""
        SELECT p.kind, COALESCE(SUM(l.amount_pence), 0) FROM payable p JOIN payable_line l ON l.payable_id = p.id
        WHERE l.budget_id = :b AND p.status = 'paid' AND p.paid_on BETWEEN :s AND :e GROUP BY p.kind"""),
        {"b": oracle.budget.id, "s": start, "e": end}).all()  # fmt: skip
    by_kind = {kind: int(total) for kind, total in paid}
    assert fact("Wages and payroll paid") == by_kind.get("wages", 0) + by_kind.get("payroll", 0)
    assert fact("Invoices paid") == by_kind.get("invoice", 0) + by_kind.get("pooled", 0)
    payments = document.table("payments")
    assert sum(row[4] for row in payments.rows) == sum(by_kind.values())


def check_contingency(document: Document, oracle: Oracle, start: date, end: date) -> None:
    fact = lambda label: document.fact("contingency", label)  # noqa: E731
    before = start - timedelta(days=1)
    opening = oracle.sum(kinds=("contingency",), through=before)
    closing = oracle.sum(kinds=("contingency",), through=end)
    used = -oracle.sum(kinds=("contingency",), after=start, through=end, entry_kinds=("contingency_use",))
    assert fact("Left at the start of the quarter") == opening
    assert fact("Left at the end of the quarter") == closing
    assert fact("Used this quarter") == used
    assert opening + fact("Ring-fenced this quarter") - used - fact("Returned this quarter") == closing
    uses = oracle.session.execute(text("SELECT COALESCE(SUM(amount_pence), 0) FROM contingency_use WHERE budget_id = :b AND used_on BETWEEN :s AND :e"),
                                  {"b": oracle.budget.id, "s": start, "e": end}).scalar()  # fmt: skip
    assert sum(row[1] for row in document.table("contingency_uses").rows) == int(uses)


def check_balances(document: Document, oracle: Oracle, start: date, end: date) -> None:
    table = document.table("balances")
    days = [row[0] for row in table.rows]
    assert days[0] == start and days[-1] == end
    assert all(d.weekday() == 6 for d in days[1:-1])
    for row in table.rows:
        day = row[0]
        assert row[1:] == (
            oracle.sum(kinds=("cash",), through=day), oracle.sum(kinds=("card",), through=day),
            oracle.sum(kinds=("contingency",), through=day), oracle.sum(kinds=("payable",), through=day),
        ), day  # fmt: skip


def check_projection(document: Document, oracle: Oracle, end: date) -> None:
    table = document.table("projection")
    assert table.totals is not None
    allocated = oracle.sum(kinds=("allocation",), through=end)
    left = document.fact("position", "Money left for the rest of the plan year")
    assert table.totals[1] == allocated and table.totals[2] == left
    for column in range(1, 6):
        assert sum(row[column] for row in table.rows) == table.totals[column]
    for row in table.rows:
        assert row[5] == row[2] - row[3] - row[4]
    budget = oracle.budget
    days_so_far = (end - budget.period_start).days + 1
    days_left = (budget.period_end - end).days if budget.status != "closed" else 0
    run = oracle.sum(kinds=("spend",), through=end) - oracle.sum(kinds=("spend",), through=end, category="transition") + oracle.sum(kinds=("fees",), through=end)
    expected = int(Fraction(run * days_left, days_so_far) + Fraction(1, 2)) if days_left > 0 and run > 0 else 0
    assert table.totals[3] == expected


def check_flags(document: Document, session: Session, budget: Budget, start: date, end: date) -> None:
    expected = session.execute(text("""
        SELECT id FROM flag WHERE budget_id = :b AND occurred_on <= :e
        AND (occurred_on >= :s OR state NOT IN ('accepted', 'reallocated', 'recovered', 'closed'))"""),
        {"b": budget.id, "s": start, "e": end}).scalars().all()  # fmt: skip
    assert len(document.table("flags").rows) == len(expected)


def _money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def test_the_demo_reviews_read_back_in_every_format_and_print(demo: Database) -> None:
    with demo.read() as session:
        for reference, quarter in (("ISF-0006", "2026Q2"), ("ISF-0002", "2026Q2"), ("NOT-0001", "2026Q2")):
            _, document = review_of(session, reference, quarter)
            check_every_format(document, artefact=f"quarterly-review-{reference}-{quarter}".lower())


def test_the_people_part_shows_what_the_review_recorded(demo: Database) -> None:
    with demo.read() as session:
        budget, document = review_of(session, "ISF-0006", "2026Q2")
        review_id, revision = session.execute(text("SELECT id, revision FROM quality_review WHERE budget_id = :b AND quarter = '2026Q2' ORDER BY revision DESC"), {"b": budget.id}).first()
        outcomes = session.execute(text("SELECT description, rating FROM quality_review_outcome WHERE review_id = :r ORDER BY position"), {"r": review_id}).all()
        attendees = session.execute(text("SELECT name FROM quality_review_attendee WHERE review_id = :r ORDER BY position"), {"r": review_id}).scalars().all()
        actions = session.execute(text("SELECT what FROM quality_review_action WHERE review_id = :r"), {"r": review_id}).scalars().all()
    assert [row[0] for row in document.table("outcomes").rows] == [d for d, _ in outcomes]
    assert [row[0] for row in document.table("attendees").rows] == list(attendees)
    assert sorted(row[0] for row in document.table("actions").rows) == sorted(actions)
    assert document.fact("money_decision", "Amount") == 150_000
    assert revision == 1


def test_an_overdue_review_says_what_it_will_cover(demo: Database) -> None:
    with demo.read() as session:
        _, document = review_of(session, "ISF-0003", "2026Q2")
    (section,) = [s for s in document.sections if s.key == "people"]
    assert "has not been recorded yet" in section.blocks[0].lines[0]  # type: ignore[union-attr]


# --- the budgets a review must cope with, on both databases ----------------------------------------


def _post(session: Session, budget: Budget, key: str, day: date, kind: str, *pairs: tuple[str, int]) -> None:
    from ledger.core.accounts import account_ids_by_code

    codes = [f"{budget.reference}:{suffix}" for suffix, _ in pairs]
    ids = account_ids_by_code(session, codes)
    post_entry(session, NewEntry(
        book_id=budget.holder_id, entry_date=day, description=key, idempotency_key=f"{budget.reference}:{key}",
        postings=tuple(NewPosting(ids[code], pence) for code, (_, pence) in zip(codes, pairs, strict=True)), kind=kind, created_by="test",
    ))  # fmt: skip


def _review(session: Session, budget: Budget, quarter: str) -> Document:
    return quarterly_review.build(session, ReportParams(budget_id=budget.id, period=quarter_period(parse_quarter(quarter))), now=NOW)


def test_a_budget_with_no_spend(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, council_pence=0)
        document = _review(session, world.budget, "2026Q1")
    assert document.fact("position", "Money left for the rest of the plan year") == 5_200_000
    assert document.summary[1] == "Spending is on plan."
    table = document.table("plan_vs_spend")
    assert all(row[3] == 0 and row[4] == 0 for row in table.rows)
    assert document.table("payments").rows == ()
    check_every_format(document)


def test_a_budget_that_started_mid_quarter(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, council_pence=0, agree=False)
        person = make_person(session, "Robin Hill")
        late = budgets.create_budget(session, budgets.BudgetSpec(
            reference="ISF-0099", holder_id=world.holder.id, person_id=person.id, lead_funder_id=world.icb.id,
            period_start=date(2026, 5, 18), period_end=date(2027, 5, 17), parts=(budgets.PartSpec("third_party", "prepaid_card"),),
        ))  # fmt: skip
        make_plan(session, late, [(world.icb, 2_600_000, 0)], total_pence=2_600_000, effective_from=date(2026, 5, 18))
        _post(session, late, "purchase-1", date(2026, 6, 2), "card_purchase", ("spend:activities", 4_500), ("card", -4_500))
        document = _review(session, late, "2026Q1")
    assert (document.period_start, document.period_end) == (date(2026, 5, 18), date(2026, 6, 30))
    assert any("the part of the quarter inside the plan period" in line for line in document.summary)
    row = rows_by_first_cell(document.table("plan_vs_spend"))["Activities"]
    days = (date(2026, 6, 30) - date(2026, 5, 18)).days + 1
    assert row[2] == int(Fraction(50_000 * days, 365) + Fraction(1, 2)) and row[3] == 4_500
    assert document.table("balances").rows[0][0] == date(2026, 5, 18)


def test_a_plan_revised_mid_quarter(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, council_pence=0)
        revision = plans.create_draft(session, world.budget.id, plans.PlanVersionSpec(
            effective_from=date(2026, 5, 1), total_pence=5_200_000, change_reason="More swimming, fewer hours",
            funding_lines=[plans.FundingLineSpec(world.icb.id, 5_200_000, 0)],
            lines=[plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=4_950_000),
                   plans.PlanLineSpec("activities", "Swimming", "recurring", annual_amount_pence=150_000)],
            contingency_pence=100_000,
        ))  # fmt: skip
        plans.agree(session, revision.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=datetime(2026, 4, 20, 10, 0))
        document = _review(session, world.budget, "2026Q1")
    assert any("revised from 1 May 2026 (version 2): More swimming, fewer hours" in line for line in document.summary)
    row = rows_by_first_cell(document.table("plan_vs_spend"))["Activities"]
    assert row[1] == 150_000  # the plan in force at the quarter's end
    assert document.sections[0].intro is not None and "version 2" in document.sections[0].intro


def test_a_jointly_funded_budget_splits_the_projection_by_funder(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, council_pence=2_000_000, contribution_pence=300_000)
        _post(session, world.budget, "wages-1", date(2026, 6, 10), "payable_approved", ("spend:staff_pay", 400_000), ("payable", -400_000))
        document = _review(session, world.budget, "2026Q1")
    table = document.table("projection")
    assert [row[0] for row in table.rows] == ["NHS Devon ICB", "Plymouth City Council", "The person (client contribution)"]
    assert [row[1] for row in table.rows] == [3_200_000, 1_700_000, 300_000]
    assert table.totals is not None and table.totals[2] == 5_200_000 - 400_000
    assert sum(row[2] for row in table.rows) == table.totals[2]
    check_every_format(document)


def test_a_closed_budget_projects_nothing_more(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, council_pence=0)
        close_budget(session, world.budget.id, closed_on=date(2026, 6, 15), reason="Moved away", closed_by="Jo Bloggs")
        session.refresh(world.budget)
        document = _review(session, world.budget, "2026Q1")
    assert "The budget is closed." in document.summary
    table = document.table("projection")
    assert table.totals is not None and table.totals[3] == 0 and table.totals[4] == 0
    assert "nothing more is expected" in (table.note or "")


def test_a_notional_budget_counts_the_funders_own_costs(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, council_pence=0, agree=False)
        person = make_person(session, "Kim Lowe")
        budget = make_budget(session, world.holder, person, world.icb, reference="NOT-0099", parts=(budgets.PartSpec("notional", "none"),))
        make_plan(session, budget, [(world.icb, 1_000_000, 0)], total_pence=1_000_000, contingency_pence=0)
        notional.record_notional_cost(
            session, budget.id, funder_id=world.icb.id, category_code="staff_pay", amount_pence=123_456, on=date(2026, 5, 31),
            supplier="Devon Care Agency", reference="INV-77", description="May care hours", recorded_by="ICB",
        )  # fmt: skip
        document = _review(session, budget, "2026Q1")
    assert document.fact("position", "Paid directly by the funder (notional)") == 123_456
    assert document.fact("position", "Spent so far (including committed)") == 123_456
    assert document.fact("position", "Money left for the rest of the plan year") == 1_000_000 - 123_456
    assert rows_by_first_cell(document.table("plan_vs_spend"))["Staff pay and personal assistants"][3] == 123_456


def test_a_budget_whose_plan_is_not_agreed_yet_says_so(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, agree=False)
        document = _review(session, world.budget, "2026Q1")
    assert document.summary[1] == "No plan had been agreed by the end of the quarter, so there is no plan to measure spending against."
    assert document.table("plan_vs_spend").rows == () and document.table("projection").totals is not None
    check_every_format(document)


def test_a_quarter_outside_the_plan_is_refused(db: Database) -> None:
    from ledger.errors import InvalidInput

    with db.write() as session:
        world = make_world(session, council_pence=0)
        with pytest.raises(InvalidInput) as refused:
            _review(session, world.budget, "2027Q2")
    assert refused.value.code == "quarter_outside_plan"


