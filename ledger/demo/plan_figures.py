"""The money of each plan version, worked out exactly from its recipe.

A version must add up to the penny (``ledger.budgets.plan_money.check_adds_up``): funding lines =
parts = plan lines + contingency + top-slice = total. The recipe gives the natural cost of
each line; two lines take what is left:

- on a card part, the *card remainder* line takes what the part's other recurring lines
  leave of its recurring money: each version's ``load_pence`` a period, for the days the
  version is in force;
- elsewhere, the *total remainder* line takes what the total leaves. Unless the recipe fixes
  the total, it is the smallest whole £100 that covers every line at its natural cost, the
  contingency and the top-slice (a percentage of the total itself).

The drawdown service loads a card part its amount less its share of the top-slice,
contingency and client contribution (``ledger.loads.schedule.part_nets``), so the card part's
amount is its lines plus that share, and the main part holds the rest: the card then loads
exactly its lines. The card's schedule is worked out here too, with the service's own pure
rules, from the figures the database will hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.budgets.plan_money import line_amount
from ledger.budgets.plans import BASIS_POINTS_WHOLE, PlanLineSpec
from ledger.core.money import split_pence
from ledger.core.vocabulary import TRANSITION_CATEGORY, PlanLineKind
from ledger.demo.cast import LOAD_TIME
from ledger.demo.recipes import BudgetRecipe, LineRecipe, PaidBy, VersionRecipe
from ledger.loads.schedule import PartTerms, Pause, ScheduledLoad, VersionTerms, part_nets, schedule

CONTRIBUTION = "contribution"
"""Key of the person's client contribution among a version's allocations."""
POUNDS_100_PENCE = 10_000


@dataclass(frozen=True)
class PlannedLine:
    position: int
    recipe: LineRecipe
    spec: PlanLineSpec
    amount_pence: int
    paid_by: str
    starts_on: date
    ends_on: date
    on_card: bool


@dataclass(frozen=True)
class VersionFigures:
    index: int
    recipe: VersionRecipe
    total_pence: int
    top_slice_pence: int
    lines: tuple[PlannedLine, ...]
    part_amounts: tuple[tuple[str, int], ...]
    funding: tuple[tuple[str, int, int], ...]
    """(funder code, amount, client contribution) per funding line."""

    @property
    def allocations(self) -> dict[str, int]:
        """What each funder pays (its line less any contribution), and the person's share."""
        allocations = {funder: amount - contribution for funder, amount, contribution in self.funding}
        contributions = sum(contribution for _, _, contribution in self.funding)
        if contributions:
            allocations[CONTRIBUTION] = contributions
        return allocations

    @property
    def part_nets(self) -> dict[str, int]:
        """What each part loads over the plan period, as the drawdown service reads it
        from the database."""
        return _nets(self.part_amounts, self.lines, self.top_slice_pence, self.recipe.contingency_pence, self.funding)


def card_schedule(recipe: BudgetRecipe, figures: Sequence[VersionFigures]) -> list[ScheduledLoad]:
    """Every period of the card part with its load, as the drawdown service will make them
    (``ledger.loads.schedule.schedule``): Monday-aligned periods, amounts spread by days, the
    float, bank holidays, revisions from their effective dates, and loads paused while the
    person is in hospital. Empty for a budget without a card.

    Revisions are agreed before the first period they pay, and each pause is recorded by
    the day it starts and ended the day after its last day, so the schedule worked out
    once, from the final figures, is the one each run of the service sees on its day."""
    part = recipe.card_part
    if part is None:
        return []
    terms = PartTerms(part_id=0, cadence=part.cadence, timing=part.timing, initial_float_weeks=part.initial_float_weeks)
    versions = [VersionTerms(f.index, f.recipe.effective_from, f.part_nets[part.key]) for f in figures]
    pauses = [Pause(stay.starts_on, stay.ends_on) for stay in recipe.behaviour.hospital_stays]
    return schedule(recipe.period_start, recipe.period_end, terms, versions, load_weekday=LOAD_TIME.weekday, pauses=pauses)


def version_figures(recipe: BudgetRecipe, index: int) -> VersionFigures:
    version = recipe.versions[index]
    amounts = _natural_amounts(recipe, version)
    _settle_card_remainder(recipe, index, amounts)
    total, top_slice, main_part = _settle_total(recipe, version, amounts)
    lines = tuple(
        _planned_line(recipe, position, line, amount or 0)
        for position, (line, amount) in enumerate(zip(version.lines, amounts, strict=True), 1)
    )
    funding = _funding(version, total)
    return VersionFigures(
        index=index,
        recipe=version,
        total_pence=total,
        top_slice_pence=top_slice,
        lines=lines,
        part_amounts=_part_amounts(recipe, version, lines, main_part, top_slice, funding),
        funding=funding,
    )


