"""A real ``phb-ledger serve`` on a copy of the demo, and Debian's Chromium driven by
Playwright, for the browser tests. Chromium is launched from ``/usr/bin/chromium`` (the test
setup installs Debian's package; Playwright's own browser download is never used) with the
flags that keep it off the network."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTEFACTS = Path(__file__).resolve().parent.parent.parent / "var" / "test-artefacts" / "browser"


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        reason = "Debian's chromium is not installed (`make test` installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(database_file: Path) -> Iterator[str]:
    """Serve ``database_file`` (a copy, which the server may write) and yield its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "web", "serve", "--db", f"sqlite:///{database_file}", "--port", str(port), "--no-scheduler"]
    log = open(database_file.with_suffix(".log"), "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{base}/sign-in", timeout=1):
                    break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"the server stopped: see {database_file.with_suffix('.log')}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def copy_of(source_url: str, directory: Path) -> Path:
    target = directory / "served.db"
    shutil.copyfile(source_url.removeprefix("sqlite:///"), target)
    return target


def sign_in(page, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


SERIOUS = ("serious", "critical")


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, launched through Playwright's sync API. Keep it open for a module at
    most: while it is open an event loop runs in the main thread, which breaks any later test
    that runs one of its own."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's serious and critical accessibility violations, by axe-core."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in SERIOUS]  # fmt: skip
