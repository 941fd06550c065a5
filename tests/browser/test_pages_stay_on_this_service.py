"""Every kind of page, in Chromium, loads everything from the service itself and breaks
nothing of its Content-Security-Policy: the start and sign-in pages, the API documentation
(Swagger UI), and for a holder, a funder's auditor, two families and the system admin their
home page and the pages it links to. A request to any other host, or a policy violation
reported on the console, fails the test."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from ledger.demo.users import DEMO_PASSWORD
from tests.support.live_server import sign_in

SIGNED_IN = {
    "holder": "sam.reed@tamarvalley.example",
    "funder": "finance@devon-icb.example",
    "family": "carol.pascoe@example.org",
    "family, direct payment": "grace.okafor@example.org",
    "admin": "admin@example.org",
}
PAGES_PER_ROLE_MAX = 14
NOT_A_PAGE = ("/sign-out", "format=", "/documents/", "/download", "/evidence/", "/assets/")


class Watch:
    """What a page asked for beyond the service, and what the console said about the policy."""

    def __init__(self, page, base: str) -> None:  # type: ignore[no-untyped-def]
        self.host = urlsplit(base).netloc
        self.problems: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _request(self, request) -> None:  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != self.host:
            self.problems.append(f"{request.frame.url if request.frame else '?'} asked {request.url}")

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text or message.type == "error":
            self.problems.append(f"console {message.type}: {text[:300]}")


def _links(page, base: str) -> list[str]:  # type: ignore[no-untyped-def]
    found = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    addresses = []
    for href in found:
        url = urljoin(page.url, href).split("#")[0]
        if url.startswith(base) and not any(part in url for part in NOT_A_PAGE) and url not in addresses:
            addresses.append(url)
    return addresses


def _walk(page, base: str, start: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The start page and pages linked from it and from those (breadth first), at most
    ``PAGES_PER_ROLE_MAX``."""
    seen, queue = [], [start]
    while queue and len(seen) < PAGES_PER_ROLE_MAX:
        url = queue.pop(0)
        if url in seen:
            continue
        answer = page.goto(url)
        page.wait_for_load_state("networkidle")
        seen.append(url)
        assert answer is not None and answer.status < 400, (url, answer.status if answer else None)
        queue.extend(link for link in _links(page, base) if link not in seen and link not in queue)
    return seen


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    yield made
    made.close()


def test_the_open_pages_and_the_api_documentation(context, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    watch = Watch(page, base_url)
    for path in ("/", "/sign-in"):
        page.goto(f"{base_url}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{base_url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    page.wait_for_selector(".opblock", timeout=20_000)
    assert "phb-ledger" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary").first.click()  # an operation opens: the UI's scripts run under the policy
    page.wait_for_load_state("networkidle")
    assert watch.problems == [], "\n".join(watch.problems)


@pytest.mark.parametrize("who", SIGNED_IN)
def test_every_kind_of_signed_in_page(context, base_url: str, who: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    watch = Watch(page, base_url)
    sign_in(page, base_url, SIGNED_IN[who], DEMO_PASSWORD)
    home = page.url
    assert "/sign-in" not in home, f"{who} did not sign in"
    visited = _walk(page, base_url, home)
    assert len(visited) >= 2, visited
    assert watch.problems == [], f"{who}, over {len(visited)} pages:\n" + "\n".join(watch.problems)
