"""The prepaid card: loads, purchases (and a few refunds), transfers to personal assistants,
and the scheme's fees (3p a purchase, 20p a transfer), charged at each month end.

The loads are the drawdown service's own (``ledger.loads.runs``): on each load day the
holder's run posts every load due, and must post exactly the ones the demo worked out with
the service's pure schedule (``ledger.demo.plan_figures.card_schedule``), whose amounts the
running balances have taken in already.

Card spending follows the plan's card lines month by month, at the budget's spend rate and
category weights, and stops while the person is in hospital. A purchase the card cannot
cover is declined, as the scheme would decline it, and never posted; a little is always left
on the card for the month's fees. A one-off card line is bought on its day: the card's float
is there for it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from itertools import pairwise

from sqlalchemy.orm import Session

from ledger.core.money import format_gbp, split_pence
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.demo.book import CREATED_BY, DemoBook, ServiceEntry
from ledger.demo.cast import LOAD_TIME
from ledger.demo.dates import month_end, working_day_on_or_before
from ledger.demo.merchants import Merchant, merchants_for
from ledger.demo.recipes import OddPurchase, PaidBy, WrongCategory
from ledger.demo.story import BudgetStory, Priority, Timetable, percent_of
from ledger.loads.runs import post_due_drawdowns
from ledger.loads.schedule import Period, ScheduledLoad, due_at

PURCHASE_FEE_PENCE = 3
TRANSFER_FEE_PENCE = 20
FEES_RESERVE_PENCE = 300
REFUND_CHANCE_PERCENT = 8
SMALLEST_PURCHASE_PENCE = 150
OTHER_RETAIL_MCC = 5999
ONE_OFF_NUMBERS = 10_000
"""One-off card purchases are numbered from here, apart from the everyday ones."""
ExpectedLoad = tuple[str, date, int]
"""(budget reference, period start, pence): a load as the demo expects the service to post it."""


@dataclass(frozen=True)
class Purchase:
    number: int
    day: date
    category: str
    merchant: Merchant
    amount_pence: int
    refund_after_days: int | None = None
    booked_as: str | None = None
    """Set on the one purchase booked to the wrong category (and corrected later)."""
    corrected_after_days: int = 0


class CardLoads:
    """A holder's card loads, gathered by day: each load day is one run of the drawdown
    service for the holder, at the day's load time, whatever the number of budgets."""

    def __init__(self, book: DemoBook, timetable: Timetable) -> None:
        self.book = book
        self.timetable = timetable
        self._due: defaultdict[date, list[tuple[BudgetStory, ScheduledLoad]]] = defaultdict(list)

    def add(self, story: BudgetStory) -> None:
        for load in story.loads_made:
            self._due[load.period.due_on].append((story, load))

    def schedule(self) -> None:
        for day, loads in self._due.items():
            self.timetable.at(day, Priority.LOAD, partial(self._load, day, loads))

    def _load(self, day: date, loads: list[tuple[BudgetStory, ScheduledLoad]]) -> None:
        entries = [
            ServiceEntry(
                f"the load of {story.reference} for the period from {load.period.starts_on}",
                ((story.card, load.amount_pence), (story.cash, -load.amount_pence)),
            )
            for story, load in loads
        ]
        expected = sorted((story.reference, load.period.starts_on, load.amount_pence) for story, load in loads)
        self.book.act(partial(_post_loads, self.book.holder_id, due_at(day, LOAD_TIME), expected), entries=entries)


def _post_loads(holder_id: int, moment: datetime, expected: list[ExpectedLoad], session: Session) -> None:
    """Run the drawdown service for the holder as at ``moment`` (a load time, which is
    also the story's now): it must post exactly the loads the demo expects."""
    run = post_due_drawdowns(session, moment, holder_id=holder_id, now=moment, created_by=CREATED_BY)
    posted = sorted((load.budget_reference, load.period_starts_on, load.amount_pence) for load in run.posted)
    assert posted == expected and not run.held, f"at {moment}, the drawdown service posted {posted}, the demo expected {expected}"


