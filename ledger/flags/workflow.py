"""What happens to a flag after it is raised: explained, accepted or challenged, money
reallocated by plan revision, repayment required by notice and recovered, closed.

``ledger.flags.raising`` raises flags (state ``open``); this module moves them on. Each step is one
function taking the actor and the role they act in, and returning the flag with its whole
history. Every step:

- takes the holder's book lock, then reads the flag, so two people acting on one flag at once
  are served one after the other and the second sees what the first did;
- is refused, changing nothing, when the role may not take it (``flag_role_not_allowed``)
  or the flag's state does not allow it (``flag_transition_not_allowed``, naming the state
  and what is allowed now);
- sets the flag's state and appends one ``flag_event`` (the history is append-only; on
  PostgreSQL the application role cannot change or delete its rows);
- sent again exactly (same step, actor, role and words) when the flag is already where that
  step took it, returns the flag as it is without a second event: a retried request is safe.

Who may do what: the holder (or, on a budget with a direct payment, the family) explains and
asks for reconsideration; the funder accepts, challenges, reallocates, requires repayment,
records the recovery and closes; the system closes a flag whose cause went away.

A repayment notice says what regulation 15 of the NHS (Direct Payments) Regulations 2013
requires it to say: the reasons, the amount, the time to repay and who repays; and that the
recipient may ask for the decision to be reconsidered (reg. 15(4)). It names the budget by
its reference, never the person.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.core import checks
from ledger.core.accounts import account_ids_by_code, budget_account_code
from ledger.budgets.budget import get_budget, parts_of
from ledger.core.entries import NewEntry, NewPosting
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.core.journal import load_entry, lock_book, post_entry
from ledger.loads.offsets import offset_against_loads
from ledger.core.money import AMOUNT_PENCE_MAX, format_amount
from ledger.budgets.plans import get_version
from ledger.flags.repayment_notices import plain_date, repayment_notice_text
from ledger.store.tables import Account, Budget, Funder, utcnow
from ledger.store.tables.flags import Evidence, Flag, FlagEvent, RepaymentNotice
from ledger.core.vocabulary import AccountKind, EntryKind, ManagementOption, PlanStatus

NOTE_LENGTH_MAX = 4000
ACTOR_LENGTH_MAX = 200
EVIDENCE_PER_STEP_MAX = 20
SURPLUS_HELD = "SURPLUS_HELD"
SYSTEM = "system"


class FlagState(StrEnum):
    """A flag's state (the same text ``ledger.flags.raising`` raises flags in: ``open``)."""

    OPEN = "open"
    EXPLAINED = "explained"
    CHALLENGED = "challenged"
    ACCEPTED = "accepted"
    REALLOCATED = "reallocated"
    RECOVERY_REQUESTED = "recovery_requested"
    RECOVERED = "recovered"
    CLOSED = "closed"


class ActorRole(StrEnum):
    HOLDER = "holder"
    FAMILY = "family"
    """The person or their representative: acts only on a budget with a direct payment."""
    FUNDER = "funder"
    SYSTEM = "system"


class RecoveryMethod(StrEnum):
    REPAYMENT = "repayment"
    """The money is paid back onto the card or into the account: the spend is undone."""
    OFFSET = "offset"
    """The money on the card pays for the next loads instead (``ledger.loads.offsets``)."""


class RecoveryInto(StrEnum):
    CARD = "card"
    CASH = "cash"



@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    """What the history calls the step."""
    from_states: frozenset[FlagState]
    to_state: FlagState
    roles: frozenset[ActorRole]


_S = FlagState
_WORKING = frozenset({_S.OPEN, _S.EXPLAINED, _S.CHALLENGED})
_PEOPLE = frozenset({ActorRole.HOLDER, ActorRole.FAMILY})
_FUNDER = frozenset({ActorRole.FUNDER})
TRANSITIONS: dict[str, Transition] = {
    "explain": Transition("explained", frozenset({_S.OPEN, _S.CHALLENGED}), _S.EXPLAINED, _PEOPLE),
    "accept": Transition("accepted", frozenset({_S.EXPLAINED}), _S.ACCEPTED, _FUNDER),
    "challenge": Transition("challenged", frozenset({_S.EXPLAINED}), _S.CHALLENGED, _FUNDER),
    "reallocate": Transition("reallocated", _WORKING, _S.REALLOCATED, _FUNDER),
    "request_recovery": Transition("recovery_requested", _WORKING, _S.RECOVERY_REQUESTED, _FUNDER),
    "ask_reconsideration": Transition("reconsideration_asked", frozenset({_S.RECOVERY_REQUESTED}), _S.OPEN, _PEOPLE),
    "record_recovery": Transition("recovered", frozenset({_S.RECOVERY_REQUESTED}), _S.RECOVERED, _FUNDER),
    "close": Transition("closed", frozenset({_S.ACCEPTED, _S.REALLOCATED, _S.RECOVERED}), _S.CLOSED, _FUNDER),
    "close_by_system": Transition("closed_by_system", frozenset(FlagState) - {_S.CLOSED}, _S.CLOSED, frozenset({ActorRole.SYSTEM})),
}
"""Keyed by the function that takes the step (what a page offers as an action)."""



