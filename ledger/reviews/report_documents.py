"""Keeping generated documents: each version beside the last, never changed.

The ledger does not know what a document says: the reports layer hands over the view model
(JSON) and its HTML page; this module compresses and stores them, numbers the versions, and
finds them again. "Once per budget and quarter" is :func:`has_document`; "made again on
demand" is another :func:`store_document`, which takes the next version.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal, visible_budget_ids
from ledger.core import checks
from ledger.errors import NotFound
from ledger.store.tables.base import utcnow
from ledger.store.tables.report_documents import ReportDocument

STORE_ATTEMPTS = 5
DOCUMENTS_PAGE_MAX = 500


class Trigger(StrEnum):
    SCHEDULED = "scheduled"
    """Made by the scheduler after a quarter or month ends."""
    ON_DEMAND = "on_demand"


@dataclass(frozen=True, slots=True)
class DocumentToStore:
    kind: str
    params_key: str
    subject: str
    period: str
    title: str
    model_json: str
    html: str
    budget_id: int | None = None
    holder_id: int | None = None
    funder_id: int | None = None


def compress(data: bytes) -> bytes:
    """gzip with no timestamp, so the same content always compresses to the same bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def store_document(session: Session, document: DocumentToStore, *, trigger: str, generated_by: str, now: datetime | None = None) -> ReportDocument:
    """Keep ``document`` as the next version of its ``params_key``. Two processes storing at
    once each get a version of their own (the loser of a race retries with the next number)."""
    trigger = checks.choice(trigger, Trigger, "trigger")
    who = checks.required_text(generated_by, "generated_by", max_length=200)
    model_bytes = document.model_json.encode("utf-8")
    row_values = {
        "kind": document.kind,
        "params_key": document.params_key,
        "subject": document.subject[:200],
        "period": document.period,
        "budget_id": document.budget_id,
        "holder_id": document.holder_id,
        "funder_id": document.funder_id,
        "title": document.title[:300],
        "trigger": trigger,
        "generated_by": who,
        "generated_at": now or utcnow(),
        "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "model_gzip": compress(model_bytes),
        "html_gzip": compress(document.html.encode("utf-8")),
    }
    for _attempt in range(STORE_ATTEMPTS):
        version = (session.scalar(select(func.max(ReportDocument.version)).where(ReportDocument.params_key == document.params_key)) or 0) + 1
        row = ReportDocument(version=version, **row_values)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            continue
        return row
    raise RuntimeError(f"could not store a new version of {document.params_key} after {STORE_ATTEMPTS} tries")


def has_document(session: Session, params_key: str) -> bool:
    return session.scalar(select(ReportDocument.id).where(ReportDocument.params_key == params_key).limit(1)) is not None


def keys_with_documents(session: Session, kind: str, period: str) -> set[str]:
    """The ``params_key`` of every document of ``kind`` kept for ``period`` (one query, for
    the scheduler's "once per budget and quarter")."""
    rows = session.scalars(select(ReportDocument.params_key).where(ReportDocument.kind == kind, ReportDocument.period == period).distinct())
    return set(rows)


def get_document(session: Session, document_id: int) -> ReportDocument:
    row = session.get(ReportDocument, document_id)
    if row is None:
        raise NotFound(f"there is no document {document_id}", code="document_not_found")
    return row


def document_version(session: Session, params_key: str, version: int | None = None) -> ReportDocument | None:
    """The given version of a document, or its latest; None when none is kept."""
    query = select(ReportDocument).where(ReportDocument.params_key == params_key)
    query = query.where(ReportDocument.version == version) if version is not None else query.order_by(ReportDocument.version.desc())
    return session.scalars(query.limit(1)).first()


def list_documents(
    session: Session,
    *,
    kind: str | None = None,
    budget_id: int | None = None,
    holder_id: int | None = None,
    funder_id: int | None = None,
    period: str | None = None,
    params_key: str | None = None,
    limit: int = 100,
    offset: int = 0,
    visible: ColumnElement[bool] | None = None,
) -> list[ReportDocument]:
    """Documents kept, newest first, without their content (loaded only when read);
    ``visible`` limits them to what a principal may see (``documents_visible_to``)."""
    query = select(ReportDocument)
    if visible is not None:
        query = query.where(visible)
    for column, wanted in (
        (ReportDocument.kind, kind), (ReportDocument.budget_id, budget_id), (ReportDocument.holder_id, holder_id),
        (ReportDocument.funder_id, funder_id), (ReportDocument.period, period), (ReportDocument.params_key, params_key),
    ):  # fmt: skip
        if wanted is not None:
            query = query.where(column == wanted)
    query = query.order_by(ReportDocument.generated_at.desc(), ReportDocument.id.desc()).offset(offset).limit(min(limit, DOCUMENTS_PAGE_MAX))
    return list(session.scalars(query))


def documents_visible_to(principal: Principal) -> ColumnElement[bool] | None:
    """The documents a principal may see: of budgets it may see, of its own holder, and (an
    auditor) its own funder's; None for all."""
    if principal.is_admin:
        return None
    budgets = visible_budget_ids(principal)
    seen = ReportDocument.budget_id.in_(budgets) if budgets is not None else ReportDocument.budget_id.is_not(None)
    if principal.is_holder:
        seen = or_(seen, and_(ReportDocument.budget_id.is_(None), ReportDocument.holder_id == principal.holder_id))
    if principal.is_auditor:
        seen = or_(seen, and_(ReportDocument.budget_id.is_(None), ReportDocument.holder_id.is_(None), ReportDocument.funder_id == principal.funder_id))
    return seen


def model_json_of(row: ReportDocument) -> str:
    return gzip.decompress(row.model_gzip).decode("utf-8")


def html_of(row: ReportDocument) -> str:
    return gzip.decompress(row.html_gzip).decode("utf-8")
