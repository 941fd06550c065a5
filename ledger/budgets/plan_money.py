"""The arithmetic of a support plan version, pure: line costs, whether the money adds up,
and what each funder (and the person) is to pay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ledger.core.money import AMOUNT_PENCE_MAX, format_gbp
from ledger.core.vocabulary import PlanLineKind
from ledger.errors import InvalidInput

HOURS_HUNDREDTHS_MAX = 168 * 100
HOURLY_RATE_PENCE_MAX = 100_000  # £1,000 an hour
WEEKS_MAX = 53


class LineAmounts(Protocol):
    annual_amount_pence: int | None
    weekly_hours_hundredths: int | None
    hourly_rate_pence: int | None
    weeks: int | None
    amount_pence: int | None


@dataclass(frozen=True)
class PlanMoney:
    total_pence: int
    contingency_pence: int
    top_slice_pence: int
    funding: Sequence[tuple[int, int, int]]
    """(funder id, line amount, client contribution) per funding line."""
    part_amounts: Sequence[int]
    line_amounts: Sequence[int]


def line_amount(line: LineAmounts, kind: PlanLineKind, where: str) -> int:
    """A plan line's cost over the plan period, in pence.

    Recurring: either an amount for the plan period (``annual_amount``), or weekly hours ×
    hourly rate × weeks, rounded half up to the penny (hours are in hundredths). One-off:
    the amount.
    """
    hourly = (line.weekly_hours_hundredths, line.hourly_rate_pence, line.weeks)
    if kind is PlanLineKind.ONE_OFF:
        if line.amount_pence is None or line.annual_amount_pence is not None or any(v is not None for v in hourly):
            raise InvalidInput(f"{where}: a one-off line gives an amount (and nothing else)", code="line_amount_form", field=where)
        return _within_limit(line.amount_pence, f"{where}.amount")
    if line.amount_pence is not None:
        raise InvalidInput(f"{where}: a recurring line gives annual_amount, or hours, rate and weeks", code="line_amount_form", field=where)
    if line.annual_amount_pence is not None:
        if any(v is not None for v in hourly):
            raise InvalidInput(f"{where}: give annual_amount or hours × rate × weeks, not both", code="line_amount_form", field=where)
        return _within_limit(line.annual_amount_pence, f"{where}.annual_amount")
    hours, rate, weeks = hourly
    if hours is None or rate is None or weeks is None:
        raise InvalidInput(f"{where}: a recurring line needs annual_amount, or hours, rate and weeks", code="line_amount_form", field=where)
    _bounded(hours, 1, HOURS_HUNDREDTHS_MAX, f"{where}.weekly_hours")
    _bounded(rate, 1, HOURLY_RATE_PENCE_MAX, f"{where}.hourly_rate")
    _bounded(weeks, 1, WEEKS_MAX, f"{where}.weeks")
    return (hours * rate * weeks + 50) // 100  # hundredths of hours → pence, half up


def _bounded(value: int, low: int, high: int, where: str) -> None:
    if not low <= value <= high:
        raise InvalidInput(f"{where} must be between {low} and {high}", code="number_out_of_range", field=where)


def _within_limit(amount: int, where: str) -> int:
    if not 0 <= amount <= AMOUNT_PENCE_MAX:
        raise InvalidInput(f"{where} must be between £0.00 and {format_gbp(AMOUNT_PENCE_MAX)}", code="amount_out_of_range", field=where)
    return amount


def check_adds_up(money: PlanMoney, lead_funder_id: int) -> None:
    """Refuse a version whose money does not add up, saying by how much."""
    total = money.total_pence
    funded = sum(amount for _, amount, _ in money.funding)
    if funded != total:
        raise InvalidInput(
            f"the funding lines come to {format_gbp(funded)} but the budget is {format_gbp(total)}"
            f" ({format_gbp(abs(funded - total))} {'over' if funded > total else 'short'})",
            code="funding_lines_do_not_add_up",
            field="funding_lines",
            details={"funding_lines_pence": funded, "total_pence": total},
        )
    parted = sum(money.part_amounts)
    if parted != total:
        raise InvalidInput(
            f"the parts come to {format_gbp(parted)} but the budget is {format_gbp(total)}",
            code="parts_do_not_add_up",
            field="parts",
            details={"parts_pence": parted, "total_pence": total},
        )
    planned = sum(money.line_amounts) + money.contingency_pence + money.top_slice_pence
    if planned != total:
        raise InvalidInput(
            f"plan lines ({format_gbp(sum(money.line_amounts))}), contingency ({format_gbp(money.contingency_pence)})"
            f" and top-slice ({format_gbp(money.top_slice_pence)}) come to {format_gbp(planned)}, but the budget is"
            f" {format_gbp(total)} ({format_gbp(abs(planned - total))} {'over' if planned > total else 'short'})",
            code="plan_does_not_add_up",
            field="lines",
            details={"planned_pence": planned, "total_pence": total},
        )
    if not any(funder_id == lead_funder_id and amount > 0 for funder_id, amount, _ in money.funding):
        raise InvalidInput(
            "the budget's lead funder must have a funding line in the plan",
            code="lead_funder_missing",
            field="funding_lines",
        )


def allocations_of(money: PlanMoney) -> dict[int | None, int]:
    """What each funder pays (its line less any client contribution) and what the person
    pays (key ``None``: the sum of client contributions). Sums to the total."""
    allocations: dict[int | None, int] = {}
    contributions = 0
    for funder_id, amount, contribution in money.funding:
        allocations[funder_id] = amount - contribution
        contributions += contribution
    if contributions:
        allocations[None] = contributions
    assert sum(allocations.values()) == sum(amount for _, amount, _ in money.funding)
    return allocations
