"""Merchant keys: the words of a statement's merchant or description without the noise.

Card schemes and banks wrap a merchant's name in words that say nothing about it ("CARD
PAYMENT TO", "POS", "VIS", "CONTACTLESS"), store numbers, dates and ``*`` separators. The key
keeps only the merchant's own words, lower case, ASCII, single-spaced:

    "TESCO STORES 3297 PLYMOUTH"  -> "tesco stores plymouth"
    "PAYPAL *BET365"              -> "paypal bet365"
    "CARD PAYMENT TO Wm Hill*Online ON 12 JAN" -> "wm hill online"

Rule patterns go through the same function, so a pattern and a statement line always agree
on what a word is. The key is a fixed point: ``merchant_key(merchant_key(x)) ==
merchant_key(x)``. Words made only of digits are always dropped (store numbers, dates,
times, phone numbers), so a pattern such as "888" can never match: use "888sport".
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_MONTHS = frozenset({"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"})
_NOISE_WORDS = frozenset({"pos", "vis", "contactless", "cnp", "www"})
"""Words card schemes and banks add anywhere in a line."""
_NOISE_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("debit", "card", "payment", "to"),
    ("debit", "card", "payment"),
    ("card", "payment", "to"),
    ("card", "payment"),
    ("card", "purchase", "at"),
    ("card", "purchase"),
    ("contactless", "payment"),
    ("payment", "to"),
)
"""Phrases banks put before the merchant's name (longest first)."""
_PREFIX_STARTS = frozenset(prefix[0] for prefix in _NOISE_PREFIXES)
_WORDS_TO_LOOK_AT = _NOISE_WORDS | _MONTHS | {"on"}

_APOSTROPHES = "'`\u2019\u2018"
# For ASCII text, one bytes.translate lower-cases letters, turns every other character but a
# digit into a space and deletes apostrophes ("Sainsbury's" is one word, "sainsburys").
_ASCII_WORDS = bytes(
    c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256)
)
_ASCII_APOSTROPHES = b"'`"
_KEY_CACHE_SIZE = 65_536


@lru_cache(maxsize=_KEY_CACHE_SIZE)
def merchant_key(text: str) -> str:
    """The merchant's own words in ``text`` (see the module docstring); "" when none."""
    return " ".join(_merchant_words(plain_words(text)))


def plain_words(text: str) -> list[str]:
    """``text``'s words before any is dropped: lower-case ASCII letters and digits."""
    if not text.isascii():
        # "Café Nero" and "Cafe Nero" are one merchant; letters with no ASCII form go.
        folded = "".join(c for c in text.casefold() if c not in _APOSTROPHES)
        text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    if "&" in text:
        text = text.replace("&", " and ")
    return text.encode("ascii").translate(_ASCII_WORDS, _ASCII_APOSTROPHES).decode("ascii").split()


def _merchant_words(words: list[str]) -> list[str]:
    kept: list[str] = []
    for index, word in enumerate(words):
        if word.isalpha():
            if word in _WORDS_TO_LOOK_AT and (
                word in _NOISE_WORDS
                or (word in _MONTHS and _is_month_of_date(words, index))
                or (word == "on" and _starts_date(words, index + 1))
            ):
                continue
        elif word.isdigit() or (word[0].isdigit() and _is_date_word(word)):
            continue
        kept.append(word)
    return _without_noise_prefix(kept) if kept and kept[0] in _PREFIX_STARTS else kept


def _is_date_word(word: str) -> bool:
    """"12jan", "12jan24", "12jan2024": a date written as one word."""
    digits = len(word) - len(word.lstrip("0123456789"))
    if not 1 <= digits <= 2:
        return False
    rest = word[digits:]
    month = rest.rstrip("0123456789")
    year = rest[len(month) :]
    return month in _MONTHS and len(year) in (0, 2, 4)


def _is_month_of_date(words: list[str], index: int) -> bool:
    """A month name written next to a day or year in digits ("12 jan", "jan 2024")."""
    if words[index] not in _MONTHS:
        return False
    before = words[index - 1] if index > 0 else ""
    after = words[index + 1] if index + 1 < len(words) else ""
    return before.isdigit() or after.isdigit()


def _starts_date(words: list[str], index: int) -> bool:
    if index >= len(words):
        return False
    word = words[index]
    return word.isdigit() or _is_date_word(word) or _is_month_of_date(words, index)


def _without_noise_prefix(words: list[str]) -> list[str]:
    """Without the bank's leading phrases; a line that is nothing but such a phrase keeps
    it, so that the key is never empty while the line has words."""
    start = 0
    stripped = True
    while stripped:
        stripped = False
        for prefix in _NOISE_PREFIXES:
            end = start + len(prefix)
            if tuple(words[start:end]) == prefix and end < len(words):
                start, stripped = end, True
                break
    return words[start:] if start else words
