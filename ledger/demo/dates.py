"""Calendar arithmetic the demo needs: months, England and Wales bank holidays, working days.

Bank holidays follow the standing rules (New Year's Day, Good Friday, Easter Monday, the early
May, spring and summer Mondays, Christmas and Boxing Day, each with its substitute day when it
falls at a weekend). One-off holidays proclaimed for a single year are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache

SATURDAY = 5


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


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_offset = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday_offset) // 433
    month = (h + weekday_offset - 7 * m + 90) // 25
    return date(year, month, (h + weekday_offset - 7 * m + 33 * month + 19) % 32)


@lru_cache(maxsize=32)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of ``year``."""
    easter = easter_sunday(year)
    holidays = {
        _weekday_or_next_monday(date(year, 1, 1)),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _first_monday(date(year, 5, 1)),
        _last_monday(date(year, 5, 31)),
        _last_monday(date(year, 8, 31)),
    }
    holidays.update(_christmas_holidays(year))
    return frozenset(holidays)


def _weekday_or_next_monday(day: date) -> date:
    return day if day.weekday() < SATURDAY else day + timedelta(days=7 - day.weekday())


def _first_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _christmas_holidays(year: int) -> set[date]:
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if christmas.weekday() == SATURDAY:  # Monday 27th and Tuesday 28th instead
        return {christmas + timedelta(days=2), christmas + timedelta(days=3)}
    if christmas.weekday() == SATURDAY + 1:  # Boxing Day on Monday, Christmas on Tuesday
        return {boxing, boxing + timedelta(days=1)}
    if boxing.weekday() == SATURDAY:
        return {christmas, boxing + timedelta(days=2)}
    return {christmas, boxing}


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in bank_holidays(day.year)


def working_day_on_or_before(day: date) -> date:
    """``day`` if banks are open, else the working day before it: a load or payment due on a
    weekend or bank holiday goes out the working day before."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day
