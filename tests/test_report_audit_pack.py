"""The funder's audit pack (``reports.audit_pack``).

A small world on both databases: a budget the ICB funds with a card statement reconciled
(a load, a purchase, a betting-shop purchase flagged and then explained, challenged,
explained again and accepted), a load no statement line stands for, a statement line
nothing stands for, a manual entry whose description would be a spreadsheet formula,
evidence on the flag and on the line, older flags closed before the period or still open,
and a budget of the same holder that only the council funds. Every figure is checked against
the raw rows: the trial balance (debits = credits, closing = opening + debits − credits per
account), the journal and where each entry came from, the flags' history in order, the
ledger check, what is not reconciled and the evidence; CSV, XLSX and PDF read back to the
same totals; formulas are neutralised in the CSV while negative amounts stay numbers; the
ZIP's manifest hashes match its files. The demo is checked the same way for a month.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import subprocess
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.vocabulary import EntryKind
from ledger.flags.evidence import attach_evidence
from ledger.flags.workflow import accept, challenge, explain
from ledger.reconcile.automatic import reconcile_accounts
from ledger.store.database import Database
from ledger.store.tables import Funder
from ledger.store.tables.flags import Flag, FlagEvent
from reports.audit_pack import build, build_zip, safe_file_name
from reports.catalogue import report_kind
from reports.document import Document
from reports.params import ReportParams, parse_period
from reports.render import Format, render
from tests.support.builders import World, make_budget, make_person, make_plan, make_world
from tests.support.card_statements import CardLine, import_card, post_drawdown
from tests.support.databases import SqliteTemplate
from tests.support.tampering import Tamperer

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
Q1 = "2026Q1"  # April to June 2026
APRIL = date(2026, 4, 6)
PDF = b"%PDF-1.7\n receipt from the betting shop, returned \n%%EOF"
NOTE = b"The top-up came from the family's own account.\n"
FORMULA_DESCRIPTION = "=SUM(1+1) equipment bought for cash"
HOLDER = {"actor": "Sam (ISF lead)", "actor_role": "holder"}
FUNDER = {"actor": "Priya (ICB PHB team)", "actor_role": "funder"}


@dataclass(frozen=True)
class AuditWorld:
    world: World
    icb_id: int
    flag_id: int
    unlisted_entry_id: int
    """A card load of the council-only budget: never in the ICB's pack."""


def audit_world(db: Database) -> AuditWorld:
    with db.write() as session:
        world = make_world(session)
        other = make_budget(session, world.holder, make_person(session, "Gus Other"), world.council, reference="ISF-0002")
        make_plan(session, other, [(world.council, 1_000_000, 0)], total_pence=1_000_000)
        post_drawdown(session, world, world.budget, APRIL - timedelta(days=1), 40_000, "load-1")
        post_drawdown(session, world, world.budget, date(2026, 4, 9), 5_000, "load-2")  # no statement line shows it
        unlisted = post_drawdown(session, world, other, date(2026, 4, 9), 9_000, "load-other")
        post_entry(session, NewEntry(
            book_id=world.holder.id, entry_date=date(2026, 4, 8), description=FORMULA_DESCRIPTION, idempotency_key="manual-1",
            postings=(NewPosting(world.account_id(session, "spend:equipment"), 2_500), NewPosting(world.account_id(session, "cash"), -2_500)),
            kind=EntryKind.MANUAL, created_by="test",
        ))  # fmt: skip
        import_card(session, world, world.budget, [
            CardLine("L1", APRIL, "LOAD", "", "LOAD", 40_000),
            CardLine("P1", date(2026, 4, 7), "TESCO STORES 3297", "5411", "PURCHASE", -1_234, fee_pence=3),
            CardLine("P2", date(2026, 4, 8), "WILLIAM HILL 0123", "7995", "PURCHASE", -2_000, fee_pence=3),
            CardLine("L2", date(2026, 4, 10), "+TOP UP", "", "LOAD", 7_700),
        ])  # fmt: skip
        reconcile_accounts(session, [world.account_id(session, "card")], actor="Sam Finance")
        flag_id = session.scalar(select(Flag.id).where(Flag.code == "EXCLUDED_MCC"))
        assert flag_id is not None
        receipt = attach_evidence(
            session, world.holder.id, kind="receipt", file_name="C:\\fakepath\\receipt 1?.pdf", content_type="application/pdf",
            content=PDF, uploaded_by="@sam", flag_id=flag_id,
        )  # fmt: skip
        line_id = session.scalar(text("SELECT id FROM statement_line WHERE payee = '+TOP UP'"))
        attach_evidence(session, world.holder.id, kind="other", file_name="notes:=1.txt", content_type="text/plain", content=NOTE, uploaded_by="Sam", statement_line_id=line_id)
        older_flags(session, world)
    for action, arguments in (
        (explain, ("Returned the next day, receipt attached", [receipt.id])), (challenge, ("-- no refund shown on the statement",)),
        (explain, ("The refund is on the May statement", [])), (accept, ("Accepted: refunded",)),
    ):  # fmt: skip
        with db.write() as session:
            action(session, flag_id, *arguments, **(FUNDER if action in (accept, challenge) else HOLDER))  # type: ignore[operator]
    assert world.icb.id is not None
    return AuditWorld(world, world.icb.id, flag_id, unlisted)


