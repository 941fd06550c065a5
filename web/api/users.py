"""Sign-ins: who a user is, deactivating and reactivating them, one-time passwords, API
tokens (issued with an expiry, listed with their last use, revoked), and one's own account
and password. Who may do which is ``web.route_policy``'s; whose user or token a request may
name, ``ledger.access.resources``' (a user's own, or the system admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ledger.access import lifecycle
from ledger.access.log import Actor
from ledger.access.users import PASSWORD_LENGTH_MAX, TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX, get_user, list_users
from ledger.store.tables.access import UserAccount
from web.api.common import ERROR_RESPONSES, ErrorOut, Int, RecordId, Schema, UtcTimestamp, database
from web.auth import Signed, principal
from web.password_change import change_password

SIGN_IN_RESPONSES: dict[int | str, dict] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorOut, "description": "Not signed in: no credentials, a deactivated user's, or a token expired or revoked"},
    403: {"model": ErrorOut, "description": "Not this role's to do, or a one-time password to change first"},
    429: {"model": ErrorOut, "description": "Too many wrong passwords: try again later"},
}
router = APIRouter(tags=["sign-ins"], responses=SIGN_IN_RESPONSES)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    holder_id: int | None
    funder_id: int | None
    active: bool
    must_change_password: bool = Field(description="An admin set a one-time password: nothing but changing it until then")
    password_changed_at: UtcTimestamp | None
    deactivated_at: UtcTimestamp | None
    deactivated_by: str | None
    created_at: UtcTimestamp

    @classmethod
    def of(cls, user: UserAccount) -> UserOut:
        return cls.model_validate(user, from_attributes=True)


class TokenOut(BaseModel):
    id: int
    user_id: int
    name: str
    created_at: UtcTimestamp
    last_used_at: UtcTimestamp | None = Field(description="Recorded at most once a minute")
    expires_at: UtcTimestamp
    revoked_at: UtcTimestamp | None
    revoked_by: str | None
    state: str = Field(description="active, expired or revoked")

    @classmethod
    def of(cls, view: lifecycle.TokenView) -> TokenOut:
        return cls.model_validate(view, from_attributes=True)


class IssuedTokenOut(TokenOut):
    token: str = Field(description="Shown this once: send it as Authorization: Bearer <token>")


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=300, examples=["Left the organisation on 30 November"])


class RevokeIn(Schema):
    reason: str | None = Field(default=None, max_length=300)


class OneTimePasswordIn(Schema):
    password: str = Field(max_length=PASSWORD_LENGTH_MAX, description="Given to the user by a safe route; they must change it at their next sign-in")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=120, examples=["ICB finance system"])
    expires_in_days: Int = Field(default=TOKEN_DAYS_DEFAULT, ge=1, le=TOKEN_DAYS_MAX)


class PasswordChangeIn(Schema):
    current_password: str = Field(max_length=PASSWORD_LENGTH_MAX)
    new_password: str = Field(max_length=PASSWORD_LENGTH_MAX)


def _by(request: Request) -> Actor:
    return Actor.of(principal(request))


@router.get("/users", response_model=list[UserOut])
def users(request: Request) -> list[UserOut]:
    """Everyone who can sign in, for the system admin; anyone else sees only themselves."""
    who = principal(request)
    with database(request).read() as session:
        found = list_users(session) if who.is_admin else [get_user(session, who.user_id)]
        return [UserOut.of(user) for user in found]


@router.get("/users/{user_id}", response_model=UserOut)
def user(request: Request, user_id: RecordId) -> UserOut:
    with database(request).read() as session:
        return UserOut.of(get_user(session, user_id))


@router.post("/users/{user_id}/deactivate", response_model=UserOut)
def deactivate(request: Request, user_id: RecordId, body: ReasonIn) -> UserOut:
    """A leaver: they cannot sign in, and every session and token of theirs stops at once."""
    with database(request).write() as session:
        return UserOut.of(lifecycle.deactivate_user(session, user_id, by=_by(request), reason=body.reason))


@router.post("/users/{user_id}/reactivate", response_model=UserOut)
def reactivate(request: Request, user_id: RecordId, body: ReasonIn) -> UserOut:
    """They may sign in again; their old sessions and tokens stay dead."""
    with database(request).write() as session:
        return UserOut.of(lifecycle.reactivate_user(session, user_id, by=_by(request), reason=body.reason))


@router.post("/users/{user_id}/one-time-password", response_model=UserOut)
def one_time_password(request: Request, user_id: RecordId, body: OneTimePasswordIn) -> UserOut:
    """Every session of theirs ends; at the next sign-in they must choose their own password."""
    with database(request).write() as session:
        return UserOut.of(lifecycle.set_one_time_password(session, user_id, password=body.password, by=_by(request)))


@router.get("/users/{user_id}/tokens", response_model=list[TokenOut])
def tokens(request: Request, user_id: RecordId) -> list[TokenOut]:
    """A user's API tokens, newest first, with their last use (revoked and expired ones too)."""
    with database(request).read() as session:
        return [TokenOut.of(view) for view in lifecycle.user_tokens(session, user_id)]


@router.post("/users/{user_id}/tokens", response_model=IssuedTokenOut, status_code=201)
def issue(request: Request, user_id: RecordId, body: TokenIn) -> IssuedTokenOut:
    with database(request).write() as session:
        value, view = lifecycle.issue_token(session, user_id, name=body.name, expires_in_days=body.expires_in_days, by=_by(request))
    return IssuedTokenOut(**TokenOut.of(view).model_dump(), token=value)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut)
def revoke(request: Request, token_id: RecordId, body: RevokeIn | None = None) -> TokenOut:
    """The token stops working now. One's own, or (the system admin) anyone's."""
    with database(request).write() as session:
        return TokenOut.of(lifecycle.revoke_token(session, token_id, by=_by(request), reason=body.reason if body else None))


@router.get("/account", response_model=UserOut)
def account(request: Request) -> UserOut:
    """Who is signed in: open also while a one-time password waits to be changed."""
    with database(request).read() as session:
        return UserOut.of(get_user(session, principal(request).user_id))


@router.post("/account/password", response_model=UserOut)
def password(request: Request, body: PasswordChangeIn) -> UserOut:
    """Change one's own password, giving the current one. A wrong current password changes
    nothing (and counts as a failed sign-in); every other session of the user ends."""
    signed: Signed = request.state.signed
    address = request.client.host if request.client else "unknown"
    change_password(database(request), signed, current=body.current_password, new=body.new_password, address=address)
    with database(request).read() as session:
        return UserOut.of(get_user(session, signed.principal.user_id))
