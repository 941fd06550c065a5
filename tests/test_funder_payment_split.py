"""The splitting rule of one funder payment over budgets, against an independent oracle.

The oracle works each amount out in closed form with exact fractions (no loop that carries
what is left from one instalment to the next), so it shares no code or shape with the rule.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from math import floor

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.money_in.funder_payment_split import Instalment, RemittanceLine, Share, Split, split_receipt

DAY0 = date(2026, 4, 1)
BUDGETS = (1, 2, 3, 4)


# --- the oracle ----------------------------------------------------------------------------


def largest_remainder(whole: int, weights: list[int]) -> list[int]:
    """Hamilton's method from its definition: exact quotas, floors, then one penny each to
    the largest fractional parts (earlier first on a tie)."""
    total = sum(weights)
    quotas = [Fraction(whole * w, total) for w in weights]
    floors = [floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - floors[i]), i))
    extra = set(order[: whole - sum(floors)])
    return [f + (1 if i in extra else 0) for i, f in enumerate(floors)]


def capped_prefix(amounts: list[int], cap: int) -> list[int]:
    """Closed form of "give each in order what it wants while the cap lasts"."""
    return [max(0, min(a, cap - sum(amounts[:k]))) for k, a in enumerate(amounts)]


def oracle_by_amounts_due(amount: int, instalments: list[Instalment], receivable: dict[int, int], due_by: date) -> dict:
    due = sorted((i for i in instalments if i.due_on <= due_by and i.outstanding_pence > 0), key=lambda i: (i.due_on, i.id))
    total = sum(i.outstanding_pence for i in due)
    if total == 0:
        return {None: amount}
    wanted = [i.outstanding_pence for i in due] if amount >= total else largest_remainder(amount, [i.outstanding_pence for i in due])
    result: dict = {}
    for budget in {i.budget_id for i in due}:
        idx = [k for k, i in enumerate(due) if i.budget_id == budget]
        got = capped_prefix([wanted[k] for k in idx], max(receivable.get(budget, 0), 0))
        for k, pence in zip(idx, got):
            if pence:
                result[(budget, due[k].id)] = pence
    result[None] = amount - sum(result.values())
    return result


def oracle_by_remittance(amount: int, lines: list[RemittanceLine], instalments: list[Instalment], receivable: dict[int, int]) -> dict:
    result: dict = {}
    for budget in {line.budget_id for line in lines}:
        of_budget = [line.amount_pence for line in lines if line.budget_id == budget]
        to_budget = sum(capped_prefix(of_budget, max(receivable.get(budget, 0), 0)))
        mine = sorted((i for i in instalments if i.budget_id == budget), key=lambda i: (i.due_on, i.id))
        got = capped_prefix([i.outstanding_pence for i in mine], to_budget)
        for instalment, pence in zip(mine, got):
            if pence:
                result[(budget, instalment.id)] = pence
        if to_budget - sum(got):
            result[(budget, None)] = to_budget - sum(got)
    result[None] = amount - sum(result.values())
    return result


def as_dict(split: Split) -> dict:
    shares: dict = {(s.budget_id, s.expected_payment_id): s.amount_pence for s in split.shares}
    shares[None] = split.unallocated_pence
    return shares


# --- strategies ---------------------------------------------------------------------------

instalment_lists = st.lists(
    st.tuples(st.sampled_from(BUDGETS), st.integers(0, 120), st.integers(1, 2_000_000)), max_size=10
).map(lambda rows: [Instalment(n + 1, b, DAY0 + timedelta(days=d), o) for n, (b, d, o) in enumerate(rows)])
receivables = st.dictionaries(st.sampled_from(BUDGETS), st.integers(-50_000, 5_000_000))
amounts = st.integers(1, 12_000_000)
due_bys = st.integers(0, 130).map(lambda d: DAY0 + timedelta(days=d))


@settings(max_examples=400, deadline=None)
@given(amount=amounts, instalments=instalment_lists, receivable=receivables, due_by=due_bys)
def test_by_amounts_due_matches_the_oracle(amount: int, instalments: list[Instalment], receivable: dict[int, int], due_by: date) -> None:
    split = split_receipt(amount, instalments=instalments, receivable_by_budget=receivable, due_by=due_by)
    assert as_dict(split) == oracle_by_amounts_due(amount, instalments, receivable, due_by)
    assert split.total_pence == amount and all(s.amount_pence > 0 for s in split.shares)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), instalments=instalment_lists, receivable=receivables)
def test_by_remittance_matches_the_oracle(data: st.DataObject, instalments: list[Instalment], receivable: dict[int, int]) -> None:
    lines = data.draw(st.lists(st.builds(RemittanceLine, st.sampled_from(BUDGETS), st.integers(1, 3_000_000)), min_size=1, max_size=6))
    amount = sum(line.amount_pence for line in lines) + data.draw(st.integers(0, 1_000_000))
    split = split_receipt(amount, instalments=instalments, receivable_by_budget=receivable, due_by=DAY0, remittance=lines)
    assert as_dict(split) == oracle_by_remittance(amount, lines, instalments, receivable)
    for budget, pence in split.by_budget().items():
        assert pence <= receivable.get(budget, 0)


# --- worked examples ----------------------------------------------------------------------

THREE = [Instalment(1, 1, DAY0, 100_00), Instalment(2, 2, DAY0, 200_00), Instalment(3, 3, DAY0, 300_00)]
PLENTY = {1: 10_000_00, 2: 10_000_00, 3: 10_000_00}


def test_exact_payment_pays_each_instalment() -> None:
    split = split_receipt(600_00, instalments=THREE, receivable_by_budget=PLENTY, due_by=DAY0)
    assert split == Split((Share(1, 1, 100_00), Share(2, 2, 200_00), Share(3, 3, 300_00)), 0)


def test_short_payment_is_pro_rata_to_the_amounts_due() -> None:
    split = split_receipt(100_01, instalments=THREE, receivable_by_budget=PLENTY, due_by=DAY0)
    assert [s.amount_pence for s in split.shares] == [16_67, 33_34, 50_00] and split.unallocated_pence == 0


def test_over_payment_sends_the_excess_to_unallocated() -> None:
    split = split_receipt(650_00, instalments=THREE, receivable_by_budget=PLENTY, due_by=DAY0)
    assert [s.amount_pence for s in split.shares] == [100_00, 200_00, 300_00] and split.unallocated_pence == 50_00


def test_instalments_due_more_than_the_window_ahead_are_not_paid() -> None:
    later = [*THREE, Instalment(4, 1, DAY0 + timedelta(days=15), 100_00)]
    split = split_receipt(700_00, instalments=later, receivable_by_budget=PLENTY, due_by=DAY0 + timedelta(days=14))
    assert split.unallocated_pence == 100_00 and 4 not in {s.expected_payment_id for s in split.shares}


def test_a_budget_gets_no_more_than_its_receivable_holds() -> None:
    split = split_receipt(600_00, instalments=THREE, receivable_by_budget={1: 100_00, 2: 50_00}, due_by=DAY0)
    assert split.by_budget() == {1: 100_00, 2: 50_00} and split.unallocated_pence == 450_00


def test_nothing_due_means_everything_is_unallocated() -> None:
    assert split_receipt(5_00, instalments=[], receivable_by_budget=PLENTY, due_by=DAY0) == Split((), 5_00)


def test_remittance_fills_instalments_oldest_first_and_keeps_the_rest_on_the_budget() -> None:
    instalments = [Instalment(7, 1, DAY0 + timedelta(days=30), 50_00), Instalment(6, 1, DAY0, 50_00)]
    split = split_receipt(
        200_00, instalments=instalments, receivable_by_budget=PLENTY, due_by=DAY0, remittance=[RemittanceLine(1, 120_00)]
    )
    assert split == Split((Share(1, 6, 50_00), Share(1, 7, 50_00), Share(1, None, 20_00)), 80_00)