def schedule_card(story: BudgetStory, card_loads: CardLoads) -> None:
    if story.recipe.card_part is None:
        return
    card_loads.add(story)
    for worked, next_load in pairwise(story.loads):
        day = next_load.period.due_on
        story.timetable.at(day, Priority.TRANSFER, partial(_pay_assistants, story, worked.period, day))
    _schedule_one_offs(story)
    for purchase in _mark_wrong_category(story, _plan_purchases(story)):
        story.timetable.at(purchase.day, Priority.PURCHASE, partial(buy, story, purchase))
    for odd in story.incidents(OddPurchase):
        assert isinstance(odd, OddPurchase)
        merchant = Merchant(odd.merchant, odd.merchant_category_code, odd.amount_pence, odd.amount_pence)
        story.timetable.at(odd.on, Priority.PURCHASE, partial(buy, story, Purchase(0, odd.on, odd.category, merchant, odd.amount_pence)))
    for month in story.months():
        story.timetable.at(month_end(month), Priority.FEES, partial(_charge_fees, story, month))


def _pay_assistants(story: BudgetStory, worked: Period, day: date) -> None:
    """A personal assistant employed through the direct payment is paid from the card
    account by bank transfer on each load day, for the days worked in the period before:
    in arrears, so the load for those days is always on the card by then."""
    for line in story.figures_on(worked.ends_on).lines:
        first, last = max(worked.starts_on, line.starts_on), min(worked.ends_on, line.ends_on)
        if line.paid_by != PaidBy.CARD_TRANSFER or first > last:
            continue
        spec = line.spec
        assert spec.weekly_hours_hundredths and spec.hourly_rate_pence, "a PA line gives hours and a rate"
        days = (last - first).days + 1
        wage = (spec.weekly_hours_hundredths * spec.hourly_rate_pence * days + 350) // 700
        story.book.post(
            day, EntryKind.CARD_PURCHASE,
            f"Bank transfer from the card account to {story.recipe.person.first_name}'s personal assistant:"
            f" wages for {first:%d %b} to {last:%d %b %Y} ({days} days)",
            f"demo:pa-wages:{story.reference}:{first.isoformat()}:{line.position}",
            [(story.spend(line.recipe.category), wage), (story.card, -wage)],
        )  # fmt: skip
        story.count_card_use(day, transfer=True)


def _schedule_one_offs(story: BudgetStory) -> None:
    """A one-off card line is bought on its day. Its money comes with the loads, spread
    over the year like the rest of the card's, so it is the float that pays for it then."""
    for figures in story.figures:
        for line in figures.lines:
            if line.paid_by != PaidBy.CARD or not line.recipe.is_one_off or story.figures_on(line.starts_on) is not figures:
                continue
            day = working_day_on_or_before(line.starts_on)
            merchant = Merchant(line.recipe.supplier or line.recipe.description, OTHER_RETAIL_MCC, line.amount_pence, line.amount_pence)
            purchase = Purchase(ONE_OFF_NUMBERS + line.position, day, line.recipe.category, merchant, line.amount_pence)
            story.timetable.at(day, Priority.PURCHASE, partial(_buy_one_off, story, purchase))


def _buy_one_off(story: BudgetStory, purchase: Purchase) -> None:
    """A planned one-off the card cannot pay for is a mistake in the demo's figures."""
    can_spend = story.book.balance(story.card) - FEES_RESERVE_PENCE
    assert can_spend >= purchase.amount_pence, f"{story.reference} cannot pay {purchase.merchant.name} ({can_spend} pence on the card)"
    buy(story, purchase)


def _plan_purchases(story: BudgetStory) -> list[Purchase]:
    purchases: list[Purchase] = []
    made = story.loads_made
    first_load = made[0].period.due_on if made else story.recipe.period_start
    for month in story.months():
        targets = _month_targets(story, month)
        first_day = max(month, first_load)
        last_day = min(month_end(month), story.recipe.period_end)
        if first_day > last_day:
            continue
        for category, target in targets:
            purchases += _purchases_for(story, category, target, first_day, last_day, len(purchases))
    stays = story.behaviour.hospital_stays
    at_home = [purchase for purchase in purchases if not any(stay.covers(purchase.day) for stay in stays)]
    return sorted(at_home, key=lambda p: (p.day, p.number))


def _month_targets(story: BudgetStory, month: date) -> list[tuple[str, int]]:
    """What the card lines plan for ``month``, at the spend rate, shifted between categories
    by the budget's weights without changing the month's total."""
    planned: dict[str, int] = {}
    for line in story.lines_in(month, PaidBy.CARD):
        if not line.recipe.is_one_off:
            planned[line.recipe.category] = planned.get(line.recipe.category, 0) + story.month_share(line, month)
    weights = dict(story.behaviour.category_weight_percent)
    weighted = [amount * weights.get(category, 100) for category, amount in planned.items()]
    if not sum(weighted):
        return []
    total = percent_of(sum(planned.values()), story.behaviour.card_spend_percent)
    return list(zip(planned, split_pence(total, weighted), strict=True))


