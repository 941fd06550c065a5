"""The prepaid card: loads, purchases (and a few refunds), transfers to personal assistants,
and the scheme's fees (3p a purchase, 20p a transfer), charged at each month end.

Card spending follows the plan's card lines month by month, at the budget's spend rate and
category weights. A purchase the card cannot cover is declined, as the scheme would decline
it, and never posted; a little is always left on the card for the month's fees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial

from ledger.demo.dates import month_end, working_day_on_or_before
from ledger.demo.merchants import Merchant, merchants_for
from ledger.demo.plan_figures import Load
from ledger.demo.recipes import OddPurchase, PaidBy, WrongCategory
from ledger.demo.story import BudgetStory, Priority, percent_of
from ledger.money import format_gbp, split_pence
from ledger.vocabulary import AccountKind, EntryKind

PURCHASE_FEE_PENCE = 3
TRANSFER_FEE_PENCE = 20
FEES_RESERVE_PENCE = 300
REFUND_CHANCE_PERCENT = 8
SMALLEST_PURCHASE_PENCE = 150
OTHER_RETAIL_MCC = 5999
ONE_OFF_NUMBERS = 10_000
"""One-off card purchases are numbered from here, apart from the everyday ones."""
CADENCE_WORDS = {1: "Weekly", 2: "Fortnightly", 4: "Four-weekly"}


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


def schedule_card(story: BudgetStory) -> None:
    part = story.recipe.card_part
    if part is None:
        return
    for load in story.loads:
        story.timetable.at(load.on, Priority.LOAD, partial(_load, story, load))
        story.timetable.at(load.on, Priority.TRANSFER, partial(_pay_assistants, story, load, part.cadence_weeks))
    _schedule_one_offs(story)
    for purchase in _mark_wrong_category(story, _plan_purchases(story)):
        story.timetable.at(purchase.day, Priority.PURCHASE, partial(buy, story, purchase))
    for odd in story.incidents(OddPurchase):
        assert isinstance(odd, OddPurchase)
        merchant = Merchant(odd.merchant, odd.merchant_category_code, odd.amount_pence, odd.amount_pence)
        story.timetable.at(odd.on, Priority.PURCHASE, partial(buy, story, Purchase(0, odd.on, odd.category, merchant, odd.amount_pence)))
    for month in story.months():
        story.timetable.at(month_end(month), Priority.FEES, partial(_charge_fees, story, month))


def _load(story: BudgetStory, load: Load) -> None:
    part = story.recipe.card_part
    assert part is not None
    words = CADENCE_WORDS[part.cadence_weeks]
    description = f"{words} load onto {story.recipe.person.first_name}'s card ({story.reference}), due {load.due:%d %b %Y}"
    if load.number == 0 and part.initial_float_weeks:
        description += f", with a {part.initial_float_weeks}-week float"
    story.book.post(
        load.on, EntryKind.DRAWDOWN, description, f"demo:drawdown:{story.reference}:{load.due.isoformat()}",
        [(story.card, load.amount_pence), (story.cash, -load.amount_pence)],
    )  # fmt: skip


def _pay_assistants(story: BudgetStory, load: Load, weeks: int) -> None:
    """A personal assistant employed through the direct payment is paid from the card
    account by bank transfer on each load day, for the weeks the load covers."""
    for line in story.lines_in(load.due, PaidBy.CARD_TRANSFER):
        if not line.starts_on <= load.due <= line.ends_on:
            continue
        spec = line.spec
        assert spec.weekly_hours_hundredths and spec.hourly_rate_pence, "a PA line gives hours and a rate"
        wage = (spec.weekly_hours_hundredths * spec.hourly_rate_pence * weeks + 50) // 100
        story.book.post(
            load.on, EntryKind.CARD_PURCHASE,
            f"Bank transfer from the card account to {story.recipe.person.first_name}'s personal assistant:"
            f" wages for {weeks} week(s) from {load.due:%d %b %Y}",
            f"demo:pa-wages:{story.reference}:{load.due.isoformat()}:{line.position}",
            [(story.spend(line.recipe.category), wage), (story.card, -wage)],
        )  # fmt: skip
        story.count_card_use(load.on, transfer=True)


def _schedule_one_offs(story: BudgetStory) -> None:
    """A one-off card line gets a load of its own on its day, and is bought that day."""
    for figures in story.figures:
        for line in figures.lines:
            if line.paid_by != PaidBy.CARD or not line.recipe.is_one_off or story.figures_on(line.starts_on) is not figures:
                continue
            day = working_day_on_or_before(line.starts_on)
            story.post_on(
                day, Priority.LOAD, EntryKind.DRAWDOWN,
                f"One-off load onto {story.recipe.person.first_name}'s card for: {line.recipe.description}",
                f"demo:drawdown:{story.reference}:one-off:{line.starts_on.isoformat()}:{line.position}",
                [(story.card, line.amount_pence), (story.cash, -line.amount_pence)],
            )  # fmt: skip
            merchant = Merchant(line.recipe.supplier or line.recipe.description, OTHER_RETAIL_MCC, line.amount_pence, line.amount_pence)
            purchase = Purchase(ONE_OFF_NUMBERS + line.position, day, line.recipe.category, merchant, line.amount_pence)
            story.timetable.at(day, Priority.PURCHASE, partial(buy, story, purchase))


def _plan_purchases(story: BudgetStory) -> list[Purchase]:
    purchases: list[Purchase] = []
    first_load = story.loads[0].on if story.loads else story.recipe.period_start
    for month in story.months():
        targets = _month_targets(story, month)
        first_day = max(month, first_load)
        last_day = min(month_end(month), story.recipe.period_end)
        if first_day > last_day:
            continue
        for category, target in targets:
            purchases += _purchases_for(story, category, target, first_day, last_day, len(purchases))
    return sorted(purchases, key=lambda p: (p.day, p.number))


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
