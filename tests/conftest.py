"""Fixtures shared by the whole suite.

``db`` is parametrised over SQLite and PostgreSQL, so every test that takes it runs on both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ledger.demo import load_demo
from ledger.store.database import Database
from tests.support.databases import PostgresTestDatabase, SqliteTemplate, require_postgres

BACKENDS = ("sqlite", "postgresql")
RUN_SLOW_ENV = "PHB_LEDGER_RUN_SLOW"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow soak tests run in CI (``CI=true``) or when asked (``PHB_LEDGER_RUN_SLOW=1``)."""
    if os.environ.get("CI") == "true" or os.environ.get(RUN_SLOW_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow soak test: runs in CI (CI=true) or with {RUN_SLOW_ENV}=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresTestDatabase]:
    require_postgres()
    database = PostgresTestDatabase()
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database of the parametrised kind."""
    if backend == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("sqlite_template")
        database = Database(template.copy_to(tmp_path / "test.db"))
    else:
        postgres: PostgresTestDatabase = request.getfixturevalue("postgres_database")
        postgres.empty()
        database = postgres.database()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Database]:
    """PostgreSQL only, for what only PostgreSQL does (triggers, grants, row locks)."""
    postgres: PostgresTestDatabase = request.getfixturevalue("postgres_database")
    postgres.empty()
    database = postgres.database()
    try:
        yield database
    finally:
        database.dispose()


REPORT_DEMO_TODAY = date(2026, 11, 24)


@pytest.fixture(scope="session")
def report_demo(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The demo as at 24 November 2026 in SQLite, loaded once for the whole run (about 8 s):
    the report tests read it and never write to it."""
    database = Database(sqlite_template.copy_to(tmp_path_factory.mktemp("report-demo") / "demo.db"))
    load_demo(database, today=REPORT_DEMO_TODAY)
    try:
        yield database
    finally:
        database.dispose()
