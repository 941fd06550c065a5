"""Money: pounds sterling as ``moneyed.Money`` at the edges, integer pence inside.

There is exactly one way in for amounts a person types (:func:`parse_amount`), one way to
and from the database (:func:`to_pence`, :func:`from_pence`; columns are named ``*_pence``
and hold integers), one way out to JSON (:func:`format_amount`, a decimal string — never a
float) and one rule for dividing money (:func:`split_pence`, the largest-remainder rule).
A float never becomes money: it is refused, whatever its value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from moneyed import GBP, Money, get_currency
from moneyed.classes import CurrencyDoesNotExist

from ledger.errors import InvalidInput

CURRENCY = GBP
AMOUNT_PENCE_MAX = 100_000_000_000  # £1,000,000,000.00: far above any one PHB movement
_PENCE_PER_POUND = 100

# Optional sign, optional £, optional sign again ("£-3.07"), then digits — grouped by commas
# in threes or not grouped at all — and at most one decimal point with digits after it.
_AMOUNT_RE = re.compile(
    r"""
    (?P<sign>[-+])?
    (?P<pound>£)?
    (?P<sign_after_pound>[-+])?
    (?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?
    (?:\.(?P<fraction>[0-9]+))?
    """,
    re.VERBOSE,
)
_CODE_PREFIX_RE = re.compile(r"^([A-Za-z]{3})\s*(?=[-+£0-9.])")
_CODE_SUFFIX_RE = re.compile(r"(?<=[0-9.])\s*([A-Za-z]{3})$")
AMOUNT_TEXT_LENGTH_MAX = 40
"""Longer than any amount up to £1bn could be written, with a currency code and commas."""
_NOT_A_NUMBER = {"nan", "snan", "inf", "infinity"}


class AmountError(InvalidInput, ValueError):
    """An amount that is not a valid sum of pounds and pence. A ``ValueError`` too, so that
    validation layers (pydantic) report it as a field error."""


def parse_amount(value: object, *, field: str = "amount") -> Money:
    """Read an amount a person typed: ``"£1,234.50"``, ``"1234.5"``, ``"-12.00"``, ``"GBP 5"``.

    Refused, each with its own code: anything that is not text (floats, ints, NaN), empty
    text, NaN or infinity, more than two decimal places, another currency, anything else
    malformed, and amounts beyond £1bn.
    """
    if not isinstance(value, str):
        raise AmountError(
            f"{field} must be written as text such as \"12.50\", not as a {type(value).__name__}",
            code="amount_not_text",
            field=field,
        )
    text = value.strip()
    if not text:
        raise AmountError(f"{field} is empty", code="amount_empty", field=field)
    if len(text) > AMOUNT_TEXT_LENGTH_MAX:  # also keeps int() clear of Python's digit limit
        raise AmountError(f"{field} is too long to be an amount of money ({len(text)} characters)", code="amount_malformed", field=field)
    text = _strip_currency_code(text, field)
    _refuse_other_currency_symbols(text, field)
    if text.lstrip("+-").lower() in _NOT_A_NUMBER:
        raise AmountError(f"{field} is not a number: {value!r}", code="amount_not_a_number", field=field)
    match = _AMOUNT_RE.fullmatch(text)
    if match is None or (match["whole"] is None and match["fraction"] is None):
        raise AmountError(
            f"{field} is not an amount of money: {value!r} (write it like 1234.50 or £1,234.50)",
            code="amount_malformed",
            field=field,
        )
    if match["sign"] and match["sign_after_pound"]:
        raise AmountError(f"{field} has two signs: {value!r}", code="amount_malformed", field=field)
    fraction = match["fraction"] or ""
    if len(fraction) > 2:
        raise AmountError(
            f"{field} has more than two decimal places: {value!r}; amounts are in pounds and pence",
            code="amount_too_many_decimals",
            field=field,
        )
    whole = int((match["whole"] or "0").replace(",", ""))
    pence = whole * _PENCE_PER_POUND + int(fraction.ljust(2, "0"))
    if "-" in (match["sign"] or "", match["sign_after_pound"] or ""):
        pence = -pence
    _check_range(pence, field)
    return from_pence(pence)


def _strip_currency_code(text: str, field: str) -> str:
    for pattern in (_CODE_PREFIX_RE, _CODE_SUFFIX_RE):
        found = pattern.search(text)
        if found is None:
            continue
        code = found.group(1).upper()
        if code != CURRENCY.code:
            if _is_currency_code(code):
                raise AmountError(
                    f"{field} is in {code}; only pounds sterling (GBP) are accepted",
                    code="amount_other_currency",
                    field=field,
                )
            continue
        text = (text[: found.start()] + text[found.end() :]).strip()
    return text


def _is_currency_code(code: str) -> bool:
    try:
        get_currency(code)
    except CurrencyDoesNotExist:
        return False
    return True


def _refuse_other_currency_symbols(text: str, field: str) -> None:
    for char in text:
        if char != "£" and unicodedata.category(char) == "Sc":
            raise AmountError(
                f"{field} is in another currency ({char}); only pounds sterling are accepted",
                code="amount_other_currency",
                field=field,
            )


def _check_range(pence: int, field: str) -> None:
    if abs(pence) > AMOUNT_PENCE_MAX:
        raise AmountError(
            f"{field} is larger than the limit of {format_gbp(AMOUNT_PENCE_MAX)}",
            code="amount_too_large",
            field=field,
        )


def from_pence(pence: int) -> Money:
    """Integer pence (as stored) → ``Money`` in GBP."""
    assert isinstance(pence, int) and not isinstance(pence, bool), f"pence must be int, got {pence!r}"
    return Money(Decimal(pence).scaleb(-2), CURRENCY)


def to_pence(amount: Money, *, field: str = "amount") -> int:
    """``Money`` in GBP → integer pence. Refuses other currencies and fractions of a penny."""
    if amount.currency != CURRENCY:
        raise AmountError(
            f"{field} is in {amount.currency.code}; only pounds sterling (GBP) are accepted",
            code="amount_other_currency",
            field=field,
        )
    return _decimal_to_pence(amount.amount, field)


def money_from_decimal(amount: Decimal, *, field: str = "amount") -> Money:
    """A ``Decimal`` of pounds (already parsed by something trustworthy) → ``Money``."""
    return from_pence(_decimal_to_pence(amount, field))


def _decimal_to_pence(amount: Decimal, field: str) -> int:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise AmountError(f"{field} is not a number: {amount!r}", code="amount_not_a_number", field=field)
    scaled = amount.scaleb(2)
    try:
        integral = scaled.to_integral_exact()
    except InvalidOperation:  # pragma: no cover - to_integral_exact only signals on NaN
        raise AmountError(f"{field} is not a number", code="amount_not_a_number", field=field) from None
    if integral != scaled:
        raise AmountError(
            f"{field} has a fraction of a penny: {amount}",
            code="amount_too_many_decimals",
            field=field,
        )
    pence = int(integral)
    _check_range(pence, field)
    return pence


def format_amount(pence: int) -> str:
    """Integer pence → the decimal string the API sends: ``-1200`` → ``"-12.00"``."""
    assert isinstance(pence, int) and not isinstance(pence, bool), f"pence must be int, got {pence!r}"
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), _PENCE_PER_POUND)
    return f"{sign}{pounds}.{rest:02d}"


def format_gbp(pence: int) -> str:
    """Integer pence → how a person reads it: ``123450`` → ``"£1,234.50"``, ``-1200`` → ``"-£12.00"``."""
    assert isinstance(pence, int) and not isinstance(pence, bool), f"pence must be int, got {pence!r}"
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), _PENCE_PER_POUND)
    return f"{sign}£{pounds:,}.{rest:02d}"


def split_pence(whole_pence: int, by: int | Sequence[int]) -> list[int]:
    """Divide ``whole_pence`` into parts that always sum to it exactly.

    ``by`` is either a number of equal parts or a list of non-negative integer weights
    (amounts in pence, basis points, hours — any integers). Each part gets the floor of its
    exact share; the pennies left over go one each to the parts with the largest remainders,
    earlier parts first on a tie (the largest-remainder rule). A negative whole is split as
    its magnitude and negated, so ``split(-x)`` mirrors ``split(x)``. Every part is within one
    penny of its exact share and a zero weight always gets zero.
    """
    assert isinstance(whole_pence, int) and not isinstance(whole_pence, bool), "whole must be int pence"
    weights = _weights(by)
    total_weight = sum(weights)
    magnitude = abs(whole_pence)
    parts: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        share, remainder = divmod(magnitude * weight, total_weight)
        parts.append(share)
        remainders.append(remainder)
    left_over = magnitude - sum(parts)
    assert 0 <= left_over < len(weights), "floors leave fewer pennies than parts"
    by_largest_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in by_largest_remainder[:left_over]:
        parts[index] += 1
    if whole_pence < 0:
        parts = [-part for part in parts]
    assert sum(parts) == whole_pence, "split parts must sum to the whole"
    return parts


def split(whole: Money, by: int | Sequence[int]) -> list[Money]:
    """:func:`split_pence` for ``Money``."""
    return [from_pence(part) for part in split_pence(to_pence(whole), by)]


def _weights(by: int | Sequence[int]) -> list[int]:
    if isinstance(by, int) and not isinstance(by, bool):
        if by < 1:
            raise ValueError(f"cannot split into {by} parts")
        return [1] * by
    weights = list(by)
    if not weights:
        raise ValueError("cannot split by an empty list of weights")
    for weight in weights:
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            raise ValueError(f"split weights must be non-negative integers, got {weight!r}")
    if sum(weights) == 0:
        raise ValueError("cannot split by weights that are all zero")
    return weights
