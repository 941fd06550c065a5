"""The money of each plan version, worked out exactly from its recipe.

A version must add up to the penny (``ledger.plan_money.check_adds_up``): funding lines =
parts = plan lines + contingency + top-slice = total. The recipe gives the natural cost of
each line; two lines take what is left:

- on a card part, the *card remainder* line takes what the scheduled loads leave after the
  part's other recurring lines (one-off card lines get a load of their own);
- elsewhere, the *total remainder* line takes what the total leaves. Unless the recipe fixes
  the total, it is the smallest whole £100 that covers every line at its natural cost, the
  contingency and the top-slice (a percentage of the total itself).

The card loads are worked out here too, because the card part's amount is their sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ledger.demo.dates import working_day_on_or_before
from ledger.demo.recipes import BudgetRecipe, LineRecipe, PaidBy, VersionRecipe
from ledger.money import split_pence
from ledger.plan_money import line_amount
from ledger.plans import BASIS_POINTS_WHOLE, PlanLineSpec
from ledger.vocabulary import PlanLineKind

CONTRIBUTION = "contribution"
"""Key of the person's client contribution among a version's allocations."""
POUNDS_100_PENCE = 10_000


@dataclass(frozen=True)
class Load:
    """One scheduled card load: due on ``due``, made on ``on`` (the working day on or before)."""

    number: int
    due: date
    on: date
    amount_pence: int


@dataclass(frozen=True)
class PlannedLine:
    position: int
    recipe: LineRecipe
    spec: PlanLineSpec
    amount_pence: int
    paid_by: str
    starts_on: date
    ends_on: date


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


def card_loads(recipe: BudgetRecipe, *, as_seen_by: int | None = None) -> list[Load]:
    """The card loads of the whole plan period, at the amounts of the version in force on
    each due date — or, with ``as_seen_by``, as that version projects them."""
    part = recipe.card_part
    if part is None:
        return []
    step = timedelta(weeks=part.cadence_weeks)
    last_version = len(recipe.versions) - 1 if as_seen_by is None else as_seen_by
    dues: list[date] = []
    due = recipe.period_start
    while due + step - timedelta(days=1) <= recipe.period_end:
        dues.append(due)
        due += step
    float_loads = -(-part.initial_float_weeks // part.cadence_weeks)
    if float_loads:
        dues = dues[:-float_loads]  # the float paid for the last periods up front
    loads = []
    for number, due in enumerate(dues):
        amount = recipe.versions[min(recipe.version_on(due), last_version)].load_pence
        if number == 0 and part.initial_float_weeks:
            amount += split_pence(amount * part.initial_float_weeks, part.cadence_weeks)[0]
        loads.append(Load(number, due, working_day_on_or_before(due), amount))
    return loads


def version_figures(recipe: BudgetRecipe, index: int) -> VersionFigures:
    version = recipe.versions[index]
    amounts = _natural_amounts(recipe, version)
    _settle_card_remainder(recipe, index, amounts)
    total, top_slice, main_part = _settle_total(recipe, version, amounts)
    lines = tuple(
        _planned_line(recipe, position, line, amount or 0)
        for position, (line, amount) in enumerate(zip(version.lines, amounts, strict=True), 1)
    )
    return VersionFigures(
        index=index,
        recipe=version,
        total_pence=total,
        top_slice_pence=top_slice,
        lines=lines,
        part_amounts=_part_amounts(recipe, lines, main_part, version.contingency_pence + top_slice),
        funding=_funding(version, total),
    )


def _natural_amounts(recipe: BudgetRecipe, version: VersionRecipe) -> list[int | None]:
    """Each line's cost as ``ledger.plan_money`` works it out; ``None`` for the remainders."""
    return [
        None if line.remainder else line_amount(spec, PlanLineKind(spec.kind), f"lines[{position}]")
        for position, (line, spec) in enumerate((line, _line_spec(recipe, line, None)) for line in version.lines)
    ]


def _settle_card_remainder(recipe: BudgetRecipe, index: int, amounts: list[int | None]) -> None:
    """The card remainder line takes what the loads leave after the other recurring card lines."""
    version = recipe.versions[index]
    position = _card_remainder_position(recipe, version)
    if position is None:
        return
    loaded = sum(load.amount_pence for load in card_loads(recipe, as_seen_by=index))
    others = sum(
        amount or 0 for line, amount in zip(version.lines, amounts, strict=True) if recipe.part(line.part).is_card and not line.is_one_off
    )
    amounts[position] = _non_negative(loaded - others, recipe, "card remainder line")


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
    """As ``ledger.plans`` works it out: the one split rule, top-slice and the rest."""
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
    )


def _default_paid_by(recipe: BudgetRecipe, line: LineRecipe) -> str:
    part = recipe.part(line.part)
    if part.is_notional:
        return PaidBy.NOTIONAL
    if part.is_card:
        return PaidBy.CARD_TRANSFER if line.category == "staff_pay" else PaidBy.CARD
    return PaidBy.PAYROLL if line.category == "staff_pay" else PaidBy.INVOICE


def _part_amounts(
    recipe: BudgetRecipe, lines: tuple[PlannedLine, ...], main_part: str, held_back: int
) -> tuple[tuple[str, int], ...]:
    """Each part's share: its lines, and the main part also the contingency and top-slice."""
    amounts = {part.key: 0 for part in recipe.parts}
    for line in lines:
        amounts[line.recipe.part] += line.amount_pence
    amounts[main_part] += held_back
    return tuple(amounts.items())


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
