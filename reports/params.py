"""What a report is asked for: whose (a budget, a holder, a funder) and which period (a
quarter, a month, or two dates). One parser for the CLI, the API and the scheduler, so a
report asked for the same way anywhere is the same document (and the same ``params_key``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.core.periods import Quarter, parse_quarter, quarter_of
from ledger.errors import InvalidInput

_MONTH_RE = re.compile(r"(?P<year>20[0-9]{2})-(?P<month>0[1-9]|1[0-2])")
PERIOD_DAYS_MAX = 3 * 366


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    """``2026Q1``, ``2026-10`` or ``2026-04-01..2026-09-30``."""
    starts_on: date
    ends_on: date
    kind: str
    """``quarter``, ``month`` or ``dates``."""

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


def quarter_period(quarter: Quarter) -> Period:
    return Period(quarter.label, quarter.starts_on, quarter.ends_on, "quarter")


def month_period(first_day: date) -> Period:
    first = first_day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(f"{first:%Y-%m}", first, following - timedelta(days=1), "month")


def parse_month(text: str, *, field: str = "month") -> Period:
    match = _MONTH_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(f"{field} must look like 2026-10 (a year and a month)", code="month_invalid", field=field)
    return month_period(date(int(match["year"]), int(match["month"]), 1))


def dates_period(starts_on: date, ends_on: date) -> Period:
    if ends_on < starts_on:
        raise InvalidInput(f"the period ends ({ends_on}) before it starts ({starts_on})", code="period_order", field="to")
    if (ends_on - starts_on).days + 1 > PERIOD_DAYS_MAX:
        raise InvalidInput(f"a report covers at most {PERIOD_DAYS_MAX} days", code="period_too_long", field="to")
    return Period(f"{starts_on.isoformat()}..{ends_on.isoformat()}", starts_on, ends_on, "dates")


def parse_period(*, quarter: str | None = None, month: str | None = None, starts_on: date | None = None, ends_on: date | None = None) -> Period | None:
    """At most one way of naming the period: a quarter, a month, or from and to."""
    given = [name for name, value in (("quarter", quarter), ("month", month), ("from", starts_on or ends_on)) if value]
    if len(given) > 1:
        raise InvalidInput(f"name the period one way, not {' and '.join(given)}", code="period_ambiguous", field=given[1])
    if quarter:
        return quarter_period(parse_quarter(quarter))
    if month:
        return parse_month(month)
    if starts_on or ends_on:
        if not (starts_on and ends_on):
            raise InvalidInput("give both from and to", code="period_incomplete", field="to" if starts_on else "from")
        return dates_period(starts_on, ends_on)
    return None


def previous_quarter(day: date) -> Quarter:
    """The last quarter that has ended by ``day``."""
    current = quarter_of(day)
    return quarter_of(current.starts_on - timedelta(days=1))


def previous_month(day: date) -> Period:
    return month_period(day.replace(day=1) - timedelta(days=1))


@dataclass(frozen=True, slots=True)
class ReportParams:
    """Ids, not codes: the CLI and API resolve codes and references before asking."""

    budget_id: int | None = None
    holder_id: int | None = None
    funder_id: int | None = None
    period: Period | None = None

    def key(self, kind: str) -> str:
        parts = [kind]
        for name, value in (("budget", self.budget_id), ("holder", self.holder_id), ("funder", self.funder_id)):
            if value is not None:
                parts.append(f"{name}={value}")
        if self.period is not None:
            parts.append(f"period={self.period.label}")
        return "|".join(parts)
