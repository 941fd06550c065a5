"""A budget's year as it plays out: its plan figures, its card loads, its random choices, and
the timetable every budget of a holder shares.

Randomness is seeded per budget (``random.Random`` seeded with the demo's seed and the
budget reference), so one budget's story never shifts another's, and the same ``today``
always gives the same data.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache, partial

from ledger.core.accounts import budget_account_code
from ledger.core.money import split_pence
from ledger.core.vocabulary import AccountKind
from ledger.demo.book import DemoBook
from ledger.demo.dates import month_end, month_start, months_between
from ledger.demo.plan_figures import PlannedLine, VersionFigures, card_schedule, version_figures
from ledger.demo.recipes import Behaviour, BudgetRecipe, Incident
from ledger.loads.schedule import LoadStatus, ScheduledLoad

SEED = "phb-ledger demo, version 1"
_MONTH_WEIGHT = 100_000


class Priority:
    """Order of events within one day."""

    AGREEMENT = 0
    MONEY_IN = 1
    SET_ASIDE = 2
    LOAD = 3
    TRANSFER = 4
    APPROVAL = 5
    PURCHASE = 6
    PAYMENT_OUT = 7
    FEES = 8
    CORRECTION = 9


class Timetable:
    """Events in date order (then priority, then the order they were added). An event may
    add later events; events on or after ``until`` (today) are left out."""

    def __init__(self, until: date) -> None:
        self.until = until
        self._heap: list[tuple[date, int, int, Callable[[], None]]] = []
        self._added = 0

    def at(self, day: date, priority: int, event: Callable[[], None]) -> None:
        if day < self.until:
            heapq.heappush(self._heap, (day, priority, self._added, event))
            self._added += 1

    def run(self) -> None:
        while self._heap:
            *_, event = heapq.heappop(self._heap)
            event()


class BudgetStory:
    def __init__(self, recipe: BudgetRecipe, book: DemoBook, timetable: Timetable) -> None:
        self.recipe = recipe
        self.reference = recipe.reference
        self.book = book
        self.timetable = timetable
        self.figures = tuple(version_figures(recipe, index) for index in range(len(recipe.versions)))
        self.loads: list[ScheduledLoad] = card_schedule(recipe, self.figures)
        """Every period of the card part, with its load (see ``card_schedule``)."""
        self.rng = random.Random(f"{SEED}:{recipe.reference}")
        self.card_use: defaultdict[date, list[int]] = defaultdict(lambda: [0, 0])
        """Per month: [card purchases, transfers from the card account], for the fees."""
        self.ring_fenced_pence = 0
        """Contingency ring-fenced so far (the contingency service's own count)."""

    @property
    def behaviour(self) -> Behaviour:
        return self.recipe.behaviour

    @property
    def loads_made(self) -> list[ScheduledLoad]:
        """The loads the drawdown service makes, each on its due day (not the paused ones,
        nor the periods the float pays for)."""
        return [load for load in self.loads if load.status is LoadStatus.DUE]

    def code(self, kind: AccountKind, qualifier: str | None = None) -> str:
        return budget_account_code(self.reference, kind, qualifier)

    def spend(self, category: str) -> str:
        return self.code(AccountKind.SPEND, category)

    def receivable(self, funder: str) -> str:
        return self.code(AccountKind.RECEIVABLE, funder)

    @property
    def cash(self) -> str:
        return self.code(AccountKind.CASH)

    @property
    def card(self) -> str:
        return self.code(AccountKind.CARD)

    @property
    def contingency(self) -> str:
        return self.code(AccountKind.CONTINGENCY)

    @property
    def payable(self) -> str:
        return self.code(AccountKind.PAYABLE)

    def post_on(self, day: date, priority: int, kind: str, description: str, key: str, postings: list[tuple[str, int]]) -> None:
        """Schedule an entry whose content is known now."""
        self.timetable.at(day, priority, partial(self.book.post, day, kind, description, key, postings))

    def figures_on(self, day: date) -> VersionFigures:
        return self.figures[self.recipe.version_on(day)]

    def incidents(self, kind: type) -> list[Incident]:
        return [incident for incident in self.behaviour.incidents if isinstance(incident, kind)]

    def months(self) -> list[date]:
        """Every month with something in it: from the earliest line (transition lines start
        before the plan) to the end of the plan or today, whichever comes first."""
        first = min([self.recipe.period_start, *(line.starts_on for f in self.figures for line in f.lines)])
        last = min(self.recipe.period_end, self.timetable.until - timedelta(days=1))
        return list(months_between(first, last))

    def lines_in(self, month: date, paid_by: str) -> list[PlannedLine]:
        """The lines paid ``paid_by`` under the version in force in ``month``."""
        figures = self.figures_on(max(month, self.recipe.period_start))
        return [line for line in figures.lines if line.paid_by == paid_by]

    def month_share(self, line: PlannedLine, month: date) -> int:
        """The part of a line's amount that falls in ``month`` (the one split rule)."""
        return _month_shares(line.amount_pence, line.starts_on, line.ends_on).get(month_start(month), 0)

    def fill_percent(self, month: date) -> int:
        vacancy = self.behaviour.vacancy
        if vacancy and vacancy[0] <= month <= vacancy[1]:
            return self.behaviour.staff_fill_percent
        return 100

    def count_card_use(self, day: date, *, transfer: bool) -> None:
        self.card_use[month_start(day)][1 if transfer else 0] += 1


@cache
def _month_shares(amount: int, starts_on: date, ends_on: date) -> dict[date, int]:
    """Equal shares for whole months (wages and invoices are monthly, and so are most
    payments in), in proportion for the days of a part month."""
    months = list(months_between(starts_on, ends_on))
    weights = [_MONTH_WEIGHT * _days_covered(m, starts_on, ends_on) // month_end(m).day for m in months]
    return dict(zip(months, split_pence(amount, weights), strict=True))


def _days_covered(month: date, starts_on: date, ends_on: date) -> int:
    return (min(month_end(month), ends_on) - max(month, starts_on)).days + 1


def percent_of(amount: int, percent: int) -> int:
    """``percent`` (0–100) per cent of ``amount``, by the one split rule: never a float."""
    assert 0 <= percent <= 100, percent
    return amount if percent == 100 else split_pence(amount, [percent, 100 - percent])[0]
