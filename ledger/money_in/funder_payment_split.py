"""How one funder payment splits over the budgets it pays for: a pure rule, no I/O.

A funder often pays one bank line for many people. Which budget each penny is for comes
from the funder's remittance list when there is one; otherwise from what is due:

- the instalments of this funder at this holder still outstanding and due on or before
  ``due_by`` (the day received plus a fortnight: payments come a little early), oldest
  first;
- payment = total due: each instalment gets its outstanding amount; payment < total due:
  pro rata to the outstanding amounts (``split_pence``, so the parts sum exactly);
  payment > total due: each its outstanding amount, and the excess is not a budget's.

Either way, a budget never gets more than its receivable from this funder still holds
(``B:receivable:F``: what was agreed and not yet received). What no budget can take goes to
the holder's unallocated account until someone finds out whose it is.

With a remittance list, each line's money goes to its budget's outstanding instalments
oldest first (whatever their due date: the funder said the money is for that budget); any
rest of the line counts against no instalment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ledger.core.money import split_pence


@dataclass(frozen=True, slots=True)
class Instalment:
    """An expected payment with something still outstanding."""

    id: int
    budget_id: int
    due_on: date
    outstanding_pence: int


@dataclass(frozen=True, slots=True)
class RemittanceLine:
    budget_id: int
    amount_pence: int


@dataclass(frozen=True, slots=True)
class Share:
    """Money for one budget, counting against one instalment (``None``: against none)."""

    budget_id: int
    expected_payment_id: int | None
    amount_pence: int


@dataclass(frozen=True, slots=True)
class Split:
    shares: tuple[Share, ...]
    unallocated_pence: int

    @property
    def total_pence(self) -> int:
        return sum(share.amount_pence for share in self.shares) + self.unallocated_pence

    def by_budget(self) -> dict[int, int]:
        totals: dict[int, int] = {}
        for share in self.shares:
            totals[share.budget_id] = totals.get(share.budget_id, 0) + share.amount_pence
        return totals


def oldest_first(instalments: Iterable[Instalment]) -> list[Instalment]:
    return sorted(instalments, key=lambda i: (i.due_on, i.id))


def split_receipt(
    amount_pence: int,
    *,
    instalments: Sequence[Instalment],
    receivable_by_budget: Mapping[int, int],
    due_by: date,
    remittance: Sequence[RemittanceLine] | None = None,
) -> Split:
    """Split a payment of ``amount_pence`` (see the module's docstring). ``instalments``
    are every outstanding instalment of this funder at this holder; ``receivable_by_budget``
    what each budget's receivable from the funder still holds (a budget missing from it
    holds nothing)."""
    assert amount_pence > 0, "a payment is a positive amount"
    if remittance is None:
        return split_by_amounts_due(amount_pence, instalments, receivable_by_budget, due_by=due_by)
    return split_by_remittance(amount_pence, remittance, instalments, receivable_by_budget)


def split_by_amounts_due(
    amount_pence: int, instalments: Sequence[Instalment], receivable_by_budget: Mapping[int, int], *, due_by: date
) -> Split:
    due = [i for i in oldest_first(instalments) if i.due_on <= due_by and i.outstanding_pence > 0]
    total_due = sum(i.outstanding_pence for i in due)
    if total_due == 0:
        return Split((), amount_pence)
    if amount_pence < total_due:
        parts = split_pence(amount_pence, [i.outstanding_pence for i in due])
    else:
        parts = [i.outstanding_pence for i in due]
    wanted = [Share(i.budget_id, i.id, part) for i, part in zip(due, parts) if part > 0]
    return _split(_within_receivables(wanted, receivable_by_budget), amount_pence)


def split_by_remittance(
    amount_pence: int,
    lines: Sequence[RemittanceLine],
    instalments: Sequence[Instalment],
    receivable_by_budget: Mapping[int, int],
) -> Split:
    assert all(line.amount_pence > 0 for line in lines), "remittance lines are positive"
    assert sum(line.amount_pence for line in lines) <= amount_pence, "the remittance cannot list more than was paid"
    outstanding = {i.id: i.outstanding_pence for i in instalments}
    left = {budget_id: max(pence, 0) for budget_id, pence in receivable_by_budget.items()}
    shares: list[Share] = []
    for line in lines:
        to_budget = min(line.amount_pence, left.get(line.budget_id, 0))
        if to_budget == 0:
            continue
        left[line.budget_id] -= to_budget
        of_budget = [i for i in oldest_first(instalments) if i.budget_id == line.budget_id]
        filled, rest = fill_oldest_first(to_budget, of_budget, outstanding)
        shares += [Share(line.budget_id, instalment_id, pence) for instalment_id, pence in filled]
        if rest:
            shares.append(Share(line.budget_id, None, rest))
    return _split(shares, amount_pence)


def fill_oldest_first(
    amount_pence: int, instalments: Sequence[Instalment], outstanding: dict[int, int] | None = None
) -> tuple[list[tuple[int, int]], int]:
    """Count ``amount_pence`` against ``instalments`` in order, each up to what it still
    has outstanding: ``([(instalment id, pence), …], what is left over)``. ``outstanding``,
    if given, is read and reduced in place (for several fills against the same instalments)."""
    if outstanding is None:
        outstanding = {i.id: i.outstanding_pence for i in instalments}
    filled: list[tuple[int, int]] = []
    left = amount_pence
    for instalment in instalments:
        if left == 0:
            break
        take = min(left, outstanding.get(instalment.id, 0))
        if take > 0:
            filled.append((instalment.id, take))
            outstanding[instalment.id] -= take
            left -= take
    return filled, left


def _within_receivables(wanted: Sequence[Share], receivable_by_budget: Mapping[int, int]) -> list[Share]:
    """Cut each share, in order, to what its budget's receivable still holds (what is cut
    ends up unallocated)."""
    left = {budget_id: max(pence, 0) for budget_id, pence in receivable_by_budget.items()}
    kept: list[Share] = []
    for share in wanted:
        take = min(share.amount_pence, left.get(share.budget_id, 0))
        if take > 0:
            left[share.budget_id] -= take
            kept.append(Share(share.budget_id, share.expected_payment_id, take))
    return kept


def _split(shares: list[Share], amount_pence: int) -> Split:
    merged: dict[tuple[int, int | None], int] = {}
    for share in shares:
        key = (share.budget_id, share.expected_payment_id)
        merged[key] = merged.get(key, 0) + share.amount_pence
    result = Split(
        tuple(Share(budget_id, instalment_id, pence) for (budget_id, instalment_id), pence in merged.items()),
        amount_pence - sum(merged.values()),
    )
    assert result.unallocated_pence >= 0 and result.total_pence == amount_pence, "a split accounts for every penny"
    return result
