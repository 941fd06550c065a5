"""A flag as people see it: its history, evidence (without the bytes) and repayment notices, and
the same as JSON-ready values."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.core.money import format_amount
from ledger.errors import NotFound
from ledger.flags.states import allowed_actions
from ledger.store.tables.flags import Evidence, Flag, FlagEvent, RepaymentNotice


@dataclass(frozen=True, slots=True)
class FlagEventView:
    id: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    actor_role: str
    note: str | None
    evidence_ids: tuple[int, ...]
    entry_id: int | None
    load_offset_id: int | None
    notice_id: int | None
    plan_version_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class EvidenceSummary:
    """An evidence file without its bytes (``evidence_content`` gives those)."""

    id: int
    kind: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    note: str | None
    flag_id: int | None
    statement_line_id: int | None


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    flag_id: int
    budget_id: int
    funder_id: int | None
    amount_pence: int
    reasons: str
    repay_by: date
    repayer: str
    issued_by: str
    issued_on: date
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FlagView:
    id: int
    cause_key: str
    holder_id: int
    budget_id: int | None
    funder_id: int | None
    code: str
    severity: str
    rule_id: str
    rule_version: str
    reason: str
    amount_pence: int | None
    occurred_on: date
    account_id: int | None
    statement_line_id: int | None
    entry_id: int | None
    state: str
    raised_at: datetime
    state_changed_at: datetime
    events: tuple[FlagEventView, ...]
    """Oldest first."""
    evidence: tuple[EvidenceSummary, ...]
    """Attached to the flag or its statement line, or given with an explanation."""
    notices: tuple[NoticeView, ...]

    @property
    def allowed_actions(self) -> tuple[str, ...]:
        return allowed_actions(self.state)


def flag_view(session: Session, flag_id: int) -> FlagView:
    flag = _get_flag(session, flag_id)
    events = tuple(_event_view(e) for e in session.scalars(select(FlagEvent).where(FlagEvent.flag_id == flag_id).order_by(FlagEvent.id)))
    given = sorted({evidence_id for event in events for evidence_id in event.evidence_ids})
    attached = or_(Evidence.flag_id == flag_id, Evidence.id.in_(given))
    if flag.statement_line_id is not None:
        attached = or_(attached, Evidence.statement_line_id == flag.statement_line_id)
    evidence = tuple(
        _evidence_summary(e)
        for e in session.scalars(select(Evidence).where(Evidence.holder_id == flag.holder_id, attached).order_by(Evidence.id))
    )
    notices = tuple(
        _notice_view(n) for n in session.scalars(select(RepaymentNotice).where(RepaymentNotice.flag_id == flag_id).order_by(RepaymentNotice.id))
    )
    return FlagView(
        flag.id, flag.cause_key, flag.holder_id, flag.budget_id, flag.funder_id, flag.code, flag.severity,
        flag.rule_id, flag.rule_version, flag.reason, flag.amount_pence, flag.occurred_on, flag.account_id,
        flag.statement_line_id, flag.entry_id, flag.state, flag.raised_at, flag.state_changed_at,
        events, evidence, notices,
    )  # fmt: skip


def view_as_dict(view: FlagView) -> dict[str, Any]:
    """A flag view as JSON-ready values: amounts as decimal strings ("45.00"), dates ISO,
    timestamps ISO in UTC ("…Z"); evidence without its bytes."""
    flag = {name: _json_value(getattr(view, name)) for name in _FLAG_FIELDS}
    flag["amount"] = None if view.amount_pence is None else format_amount(view.amount_pence)
    flag["allowed_actions"] = list(view.allowed_actions)
    flag["events"] = [{**_plain_dict(e), "evidence_ids": list(e.evidence_ids)} for e in view.events]
    flag["evidence"] = [_plain_dict(e) for e in view.evidence]
    flag["notices"] = [
        {**{k: v for k, v in _plain_dict(n).items() if k != "amount_pence"}, "amount": format_amount(n.amount_pence)}
        for n in view.notices
    ]
    return flag


_FLAG_FIELDS = (
    "id", "cause_key", "holder_id", "budget_id", "funder_id", "code", "severity", "rule_id", "rule_version", "reason",
    "occurred_on", "account_id", "statement_line_id", "entry_id", "state", "raised_at", "state_changed_at",
)  # fmt: skip


def _plain_dict(view: FlagEventView | EvidenceSummary | NoticeView) -> dict[str, Any]:
    return {f.name: _json_value(getattr(view, f.name)) for f in fields(view)}


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def notice_view(session: Session, notice_id: int) -> NoticeView:
    notice = session.get(RepaymentNotice, notice_id)
    if notice is None:
        raise NotFound(f"there is no repayment notice {notice_id}", code="notice_not_found")
    return _notice_view(notice)


def _get_flag(session: Session, flag_id: int) -> Flag:
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise NotFound(f"there is no flag {flag_id}", code="flag_not_found")
    return flag


def _event_view(event: FlagEvent) -> FlagEventView:
    return FlagEventView(
        event.id, event.action, event.from_state, event.to_state, event.actor, event.actor_role, event.note,
        tuple(json.loads(event.evidence_ids)), event.entry_id, event.load_offset_id, event.notice_id,
        event.plan_version_id, event.at,
    )  # fmt: skip


def _evidence_summary(evidence: Evidence) -> EvidenceSummary:
    return EvidenceSummary(
        evidence.id, evidence.kind, evidence.file_name, evidence.content_type, evidence.size_bytes, evidence.sha256,
        evidence.uploaded_by, evidence.uploaded_at, evidence.note, evidence.flag_id, evidence.statement_line_id,
    )  # fmt: skip


def _notice_view(notice: RepaymentNotice) -> NoticeView:
    return NoticeView(
        notice.id, notice.flag_id, notice.budget_id, notice.funder_id, notice.amount_pence, notice.reasons,
        notice.repay_by, notice.repayer, notice.issued_by, notice.issued_on, notice.text, notice.created_at,
    )  # fmt: skip


__all__ = ["EvidenceSummary", "FlagEventView", "FlagView", "NoticeView", "flag_view", "notice_view", "view_as_dict"]
