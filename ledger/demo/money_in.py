"""Money coming into a budget, recorded through the funder-payment services
(``ledger.money_in.funder_receipts``, ``ledger.money_in.contributions``): the demo works out each receipt's postings for its running
balances, and the service must post exactly those.

- Funder payments, in advance, on each funder's schedule. Each payment is what the funder
  still owes for regular spending, divided by the payments left, so a plan revision changes
  the payments from its effective date and the year's payments always add up. The lead
  funder's first payment also brings the contingency; one-off lines (and transition costs)
  are paid a week before they fall due, but for those on the card, whose money goes onto it
  with every load and so comes with the regular payments. One bank line from a funder covers
  every budget of the holder it pays that day: ``record_funder_receipt`` with the
  remittance list (a line per budget). A funder that pays "with the loads" pays each card load on its day.
- The person's client contribution, monthly by standing order (``record_contribution``).
- One payment (MA-0012's) arrives with a reference nobody recognises and no remittance: it
  waits in the holder's unallocated account until it is identified and attributed
  (``attribute_unallocated``).

The contingency and the top-slice set aside from this money: ``ledger.demo.set_asides``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial

from sqlalchemy.orm import Session

from ledger.budgets import parties
from ledger.budgets.budget import budget_by_reference
from ledger.core.accounts import holder_account_code
from ledger.core.money import split_pence
from ledger.core.vocabulary import AccountKind
from ledger.demo.book import CREATED_BY, DemoBook, ServiceEntry
from ledger.demo.dates import add_months, working_day_on_or_before
from ledger.demo.plan_figures import CONTRIBUTION, PlannedLine, VersionFigures
from ledger.demo.recipes import PaidBy, Schedule, UnidentifiedPayment
from ledger.demo.story import BudgetStory, Priority, Timetable
from ledger.money_in.contributions import record_contribution
from ledger.money_in.funder_receipts import attribute_unallocated, record_funder_receipt
from ledger.money_in.receipt_views import ReceiptView, ShareView

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
        reference = f"{funder.upper()} PHB {self.book.holder_code.upper()} {day:%Y%m%d}"
        receive_payment(self.book, day, funder, reference, shares)


def receive_payment(book: DemoBook, day: date, funder: str, reference: str, shares: list[tuple[BudgetStory, int]]) -> None:
    """One bank line from ``funder``, recorded by the funder-payment service with its
    remittance list: a line per budget, so the whole payment goes to the budgets named."""
    postings = tuple(posting for story, amount in shares for posting in ((story.cash, amount), (story.receivable(funder), -amount)))
    remittance = [(story.reference, amount) for story, amount in shares]
    run = partial(_record_receipt, book.holder_id, funder, day, reference, remittance)
    book.act(run, entries=[ServiceEntry(f"{funder}'s payment {reference!r} of {day}", postings)])


def _record_receipt(holder_id: int, funder: str, day: date, reference: str, remittance: list[tuple[str, int]], session: Session) -> None:
    recorded = record_funder_receipt(
        session, holder_id, parties.funder_by_code(session, funder).id, received_on=day,
        amount_pence=sum(amount for _, amount in remittance), reference=reference, remittance=remittance, created_by=CREATED_BY,
    )  # fmt: skip
    assert isinstance(recorded.receipt, ReceiptView) and recorded.created, reference
    assert _by_budget(recorded.receipt.shares) == _by_budget_expected(remittance), f"{reference}: {recorded.receipt.shares}"


def _by_budget(shares: Sequence[ShareView]) -> dict[str | None, int]:
    totals: defaultdict[str | None, int] = defaultdict(int)
    for share in shares:
        totals[share.budget_reference] += share.amount_pence
    return dict(totals)


def _by_budget_expected(remittance: Sequence[tuple[str | None, int]]) -> dict[str | None, int]:
    totals: defaultdict[str | None, int] = defaultdict(int)
    for reference, amount in remittance:
        totals[reference] += amount
    return dict(totals)


def schedule_money_in(story: BudgetStory, remittances: Remittances) -> None:
    for funder, schedule in story.recipe.payments:
        for number, payment in enumerate(regular_payments(story, funder, schedule)):
            if funder == CONTRIBUTION:
                _schedule_contribution(story, payment, number)
            elif not _arrives_unidentified(story, funder, payment, remittances):
                remittances.add(payment.on, funder, story, payment.amount_pence)
    _schedule_one_off_funding(story)


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
        # The first payment brings the contingency, in time to be ring-fenced the day the plan starts.
        first = payments[0]
        on = min(first.on, working_day_on_or_before(recipe.period_start))
        payments[0] = replace(first, on=on, amount_pence=first.amount_pence + story.figures[0].recipe.contingency_pence)
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
    """The person's standing order, recorded by the contribution service."""
    if not payment.amount_pence:
        return
    amount, reference = payment.amount_pence, f"SO {story.reference} {number + 1:02d}"
    postings = ((story.cash, amount), (story.receivable(CONTRIBUTION), -amount))
    run = partial(_record_contribution, story.reference, payment.on, amount, reference)
    entry = ServiceEntry(f"the contribution {reference!r}", postings)
    story.timetable.at(payment.on, Priority.MONEY_IN, partial(story.book.act, run, entries=[entry]))


