"""The NHS England quarterly personal health budget return (``reports.nhse_return``).

A small world on both databases with every case the counting rules name: an adult and a
child (and someone who turns 18 on the quarter's last day), a person whose plan mixes third
party and direct payment counted once, a budget closed in the quarter (not live at its end,
in the year to date), a person with two budgets in the year counted once, a council-led
budget the ICB pays towards, and budgets that must not count (another ICB's, the council's
alone, a draft plan, a plan not yet in force, a budget that starts later or ended before
the year). The counts are checked against hand-worked figures and against an oracle that
reads the raw rows itself; every format is read back. The demo is counted the same way, and
a synthetic ICB of 2,500 budgets is counted inside the time budget.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ledger.budgets import budget as budgets
from ledger.budgets import parties, plans
from ledger.errors import InvalidInput
from ledger.position.closing import close_budget
from ledger.store.database import Database
from ledger.store.tables import Budget, BudgetPart, Funder, FundingLine, Holder, Person, PlanPartAmount, SupportPlanVersion
from reports.catalogue import report_kind
from reports.document import Document
from reports.nhse_return import build
from reports.params import ReportParams, parse_period
from reports.render import Format, render
from tests.support.builders import AGREED_AT, TODAY, make_world
from tests.support.databases import SqliteTemplate

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
QUARTER = "2026Q2"
QUARTER_END = date(2026, 9, 30)
YEAR_START = date(2026, 4, 1)
LIVE, YTD = "Live at quarter end", "Year to date"
OPTION_WORDS = {"notional": "Notional", "third_party": "Third party", "direct_payment": "Direct payment"}
GROUP_WORDS = {
    "continuing_healthcare": "NHS Continuing Healthcare",
    "end_of_life": "NHS Continuing Healthcare fast track (end of life)",
    "childrens_continuing_care": "Children and young people's continuing care",
    "personal_wheelchair_budget": "Personal wheelchair budget",
    "section_117_aftercare": "Section 117 aftercare",
    "mental_health": "Mental health",
    "learning_disability_autism": "Learning disability and/or autism",
    "other": "Other",
}
OPTION_ORDER = ("notional", "third_party", "direct_payment")


# --- the small world ------------------------------------------------------------------------


def add_budget(
    session: Session, holder: Holder, person: Person, lead: Funder, reference: str, *, parts: list[tuple[str, str, int]],
    funding: list[tuple[Funder, int]], starts: date = date(2026, 4, 1), ends: date = date(2027, 3, 31),
    effective_from: date | None = None, agree: bool = True,
) -> Budget:  # fmt: skip
    budget = budgets.create_budget(
        session, budgets.BudgetSpec(reference, holder.id, person.id, lead.id, starts, ends, [budgets.PartSpec(o, h) for o, h, _ in parts])
    )
    total = sum(p for _, _, p in parts)
    version = plans.create_draft(
        session, budget.id,
        plans.PlanVersionSpec(
            effective_from=effective_from or starts, total_pence=total,
            funding_lines=[plans.FundingLineSpec(f.id, pence) for f, pence in funding],
            lines=[plans.PlanLineSpec("staff_pay", "Support", "recurring", annual_amount_pence=total)],
            parts=[plans.PartAmountSpec(o, h, p) for o, h, p in parts],
        ),
    )  # fmt: skip
    if agree:
        plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)
    return budget


def person(session: Session, name: str, born: date, group: str) -> Person:
    return parties.create_person(session, parties.PersonSpec(name, born, group), today=TODAY)


def small_world(session: Session) -> int:
    """The cases of the module docstring; returns the ICB's id."""
    world = make_world(session)  # Alex, 1990, learning disability: ISF-0001, third party, the ICB and the council
    icb, council, holder = world.icb, world.council, world.holder
    kernow = parties.create_funder(session, parties.FunderSpec("icb-kernow", "NHS Cornwall ICB", "icb"))
    dp, tp, notional = ("direct_payment", "bank_account"), ("third_party", "prepaid_card"), ("notional", "none")
    add_budget(session, holder, person(session, "Bea", date(2015, 3, 1), "continuing_healthcare"), icb, "DP-0001", parts=[(*dp, 900_000)], funding=[(icb, 900_000)])
    add_budget(session, holder, person(session, "Cal", date(2008, 9, 30), "mental_health"), icb, "NOT-0001", parts=[(*notional, 400_000)], funding=[(icb, 400_000)])
    add_budget(
        session, holder, person(session, "Dee", date(1970, 1, 1), "mental_health"), icb, "ISF-0003",
        parts=[(*tp, 700_000), ("direct_payment", "prepaid_card", 300_000)], funding=[(icb, 1_000_000)],
    )  # fmt: skip
    eve = add_budget(session, holder, person(session, "Eve", date(1950, 1, 1), "end_of_life"), icb, "NOT-0002", parts=[(*notional, 200_000)], funding=[(icb, 200_000)])
    close_budget(session, eve.id, closed_on=date(2026, 8, 15), reason="Eve died", closed_by="Jo Bloggs")
    fin = person(session, "Fin", date(1980, 1, 1), "other")
    add_budget(session, holder, fin, icb, "NOT-0003", parts=[(*notional, 500_000)], funding=[(icb, 500_000)], starts=date(2025, 7, 1), ends=date(2026, 6, 30))
    add_budget(session, holder, fin, icb, "DP-0002", parts=[(*dp, 1_000_000)], funding=[(icb, 1_000_000)], starts=date(2026, 7, 1), ends=date(2027, 6, 30))
    ivy = person(session, "Ivy", date(1985, 1, 1), "section_117_aftercare")
    add_budget(session, holder, ivy, council, "ISF-0004", parts=[(*tp, 1_000_000)], funding=[(council, 600_000), (icb, 400_000)])
    # None of these counts for the ICB:
    add_budget(session, holder, person(session, "Gus", date(1975, 1, 1), "other"), council, "ISF-0005", parts=[(*tp, 500_000)], funding=[(council, 500_000)])
    add_budget(session, holder, person(session, "Hal", date(1975, 1, 1), "other"), kernow, "ISF-0006", parts=[(*tp, 500_000)], funding=[(kernow, 500_000)])
    add_budget(session, holder, person(session, "Jo", date(1975, 1, 1), "other"), icb, "ISF-0007", parts=[(*tp, 500_000)], funding=[(icb, 500_000)], agree=False)
    add_budget(session, holder, person(session, "Kit", date(1975, 1, 1), "other"), icb, "ISF-0008", parts=[(*tp, 500_000)], funding=[(icb, 500_000)], starts=date(2026, 10, 1), ends=date(2027, 9, 30))
    add_budget(session, holder, person(session, "Lee", date(1975, 1, 1), "other"), icb, "ISF-0009", parts=[(*tp, 500_000)], funding=[(icb, 500_000)], starts=date(2025, 1, 1), ends=date(2025, 12, 31))
    add_budget(session, holder, person(session, "Max", date(1975, 1, 1), "other"), icb, "ISF-0010", parts=[(*tp, 500_000)], funding=[(icb, 500_000)], effective_from=date(2026, 10, 1))
    assert icb.id is not None
    return icb.id


