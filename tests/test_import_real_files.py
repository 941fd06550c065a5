"""Every statement file in tests/data/statements, imported end to end (format detected from
the content, parsed, stored) on both databases: it is stored, or refused with the reason
listed here. Files written by banks and other projects are the ``<origin>__<name>`` ones
(see /work/shared/data/statements/SOURCES.md); ``sample__*`` and ``uk_*`` are ours.

Every foreign file in the shared data is in pounds only if a UK bank wrote it; the
others (EUR, AUD, CAD, USD) parse, and are refused when stored: this ledger keeps pounds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import InvalidInput
from ledger.store.database import Database
from tests.support.builders import make_world
from web.statement_import import import_statement

DATA = Path(__file__).parent / "data" / "statements"

STORED = {
    "camt053/uk_gbp_statement.xml": 4,
    "csv/ofxstatement-lloyds__sample-statement.csv": 6,
    "csv/starling-developer-sdk__v2-get-statement.csv": 2,
    "csv/sample__barclays.csv": 5,
    "csv/sample__hsbc.csv": 4,
    "csv/sample__lloyds.csv": 3,
    "csv/sample__monzo.csv": 4,
    "csv/sample__nationwide.csv": 3,
    "csv/sample__natwest.csv": 3,
    "csv/sample__prepaid_card.csv": 7,
    "csv/sample__santander.csv": 3,
    "csv/sample__starling.csv": 3,
    "mt940/uk_lloyds_sort_code.sta": 5,
    "qif/sample__ccard.qif": 3,
    "qif/sample__lloyds.qif": 3,
    "qif/sample__quicken_export.qif": 3,
    "qif/sample__santander_uk.qif": 4,
    "qif/sample__santander_uk_credit_card.qif": 2,
}
"""File → lines stored."""

FORMAT = {"csv/sample__hsbc.csv": "csv:hsbc"}
"""HSBC's export has no header row, so its layout is chosen, not recognised."""

REFUSED = {
    # parsed, but not in pounds
    "camt053/camt__camt053.v2.five.decimals.xml": "currency_not_gbp",
    "camt053/camt__camt053.v2.minimal.xml": "currency_not_gbp",
    "camt053/camt__camt053.v2.multi.statement.xml": "currency_not_gbp",
    "camt053/camt__camt053.v4.xml": "currency_not_gbp",
    "camt053/camt__camt053.v8.xml": "currency_not_gbp",
    "mt940/mt940__jejik_abnamro.sta": "currency_not_gbp",
    "mt940/mt940__jejik_generic.sta": "currency_not_gbp",
    "mt940/mt940__jejik_ing.sta": "currency_not_gbp",
    "mt940/mt940__self-provided_malformed_details.sta": "currency_not_gbp",
    "ofx/ofxparse__anzcc.ofx": "currency_not_gbp",
    "ofx/ofxparse__bank_medium.ofx": "currency_not_gbp",
    "ofx/ofxparse__checking.ofx": "currency_not_gbp",
    "ofx/ofxparse__fail_nice__empty_balance.ofx": "currency_not_gbp",
    "ofx/ofxparse__ofx-v102-empty-tags.ofx": "currency_not_gbp",
    "ofx/ofxparse__suncorp.ofx": "currency_not_gbp",
    # not statements one account can take
    "camt053/camt__camt053.v2.wrong.xml": "statement_missing",
    "camt053/uk_gbp_truncated.xml": "xml_invalid",
    "camt053/xml_bomb_billion_laughs.xml": "xml_entities_forbidden",
    "camt053/xml_external_dtd.xml": "xml_entities_forbidden",
    "camt053/xml_external_entity.xml": "xml_entities_forbidden",
    "mt940/mt940__betterplace_amount_formats.sta": "mt940_invalid",
    "mt940/mt940__betterplace_empty_86.sta": "mt940_invalid",
    "mt940/mt940__betterplace_missing_crlf_at_end.sta": "mt940_invalid",
    "mt940/mt940__cmxl_mt940.sta": "several_accounts",
    "mt940/mt940__self-provided_february_30.sta": "date_invalid",
    "mt940/mt940__self-provided_invalid_statement.sta": "format_unknown",
    "ofx/ofxparse__bank_small.ofx": "ofx_no_statement",
    "ofx/ofxparse__error_message.ofx": "ofx_bank_error",
    "ofx/ofxparse__fail_nice__date_missing.ofx": "date_missing",
    "ofx/ofxparse__fail_nice__decimal_error.ofx": "amount_invalid",
    "ofx/ofxparse__fidelity.ofx": "ofx_investment_statement",
    "ofx/ofxparse__multiple_accounts.ofx": "several_accounts",
    "qif/sample__investment.qif": "qif_type_unsupported",
    "qif/sample__quicken_two_accounts.qif": "several_accounts",
}


def test_every_file_is_listed() -> None:
    on_disk = {str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file()}
    assert on_disk == set(STORED) | set(REFUSED)


@pytest.fixture
def card(db: Database) -> int:
    with db.write() as session:
        return make_world(session).account_id(session, "card")


@pytest.mark.parametrize("name", sorted(STORED))
def test_a_file_in_pounds_is_stored_and_stored_once(db: Database, card: int, name: str) -> None:
    data = (DATA / name).read_bytes()
    with db.write() as session:
        first = import_statement(session, account_id=card, data=data, file_name=name, format=FORMAT.get(name, "auto"), imported_by="test")
    assert (first.lines, first.new) == (STORED[name], STORED[name])
    with db.write() as session:
        again = import_statement(session, account_id=card, data=data, file_name=name, format=FORMAT.get(name, "auto"), imported_by="test")
    assert (again.new, again.duplicates) == (0, STORED[name])


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_any_other_file_is_refused_with_its_reason(db: Database, card: int, name: str) -> None:
    with pytest.raises(InvalidInput) as raised, db.write() as session:
        import_statement(session, account_id=card, data=(DATA / name).read_bytes(), file_name=name, imported_by="test")
    assert raised.value.code == REFUSED[name], raised.value.message
    assert Path(name).name in raised.value.message
