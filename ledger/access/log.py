"""The append-only record of who saw which budget, when and why (every family view of a
balance and every auditor export: a report, a return, an audit pack), and of every change to
a sign-in (deactivated, reactivated, a password changed or reset, a token issued or revoked),
with who made it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal
from ledger.store.tables.access import AccessRecord
from ledger.store.tables.base import utcnow

FAMILY_BALANCE_PAGE = "family_balance_page"
AUDITOR_EXPORT = "auditor_export"
USER_DEACTIVATED = "user_deactivated"
USER_REACTIVATED = "user_reactivated"
PASSWORD_CHANGED = "password_changed"
ONE_TIME_PASSWORD_SET = "one_time_password_set"
API_TOKEN_ISSUED = "api_token_issued"
API_TOKEN_REVOKED = "api_token_revoked"
COMMAND_LINE_ROLE = "command_line"
REASON_LENGTH_MAX = 300


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a signed-in user, or whoever runs a command (no user)."""

    signature: str
    role: str
    user_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.signature, principal.role.value, principal.user_id)

    @classmethod
    def command_line(cls, signature: str) -> Actor:
        return cls(signature[:200], COMMAND_LINE_ROLE)


def record_access(
    session: Session, principal: Principal, *, action: str, reason: str, budget_ids: Iterable[int] = (), funder_id: int | None = None
) -> int:
    """One row per budget seen (one row without a budget when none is named); returns how many."""
    at = utcnow()
    common = {"user_id": principal.user_id, "role": principal.role.value, "actor": principal.signature, "funder_id": funder_id,
              "action": action, "reason": reason[:REASON_LENGTH_MAX], "at": at}  # fmt: skip
    rows = [{**common, "budget_id": budget_id} for budget_id in sorted(set(budget_ids))] or [{**common, "budget_id": None}]
    session.execute(insert(AccessRecord), rows)
    return len(rows)


def record_sign_in_change(session: Session, by: Actor, *, action: str, subject_user_id: int, reason: str) -> None:
    """One row: ``by`` did ``action`` to ``subject_user_id``'s sign-in, and why."""
    session.add(
        AccessRecord(user_id=by.user_id, role=by.role[:20], actor=by.signature, subject_user_id=subject_user_id, action=action,
                     reason=reason[:REASON_LENGTH_MAX], at=utcnow())  # fmt: skip
    )
    session.flush()