EXPECTED = {
    LIVE: {
        ("Alex Smith", "Adult", "Learning disability and/or autism", "Third party", False),
        ("Bea", "Child", "Children and young people's continuing care", "Direct payment", False),
        ("Cal", "Adult", "Mental health", "Notional", False),  # 18 on the quarter's last day
        ("Dee", "Adult", "Mental health", "Third party", True),
        ("Fin", "Adult", "Other", "Direct payment", False),
        ("Ivy", "Adult", "Section 117 aftercare", "Third party", False),
    },
    YTD: {
        ("Alex Smith", "Adult", "Learning disability and/or autism", "Third party", False),
        ("Bea", "Child", "Children and young people's continuing care", "Direct payment", False),
        ("Cal", "Adult", "Mental health", "Notional", False),
        ("Dee", "Adult", "Mental health", "Third party", True),
        ("Eve", "Adult", "NHS Continuing Healthcare fast track (end of life)", "Notional", False),  # closed in August
        ("Fin", "Adult", "Other", "Direct payment", True),  # two budgets: notional to June, then a bigger direct payment
        ("Ivy", "Adult", "Section 117 aftercare", "Third party", False),
    },
}


# --- an independent count, from the raw rows -------------------------------------------------


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def oracle(session: Session, funder_id: int, quarter_end: date, year_start: date) -> dict[str, dict[int, tuple[str, str, str, bool]]]:
    """Measure → person id → (age group, eligibility group, option, more than one option),
    worked out in plain Python from every row of the tables concerned."""
    rows = lambda sql: session.execute(text(sql)).all()  # noqa: E731
    people = {pid: (_day(born), group) for pid, born, group in rows("SELECT id, date_of_birth, eligibility_group FROM person")}
    closed = {bid: _day(day) for bid, day in rows("SELECT budget_id, closed_on FROM budget_closure")}
    versions = [(vid, bid, _day(eff), num) for vid, bid, eff, num, status in rows("SELECT id, budget_id, effective_from, version, status FROM support_plan_version") if status == "agreed"]
    agreed_ids = {v[0] for v in versions}
    funded_versions = {vid for vid, f in rows("SELECT plan_version_id, funder_id FROM funding_line") if f == funder_id}
    with_line = {bid for vid, bid, _e, _n in versions if vid in funded_versions}
    option_of_part, options_of_budget = {}, {}
    for part_id, bid, option in rows("SELECT id, budget_id, management_option FROM budget_part"):
        option_of_part[part_id] = option
        options_of_budget.setdefault(bid, set()).add(option)
    versions_of: dict[int, list[tuple[date, int, int]]] = {}
    for vid, bid, eff, num in versions:
        versions_of.setdefault(bid, []).append((eff, num, vid))
    money: dict[int, Counter[str]] = {}
    for vid, part_id, pence in rows("SELECT plan_version_id, budget_part_id, amount_pence FROM plan_part_amount"):
        money.setdefault(vid, Counter())[option_of_part[part_id]] += pence
    found: dict[str, dict[int, tuple[str, str, str, bool]]] = {}
    for measure in (LIVE, YTD):
        chosen: dict[int, Counter[str]] = {}
        seen_options: dict[int, set[str]] = {}
        for bid, pid, lead, start, end in rows("SELECT id, person_id, lead_funder_id, period_start, period_end FROM budget"):
            if lead != funder_id and bid not in with_line:
                continue
            mine = sorted(versions_of.get(bid, []))
            if not mine:
                continue
            first_live = max(_day(start), mine[0][0])
            last_live = min(_day(end), closed[bid]) if bid in closed else _day(end)
            if measure == LIVE and not (first_live <= quarter_end <= last_live):
                continue
            if measure == YTD and not (first_live <= quarter_end and last_live >= year_start and first_live <= last_live):
                continue
            day = quarter_end if measure == LIVE else min(quarter_end, last_live)
            version = [vid for eff, _num, vid in mine if eff <= day][-1]
            assert version in agreed_ids
            chosen.setdefault(pid, Counter()).update(money.get(version, Counter()))
            seen_options.setdefault(pid, set()).update(options_of_budget[bid])
        counted = {}
        for pid, totals in chosen.items():
            paid = [o for o in OPTION_ORDER if totals[o] > 0]
            best = max(paid or sorted(seen_options[pid], key=OPTION_ORDER.index), key=lambda o: (totals[o], -OPTION_ORDER.index(o)))
            born, group = people[pid]
            age = quarter_end.year - born.year - ((quarter_end.month, quarter_end.day) < (born.month, born.day))
            child = age < 18
            label = "Children and young people's continuing care" if group == "continuing_healthcare" and child else GROUP_WORDS[group]
            counted[pid] = ("Child" if child else "Adult", label, OPTION_WORDS[best], len(paid) > 1)
        found[measure] = counted
    return found


