"""The funder views (``reports.funder_views``): the monthly funder tracker, the holder summary
and the funder summary.

A small world on both databases — a jointly funded ISF with a client contribution, one the
ICB funds alone and one the council funds alone — checks the money rules against figures
recomputed here from the raw postings (SQL over ``posting`` and ``account``, not the code
under test): each funder sees only its share of a jointly funded budget and the shares add
up to the whole; totals tie back; exceptions come first; a funder sees nothing of a budget
it does not fund; "spent in month" is the month's spend postings. The demo (loaded once,
SQLite) checks every budget's shares against ``ledger.position.figures.budget_position`` and that
every format reads back to the same totals. A property test checks the split on its own.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.budgets import parties, plans
from ledger.budgets.parties import funder_by_code, holder_by_code
from ledger.core.accounts import account_ids_by_code
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal import post_entry
from ledger.core.money import split_pence
from ledger.position.figures import budget_position
from ledger.store.database import Database
from ledger.store.tables import Budget, Funder, Holder
from ledger.store.tables.flags import Flag
from reports.catalogue import report_kind
from reports.document import Document, Table, to_json
from reports.funder_view_reads import Share, split_shares
from reports.params import ReportParams, parse_period
from reports.render import render
from tests.support.builders import AGREED_AT, PLAN_START, make_budget, make_person

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
MAY = parse_period(month="2026-05")
MONEY_COLUMNS = ("allocated", "received", "spent_in_period", "spent", "left")


@dataclass
class World:
    icb: Funder
    council: Funder
    cornwall: Funder
    holder: Holder
    solo: Budget
    """ISF-0001: the ICB alone; nothing wrong with it in May."""
    joint: Budget
    """ISF-0002: ICB £30,000, council £22,000 of which the person pays £2,000; contingency used in May."""
    council_only: Budget
    """ISF-0003: the council alone."""


def make_world(session: Session) -> World:
    icb = parties.create_funder(session, parties.FunderSpec("icb-devon", "NHS Devon ICB", "icb"))
    council = parties.create_funder(session, parties.FunderSpec("plymouth-asc", "Plymouth City Council", "council_adult_social_care"))
    cornwall = parties.create_funder(session, parties.FunderSpec("icb-kernow", "NHS Cornwall ICB", "icb"))
    holder = parties.create_holder(session, parties.HolderSpec("sunrise", "Sunrise Support", "isf_provider"))
    solo = _budget(session, holder, icb, "ISF-0001", [(icb, 1_000_000, 0)])
    joint = _budget(session, holder, icb, "ISF-0002", [(icb, 3_000_000, 0), (council, 2_200_000, 200_000)])
    council_only = _budget(session, holder, council, "ISF-0003", [(council, 800_000, 0)], person="Carys Only")
    return World(icb, council, cornwall, holder, solo, joint, council_only)


def _budget(session: Session, holder: Holder, lead: Funder, reference: str, funding: list[tuple[Funder, int, int]], *, person: str | None = None) -> Budget:
    budget = make_budget(session, holder, make_person(session, person or f"Person {reference}"), lead, reference=reference)
    total = sum(amount for _funder, amount, _contribution in funding)
    contingency = total // 50
    version = plans.create_draft(session, budget.id, plans.PlanVersionSpec(
        effective_from=PLAN_START, total_pence=total, contingency_pence=contingency,
        funding_lines=[plans.FundingLineSpec(f.id, amount, contribution) for f, amount, contribution in funding],
        lines=[plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=total - contingency - 52_000),
               plans.PlanLineSpec("activities", "Swimming", "recurring", annual_amount_pence=52_000)],
    ))  # fmt: skip
    plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)
    return budget


def post(session: Session, world: World, budget: Budget, key: str, day: date, kind: str, *pairs: tuple[str, int]) -> None:
    codes = [f"{budget.reference}:{suffix}" for suffix, _ in pairs]
    ids = account_ids_by_code(session, codes)
    result = post_entry(session, NewEntry(
        book_id=world.holder.id, entry_date=day, description=key, idempotency_key=f"{budget.reference}:{key}",
        postings=tuple(NewPosting(ids[code], pence) for code, (_, pence) in zip(codes, pairs, strict=True)), kind=kind, created_by="test",
    ))  # fmt: skip
    assert result.outcome is PostOutcome.CREATED


def post_april_and_may(session: Session, world: World) -> None:
    solo, joint, council_only = world.solo, world.joint, world.council_only
    post(session, world, solo, "icb-april", date(2026, 4, 1), "funder_payment", ("cash", 50_000), ("receivable:icb-devon", -50_000))
    post(session, world, solo, "wages-april", date(2026, 4, 28), "payable_approved", ("spend:staff_pay", 12_345), ("payable", -12_345))
    post(session, world, solo, "wages-may", date(2026, 5, 28), "payable_approved", ("spend:staff_pay", 17_001), ("payable", -17_001))
    post(session, world, solo, "wages-paid", date(2026, 5, 30), "payable_paid", ("payable", 12_345), ("cash", -12_345))
    post(session, world, joint, "icb-april", date(2026, 4, 1), "funder_payment", ("cash", 150_000), ("receivable:icb-devon", -150_000))
    post(session, world, joint, "council-april", date(2026, 4, 2), "funder_payment", ("cash", 100_000), ("receivable:plymouth-asc", -100_000))
    post(session, world, joint, "contribution", date(2026, 4, 10), "contribution_received", ("cash", 10_000), ("receivable:contribution", -10_000))
    post(session, world, joint, "ring-fence", date(2026, 4, 1), "contingency_ring_fence", ("contingency", 104_000), ("cash", -104_000))
    post(session, world, joint, "load-april", date(2026, 4, 27), "drawdown", ("card", 90_001), ("cash", -90_001))
    post(session, world, joint, "swim-april", date(2026, 4, 30), "card_purchase", ("spend:activities", 4_999), ("card", -4_999))
    post(session, world, joint, "swim-may", date(2026, 5, 1), "card_purchase", ("spend:activities", 3_337), ("card", -3_337))
    post(session, world, joint, "fee-may", date(2026, 5, 1), "fee", ("fees", 3), ("card", -3))
    post(session, world, joint, "boiler", date(2026, 5, 12), "contingency_use", ("spend:equipment", 20_001), ("contingency", -20_001))
    post(session, world, joint, "june", date(2026, 6, 2), "card_purchase", ("spend:activities", 777), ("card", -777))
    post(session, world, council_only, "council", date(2026, 5, 3), "funder_payment", ("cash", 20_000), ("receivable:plymouth-asc", -20_000))
    post(session, world, council_only, "spend", date(2026, 5, 4), "card_purchase", ("spend:activities", 1_111), ("cash", -1_111))
    session.add(Flag(
        cause_key="test:joint:may", holder_id=world.holder.id, budget_id=joint.id, funder_id=world.icb.id, code="LARGE_SPEND",
        severity="info", rule_id="test", rule_version="1", reason="A large purchase", amount_pence=20_001, occurred_on=date(2026, 5, 12),
    ))  # fmt: skip


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        made = make_world(session)
        post_april_and_may(session, made)
    return made


def build(session: Session, kind: str, *, funder: Funder | None = None, holder: Holder | None = None, month: str | None = None, quarter: str | None = None) -> Document:
    params = ReportParams(funder_id=funder.id if funder else None, holder_id=holder.id if holder else None, period=parse_period(month=month, quarter=quarter))
    return report_kind(kind).build(session, params, now=NOW, cache={})


def rows_by_reference(document: Document, key: str) -> dict[str, dict[str, object]]:
    block = document.table(key)
    return {row[block.column_index("reference")]: dict(zip((c.key for c in block.columns), row, strict=True)) for row in block.rows}  # type: ignore[misc]


def totals(block: Table) -> dict[str, object]:
    assert block.totals is not None
    return dict(zip((c.key for c in block.columns), block.totals, strict=True))


# --- figures recomputed from raw postings --------------------------------------------------------

RAW_SUM = """
    SELECT COALESCE(SUM(p.amount_pence), 0) FROM posting p JOIN account a ON a.id = p.account_id
    WHERE a.budget_id = :budget AND a.kind = :kind AND p.entry_date BETWEEN :start AND :end {extra}