# --- views ---------------------------------------------------------------------------------


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


def allowed_actions(state: str) -> tuple[str, ...]:
    """The steps a person can take from ``state`` (whoever may take them)."""
    return tuple(name for name, t in TRANSITIONS.items() if state in t.from_states and ActorRole.SYSTEM not in t.roles)


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


# --- the steps -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    actor: str
    actor_role: str
    note: str
    evidence_ids: tuple[int, ...] = ()
    plan_version_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Links:
    """What a step made or used, recorded on its event."""

    entry_id: int | None = None
    load_offset_id: int | None = None
    notice_id: int | None = None


def explain(
    session: Session, flag_id: int, note: str, evidence_ids: Sequence[int] = (), *, actor: str, actor_role: str
) -> FlagView:
    """The holder (or the family, on a direct payment) says what the money was for."""
    ids = _checked_evidence_ids(evidence_ids)
    step = _step("explain", actor, actor_role, note, evidence_ids=ids)
    return _take(session, flag_id, step, lambda flag: _check_evidence_of_holder(session, flag, ids))


def accept(session: Session, flag_id: int, note: str, *, actor: str, actor_role: str = ActorRole.FUNDER) -> FlagView:
    return _take(session, flag_id, _step("accept", actor, actor_role, note))


def challenge(session: Session, flag_id: int, note: str, *, actor: str, actor_role: str = ActorRole.FUNDER) -> FlagView:
    """The funder is not satisfied by the explanation; the holder explains again."""
    return _take(session, flag_id, _step("challenge", actor, actor_role, note))


def reallocate(
    session: Session, flag_id: int, plan_version_id: int, note: str, *, actor: str, actor_role: str = ActorRole.FUNDER
) -> FlagView:
    """A surplus is dealt with by a plan revision: the agreed version that reallocates it."""
    if not isinstance(plan_version_id, int) or isinstance(plan_version_id, bool):
        raise InvalidInput("plan_version_id must be a plan version's id", code="plan_version_required", field="plan_version_id")
    step = _step("reallocate", actor, actor_role, note, plan_version_id=plan_version_id)
    return _take(session, flag_id, step, lambda flag: _check_reallocation(session, flag, plan_version_id))


def request_recovery(
    session: Session,
    flag_id: int,
    *,
    amount_pence: int,
    reasons: str,
    repay_by: date,
    repayer: str,
    issued_on: date,
    actor: str,
    actor_role: str = ActorRole.FUNDER,
) -> FlagView:
    """Require repayment by written notice (regulation 15); the notice is stored with its text."""
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or not 0 < amount_pence <= AMOUNT_PENCE_MAX:
        raise InvalidInput("amount must be more than £0.00", code="recovery_amount_not_positive", field="amount")
    reasons = checks.required_text(reasons, "reasons", max_length=NOTE_LENGTH_MAX)
    repayer = checks.required_text(repayer, "repayer", max_length=200)
    if repay_by <= issued_on:
        raise InvalidInput(
            f"repay_by {repay_by} must be after the notice is issued ({issued_on}): the notice gives time to repay",
            code="repay_by_not_after_issue",
            field="repay_by",
        )
    terms = (amount_pence, reasons, repay_by, repayer, issued_on)
    step = _step("request_recovery", actor, actor_role, reasons)

    def same_notice(event: FlagEvent) -> bool:
        notice = session.get(RepaymentNotice, event.notice_id) if event.notice_id else None
        return notice is not None and (notice.amount_pence, notice.reasons, notice.repay_by, notice.repayer, notice.issued_on) == terms

    def issue(flag: Flag) -> _Links:
        return _Links(notice_id=_issue_notice(session, flag, step.actor, *terms).id)

    return _take(session, flag_id, step, issue, same_notice)


