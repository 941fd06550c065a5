"""The headers every answer carries (Content-Security-Policy without inline script and with
``frame-ancestors 'none'``, nosniff, Referrer-Policy, HSTS over HTTPS only, no-store on all
but the static assets), and that nothing a page loads is on another host: no inline script
or event handler in a template, no outside font in the NHS.UK stylesheet as served, Swagger
UI from the service. ``tests/browser/test_pages_stay_on_this_service.py`` checks the same in
Chromium, page by page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledger.store.database import Database
from reports.render_html import report_css
from web.app import create_app
from web.security_headers import style_hash
from web.self_hosted_assets import without_outside_fonts
from web.trusted_proxies import TrustedProxies

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "pages" / "templates"
OUTSIDE_URL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


@pytest.fixture(scope="module")
def app(sqlite_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One database is enough: the headers are the web layer's."""
    database = Database(sqlite_template.copy_to(tmp_path_factory.mktemp("headers") / "headers.db"))
    try:
        yield create_app(database, migrate_on_start=False, trusted_proxies=TrustedProxies(["10.0.0.1"]))
    finally:
        database.dispose()


def _client(app: FastAPI, scheme: str = "https", address: str = "192.0.2.1") -> TestClient:
    return TestClient(app, base_url=f"{scheme}://testserver", raise_server_exceptions=False, client=(address, 50000))


def _directives(answer: Any) -> dict[str, str]:
    policy = answer.headers["content-security-policy"]
    return {part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2] for part in policy.split(";")}


ANSWERS = {
    "the API": ("GET", "/api/v1/", 200),
    "the API signed out": ("GET", "/api/v1/budgets", 401),
    "an API write signed out": ("POST", "/api/v1/people", 401),
    "a page": ("GET", "/sign-in", 200),
    "the start page": ("GET", "/", 200),
    "a page signed out": ("GET", "/holder", 303),
    "no such page": ("GET", "/no/such/page", 404),
    "the API documentation": ("GET", "/api/v1/docs", 200),
    "the OpenAPI document": ("GET", "/api/v1/openapi.json", 200),
    "a stylesheet": ("GET", "/assets/nhsuk/nhsuk-frontend.min.css", 200),
    "a script": ("GET", "/assets/app/init.js", 200),
}


@pytest.mark.parametrize("name", ANSWERS)
def test_every_answer_carries_the_security_headers(app: FastAPI, name: str) -> None:
    method, path, status = ANSWERS[name]
    answer = _client(app).request(method, path, follow_redirects=False)
    assert answer.status_code == status, (answer.status_code, answer.text[:200])
    directives = _directives(answer)
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in answer.headers["content-security-policy"] and "unsafe-eval" not in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert answer.headers["strict-transport-security"].startswith("max-age=") and int(answer.headers["strict-transport-security"][8:].split(";")[0]) >= 31536000
    if path.startswith("/assets/"):
        assert "no-store" not in answer.headers.get("cache-control", "")
    else:
        assert answer.headers["cache-control"] == "no-store"


def test_a_body_too_large_is_refused_with_the_headers_too(app: FastAPI) -> None:
    answer = _client(app).post("/api/v1/people", content=b"{}", headers={"content-length": str(64 * 1024 * 1024), "content-type": "application/json"})
    assert answer.status_code == 413
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"] and answer.headers["cache-control"] == "no-store"


def test_hsts_only_over_https_or_when_a_trusted_proxy_says_https(app: FastAPI) -> None:
    assert "strict-transport-security" in _client(app, "https").get("/sign-in").headers
    assert "strict-transport-security" not in _client(app, "http").get("/sign-in").headers
    untrusted = _client(app, "http", "192.0.2.7").get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in untrusted.headers
    proxied = _client(app, "http", "10.0.0.1").get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" in proxied.headers


def test_the_report_documents_inline_stylesheet_is_allowed_by_its_hash(app: FastAPI) -> None:
    assert style_hash(report_css()) in _directives(_client(app).get("/sign-in"))["style-src"].split()


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_an_inline_script_an_event_handler_or_an_outside_address(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", text, re.IGNORECASE) if "src=" not in tag]
    assert inline_scripts == [], inline_scripts
    assert re.findall(r"\son[a-z]+\s*=", text, re.IGNORECASE) == []
    assert re.findall(r"javascript:", text, re.IGNORECASE) == []
    assert [url for url in OUTSIDE_URL.findall(text) if url.split("//")[-1] != "www.w3.org"] == [], "only XML namespaces may name another host"


def test_the_nhsuk_stylesheet_is_served_without_its_outside_fonts(app: FastAPI) -> None:
    served = _client(app).get("/assets/nhsuk/nhsuk-frontend.min.css")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/css")
    assert "assets.nhs.uk" not in served.text and "@font-face" not in served.text
    assert re.findall(r"url\(\s*[\"']?(?:https?:)?//", served.text) == []
    assert ".nhsuk-header" in served.text and "Frutiger W01,arial,sans-serif" in served.text, "the rest of the stylesheet and its fallback font are kept"


def test_outside_font_faces_are_removed_and_local_ones_kept() -> None:
    stylesheet = (
        '@font-face{font-family:A;src:url(https://fonts.example/a.woff2) format("woff2")}'
        "@font-face{font-family:B;src:url(//cdn.example/b.woff)}"
        "@font-face{font-family:C;src:url(/assets/app/c.woff2)}"
        "body{font-family:A,Arial,sans-serif}"
    )
    assert without_outside_fonts(stylesheet) == "@font-face{font-family:C;src:url(/assets/app/c.woff2)}body{font-family:A,Arial,sans-serif}"


def test_the_api_documentation_is_served_from_the_service(app: FastAPI) -> None:
    client = _client(app)
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") and not source.startswith("//") for source in sources), sources
    assert re.findall(r"<script>", page.text) == [], "an inline script, which the policy refuses"
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "/api/v1/docs" not in client.get("/api/v1/openapi.json").json()["paths"]
