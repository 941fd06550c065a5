"""Statement uploads through the API: the summary, re-import, dry run, provenance listing,
a holder's own CSV layout, and bad files refused whole — on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.auth import ADMIN_SIGNATURE
from tests.test_api import API, client, ok, world  # noqa: F401  (fixtures)

DATA = Path(__file__).parent / "data" / "statements"
STARLING = (DATA / "csv" / "starling-developer-sdk__v2-get-statement.csv").read_bytes()
LLOYDS = (DATA / "csv" / "ofxstatement-lloyds__sample-statement.csv").read_bytes()


def accounts(client: TestClient, world: dict[str, Any]) -> dict[str, int]:  # noqa: F811
    listed = ok(client.get(f"{API}/budgets/{world['budget']['id']}/accounts"))
    return {a["code"]: a["id"] for a in listed}


@pytest.fixture
def card_id(client: TestClient, world: dict[str, Any]) -> int:  # noqa: F811
    return accounts(client, world)["ISF-0001:card"]


def upload(client: TestClient, account_id: int, name: str, data: bytes, **form: Any):  # type: ignore[no-untyped-def]  # noqa: F811
    fields = {**{k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()}}
    return client.post(f"{API}/accounts/{account_id}/statements", files={"file": (name, data, "text/csv")}, data=fields)


def test_an_upload_answers_with_the_import_summary(client: TestClient, card_id: int) -> None:  # noqa: F811
    summary = ok(upload(client, card_id, "lloyds.csv", LLOYDS), 201)
    assert summary["format"] == "csv" and summary["layout"] == "lloyds"
    assert (summary["lines"], summary["new"], summary["duplicates"]) == (6, 6, 0)
    assert summary["lines_total"] == "-3998.99"
    assert (summary["period_start"], summary["period_end"]) == ("2023-12-01", "2024-01-15")
    assert summary["closing_balance"] == "2040.59" and summary["balances_stated"] is False
    assert summary["account_in_file"] == "sort code 99-88-74, account 1515152252"
    assert summary["imported_by"] == ADMIN_SIGNATURE
    assert any("running balance" in w for w in summary["warnings"]), "the sample's two direct debits are out of order"


def test_uploading_the_same_file_again_stores_nothing_new(client: TestClient, card_id: int) -> None:  # noqa: F811
    first = ok(upload(client, card_id, "starling.csv", STARLING), 201)
    again = ok(upload(client, card_id, "starling-again.csv", STARLING), 201)
    assert (again["new"], again["duplicates"]) == (0, 2)
    listed = ok(client.get(f"{API}/accounts/{card_id}/statements"))
    assert [(i["import_id"], i["file_name"], i["new"]) for i in listed] == [
        (again["import_id"], "starling-again.csv", 0),
        (first["import_id"], "starling.csv", 2),
    ]
    assert listed[0]["file_sha256"] == listed[1]["file_sha256"]
    lines = ok(client.get(f"{API}/statements/{first['import_id']}/lines"))
    assert [(line["line_no"], line["amount"], line["payee"]) for line in lines] == [(2, "1500.00", "An Employer"), (3, "-1000.00", "Landlord")]
    assert lines[0]["raw"].startswith("01/10/2019,An Employer,SALARY")


def test_a_dry_run_counts_but_stores_nothing(client: TestClient, card_id: int) -> None:  # noqa: F811
    dry = ok(upload(client, card_id, "starling.csv", STARLING, dry_run=True), 200)
    assert dry["dry_run"] is True and dry["import_id"] is None and dry["new"] == 2
    assert ok(client.get(f"{API}/accounts/{card_id}/statements")) == []


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b"", "file_empty", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "format_unknown", None),
        (STARLING.replace(b"02/10/2019", b"31/02/2019"), "date_invalid", 3),
        (STARLING.replace(b"-1000.00", b"NaN"), "amount_not_a_number", 3),
        (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&b;</Document>', "xml_entities_forbidden", 1),
    ],
)
def test_a_bad_file_is_refused_with_file_line_and_field_and_nothing_changes(
    client: TestClient, card_id: int, data: bytes, code: str, line: int | None  # noqa: F811
) -> None:
    response = upload(client, card_id, "bad.csv", data)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message"].startswith("bad.csv")
    assert body.get("details", {}).get("line") == line
    assert ok(client.get(f"{API}/accounts/{card_id}/statements")) == []


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(client: TestClient, card_id: int) -> None:  # noqa: F811
    response = client.post(
        f"{API}/accounts/{card_id}/statements",
        content=b"",
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(200 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_statements_go_into_card_cash_or_unallocated_accounts_only(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    top_slice = accounts(client, world)["ISF-0001:top_slice"]
    response = upload(client, top_slice, "starling.csv", STARLING)
    assert response.status_code == 422 and response.json()["code"] == "account_not_for_statements"
    assert upload(client, 999_999, "starling.csv", STARLING).status_code == 404


def test_a_holder_defines_its_own_layout_and_imports_with_it(client: TestClient, world: dict[str, Any], card_id: int) -> None:  # noqa: F811
    holder_id = world["holder"]["id"]
    definition = {
        "name": "acme_card",
        "description": "Acme prepaid card export",
        "source": "the provider's own export",
        "header": ["When", "Shop", "Code", "Value"],
        "date_column": "When",
        "date_formats": ["%d/%m/%Y"],
        "amount_column": "Value",
        "amount_sign": "money_in_positive",
        "description_columns": ["Shop"],
        "payee_column": "Shop",
        "mcc_column": "Code",
    }
    made = ok(client.post(f"{API}/holders/{holder_id}/csv-layouts", params={}, json=definition), 201)
    assert (made["name"], made["version"], made["shipped"]) == ("acme_card@1", 1, False)
    listed = ok(client.get(f"{API}/holders/{holder_id}/csv-layouts"))
    assert listed[0]["name"] == "acme_card@1" and {"lloyds", "starling", "prepaid_card"} <= {i["name"] for i in listed}
    data = b"When,Shop,Code,Value\n03/05/2026,ODEON LUTON,7832,-12.50\n04/05/2026,CORAL RACING,7995,-20.00\n"
    summary = ok(upload(client, card_id, "acme.csv", data), 201)
    assert summary["layout"] == "acme_card@1" and summary["new"] == 2
    lines = ok(client.get(f"{API}/statements/{summary['import_id']}/lines"))
    assert [line["mcc"] for line in lines] == ["7832", "7995"]

    bad = client.post(f"{API}/holders/{holder_id}/csv-layouts", params={}, json={**definition, "date_column": None})
    assert bad.status_code == 422 and bad.json()["code"] == "layout_invalid"
