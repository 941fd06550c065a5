"""Generated requests against every operation of the OpenAPI document (schemathesis): no
input, however odd, gets a 500; every response matches its documented status and shape; and
requests that break the schema are refused. Requests that fit the schema may still be
refused (422) by business rules the schema cannot express — a plan whose money does not add
up — so "schema-valid data is accepted" is not one of the checks.

The database holds one agreed budget, so generated ids sometimes hit real records. The
operations' Hypothesis strategies are driven directly: schemathesis' pytest plugin does not
run under pytest 9.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ledger.store.database import Database
from tests.support.auth import token_headers
from tests.support.builders import make_world
from web.app import create_app

EXAMPLES = int(os.environ.get("PHB_LEDGER_API_FUZZ_EXAMPLES", "25"))


def test_no_server_errors_and_responses_match_the_schema(db: Database) -> None:
    with db.write() as session:
        make_world(session)
    headers = token_headers(db)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(db, migrate_on_start=False))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures = []
    for operation in operations:
        try:
            _exercise(operation, headers)
        except AssertionError as failure:
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n".join(failures)


def _exercise(operation, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
        if response.status_code == 413:  # the body-size limit refused it before the schema was read: a refusal all the same
            assert response.json()["code"] == "request_too_large"
            return
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    run()