def ask_reconsideration(session: Session, flag_id: int, reason: str, *, actor: str, actor_role: str) -> FlagView:
    """The recipient of a notice asks the funder to think again (reg. 15(4)): the flag is open again."""
    return _take(session, flag_id, _step("ask_reconsideration", actor, actor_role, reason))


def record_recovery(
    session: Session,
    flag_id: int,
    *,
    method: str,
    on: date,
    actor: str,
    actor_role: str = ActorRole.FUNDER,
    into: str = RecoveryInto.CARD,
) -> FlagView:
    """The notice's amount came back: repaid (posted, undoing the spend) or offset against
    the next card loads."""
    how = checks.choice(method, RecoveryMethod, "method")
    where = checks.choice(into, RecoveryInto, "into")
    if how is RecoveryMethod.REPAYMENT:
        note = f"Repayment received {'onto the card' if where is RecoveryInto.CARD else 'into the account'} on {plain_date(on)}"
    else:
        note = f"Recovered by offset against the card loads from {plain_date(on)}"
    step = _step("record_recovery", actor, actor_role, note)
    return _take(session, flag_id, step, lambda flag: _recover(session, flag, how, where, on, step.actor))


def close(session: Session, flag_id: int, note: str, *, actor: str, actor_role: str) -> FlagView:
    return _take(session, flag_id, _step("close", actor, actor_role, note))


def close_by_system(session: Session, flag_id: int, note: str) -> FlagView:
    """Close a flag whose cause went away (spend re-categorised, balances agree), whatever
    its state. A flag someone already closed is left as it is."""
    note = checks.required_text(note, "note", max_length=NOTE_LENGTH_MAX)
    return _take(session, flag_id, _Step("close_by_system", SYSTEM, ActorRole.SYSTEM, note), closed_is_done=True)


def _step(name: str, actor: str, actor_role: str, note: str, **extra: object) -> _Step:
    role = checks.choice(actor_role, ActorRole, "actor_role")
    if role is ActorRole.SYSTEM:
        raise Conflict(f"only the system closes flags as the system; {name} is for people", code="flag_role_not_allowed", field="actor_role")
    return _Step(
        name,
        checks.required_text(actor, "actor", max_length=ACTOR_LENGTH_MAX),
        role,
        checks.required_text(note, "reason" if name == "ask_reconsideration" else "note", max_length=NOTE_LENGTH_MAX),
        **extra,  # type: ignore[arg-type]
    )


def _take(
    session: Session,
    flag_id: int,
    step: _Step,
    effect: Callable[[Flag], _Links | None] | None = None,
    same_effect: Callable[[FlagEvent], bool] | None = None,
    *,
    closed_is_done: bool = False,
) -> FlagView:
    """Take one step: lock, replay or refuse or act, record."""
    flag = _locked_flag(session, flag_id)
    transition = TRANSITIONS[step.name]
    if (closed_is_done and flag.state == FlagState.CLOSED) or _is_replay(session, flag, transition, step, same_effect):
        return flag_view(session, flag.id)
    _check_role(session, flag, step, transition)
    if flag.state not in transition.from_states:
        allowed = allowed_actions(flag.state)
        raise Conflict(
            f"flag {flag.id} is {flag.state}: it cannot be {transition.action.replace('_', ' ')} from there;"
            f" what it allows now: {', '.join(allowed) if allowed else 'nothing'}",
            code="flag_transition_not_allowed",
            details={"state": flag.state, "allowed_actions": list(allowed)},
        )
    links = (effect(flag) if effect else None) or _Links()
    now = utcnow()
    session.add(
        FlagEvent(
            flag_id=flag.id, action=transition.action, from_state=flag.state, to_state=transition.to_state,
            actor=step.actor, actor_role=step.actor_role, note=step.note, evidence_ids=_ids_json(step.evidence_ids),
            entry_id=links.entry_id, load_offset_id=links.load_offset_id, notice_id=links.notice_id,
            plan_version_id=step.plan_version_id, at=now,
        )
    )  # fmt: skip
    flag.state = transition.to_state
    flag.state_changed_at = now
    session.flush()
    return flag_view(session, flag.id)


def _get_flag(session: Session, flag_id: int) -> Flag:
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise NotFound(f"there is no flag {flag_id}", code="flag_not_found")
    return flag


def _locked_flag(session: Session, flag_id: int) -> Flag:
    """The flag as it is once its holder's book is locked (read again after the lock: on
    PostgreSQL another step may have committed while this one waited)."""
    holder_id = session.scalar(select(Flag.holder_id).where(Flag.id == flag_id))
    if holder_id is None:
        raise NotFound(f"there is no flag {flag_id}", code="flag_not_found")
    lock_book(session, holder_id)
    return session.execute(select(Flag).where(Flag.id == flag_id).execution_options(populate_existing=True)).scalar_one()


