"""The funder's pages in Chromium against a real server on a copy of the demo, at a desktop's
width (1280 px) and a phone's (360 px): NHS Devon ICB's auditor signs in and opens every page
(exceptions, tracker, budgets, a budget, an account's entries, an entry with its statement
line, flags, a flag to decide, a repayment notice, returns and packs) — each has one h1,
nothing scrolls sideways and axe-core finds nothing serious; at 1280 px the auditor sends an
empty decision (the error summary), challenges an explanation and requires repayment through
the forms, ending on the notice; the council's auditor opens its jointly funded budget.
Screenshots are left in ``var/test-artefacts/pages/funder-*.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.budgets.budget import budget_by_reference
from ledger.demo.users import DEMO_PASSWORD
from ledger.flags import recovery, workflow
from ledger.store.database import Database
from ledger.store.tables import Account
from ledger.store.tables.flags import Flag
from ledger.store.tables.reconciliation import ReconciliationMatch, ReconciliationMatchPart
from tests.support.live_server import chromium, copy_of, require_chromium, serious_violations, served, sign_in
from web.clock import today_in_england

ARTEFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artefacts" / "pages"
ICB = "finance@devon-icb.example"
COUNCIL = "audit@plymouth.example"
HOLDER = {"actor": "Sam Reed", "actor_role": "holder"}


def prepare(database: Database) -> dict[str, int]:
    """Two flags explained by the holder (one to decide in the browser, one to show), a notice
    already written, and the ids the pages need."""
    with database.write() as session:
        dp3 = budget_by_reference(session, "DP-0003")
        flags = list(session.scalars(select(Flag).where(Flag.budget_id == dp3.id, Flag.state == "open").order_by(Flag.id)))
        shown, decided, recovered = flags[0], flags[1], flags[2]
        for flag in (shown, decided):
            workflow.explain(session, flag.id, "Receipt uploaded: a mobility aid from the plan's equipment line", **HOLDER)
        notice = recovery.request_recovery(
            session, recovered.id, amount_pence=recovered.amount_pence or 1_000, reasons="No receipt was kept for this purchase.",
            repay_by=today_in_england() + timedelta(days=30), repayer="Tom Bassett (the direct payment holder)",
            issued_on=today_in_england(), actor="Priya Nair (Devon ICB)", actor_role="funder",
        ).notices[-1]  # fmt: skip
        card = session.scalar(select(Account.id).where(Account.code == "DP-0003:card"))
        entry = session.scalar(
            select(ReconciliationMatchPart.active_entry_id).join(ReconciliationMatch, ReconciliationMatch.id == ReconciliationMatchPart.match_id)
            .where(ReconciliationMatch.account_id == card, ReconciliationMatchPart.active_entry_id.is_not(None))
            .order_by(ReconciliationMatchPart.id.desc()).limit(1)
        )  # fmt: skip
        return {
            "dp3": dp3.id, "card": card, "entry": entry, "flag": shown.id, "decide": decided.id, "notice": notice.id,  # type: ignore[dict-item]
            "joint": budget_by_reference(session, "ISF-0002").id, "icb_only": budget_by_reference(session, "ISF-0001").id,  # type: ignore[dict-item]
            "recovery": flags[3].id,  # type: ignore[dict-item]
        }


@pytest.fixture(scope="module")
def served_demo(report_demo: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    require_chromium()
    report_demo.dispose()
    database_file = copy_of(report_demo.url, tmp_path_factory.mktemp("funder-browser"))
    database = Database(f"sqlite:///{database_file}")
    ids = prepare(database)
    database.dispose()
    with served(database_file) as base:
        yield base, ids


@pytest.fixture(scope="module")
def browser(served_demo) -> Iterator[object]:  # type: ignore[no-untyped-def]
    with chromium() as launched:
        yield launched


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"funder-{name}.png"), full_page=True)


def pages_of(ids: dict[str, int]) -> dict[str, str]:
    return {
        "exceptions": "/funder", "tracker": "/funder/tracker?month=2026-10", "budgets": "/funder/budgets", "budget": f"/funder/budgets/{ids['dp3']}",
        "account": f"/funder/budgets/{ids['dp3']}/accounts/{ids['card']}", "entry": f"/funder/entries/{ids['entry']}", "flags": "/funder/flags",
        "flag": f"/funder/flags/{ids['flag']}", "notice": f"/funder/notices/{ids['notice']}", "downloads": "/funder/downloads",
    }  # fmt: skip


def _check(page, name: str, width: int) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("h1").count() == 1, name
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}px"
    shot(page, f"{name}-{width}")


@pytest.mark.parametrize("width", [1280, 360], ids=lambda w: f"{w}px")
def test_funder_pages_in_chromium_every_page_fits_and_reads(browser, served_demo, width: int) -> None:  # type: ignore[no-untyped-def]
    base, ids = served_demo
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, base, ICB, DEMO_PASSWORD)
    assert page.url.endswith("/funder")
    for name, path in pages_of(ids).items():
        page.goto(base + path)
        _check(page, name, width)
        assert serious_violations(page) == [], name
    assert "DP-0003-card" in page.goto(base + pages_of(ids)["entry"]).text(), "the entry names its statement file"
    context.close()


def test_funder_pages_in_chromium_decide_a_flag_through_the_forms(browser, served_demo) -> None:  # type: ignore[no-untyped-def]
    base, ids = served_demo
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base, ICB, DEMO_PASSWORD)
    page.goto(f"{base}/funder/flags/{ids['decide']}")
    page.get_by_role("button", name="Accept the explanation").click()
    assert page.get_by_text("There is a problem").is_visible()
    assert serious_violations(page) == []
    shot(page, "flag-errors-1280")
    page.fill("#challenge-note", "Please send the receipt for the mobility aid")
    page.get_by_role("button", name="Challenge the explanation").click()
    page.wait_for_load_state()
    assert "You challenged the explanation" in page.locator(".nhsuk-notification-banner").inner_text()
    shot(page, "flag-challenged-1280")
    page.goto(f"{base}/funder/flags/{ids['recovery']}")
    page.get_by_text("Require the money to be repaid").click()
    page.fill("#amount", "12.50")
    page.fill("#reasons", "The purchase is not in the support plan.")
    repay_by = today_in_england() + timedelta(days=28)
    page.fill("#repay-by-day", str(repay_by.day))
    page.fill("#repay-by-month", str(repay_by.month))
    page.fill("#repay-by-year", str(repay_by.year))
    page.fill("#repayer", "Tom Bassett (the direct payment holder)")
    page.get_by_role("button", name="Require repayment and write the notice").click()
    page.wait_for_url(re.compile(r"/funder/notices/\d+"))
    text = page.locator("main").inner_text()
    assert "£12.50" in text and "The purchase is not in the support plan." in text and "Tom Bassett (the direct payment holder)" in text
    shot(page, "notice-new-1280")
    context.close()


@pytest.mark.parametrize("width", [1280, 360], ids=lambda w: f"{w}px")
def test_funder_pages_in_chromium_the_councils_share(browser, served_demo, width: int) -> None:  # type: ignore[no-untyped-def]
    base, ids = served_demo
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, base, COUNCIL, DEMO_PASSWORD)
    page.goto(f"{base}/funder/budgets/{ids['joint']}")
    assert "Your share" in page.locator("main").inner_text()
    _check(page, "council-budget", width)
    assert page.goto(f"{base}/funder/budgets/{ids['icb_only']}").status == 404
    context.close()
