"""Money coming into a budget, and what is set aside from it on arrival.

- Funder payments, in advance, on each funder's schedule. Each payment is what the funder
  still owes for regular spending, divided by the payments left, so a plan revision changes
  the payments from its effective date and the year's payments always add up. The lead
  funder's first payment also brings the contingency; one-off lines (and transition costs)
  are paid a week before they fall due, but for those on the card, whose money goes onto it
  with every load and so comes with the regular payments. One bank line from a funder covers
  every budget of the holder it pays that day (a remittance), split into balanced pairs per
  budget. A funder that pays "with the loads" pays each card load on its day.
- The person's client contribution, monthly by standing order.
- The contingency, ring-fenced when it arrives; the top-slice, taken monthly.
- One payment (MA-0012's) arrives with a reference nobody recognises: it waits in the
  holder's unallocated account until it is identified and attributed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial

from ledger.accounts import holder_account_code
from ledger.demo.book import DemoBook
from ledger.demo.dates import add_months, working_day_on_or_before
from ledger.demo.plan_figures import CONTRIBUTION, PlannedLine, VersionFigures
from ledger.demo.recipes import PaidBy, Schedule, UnidentifiedPayment
from ledger.demo.story import BudgetStory, Priority, Timetable
from ledger.money import format_gbp, split_pence
from ledger.vocabulary import AccountKind, EntryKind

FOUR_WEEKS = timedelta(weeks=4)
FOUR_WEEKLY_LEAD = timedelta(weeks=2)
ONE_OFF_FUNDING_LEAD = timedelta(days=7)


@dataclass(frozen=True)
class Payment:
    due: date
    on: date
    """The working day on or before ``due``: payments are made in advance."""
    amount_pence: int


class Remittances:
    """The funder payments a holder receives: one bank line per funder per day."""

    def __init__(self, book: DemoBook, timetable: Timetable, funder_names: dict[str, str]) -> None:
        self.book = book
        self.timetable = timetable
        self.funder_names = funder_names
        self._due: defaultdict[tuple[date, str], list[tuple[BudgetStory, int]]] = defaultdict(list)

    def add(self, day: date, funder: str, story: BudgetStory, amount: int) -> None:
        if amount:
            self._due[(day, funder)].append((story, amount))

    def schedule(self) -> None:
        for (day, funder), shares in self._due.items():
            self.timetable.at(day, Priority.MONEY_IN, partial(self._receive, day, funder, shares))

    def _receive(self, day: date, funder: str, shares: list[tuple[BudgetStory, int]]) -> None:
        postings = []
        for story, amount in shares:
            postings += [(story.cash, amount), (story.receivable(funder), -amount)]
        name = self.funder_names[funder]
        total = format_gbp(sum(amount for _, amount in shares))
        if len(shares) == 1:
            description = f"{name}: payment of {total} for {shares[0][0].reference}"
        else:
            references = ", ".join(story.reference for story, _ in shares)
            description = f"{name}: BACS remittance of {total} covering {len(shares)} budgets ({references})"
        key = f"demo:payment:{self.book.holder_code}:{funder}:{day.isoformat()}"
        self.book.post(day, EntryKind.FUNDER_PAYMENT, description, key, postings)


def schedule_money_in(story: BudgetStory, remittances: Remittances) -> None:
    for funder, schedule in story.recipe.payments:
        for number, payment in enumerate(regular_payments(story, funder, schedule)):
            if funder == CONTRIBUTION:
                _schedule_contribution(story, payment, number)
            elif not _arrives_unidentified(story, funder, payment, remittances):
                remittances.add(payment.on, funder, story, payment.amount_pence)
    _schedule_one_off_funding(story)
    _schedule_ring_fence(story)
    _schedule_top_slice(story)


def regular_payments(story: BudgetStory, funder: str, schedule: str) -> list[Payment]:
    """Every payment ``funder`` makes over the plan period (some after today)."""
    recipe = story.recipe
    if schedule == Schedule.WITH_LOADS:
        payments = [Payment(load.period.starts_on, load.period.due_on, load.amount_pence) for load in story.loads_made]
    else:
        dues = _due_dates(recipe.period_start, recipe.period_end, schedule)
        payments, paid = [], 0
        for number, due in enumerate(dues):
            owed = _regular_allocation(story, story.figures_on(due), funder) - paid
            amount = split_pence(owed, len(dues) - number)[0] if owed > 0 else 0
            payments.append(Payment(due, working_day_on_or_before(due), amount))
            paid += amount
    if funder == recipe.lead_funder and payments:
        payments[0] = replace(payments[0], amount_pence=payments[0].amount_pence + story.figures[0].recipe.contingency_pence)
    return payments


def _due_dates(start: date, end: date, schedule: str) -> list[date]:
    if schedule == Schedule.FOUR_WEEKLY:  # two weeks in advance, as in the Dorset model ISF agreement
        count = ((end - start).days + 1) // 28
        return [start - FOUR_WEEKLY_LEAD + FOUR_WEEKS * number for number in range(count)]
    step = 3 if schedule == Schedule.QUARTERLY else 1
    dues = []
    while (due := add_months(start, step * len(dues))) <= end:
        dues.append(due)
    return dues


def _regular_allocation(story: BudgetStory, figures: VersionFigures, funder: str) -> int:
    """What ``funder`` pays through its regular payments under ``figures``: its allocation,
    less (for the lead) the contingency, one-offs paid on their own, and notional lines."""
    allocation = figures.allocations.get(funder, 0)
    if funder != story.recipe.lead_funder:
        return allocation
    held_back = figures.recipe.contingency_pence + sum(
        line.amount_pence for line in figures.lines if _paid_on_its_own(line) or line.paid_by == PaidBy.NOTIONAL
    )
    return allocation - held_back


def _schedule_contribution(story: BudgetStory, payment: Payment, number: int) -> None:
    if payment.amount_pence:
        story.post_on(
            payment.on, Priority.MONEY_IN, EntryKind.CONTRIBUTION_RECEIVED,
            f"Client contribution from {story.recipe.person.name} for {story.reference}: standing order {number + 1}",
            f"demo:contribution:{story.reference}:{payment.on.isoformat()}",
            [(story.cash, payment.amount_pence), (story.receivable(CONTRIBUTION), -payment.amount_pence)],
        )  # fmt: skip


def _arrives_unidentified(story: BudgetStory, funder: str, payment: Payment, remittances: Remittances) -> bool:
    for incident in story.incidents(UnidentifiedPayment):
        assert isinstance(incident, UnidentifiedPayment)
        if payment.due == incident.month and funder == story.recipe.lead_funder:
            _schedule_unidentified(story, funder, payment, incident, remittances.funder_names[funder])
            return True
    return False


def _schedule_unidentified(story: BudgetStory, funder: str, payment: Payment, incident: UnidentifiedPayment, funder_name: str) -> None:
    """The credit lands in the holder's own fund (``unallocated``, whose other side is
    ``unidentified``) and moves to the budget once someone recognises it."""
    holder, day, amount = story.book.holder_code, payment.on, payment.amount_pence
    unallocated = holder_account_code(holder, AccountKind.UNALLOCATED)
    unidentified = holder_account_code(holder, AccountKind.UNIDENTIFIED)
    identified_on = working_day_on_or_before(day + timedelta(days=incident.days_unidentified))
    story.post_on(
        day, Priority.MONEY_IN, EntryKind.TRANSFER,
        f"Unidentified credit of {format_gbp(amount)} on the client account, reference '{incident.bank_reference}'",
        f"demo:unidentified:{holder}:{day.isoformat()}", [(unallocated, amount), (unidentified, -amount)],
    )  # fmt: skip
    story.post_on(
        identified_on, Priority.MONEY_IN, EntryKind.FUNDER_PAYMENT,
        f"Identified: the credit of {day:%d %b %Y} ('{incident.bank_reference}') is {funder_name}'s payment for {story.reference}",
        f"demo:attributed:{story.reference}:{day.isoformat()}",
        [(unidentified, amount), (unallocated, -amount), (story.cash, amount), (story.receivable(funder), -amount)],
    )  # fmt: skip


def _paid_on_its_own(line: PlannedLine) -> bool:
    """A one-off the funder pays a week ahead: not a card's, which comes with the loads."""
    return line.recipe.is_one_off and not line.on_card


