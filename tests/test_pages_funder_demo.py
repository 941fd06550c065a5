"""The funder's pages on a copy of the demo, as its two auditors: NHS Devon ICB's
(finance@devon-icb.example) sees every budget the ICB funds, exceptions first, in a handful
of queries; Plymouth City Council's (audit@plymouth.example) sees only the two budgets the
council co-funds, each in the council's share (the figures of ``budget_position(...).shares``),
and nothing of any other budget. "Today" is the demo's, 24 November 2026."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledger.access.visibility import funded_budget_ids
from ledger.budgets.budget import budget_by_reference
from ledger.demo.users import DEMO_PASSWORD
from ledger.position.figures import budget_position
from ledger.store.database import Database
from ledger.store.tables import Budget, Funder
from ledger.store.tables.access import AccessRecord
from ledger.store.tables.flags import Flag
from tests.conftest import REPORT_DEMO_TODAY
from tests.test_pages_funder import csrf_of, figures_on, section
from web.app import create_app
from web.pages import funder_budgets, funder_flags, funder_pages, funder_reports

ICB = "finance@devon-icb.example"
COUNCIL = "audit@plymouth.example"
COUNCIL_BUDGETS = ("ISF-0002", "MA-0009")


@pytest.fixture(scope="module")
def demo_copy(report_demo: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A copy of the read-only demo: signing in and downloading write to it."""
    source = report_demo.url.removeprefix("sqlite:///")
    target = tmp_path_factory.mktemp("funder-pages") / "demo.db"
    report_demo.dispose()
    shutil.copyfile(source, target)
    database = Database(f"sqlite:///{target}")
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def demo_today(monkeypatch: pytest.MonkeyPatch) -> date:
    for module in (funder_pages, funder_budgets, funder_flags, funder_reports):
        monkeypatch.setattr(module, "today_in_england", lambda: REPORT_DEMO_TODAY)
    return REPORT_DEMO_TODAY


def signed_in(database: Database, username: str) -> TestClient:
    client = TestClient(create_app(database, migrate_on_start=False), base_url="https://testserver")
    form = client.get("/sign-in")
    answer = client.post("/sign-in", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf_of(form.text), "next": ""})
    assert answer.status_code == 200 and answer.url.path == "/funder", answer.text[:300]
    return client


def _funder_id(database: Database, code: str) -> int:
    with database.read() as session:
        return session.scalar(select(Funder.id).where(Funder.code == code))  # type: ignore[return-value]


def test_the_icbs_auditor_sees_every_exception_across_its_holders(demo_copy: Database) -> None:
    client = signed_in(demo_copy, ICB)
    html = client.get("/funder").text
    icb = _funder_id(demo_copy, "devon-icb")
    with demo_copy.read() as session:
        scope = funded_budget_ids(icb)
        open_flags = session.scalar(select(func.count(Flag.id)).where(Flag.budget_id.in_(scope), Flag.state == "open"))
        holders = set(session.scalars(select(Budget.holder_id).where(Budget.id.in_(scope))))
        funded = session.scalar(select(func.count()).select_from(scope.subquery()))
    assert re.search(rf'Open flags</a></h2>\s*<p class="nhsuk-card__description"><span class="app-big-number">{open_flags}<', html)
    assert len(holders) > 3, "the ICB funds budgets at several holders"
    assert "Moorview Direct Payment Support" in section(html, "flags") and "Tamar Valley" in section(html, "reviews")
    surplus = section(html, "surplus")
    assert "Act: over" in surplus or "Warning: over" in surplus
    every = client.get("/funder/budgets", params={"scope": "all"}).text
    assert f"of {funded:,} budgets" in every
    marks = re.findall(r'app-funder-tag-small">(Attention)</strong>|<span class="nhsuk-body-s">(Nothing)</span>', every)
    order = ["attention" if attention else "nothing" for attention, _ in marks]
    assert "attention" in order and "nothing" in order and order == sorted(order), "budgets needing attention come first"