def _natural_amounts(recipe: BudgetRecipe, version: VersionRecipe) -> list[int | None]:
    """Each line's cost as ``ledger.budgets.plan_money`` works it out; ``None`` for the remainders."""
    return [
        None if line.remainder else line_amount(spec, PlanLineKind(spec.kind), f"lines[{position}]")
        for position, (line, spec) in enumerate((line, _line_spec(recipe, line, None)) for line in version.lines)
    ]


def _settle_card_remainder(recipe: BudgetRecipe, index: int, amounts: list[int | None]) -> None:
    """The card remainder line takes what the other recurring card lines leave of the
    card's recurring money."""
    version = recipe.versions[index]
    position = _card_remainder_position(recipe, version)
    if position is None:
        return
    others = sum(
        amount or 0 for line, amount in zip(version.lines, amounts, strict=True) if recipe.part(line.part).is_card and not line.is_one_off
    )
    amounts[position] = _non_negative(_card_recurring_pence(recipe, index) - others, recipe, "card remainder line")


def _card_recurring_pence(recipe: BudgetRecipe, index: int) -> int:
    """What the card's recurring lines come to under version ``index``: each version up to
    it, ``load_pence`` a period for the days it is in force (the last to the plan's end)."""
    part = recipe.card_part
    assert part is not None
    versions = recipe.versions[: index + 1]
    starts = [recipe.period_start, *(version.effective_from for version in versions[1:])]
    ends = [*starts[1:], recipe.period_end + timedelta(days=1)]
    day_pence = sum(version.load_pence * (end - start).days for version, start, end in zip(versions, starts, ends, strict=True))
    period_days = 7 * part.cadence_weeks
    return (day_pence + period_days // 2) // period_days


def _settle_total(recipe: BudgetRecipe, version: VersionRecipe, amounts: list[int | None]) -> tuple[int, int, str]:
    """The total, the top-slice, and the part that holds contingency and top-slice; the total
    remainder line takes what the total leaves."""
    position = _total_remainder_position(recipe, version)
    fixed = sum(amount or 0 for amount in amounts) + version.contingency_pence
    if position is None:  # a card-only budget: its total is what its lines come to
        assert not version.top_slice_basis_points and version.total_pence is None, recipe.reference
        total = fixed + (version.top_slice_fixed_pence or 0)
        return total, _top_slice(version, total), (recipe.card_part or recipe.parts[0]).key
    total = version.total_pence or _smallest_total(version, fixed + (version.lines[position].annual_pence or 0))
    top_slice = _top_slice(version, total)
    amounts[position] = _non_negative(total - top_slice - fixed, recipe, "total remainder line")
    return total, top_slice, version.lines[position].part


def _line_spec(recipe: BudgetRecipe, line: LineRecipe, amount: int | None) -> PlanLineSpec:
    part = recipe.part(line.part)
    common = {
        "category": line.category,
        "description": line.description,
        "starts_on": line.starts_on,
        "ends_on": line.ends_on,
        "management_option": part.management_option,
        "holding": part.holding,
    }
    if line.is_one_off:
        return PlanLineSpec(kind=PlanLineKind.ONE_OFF, amount_pence=line.one_off_pence, **common)
    if line.hours_hundredths is not None:
        starts_on, ends_on = _window(recipe, line)
        weeks = max(1, ((ends_on - starts_on).days + 1 + 3) // 7)  # whole weeks, half up
        return PlanLineSpec(
            kind=PlanLineKind.RECURRING,
            weekly_hours_hundredths=line.hours_hundredths,
            hourly_rate_pence=line.rate_pence,
            weeks=weeks,
            **common,
        )
    return PlanLineSpec(kind=PlanLineKind.RECURRING, annual_amount_pence=amount if amount is not None else line.annual_pence, **common)


def _window(recipe: BudgetRecipe, line: LineRecipe) -> tuple[date, date]:
    starts_on = line.starts_on or recipe.period_start
    if line.is_one_off:
        return starts_on, line.ends_on or starts_on
    return starts_on, line.ends_on or recipe.period_end


def _card_remainder_position(recipe: BudgetRecipe, version: VersionRecipe) -> int | None:
    found = [i for i, line in enumerate(version.lines) if line.remainder and recipe.part(line.part).is_card]
    assert len(found) <= 1, f"{recipe.reference}: one card remainder line at most"
    assert bool(found) == (recipe.card_part is not None), f"{recipe.reference}: a card part needs a card remainder line"
    return found[0] if found else None


def _total_remainder_position(recipe: BudgetRecipe, version: VersionRecipe) -> int | None:
    """The line that takes what the total leaves; none only when every part is a card."""
    found = [i for i, line in enumerate(version.lines) if line.remainder and not recipe.part(line.part).is_card]
    card_only = all(part.is_card for part in recipe.parts)
    assert len(found) == (0 if card_only else 1), f"{recipe.reference}: a version needs one total remainder line"
    return found[0] if found else None


def _smallest_total(version: VersionRecipe, needed: int) -> int:
    if version.top_slice_basis_points:
        points = version.top_slice_basis_points
        needed = -(-needed * BASIS_POINTS_WHOLE // (BASIS_POINTS_WHOLE - points))
    else:
        needed += version.top_slice_fixed_pence or 0
    return -(-needed // POUNDS_100_PENCE) * POUNDS_100_PENCE


def _top_slice(version: VersionRecipe, total: int) -> int:
    """As ``ledger.budgets.plans`` works it out: the one split rule, top-slice and the rest."""
    points = version.top_slice_basis_points
    if points is not None:
        return total if points == BASIS_POINTS_WHOLE else split_pence(total, [points, BASIS_POINTS_WHOLE - points])[0]
    return version.top_slice_fixed_pence or 0


def _planned_line(recipe: BudgetRecipe, position: int, line: LineRecipe, amount: int) -> PlannedLine:
    starts_on, ends_on = _window(recipe, line)
    return PlannedLine(
        position=position,
        recipe=line,
        spec=_line_spec(recipe, line, amount if line.remainder else None),
        amount_pence=amount,
        paid_by=line.paid_by or _default_paid_by(recipe, line),
        starts_on=starts_on,
        ends_on=ends_on,
        on_card=recipe.part(line.part).is_card,
    )


def _default_paid_by(recipe: BudgetRecipe, line: LineRecipe) -> str:
    part = recipe.part(line.part)
    if part.is_notional:
        return PaidBy.NOTIONAL
    if part.is_card:
        return PaidBy.CARD_TRANSFER if line.category == "staff_pay" else PaidBy.CARD
    return PaidBy.PAYROLL if line.category == "staff_pay" else PaidBy.INVOICE


def _part_amounts(
    recipe: BudgetRecipe,
    version: VersionRecipe,
    lines: tuple[PlannedLine, ...],
    main_part: str,
    top_slice: int,
    funding: tuple[tuple[str, int, int], ...],
) -> tuple[tuple[str, int], ...]:
    """Each part's share: its lines, and the main part also the contingency and top-slice,
    less what the card part carries on top of its lines: the share of them (and of the
    contribution) the drawdown service takes from the card's loads."""
    amounts = {part.key: 0 for part in recipe.parts}
    for line in lines:
        amounts[line.recipe.part] += line.amount_pence
    amounts[main_part] += version.contingency_pence + top_slice
    card = recipe.card_part
    if card is not None and card.key != main_part:
        contingency = version.contingency_pence
        share = _card_share(amounts, card.key, main_part, lambda trial: _nets(trial, lines, top_slice, contingency, funding))
        amounts[card.key] += share
        amounts[main_part] -= share
    return tuple(amounts.items())


def _card_share(amounts: dict[str, int], card: str, main: str, nets: Callable[[tuple[tuple[str, int], ...]], dict[str, int]]) -> int:
    """The least the main part can pass the card part for the card's net to be its lines.
    The net never falls as the card part grows, so a binary search finds it."""
    lines_pence = amounts[card]

    def card_net(passed: int) -> int:
        return nets(tuple({**amounts, card: amounts[card] + passed, main: amounts[main] - passed}.items()))[card]

    low, high = 0, amounts[main]
    while low < high:
        middle = (low + high) // 2
        if card_net(middle) >= lines_pence:
            high = middle
        else:
            low = middle + 1
    assert card_net(low) == lines_pence, f"no card part amount loads exactly its lines ({lines_pence} pence)"
    return low


def _nets(
    part_amounts: tuple[tuple[str, int], ...],
    lines: tuple[PlannedLine, ...],
    top_slice: int,
    contingency: int,
    funding: tuple[tuple[str, int, int], ...],
) -> dict[str, int]:
    """``ledger.loads.schedule.part_nets`` by part key. Parts are numbered in the recipe's order,
    the order the budget's parts (and so their ids) are created in."""
    keys = [key for key, _ in part_amounts]
    transition: defaultdict[int | None, int] = defaultdict(int)
    for line in lines:
        if line.recipe.category == TRANSITION_CATEGORY:
            transition[keys.index(line.recipe.part)] += line.amount_pence
    nets = part_nets(
        {number: amount for number, (_, amount) in enumerate(part_amounts)},
        top_slice_pence=top_slice,
        contingency_pence=contingency,
        contribution_pence=sum(contribution for *_, contribution in funding),
        transition_by_part=transition,
    )
    return {keys[number]: net for number, net in nets.items()}


def _funding(version: VersionRecipe, total: int) -> tuple[tuple[str, int, int], ...]:
    explicit = sum(f.amount_pence for f in version.funding if f.amount_pence is not None)
    rest = [f for f in version.funding if f.amount_pence is None]
    assert len(rest) == 1, "exactly one funder takes the rest of the total"
    return tuple(
        (f.funder, total - explicit if f.amount_pence is None else f.amount_pence, f.client_contribution_pence)
        for f in version.funding
    )


def _non_negative(amount: int, recipe: BudgetRecipe, what: str) -> int:
    assert amount >= 0, f"{recipe.reference}: the {what} would be negative ({amount} pence); raise the total"
    return amount
