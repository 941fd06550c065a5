"""Evidence for flags and statement lines: receipts, invoices and timesheets a holder (or a
family on a direct payment) uploads. Files are checked to be what they say (a PDF starts
like a PDF), at most 10 MiB, and stored with their SHA-256; the same file for the same thing
uploaded again is the first upload. Another holder's flag or line is "not found"."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core import checks
from ledger.errors import InvalidInput, NotFound
from ledger.store.tables import Budget
from ledger.store.tables.flags import Evidence, Flag
from ledger.store.tables.statements import StatementImport, StatementLineRecord

ACTOR_LENGTH_MAX = 200
EVIDENCE_BYTES_MAX = 10 * 1024 * 1024
EVIDENCE_NOTE_LENGTH_MAX = 1000
FILE_NAME_LENGTH_MAX = 300


class EvidenceKind(StrEnum):
    RECEIPT = "receipt"
    INVOICE = "invoice"
    TIMESHEET = "timesheet"
    OTHER = "other"


# Evidence a person may upload, with how such a file starts (None: any text without NULs).
_FILE_SIGNATURES: dict[str, Callable[[bytes], bool] | None] = {
    "application/pdf": lambda content: content.startswith(b"%PDF-"),
    "image/jpeg": lambda content: content.startswith(b"\xff\xd8\xff"),
    "image/png": lambda content: content.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/heic": lambda content: content[4:8] == b"ftyp",
    "text/plain": None,
    "text/csv": None,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": lambda content: content.startswith(b"PK\x03\x04"),
}
ALLOWED_CONTENT_TYPES = tuple(_FILE_SIGNATURES)


def evidence_content(session: Session, evidence_id: int) -> Evidence:
    """The evidence row with its bytes (who may see it is decided by the caller's access check)."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"there is no evidence {evidence_id}", code="evidence_not_found")
    return evidence


def attach_evidence(
    session: Session,
    holder_id: int,
    *,
    kind: str,
    file_name: str,
    content_type: str,
    content: bytes,
    uploaded_by: str,
    flag_id: int | None = None,
    statement_line_id: int | None = None,
    budget_id: int | None = None,
    note: str | None = None,
) -> Evidence:
    """Store a receipt, invoice or timesheet for a holder, on a flag or statement line.
    Uploading the same file for the same things again returns the first upload."""
    evidence_kind = checks.choice(kind, EvidenceKind, "kind")
    name = _file_name(file_name)
    media_type = _checked_content(content_type, content)
    by = checks.required_text(uploaded_by, "uploaded_by", max_length=ACTOR_LENGTH_MAX)
    note = checks.text(note, "note", max_length=EVIDENCE_NOTE_LENGTH_MAX, required=False)
    budget_id = _check_evidence_targets(session, holder_id, flag_id, statement_line_id, budget_id)
    sha256 = hashlib.sha256(content).hexdigest()
    same = session.scalars(
        select(Evidence).where(
            Evidence.holder_id == holder_id, Evidence.sha256 == sha256, Evidence.kind == evidence_kind,
            Evidence.file_name == name, Evidence.flag_id.is_(None) if flag_id is None else Evidence.flag_id == flag_id,
            Evidence.statement_line_id.is_(None) if statement_line_id is None else Evidence.statement_line_id == statement_line_id,
        ).limit(1)
    ).first()  # fmt: skip
    if same is not None:
        return same
    evidence = Evidence(
        holder_id=holder_id, budget_id=budget_id, flag_id=flag_id, statement_line_id=statement_line_id,
        kind=evidence_kind, file_name=name, content_type=media_type, size_bytes=len(content), sha256=sha256,
        content=content, note=note, uploaded_by=by,
    )  # fmt: skip
    session.add(evidence)
    session.flush()
    return evidence


def _file_name(file_name: str) -> str:
    # Browsers may send a path ("C:\fakepath\receipt.pdf"): keep the name only.
    base = str(file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return checks.required_text(base, "file_name", max_length=FILE_NAME_LENGTH_MAX)


def _checked_content(content_type: str, content: bytes) -> str:
    media_type = str(content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in _FILE_SIGNATURES:
        raise InvalidInput(
            f"{media_type or 'a file without a type'} cannot be uploaded as evidence; allowed: PDF, JPEG, PNG, HEIC, text, CSV or an Excel workbook (.xlsx)",
            code="evidence_type_not_allowed",
            field="content_type",
            details={"allowed": list(ALLOWED_CONTENT_TYPES)},
        )
    if not isinstance(content, bytes) or not content:
        raise InvalidInput("the file is empty", code="evidence_empty", field="content")
    if len(content) > EVIDENCE_BYTES_MAX:
        raise InvalidInput(
            f"the file is {len(content):,} bytes; evidence may be at most {EVIDENCE_BYTES_MAX // (1024 * 1024)} MiB",
            code="evidence_too_large",
            field="content",
        )
    signature = _FILE_SIGNATURES[media_type]
    if (b"\x00" in content) if signature is None else not signature(content):
        raise InvalidInput(
            f"the file does not look like {media_type}", code="evidence_content_mismatch", field="content"
        )
    return media_type


def _check_evidence_targets(
    session: Session, holder_id: int, flag_id: int | None, statement_line_id: int | None, budget_id: int | None
) -> int | None:
    """Refuse a flag, line or budget of another holder (answered as not found); return the
    budget the evidence is about (the flag's when none is given)."""
    if flag_id is not None:
        flag = session.get(Flag, flag_id)
        if flag is None or flag.holder_id != holder_id:
            raise NotFound(f"there is no flag {flag_id}", code="flag_not_found")
        budget_id = budget_id if budget_id is not None else flag.budget_id
    if statement_line_id is not None:
        line_holder = session.scalar(
            select(StatementImport.holder_id)
            .join(StatementLineRecord, StatementLineRecord.import_id == StatementImport.id)
            .where(StatementLineRecord.id == statement_line_id)
        )
        if line_holder != holder_id:
            raise NotFound(f"there is no statement line {statement_line_id}", code="statement_line_not_found")
    if budget_id is not None:
        budget = session.get(Budget, budget_id)
        if budget is None or budget.holder_id != holder_id:
            raise NotFound(f"there is no budget {budget_id}", code="budget_not_found")
    return budget_id