def older_flags(session: Session, world: World) -> None:
    """Flags from before the period: one closed before it (left out), one still open and one
    closed during it (both in), and one from after it (left out)."""
    stories = {
        "closed-before": (date(2026, 3, 25), [("raised", None, "open", datetime(2026, 3, 25, 9)), ("closed_by_system", "open", "closed", datetime(2026, 3, 30, 9))]),
        "still-open": (date(2026, 3, 26), [("raised", None, "open", datetime(2026, 3, 26, 9))]),
        "closed-during": (date(2026, 3, 27), [("raised", None, "open", datetime(2026, 3, 27, 9)), ("closed_by_system", "open", "closed", datetime(2026, 5, 10, 9))]),
        "after": (date(2026, 7, 2), [("raised", None, "open", datetime(2026, 7, 2, 9))]),
    }
    for key, (occurred_on, events) in stories.items():
        flag = Flag(
            cause_key=f"test:{key}", holder_id=world.holder.id, budget_id=world.budget.id, funder_id=world.icb.id, code="SURPLUS_HELD",
            severity="medium", rule_id="test", rule_version="1", reason=f"Story {key}", occurred_on=occurred_on, state=events[-1][2],
        )  # fmt: skip
        session.add(flag)
        session.flush()
        for action, before, after, at in events:
            session.add(FlagEvent(flag_id=flag.id, action=action, from_state=before, to_state=after, actor="system", actor_role="system", at=at))
    session.flush()


def params(funder_id: int, **period: str) -> ReportParams:
    return ReportParams(funder_id=funder_id, period=parse_period(**period))  # type: ignore[arg-type]


# --- independent figures from the raw rows ----------------------------------------------------------


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _funders_own(funder: int | None, contribution: bool, reader: int) -> bool:
    """An auditor reads the budget's shared accounts and its own funder's, never another
    funder's nor the person's contribution."""
    return not contribution and funder in (None, reader)


def raw_trial(session: Session, budget_refs: set[str], first: date, last: date, reader: int) -> dict[str, tuple[int, int, int, str]]:
    """Account code → (opening signed, debits, credits, type) from every posting row; the
    accounts the ``reader`` funder does not read are one '<budget>:others' asset line."""
    accounts = {
        aid: (code, kind) if _funders_own(funder, bool(contribution), reader) else (f"{ref}:others", "asset")
        for aid, code, kind, ref, funder, contribution in session.execute(text(
            "SELECT a.id, a.code, a.type, b.reference, a.funder_id, a.is_person_contribution FROM account a JOIN budget b ON b.id = a.budget_id"
        )).all()  # fmt: skip
        if ref in budget_refs
    }
    sums: dict[str, list[int]] = {code: [0, 0, 0] for code, _ in accounts.values()}
    for aid, pence, day in session.execute(text("SELECT account_id, amount_pence, entry_date FROM posting")).all():
        if aid not in accounts or _day(day) > last:
            continue
        row = sums[accounts[aid][0]]
        if _day(day) < first:
            row[0] += pence
        elif pence > 0:
            row[1] += pence
        else:
            row[2] -= pence
    return {code: (*sums[code], kind) for code, kind in accounts.values()}  # type: ignore[misc]


