"""The life of a sign-in after it is made: deactivating a leaver and reactivating them,
changing one's own password, an admin-set one-time password, issuing, listing and revoking
API tokens. Each change is kept in the access record with who made it and why.

What each change does to the credentials already out there:

- **deactivating** ends every session and revokes every token of the user at once (the
  checks on every request refuse a deactivated user's anyway); **reactivating** revives
  none of them: the user signs in again, and machine clients get new tokens;
- **changing one's own password** ends every other session of the user (the one it was
  changed in goes on); tokens are machine clients' and go on;
- **a one-time password** ends every session of the user; until they choose their own,
  nothing acts as them but to change it (``must_change_password``).

The system admin alone deactivates, reactivates and resets: a holder's admin asks them (one
place to look, and no holder can lock out another's or a funder's users). Nobody deactivates
or resets their own sign-in, and the last active system admin is not deactivated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ledger.access import log
from ledger.access.log import Actor, record_sign_in_change
from ledger.access.users import (
    TOKEN_DAYS_DEFAULT,
    digest,
    get_user,
    hash_password,
    issue_api_token,
    password_matches,
)
from ledger.core import checks
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.tables.access import ApiToken, UserAccount, UserSession
from ledger.store.tables.base import utcnow

REASON_LENGTH_MAX = log.REASON_LENGTH_MAX


def _reason(text: str | None) -> str:
    return checks.required_text(text, "reason", max_length=REASON_LENGTH_MAX)


def deactivate_user(session: Session, user_id: int, *, by: Actor, reason: str, now: datetime | None = None) -> UserAccount:
    """A leaver: no more sign-ins, and every session and token they hold stops now."""
    user = get_user(session, user_id)
    why = _reason(reason)
    if by.user_id == user.id:
        raise Conflict("you cannot deactivate your own sign-in: ask another system admin", code="cannot_deactivate_self", field="user_id")
    if not user.active:
        raise Conflict(f"{user.username} is already deactivated", code="user_already_deactivated", field="user_id")
    if user.role == "system_admin" and _active_system_admins(session) <= 1:
        raise Conflict("this is the last active system admin: add or reactivate another first", code="last_system_admin", field="user_id")
    moment = now or utcnow()
    user.active, user.deactivated_at, user.deactivated_by = False, moment, by.signature
    end_sessions(session, user.id, now=moment)  # type: ignore[arg-type]
    session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=moment, revoked_by=by.signature)
    )
    record_sign_in_change(session, by, action=log.USER_DEACTIVATED, subject_user_id=user.id, reason=why)  # type: ignore[arg-type]
    return user


def reactivate_user(session: Session, user_id: int, *, by: Actor, reason: str) -> UserAccount:
    """Let them sign in again. Their old sessions and tokens stay dead."""
    user = get_user(session, user_id)
    why = _reason(reason)
    if user.active:
        raise Conflict(f"{user.username} is not deactivated", code="user_already_active", field="user_id")
    user.active, user.deactivated_at, user.deactivated_by = True, None, None
    record_sign_in_change(session, by, action=log.USER_REACTIVATED, subject_user_id=user.id, reason=why)  # type: ignore[arg-type]
    session.flush()
    return user


def _active_system_admins(session: Session) -> int:
    return session.scalar(select(func.count()).where(UserAccount.role == "system_admin", UserAccount.active.is_(True))) or 0


def end_sessions(session: Session, user_id: int, *, keep_token: str | None = None, now: datetime | None = None) -> None:
    """End every live session of ``user_id`` (but the one whose cookie is ``keep_token``)."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep_token is not None:
        query = query.where(UserSession.token_sha256 != digest(keep_token))
    session.execute(query.values(ended_at=now or utcnow()))


# --- passwords --------------------------------------------------------------------------------


class CurrentPasswordWrong(InvalidInput):
    default_code = "current_password_wrong"