def _is_replay(
    session: Session, flag: Flag, transition: Transition, step: _Step, same_effect: Callable[[FlagEvent], bool] | None
) -> bool:
    if flag.state != transition.to_state:
        return False
    last = session.scalars(select(FlagEvent).where(FlagEvent.flag_id == flag.id).order_by(FlagEvent.id.desc()).limit(1)).first()
    if last is None:
        return False
    same = (last.action, last.actor, last.actor_role, last.note, last.evidence_ids, last.plan_version_id) == (
        transition.action, step.actor, step.actor_role, step.note, _ids_json(step.evidence_ids), step.plan_version_id,
    )  # fmt: skip
    return same and (same_effect is None or same_effect(last))


def _check_role(session: Session, flag: Flag, step: _Step, transition: Transition) -> None:
    if step.actor_role not in transition.roles:
        may = " or ".join(sorted(transition.roles))
        raise Conflict(
            f"a {step.actor_role} cannot {step.name.replace('_', ' ')} flag {flag.id}; only the {may} can",
            code="flag_role_not_allowed",
            field="actor_role",
        )
    if step.actor_role == ActorRole.FAMILY and not _has_direct_payment(session, flag.budget_id):
        raise Conflict(
            f"flag {flag.id} is on a budget without a direct payment: its holder answers it, not the family",
            code="flag_role_not_allowed",
            field="actor_role",
        )


def _has_direct_payment(session: Session, budget_id: int | None) -> bool:
    return budget_id is not None and any(p.management_option == ManagementOption.DIRECT_PAYMENT for p in parts_of(session, budget_id))


def _ids_json(ids: Sequence[int]) -> str:
    return json.dumps(list(ids), separators=(",", ":"))


# --- what the steps check and do -------------------------------------------------------------


def _checked_evidence_ids(evidence_ids: Sequence[int]) -> tuple[int, ...]:
    if isinstance(evidence_ids, (str, bytes)) or any(not isinstance(i, int) or isinstance(i, bool) for i in evidence_ids):
        raise InvalidInput("evidence_ids must be a list of evidence ids", code="evidence_ids_invalid", field="evidence_ids")
    unique = tuple(dict.fromkeys(evidence_ids))
    if len(unique) > EVIDENCE_PER_STEP_MAX:
        raise InvalidInput(
            f"at most {EVIDENCE_PER_STEP_MAX} pieces of evidence go with one explanation", code="evidence_ids_too_many", field="evidence_ids"
        )
    return unique


def _check_evidence_of_holder(session: Session, flag: Flag, ids: tuple[int, ...]) -> None:
    if not ids:
        return
    found = set(session.scalars(select(Evidence.id).where(Evidence.id.in_(ids), Evidence.holder_id == flag.holder_id)))
    missing = [i for i in ids if i not in found]
    if missing:
        # Another holder's evidence is answered like missing evidence: its existence is not told.
        raise InvalidInput(
            f"evidence {missing[0]} is not among this holder's evidence; upload it first",
            code="evidence_not_found",
            field="evidence_ids",
            details={"evidence_ids": missing},
        )


def _check_reallocation(session: Session, flag: Flag, plan_version_id: int) -> None:
    if flag.code != SURPLUS_HELD:
        raise Conflict(
            f"flag {flag.id} is {flag.code}: only a surplus held ({SURPLUS_HELD}) is reallocated by plan revision",
            code="reallocation_only_for_surplus",
        )
    version = get_version(session, plan_version_id)
    if version.budget_id != flag.budget_id:
        raise InvalidInput(
            f"plan version {plan_version_id} belongs to another budget", code="plan_version_of_other_budget", field="plan_version_id"
        )
    if version.status != PlanStatus.AGREED:
        raise InvalidInput(
            f"plan version {version.version} is {version.status}: a reallocation is an agreed plan revision; agree it first",
            code="plan_version_not_agreed",
            field="plan_version_id",
        )


def _flag_budget(session: Session, flag: Flag, what: str) -> Budget:
    if flag.budget_id is None:
        raise InvalidInput(f"flag {flag.id} is not about one budget, so there is nothing to {what}", code="recovery_needs_budget")
    return get_budget(session, flag.budget_id)