def check_trial_balance(document: Document, raw: dict[str, tuple[int, int, int, str]]) -> int:
    """The document's trial balance equals the raw figures, account by account; returns the debits."""
    block = document.table("trial_balance")
    shown = {row[1]: row for row in block.rows}
    assert set(shown) == {code for code, (o, d, c, _t) in raw.items() if o or d or c} | (set(shown) & set(raw))
    for code, (opening, debits, credits, kind) in raw.items():
        if code not in shown:
            assert (opening, debits, credits) == (0, 0, 0), code
            continue
        sign = 1 if kind in ("asset", "expense") else -1
        _b, _c, _n, side, opening_shown, debits_shown, credits_shown, closing_shown = shown[code]
        assert side == ("Debit" if sign == 1 else "Credit")
        assert (opening_shown, debits_shown, credits_shown) == (sign * opening, debits, credits), code
        assert closing_shown == sign * (opening + debits - credits), code
    debits, credits = sum(r[1] for r in raw.values()), sum(r[2] for r in raw.values())
    assert debits == credits
    assert block.totals is not None and block.totals[5:7] == (debits, credits)
    references = [row[0] for row in block.rows]
    assert [(r[0], r[1]) for r in block.rows] == sorted((r[0], r[1]) for r in block.rows) and references == sorted(references)
    return debits


def raw_entries(session: Session, budget_refs: set[str], first: date, last: date, reader: int) -> set[int]:
    rows = session.execute(text(
        "SELECT p.entry_id, p.entry_date, b.reference, a.funder_id, a.is_person_contribution FROM posting p "
        "JOIN account a ON a.id = p.account_id JOIN budget b ON b.id = a.budget_id"
    )).all()  # fmt: skip
    return {
        entry_id for entry_id, day, ref, funder, contribution in rows
        if ref in budget_refs and first <= _day(day) <= last and _funders_own(funder, bool(contribution), reader)
    }  # fmt: skip


def provenance_of(document: Document) -> dict[int, tuple[str | None, str | None]]:
    block = document.table("journal_provenance")
    return {int(str(r[0])): (r[block.column_index("source")], r[block.column_index("statement")]) for r in block.rows}  # type: ignore[misc]


# --- the small world, both databases ---------------------------------------------------------------


def test_the_trial_balance_journal_and_provenance_agree_with_the_raw_rows(db: Database) -> None:
    aw = audit_world(db)
    with db.read() as session:
        document = build(session, params(aw.icb_id, quarter=Q1), now=NOW)
        raw = raw_trial(session, {"ISF-0001"}, date(2026, 4, 1), date(2026, 6, 30), aw.icb_id)
        entries = raw_entries(session, {"ISF-0001"}, date(2026, 4, 1), date(2026, 6, 30), aw.icb_id)
        tesco_entry, tesco_file, tesco_line, source_file, source_line = session.execute(text(
            "SELECT e.id, i.file_name, l.line_no, e.source_file, e.source_line FROM journal_entry e "
            "JOIN reconciliation_match_part p ON p.active_entry_id = e.id JOIN reconciliation_match m ON m.id = p.match_id "
            "JOIN statement_line l ON l.id = m.statement_line_id JOIN statement_import i ON i.id = l.import_id "
            "WHERE e.kind = 'card_purchase' AND l.payee = 'TESCO STORES 3297'"
        )).one()  # fmt: skip
    debits = check_trial_balance(document, raw)
    assert [row[0] for row in document.table("budgets").rows] == ["ISF-0001"]
    journal = document.table("journal")
    assert {int(str(r[2])) for r in journal.rows} == entries and aw.unlisted_entry_id not in entries
    assert journal.totals is not None and journal.totals[journal.column_index("amount")] == debits
    assert FORMULA_DESCRIPTION in journal.values("description")
    assert provenance_of(document)[tesco_entry] == (f"{source_file} line {source_line}", f"{tesco_file} line {tesco_line}")
    assert tesco_file == "card.csv" and tesco_line > 1
    with db.read() as session:
        checked = session.scalar(text("SELECT count(*) FROM journal_entry"))
    assert f"no problems found: {checked:,} entries checked" in " ".join(document.summary)
    assert document.table("verify_problems").rows == ()