def _purchases_for(story: BudgetStory, category: str, target: int, first: date, last: date, numbered_from: int) -> list[Purchase]:
    rng, merchants, found = story.rng, merchants_for(category), []
    while target >= SMALLEST_PURCHASE_PENCE:
        merchant = rng.choice(merchants)
        amount = min(target, rng.randint(merchant.low_pence, merchant.high_pence))
        day = first + timedelta(days=rng.randint(0, (last - first).days))
        refund = None
        if story.behaviour.refunds and merchant.refundable and rng.randrange(100) < REFUND_CHANCE_PERCENT:
            refund = rng.randint(3, 12)
        found.append(Purchase(numbered_from + len(found) + 1, day, category, merchant, amount, refund))
        target -= amount
    return found


def _mark_wrong_category(story: BudgetStory, purchases: list[Purchase]) -> list[Purchase]:
    for mistake in story.incidents(WrongCategory):
        assert isinstance(mistake, WrongCategory)
        index = next(i for i, p in enumerate(purchases) if p.day >= mistake.on and p.category != mistake.booked_as)
        purchases[index] = replace(
            purchases[index], booked_as=mistake.booked_as, corrected_after_days=mistake.days_later, refund_after_days=None
        )
    return purchases


def buy(story: BudgetStory, purchase: Purchase) -> None:
    """Post a card purchase, unless the card cannot cover it (then it is declined)."""
    card = story.card
    if story.book.balance(card) - FEES_RESERVE_PENCE < purchase.amount_pence:
        return
    key = f"demo:card:{story.reference}:{purchase.day.isoformat()}:{purchase.number}"
    category = purchase.booked_as or purchase.category
    story.book.post(
        purchase.day, EntryKind.CARD_PURCHASE, _purchase_words(purchase), key,
        [(story.spend(category), purchase.amount_pence), (card, -purchase.amount_pence)],
    )  # fmt: skip
    story.count_card_use(purchase.day, transfer=False)
    if purchase.refund_after_days:
        day = purchase.day + timedelta(days=purchase.refund_after_days)
        story.timetable.at(day, Priority.PURCHASE, partial(_refund, story, purchase, day, key))
    if purchase.booked_as:
        day = purchase.day + timedelta(days=purchase.corrected_after_days)
        story.timetable.at(day, Priority.CORRECTION, partial(_correct_category, story, purchase, day, key))


def _purchase_words(purchase: Purchase) -> str:
    return f"Card purchase: {purchase.merchant.name} (MCC {purchase.merchant.merchant_category_code})"


def _refund(story: BudgetStory, purchase: Purchase, day: date, original_key: str) -> None:
    story.book.post(
        day, EntryKind.CARD_REFUND, f"Card refund: {purchase.merchant.name}, item returned ({format_gbp(purchase.amount_pence)})",
        f"{original_key}:refund",
        [(story.card, purchase.amount_pence), (story.spend(purchase.booked_as or purchase.category), -purchase.amount_pence)],
    )  # fmt: skip


def _correct_category(story: BudgetStory, purchase: Purchase, day: date, original_key: str) -> None:
    assert purchase.booked_as is not None
    story.book.reverse(
        day, original_key, f"{original_key}:reversal",
        f"Reversal: the purchase at {purchase.merchant.name} on {purchase.day:%d %b %Y} was booked to {purchase.booked_as}"
        f" by mistake; it was {purchase.category}",
    )
    story.book.post(
        day, EntryKind.CARD_PURCHASE, _purchase_words(purchase) + f", booked again to {purchase.category} (was {purchase.booked_as})",
        f"{original_key}:rebooked",
        [(story.spend(purchase.category), purchase.amount_pence), (story.card, -purchase.amount_pence)],
    )  # fmt: skip


def _charge_fees(story: BudgetStory, month: date) -> None:
    purchases, transfers = story.card_use.get(month, (0, 0))
    fee = purchases * PURCHASE_FEE_PENCE + transfers * TRANSFER_FEE_PENCE
    if fee:
        story.book.post(
            month_end(month), EntryKind.FEE,
            f"Card scheme fees for {month:%B %Y}: {purchases} purchase(s) at 3p, {transfers} transfer(s) at 20p",
            f"demo:card-fees:{story.reference}:{month:%Y-%m}",
            [(story.code(AccountKind.FEES), fee), (story.card, -fee)],
        )  # fmt: skip
