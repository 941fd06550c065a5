"""Calendar arithmetic the demo needs: months. Working days come from
``ledger.core.working_days`` (England's bank holidays from a maintained calendar)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ledger.core.working_days import working_day_on_or_before

__all__ = ["add_months", "day_in_month", "month_end", "month_start", "months_between", "working_day_on_or_before"]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=days_in_month(day.year, day.month))


def months_between(first: date, last: date) -> Iterator[date]:
    """The first day of every month from ``first``'s month to ``last``'s month, inclusive."""
    current = month_start(first)
    while current <= last:
        yield current
        current = add_months(current, 1)


def day_in_month(month: date, day_number: int) -> date:
    """Day ``day_number`` of ``month``, or its last day if the month is shorter."""
    return month.replace(day=min(day_number, days_in_month(month.year, month.month)))