def cells_of(document: Document) -> dict[str, Counter[tuple[str, str, str]]]:
    """Measure → (age, eligibility, option) → people, as the return table says."""
    block = document.table("return")
    found: dict[str, Counter[tuple[str, str, str]]] = {LIVE: Counter(), YTD: Counter()}
    for row in block.rows:
        values = dict(zip((c.key for c in block.columns), row, strict=True))
        found[str(values["measure"])][(str(values["age_group"]), str(values["eligibility_group"]), str(values["management_option"]))] += int(values["people"])  # type: ignore[arg-type]
    return found


def oracle_cells(expected: dict[int, tuple[str, str, str, bool]]) -> Counter[tuple[str, str, str]]:
    return Counter((age, group, option) for age, group, option, _mixed in expected.values())


def params(funder_id: int, quarter: str = QUARTER) -> ReportParams:
    return ReportParams(funder_id=funder_id, period=parse_period(quarter=quarter))


# --- tests on both databases ------------------------------------------------------------------


def test_the_return_counts_people_by_measure_age_eligibility_and_option(db: Database) -> None:
    with db.write() as session:
        icb_id = small_world(session)
    with db.read() as session:
        document = build(session, params(icb_id), now=NOW)
        names = dict(session.execute(select(Person.id, Person.name)).all())
        independent = oracle(session, icb_id, QUARTER_END, YEAR_START)
    for measure in (LIVE, YTD):
        assert {(names[p], *row) for p, row in independent[measure].items()} == EXPECTED[measure], measure
        assert cells_of(document)[measure] == oracle_cells(independent[measure]), measure
        assert sum(cells_of(document)[measure].values()) == len(EXPECTED[measure])
    assert document.fact("counts", "People live at the quarter's end") == 6
    assert document.fact("counts", "People in the year to date") == 7
    assert document.fact("counts", "People with more than one budget in the year to date") == 1
    assert document.fact("counts", "People with more than one management option in the year to date") == 2
    mixed = {(r[3], r[5], r[6]): r[8] for r in document.table("return").rows if r[8]}
    assert mixed == {(LIVE, "Mental health", "Third party"): 1, (YTD, "Mental health", "Third party"): 1, (YTD, "Other", "Direct payment"): 1}
    for key, measure in (("live", LIVE), ("year_to_date", YTD)):
        cross = document.table(key)
        assert cross.totals is not None and cross.totals[cross.column_index("all")] == len(EXPECTED[measure])
        assert sum(int(r[cross.column_index("all")]) for r in cross.rows) == len(EXPECTED[measure])  # type: ignore[arg-type]


