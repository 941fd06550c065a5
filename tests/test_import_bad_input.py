"""Bad statement files, end to end (parse and store, as the CLI and the API do): each is
refused with a clear error naming the file, and the line and field where there is one, in
bounded memory — and the database is left as it was. On both databases."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select

from importers import STATEMENT_BYTES_MAX
from ledger.store.database import Database
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from tests.support.builders import make_world
from web.statement_import import StatementRejected, import_statement

DATA = Path(__file__).parent / "data" / "statements"
STARLING = (DATA / "csv" / "starling-developer-sdk__v2-get-statement.csv").read_bytes()
PREPAID = (DATA / "csv" / "sample__prepaid_card.csv").read_bytes()
BANK_OFX = (DATA / "ofx" / "ofxparse__bank_medium.ofx").read_bytes()
MEMORY_BYTES_MAX = 64 * 1024 * 1024


def _mixed_currencies() -> bytes:
    header, first, *rest = PREPAID.decode().splitlines()
    return "\n".join([header, first, first.replace(",GBP,", ",EUR,").replace("TX", "TY"), *rest]).encode()


def _ofx_with_external_entity() -> bytes:
    text = BANK_OFX.decode("latin-1")
    body = text[text.index("<OFX>") :]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE OFX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<?OFX OFXHEADER="200" VERSION="211"?>\n'
        + body.replace("<MEMO>", "<MEMO>&xxe;", 1)
    ).encode("latin-1")


CASES = {
    "empty file": (b"", "file_empty", None, None),
    "only blank lines": (b"\n\n  \n", "file_empty", None, None),
    "not a statement": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "format_unknown", None, None),
    "truncated XML": ((DATA / "camt053" / "uk_gbp_truncated.xml").read_bytes(), "xml_invalid", 80, None),
    "truncated CSV (cut inside a quoted cell)": (STARLING + b'03/10/2019,"Shop', "columns_too_few", 4, "Reference"),
    "an unknown encoding": (
        (DATA / "camt053" / "uk_gbp_statement.xml").read_bytes().replace(b'encoding="UTF-8"', b'encoding="klingon-8"', 1),
        "encoding_unknown",
        1,
        "encoding",
    ),
    "not valid in its encoding": (STARLING.replace(b"Landlord", b"Landl\x81rd"), "encoding_invalid", 3, None),
    "mixed currencies": (_mixed_currencies(), "currency_mixed", 3, "Currency"),
    "a date that does not parse": (STARLING.replace(b"02/10/2019", b"31/02/2019"), "date_invalid", 3, "Date"),
    "an amount that does not parse": (STARLING.replace(b"-1000.00", b"-1O00.00"), "amount_invalid", 3, "Amount (GBP)"),
    "NaN for an amount": (STARLING.replace(b"-1000.00", b"NaN"), "amount_not_a_number", 3, "Amount (GBP)"),
    "a header repeated": (STARLING + STARLING, "header_repeated", 4, "header"),
    "an XML bomb": ((DATA / "camt053" / "xml_bomb_billion_laughs.xml").read_bytes(), "xml_entities_forbidden", 2, None),
    "an OFX with an external entity": (_ofx_with_external_entity(), "xml_entities_forbidden", None, None),
    "a statement for several accounts": ((DATA / "mt940" / "mt940__cmxl_mt940.sta").read_bytes(), "several_accounts", None, None),
}


@pytest.fixture
def card(db: Database) -> int:
    with db.write() as session:
        return make_world(session).account_id(session, "card")


def stored(db: Database) -> tuple[int, int]:
    with db.read() as session:
        imports = session.scalar(select(func.count()).select_from(StatementImport))
        lines = session.scalar(select(func.count()).select_from(StatementLineRecord))
    return int(imports or 0), int(lines or 0)


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_file_is_refused_clearly_and_changes_nothing(db: Database, card: int, case: str) -> None:
    data, code, line, field = CASES[case]
    tracemalloc.start()
    try:
        with pytest.raises(StatementRejected) as raised, db.write() as session:
            import_statement(session, account_id=card, data=data, file_name="upload.dat", imported_by="test")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    error = raised.value
    assert error.code == code, error.message
    assert error.message.startswith("upload.dat"), error.message
    assert error.details.get("line") == line, error.message
    if line is not None:
        assert f"line {line}" in error.message
    if field is not None:
        assert error.field == field and f"field {field}" in error.message
    assert peak < MEMORY_BYTES_MAX
    assert stored(db) == (0, 0)


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(db: Database, card: int) -> None:
    data = STARLING + b"\n" * (STATEMENT_BYTES_MAX - len(STARLING) + 1)
    with pytest.raises(StatementRejected) as raised, db.write() as session:
        import_statement(session, account_id=card, data=data, file_name="huge.csv", imported_by="test")
    assert raised.value.code == "file_too_large"
    assert stored(db) == (0, 0)
