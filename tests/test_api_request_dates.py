"""Every date or time a request carries is ISO text: Pydantic on its own reads a number as a
Unix time, so ``?as_of=0`` would quietly mean 1 January 1970. Checked over the route table,
so a new route cannot forget it, and by asking one route that once did."""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from typing import Annotated, Any, get_args, get_origin

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, BeforeValidator

from ledger.store.database import Database
from tests.support.auth import token_headers
from tests.support.builders import make_world
from web.api.common import IsoDate, IsoTimestamp
from web.app import create_app

ISO_VALIDATORS = {get_args(IsoDate)[1].func, get_args(IsoTimestamp)[1].func}


def _iso_checked(metadata: typing.Iterable[object]) -> bool:
    return any(isinstance(item, BeforeValidator) and item.func in ISO_VALIDATORS for item in metadata)


def _loose_dates(annotation: Any, metadata: typing.Iterable[object], where: str, seen: set[type]) -> list[str]:
    """Where a date or time in ``annotation`` is read without the ISO check."""
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return _loose_dates(base, [*metadata, *extra], where, seen)
    if annotation in (date, datetime):
        return [] if _iso_checked(metadata) else [where]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        found: list[str] = []
        for name, field in annotation.model_fields.items():
            found += _loose_dates(field.annotation, field.metadata, f"{where}.{name}", seen)
        return found
    found = []
    if get_origin(annotation) in (typing.Union, types.UnionType, list, tuple, set, frozenset, dict):
        for argument in get_args(annotation):
            found += _loose_dates(argument, metadata, where, seen)
    return found


def _request_fields(route: APIRoute) -> typing.Iterator[tuple[str, Any, list[object]]]:
    dependant = route.dependant
    for kind, params in (("path", dependant.path_params), ("query", dependant.query_params),
                         ("header", dependant.header_params), ("body", dependant.body_params)):  # fmt: skip
        for param in params:
            yield f"{kind} {param.name}", param.field_info.annotation, list(param.field_info.metadata)
    for sub in dependant.dependencies:  # parameters that come through a dependency
        for param in (*sub.query_params, *sub.body_params):
            yield f"query {param.name}", param.field_info.annotation, list(param.field_info.metadata)


def test_every_request_date_and_time_is_read_as_iso_text_only(tmp_path: Any) -> None:
    app = create_app(Database(f"sqlite:///{tmp_path / 'routes.db'}"), migrate_on_start=False)
    loose: list[str] = []
    routes = [context for context in iter_route_contexts(app.routes) if isinstance(context.original_route, APIRoute)]
    assert len(routes) > 150  # the API's and the pages' routes, not a table that came back empty
    for context in routes:
        for where, annotation, metadata in _request_fields(context.original_route):
            loose += [f"{context.path}: {spot}" for spot in _loose_dates(annotation, metadata, where, set())]
    assert loose == []


@pytest.mark.parametrize("as_of", ["0", "0.0", "1700000000", "06/04/2026"])
def test_a_number_is_not_a_date(db: Database, as_of: str) -> None:
    with db.write() as session:
        world = make_world(session)
        budget_id, account_id = world.budget.id, world.account_id(session, "card")
    with TestClient(create_app(db, migrate_on_start=False), base_url="https://testserver") as client:
        headers = token_headers(db)
        for path, field in ((f"/api/v1/budgets/{budget_id}/expected-payments", "as_of"), (f"/api/v1/accounts/{account_id}/reconciliation", "period_start")):
            response = client.get(path, params={"as_of": as_of, "period_start": as_of}, headers=headers)
            assert response.status_code == 422, path
            assert {(error["field"], error["code"]) for error in response.json()["errors"]} >= {(field, "date_invalid")}, path
