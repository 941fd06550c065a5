"""Taking one step on a flag: every step of the workflow goes through :func:`take_step`, which
takes the holder's book lock, reads the flag again, returns it as it is when the step is a
replay, refuses (changing nothing) what the role or the state does not allow, and appends
the step's event to the flag's history."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.budget import has_direct_payment
from ledger.core import checks
from ledger.core.journal import lock_book
from ledger.errors import Conflict, NotFound
from ledger.flags.states import TRANSITIONS, ActorRole, FlagState, Transition, allowed_actions
from ledger.flags.views import FlagView, flag_view
from ledger.store.tables import utcnow
from ledger.store.tables.flags import Flag, FlagEvent

NOTE_LENGTH_MAX = 4000
ACTOR_LENGTH_MAX = 200
SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    actor: str
    actor_role: str
    note: str
    evidence_ids: tuple[int, ...] = ()
    plan_version_id: int | None = None


@dataclass(frozen=True, slots=True)
class Links:
    """What a step made or used, recorded on its event."""

    entry_id: int | None = None
    load_offset_id: int | None = None
    notice_id: int | None = None


def make_step(name: str, actor: str, actor_role: str, note: str, **extra: object) -> Step:
    role = checks.choice(actor_role, ActorRole, "actor_role")
    if role is ActorRole.SYSTEM:
        raise Conflict(f"only the system closes flags as the system; {name} is for people", code="flag_role_not_allowed", field="actor_role")
    return Step(
        name,
        checks.required_text(actor, "actor", max_length=ACTOR_LENGTH_MAX),
        role,
        checks.required_text(note, "reason" if name == "ask_reconsideration" else "note", max_length=NOTE_LENGTH_MAX),
        **extra,  # type: ignore[arg-type]
    )


def take_step(
    session: Session,
    flag_id: int,
    step: Step,
    effect: Callable[[Flag], Links | None] | None = None,
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
    links = (effect(flag) if effect else None) or Links()
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


def _locked_flag(session: Session, flag_id: int) -> Flag:
    """The flag as it is once its holder's book is locked (read again after the lock: on
    PostgreSQL another step may have committed while this one waited)."""
    holder_id = session.scalar(select(Flag.holder_id).where(Flag.id == flag_id))
    if holder_id is None:
        raise NotFound(f"there is no flag {flag_id}", code="flag_not_found")
    lock_book(session, holder_id)
    return session.execute(select(Flag).where(Flag.id == flag_id).execution_options(populate_existing=True)).scalar_one()


def _is_replay(
    session: Session, flag: Flag, transition: Transition, step: Step, same_effect: Callable[[FlagEvent], bool] | None
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


def _check_role(session: Session, flag: Flag, step: Step, transition: Transition) -> None:
    if step.actor_role not in transition.roles:
        may = " or ".join(sorted(transition.roles))
        raise Conflict(
            f"a {step.actor_role} cannot {step.name.replace('_', ' ')} flag {flag.id}; only the {may} can",
            code="flag_role_not_allowed",
            field="actor_role",
        )
    if step.actor_role == ActorRole.FAMILY and not has_direct_payment(session, flag.budget_id):
        raise Conflict(
            f"flag {flag.id} is on a budget without a direct payment: its holder answers it, not the family",
            code="flag_role_not_allowed",
            field="actor_role",
        )


def _ids_json(ids: Sequence[int]) -> str:
    return json.dumps(list(ids), separators=(",", ":"))


__all__ = ["ACTOR_LENGTH_MAX", "NOTE_LENGTH_MAX", "SYSTEM", "Links", "Step", "make_step", "take_step"]