def test_every_format_reads_back_to_the_same_counts(db: Database) -> None:
    with db.write() as session:
        icb_id = small_world(session)
    with db.read() as session:
        document = build(session, params(icb_id), now=NOW)
    expected = {measure: sum(cells_of(document)[measure].values()) for measure in (LIVE, YTD)}

    rows = list(csv.reader(io.StringIO(render(document, Format.CSV).content.decode("utf-8-sig"))))
    header = rows[0]
    assert header == ["ICB code", "ICB name", "Quarter", "Measure", "Age group", "Eligibility group", "Management option", "People", "Of whom more than one option"]
    assert len(rows) == 1 + 2 * 2 * 8 * 3 and {r[2] for r in rows[1:]} == {"2026-27 Q2"} and {r[0] for r in rows[1:]} == {"icb-devon"}
    by_measure = Counter()
    for row in rows[1:]:
        by_measure[row[3]] += int(row[7])
    assert dict(by_measure) == expected

    book = openpyxl.load_workbook(io.BytesIO(render(document, Format.XLSX).content))
    sheet = next(s for s in book.worksheets if s.cell(1, 1).value == "ICB code")
    from_xlsx = Counter()
    for row in sheet.iter_rows(min_row=2, values_only=True):
        if row[3] in expected:
            from_xlsx[row[3]] += int(row[7])
    assert dict(from_xlsx) == expected

    text_of_pdf = pdf_text(render(document, Format.PDF).content)
    assert re.search(r"People live at the quarter's end\s+6\b", text_of_pdf)
    assert re.search(r"People in the year to date\s+7\b", text_of_pdf)
    totals = [int(m[-2]) for m in re.findall(r"^\s*Total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", text_of_pdf, re.MULTILINE)]
    assert totals == [6, 7], totals


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode("utf-8")


def test_only_an_icb_makes_the_return_and_the_catalogue_builds_it(db: Database) -> None:
    with db.write() as session:
        icb_id = small_world(session)
        council_id = session.scalar(select(Funder.id).where(Funder.code == "plymouth-asc"))
    with db.read() as session:
        with pytest.raises(InvalidInput) as refused:
            build(session, params(council_id), now=NOW)  # type: ignore[arg-type]
        assert refused.value.code == "nhse_return_icb_only"
        document = report_kind("nhse-return").build(session, params(icb_id), now=NOW)
    assert document.primary_table == "return" and document.period == QUARTER and document.subject == "icb-devon"


def test_a_quarter_before_the_first_plan_counts_no_one(db: Database) -> None:
    with db.write() as session:
        icb_id = small_world(session)
    with db.read() as session:
        document = build(session, params(icb_id, "2024Q2"), now=NOW)
    assert document.fact("counts", "People in the year to date") == 0
    assert document.table("live").rows == () and document.table("live").totals is None
    assert len(document.table("return").rows) == 96 and not any(r[7] for r in document.table("return").rows)


# --- the demo, and a synthetic ICB of 2,500 budgets (SQLite) --------------------------------------


@pytest.fixture
def demo_database(report_demo: Database) -> Database:
    return report_demo