"""


def raw(session: Session, budget: Budget, kind: str, *, start: date = date(2000, 1, 1), end: date = MAY.ends_on, funder: Funder | None = None) -> int:
    """Debit-positive sum of a budget's postings on accounts of ``kind`` (one funder's, when named)."""
    extra = "AND a.funder_id = :funder" if funder is not None else ""
    params = {"budget": budget.id, "kind": kind, "start": start, "end": end} | ({"funder": funder.id} if funder else {})
    return int(session.execute(text(RAW_SUM.format(extra=extra)), params).scalar_one())


def raw_money_left(session: Session, budget: Budget) -> int:
    return -raw(session, budget, "allocation") - sum(raw(session, budget, kind) for kind in ("spend", "fees", "top_slice", "returned"))


# --- the small world, both databases -----------------------------------------------------------------


def test_a_jointly_funded_budget_shows_each_funder_its_share_and_the_shares_add_up(db: Database, world: World) -> None:
    with db.read() as session:
        trackers = {f.code: build(session, "funder-tracker", funder=f, month="2026-05") for f in (world.icb, world.council)}
        position = budget_position(session, world.joint.id, as_of=MAY.ends_on)
        holder = build(session, "holder-summary", holder=world.holder, month="2026-05")
        whole_left = raw_money_left(session, world.joint)
        may = {kind: raw_by_account(session, world.joint, kind, start=MAY.starts_on) for kind in ("spend", "contingency")}
    money = {code: rows_by_reference(doc, "money")["ISF-0002"] for code, doc in trackers.items()}
    held = {code: rows_by_reference(doc, "held")["ISF-0002"] for code, doc in trackers.items()}
    person = next(share.figures for share in position.shares if share.funder_id is None)
    # Each funder's own allocation (the council's net of the person's contribution), and what it paid.
    assert (money["icb-devon"]["allocated"], money["plymouth-asc"]["allocated"], person.allocated_pence) == (3_000_000, 2_000_000, 200_000)
    assert (money["icb-devon"]["received"], money["plymouth-asc"]["received"], person.received_pence) == (150_000, 100_000, 10_000)
    # May's spend and contingency use, account by account, split 30 : 20 : 2 by the one split rule.
    weights = [3_000_000, 2_000_000, 200_000]
    for index, code in enumerate(("icb-devon", "plymouth-asc")):
        assert money[code]["spent_in_period"] == sum(split_pence(pence, weights)[index] for pence in may["spend"])
        assert held[code]["contingency_used"] == sum(split_pence(-pence, weights)[index] for pence in may["contingency"])
    assert sum(may["spend"]) == 3_337 + 20_001 and sum(may["contingency"]) == -20_001
    # Every figure is the ledger's own share, and the shares add up to the whole.
    for code, funder in (("icb-devon", world.icb), ("plymouth-asc", world.council)):
        share = next(s.figures for s in position.shares if s.funder_id == funder.id)
        assert (money[code]["allocated"], money[code]["received"], money[code]["spent"], money[code]["left"]) == (
            share.allocated_pence, share.received_pence, share.spent_pence, share.money_left_pence)
        assert (held[code]["held"], held[code]["card"], held[code]["committed"], held[code]["contingency_left"]) == (
            share.held_pence, share.card_pence, share.committed_pence, share.contingency_left_pence)
    assert money["icb-devon"]["left"] + money["plymouth-asc"]["left"] + person.money_left_pence == whole_left  # type: ignore[operator]
    assert held["icb-devon"]["held"] + held["plymouth-asc"]["held"] + person.held_pence == position.figures.held_pence  # type: ignore[operator]
    # The holder summary puts each funder's share of the money left in a column of its own.
    shares = rows_by_reference(holder, "shares")
    joint = shares["ISF-0002"]
    assert joint["left"] == whole_left == sum(v for k, v in joint.items() if k.startswith("funder_"))  # type: ignore[misc]
    assert (joint[f"funder_{world.icb.id}"], joint[f"funder_{world.council.id}"], joint["funder_person"]) == (
        money["icb-devon"]["left"], money["plymouth-asc"]["left"], person.money_left_pence)
    assert shares["ISF-0001"][f"funder_{world.council.id}"] is None and shares["ISF-0001"]["funder_person"] is None
    joint_note = rows_by_reference(trackers["icb-devon"], "joint")["ISF-0002"]
    assert joint_note["share"] == 5769 and joint_note["others"] == "Plymouth City Council, the person's client contribution"  # 30 / 52


RAW_BY_ACCOUNT = """
    SELECT SUM(p.amount_pence) FROM posting p JOIN account a ON a.id = p.account_id
    WHERE a.budget_id = :budget AND a.kind = :kind AND p.entry_date BETWEEN :start AND :end GROUP BY a.id ORDER BY a.id
