"""UK financial-year quarters and closing them.

The financial year runs April to March. ``2026Q1`` is April–June 2026, ``2026Q4`` is
January–March 2027: the year in the name is the year the financial year starts.

A closed quarter takes no new entries dated inside it (corrections go in an open period,
as reversing entries). Closing locks the book like a post does, so an entry cannot slip
into a quarter while it is being closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core import checks
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store.tables import ClosedPeriod, LedgerBook

_QUARTER_RE = re.compile(r"(?P<year>20[0-9]{2})Q(?P<number>[1-4])")


@dataclass(frozen=True, slots=True)
class Quarter:
    financial_year: int
    """The calendar year in which the financial year starts (April)."""
    number: int

    @property
    def label(self) -> str:
        return f"{self.financial_year}Q{self.number}"

    @property
    def starts_on(self) -> date:
        month = 4 + 3 * (self.number - 1)
        year = self.financial_year + (month - 1) // 12
        return date(year, (month - 1) % 12 + 1, 1)

    @property
    def ends_on(self) -> date:
        return self.next().starts_on - timedelta(days=1)

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.financial_year + 1, 1)
        return Quarter(self.financial_year, self.number + 1)

    def __str__(self) -> str:
        return self.label


def parse_quarter(text: str, *, field: str = "quarter") -> Quarter:
    match = _QUARTER_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(
            f"{field} must look like 2026Q1 (Q1 = April to June of the financial year starting 2026)",
            code="quarter_invalid",
            field=field,
        )
    return Quarter(int(match["year"]), int(match["number"]))


def quarter_of(day: date) -> Quarter:
    financial_year = day.year if day.month >= 4 else day.year - 1
    return Quarter(financial_year, (day.month - 4) % 12 // 3 + 1)


def closed_quarter_containing(closed: Iterable[tuple[str, date, date]], day: date) -> str | None:
    """The label of the closed quarter ``day`` falls in, if any."""
    for label, starts_on, ends_on in closed:
        if starts_on <= day <= ends_on:
            return label
    return None


def close_quarter(
    session: Session,
    book_id: int,
    quarter: Quarter,
    *,
    closed_by: str,
    reason: str | None = None,
    today: date | None = None,
) -> ClosedPeriod:
    """Close ``quarter`` in a holder's book. Closing twice is a conflict; given ``today``, a
    quarter that has not ended yet cannot be closed."""
    if today is not None and quarter.ends_on >= today:
        raise InvalidInput(f"{quarter} has not ended yet; a quarter is closed after its last day", code="quarter_not_ended", field="quarter")
    closed_by = checks.required_text(closed_by, "closed_by", max_length=200)
    reason = checks.text(reason, "reason", max_length=1000, required=False)
    book = session.execute(
        _locking(session, select(LedgerBook).where(LedgerBook.holder_id == book_id))
    ).scalar_one_or_none()
    if book is None:
        raise NotFound(f"there is no book for holder {book_id}", code="book_not_found")
    existing = session.execute(
        select(ClosedPeriod).where(ClosedPeriod.book_id == book_id, ClosedPeriod.quarter == quarter.label)
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"{quarter} is already closed for this book (on {existing.closed_at:%Y-%m-%d})", code="period_already_closed")
    closed = ClosedPeriod(
        book_id=book_id,
        quarter=quarter.label,
        starts_on=quarter.starts_on,
        ends_on=quarter.ends_on,
        closed_by=closed_by,
        reason=reason,
    )
    session.add(closed)
    session.flush()
    return closed


def closed_quarters(session: Session, book_id: int) -> list[ClosedPeriod]:
    return list(
        session.execute(
            select(ClosedPeriod).where(ClosedPeriod.book_id == book_id).order_by(ClosedPeriod.starts_on)
        ).scalars()
    )


def _locking(session: Session, query):  # type: ignore[no-untyped-def]
    return query if session.get_bind().dialect.name == "sqlite" else query.with_for_update()