def _issue_notice(
    session: Session, flag: Flag, issued_by: str, amount_pence: int, reasons: str, repay_by: date, repayer: str, issued_on: date
) -> RepaymentNotice:
    budget = _flag_budget(session, flag, "repay")
    funder_id = flag.funder_id or budget.lead_funder_id
    funder = session.get(Funder, funder_id)
    assert funder is not None, "a budget's lead funder exists"
    text = repayment_notice_text(
        funder_name=funder.name, budget_reference=budget.reference, flag_id=flag.id, flag_code=flag.code,
        flag_reason=flag.reason, reasons=reasons, amount_pence=amount_pence, repay_by=repay_by, repayer=repayer,
        issued_on=issued_on,
    )  # fmt: skip
    notice = RepaymentNotice(
        flag_id=flag.id, budget_id=budget.id, funder_id=funder_id, amount_pence=amount_pence, reasons=reasons,
        repay_by=repay_by, repayer=repayer, issued_by=issued_by, issued_on=issued_on, text=text,
    )  # fmt: skip
    session.add(notice)
    session.flush()
    return notice


def _recover(session: Session, flag: Flag, how: RecoveryMethod, where: RecoveryInto, on: date, actor: str) -> _Links:
    notice = session.scalars(
        select(RepaymentNotice).where(RepaymentNotice.flag_id == flag.id).order_by(RepaymentNotice.id.desc()).limit(1)
    ).first()
    assert notice is not None, "a flag whose recovery was requested has a notice"
    if on < notice.issued_on:
        raise InvalidInput(
            f"{on} is before the notice was issued ({notice.issued_on})", code="recovery_before_notice", field="on"
        )
    budget = _flag_budget(session, flag, "recover")
    if how is RecoveryMethod.OFFSET:
        offset = offset_against_loads(
            session, budget.id, amount_pence=notice.amount_pence, starts_on=on,
            reason=f"Recovery for flag {flag.id}: {flag.reason}"[:1000], decided_by=actor, decided_on=on,
        )  # fmt: skip
        return _Links(load_offset_id=offset.id, notice_id=notice.id)
    entry_id = _post_repayment(session, flag, budget, notice, where, on, actor)
    return _Links(entry_id=entry_id, notice_id=notice.id)


def _post_repayment(
    session: Session, flag: Flag, budget: Budget, notice: RepaymentNotice, where: RecoveryInto, on: date, actor: str
) -> int:
    spent_on = _spend_account_of(session, flag)
    into_code = budget_account_code(budget.reference, AccountKind.CARD if where is RecoveryInto.CARD else AccountKind.CASH)
    into_id = account_ids_by_code(session, [into_code])[into_code]
    result = post_entry(
        session,
        NewEntry(
            book_id=flag.holder_id,
            entry_date=on,
            description=f"Repayment required by notice {notice.id} for flag {flag.id} ({flag.code}): {budget.reference}"[:500],
            idempotency_key=f"flag-recovery:{flag.id}",
            postings=(NewPosting(into_id, notice.amount_pence), NewPosting(spent_on, -notice.amount_pence)),
            kind=EntryKind.RECOVERY,
            created_by=actor,
        ),
    )
    if result.outcome.is_conflict:
        raise Conflict(
            f"the journal already holds entry {result.entry.id} for the recovery of flag {flag.id}, saying something else",
            code="flag_recovery_conflict",
            details={"entry_id": result.entry.id},
        )
    return result.entry.id


def _spend_account_of(session: Session, flag: Flag) -> int:
    """The account the flagged money went to: the spend (or fees) account of the flag's
    budget its entry debited — the flag's own account when it names one, else the largest."""
    if flag.entry_id is None:
        raise InvalidInput(
            f"flag {flag.id} names no spend entry to undo; recover the money by offset against the next loads",
            code="recovery_needs_spend",
            field="method",
        )
    entry = load_entry(session, flag.entry_id)
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_([p.account_id for p in entry.postings])))}
    debits = [
        p for p in entry.postings
        if p.amount_pence > 0 and accounts[p.account_id].kind in (AccountKind.SPEND, AccountKind.FEES)
        and accounts[p.account_id].budget_id == flag.budget_id
    ]  # fmt: skip
    if not debits:
        raise InvalidInput(
            f"entry {entry.id} of flag {flag.id} spent nothing from the flag's budget", code="recovery_needs_spend", field="method"
        )
    own = [p for p in debits if p.account_id == flag.account_id]
    return (own or sorted(debits, key=lambda p: (-p.amount_pence, p.line_no)))[0].account_id


# --- the notice ----------------------------------------------------------------------------
