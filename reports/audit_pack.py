"""A funder's audit pack for a period (a quarter, a month or two dates): every budget it
funds, each budget's trial balance, the journal with where each entry came from, flags with
their whole history, the ledger check (``ledger.core.verify``), what is not yet reconciled, and
the evidence attached. :func:`build_zip` puts the pack's CSV and workbook in a ZIP with every
evidence file and a manifest of SHA-256 hashes.

An audit needs the whole ledger of each budget, so a jointly funded budget is shown whole
(the other funders' shares too), unlike the funder's own views, which show its share. The
reads are in ``reports.audit_reads``; this module lays them out.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.parties import get_funder
from ledger.core.balances import natural
from ledger.core.verify import Problem, verify
from ledger.core.vocabulary import AccountType
from ledger.errors import InvalidInput
from ledger.store.tables import Funder, JournalEntry, LedgerBook
from ledger.store.tables.flags import Evidence
from reports import audit_reads as reads
from reports.audit_reads import AuditScope
from reports.document import Column, Document, Fact, Facts, Paragraphs, Section, Table, ValueKind, table, totals_of
from reports.formatting import day_text, money_text, source_text
from reports.params import ReportParams
from reports.render import Format, render

PRINT_ROWS_MAX = 250
"""The PDF of a pack prints each long table's first rows and its totals; every row is in the
CSV, the XLSX and the ZIP (an ICB quarter's journal is thousands of pages otherwise)."""
KIND = "audit-pack"
HASH_SHOWN = 12
"""Characters of an entry's chain hash shown: enough to find it, short enough to read."""
M, C, D = ValueKind.MONEY, ValueKind.COUNT, ValueKind.DATE
WHOLE_BUDGETS_NOTE = (
    "This pack shows the whole ledger of every budget the funder pays for, including the other funders' shares of a jointly "
    "funded budget: an audit needs every posting. The funder's own share of each budget is in its funder summary and tracker."
)


@dataclass(frozen=True)
class Pack:
    """What the pack read, before it is laid out."""

    funder: Funder
    period_label: str
    scope: AuditScope
    budgets: list[reads.BudgetRow]
    problems: list[Problem]
    entries_checked: int
    books: int
    trial: list[reads.TrialLine]
    journal: list[reads.JournalLine]
    on_statements: dict[int, list[tuple[str, int]]]
    flags: list[reads.FlagWithHistory]
    open_lines: list[reads.OpenLine]
    open_entries: list[reads.OpenEntry]
    evidence: list[reads.EvidenceRow]


def read_pack(session: Session, params: ReportParams) -> Pack:
    if params.funder_id is None or params.period is None:
        raise InvalidInput("an audit pack is for one funder and one period", code="report_params", field="funder")
    funder = get_funder(session, params.funder_id)
    scope = AuditScope(params.funder_id, params.period.starts_on, params.period.ends_on)
    budgets = reads.budgets(session, scope)
    flags = reads.flags_with_history(session, scope)
    accounts = reads.statement_accounts(session, scope)
    return Pack(
        funder, params.period.label, scope, budgets, verify(session),
        int(session.scalar(select(func.count()).select_from(JournalEntry)) or 0),
        int(session.scalar(select(func.count()).select_from(LedgerBook)) or 0),
        reads.trial_balance(session, scope), reads.journal(session, scope), reads.statement_lines_of_entries(session, scope), flags,
        reads.unmatched_lines(session, scope, accounts), reads.unmatched_entries(session, scope, accounts, {b.budget_id: b.reference for b in budgets}),
        reads.evidence(session, scope, [f.flag.id for f in flags]),  # type: ignore[misc]
    )  # fmt: skip


def build(session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
    return document(read_pack(session, params), now)


def document(pack: Pack, now: datetime) -> Document:
    scope, funder = pack.scope, pack.funder
    sections = (
        Section("budgets", "Budgets in this pack", (_budgets_table(pack),), intro=WHOLE_BUDGETS_NOTE),
        _trial_section(pack),
        Section("journal", "Journal", _journal_tables(pack)),
        Section("flags", "Flags and their history", _flag_tables(pack)),
        _verify_section(pack),
        Section("unreconciled", "Not yet reconciled", _unreconciled_tables(pack)),
        Section("evidence", "Evidence attached", (_evidence_table(pack),)),
    )
    return Document(
        kind=KIND,
        title="Audit pack",
        subtitle=f"{funder.name} · {day_text(scope.first)} to {day_text(scope.last)}",
        subject=funder.code,
        period=pack.period_label,
        period_start=scope.first,
        period_end=scope.last,
        generated_at=now,
        summary=tuple(_summary(pack)),
        sections=sections,
        organisation=funder.name,
        print_rows_max=PRINT_ROWS_MAX,
    )


def _summary(pack: Pack) -> list[str]:
    entries = len({line.entry_id for line in pack.journal})
    debits = sum(t.debits for t in pack.trial)
    credits = sum(t.credits for t in pack.trial)
    events = sum(len(f.events) for f in pack.flags)
    return [
        f"{len(pack.budgets)} budget{'s' if len(pack.budgets) != 1 else ''} funded by {pack.funder.name}: {entries:,} entries and "
        f"{len(pack.journal):,} postings in the period, {money_text(debits)} of debits and {money_text(credits)} of credits.",
        _verify_words(pack),
        f"{len(pack.flags)} flag{'s' if len(pack.flags) != 1 else ''} open or changed in the period, with {events} event{'s' if events != 1 else ''} in their history.",
        f"Not yet reconciled: {len(pack.open_lines)} statement line{'s' if len(pack.open_lines) != 1 else ''} and "
        f"{len(pack.open_entries)} entr{'ies' if len(pack.open_entries) != 1 else 'y'} in the ledger.",
        f"{len(pack.evidence)} piece{'s' if len(pack.evidence) != 1 else ''} of evidence attached.",
        "Whole budgets are shown, including other funders' shares of jointly funded budgets.",
    ]


def _budgets_table(pack: Pack) -> Table:
    rows = [
        (b.reference, b.holder, b.lead_funder, "Lead funder" if b.is_lead else "Funding line", b.period_start, b.period_end,
         f"closed on {day_text(b.closed_on)}" if b.closed_on else b.status)
        for b in pack.budgets
    ]  # fmt: skip
    columns = (
        Column("budget", "Budget"), Column("holder", "Held by"), Column("lead", "Lead funder"), Column("funds_as", "This funder pays as"),
        Column("starts", "Plan from", D), Column("ends", "Plan to", D), Column("status", "Status"),
    )  # fmt: skip
    return table("budgets", "Budgets", columns, rows, empty_text="The funder funds no budget in this period.")


# --- trial balance ------------------------------------------------------------------------


def _trial_section(pack: Pack) -> Section:
    debits = sum(t.debits for t in pack.trial)
    credits = sum(t.credits for t in pack.trial)
    closing_debit = sum(t.closing_signed for t in pack.trial if t.closing_signed > 0)
    closing_credit = -sum(t.closing_signed for t in pack.trial if t.closing_signed < 0)
    if not pack.problems:
        # With every entry balanced within its fund (verify found nothing), these must agree.
        assert debits == credits, f"trial balance: debits {debits} ≠ credits {credits}"
        assert closing_debit == closing_credit, f"trial balance: debit balances {closing_debit} ≠ credit balances {closing_credit}"
    balanced = debits == credits and closing_debit == closing_credit
    facts = Facts("trial_totals", None, (
        Fact("Debits in the period", debits, M),
        Fact("Credits in the period", credits, M),
        Fact("Balances on the debit side at the end", closing_debit, M),
        Fact("Balances on the credit side at the end", closing_credit, M),
        Fact("Debits equal credits", "Yes" if balanced else "No: see the ledger check below"),
        Fact("Accounts", len(pack.trial), C, f"{sum(1 for t in pack.trial if t.postings)} with postings by the period's end"),
    ))  # fmt: skip
    rows = []
    for t in pack.trial:
        if t.postings:
            side = "Debit" if AccountType(t.type).debit_normal else "Credit"
            name = t.name.removeprefix(f"{t.budget} ")
            rows.append((t.budget, t.code, name, side, natural(t.type, t.opening_signed), t.debits, t.credits, natural(t.type, t.closing_signed)))
    never = len(pack.trial) - len(rows)
    columns = (
        Column("budget", "Budget"), Column("account", "Account"), Column("name", "Name"), Column("side", "Normal side"),
        Column("opening", "Opening balance", M), Column("debits", "Debits", M), Column("credits", "Credits", M), Column("closing", "Closing balance", M),
    )  # fmt: skip
    totals = ("Total", None, None, None, None, debits, credits, None) if rows else None
    block = table(
        "trial_balance", "Trial balance: every account of every budget", columns, rows, totals_row=totals,
        note="Balances are in each account's natural sign: assets and expenses are debit balances, liabilities and funds credit "
        "balances. Debits and credits are the period's postings, both as positive amounts. "
        + (f"{never} account{'s' if never != 1 else ''} with no posting at all by the period's end (nothing in, nothing out, a zero balance) "
           f"{'are' if never != 1 else 'is'} left out." if never else ""),
    )  # fmt: skip
    return Section("trial_balance", "Trial balance", (facts, block))


# --- journal ------------------------------------------------------------------------------


JOURNAL_COLUMNS = (
    Column("date", "Date", D), Column("book", "Book and seq"), Column("entry", "Entry"), Column("kind", "Kind"),
    Column("description", "Description"), Column("postings", "Postings on these budgets"), Column("amount", "Amount", M),
)  # fmt: skip
PROVENANCE_COLUMNS = (
    Column("entry", "Entry"), Column("key", "Idempotency key"), Column("hash", "Entry hash"),
    Column("source", "Posted from"), Column("statement", "On statement"),
)  # fmt: skip


def posting_words(account: str, amount_pence: int) -> str:
    return f"{account} {money_text(abs(amount_pence))} {'Dr' if amount_pence > 0 else 'Cr'}"


def _journal_tables(pack: Pack) -> tuple[Table, Table]:
    """One row per entry in each: what it moved on these budgets (its debits there, which
    equal its credits: an entry balances within each budget), and where it came from. Two
    tables, joined by the entry's number, so each fits a printed page."""
    rows, provenance = [], []
    for entry_lines in _by_entry(pack.journal):
        line = entry_lines[0]
        kind = line.kind.replace("_", " ") + (f" (reverses entry {line.reverses_entry_id})" if line.reverses_entry_id else "")
        rows.append((
            line.entry_date, f"{line.book} {line.seq}", str(line.entry_id), kind, line.description,
            "; ".join(posting_words(l.account, l.amount_pence) for l in entry_lines), sum(l.amount_pence for l in entry_lines if l.amount_pence > 0),
        ))  # fmt: skip
        statements = "; ".join(f"{name} line {number}" for name, number in pack.on_statements.get(line.entry_id, ()))
        cut = line.cut  # its key and file may name other budgets' money, like its description
        provenance.append((
            str(line.entry_id), "(not shown: the entry is partly other budgets' or funders')" if cut else line.idempotency_key,
            line.entry_hash[:HASH_SHOWN], None if cut else source_text(line.source_file, line.source_line),
            statements or None,
        ))  # fmt: skip
    journal = table(
        "journal", "Every entry on these budgets in the period", JOURNAL_COLUMNS, rows, totals_row=totals_of(JOURNAL_COLUMNS, rows) if rows else None,
        note="Postings: each posting on these budgets' accounts, debit (Dr) or credit (Cr). Amount: the entry's debits on these "
        "budgets, which equal its credits.",
        empty_text="No entry in the period.",
    )  # fmt: skip
    sources = table(
        "journal_provenance", "Where each entry came from", PROVENANCE_COLUMNS, provenance,
        note="Posted from: the file and line an entry was made from. On statement: the bank or card statement lines it is "
        "matched to. Entry hash: the start of the entry's link in its book's hash chain.",
        empty_text="No entry in the period.",
    )  # fmt: skip
    return journal, sources


def _by_entry(lines: list[reads.JournalLine]) -> list[list[reads.JournalLine]]:
    grouped: list[list[reads.JournalLine]] = []
    for line in lines:
        if grouped and grouped[-1][0].entry_id == line.entry_id:
            grouped[-1].append(line)
        else:
            grouped.append([line])
    return grouped


# --- flags --------------------------------------------------------------------------------


def _moment(at: datetime) -> str:
    local = reads.london(at)
    return f"{local:%Y-%m-%d %H:%M}"


def _flag_tables(pack: Pack) -> tuple[Table, Table]:
    flags = table(
        "flags", "Flags open or changed in the period",
        (Column("flag", "Flag"), Column("budget", "Budget"), Column("code", "Code"), Column("severity", "Severity"),
         Column("occurred_on", "Happened on", D), Column("amount", "Amount", M), Column("reason", "What happened"), Column("state", "State now")),
        [(str(f.flag.id), f.budget, f.flag.code, f.flag.severity, f.flag.occurred_on, f.flag.amount_pence, f.flag.reason, f.flag.state.replace("_", " "))
         for f in pack.flags],
        row_marks=[None if f.flag.state in reads.CLOSED_STATES else "open" for f in pack.flags],
        empty_text="No flag was open or changed in the period.",
    )  # fmt: skip
    events = table(
        "flag_events", "Each flag's history, oldest first (times are UK time)",
        (Column("flag", "Flag"), Column("budget", "Budget"), Column("at", "When"), Column("action", "Action"), Column("change", "From → to"),
         Column("actor", "Who"), Column("role", "Role"), Column("note", "Note")),
        [(str(f.flag.id), f.budget, _moment(e.at), e.action.replace("_", " "), f"{e.from_state or 'new'} → {e.to_state}", e.actor, e.actor_role, e.note)
         for f in pack.flags for e in f.events],
        empty_text="No history to show.",
    )  # fmt: skip
    return flags, events


# --- verify -------------------------------------------------------------------------------


def _holder_ids(pack: Pack) -> set[int]:
    return {b.holder_id for b in pack.budgets}


def _verify_words(pack: Pack) -> str:
    if not pack.problems:
        return f"Ledger check: no problems found: {pack.entries_checked:,} entries checked in {pack.books} book{'s' if pack.books != 1 else ''}, every hash chain intact."
    ours = [p for p in pack.problems if p.book_id in _holder_ids(pack) or p.book_id is None]
    return (
        f"Ledger check: {len(pack.problems)} problem{'s' if len(pack.problems) != 1 else ''} found in {pack.entries_checked:,} entries, "
        f"{len(ours)} of them in the books holding these budgets."
    )


def _verify_section(pack: Pack) -> Section:
    holders = _holder_ids(pack)
    ours = [p for p in pack.problems if p.book_id in holders or p.book_id is None]
    lines = [_verify_words(pack), "The check reads every entry of every book again: each balances within each fund, its hash matches what it says, and each book's chain links from its first entry to its head."]
    if len(ours) < len(pack.problems):
        lines.append(f"{len(pack.problems) - len(ours)} problems are in books that hold none of these budgets and are not listed here.")
    problems = table(
        "verify_problems", "Problems found in the books holding these budgets",
        (Column("check", "Check"), Column("book", "Book"), Column("entry", "Entry"), Column("seq", "Seq"), Column("source", "From file"), Column("problem", "Problem")),
        [(p.check, str(p.book_id) if p.book_id else None, str(p.entry_id) if p.entry_id else None, str(p.seq) if p.seq else None,
          source_text(p.source_file, p.source_line), p.message) for p in ours],
        empty_text="No problems.",
    )  # fmt: skip
    return Section("verify", "Ledger check", (Paragraphs("verify_result", None, tuple(lines)), problems))


# --- unreconciled -------------------------------------------------------------------------


def _unreconciled_tables(pack: Pack) -> tuple[Table, Table]:
    lines = table(
        "unmatched_lines", "Statement lines nothing in the ledger stands for yet",
        (Column("account", "Statement of"), Column("posted_on", "Date", D), Column("amount", "Amount", M), Column("description", "Description"),
         Column("payee", "Payee"), Column("file", "File"), Column("line", "Line")),
        [(l.account, l.posted_on, l.amount_pence, l.description, l.payee, l.file_name, str(l.line_no)) for l in pack.open_lines],
        totals=True, empty_text="Every statement line is matched.",
        note="Lines dated on or before the period's end that are still unmatched now. A client bank account holds many budgets' "
        "money, so its unmatched lines are all listed.",
    )  # fmt: skip
    entries = table(
        "unmatched_entries", "Entries no statement line stands for yet",
        (Column("account", "Statement of"), Column("date", "Date", D), Column("entry", "Entry"), Column("kind", "Kind"),
         Column("description", "Description"), Column("amount", "Amount for these budgets", M), Column("budgets", "Budgets")),
        [(o.account, o.candidate.entry_date, str(o.candidate.entry_id), o.candidate.kind, o.description, o.share_pence, ", ".join(o.budgets))
         for o in pack.open_entries],
        totals=True, empty_text="Every entry the statements cover is matched.",
        note="Entries on the money a statement shows, dated within the days its lines cover and by the period's end.",
    )  # fmt: skip
    return lines, entries


# --- evidence -----------------------------------------------------------------------------


def _attached_to(row: reads.EvidenceRow) -> str:
    parts = []
    if row.flag_id is not None:
        parts.append(f"flag {row.flag_id} ({row.flag_code})")
    if row.line_file is not None:
        parts.append(f"statement line {row.line_no} of {row.line_file}")
    return " and ".join(parts) or "the budget"


def _evidence_table(pack: Pack) -> Table:
    return table(
        "evidence", "Receipts, invoices and timesheets attached",
        (Column("id", "Evidence"), Column("budget", "Budget"), Column("kind", "Kind"), Column("file", "File name"), Column("type", "Type"),
         Column("bytes", "Bytes", C), Column("sha256", "SHA-256"), Column("uploaded_by", "Uploaded by"), Column("uploaded_at", "Uploaded at"),
         Column("attached_to", "Attached to"), Column("note", "Note")),
        [(str(e.evidence_id), e.budget, e.kind, e.file_name, e.content_type, e.size_bytes, e.sha256, e.uploaded_by, _moment(e.uploaded_at), _attached_to(e), e.note)
         for e in pack.evidence],
        totals=True, empty_text="No evidence is attached to these budgets' flags or statement lines in the period.",
        note="Each file is in the pack's ZIP under evidence/, with its SHA-256 in the manifest.",
    )  # fmt: skip


# --- the ZIP ------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
FILE_NAME_MAX = 120


def safe_file_name(name: str) -> str:
    """A file name safe in any ZIP tool: letters, digits, dot, dash and underscore; no path,
    no leading dot."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("-", base).strip("-.")[:FILE_NAME_MAX]
    return cleaned or "file"


def build_zip(session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> bytes:
    """The pack as a ZIP: its CSV and workbook, every evidence file under
    ``evidence/<id>-<file name>``, and ``manifest.csv`` (path, SHA-256, bytes) of them all."""
    pack = read_pack(session, params)
    doc = document(pack, now)
    stamp = (max(now.year, 1980), now.month, now.day, now.hour, now.minute, now.second)
    manifest: list[tuple[str, str, int]] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path: str, content: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(path, date_time=stamp), content, compress_type=zipfile.ZIP_DEFLATED)
            manifest.append((path, hashlib.sha256(content).hexdigest(), len(content)))

        add(f"{doc.file_stem}.csv", render(doc, Format.CSV).content)
        add(f"{doc.file_stem}.xlsx", render(doc, Format.XLSX).content)
        for row in pack.evidence:
            content = session.scalar(select(Evidence.content).where(Evidence.id == row.evidence_id))
            add(f"evidence/{row.evidence_id}-{safe_file_name(row.file_name)}", bytes(content or b""))
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(("path", "sha256", "bytes"))
        writer.writerows(manifest)
        archive.writestr(zipfile.ZipInfo("manifest.csv", date_time=stamp), text.getvalue().encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


__all__ = ["KIND", "Pack", "build", "build_zip", "document", "read_pack", "safe_file_name"]
