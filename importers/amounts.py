"""Reading amounts and dates as statements write them, strictly.

Every format reads its numbers through here, so the traps are closed once: a thousands
separator is only accepted in groups of three (``1,234`` is one thousand two hundred and
thirty-four, never 1.234), ``NaN`` and infinity are refused, and more decimal places than the
currency has are refused unless they are zeros (a sub-penny amount cannot be kept in pence).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from moneyed import Money, get_currency
from moneyed.classes import CurrencyDoesNotExist

from importers.errors import ImportRejected

_NUMBER_RE = re.compile(
    r"""^
    (?P<open>\()?
    (?P<sign>[-+])?
    (?P<symbol>[£$€])?
    (?P<sign2>[-+])?
    (?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?
    (?:\.(?P<fraction>[0-9]+))?
    (?P<trailing_sign>-)?
    (?P<close>\))?
    $""",
    re.VERBOSE,
)
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}
AMOUNT_TEXT_LENGTH_MAX = 40


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def check_currency(code: str, *, line: int | None = None, field: str = "currency") -> str:
    text = (code or "").strip().upper()
    if text in ("826",):  # ISO 4217 numeric code for GBP, as card processors write it
        return "GBP"
    try:
        get_currency(text)
    except CurrencyDoesNotExist:
        raise ImportRejected(
            f"{code!r} is not a currency code", code="currency_unknown", line=line, field=field
        ) from None
    if len(text) != 3:
        raise ImportRejected(f"{code!r} is not a currency code", code="currency_unknown", line=line, field=field)
    return text


def parse_decimal(
    text: str,
    *,
    currency: str,
    line: int | None,
    field: str,
    decimal_comma: bool = False,
) -> Decimal:
    """``text`` as a Decimal with at most the currency's decimal places.

    Accepts an optional sign (leading or trailing), a currency symbol, thousands separators
    in groups of three, and accounting brackets for a negative. With ``decimal_comma``
    (continental files: ``1.234,56``) the roles of ``.`` and ``,`` swap.
    """
    raw = text
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if len(cleaned) > AMOUNT_TEXT_LENGTH_MAX:
        raise ImportRejected(f"{raw[:40]!r}… is too long to be an amount", code="amount_invalid", line=line, field=field)
    if decimal_comma:
        cleaned = cleaned.replace(".", "\0").replace(",", ".").replace("\0", ",")
    if not cleaned:
        raise ImportRejected("the amount is empty", code="amount_missing", line=line, field=field)
    if cleaned.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        raise ImportRejected(f"{raw!r} is not a number", code="amount_not_a_number", line=line, field=field)
    match = _NUMBER_RE.match(cleaned)
    if not match or (match["whole"] is None and match["fraction"] is None) or bool(match["open"]) != bool(match["close"]):
        raise ImportRejected(f"{raw!r} is not an amount", code="amount_invalid", line=line, field=field)
    signs = [s for s in (match["sign"], match["sign2"], match["trailing_sign"]) if s]
    if len(signs) > 1 or (signs and match["open"]):
        raise ImportRejected(f"{raw!r} has more than one sign", code="amount_invalid", line=line, field=field)
    fraction = match["fraction"] or ""
    places = minor_units(currency)
    if len(fraction.rstrip("0")) > places:
        raise ImportRejected(
            f"{raw!r} has more decimal places than {currency} has ({places}); a fraction of a penny cannot be kept",
            code="amount_sub_penny",
            line=line,
            field=field,
        )
    whole = (match["whole"] or "0").replace(",", "")
    try:
        value = Decimal(f"{whole}.{fraction or '0'}").quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ImportRejected(f"{raw!r} is not an amount", code="amount_invalid", line=line, field=field) from None
    if value >= Decimal(10) ** 12:
        raise ImportRejected(f"{raw!r} is beyond any statement amount", code="amount_too_large", line=line, field=field)
    negative = "-" in signs or bool(match["open"])
    return -value if negative else value


def parse_money(
    text: str, *, currency: str, line: int | None, field: str, decimal_comma: bool = False
) -> Money:
    return Money(parse_decimal(text, currency=currency, line=line, field=field, decimal_comma=decimal_comma), currency)


def money(value: Decimal, currency: str, *, line: int | None, field: str) -> Money:
    """A Decimal a library already parsed (ofxparse, mt-940), held to the same rules."""
    if not value.is_finite():
        raise ImportRejected(f"{value} is not a number", code="amount_not_a_number", line=line, field=field)
    return parse_money(format(value, "f"), currency=currency, line=line, field=field)


def parse_date(text: str, formats: tuple[str, ...], *, line: int | None, field: str) -> date:
    """``text`` in the first of ``formats`` (``strptime`` codes) that reads it. Two-digit
    years (``%y``) follow Python's rule: 69–99 are 1900s, 00–68 are 2000s."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ImportRejected("the date is empty", code="date_missing", line=line, field=field)
    for pattern in formats if cleaned.isascii() else ():  # strptime reads other scripts' digits too
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    shown = " or ".join(_human(p) for p in formats)
    raise ImportRejected(f"{cleaned[:40]!r} is not a date written as {shown}", code="date_invalid", line=line, field=field)


def _human(pattern: str) -> str:
    return (
        pattern.replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY").replace("%y", "YY")
        .replace("%b", "Mon").replace("%H", "hh").replace("%M", "mm").replace("%S", "ss")
    )
