"""Working days in England: when banks and card schemes move money.

Bank holidays come from the ``holidays`` package (England: ``GB`` with ``subdiv="ENG"``), a
maintained calendar that works offline and carries the substitute days and the one-off
holidays proclaimed for a single year (jubilees, coronations, state funerals), which a
hand-written rule would miss.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

SATURDAY = 5
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=256)
def bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays in ``year``."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def bank_holiday_name(day: date) -> str | None:
    if day not in bank_holidays(day.year):
        return None
    return holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in bank_holidays(day.year)


def working_day_on_or_before(day: date) -> date:
    """``day`` if banks are open, else the working day before it: a load or payment due on a
    weekend or bank holiday goes out the working day before."""
    while not is_working_day(day):
        day -= _ONE_DAY
    return day


def working_day_on_or_after(day: date) -> date:
    while not is_working_day(day):
        day += _ONE_DAY
    return day