@pytest.mark.parametrize("quarter", ["2026Q1", "2026Q2"])
def test_the_demo_return_matches_an_independent_count(demo_database: Database, quarter: str) -> None:
    with demo_database.read() as session:
        devon = session.scalar(select(Funder.id).where(Funder.code == "devon-icb"))
        started = time.perf_counter()
        document = build(session, params(devon, quarter), now=NOW)  # type: ignore[arg-type]
        took = time.perf_counter() - started
        period = parse_period(quarter=quarter)
        assert period is not None
        independent = oracle(session, devon, period.ends_on, date(2026, 4, 1))  # type: ignore[arg-type]
    assert took < 5
    for measure in (LIVE, YTD):
        assert cells_of(document)[measure] == oracle_cells(independent[measure])
    live = independent[LIVE]
    assert sum(1 for age, *_ in live.values() if age == "Child") == 3  # MA-0016, DP-0001, DP-0004
    assert any(mixed for *_, mixed in live.values())  # MA-0006: a direct payment with a notional part
    assert sum(cells_of(document)[LIVE].values()) == len(live) > 25


def test_a_synthetic_icb_of_2500_budgets_is_counted_in_under_five_seconds(sqlite_template: SqliteTemplate, tmp_path: Path) -> None:
    database = Database(sqlite_template.copy_to(tmp_path / "many.db"))
    try:
        with database.write() as session:
            icb_id = bulk_budgets(session, 2_500)
        with database.read() as session:
            started = time.perf_counter()
            document = build(session, params(icb_id), now=NOW)
            took = time.perf_counter() - started
            independent = oracle(session, icb_id, QUARTER_END, YEAR_START)
        assert took < 5, f"the return took {took:.2f} s"
        for measure in (LIVE, YTD):
            assert cells_of(document)[measure] == oracle_cells(independent[measure])
        assert document.fact("counts", "People in the year to date") == 2_500 - 2_500 // 10
    finally:
        database.dispose()


def bulk_budgets(session: Session, count: int) -> int:
    """``count`` budgets of one ICB written straight into the tables (budgets, people, parts,
    agreed plans): every fifth mixes a direct payment into a third-party budget, every tenth
    starts after the quarter, every seventh person is a child."""
    icb = parties.create_funder(session, parties.FunderSpec("icb-many", "NHS Many ICB", "icb"))
    holder = parties.create_holder(session, parties.HolderSpec("many", "Many Budgets Ltd", "isf_provider"))
    groups = list(GROUP_WORDS)
    created = datetime(2026, 3, 1)
    base = 100_000
    people, budget_rows, parts, versions, lines, amounts = [], [], [], [], [], []
    for n in range(count):
        pid = vid = bid = base + n
        born = date(2012, 1, 1) if n % 7 == 0 else date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
        people.append({"id": pid, "name": f"Person {n}", "date_of_birth": born, "eligibility_group": groups[n % len(groups)], "created_at": created})
        starts = date(2026, 10, 1) if n % 10 == 0 else date(2026, 4, 1)
        budget_rows.append({"id": bid, "reference": f"B-{n:05d}", "holder_id": holder.id, "person_id": pid, "lead_funder_id": icb.id,
                            "period_start": starts, "period_end": date(starts.year + 1, starts.month, 1), "status": "open", "created_at": created})  # fmt: skip
        split = [("third_party", "prepaid_card", 700_000), ("direct_payment", "bank_account", 300_000)] if n % 5 == 0 else [(OPTION_ORDER[n % 3], "none" if n % 3 == 0 else "bank_account", 1_000_000)]
        versions.append({"id": vid, "budget_id": bid, "version": 1, "status": "agreed", "effective_from": starts, "total_pence": 1_000_000,
                         "contingency_pence": 0, "top_slice_pence": 0, "created_at": created})  # fmt: skip
        lines.append({"plan_version_id": vid, "funder_id": icb.id, "amount_pence": 1_000_000, "client_contribution_pence": 0})
        for index, (option, holding, pence) in enumerate(split):
            part_id = base * 10 + n * 2 + index
            parts.append({"id": part_id, "budget_id": bid, "management_option": option, "holding": holding, "cadence": "weekly", "timing": "in_advance", "initial_float_weeks": 0})
            amounts.append({"plan_version_id": vid, "budget_part_id": part_id, "amount_pence": pence})
    for table, rows in ((Person, people), (Budget, budget_rows), (BudgetPart, parts), (SupportPlanVersion, versions), (FundingLine, lines), (PlanPartAmount, amounts)):
        session.execute(insert(table), rows)
    assert icb.id is not None
    return icb.id
