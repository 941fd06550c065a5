"""What is set aside from a budget's held funds: the contingency, ring-fenced, and the
top-slice, taken month by month. Both are the services' own (``ledger.set_asides.contingency``,
``ledger.set_asides.top_slice``), so a later run (the scheduler's 05:00 job, ``phb-ledger top-slice
take``) finds nothing left to set aside before ``today``.

As with the card loads, the demo works out what each run must post and the running balances
take it in at once; the run asserts the service posted exactly that.

- The top-slice: on the first day of each plan month the holder's run takes every month
  due. The demo computes the months with the service's pure rule
  (``ledger.set_asides.top_slice.monthly_top_slices``) from the versions agreed by that day and what
  was taken before, exactly as the service reads them.
- The contingency: ring-fenced on the day the plan starts (the lead funder's first payment
  has brought it by then), and again when a revision that changes it takes effect (raised,
  or the unused difference released).
"""

from __future__ import annotations

from datetime import date
from functools import partial

from sqlalchemy.orm import Session

from ledger.budgets.budget import budget_by_reference
from ledger.core.vocabulary import AccountKind
from ledger.demo.book import CREATED_BY, DemoBook, ServiceEntry
from ledger.demo.story import BudgetStory, Priority, Timetable
from ledger.set_asides.contingency import ring_fence_contingency
from ledger.set_asides.top_slice import MonthStatus, VersionFigure, monthly_top_slices, months_of, take_due_top_slices

ExpectedMonth = tuple[str, date, int]
"""(budget reference, month start, pence): a month's top-slice as the demo expects it."""


class TopSlices:
    """A holder's top-slice runs: one on each day a plan month of one of its budgets starts."""

    def __init__(self, book: DemoBook, timetable: Timetable) -> None:
        self.book = book
        self.timetable = timetable
        self._stories: list[BudgetStory] = []
        self._taken: dict[str, dict[date, int]] = {}

    def add(self, story: BudgetStory) -> None:
        if any(figures.top_slice_pence for figures in story.figures):
            self._stories.append(story)
            self._taken[story.reference] = {}

    def schedule(self) -> None:
        days = sorted(
            {month.starts_on for story in self._stories for month in months_of(story.recipe.period_start, story.recipe.period_end)}
        )
        for day in days:
            self.timetable.at(day, Priority.SET_ASIDE, partial(self._take, day))

    def _take(self, day: date) -> None:
        entries, expected = [], []
        for story in self._stories:
            for month_start, amount in self._due(story, day):
                self._taken[story.reference][month_start] = amount
                top_slice = story.code(AccountKind.TOP_SLICE)
                entries.append(
                    ServiceEntry(f"the top-slice of {story.reference} for {month_start}", ((top_slice, amount), (story.cash, -amount)))
                )
                expected.append((story.reference, month_start, amount))
        if entries:
            self.book.act(partial(_take_top_slices, self.book.holder_id, day, sorted(expected)), entries=entries)

    def _due(self, story: BudgetStory, day: date) -> list[tuple[date, int]]:
        """The months the service takes for ``story`` on ``day``: due, started by ``day``."""
        recipe = story.recipe
        if recipe.period_start > day:
            return []
        agreed = [
            VersionFigure(index, version.effective_from, story.figures[index].top_slice_pence)
            for index, version in enumerate(recipe.versions)
            if index == 0 or version.agreed_on <= day  # first versions are agreed before the year is played
        ]
        months = monthly_top_slices(recipe.period_start, recipe.period_end, agreed, self._taken[story.reference])
        return [(m.month.starts_on, m.amount_pence) for m in months if m.status is MonthStatus.DUE and m.month.starts_on <= day]


def _take_top_slices(holder_id: int, day: date, expected: list[ExpectedMonth], session: Session) -> None:
    run = take_due_top_slices(session, day, holder_id=holder_id, created_by=CREATED_BY, today=day)
    posted = sorted((month.budget_reference, month.month_starts_on, month.amount_pence) for month in run.posted)
    assert posted == expected and not run.held, f"on {day}, the top-slice service took {posted}, the demo expected {expected}"


def schedule_ring_fences(story: BudgetStory) -> None:
    """Ring-fence the contingency the day the plan starts; a revision that changes it
    ring-fences (or releases) the difference the day it takes effect."""
    if dict(story.recipe.payments).get(story.recipe.lead_funder) is None:  # notional: no money moves
        return
    ring_fenced = 0
    for figures in story.figures:
        if figures.recipe.contingency_pence == ring_fenced:
            continue
        ring_fenced = figures.recipe.contingency_pence
        day = max(story.recipe.period_start, figures.recipe.effective_from)
        story.timetable.at(day, Priority.SET_ASIDE, partial(_ring_fence, story, day, figures.recipe.contingency_pence))


def _ring_fence(story: BudgetStory, day: date, target: int) -> None:
    """What ``ring_fence_contingency`` moves: the plan's figure less what was ring-fenced,
    but never more released than is still unused."""
    change = target - story.ring_fenced_pence
    if change < 0:
        change = -min(-change, story.book.balance(story.contingency))
    story.ring_fenced_pence += change
    entries = (
        [ServiceEntry(f"the ring-fence of {story.reference} on {day}", ((story.contingency, change), (story.cash, -change)))]
        if change
        else []
    )
    story.book.act(partial(_ring_fence_now, story.reference, day, change), entries=entries)


def _ring_fence_now(reference: str, day: date, expected: int, session: Session) -> None:
    budget = budget_by_reference(session, reference)
    fence = ring_fence_contingency(session, budget.id, on=day, created_by=CREATED_BY)
    assert fence.change_pence == expected, (
        f"on {day}, the ring-fence of {reference} moved {fence.change_pence} pence, the demo expected {expected}"
    )