def test_flags_carry_their_whole_history_in_order(db: Database) -> None:
    aw = audit_world(db)
    with db.read() as session:
        document = build(session, params(aw.icb_id, quarter=Q1), now=NOW)
        raw = session.execute(text("SELECT f.id, f.cause_key, e.action, e.from_state, e.to_state, e.actor, e.note FROM flag f JOIN flag_event e ON e.flag_id = f.id ORDER BY f.id, e.at, e.id")).all()
        in_quarter = {key for key, day in session.execute(text("SELECT cause_key, occurred_on FROM flag")).all() if date(2026, 4, 1) <= _day(day) <= date(2026, 6, 30)}
    keys = {fid: key for fid, key, *_ in raw}
    listed = {int(str(r[0])) for r in document.table("flags").rows}
    assert {keys[f] for f in listed} == in_quarter | {"test:still-open", "test:closed-during"}
    assert keys[aw.flag_id] in in_quarter and len(in_quarter) > 1
    history: dict[int, list[tuple[str, str, str, str | None]]] = defaultdict(list)
    for row in document.table("flag_events").rows:
        history[int(str(row[0]))].append((str(row[3]), str(row[4]), str(row[5]), row[7]))  # type: ignore[arg-type]
    for flag_id in listed:
        expected = [(a.replace("_", " "), f"{before or 'new'} → {after}", actor, note) for fid, _k, a, before, after, actor, note in raw if fid == flag_id]
        assert history[flag_id] == expected
    assert [step[0] for step in history[aw.flag_id]] == ["raised", "explained", "challenged", "explained", "accepted"]


def test_unreconciled_items_and_evidence(db: Database) -> None:
    aw = audit_world(db)
    with db.read() as session:
        document = build(session, params(aw.icb_id, quarter=Q1), now=NOW)
        load_2 = session.scalar(text("SELECT id FROM journal_entry WHERE idempotency_key = 'load-2'"))
        evidence = session.execute(text("SELECT id, file_name, sha256, size_bytes FROM evidence ORDER BY id")).all()
    lines = document.table("unmatched_lines")
    assert [(r[1], r[2], r[4], r[5]) for r in lines.rows] == [(date(2026, 4, 10), 7_700, "+TOP UP", "card.csv")]
    entries = document.table("unmatched_entries")
    assert [(int(str(r[2])), r[1], r[5], r[6]) for r in entries.rows] == [(load_2, date(2026, 4, 9), 5_000, "ISF-0001")]
    shown = document.table("evidence")
    assert [(int(str(r[0])), r[3], r[6], r[5]) for r in shown.rows] == [(i, name, sha, size) for i, name, sha, size in evidence]
    assert shown.rows[0][9] == f"flag {aw.flag_id} (EXCLUDED_MCC)" and shown.rows[1][9].startswith("statement line ")  # type: ignore[union-attr]


