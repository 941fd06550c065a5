"""How much of each plan line the plan expected to be spent by a day: its *pace*.

People may spend "at times that make sense to them", so the pace is information for the
review, never a flag. A recurring line is spent evenly over the plan period, by days; a
one-off line on its date (all of it), or evenly over its date range; a one-off line with no
date counts from the start. All arithmetic is in integer pence, rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.core.vocabulary import PlanLineKind


@dataclass(frozen=True, slots=True)
class LineToPace:
    category: str
    kind: str
    amount_pence: int
    starts_on: date | None = None
    ends_on: date | None = None


def _days(first: date, last: date) -> int:
    return max(0, (last - first).days + 1)


def _share(amount: int, part_days: int, whole_days: int) -> int:
    """``amount × part ÷ whole``, rounded half up (away from zero for negatives)."""
    if whole_days <= 0:
        return amount
    part_days = max(0, min(part_days, whole_days))
    sign = -1 if amount < 0 else 1
    return sign * ((2 * abs(amount) * part_days + whole_days) // (2 * whole_days))


def paced_to(line: LineToPace, period_start: date, period_end: date, day: date) -> int:
    """What ``line`` expected to be spent from the start of the plan period to ``day``."""
    if line.kind == PlanLineKind.ONE_OFF:
        if line.starts_on is None:
            return line.amount_pence
        if line.ends_on is None or line.ends_on <= line.starts_on:
            return line.amount_pence if line.starts_on <= day else 0
        return _share(line.amount_pence, _days(line.starts_on, min(day, line.ends_on)), _days(line.starts_on, line.ends_on))
    return _share(line.amount_pence, _days(period_start, min(day, period_end)), _days(period_start, period_end))


def paced_by_category(lines: list[LineToPace], period_start: date, period_end: date, day: date) -> dict[str, int]:
    paced: dict[str, int] = {}
    for line in lines:
        paced[line.category] = paced.get(line.category, 0) + paced_to(line, period_start, period_end, day)
    return paced