def change_own_password(
    session: Session, user_id: int, *, current: str, new: str, keep_session_token: str | None = None, now: datetime | None = None
) -> UserAccount:
    """The user's own new password, given their current one. A wrong current password changes
    nothing here (the caller counts each try as the sign-in throttle does, so guessing is no
    faster than at the sign-in page)."""
    user = get_user(session, user_id)
    if not password_matches(user, current or ""):
        raise CurrentPasswordWrong("the current password is not right", field="current_password")
    if password_matches(user, new or ""):
        raise InvalidInput("choose a new password, not the one you have", code="password_unchanged", field="new_password")
    moment = now or utcnow()
    user.password_hash, user.must_change_password, user.password_changed_at = hash_password(new), False, moment
    end_sessions(session, user.id, keep_token=keep_session_token, now=moment)  # type: ignore[arg-type]
    record_sign_in_change(session, Actor(_signature(user), user.role, user.id), action=log.PASSWORD_CHANGED, subject_user_id=user.id,  # type: ignore[arg-type]
                          reason="changed their own password")  # fmt: skip
    return user


def set_one_time_password(session: Session, user_id: int, *, password: str, by: Actor, now: datetime | None = None) -> UserAccount:
    """An admin's temporary password for a user who cannot sign in: every session of theirs
    ends, and at their next sign-in they must choose their own before anything else."""
    user = get_user(session, user_id)
    if by.user_id == user.id:
        raise Conflict("change your own password on your account page, not with a one-time password", code="own_password", field="user_id")
    if not user.active:
        raise Conflict(f"{user.username} is deactivated: reactivate them first", code="user_deactivated", field="user_id")
    moment = now or utcnow()
    user.password_hash, user.must_change_password, user.password_changed_at = hash_password(password), True, moment
    end_sessions(session, user.id, now=moment)  # type: ignore[arg-type]
    record_sign_in_change(session, by, action=log.ONE_TIME_PASSWORD_SET, subject_user_id=user.id,  # type: ignore[arg-type]
                          reason="one-time password set: to be changed at the next sign-in")  # fmt: skip
    return user


def _signature(user: UserAccount) -> str:
    return f"{user.display_name} ({user.username})"[-200:]


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    state: str
    """``active``, ``expired`` or ``revoked``."""


def _view(row: ApiToken, now: datetime) -> TokenView:
    state = "revoked" if row.revoked_at is not None else "expired" if row.expires_at <= now else "active"
    return TokenView(row.id, row.user_id, row.name, row.created_at, row.last_used_at, row.expires_at, row.revoked_at, row.revoked_by, state)  # type: ignore[arg-type]


def user_tokens(session: Session, user_id: int, *, now: datetime | None = None) -> list[TokenView]:
    """Every token of ``user_id``, newest first (revoked and expired ones too: what was out there)."""
    get_user(session, user_id)
    moment = now or utcnow()
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [_view(row, moment) for row in rows]


def get_token(session: Session, token_id: int, *, now: datetime | None = None) -> TokenView:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"there is no API token {token_id}", code="token_not_found")
    return _view(row, now or utcnow())


def issue_token(
    session: Session, user_id: int, *, name: str, by: Actor, expires_in_days: int = TOKEN_DAYS_DEFAULT, now: datetime | None = None
) -> tuple[str, TokenView]:
    """A new token (its value shown once), recorded with who issued it."""
    value, row = issue_api_token(session, user_id, name=name, expires_in_days=expires_in_days, now=now)
    record_sign_in_change(session, by, action=log.API_TOKEN_ISSUED, subject_user_id=user_id,
                          reason=f"token {row.id} {row.name!r}, expires {row.expires_at:%Y-%m-%d}")  # fmt: skip
    return value, _view(row, now or utcnow())


def revoke_token(session: Session, token_id: int, *, by: Actor, reason: str | None = None, now: datetime | None = None) -> TokenView:
    """The token stops working now; revoking one already revoked is refused."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"there is no API token {token_id}", code="token_not_found")
    if row.revoked_at is not None:
        raise Conflict(f"API token {token_id} was already revoked on {row.revoked_at:%Y-%m-%d}", code="token_already_revoked")
    why = checks.text(reason, "reason", max_length=REASON_LENGTH_MAX, required=False) or "revoked"
    moment = now or utcnow()
    row.revoked_at, row.revoked_by = moment, by.signature
    record_sign_in_change(session, by, action=log.API_TOKEN_REVOKED, subject_user_id=row.user_id, reason=f"token {row.id} {row.name!r}: {why}")
    return _view(row, moment)