def test_every_format_reads_back_to_the_same_totals_and_the_csv_neutralises_formulas(db: Database) -> None:
    aw = audit_world(db)
    with db.read() as session:
        document = build(session, params(aw.icb_id, quarter=Q1), now=NOW)
    debits = document.fact("trial_totals", "Debits in the period")
    assert debits == document.fact("trial_totals", "Credits in the period")

    rows = list(csv.reader(io.StringIO(render(document, Format.CSV).content.decode("utf-8-sig"))))
    header, body = csv_table(rows, "Trial balance: Trial balance: every account of every budget")
    assert body[-1][0] == "Total" and pence(body[-1][5]) == pence(body[-1][6]) == debits
    assert sum(pence(r[5]) for r in body[:-1]) == debits
    for row in body[:-1]:
        sign = 1 if row[3] == "Debit" else -1
        assert pence(row[7]) == pence(row[4]) + sign * (pence(row[5]) - pence(row[6]))
    cells = [cell for row in rows for cell in row]
    for dangerous in (FORMULA_DESCRIPTION, "+TOP UP", "-- no refund shown on the statement", "@sam"):
        assert "'" + dangerous in cells and dangerous not in cells
    negative = [r[7] for r in body[:-1] if r[7].startswith("-")]
    assert negative and all(re.fullmatch(r"-\d+\.\d\d", n) for n in negative)  # the card's cash went below zero: still a number
    _h, journal = csv_table(rows, "Journal: Every entry on these budgets in the period")
    assert pence(journal[-1][6]) == debits

    book = openpyxl.load_workbook(io.BytesIO(render(document, Format.XLSX).content))
    sheet = next(s for s in book.worksheets if [c.value for c in s[1]][:2] == ["Budget", "Account"])
    values = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] is not None]
    values = values[: [v[0] for v in values].index("Total") + 1]  # the table's note is written below it
    assert values[-1][0] == "Total" and to_pence(values[-1][5]) == to_pence(values[-1][6]) == debits
    assert sum(to_pence(r[5]) for r in values[:-1]) == debits

    pdf = pdf_text(render(document, Format.PDF).content)
    shown = money_words(int(debits))  # type: ignore[arg-type]
    assert re.search(rf"Debits in the period\s+{re.escape(shown)}", pdf) and re.search(rf"Credits in the period\s+{re.escape(shown)}", pdf)
    assert re.search(rf"Total\s+{re.escape(shown)}\s+{re.escape(shown)}", pdf)


def test_the_zip_holds_the_pack_every_evidence_file_and_a_true_manifest(db: Database) -> None:
    aw = audit_world(db)
    with db.read() as session:
        content = build_zip(session, params(aw.icb_id, quarter=Q1), now=NOW)
        evidence = session.execute(text("SELECT id, file_name FROM evidence ORDER BY id")).all()
    archive = zipfile.ZipFile(io.BytesIO(content))
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
    assert {row["path"] for row in manifest} | {"manifest.csv"} == set(archive.namelist())
    for row in manifest:
        data = archive.read(row["path"])
        assert hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == int(row["bytes"])
    (receipt_id, receipt_name), (note_id, note_name) = evidence
    assert (receipt_name, note_name) == ("receipt 1?.pdf", "notes:=1.txt")
    assert archive.read(f"evidence/{receipt_id}-receipt-1-.pdf") == PDF and archive.read(f"evidence/{note_id}-notes-1.txt") == NOTE
    assert {p for p in archive.namelist() if not p.startswith("evidence/")} == {
        "audit-pack-icb-devon-2026q1.csv", "audit-pack-icb-devon-2026q1.xlsx", "manifest.csv"
    }
    assert safe_file_name("../../etc/passwd") == "passwd" and safe_file_name("...") == "file" and safe_file_name("a b/c d.pdf") == "c-d.pdf"


def test_a_month_and_a_dates_period_and_the_catalogue(db: Database) -> None:
    aw = audit_world(db)
    with db.read() as session:
        april = report_kind("audit-pack").build(session, params(aw.icb_id, month="2026-04"), now=NOW)
        may = build(session, params(aw.icb_id, starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 31)), now=NOW)  # type: ignore[arg-type]
        raw = raw_trial(session, {"ISF-0001"}, date(2026, 5, 1), date(2026, 5, 31), aw.icb_id)
    assert april.period == "2026-04" and len(april.table("journal").rows) > 0
    assert check_trial_balance(may, raw) == 0 and may.table("journal").rows == ()
    assert may.table("trial_balance").totals is not None


