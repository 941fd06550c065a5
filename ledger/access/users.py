"""User accounts, passwords, sessions, API tokens and sign-in throttling.

Passwords are hashed with argon2id (19 MiB of memory, 2 passes, one lane: OWASP's minimum
for argon2id), and a hash made with weaker settings is replaced at the next sign-in. A
session and an API token are random 256-bit values given to the client once; only their
SHA-256 is stored, so a copy of the database signs nobody in. A session lives
``SESSION_HOURS`` from its last use and ends at sign-out; signing in always makes a new one.

Signing in takes as long for an unknown or deactivated username as for a known one (a
password is always checked, against a dummy hash when there is no user to check), so timing
tells nobody which usernames exist. How many tries are allowed is ``ledger.access.throttle``'s;
failed sign-ins are also kept here, as a record.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.budgets.parties import age_on, get_funder, get_holder
from ledger.core import checks
from ledger.errors import Conflict, InvalidInput, LedgerError, NotFound
from ledger.store.tables import Budget, Person, Representative
from ledger.store.tables.access import ROLES, ApiToken, FamilyLink, SignInFailure, UserAccount, UserSession
from ledger.store.tables.base import utcnow

ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 200
SESSION_HOURS = 8
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 366
"""An API token lives 90 days unless asked for longer, and never more than a year."""
YOUNG_PERSON_AGE = 16
"""A young person of 16 or more may have their own sign-in."""

_hasher = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)
_DUMMY_HASH = _hasher.hash("a password nobody has: verified when the username is unknown, so timing tells nothing")


class SignInRefused(LedgerError):
    status_code = 401
    default_code = "sign_in_refused"


class TokenRefused(LedgerError):
    """An API token that was good once: expired (``token_expired``) or revoked (``token_revoked``).
    Saying which tells nothing to anyone but the holder of the secret."""

    status_code = 401
    default_code = "token_refused"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    if not isinstance(password, str) or not PASSWORD_LENGTH_MIN <= len(password) <= PASSWORD_LENGTH_MAX:
        raise InvalidInput(
            f"a password is {PASSWORD_LENGTH_MIN} to {PASSWORD_LENGTH_MAX} characters (a few words together are easy to remember)",
            code="password_length",
            field="password",
        )
    return _hasher.hash(password)


@dataclass(frozen=True, slots=True)
class UserSpec:
    username: str
    display_name: str
    role: str
    password: str
    holder_id: int | None = None
    funder_id: int | None = None


def create_user(session: Session, spec: UserSpec, *, created_by: str) -> UserAccount:
    username = checks.required_text(spec.username, "username", max_length=120).lower()
    if spec.role not in ROLES:
        raise InvalidInput(f"role must be one of: {', '.join(ROLES)}", code="field_not_allowed", field="role")
    if spec.role in ("holder_admin", "holder_staff"):
        if spec.holder_id is None:
            raise InvalidInput("a holder's admin or staff belongs to a holder: give holder_id", code="holder_required", field="holder_id")
        get_holder(session, spec.holder_id)
    elif spec.holder_id is not None:
        raise InvalidInput("only a holder's admin or staff belongs to a holder", code="holder_not_allowed", field="holder_id")
    if spec.role == "funder_auditor":
        if spec.funder_id is None:
            raise InvalidInput("an auditor belongs to a funder: give funder_id", code="funder_required", field="funder_id")
        get_funder(session, spec.funder_id)
    elif spec.funder_id is not None:
        raise InvalidInput("only an auditor belongs to a funder", code="funder_not_allowed", field="funder_id")
    if session.scalar(select(UserAccount.id).where(UserAccount.username == username)) is not None:
        raise Conflict(f"there is already a user {username!r}", code="username_taken", field="username")
    user = UserAccount(
        username=username, display_name=checks.required_text(spec.display_name, "display_name", max_length=200), role=spec.role,
        holder_id=spec.holder_id, funder_id=spec.funder_id, password_hash=hash_password(spec.password),
        created_by=checks.required_text(created_by, "created_by", max_length=200),
    )  # fmt: skip
    session.add(user)
    session.flush()
    return user


def link_family(
    session: Session, user_id: int, budget_id: int, *, representative_id: int | None = None, created_by: str, today: datetime | None = None
) -> FamilyLink:
    """Link a family user to a budget: as the person (16 or over: their own sign-in) or as one
    of the person's recorded representatives."""
    user = get_user(session, user_id)
    if user.role != "family":
        raise InvalidInput("only a family user is linked to budgets", code="not_a_family_user", field="user_id")
    budget = session.get(Budget, budget_id)
    if budget is None:
        raise NotFound(f"there is no budget {budget_id}", code="budget_not_found")
    if representative_id is not None:
        representative = session.get(Representative, representative_id)
        if representative is None or representative.person_id != budget.person_id:
            raise InvalidInput("the representative must be one recorded for the budget's person", code="representative_not_of_person", field="representative_id")
        basis = "representative"
    else:
        person = session.get(Person, budget.person_id)
        assert person is not None
        if age_on(person, (today or utcnow()).date()) < YOUNG_PERSON_AGE:
            raise InvalidInput(
                f"a child under {YOUNG_PERSON_AGE} is linked through a recorded representative, not their own sign-in",
                code="person_too_young",
                field="representative_id",
            )
        basis = "person"
    existing = session.scalar(select(FamilyLink).where(FamilyLink.user_id == user.id, FamilyLink.budget_id == budget.id))
    if existing is not None:
        return existing
    link = FamilyLink(user_id=user.id, budget_id=budget.id, basis=basis, representative_id=representative_id, created_by=created_by)
    session.add(link)
    session.flush()
    return link


