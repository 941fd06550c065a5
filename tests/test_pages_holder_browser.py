"""The holder's pages in Chromium against a real server on a copy of the demo (with a few
statement lines left unmatched), at a desktop's width (1280 px) and a phone's (360 px): Sam
signs in, opens every page, nothing scrolls sideways and axe-core finds nothing serious; at
1280 px he sends a statement through the upload form (the progress bar's script), matches a
line from the queue's suggestions and sends an empty review form to see its error summary.
Screenshots are left in ``var/test-artefacts/pages/holder-*.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.budgets.budget import budget_by_reference
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.vocabulary import EntryKind
from ledger.demo.users import DEMO_PASSWORD
from ledger.money_out.payroll_runs import import_payroll_run
from ledger.reconcile.automatic import reconcile_accounts
from ledger.store.database import Database
from ledger.store.tables import Account
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementImport
from tests.support.card_statements import CardLine, card_csv
from tests.support.live_server import chromium, copy_of, require_chromium, serious_violations, served, sign_in
from tests.support.payables_world import payroll_csv
from tests.test_reconcile import bank_csv
from web.statement_import import import_statement

ARTEFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artefacts" / "pages"
SAM = "sam.reed@tamarvalley.example"
STATEMENT = Path(__file__).parent / "data" / "statements" / "csv" / "sample__prepaid_card.csv"


def leave_lines_unmatched(database: Database) -> int:
    """Lines reconciliation cannot place: money in and a direct debit on the client bank
    account, and a card load no drawdown stood for (one is then posted: a suggestion); and a
    payroll run approved (its id)."""
    with database.write() as session:
        bank = session.scalar(select(Account.id).where(Account.code == "holder:tamar-valley-isf:unallocated"))
        card, cash = (session.scalar(select(Account.id).where(Account.code == f"ISF-0003:{kind}")) for kind in ("card", "cash"))
        lines = [(date(2026, 11, 25), "BACS CREDIT REF 7731", 12_345), (date(2026, 11, 26), "DD INSURANCE CO", -4_200)]
        import_statement(session, account_id=bank, data=bank_csv(lines), file_name="tamar-bank-late.csv", format="csv:starling", imported_by="test")
        card_lines = [CardLine("X1", date(2026, 11, 25), "LOAD", "", "LOAD", 5_000)]
        import_statement(session, account_id=card, data=card_csv(card_lines), file_name="isf-0003-late.csv", format="csv:prepaid_card", imported_by="test")
        reconcile_accounts(session, [bank, card], actor="test")
        run = import_payroll_run(session, 1, payroll_csv([("Worker 1", "ISF-0001", "30", "12.50", "40.00", "staff_pay"), ("Worker 2", "ISF-0002", "22.5", "12.00", "", "staff_pay")]),
                                 "tamar-payroll-2026-12.csv", pay_date=date(2026, 11, 30), reference="PAY-2026-12-EXTRA", approved_by="test")  # fmt: skip
        post_entry(session, NewEntry(book_id=1, entry_date=date(2026, 11, 25), description="Extra load onto the card of ISF-0003",
                                     idempotency_key="browser-test:extra-load", postings=(NewPosting(card, 5_000), NewPosting(cash, -5_000)),  # type: ignore[arg-type]
                                     kind=EntryKind.DRAWDOWN, created_by="test"))  # fmt: skip
        return run.payable.id


@pytest.fixture(scope="module")
def served_demo(report_demo: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    require_chromium()
    report_demo.dispose()
    database_file = copy_of(report_demo.url, tmp_path_factory.mktemp("holder-browser"))
    database = Database(f"sqlite:///{database_file}")
    payroll = leave_lines_unmatched(database)
    with database.read() as session:
        ids = {"ISF-0006": budget_by_reference(session, "ISF-0006").id, "ISF-0003": budget_by_reference(session, "ISF-0003").id}
        ids["flag"] = session.scalar(select(Flag.id).where(Flag.code == "CHECK_VENUE", Flag.holder_id == 1))  # type: ignore[assignment]
        ids["import"] = session.scalar(select(StatementImport.id).where(StatementImport.holder_id == 1).order_by(StatementImport.id))  # type: ignore[assignment]
        ids["payroll"] = payroll
    database.dispose()
    with served(database_file) as base:
        yield base, ids


@pytest.fixture(scope="module")
def browser(served_demo) -> Iterator[object]:  # type: ignore[no-untyped-def]
    with chromium() as launched:
        yield launched


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"holder-{name}.png"), full_page=True)


def pages_of(ids: dict[str, int]) -> dict[str, str]:
    return {
        "budgets": "/holder", "budget": f"/holder/budgets/{ids['ISF-0006']}", "statements": "/holder/statements", "payroll": "/holder/payroll",
        "unmatched": "/holder/unmatched", "flags": "/holder/flags", "flag": f"/holder/flags/{ids['flag']}", "reviews": "/holder/reviews",
        "review-form": f"/holder/budgets/{ids['ISF-0003']}/reviews/2026Q2", "statement-import": f"/holder/statements/{ids['import']}",
        "payroll-run": f"/holder/payroll/{ids['payroll']}",
    }  # fmt: skip


@pytest.mark.parametrize("width", [1280, 360], ids=lambda w: f"{w}px")
def test_holder_pages_in_chromium_every_page_fits_and_reads(browser, served_demo, width: int) -> None:  # type: ignore[no-untyped-def]
    base, ids = served_demo
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, base, SAM, DEMO_PASSWORD)
    assert page.url.endswith("/holder")
    for name, path in pages_of(ids).items():
        page.goto(base + path)
        assert page.locator("h1").count() == 1, name
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}px"
        shot(page, f"{name}-{width}")
        if width == 1280:
            assert serious_violations(page) == [], name
    context.close()


def test_holder_pages_in_chromium_upload_match_and_review_errors(browser, served_demo) -> None:  # type: ignore[no-untyped-def]
    base, ids = served_demo
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base, SAM, DEMO_PASSWORD)
    page.goto(f"{base}/holder/statements")
    page.select_option("#account", label="ISF-0001 card")
    page.set_input_files("#file", str(STATEMENT))
    page.get_by_role("button", name="Upload the statement").click()
    page.wait_for_url(re.compile(r"/holder/statements/\d+$"))
    assert "new line" in page.locator(".nhsuk-lede-text").inner_text()
    shot(page, "statement-summary-1280")
    page.goto(f"{base}/holder/unmatched")
    waiting = int(page.locator("h2", has_text="to match").inner_text().split()[0])  # the 3 left unmatched and the new file's lines
    page.locator("form.app-holder-suggestion button").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("is matched").is_visible()
    assert page.locator("h2", has_text="to match").inner_text().startswith(f"{waiting - 1} line")
    shot(page, "unmatched-after-match-1280")
    page.goto(f"{base}/holder/budgets/{ids['ISF-0003']}/reviews/2026Q2")
    page.get_by_role("button", name="Record the review").click()
    assert page.get_by_text("There is a problem").is_visible()
    assert serious_violations(page) == []
    shot(page, "review-errors-1280")
    context.close()
