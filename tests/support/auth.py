"""Signing tests in: a user of any role with an API token, as request headers."""

from __future__ import annotations

from ledger.access.users import UserSpec, create_user, issue_api_token
from ledger.store.database import Database

PASSWORD = "correct horse battery staple"


ADMIN_SIGNATURE = "Admin (admin@test)"
"""How every write records the user :func:`token_headers` makes by default."""


def token_headers(db: Database, username: str = "admin@test", role: str = "system_admin", *, holder_id: int | None = None,
                  funder_id: int | None = None) -> dict[str, str]:  # fmt: skip
    """A new user of ``role`` and an API token for it, as an Authorization header."""
    with db.write() as session:
        user = create_user(session, UserSpec(username, username.split("@")[0].capitalize(), role, PASSWORD, holder_id, funder_id), created_by="test")
        token, _ = issue_api_token(session, user.id, name="tests")  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}