"""


def raw_by_account(session: Session, budget: Budget, kind: str, *, start: date, end: date = MAY.ends_on) -> list[int]:
    rows = session.execute(text(RAW_BY_ACCOUNT), {"budget": budget.id, "kind": kind, "start": start, "end": end}).scalars()
    return [int(total) for total in rows]


def test_totals_tie_back_to_the_raw_postings(db: Database, world: World) -> None:
    with db.read() as session:
        tracker = build(session, "funder-tracker", funder=world.icb, month="2026-05")
        summary = build(session, "funder-summary", funder=world.icb, month="2026-05")
        holder = build(session, "holder-summary", holder=world.holder, month="2026-05")
        budgets = (world.solo, world.joint)
        allocated = -sum(raw(session, b, "allocation", funder=world.icb) for b in budgets)
        received = -sum(raw(session, b, "receivable", funder=world.icb) for b in budgets) + allocated
        owed = sum(raw(session, b, "receivable", funder=world.icb) for b in budgets)
        all_three = (world.solo, world.joint, world.council_only)
        holder_raw = {
            "allocated": -sum(raw(session, b, "allocation") for b in all_three), "spent": sum(raw(session, b, "spend") for b in all_three),
            "left": sum(raw_money_left(session, b) for b in all_three), "held": sum(raw(session, b, "cash") for b in all_three),
            "card": sum(raw(session, b, "card") for b in all_three), "committed": -sum(raw(session, b, "payable") for b in all_three),
            "contingency_left": sum(raw(session, b, "contingency") for b in all_three),
        }  # fmt: skip
    assert allocated == 4_000_000 and received == 200_000
    for document in (tracker, summary):
        table_totals = totals(document.table("money" if document is tracker else "budgets"))
        assert (table_totals["allocated"], table_totals["received"]) == (allocated, received)
        assert document.fact("ledger_totals", "Allocated") == allocated
        assert document.fact("ledger_totals", "Received") == received
        assert document.fact("ledger_totals", "Still to come") == owed
        assert all("differ" not in (fact.note or "") for fact in document.facts("ledger_totals").facts)
    money, held = totals(holder.table("money")), totals(holder.table("held"))
    table_side = {"allocated": money["allocated"], "spent": money["spent"], "left": money["left"], "held": held["held"], "card": held["card"],
                  "committed": held["committed"], "contingency_left": held["contingency_left"]}  # fmt: skip
    assert table_side == holder_raw
    labels = {"allocated": "Allocated", "spent": "Spent to date", "left": "Money left", "held": "Held", "card": "Card", "committed": "Committed", "contingency_left": "Contingency left"}
    assert {key: holder.fact("ledger_totals", label) for key, label in labels.items()} == holder_raw
    assert totals(holder.table("shares"))["left"] == holder_raw["left"]


def test_exceptions_come_first(db: Database, world: World) -> None:
    with db.read() as session:
        tracker = build(session, "funder-tracker", funder=world.icb, month="2026-05")
        holder = build(session, "holder-summary", holder=world.holder, month="2026-05")
        summary = build(session, "funder-summary", funder=world.icb, month="2026-05")
    for document, key in ((tracker, "money"), (tracker, "held"), (holder, "money"), (holder, "held"), (summary, "budgets")):
        block = document.table(key)
        assert block.values("reference")[0] == "ISF-0002", key  # contingency used in May and an open flag
        assert block.row_marks[0] == "exception" and block.row_marks[-1] is None
    assert holder.table("money").values("reference") == ["ISF-0002", "ISF-0001", "ISF-0003"]
    (why,) = tracker.table("attention").values("why")
    assert why == "1 open flag; £200.01 of contingency used"
    assert tracker.summary[0] == "2 people; 1 needs attention: ISF-0002."
    status = rows_by_reference(tracker, "held")
    assert (status["ISF-0002"]["open_flags"], status["ISF-0002"]["new_flags"]) == (1, 1)
    assert status["ISF-0001"]["review"] == "Due 1 July 2026 (plan)"


def test_a_funder_sees_nothing_of_budgets_it_does_not_fund(db: Database, world: World) -> None:
    with db.read() as session:
        icb = [build(session, "funder-tracker", funder=world.icb, month="2026-05"), build(session, "funder-summary", funder=world.icb, quarter="2026Q1")]
        cornwall = build(session, "funder-tracker", funder=world.cornwall, month="2026-05")
        council = build(session, "funder-tracker", funder=world.council, month="2026-05")
    for document in icb:
        text_of = to_json(document)
        assert "ISF-0003" not in text_of and "Carys Only" not in text_of
    assert cornwall.table("money").rows == () and cornwall.table("money").totals is None
    assert set(council.table("money").values("reference")) == {"ISF-0002", "ISF-0003"}


def test_spent_in_the_month_is_the_months_spend_postings(db: Database, world: World) -> None:
    with db.read() as session:
        tracker = build(session, "funder-tracker", funder=world.icb, month="2026-05")
        rows = rows_by_reference(tracker, "money")
        solo_may = raw(session, world.solo, "spend", start=MAY.starts_on)
        joint_may = raw(session, world.joint, "spend", start=MAY.starts_on)
        holder = rows_by_reference(build(session, "holder-summary", holder=world.holder, month="2026-05"), "money")
    assert rows["ISF-0001"]["spent_in_period"] == solo_may == 17_001
    assert holder["ISF-0002"]["spent_in_period"] == joint_may == 3_337 + 20_001
    assert rows["ISF-0002"]["spent_in_period"] == sum(split_pence(pence, [3_000_000, 2_000_000, 200_000])[0] for pence in (3_337, 20_001))


def test_a_month_with_no_budgets_gives_an_empty_table(db: Database, world: World) -> None:
    with db.read() as session:
        document = build(session, "funder-tracker", funder=world.icb, month="2025-01")
        summary = build(session, "funder-summary", funder=world.icb, month="2025-01")
        holder = build(session, "holder-summary", holder=world.holder, month="2025-01")
    for doc in (document, summary, holder):
        assert doc.table("money" if doc is not summary else "budgets").rows == ()
        assert doc.summary == (f"{doc.organisation} {'holds' if doc is holder else 'funds'} no budget whose plan runs in January 2025.",)
        for fmt in ("html", "csv", "xlsx") + (("pdf",) if doc is document else ()):
            assert render(doc, fmt).content
    assert document.fact("ledger_totals", "Allocated") == 0


# --- the split on its own: a property ------------------------------------------------------------------

_KINDS = ("cash", "card", "payable", "contingency", "spend", "fees", "top_slice")


@settings(max_examples=150, deadline=None)
@given(
    allocations=st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=4),
    shared=st.lists(st.tuples(st.sampled_from(_KINDS), st.integers(-5_000_000, 5_000_000), st.integers(-500_000, 500_000)), max_size=12),
)
def test_the_shares_of_every_figure_add_up_to_the_whole(allocations: list[int], shared: list[tuple[str, int, int]]) -> None:
    accounts, sums = [], {}
    for index, amount in enumerate(allocations):
        funder = None if index == 3 else index + 1  # the fourth is the person's contribution
        accounts.append((index + 1, f"B:allocation:{index}", "allocation", "fund", 1, funder, funder is None, None))
        sums[index + 1] = (amount, 0)
    for offset, (kind, closing, moved) in enumerate(shared):
        account_id = 100 + offset
        accounts.append((account_id, f"B:{kind}:{offset}", kind, "asset", 1, None, False, None))
        sums[account_id] = (closing, moved)
    used = {100 + i: moved for i, (kind, _c, moved) in enumerate(shared) if kind == "contingency"}
    shares = split_shares(accounts, sums, {}, used, lead_funder_id=1)
    whole = {kind: sum(c for k, c, _m in shared if k == kind) for kind in _KINDS}
    fields = {"cash": "held_pence", "card": "card_pence", "payable": "committed_pence", "contingency": "contingency_left_pence",
              "spend": "spent_pence", "fees": "fees_pence", "top_slice": "top_slice_pence"}  # fmt: skip
    for kind, name in fields.items():
        assert sum(getattr(s, name) for s in shares.values()) == whole[kind]
    assert sum(s.spent_in_period_pence for s in shares.values()) == sum(m for k, _c, m in shared if k == "spend")
    assert sum(s.contingency_used_in_period_pence for s in shares.values()) == sum(used.values())
    assert sum(s.allocated_pence for s in shares.values()) == sum(allocations)
    for index, amount in enumerate(allocations):  # a funder allocating nothing gets nothing of what is shared
        key = None if index == 3 else index + 1
        if amount == 0 and any(allocations):
            assert shares.get(key, Share()).held_pence == 0
    if not any(allocations):  # before anything is allocated, the lead funder holds the whole
        assert shares[1].held_pence == whole["cash"]


# --- the demo: realism, every budget against the ledger's own position, every format --------------------

DEMO_TODAY = date(2026, 11, 24)
DEMO_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def demo(report_demo: Database) -> Database:
    return report_demo


def demo_document(demo: Database, kind: str, **subject: str) -> Document:
    with demo.read() as session:
        funder = funder_by_code(session, subject["funder"]) if "funder" in subject else None
        holder = holder_by_code(session, subject["holder"]) if "holder" in subject else None
        params = ReportParams(funder_id=funder.id if funder else None, holder_id=holder.id if holder else None,
                              period=parse_period(month=subject.get("month"), quarter=subject.get("quarter")))  # fmt: skip
        return report_kind(kind).build(session, params, now=DEMO_NOW, cache={})


def test_every_demo_budget_shows_each_funder_the_ledgers_own_share(demo: Database) -> None:
    october_end = date(2026, 10, 31)
    with demo.read() as session:
        funders = {funder.code: funder.id for funder in parties.list_funders(session)}
        seen = 0
        for code, funder_id in funders.items():
            document = demo_document(demo, "funder-tracker", funder=code, month="2026-10")
            money, held = rows_by_reference(document, "money"), rows_by_reference(document, "held")
            for reference, row in money.items():
                budget_id = session.execute(text("SELECT id FROM budget WHERE reference = :r"), {"r": reference}).scalar_one()
                position = budget_position(session, budget_id, as_of=october_end)
                share = next(s.figures for s in position.shares if s.funder_id == funder_id)
                assert (row["allocated"], row["received"], row["spent"], row["left"]) == (
                    share.allocated_pence, share.received_pence, share.spent_pence, share.money_left_pence), (code, reference)
                assert (held[reference]["held"], held[reference]["card"], held[reference]["contingency_left"], held[reference]["weeks"]) == (
                    share.held_pence, share.card_pence, share.contingency_left_pence, position.figures.weeks_held_tenths), (code, reference)
                seen += 1
            assert all("differ" not in (fact.note or "") for fact in document.facts("ledger_totals").facts)
    assert seen == 40 + 3  # three budgets are jointly funded: each shows in two trackers


def test_the_demo_holder_summaries_tie_back_and_split_the_money_left(demo: Database) -> None:
    with demo.read() as session:
        codes = [holder.code for holder in parties.list_holders(session)]
    for code in codes:
        document = demo_document(demo, "holder-summary", holder=code, quarter="2026Q2")
        assert all("differ" not in (fact.note or "") for fact in document.facts("ledger_totals").facts), code
        for row in rows_by_reference(document, "shares").values():
            assert row["left"] == sum(v or 0 for k, v in row.items() if k.startswith("funder_")), (code, row)  # type: ignore[misc]


def pence(text_value: str) -> int:
    """"£1,234.56", "1234.56" or "-£3.00" as pence, without a float."""
    cleaned = text_value.replace("£", "").replace(",", "").strip()
    return int(Decimal(cleaned) * 100)


def test_each_format_of_the_demo_tracker_reads_back_to_the_same_totals(demo: Database, tmp_path: Path) -> None:
    document = demo_document(demo, "funder-tracker", funder="devon-icb", month="2026-10")
    money = document.table("money")
    expected = [money.totals[money.column_index(key)] for key in MONEY_COLUMNS]  # type: ignore[index]
    assert expected[0] == document.fact("ledger_totals", "Allocated")
    # CSV: the table under its heading, the totals its last row.
    rows = list(csv.reader(io.StringIO(render(document, "csv").content.decode("utf-8-sig"))))
    start = next(i for i, row in enumerate(rows) if row and row[0].startswith("Money position: "))
    end = next(i for i in range(start + 1, len(rows)) if not rows[i])
    assert [pence(cell) for cell in rows[end - 1][-len(MONEY_COLUMNS):]] == expected and rows[end - 1][0] == "Total"
    # XLSX: the table's own sheet, the totals its last row.
    book = openpyxl.load_workbook(io.BytesIO(render(document, "xlsx").content), read_only=True)
    sheet = next(s for s in book.worksheets if _has_header(s))
    last = [r for r in sheet.iter_rows(values_only=True) if r and r[0] == "Total"][-1]
    assert [int(Decimal(str(v)) * 100) for v in last[-len(MONEY_COLUMNS):]] == expected
    # HTML: the table's totals row.
    html = render(document, "html").content.decode("utf-8")
    totals_row = re.search(r'id="table-money".*?class="[^"]*report-row--totals[^"]*">(.*?)</tr>', html, re.S)
    assert totals_row is not None
    assert [pence(v) for v in re.findall(r">(-?£[\d,]+\.\d\d)<", totals_row.group(1))] == expected
    # PDF: the money table's totals line, as pdftotext lays it out.
    pdf = tmp_path / "tracker.pdf"
    pdf.write_bytes(render(document, "pdf").content)
    laid_out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    totals_lines = [line.split() for line in laid_out.splitlines() if line.strip().startswith("Total")]
    money_lines = [[pence(v) for v in line[1:]] for line in totals_lines if len(line) == 1 + len(MONEY_COLUMNS)]
    assert expected in money_lines


def _has_header(sheet) -> bool:  # type: ignore[no-untyped-def]
    return any(r and r[:5] == ("Ref", "Person", "Holder", "Option", "Allocated") for r in sheet.iter_rows(values_only=True))
