"""Generated requests against every operation of the OpenAPI document (schemathesis), signed
in as a holder's staff and as a council auditor rather than the system admin
(``tests/test_api_fuzz.py``): whatever they send, no 5xx, and no response shows anything of a
budget they may not see. Fewer examples per operation than the admin's pass: what differs
here is who asks. The world is the access tests' (``tests/support/route_table.py``), so
generated ids hit real records of both holders.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from ledger.store.database import Database
from tests.support.route_table import COUNCIL_AUDITOR, STAFF_A, World, build_world, identifying_of_hidden
from web.app import create_app

EXAMPLES = int(os.environ.get("PHB_LEDGER_ACCESS_FUZZ_EXAMPLES", "5"))


@pytest.fixture(scope="module")
def world(sqlite_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    database = Database(sqlite_template.copy_to(tmp_path_factory.mktemp("access-fuzz") / "world.db"))
    try:
        yield build_world(database)
    finally:
        database.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("role", [STAFF_A, COUNCIL_AUDITOR])
def test_no_server_errors_and_nothing_hidden_whoever_asks(world: World, role: str) -> None:
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(world.database, migrate_on_start=False))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 100
    hidden = identifying_of_hidden(role)
    failures = []
    for operation in operations:
        try:
            _exercise(operation, headers, hidden)
        except AssertionError as failure:
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n".join(failures)


def _exercise(operation, headers: dict[str, str], hidden: frozenset[str]) -> None:  # type: ignore[no-untyped-def]
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
        shown = sorted(text for text in hidden if text in response.text and text not in case.formatted_path)
        assert not shown, f"{case.method} {case.formatted_path} → {response.status_code} shows {shown}"

    run()
