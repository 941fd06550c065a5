"""A person registered for a budget that is not set up yet is seen by the holder whose user
registered them and by the system admin — not by another holder's users, an auditor or a
family member. Once the budget exists, whoever may see the budget sees its person."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.budgets import parties
from ledger.errors import NotFound
from ledger.store.database import Database
from tests.support.auth import token_headers
from tests.support.builders import TODAY, make_budget, make_world
from web.app import create_app

API = "/api/v1"
NEWCOMER = {"name": "Morwenna Trebilcock", "date_of_birth": "1988-02-14", "eligibility_group": "learning_disability_autism"}


@pytest.fixture
def setting(db: Database) -> Iterator[dict[str, Any]]:
    with db.write() as session:
        world = make_world(session)
        other = parties.create_holder(session, parties.HolderSpec("harbour", "Harbour Care", "isf_provider"))
        ids = {"holder": world.holder.id, "other_holder": other.id, "icb": world.icb.id}
    headers = {
        "admin": token_headers(db),
        "staff": token_headers(db, "staff@sunrise", "holder_staff", holder_id=ids["holder"]),
        "other_staff": token_headers(db, "staff@harbour", "holder_staff", holder_id=ids["other_holder"]),
        "auditor": token_headers(db, "auditor@icb", "funder_auditor", funder_id=ids["icb"]),
    }
    with TestClient(create_app(db, migrate_on_start=False), base_url="https://testserver") as client:
        yield {"client": client, "headers": headers, "ids": ids, "db": db}


def _sees(setting: dict[str, Any], who: str, person_id: int) -> bool:
    client, headers = setting["client"], setting["headers"][who]
    one = client.get(f"{API}/people/{person_id}", headers=headers)
    listed = person_id in {person["id"] for person in client.get(f"{API}/people", headers=headers).json()}
    assert one.status_code in (200, 404) and listed == (one.status_code == 200), who
    if one.status_code == 404:
        assert NEWCOMER["name"] not in one.text
    return one.status_code == 200


def test_a_holder_registers_a_person_only_it_and_the_admin_see_until_the_budget(setting: dict[str, Any]) -> None:
    client, headers, ids = setting["client"], setting["headers"], setting["ids"]
    created = client.post(f"{API}/people", json=NEWCOMER, headers=headers["staff"])
    assert created.status_code == 201
    person = created.json()
    assert person["registered_by_holder_id"] == ids["holder"]
    seen = {who: _sees(setting, who, person["id"]) for who in ("admin", "staff", "other_staff", "auditor")}
    assert seen == {"admin": True, "staff": True, "other_staff": False, "auditor": False}

    with setting["db"].write() as session:  # the budget set up: the budget decides now
        holder, icb = parties.get_holder(session, ids["holder"]), parties.get_funder(session, ids["icb"])
        make_budget(session, holder, parties.get_person(session, person["id"]), icb, reference="ISF-0099")
    seen = {who: _sees(setting, who, person["id"]) for who in ("admin", "staff", "other_staff", "auditor")}
    assert seen == {"admin": True, "staff": True, "other_staff": False, "auditor": True}


def test_a_holders_user_cannot_register_a_person_for_another_holder(setting: dict[str, Any]) -> None:
    client, headers, ids = setting["client"], setting["headers"], setting["ids"]
    refused = client.post(f"{API}/people", json={**NEWCOMER, "holder_id": ids["other_holder"]}, headers=headers["staff"])
    assert refused.status_code == 404
    mine = client.post(f"{API}/people", json={**NEWCOMER, "holder_id": ids["holder"]}, headers=headers["staff"])
    assert mine.json()["registered_by_holder_id"] == ids["holder"]


def test_a_person_the_admin_registers_for_nobody_is_seen_by_no_holder(setting: dict[str, Any]) -> None:
    client, headers, ids = setting["client"], setting["headers"], setting["ids"]
    nobodys = client.post(f"{API}/people", json=NEWCOMER, headers=headers["admin"]).json()
    assert nobodys["registered_by_holder_id"] is None
    assert not _sees(setting, "staff", nobodys["id"]) and not _sees(setting, "other_staff", nobodys["id"])
    for_harbour = client.post(f"{API}/people", json={**NEWCOMER, "holder_id": ids["other_holder"]}, headers=headers["admin"]).json()
    assert _sees(setting, "other_staff", for_harbour["id"]) and not _sees(setting, "staff", for_harbour["id"])


def test_registering_for_a_holder_that_does_not_exist_is_refused(db: Database) -> None:
    with db.write() as session, pytest.raises(NotFound, match="holder"):
        parties.create_person(session, parties.PersonSpec("A Person", TODAY.replace(year=1990), "learning_disability_autism"),
                              today=TODAY, registered_by_holder_id=999)  # fmt: skip
