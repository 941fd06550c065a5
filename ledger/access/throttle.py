"""The sign-in throttle: at most ``USERNAME_TRIES`` failed sign-ins for one username, and
``ADDRESS_TRIES`` from one connecting address, in ``WINDOW``; further tries are refused
(429) until the window has passed.

A try is counted *before* its password is checked, in one atomic statement per counter
(``INSERT … ON CONFLICT DO UPDATE … WHERE tries < limit RETURNING``, on SQLite and
PostgreSQL alike), and given back if the password matches. Counting after the check, as
before, let parallel tries all read the same count and pass the limit together. The count is
in the database, so it holds across workers and servers.

The two counters are separate: a username locked by someone guessing its password does not
lock the address for other users until the address's own, larger, limit; a try refused for
one counter is not left on the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ledger.errors import LedgerError
from ledger.store.tables.sign_in_throttle import SignInThrottle

USERNAME_TRIES = 10
ADDRESS_TRIES = 50
"""Larger than a username's: many people may sign in from one office's address."""
WINDOW = timedelta(minutes=15)
KEY_LENGTH_MAX = 120


class TooManyAttempts(LedgerError):
    status_code = 429
    default_code = "too_many_sign_in_attempts"


@dataclass(frozen=True, slots=True)
class Counted:
    kind: str
    key: str
    window_started_at: datetime


@dataclass(frozen=True, slots=True)
class Try:
    """A try to sign in, counted against its username and its address."""

    counted: tuple[Counted, ...]


def count_try(session: Session, username: str, address: str, *, now: datetime) -> Try:
    """Count one try against ``username`` and ``address``, or raise :class:`TooManyAttempts`
    (counting nothing) if either has had its limit in the window. The caller commits this
    before checking the password, so that parallel tries see each other's counts."""
    counted: list[Counted] = []
    for kind, key, limit in (("username", username.strip().lower(), USERNAME_TRIES), ("address", address, ADDRESS_TRIES)):
        taken = _count_up(session, kind, key[:KEY_LENGTH_MAX], limit, now)
        if isinstance(taken, datetime):
            give_back(session, Try(tuple(counted)))
            retry_after = max(1, int((taken + WINDOW - now).total_seconds()))
            raise TooManyAttempts(
                f"too many failed sign-ins: try again in {-(-retry_after // 60)} minutes",
                details={"retry_after_seconds": retry_after},
            )
        counted.append(taken)
    return Try(tuple(counted))


def give_back(session: Session, counted_try: Try) -> None:
    """Uncount a try whose password matched (or that was refused on another counter). A
    window that has started again since is left alone."""
    table = SignInThrottle.__table__
    for each in counted_try.counted:
        session.execute(
            update(table)
            .where(table.c.kind == each.kind, table.c.key == each.key, table.c.window_started_at == each.window_started_at, table.c.tries > 0)
            .values(tries=table.c.tries - 1)
        )


def _count_up(session: Session, kind: str, key: str, limit: int, now: datetime) -> Counted | datetime:
    """One more try on this counter, in one statement: a new window if the last has passed,
    else one more if under ``limit``. Returns what was counted, or (when at the limit, and
    nothing is counted) when the full window started."""
    table = SignInThrottle.__table__
    expired = table.c.window_started_at <= now - WINDOW
    dialect_insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = dialect_insert(table).values(kind=kind, key=key, window_started_at=now, tries=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.kind, table.c.key],
        set_={
            "tries": case((expired, 1), else_=table.c.tries + 1),
            "window_started_at": case((expired, now), else_=table.c.window_started_at),
        },
        where=expired | (table.c.tries < limit),
    ).returning(table.c.window_started_at)
    started = session.execute(statement).scalar_one_or_none()
    if started is not None:
        return Counted(kind, key, started)
    return session.execute(select(table.c.window_started_at).where(table.c.kind == kind, table.c.key == key)).scalar_one()
