"""Money: parsing user input, pence and JSON strings, and the one split rule."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

from ledger.core import money
from ledger.core.money import AmountError


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("£1,234.50", 123450),
        ("1234.5", 123450),
        ("-12.00", -1200),
        ("0", 0),
        ("0.01", 1),
        ("-£3.07", -307),
        ("£-3.07", -307),
        ("  12.30 ", 1230),
        ("1,000,000", 100000000),
        ("GBP 15.00", 1500),
        ("15.00 GBP", 1500),
        ("+4.20", 420),
        (".5", 50),
    ],
)
def test_parse_accepts_what_people_type(text: str, pence: int) -> None:
    amount = money.parse_amount(text)
    assert isinstance(amount, Money)
    assert amount.currency.code == "GBP"
    assert money.to_pence(amount) == pence


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (12.5, "amount_not_text"),
        (float("nan"), "amount_not_text"),
        (3, "amount_not_text"),
        (None, "amount_not_text"),
        (True, "amount_not_text"),
        ("", "amount_empty"),
        ("   ", "amount_empty"),
        ("NaN", "amount_not_a_number"),
        ("nan", "amount_not_a_number"),
        ("Infinity", "amount_not_a_number"),
        ("-inf", "amount_not_a_number"),
        ("1.234", "amount_too_many_decimals"),
        ("0.001", "amount_too_many_decimals"),
        ("12.3456", "amount_too_many_decimals"),
        ("$12.00", "amount_other_currency"),
        ("€5", "amount_other_currency"),
        ("12.00 USD", "amount_other_currency"),
        ("EUR 5.00", "amount_other_currency"),
        ("1,23.00", "amount_malformed"),
        ("12,34", "amount_malformed"),
        ("1e3", "amount_malformed"),
        ("1" * 5000, "amount_malformed"),
        ("12.", "amount_malformed"),
        ("--12", "amount_malformed"),
        ("£", "amount_malformed"),
        ("twelve", "amount_malformed"),
        ("1 234.00", "amount_malformed"),
        ("(12.00)", "amount_malformed"),
        ("١٢", "amount_malformed"),
        ("10000000000.00", "amount_too_large"),
    ],
)
def test_parse_refuses_anything_else_with_a_named_reason(value: object, code: str) -> None:
    with pytest.raises(AmountError) as caught:
        money.parse_amount(value)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.message  # a sentence a person can act on


def test_error_names_the_field() -> None:
    with pytest.raises(AmountError) as caught:
        money.parse_amount("1.234", field="postings[1].amount")
    assert "postings[1].amount" in caught.value.message


def test_pence_and_strings() -> None:
    assert money.format_amount(-5) == "-0.05"
    assert money.format_amount(123450) == "1234.50"
    assert money.format_amount(0) == "0.00"
    assert money.format_gbp(123450) == "£1,234.50"
    assert money.format_gbp(-1200) == "-£12.00"
    assert money.from_pence(307) == Money("3.07", "GBP")


def test_to_pence_refuses_fractions_of_a_penny_and_other_currencies() -> None:
    with pytest.raises(AmountError):
        money.to_pence(Money("1.005", "GBP"))
    with pytest.raises(AmountError):
        money.to_pence(Money("1.00", "EUR"))


def test_money_from_decimal() -> None:
    assert money.to_pence(money.money_from_decimal(Decimal("12.30"))) == 1230
    with pytest.raises(AmountError):
        money.money_from_decimal(Decimal("NaN"))


# --- the split rule -------------------------------------------------------------


def test_split_equal_parts_gives_the_extra_pennies_to_the_first_parts() -> None:
    assert money.split_pence(100, 3) == [34, 33, 33]
    assert money.split_pence(-100, 3) == [-34, -33, -33]
    assert money.split_pence(0, 4) == [0, 0, 0, 0]
    assert money.split_pence(2, 5) == [1, 1, 0, 0, 0]


def test_split_weighted_uses_largest_remainders() -> None:
    # 1000 by 1:1:1 → 333.33 each, one penny to the first.
    assert money.split_pence(1000, [1, 1, 1]) == [334, 333, 333]
    # 1000 by 7:2:1 → 700, 200, 100 exactly.
    assert money.split_pence(1000, [7, 2, 1]) == [700, 200, 100]
    # 101 by 50:50:0 → the zero weight gets nothing.
    assert money.split_pence(101, [50, 50, 0]) == [51, 50, 0]
    # remainders .6 .3 .1: the largest remainder wins, not the first part
    assert money.split_pence(10, [3, 3, 4]) == [3, 3, 4]
    assert money.split_pence(11, [1, 6, 3]) == [1, 7, 3]


def test_split_money_keeps_the_type() -> None:
    parts = money.split(Money("10.00", "GBP"), 3)
    assert parts == [Money("3.34", "GBP"), Money("3.33", "GBP"), Money("3.33", "GBP")]


@pytest.mark.parametrize("by", [0, -1, [], [0, 0], [1, -1]])
def test_split_refuses_bad_divisions(by: object) -> None:
    with pytest.raises(ValueError):
        money.split_pence(100, by)  # type: ignore[arg-type]


def test_thousand_way_split_sums_to_the_whole() -> None:
    rng = random.Random(9)
    for _ in range(200):
        whole = rng.randint(-10**11, 10**11)
        parts = money.split_pence(whole, 1000)
        assert len(parts) == 1000
        assert sum(parts) == whole
        assert max(parts) - min(parts) <= 1


@settings(max_examples=500)
@given(
    whole=st.integers(min_value=-(10**13), max_value=10**13),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60).filter(any),
)
def test_weighted_split_matches_the_largest_remainder_model(whole: int, weights: list[int]) -> None:
    parts = money.split_pence(whole, weights)
    assert sum(parts) == whole
    assert parts == _largest_remainder_model(whole, weights)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(whole * weight, total)
        assert abs(part - exact) < 1
        if weight == 0:
            assert part == 0


def _largest_remainder_model(whole: int, weights: list[int]) -> list[int]:
    """An independent model with exact fractions: floor, then hand out the rest by remainder."""
    sign = -1 if whole < 0 else 1
    magnitude = abs(whole)
    total = sum(weights)
    quotas = [Fraction(magnitude * w, total) for w in weights]
    floors = [math.floor(q) for q in quotas]
    left = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * f for f in floors]


@settings(max_examples=300)
@given(st.integers(min_value=-(10**11) + 1, max_value=10**11 - 1))
def test_text_pence_text_round_trip(pence: int) -> None:
    text = money.format_amount(pence)
    assert money.to_pence(money.parse_amount(text)) == pence
    assert money.to_pence(money.parse_amount(money.format_gbp(pence))) == pence