def test_a_tampered_ledger_is_reported_not_hidden(sqlite_template: SqliteTemplate, tmp_path: Path) -> None:
    database = Database(sqlite_template.copy_to(tmp_path / "tampered.db"))
    try:
        aw = audit_world(database)
        with database.read() as session:
            entry_id = session.scalar(text("SELECT id FROM journal_entry WHERE idempotency_key = 'manual-1'"))
        Tamperer(database).execute(("UPDATE posting SET amount_pence = 2400 WHERE entry_id = ? AND amount_pence = 2500", (entry_id,)))
        with database.read() as session:
            document = build(session, params(aw.icb_id, quarter=Q1), now=NOW)
        problems = document.table("verify_problems").rows
        assert {p[0] for p in problems} >= {"balanced_per_fund", "content_hash"} and all(p[2] == str(entry_id) for p in problems)
        assert document.fact("trial_totals", "Debits equal credits") == "No: see the ledger check below"
        assert "problem" in document.summary[1] and "no problems" not in document.summary[1]
    finally:
        database.dispose()


# --- readers for the formats --------------------------------------------------------------------


def csv_table(rows: list[list[str]], heading: str) -> tuple[list[str], list[list[str]]]:
    start = rows.index([heading])
    body = []
    for row in rows[start + 2 :]:
        if not row:
            break
        body.append(row)
    return rows[start + 1], body


def pence(cell: str) -> int:
    return int(Decimal(cell) * 100) if cell else 0


def to_pence(value: object) -> int:
    return int(Decimal(str(value)) * 100) if value is not None else 0


def money_words(pence_: int) -> str:
    return f"{'-' if pence_ < 0 else ''}£{abs(pence_) // 100:,}.{abs(pence_) % 100:02d}"


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode("utf-8")


# --- the demo (SQLite) --------------------------------------------------------------------------


@pytest.fixture
def demo_database(report_demo: Database) -> Database:
    return report_demo


def test_the_demo_pack_for_a_month_agrees_with_the_raw_rows(demo_database: Database) -> None:
    first, last = date(2026, 7, 1), date(2026, 7, 31)
    with demo_database.read() as session:
        devon = session.scalar(select(Funder.id).where(Funder.code == "devon-icb"))
        started = time.perf_counter()
        document = build(session, params(devon, month="2026-07"), now=NOW)  # type: ignore[arg-type]
        took = time.perf_counter() - started
        references = set(document.table("budgets").values("budget"))
        raw = raw_trial(session, references, first, last, devon)  # type: ignore[arg-type]
        entries = raw_entries(session, references, first, last, devon)  # type: ignore[arg-type]
        purchase, file_name, line_no = session.execute(text(
            "SELECT e.id, i.file_name, l.line_no FROM journal_entry e JOIN reconciliation_match_part p ON p.active_entry_id = e.id "
            "JOIN reconciliation_match m ON m.id = p.match_id AND m.active_line_id IS NOT NULL "
            "JOIN statement_line l ON l.id = m.statement_line_id JOIN statement_import i ON i.id = l.import_id "
            "JOIN posting ps ON ps.entry_id = e.id AND ps.line_no = 1 JOIN account a ON a.id = ps.account_id JOIN budget b ON b.id = a.budget_id "
            "WHERE e.kind = 'card_purchase' AND e.entry_date BETWEEN '2026-07-01' AND '2026-07-31' AND b.reference = 'ISF-0003' ORDER BY e.id LIMIT 1"
        )).one()  # fmt: skip
        events = session.execute(text("SELECT flag_id, action, to_state FROM flag_event ORDER BY flag_id, at, id")).all()
    assert took < 10, f"the pack took {took:.1f} s"
    assert len(references) > 25 and "MA-0004" not in references  # Cornwall's
    debits = check_trial_balance(document, raw)
    assert {int(str(r[2])) for r in document.table("journal").rows} == entries
    assert document.table("journal").totals[document.table("journal").column_index("amount")] == debits  # type: ignore[index]
    assert f"{file_name} line {line_no}" in (provenance_of(document)[purchase][1] or "")
    shown: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in document.table("flag_events").rows:
        shown[int(str(row[0]))].append((str(row[3]), str(row[4]).split(" → ")[1]))
    for flag_id, steps in shown.items():
        assert steps == [(a.replace("_", " "), to) for f, a, to in events if f == flag_id]
    assert "no problems found" in document.summary[1]
