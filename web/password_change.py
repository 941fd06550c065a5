"""Changing one's own password, for the API and the account page alike: a wrong current
password changes nothing but counts as a failed sign-in (kept in a transaction of its own),
so a borrowed session cannot guess it faster than the sign-in page allows."""

from __future__ import annotations

from ledger.access.lifecycle import CurrentPasswordWrong, change_own_password
from ledger.access.users import record_failure
from ledger.store.database import Database
from web.auth import Signed


def change_password(database: Database, signed: Signed, *, current: str, new: str, address: str) -> None:
    try:
        with database.write() as session:
            change_own_password(
                session, signed.principal.user_id, current=current, new=new, address=address, keep_session_token=signed.session_token
            )
    except CurrentPasswordWrong:
        with database.write() as session:
            record_failure(session, signed.principal.username, address)
        raise
