"""Fixtures of the browser tests: a server on a copy of the demo, and Chromium, for each
module. Module-scoped on purpose: Playwright's sync API runs an event loop in the main
thread while it is open, which would break any later test that runs one of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.store.database import Database
from tests.support.live_server import chromium, copy_of, served


@pytest.fixture(scope="module")
def base_url(report_demo: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    report_demo.dispose()
    database_file = copy_of(report_demo.url, tmp_path_factory.mktemp("browser-demo"))
    with served(database_file) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched
