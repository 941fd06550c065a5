"""The demo's dates, all worked out from ``today``: about a year of history before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ledger.demo.dates import add_months, month_start

HISTORY_MONTHS = 11


@dataclass(frozen=True)
class Timeline:
    today: date

    @property
    def anchor(self) -> date:
        """The first plan period starts here: the first of the month eleven months before
        ``today``'s month, so every twelve-month period that starts on or after it is still
        running on ``today``."""
        return add_months(month_start(self.today), -HISTORY_MONTHS)

    def start(self, months_after_anchor: int) -> date:
        return add_months(self.anchor, months_after_anchor)

    @staticmethod
    def end(start: date, months: int = 12) -> date:
        """The last day of a plan period of ``months`` months starting on ``start``."""
        return add_months(start, months) - timedelta(days=1)
