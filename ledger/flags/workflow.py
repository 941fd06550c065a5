"""What happens to a flag after it is raised: explained, accepted or challenged, money
reallocated by plan revision, repayment required by notice and recovered, closed.

``ledger.flags.raising`` raises flags (state ``open``); this module and ``ledger.flags.recovery``
(repayment required and recovered) move them on, each step through ``ledger.flags.steps``; the
states and who may take which step are ``ledger.flags.states``. Each step is one function
taking the actor and the role they act in, and returning the flag with its whole history
(``ledger.flags.views``). Every step:

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
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.budgets.plans import get_version
from ledger.core import checks
from ledger.core.vocabulary import PlanStatus
from ledger.errors import Conflict, InvalidInput
from ledger.flags.states import ActorRole
from ledger.flags.steps import NOTE_LENGTH_MAX, SYSTEM, Step, make_step, take_step
from ledger.flags.views import FlagView
from ledger.store.tables.flags import Evidence, Flag

EVIDENCE_PER_STEP_MAX = 20
SURPLUS_HELD = "SURPLUS_HELD"


def explain(
    session: Session, flag_id: int, note: str, evidence_ids: Sequence[int] = (), *, actor: str, actor_role: str
) -> FlagView:
    """The holder (or the family, on a direct payment) says what the money was for."""
    ids = _checked_evidence_ids(evidence_ids)
    step = make_step("explain", actor, actor_role, note, evidence_ids=ids)
    return take_step(session, flag_id, step, lambda flag: _check_evidence_of_flag(session, flag, ids, by_family=step.actor_role == ActorRole.FAMILY))


def accept(session: Session, flag_id: int, note: str, *, actor: str, actor_role: str = ActorRole.FUNDER) -> FlagView:
    return take_step(session, flag_id, make_step("accept", actor, actor_role, note))


def challenge(session: Session, flag_id: int, note: str, *, actor: str, actor_role: str = ActorRole.FUNDER) -> FlagView:
    """The funder is not satisfied by the explanation; the holder explains again."""
    return take_step(session, flag_id, make_step("challenge", actor, actor_role, note))


def reallocate(
    session: Session, flag_id: int, plan_version_id: int, note: str, *, actor: str, actor_role: str = ActorRole.FUNDER
) -> FlagView:
    """A surplus is dealt with by a plan revision: the agreed version that reallocates it."""
    if not isinstance(plan_version_id, int) or isinstance(plan_version_id, bool):
        raise InvalidInput("plan_version_id must be a plan version's id", code="plan_version_required", field="plan_version_id")
    step = make_step("reallocate", actor, actor_role, note, plan_version_id=plan_version_id)
    return take_step(session, flag_id, step, lambda flag: _check_reallocation(session, flag, plan_version_id))


def ask_reconsideration(session: Session, flag_id: int, reason: str, *, actor: str, actor_role: str) -> FlagView:
    """The recipient of a notice asks the funder to think again (reg. 15(4)): the flag is open again."""
    return take_step(session, flag_id, make_step("ask_reconsideration", actor, actor_role, reason))


def close(session: Session, flag_id: int, note: str, *, actor: str, actor_role: str) -> FlagView:
    return take_step(session, flag_id, make_step("close", actor, actor_role, note))


def close_by_system(session: Session, flag_id: int, note: str) -> FlagView:
    """Close a flag whose cause went away (spend re-categorised, balances agree), whatever
    its state. A flag someone already closed is left as it is."""
    note = checks.required_text(note, "note", max_length=NOTE_LENGTH_MAX)
    return take_step(session, flag_id, Step("close_by_system", SYSTEM, ActorRole.SYSTEM, note), closed_is_done=True)


def _checked_evidence_ids(evidence_ids: Sequence[int]) -> tuple[int, ...]:
    if isinstance(evidence_ids, (str, bytes)) or any(not isinstance(i, int) or isinstance(i, bool) for i in evidence_ids):
        raise InvalidInput("evidence_ids must be a list of evidence ids", code="evidence_ids_invalid", field="evidence_ids")
    unique = tuple(dict.fromkeys(evidence_ids))
    if len(unique) > EVIDENCE_PER_STEP_MAX:
        raise InvalidInput(
            f"at most {EVIDENCE_PER_STEP_MAX} pieces of evidence go with one explanation", code="evidence_ids_too_many", field="evidence_ids"
        )
    return unique


def _check_evidence_of_flag(session: Session, flag: Flag, ids: tuple[int, ...], *, by_family: bool) -> None:
    """Evidence given with an explanation is the flag's own budget's, or (from the holder) the
    holder's evidence about no one budget, such as an invoice shared by several; a family
    gives only its own budget's. Any other is answered like missing evidence: whether it
    exists is not told."""
    if not ids:
        return
    own = Evidence.budget_id == flag.budget_id if flag.budget_id is not None else Evidence.budget_id.is_(None)
    whose = own if by_family else or_(own, Evidence.budget_id.is_(None))
    found = set(session.scalars(select(Evidence.id).where(Evidence.id.in_(ids), Evidence.holder_id == flag.holder_id, whose)))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            f"evidence {missing[0]} is not among this budget's evidence; upload it first",
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


__all__ = ["EVIDENCE_PER_STEP_MAX", "SURPLUS_HELD", "accept", "ask_reconsideration", "challenge", "close", "close_by_system", "explain", "reallocate"]