def get_user(session: Session, user_id: int) -> UserAccount:
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFound(f"there is no user {user_id}", code="user_not_found")
    return user


def list_users(session: Session) -> list[UserAccount]:
    return list(session.scalars(select(UserAccount).order_by(UserAccount.role, UserAccount.username)))


# --- signing in -----------------------------------------------------------------------------


def authenticate(session: Session, username: str, password: str) -> UserAccount:
    """The user whose username and password these are. A refusal changes nothing here: the
    caller records it with :func:`record_failure` in a transaction of its own, so that it is
    kept although the sign-in's is rolled back."""
    name = (username or "").strip().lower()[:120]
    user = session.scalar(select(UserAccount).where(UserAccount.username == name)) if name else None
    active = user if user is not None and user.active else None
    matches = _password_matches(active.password_hash if active is not None else _DUMMY_HASH, password or "")
    if active is None or not matches:
        raise SignInRefused("the username or password is not right")
    if _hasher.check_needs_rehash(active.password_hash):
        active.password_hash = _hasher.hash(password)
    return active


def record_failure(session: Session, username: str, address: str, *, now: datetime | None = None) -> None:
    session.add(SignInFailure(username=(username or "").strip().lower()[:120], address=address[:64], at=now or utcnow()))
    session.flush()


def password_matches(user: UserAccount, password: str) -> bool:
    return _password_matches(user.password_hash, password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    """Given to the client once (the cookie's value); only its SHA-256 is stored."""
    csrf_token: str
    row: UserSession


def start_session(session: Session, user: UserAccount, *, now: datetime | None = None) -> NewSession:
    moment = now or utcnow()
    token = new_secret()
    row = UserSession(
        token_sha256=digest(token), user_id=user.id, csrf_token=new_secret(), created_at=moment, last_seen_at=moment,
        expires_at=moment + timedelta(hours=SESSION_HOURS),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return NewSession(token, row.csrf_token, row)


TOUCH_EVERY = timedelta(minutes=1)
"""A session's expiry moves on with its use, at most this often (a read costs no write)."""


def session_user(session: Session, token: str, *, now: datetime | None = None) -> tuple[UserSession, UserAccount] | None:
    """The live session and its user for a cookie's token; None if unknown, ended or
    expired. Reads only: :func:`touch_session` moves the expiry on when ``needs_touch``."""
    moment = now or utcnow()
    found = session.execute(
        select(UserSession, UserAccount).join(UserAccount, UserAccount.id == UserSession.user_id)
        .where(UserSession.token_sha256 == digest(token), UserSession.ended_at.is_(None), UserSession.expires_at > moment, UserAccount.active.is_(True))
    ).first()  # fmt: skip
    return (found[0], found[1]) if found is not None else None


def needs_touch(row: UserSession | ApiToken, *, now: datetime | None = None) -> bool:
    seen = row.last_seen_at if isinstance(row, UserSession) else row.last_used_at
    return seen is None or (now or utcnow()) - seen > TOUCH_EVERY


def touch_session(session: Session, session_id: int, *, now: datetime | None = None) -> None:
    moment = now or utcnow()
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=moment, expires_at=moment + timedelta(hours=SESSION_HOURS)))


def end_session(session: Session, token: str, *, now: datetime | None = None) -> None:
    session.execute(update(UserSession).where(UserSession.token_sha256 == digest(token), UserSession.ended_at.is_(None)).values(ended_at=now or utcnow()))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


# --- API tokens ------------------------------------------------------------------------------


def issue_api_token(
    session: Session, user_id: int, *, name: str, expires_in_days: int = TOKEN_DAYS_DEFAULT, now: datetime | None = None
) -> tuple[str, ApiToken]:
    """A new token for a machine client acting as ``user_id``; its value is shown once."""
    user = get_user(session, user_id)
    if user.role == "family":
        raise InvalidInput("family members sign in in a browser; API tokens are for machine clients", code="token_not_for_family", field="user_id")
    if not user.active:
        raise Conflict(f"{user.username} is deactivated: reactivate them before issuing a token", code="user_deactivated", field="user_id")
    days = checks.whole_number(expires_in_days, "expires_in_days", minimum=1, maximum=TOKEN_DAYS_MAX)
    moment = now or utcnow()
    token = "phb_" + new_secret()
    row = ApiToken(
        token_sha256=digest(token), user_id=user.id, name=checks.required_text(name, "name", max_length=120), created_at=moment,
        expires_at=moment + timedelta(days=days),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return token, row


def token_user(session: Session, token: str, *, now: datetime | None = None) -> tuple[ApiToken, UserAccount] | None:
    """The token and the user it acts as; None if unknown or its user is deactivated; a
    :class:`TokenRefused` if it expired or was revoked. Reads only: :func:`touch_token`
    records its use when ``needs_touch``."""
    found = session.execute(
        select(ApiToken, UserAccount).join(UserAccount, UserAccount.id == ApiToken.user_id)
        .where(ApiToken.token_sha256 == digest(token), UserAccount.active.is_(True))
    ).first()  # fmt: skip
    if found is None:
        return None
    row, user = found[0], found[1]
    if row.revoked_at is not None:
        raise TokenRefused(f"this API token was revoked on {row.revoked_at:%Y-%m-%d}: ask for a new one", code="token_revoked")
    if row.expires_at <= (now or utcnow()):
        raise TokenRefused(f"this API token expired on {row.expires_at:%Y-%m-%d}: ask for a new one", code="token_expired")
    return row, user


def touch_token(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now or utcnow()))
