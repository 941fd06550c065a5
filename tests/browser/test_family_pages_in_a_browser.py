"""The family's pages in Chromium, at a phone's width (360 px) and a desktop's (1280 px):
a family member signs in, reads the balance page, and asks for a change; a direct
payment's family sends a statement; every family page has no serious or critical
accessibility violation (axe-core) at either width, and the balance page prints on one
page. Screenshots are left in ``var/test-artefacts/browser/``."""

from __future__ import annotations

import re

import pytest

from ledger.demo.users import DEMO_PASSWORD
from tests.support.live_server import ARTEFACTS, screenshot, serious_violations, sign_in

WIDTHS = (360, 1280)
CAROL, GRACE = "carol.pascoe@example.org", "grace.okafor@example.org"


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def context(request: pytest.FixtureRequest, browser):  # type: ignore[no-untyped-def]
    made = browser.new_context(viewport={"width": request.param, "height": 900})
    made.width = request.param
    yield made
    made.close()


def test_carol_reads_beths_balance_and_asks_for_a_change(context, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, base_url, CAROL, DEMO_PASSWORD)
    assert re.search(r"/family/budgets/\d+$", page.url)
    assert page.locator("h1").inner_text() == "Beth's money"
    assert page.get_by_text("Money left this year").is_visible()
    width = context.width
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "nothing scrolls sideways"
    pages = {"balance": page.url}
    screenshot(page, f"family-balance-{width}")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Ask for a change or a review").click()
    pages["ask"] = page.url
    assert serious_violations(page) == []
    page.get_by_role("button", name="Send").click()  # empty: the error summary
    assert page.get_by_text("There is a problem").is_visible()
    assert serious_violations(page) == []
    screenshot(page, f"family-ask-error-{width}")
    page.fill("#reason", "Could we use some of the activities money for a gym pass?")
    page.get_by_role("button", name="Send").click()
    assert page.get_by_text("We have your request").is_visible()
    assert serious_violations(page) == []
    screenshot(page, f"family-asked-{width}")


def test_graces_direct_payment_pages(context, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, base_url, GRACE, DEMO_PASSWORD)
    balance = page.url
    for link, name in (("Send a bank or card statement", "statements"), ("Things to explain", "flags")):
        page.goto(balance)
        page.get_by_role("link", name=re.compile(link)).click()
        assert serious_violations(page) == [], name
        screenshot(page, f"family-{name}-{context.width}")
    page.goto(balance)
    page.get_by_role("link", name=re.compile("Things to explain")).click()
    explain = page.locator("main a[href*='/flags/']").first
    if explain.count():
        explain.click()
        assert serious_violations(page) == []
        screenshot(page, f"family-explain-{context.width}")


def test_the_balance_page_prints_on_one_page(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base_url, CAROL, DEMO_PASSWORD)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "family-balance-printed.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    context.close()
