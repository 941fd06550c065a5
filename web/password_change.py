"""Changing one's own password, for the API and the account page alike. Each try is counted
by the sign-in throttle first (committed on its own, as a sign-in's is) and given back unless
the current password was wrong, so a borrowed session cannot guess the password faster than
the sign-in page allows; a wrong one is also kept as a failed sign-in."""

from __future__ import annotations

from ledger.access.lifecycle import CurrentPasswordWrong, change_own_password
from ledger.access.throttle import count_try, give_back
from ledger.access.users import record_failure
from ledger.store.database import Database
from ledger.store.tables.base import utcnow
from web.auth import Signed


def change_password(database: Database, signed: Signed, *, current: str, new: str, address: str) -> None:
    username = signed.principal.username
    with database.write() as session:
        counted = count_try(session, username, address, now=utcnow())
    try:
        with database.write() as session:
            change_own_password(session, signed.principal.user_id, current=current, new=new, keep_session_token=signed.session_token)
            give_back(session, counted)
    except CurrentPasswordWrong:
        with database.write() as session:
            record_failure(session, username, address)
        raise
    except Exception:
        with database.write() as session:  # refused for another reason (a short new password): not a guess
            give_back(session, counted)
        raise