def test_the_council_sees_its_share_of_the_two_budgets_it_co_funds_and_nothing_else(demo_copy: Database) -> None:
    client = signed_in(demo_copy, COUNCIL)
    council = _funder_id(demo_copy, "plymouth-asc")
    listed = client.get("/funder/budgets", params={"scope": "all"}).text
    assert set(re.findall(r">((?:ISF|MA|DP|NOT)-\d{4})</a>", listed)) == set(COUNCIL_BUDGETS)
    with demo_copy.read() as session:
        budgets = {reference: budget_by_reference(session, reference).id for reference in (*COUNCIL_BUDGETS, "ISF-0001", "DP-0003")}
        positions = {reference: budget_position(session, budgets[reference]) for reference in COUNCIL_BUDGETS}
        other_flag = session.scalar(select(Flag.id).where(Flag.budget_id == budgets["DP-0003"]).limit(1))
    for reference in COUNCIL_BUDGETS:
        page = client.get(f"/funder/budgets/{budgets[reference]}")
        assert page.status_code == 200, reference
        share = next(s.figures for s in positions[reference].shares if s.funder_id == council)
        shown = figures_on(page.text)
        for label, pence in (("Allocated", share.allocated_pence), ("Received", share.received_pence), ("Held funds", share.held_pence),
                             ("On the card", share.card_pence), ("Committed", share.committed_pence), ("Spent", share.spent_pence),
                             ("Fees", share.fees_pence), ("Money left", share.money_left_pence), ("Contingency left", share.contingency_left_pence)):  # fmt: skip
            assert shown[label] == pence, (reference, label)
        assert share.allocated_pence < positions[reference].figures.allocated_pence, "a share, not the whole"
    for path in (f"/funder/budgets/{budgets['ISF-0001']}", f"/funder/budgets/{budgets['DP-0003']}", f"/funder/flags/{other_flag}"):
        assert client.get(path).status_code == 404, path
    for path in ("/funder", "/funder/flags", "/funder/tracker?month=2026-10", "/funder/downloads"):
        text = client.get(path).text
        assert not set(re.findall(r"(?:ISF|MA|DP|NOT)-\d{4}", text)) - set(COUNCIL_BUDGETS), path


def test_the_councils_tracker_download_is_recorded_against_its_two_budgets(demo_copy: Database) -> None:
    client = signed_in(demo_copy, COUNCIL)
    with demo_copy.read() as session:
        before = session.scalar(select(func.max(AccessRecord.id))) or 0
        ids = {budget_by_reference(session, reference).id for reference in COUNCIL_BUDGETS}
    answer = client.get("/funder/downloads/funder-tracker", params={"period": "2026-10", "format": "xlsx"})
    assert answer.status_code == 200 and answer.content[:2] == b"PK"
    with demo_copy.read() as session:
        records = list(session.scalars(select(AccessRecord).where(AccessRecord.id > before)))
    assert {r.budget_id for r in records} == ids and all(r.action == "auditor_export" for r in records)


def test_the_icbs_auditor_decides_a_flag_on_the_demo(demo_copy: Database) -> None:
    from ledger.flags import workflow

    with demo_copy.write() as session:
        flag = session.scalars(select(Flag).where(Flag.code == "CHECK_VENUE", Flag.state == "open")).first()
        assert flag is not None
        workflow.explain(session, flag.id, "Lunch at the pub with his support worker: an outing in the plan", actor="Sam Reed", actor_role="holder")
    client = signed_in(demo_copy, ICB)
    exceptions = client.get("/funder").text
    assert f"/funder/flags/{flag.id}" in section(exceptions, "flags")[:2000], "a flag to decide comes first"
    page = client.get(f"/funder/flags/{flag.id}")
    accepted = client.post(f"/funder/flags/{flag.id}/accept", data={"note": "An outing the plan allows", "csrf_token": csrf_of(page.text)})
    assert accepted.status_code == 200 and "Accepted" in accepted.text and "Priya Nair (Devon ICB)" in accepted.text


@pytest.mark.parametrize("code", ["devon-icb", "plymouth-asc"])
def test_the_surplus_held_read_agrees_with_the_trackers_figures(demo_copy: Database, code: str) -> None:
    """The exceptions page reads only what weeks held need; its figures are the tracker's."""
    from ledger.position.figures import SurplusState
    from reports.funder_view_reads import Share, budget_views, funder_scope
    from web.pages.funder_reads import surplus_held

    funder = _funder_id(demo_copy, code)
    month_start = REPORT_DEMO_TODAY.replace(day=1)
    with demo_copy.read() as session:
        scope = funder_scope(funder, month_start, REPORT_DEMO_TODAY)
        rows = surplus_held(session, funder, scope, REPORT_DEMO_TODAY)
        views = budget_views(session, scope, month_start, REPORT_DEMO_TODAY, review_day=REPORT_DEMO_TODAY, funder_id=funder)
    expected = {
        v.budget_id: (v.whole.weeks_held_tenths, v.whole.surplus_state, v.whole.held_pence, v.shares.get(funder, Share()).held_pence, v.is_joint)
        for v in views if v.whole.surplus_state != SurplusState.OK
    }  # fmt: skip
    found = {r.budget_id: (r.figures.weeks_held_tenths, r.figures.surplus_state, r.figures.held_pence, r.held_share_pence, r.is_joint) for r in rows}
    assert found == expected
    assert code != "devon-icb" or len(found) > 3, "the demo's ICB has budgets holding a surplus"
