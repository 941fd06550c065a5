"""Where a budget is heading: the money left at the plan year's end if spending carries on
at the rate of the plan year so far, shown for each funder's share.

Expected spending for the rest of the year = (spend and fees to date, transition costs
left out as one-off) ÷ days of the plan so far × days left, rounded half up; the top-slice
still to be taken is the plan's figure less what has been taken. Unused contingency is part
of what is left (it goes back at the end). Each funder's share (the person's too, for a
client contribution) is split from the whole by what each has allocated, with the
largest-remainder rule, so the shares add up to the budget's figures exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.money import split_pence
from ledger.core.vocabulary import AccountKind
from ledger.position.figures import MoneyFigures
from ledger.store.tables import Budget, Funder
from reports.budget_reads import AccountWindow
from reports.document import Column, Table, ValueKind, table

M = ValueKind.MONEY


def expected_spend_rest_of_year(spent_to_date_pence: int, days_so_far: int, days_left: int) -> int:
    if days_left <= 0 or days_so_far <= 0 or spent_to_date_pence <= 0:
        return 0
    return (2 * spent_to_date_pence * days_left + days_so_far) // (2 * days_so_far)


def projection_table(session: Session, budget: Budget, ends_on: date, figures: MoneyFigures, accounts: Sequence[AccountWindow]) -> Table:
    days_so_far = (ends_on - budget.period_start).days + 1
    days_left = 0 if budget.status == "closed" else (budget.period_end - ends_on).days
    run = figures.spent_pence - figures.transition_spent_pence + figures.fees_pence
    spend_rest = expected_spend_rest_of_year(run, days_so_far, days_left)
    top_slice_rest = max(0, figures.top_slice_planned_pence - figures.top_slice_taken_pence) if days_left else 0
    allocations: dict[int | None, int] = {}
    for account in accounts:
        if account.kind == AccountKind.ALLOCATION:
            key = None if account.is_person_contribution else account.funder_id
            allocations[key] = allocations.get(key, 0) + account.closing_pence
    keys = sorted((k for k, v in allocations.items() if v > 0), key=lambda k: (k is None, k or 0)) or [budget.lead_funder_id]
    weights = [allocations.get(k, 0) or 1 for k in keys]
    names = dict(session.execute(select(Funder.id, Funder.name).where(Funder.id.in_([k for k in keys if k is not None]))).all())
    left = split_pence(figures.money_left_pence, weights)
    spend = split_pence(spend_rest, weights)
    top_slice = split_pence(top_slice_rest, weights)
    rows = [
        (names.get(key, "The person (client contribution)") if key is not None else "The person (client contribution)",
         allocations.get(key, 0), left[i], spend[i], top_slice[i], left[i] - spend[i] - top_slice[i])
        for i, key in enumerate(keys)
    ]  # fmt: skip
    method = (
        f"If spending carries on at the rate of the plan year so far ({days_so_far} days; transition costs left out) for the "
        f"{days_left} days left, and the rest of the top-slice is taken as planned. Each funder's share is split by what it allocated. "
        "Contingency not used goes back to the funders at the end."
    )
    if days_left == 0:
        method = "The plan year has ended (or the budget is closed): nothing more is expected to be spent."
    return table(
        "projection", "Projected money left at the end of the plan year, by funder",
        (Column("funder", "Funder"), Column("allocated", "Allocated", M), Column("left_now", "Money left now", M),
         Column("spend_rest", "Expected spending for the rest of the year", M), Column("top_slice_rest", "Top-slice still to take", M),
         Column("projected", "Projected left at the year's end", M)),
        rows, totals=True, note=method,
    )  # fmt: skip


__all__ = ["expected_spend_rest_of_year", "projection_table"]