def _schedule_one_off_funding(story: BudgetStory) -> None:
    """The lead funder pays each one-off (equipment, insurance, transition) a week ahead."""
    lead = story.recipe.lead_funder
    for figures in story.figures:
        for line in figures.lines:
            if not _paid_on_its_own(line) or line.paid_by == PaidBy.NOTIONAL or story.figures_on(line.starts_on) is not figures:
                continue
            day = working_day_on_or_before(line.starts_on - ONE_OFF_FUNDING_LEAD)
            story.post_on(
                day, Priority.MONEY_IN, EntryKind.FUNDER_PAYMENT,
                f"Payment for a one-off in {story.reference}'s plan: {line.recipe.description}",
                f"demo:one-off-payment:{story.reference}:{line.starts_on.isoformat()}:{line.position}",
                [(story.cash, line.amount_pence), (story.receivable(lead), -line.amount_pence)],
            )  # fmt: skip


def _schedule_ring_fence(story: BudgetStory) -> None:
    """Ring-fence the contingency when the first payment brings it; a revision that changes
    it ring-fences (or releases) the difference when it takes effect."""
    lead = story.recipe.lead_funder
    schedule = dict(story.recipe.payments).get(lead)
    if schedule is None:  # notional: no money moves
        return
    first_payment_day = regular_payments(story, lead, schedule)[0].on
    ring_fenced = 0
    for figures in story.figures:
        change = figures.recipe.contingency_pence - ring_fenced
        ring_fenced += change
        if not change:
            continue
        day = first_payment_day if figures.index == 0 else working_day_on_or_before(figures.recipe.effective_from)
        words = f"ring-fenced: {format_gbp(change)}" if change > 0 else f"reduced by {format_gbp(-change)}"
        story.post_on(
            day, Priority.SET_ASIDE, EntryKind.CONTINGENCY_RING_FENCE, f"Contingency for {story.reference} {words}",
            f"demo:ring-fence:{story.reference}:{day.isoformat()}", [(story.contingency, change), (story.cash, -change)],
        )  # fmt: skip


def _schedule_top_slice(story: BudgetStory) -> None:
    """The provider takes a twelfth of the top-slice each month."""
    recipe = story.recipe
    months = _due_dates(recipe.period_start, recipe.period_end, Schedule.MONTHLY)
    taken = 0
    for number, month in enumerate(months):
        owed = story.figures_on(month).top_slice_pence - taken
        amount = split_pence(owed, len(months) - number)[0] if owed > 0 else 0
        taken += amount
        if amount:
            story.post_on(
                working_day_on_or_before(month), Priority.SET_ASIDE, EntryKind.TOP_SLICE,
                f"Top-slice for {month:%B %Y} taken from {story.reference}", f"demo:top-slice:{story.reference}:{month:%Y-%m}",
                [(story.code(AccountKind.TOP_SLICE), amount), (story.cash, -amount)],
            )  # fmt: skip