def _record_contribution(budget: str, day: date, amount: int, reference: str, session: Session) -> None:
    budget_id = budget_by_reference(session, budget).id
    recorded = record_contribution(session, budget_id, received_on=day, amount_pence=amount, reference=reference, created_by=CREATED_BY)
    assert recorded.created and recorded.receipt.amount_pence == amount, reference


def _arrives_unidentified(story: BudgetStory, funder: str, payment: Payment, remittances: Remittances) -> bool:
    for incident in story.incidents(UnidentifiedPayment):
        assert isinstance(incident, UnidentifiedPayment)
        if payment.due == incident.month and funder == story.recipe.lead_funder:
            _schedule_unidentified(story, funder, payment, incident, remittances.funder_names[funder])
            return True
    return False


def _schedule_unidentified(story: BudgetStory, funder: str, payment: Payment, incident: UnidentifiedPayment, funder_name: str) -> None:
    """The payment comes with no remittance and a reference nobody recognises, and the funder
    expects nothing due then, so the service puts it in the holder's own fund
    (``unallocated``, whose other side is ``unidentified``); it moves to the budget once
    someone recognises it (``attribute_unallocated``)."""
    holder, day, amount = story.book.holder_code, payment.on, payment.amount_pence
    unallocated = holder_account_code(holder, AccountKind.UNALLOCATED)
    unidentified = holder_account_code(holder, AccountKind.UNIDENTIFIED)
    identified_on = working_day_on_or_before(day + timedelta(days=incident.days_unidentified))
    arrives = partial(_record_unidentified, story.book.holder_id, funder, day, amount, incident.bank_reference)
    received = ServiceEntry(f"the unidentified credit of {day}", ((unallocated, amount), (unidentified, -amount)))
    story.timetable.at(day, Priority.MONEY_IN, partial(story.book.act, arrives, entries=[received]))
    reason = f"the credit of {day:%d %b %Y} ('{incident.bank_reference}') is {funder_name}'s payment for {story.reference}"
    identified = partial(_attribute, story.book.holder_id, story.reference, funder, identified_on, amount, reason)
    moved = ServiceEntry(
        f"the attribution of the credit of {day}",
        ((unidentified, amount), (unallocated, -amount), (story.cash, amount), (story.receivable(funder), -amount)),
    )
    story.timetable.at(identified_on, Priority.MONEY_IN, partial(story.book.act, identified, entries=[moved]))


def _record_unidentified(holder_id: int, funder: str, day: date, amount: int, reference: str, session: Session) -> None:
    recorded = record_funder_receipt(
        session, holder_id, parties.funder_by_code(session, funder).id, received_on=day, amount_pence=amount,
        reference=reference, remittance=None, created_by=CREATED_BY,
    )  # fmt: skip
    assert isinstance(recorded.receipt, ReceiptView) and recorded.created, reference
    assert _by_budget(recorded.receipt.shares) == {None: amount}, f"{reference} was put to a budget: {recorded.receipt.shares}"


def _attribute(holder_id: int, budget: str, funder: str, day: date, amount: int, reason: str, session: Session) -> None:
    recorded = attribute_unallocated(
        session, holder_id, budget_id=budget_by_reference(session, budget).id, funder_id=parties.funder_by_code(session, funder).id,
        amount_pence=amount, on=day, reason=reason, created_by=CREATED_BY,
    )  # fmt: skip
    assert recorded.created and recorded.receipt.amount_pence == amount, reason


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
            reference = f"{lead.upper()} ONE-OFF {story.reference} {line.position}"
            story.timetable.at(
                day, Priority.MONEY_IN, partial(receive_payment, story.book, day, lead, reference, [(story, line.amount_pence)])
            )
