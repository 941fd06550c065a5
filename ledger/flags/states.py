"""A flag's states, and the steps that move it: from which states each is taken, to which, and by
which roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


def allowed_actions(state: str) -> tuple[str, ...]:
    """The steps a person can take from ``state`` (whoever may take them)."""
    return tuple(name for name, t in TRANSITIONS.items() if state in t.from_states and ActorRole.SYSTEM not in t.roles)


__all__ = ["ActorRole", "FlagState", "RecoveryInto", "RecoveryMethod", "TRANSITIONS", "Transition", "allowed_actions"]
