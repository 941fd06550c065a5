"""Statement lines the ledger could not post, on both databases (issue 23, items 2, 3, 11, 14).

An import refuses a line dated outside the journal's range, an amount beyond any, or a NUL
character anywhere in a line or the file's name, naming the file, the line and the field,
and stores nothing; it cleans bidirectional overrides, zero-width and control characters out
of the text (so ``PADDY\u200bPOWER`` is flagged as the gambling it is). A reconciliation
meeting such a line stored before these checks holds it in the unmatched queue with the
reason and reconciles the others; the pages that show where an account stands survive it.
Every upload route answers a NUL in a file's name or line with a 422 naming the field. The
audit pack names an entry's file without "line None" when it has no line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledger.access.users import UserSpec, create_user, link_family
from ledger.budgets import parties
from ledger.budgets.budget import PartSpec
from ledger.core.entries import NewEntry, NewPosting, Provenance
from ledger.core.journal import post_entry
from ledger.core.vocabulary import EntryKind
from ledger.errors import InvalidInput
from ledger.reconcile.automatic import reconcile_accounts
from ledger.reconcile.manual import match_line
from ledger.reconcile.status import account_status, unmatched_queue
from ledger.statements.line_checks import LineRefused, plain_text, why_not_postable
from ledger.store.database import Database
from ledger.store.tables import Account, JournalEntry
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from reports.audit_pack import build
from reports.params import ReportParams, parse_period
from reports.render import Format, render
from tests.support.builders import make_budget, make_person, make_plan, make_world
from tests.support.card_statements import CardLine, card_csv
from tests.test_api import API, client, ok, world  # noqa: F401  (fixtures)
from tests.test_pages_holder import csrf_of, signed_in, text_of
from tests.test_pages_holder_forms import PASSWORD, Small, small  # noqa: F401  (fixture)
from web.statement_import import import_statement

APRIL = date(2026, 4, 7)
STATEMENTS = Path(__file__).parent / "data" / "statements"
HIDDEN = ("\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\x07", "\x1b", "\u00ad")


def card_file(*lines: CardLine) -> bytes:
    return card_csv(list(lines))


def tesco(day: date = APRIL, merchant: str = "TESCO STORES", pence: int = -1_234, mcc: str = "5411") -> CardLine:
    return CardLine(f"T{day:%m%d}{abs(pence)}", day, merchant, mcc, "PURCHASE", pence)


def stored_count(db: Database) -> tuple[int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(StatementImport)) or 0,
            session.scalar(select(func.count()).select_from(StatementLineRecord)) or 0,
        )


def card_of(db: Database) -> int:
    with db.write() as session:
        world = make_world(session)
        return world.account_id(session, "card")


# --- the import ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replace", "by", "code", "field"),
    [
        (b"08/04/2026", b"01/01/0001", "date_out_of_range", "date"),
        (b"08/04/2026", b"31/12/9999", "date_out_of_range", "date"),
        (b"BOOTS", b"BO\x00OTS", "text_has_nul", "description"),
        (b"-6.75", b"-5000000000.00", "amount_too_large", "amount"),
    ],
)
def test_an_import_refuses_a_line_the_ledger_could_not_keep_naming_file_line_and_field_and_stores_nothing(
    db: Database, replace: bytes, by: bytes, code: str, field: str
) -> None:
    card = card_of(db)
    data = card_file(tesco(), tesco(date(2026, 4, 8), "BOOTS", -675)).replace(replace, by)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        import_statement(session, account_id=card, data=data, file_name="april.csv", format="csv:prepaid_card", imported_by="test")
    assert (refused.value.code, refused.value.field, refused.value.details) == (code, field, {"file": "april.csv", "line": 3})
    assert refused.value.message.startswith(f"april.csv, line 3, field {field}: ")
    assert stored_count(db) == (0, 0)


@pytest.mark.parametrize(("name", "code"), [("apr\x00il.csv", "text_has_nul"), ("lirpa\u202e.csv", "file_name_not_printable"), ("a\x07.csv", "file_name_not_printable")])
def test_an_import_refuses_a_file_name_with_nul_or_control_characters(db: Database, name: str, code: str) -> None:
    card = card_of(db)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        import_statement(session, account_id=card, data=card_file(tesco()), file_name=name, format="csv:prepaid_card", imported_by="test")
    assert (refused.value.code, refused.value.field) == (code, "file_name")
    assert "\x00" not in refused.value.message
    assert stored_count(db) == (0, 0)


def test_an_import_cleans_hidden_characters_so_a_hidden_gambling_purchase_is_flagged(db: Database) -> None:
    card = card_of(db)
    data = card_file(
        tesco(merchant="PADDY\u200bPOWER.COM", mcc="", pence=-1_000),  # no MCC: only the name tells
        tesco(date(2026, 4, 8), "TES\u202eCO\x07 STORES", -500),
        tesco(date(2026, 4, 9), "BOOTS\u00a0STORE\u2066", -675),
    )
    with db.write() as session:
        result = import_statement(session, account_id=card, data=data, file_name="april.csv", format="csv:prepaid_card", imported_by="test")
        stored = session.scalars(select(StatementLineRecord.description).order_by(StatementLineRecord.line_no)).all()
        assert stored == ["PADDYPOWER.COM", "TESCO STORES", "BOOTS STORE"]
        reconciled = reconcile_accounts(session, [card], actor="test")
        flags = session.execute(select(Flag.code, StatementLineRecord.description).join(StatementLineRecord, StatementLineRecord.id == Flag.statement_line_id)).all()
    assert result.new == 3 and reconciled.posted_spend == 3 and reconciled.held == 0
    assert any(code.startswith("EXCLUDED") and words == "PADDYPOWER.COM" for code, words in flags), flags
    with db.write() as session:  # the same file again: every line is already stored
        again = import_statement(session, account_id=card, data=data, file_name="april-again.csv", format="csv:prepaid_card", imported_by="test")
    assert (again.new, again.duplicates) == (0, 3)


def test_a_period_the_file_states_outside_the_ledgers_dates_is_set_aside_with_a_warning(db: Database) -> None:
    card = card_of(db)
    ofx = (STATEMENTS / "ofx" / "ofxparse__checking.ofx").read_bytes().replace(b"USD", b"GBP")
    ofx = ofx.replace(b"<DTSTART>20000101", b"<DTSTART>19000101").replace(b"<DTEND>20130525", b"<DTEND>99991231")
    with db.write() as session:
        result = import_statement(session, account_id=card, data=ofx, file_name="all-history.ofx", imported_by="test")
    assert (result.new, result.period_start, result.period_end) == (3, date(2011, 3, 31), date(2011, 4, 7))
    assert any("1900-01-01" in w and "set aside" in w for w in result.warnings) and any("9999-12-31" in w for w in result.warnings)
    with db.read() as session:
        assert account_status(session, card).statements_cover_to == date(2011, 4, 7)


def test_a_line_that_moves_no_money_is_counted_not_stored(db: Database) -> None:
    card = card_of(db)
    data = card_file(tesco(), tesco(date(2026, 4, 8), "CARD CHECK", 0), tesco(date(2026, 4, 9), "BOOTS", -675))
    with db.write() as session:
        result = import_statement(session, account_id=card, data=data, file_name="april.csv", format="csv:prepaid_card", imported_by="test")
        reconciled = reconcile_accounts(session, [card], actor="test")
    assert (result.lines, result.new, result.duplicates, result.lines_total_pence) == (3, 2, 0, -1_909)
    assert "1 line of £0.00 moves no money and was not stored (line 3)" in result.warnings
    assert (reconciled.posted_spend, reconciled.held, reconciled.unmatched) == (2, 0, 0)


def test_clean_text_is_always_printable() -> None:
    for code_point in range(0x110000):
        assert plain_text(f"a{chr(code_point)}b").isprintable(), hex(code_point)
    for hidden in HIDDEN:
        assert plain_text(f"BET{hidden}FAIR") == "BETFAIR"
    assert plain_text("line\tone\r\nline two") == "line one  line two"


# --- lines stored before these checks ----------------------------------------------------------------


@dataclass(frozen=True)
class OldLine:
    posted_on: date
    pence: int
    description: str
    mcc: str | None = None


def stored_before_the_checks(db: Database, account_id: int, lines: list[OldLine], file_name: str = "old.csv") -> list[int]:
    """Lines as an import stored them before ``ledger.statements.line_checks`` (straight into
    the tables, as the data is already there)."""
    with db.write() as session:
        account = session.get(Account, account_id)
        assert account is not None
        row = StatementImport(account_id=account_id, holder_id=account.holder_id, file_name=file_name, file_sha256="0" * 64, file_bytes=1,
                              format="csv", layout="prepaid_card", currency="GBP", account_in_file="card", imported_by="test")  # fmt: skip
        session.add(row)
        session.flush()
        records = [
            StatementLineRecord(import_id=row.id, account_id=account_id, line_no=number + 2, posted_on=line.posted_on, amount_pence=line.pence,
                                description=line.description, payee=line.description, mcc=line.mcc, kind="PURCHASE", raw=line.description,
                                dedupe_key=f"old:{row.id}:{number}")  # fmt: skip
            for number, line in enumerate(lines)
        ]
        session.add_all(records)
        session.flush()
        return [r.id for r in records if r.id is not None]


ODD = [
    OldLine(date(1, 1, 1), -100, "EARLIEST"),
    OldLine(date(9999, 12, 31), -100, "LATEST"),
    OldLine(APRIL, 0, "CARD CHECK"),
]


def test_a_reconcile_holds_a_line_it_cannot_post_with_the_reason_and_reconciles_the_others(db: Database) -> None:
    card = card_of(db)
    odd_ids = stored_before_the_checks(db, card, ODD)
    stored_before_the_checks(db, card, [OldLine(APRIL, -2_000, "WILLIAM\u202e HILL\x07", "7995")], file_name="may\u202e.csv")
    stored_before_the_checks(db, card, [OldLine(date(2026, 4, 8), -1_500, "LADBROKES 0042", "7995")], file_name="june.csv")
    with db.write() as session:
        first = reconcile_accounts(session, [card], actor="test")
        again = reconcile_accounts(session, [card], actor="test")
        flagged = session.scalars(select(StatementLineRecord.dedupe_key).join(Flag, Flag.statement_line_id == StatementLineRecord.id).where(Flag.code == "EXCLUDED_MCC")).all()
        posted = session.execute(select(JournalEntry.description, JournalEntry.source_file).where(JournalEntry.kind == EntryKind.CARD_PURCHASE)).all()
    assert (len(first.matched_line_ids), first.held, first.unmatched) == (2, 3, 3)
    assert (len(again.matched_line_ids), again.held, again.unmatched) == (0, 3, 3)
    assert len(flagged) == 2, "both betting purchases are flagged, the one with hidden characters too"
    assert sorted(posted) == [("Card purchase: LADBROKES 0042 (£15.00)", "june.csv"), ("Card purchase: WILLIAM HILL (£20.00)", "may.csv")]
    with db.read() as session:
        queue = {item.line_id: item.held_because for item in unmatched_queue(session, account_id=card)}
        status = account_status(session, card)
    assert set(queue) == set(odd_ids) and all(queue.values())
    assert "0001-01-01" in queue[odd_ids[0]] and "9999-12-31" in queue[odd_ids[1]] and "no money" in queue[odd_ids[2]]
    assert status.unmatched_line_count == 3 and status.reconciled_through is None
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        match_line(session, odd_ids[0], actor="test", category="activities")
    assert refused.value.code == "line_not_postable"


def test_a_client_bank_line_far_in_the_future_is_held_and_its_suggestions_do_not_crash(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        bank = session.scalar(select(Account.id).where(Account.code == "holder:sunrise:unallocated"))
    assert bank is not None
    stored_before_the_checks(db, bank, [OldLine(date(9999, 12, 31), 25_000, "BACS CREDIT"), OldLine(date(9999, 12, 30), -25_000, "PAYROLL")])
    with db.write() as session:
        result = reconcile_accounts(session, [bank], actor="test")
    with db.read() as session:
        queue = unmatched_queue(session, account_id=bank)
        status = account_status(session, bank)
    assert result.held == 2 and [item.held_because is not None for item in queue] == [True, True]
    assert status.statements_cover_to == date(9999, 12, 31) and world.budget.id is not None


def test_why_not_postable_agrees_with_what_an_import_refuses() -> None:
    assert why_not_postable(date(2000, 1, 1), -1) is None and why_not_postable(date(2099, 12, 31), 1) is None
    for day in (date(1999, 12, 31), date(2100, 1, 1), date.min, date.max):
        assert why_not_postable(day, -1) is not None
    assert why_not_postable(APRIL, 0) is not None and why_not_postable(APRIL, -100_000_000_001) is not None
    assert issubclass(LineRefused, InvalidInput)


def test_the_holders_pages_survive_odd_stored_lines(small: Small) -> None:  # noqa: F811
    card = small.account("card")
    odd_ids = stored_before_the_checks(small.db, card, ODD)
    client = small.client()
    for path in ("/holder", "/holder/statements", "/holder/unmatched", f"/holder/unmatched?account={card}", f"/holder/budgets/{small.budget_ids[0]}"):
        assert client.get(path).status_code == 200, path
    with small.db.read() as session:
        import_id = session.scalar(select(StatementLineRecord.import_id).where(StatementLineRecord.id == odd_ids[0]))
    assert client.get(f"/holder/statements/{import_id}").status_code == 200
    reconciled = client.post(f"/holder/accounts/{card}/reconcile", data={"csrf_token": csrf_of(client.get("/holder").text)})
    assert reconciled.status_code == 200
    words = text_of(reconciled.text)
    assert "0 lines matched, 3 left unmatched" in words
    assert words.count("Held: this line cannot be posted") == 3 and "0001-01-01" in words and "no money" in words
    with small.db.write() as session:
        create_user(session, UserSpec(AUDITOR, "Ira at the ICB", "funder_auditor", PASSWORD, funder_id=small.icb_id), created_by="test")
    auditor = small.client(AUDITOR)
    for path in ("/funder", "/funder/budgets", f"/funder/budgets/{small.budget_ids[0]}", f"/funder/budgets/{small.budget_ids[0]}/accounts/{card}",
                 "/funder/tracker", "/funder/flags"):  # fmt: skip
        assert auditor.get(path).status_code == 200, path
    with small.db.read() as session:
        pack = build(session, ReportParams(funder_id=small.icb_id, period=parse_period(quarter="2026Q1")), now=datetime(2026, 7, 1, tzinfo=UTC))
    assert len(pack.table("unmatched_lines").rows) >= 1
    for format in (Format.HTML, Format.CSV, Format.XLSX, Format.PDF):
        assert render(pack, format).content, format


# --- uploads: a NUL is a 422 naming the field, never a 500 ---------------------------------------------

BOUNDARY = "hygiene-boundary"


def multipart(fields: dict[str, str], file_field: str, file_name: str, data: bytes, media_type: str = "text/csv") -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand: HTTP clients escape a NUL in a file's name, a hostile
    one need not."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode() for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\nContent-Type: {media_type}\r\n\r\n'.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def post_raw(client: TestClient, address: str, fields: dict[str, str], file_field: str, file_name: str, data: bytes, media_type: str = "text/csv"):  # type: ignore[no-untyped-def]
    body, headers = multipart(fields, file_field, file_name, data, media_type)
    return client.post(address, content=body, headers=headers)



def upload(client: TestClient, account_id: int, name: str, data: bytes):  # type: ignore[no-untyped-def]  # noqa: F811
    return post_raw(client, f"{API}/accounts/{account_id}/statements", {"format": "csv:prepaid_card"}, "file", name, data)


def api_card(client: TestClient, world: dict[str, Any]) -> int:  # noqa: F811
    listed = ok(client.get(f"{API}/budgets/{world['budget']['id']}/accounts"))
    return next(a["id"] for a in listed if a["code"].endswith(":card"))


@pytest.mark.parametrize(
    ("name", "data", "code", "field", "line"),
    [
        ("april.csv", card_file(tesco(), tesco(date(2026, 4, 8), "BO\x00OTS", -675)), "text_has_nul", "description", 3),
        ("april.csv", card_file(tesco()).replace(b"07/04/2026", b"01/01/0001"), "date_out_of_range", "date", 2),
        ("apr\x00il.csv", card_file(tesco()), "text_has_nul", "file", None),
        ("lirpa\u202e.csv", card_file(tesco()), "file_name_not_printable", "file_name", None),
    ],
)
def test_the_api_refuses_a_nul_or_bad_line_with_422_naming_the_field_and_line(
    client: TestClient, world: dict[str, Any], name: str, data: bytes, code: str, field: str, line: int | None  # noqa: F811
) -> None:
    card = api_card(client, world)
    response = upload(client, card, name, data)
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body.get("field"), body.get("details", {}).get("line")) == (code, field, line)
    assert ok(client.get(f"{API}/accounts/{card}/statements")) == []


@pytest.mark.parametrize(("name", "code", "field"), [("rec\x00eipt.pdf", "text_has_nul", "file"), ("rec\u202eeipt.pdf", "field_not_printable", "file_name")])
def test_evidence_with_a_nul_or_bidi_file_name_is_a_422_naming_the_field(client: TestClient, world: dict[str, Any], name: str, code: str, field: str) -> None:  # noqa: F811
    response = post_raw(client, f"{API}/holders/{world['holder']['id']}/evidence", {"kind": "receipt"}, "file", name, b"%PDF-1.7\n%%EOF", "application/pdf")
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json().get("field")) == (code, field)


def test_report_documents_with_a_nul_are_a_422_never_a_500(client: TestClient, world: dict[str, Any]) -> None:  # noqa: F811
    kept = client.post(f"{API}/reports/quarterly-review/documents", json={"budget_id": world["budget"]["id"], "quarter": "2026Q\x00"})
    assert kept.status_code == 422, kept.text
    listed = client.get(f"{API}/report-documents", params={"period": "2026Q1\x00"})
    assert listed.status_code == 422 and listed.json()["field"] == "period"


def test_the_holders_statement_form_refuses_a_nul_naming_the_line_or_the_file(small: Small) -> None:  # noqa: F811
    client = small.client()
    card = small.account("card")
    token = csrf_of(client.get("/holder/statements").text)
    form = {"csrf_token": token, "account": str(card), "format": "csv:prepaid_card"}
    in_line = post_raw(client, "/holder/statements", form, "file", "april.csv", card_file(tesco(merchant="TES\x00CO")))
    assert in_line.status_code == 422 and "april.csv, line 2, field description: contains a NUL character" in text_of(in_line.text)
    in_name = post_raw(client, "/holder/statements", form, "file", "apr\x00il.csv", card_file(tesco()))
    assert in_name.status_code == 422 and "NUL" in in_name.text
    bidi = post_raw(client, "/holder/statements", form, "file", "lirpa\u202e.csv", card_file(tesco()))
    assert bidi.status_code == 422 and "rename the file" in text_of(bidi.text)
    assert stored_count(small.db) == (0, 0)


FAMILY_USER = "robin@family.example"
AUDITOR = "ira@icb.example"


def test_the_familys_statement_form_refuses_a_nul_naming_the_line_or_the_file(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        person = make_person(session, "Robin Direct")
        budget = make_budget(session, world.holder, person, world.icb, reference="DP-0001", parts=(PartSpec("direct_payment", "bank_account"),))
        make_plan(session, budget, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
        representative = parties.add_representative(session, person.id, parties.RepresentativeSpec("Robin's mum", "nominated_family_member", relationship="parent"))  # type: ignore[arg-type]
        user = create_user(session, UserSpec(FAMILY_USER, "Robin's mum", "family", PASSWORD, None), created_by="test")
        link_family(session, user.id, budget.id, representative_id=representative.id, created_by="test")  # type: ignore[arg-type]
        cash = world.account_id(session, "cash", budget)
        budget_id = budget.id
    client = signed_in(db, FAMILY_USER, PASSWORD)
    address = f"/family/budgets/{budget_id}/statements"
    form = {"csrf_token": csrf_of(client.get(address).text), "account_id": str(cash)}
    bank = card_file(tesco(merchant="TES\x00CO"))
    in_line = post_raw(client, address, form, "file", "april.csv", bank)
    assert in_line.status_code == 422 and "line 2, field description: contains a NUL character" in text_of(in_line.text), in_line.text[:2000]
    in_name = post_raw(client, address, form, "file", "apr\x00il.csv", card_file(tesco()))
    assert in_name.status_code == 422 and "NUL" in in_name.text
    assert stored_count(db) == (0, 0)


# --- the audit pack ----------------------------------------------------------------------------------


def test_the_audit_pack_names_the_file_of_an_entry_without_a_line(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        posted = post_entry(session, NewEntry(
            book_id=world.holder.id, entry_date=APRIL, description="Wages for April", idempotency_key="manual-wages",
            postings=(NewPosting(world.account_id(session, "spend:staff_pay"), 50_000), NewPosting(world.account_id(session, "cash"), -50_000)),
            kind=EntryKind.MANUAL, created_by="test", provenance=Provenance("payroll-april.csv", None, "csv", "payroll"),
        ))  # fmt: skip
        entry_id = posted.entry.id
    with db.read() as session:
        document = build(session, ReportParams(funder_id=world.icb.id, period=parse_period(quarter="2026Q1")), now=datetime(2026, 7, 1, tzinfo=UTC))  # type: ignore[arg-type]
    block = document.table("journal_provenance")
    sources = {int(str(row[0])): row[block.column_index("source")] for row in block.rows}
    assert sources[entry_id] == "payroll-april.csv"
