"""The sign-in throttle's counters: tries to sign in, per username and per connecting address,
in the current window. One row per (kind, key), counted up in one atomic statement, so that
parallel tries (on any number of workers) cannot pass the limit together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from ledger.store.tables.base import Timestamp


class SignInThrottle(SQLModel, table=True):
    __tablename__ = "sign_in_throttle"
    __table_args__ = (
        CheckConstraint("kind IN ('username', 'address')", name="kind_known"),
        CheckConstraint("tries >= 0", name="tries_not_negative"),
    )

    kind: str = Field(max_length=10, primary_key=True)
    key: str = Field(max_length=120, primary_key=True)
    """The username tried (lower case) or the connecting address."""
    window_started_at: datetime = Field(sa_type=Timestamp)
    tries: int
    """Failed tries in the window, and tries not yet answered (counted before the password
    is checked, given back when it matches)."""
