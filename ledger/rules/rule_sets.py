"""Rule sets as typed, frozen values: the spend checks that raise flags and the rules that
put spend in a plan category, each loaded from its JSON text and checked entry by entry.

A rule set is data (DESIGN.md §4): the shipped default lives in ``ledger/rules/data`` and is
never edited in place; a funder's own copy is the same JSON kept in the database. Every rule
cites its source, and every hit names the rule (``rule_id``) and the set's version
(``rule_version``, ``"<origin>:<version>"``), so a flag or a categorisation can always be traced
to the exact rule that made it.

Matching: when a line has an MCC only the MCC rules apply; when it has none, only the
merchant-name patterns do (spend checks). Categories try the merchant patterns first and
the MCC rules after. Within a kind, one code beats a range, a narrower range a wider one, a
longer pattern a shorter one; on a tie the rule earlier in the file wins.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from ledger.core.vocabulary import STANDARD_CATEGORIES
from ledger.rules import rule_json as read
from ledger.rules.matching import MccEntry, MccIndex, PatternEntry, PatternIndex
from ledger.rules.merchant_names import merchant_key

SPEND_CHECK_CODES = ("EXCLUDED_MCC", "EXCLUDED_MERCHANT", "CASH_WITHDRAWAL", "CHECK_VENUE")
"""Every code a spend check can raise, most serious first (the order of ``check``'s hits)."""
MCC_CHECK_CODES = frozenset({"EXCLUDED_MCC", "CASH_WITHDRAWAL", "CHECK_VENUE"})
MERCHANT_CHECK_CODES = frozenset({"EXCLUDED_MERCHANT", "CASH_WITHDRAWAL", "CHECK_VENUE"})
SEVERITIES = frozenset({"high", "medium", "low"})
SHIPPED_ORIGIN = "shipped"

_TOP_KEYS = {"name", "version", "mcc", "merchants"}
_TOP_OPTIONAL = {"description"}
_CATEGORY_GROUP = "category"
_CODE_RANK = {code: rank for rank, code in enumerate(SPEND_CHECK_CODES)}
_DATA = resources.files(__package__) / "data"


@dataclass(frozen=True, slots=True)
class SpendCheckHit:
    code: str
    severity: str
    rule_id: str
    rule_version: str
    reason: str


@dataclass(frozen=True, slots=True)
class CategoryHit:
    category: str
    rule_id: str
    rule_version: str


@dataclass(frozen=True, slots=True)
class SpendMccRule:
    id: str
    mcc_from: str
    mcc_to: str
    """Equal to ``mcc_from`` for a rule on one code."""
    code: str
    severity: str
    reason: str
    source: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SpendMerchantRule:
    id: str
    patterns: tuple[str, ...]
    """As ``merchant_key`` writes them."""
    code: str
    severity: str
    reason: str
    source: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryMccRule:
    id: str
    mcc_from: str
    mcc_to: str
    category: str
    source: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryMerchantRule:
    id: str
    patterns: tuple[str, ...]
    category: str
    source: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SpendChecks:
    name: str
    version: str
    origin: str
    mcc_rules: tuple[SpendMccRule, ...]
    merchant_rules: tuple[SpendMerchantRule, ...]
    _by_mcc: MccIndex[SpendCheckHit] = field(init=False, repr=False, compare=False)
    _by_merchant: PatternIndex[SpendCheckHit] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        version = self.rule_version
        hits = {r.id: SpendCheckHit(r.code, r.severity, r.id, version, r.reason) for r in (*self.mcc_rules, *self.merchant_rules)}
        object.__setattr__(self, "_by_mcc", MccIndex(_mcc_entries(self.mcc_rules, lambda r: r.code, hits)))
        object.__setattr__(self, "_by_merchant", PatternIndex(_pattern_entries(self.merchant_rules, lambda r: r.code, hits)))

    @property
    def rule_version(self) -> str:
        return f"{self.origin}:{self.version}"

    def check(self, mcc: str | None, merchant: str) -> tuple[SpendCheckHit, ...]:
        """What the spend checks say about one line: at most one hit per code, most serious
        code first. Never raises: an MCC that is not 1–4 digits counts as no MCC."""
        code = mcc_number(mcc)
        if code is not None:
            hits = self._by_mcc.best(code)
        else:
            hits = self._by_merchant.best(merchant_key(merchant) if isinstance(merchant, str) else "")
        return tuple(sorted(hits, key=lambda hit: _CODE_RANK[hit.code])) if len(hits) > 1 else hits


@dataclass(frozen=True, slots=True)
class CategoryRules:
    name: str
    version: str
    origin: str
    mcc_rules: tuple[CategoryMccRule, ...]
    merchant_rules: tuple[CategoryMerchantRule, ...]
    _by_mcc: MccIndex[CategoryHit] = field(init=False, repr=False, compare=False)
    _by_merchant: PatternIndex[CategoryHit] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        version = self.rule_version
        hits = {r.id: CategoryHit(r.category, r.id, version) for r in (*self.mcc_rules, *self.merchant_rules)}
        object.__setattr__(self, "_by_mcc", MccIndex(_mcc_entries(self.mcc_rules, lambda r: _CATEGORY_GROUP, hits)))
        object.__setattr__(self, "_by_merchant", PatternIndex(_pattern_entries(self.merchant_rules, lambda r: _CATEGORY_GROUP, hits)))

    @property
    def rule_version(self) -> str:
        return f"{self.origin}:{self.version}"

    def categorise(self, mcc: str | None, merchant: str) -> CategoryHit | None:
        """The category the rules choose for a line, or None: a merchant pattern beats an
        MCC. Never raises. ``merchant`` may be raw text or already a merchant key."""
        found = self._by_merchant.best(merchant_key(merchant) if isinstance(merchant, str) else "")
        if not found:
            code = mcc_number(mcc)
            found = self._by_mcc.best(code) if code is not None else ()
        return found[0] if found else None


def mcc_number(mcc: object) -> int | None:
    """The code as a number when ``mcc`` is 1 to 4 ASCII digits (importers zero-pad to 4)."""
    if not isinstance(mcc, str):
        return None
    digits = mcc.strip()
    if 1 <= len(digits) <= 4 and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


MccRuleT = TypeVar("MccRuleT", SpendMccRule, CategoryMccRule)
MerchantRuleT = TypeVar("MerchantRuleT", SpendMerchantRule, CategoryMerchantRule)
HitT = TypeVar("HitT", SpendCheckHit, CategoryHit)


def _mcc_entries(rules: Sequence[MccRuleT], group: Callable[[MccRuleT], str], hits: Mapping[str, HitT]) -> list[MccEntry[HitT]]:
    return [MccEntry(group(r), int(r.mcc_from), int(r.mcc_to), order, hits[r.id]) for order, r in enumerate(rules)]


def _pattern_entries(
    rules: Sequence[MerchantRuleT], group: Callable[[MerchantRuleT], str], hits: Mapping[str, HitT]
) -> list[PatternEntry[HitT]]:
    entries: list[PatternEntry[HitT]] = []
    for rule in rules:
        for pattern in rule.patterns:
            entries.append(PatternEntry(group(rule), pattern, len(entries), hits[rule.id]))
    return entries


# --- loading -----------------------------------------------------------------------------


def load_spend_checks(text: str, *, origin: str) -> SpendChecks:
    """The spend checks in ``text`` (JSON), or ``InvalidInput`` naming the entry at fault."""
    document = read.parse_document(text)
    name, version = _heading(document)
    ids: dict[str, str] = {}
    mcc_rules = tuple(_spend_mcc_rule(value, read.Place(f"mcc[{i}]"), ids) for i, value in enumerate(read.entry_list(document, "mcc")))
    merchant_rules = tuple(
        _spend_merchant_rule(value, read.Place(f"merchants[{i}]"), ids) for i, value in enumerate(read.entry_list(document, "merchants"))
    )
    _refuse_repeats(mcc_rules, merchant_rules, group=lambda rule: rule.code)
    return SpendChecks(name, version, origin, mcc_rules, merchant_rules)


def load_category_rules(text: str, *, origin: str, categories: Collection[str]) -> CategoryRules:
    """The category rules in ``text`` (JSON); each rule's category must be in ``categories``."""
    document = read.parse_document(text)
    name, version = _heading(document)
    known = frozenset(categories)
    ids: dict[str, str] = {}
    mcc_rules = tuple(
        _category_mcc_rule(value, read.Place(f"mcc[{i}]"), ids, known) for i, value in enumerate(read.entry_list(document, "mcc"))
    )
    merchant_rules = tuple(
        _category_merchant_rule(value, read.Place(f"merchants[{i}]"), ids, known)
        for i, value in enumerate(read.entry_list(document, "merchants"))
    )
    _refuse_repeats(mcc_rules, merchant_rules, group=lambda rule: _CATEGORY_GROUP)
    return CategoryRules(name, version, origin, mcc_rules, merchant_rules)


def _heading(document: Mapping[str, Any]) -> tuple[str, str]:
    top = read.Place("")
    read.object_keys(document, top, required=_TOP_KEYS, optional=_TOP_OPTIONAL)
    read.text(document, "description", top, max_length=read.DESCRIPTION_LENGTH_MAX, required=False)
    return read.required_text(document, "name", top, max_length=read.NAME_LENGTH_MAX), read.version(document)


_SPEND_KEYS = {"id", "code", "severity", "reason", "source"}
_CATEGORY_KEYS = {"id", "category", "source"}
_MCC_KEYS = {"mcc", "mcc_from", "mcc_to", "name"}
_MERCHANT_KEYS = {"patterns"}


def _spend_mcc_rule(value: object, place: read.Place, ids: dict[str, str]) -> SpendMccRule:
    entry = read.object_keys(value, place, required=_SPEND_KEYS, optional=_MCC_KEYS)
    rule_id = read.rule_id(entry, place, ids)
    place = read.Place(place.path, rule_id)
    first, last = read.mcc_span(entry, place)
    return SpendMccRule(
        rule_id, f"{first:04d}", f"{last:04d}", read.choice(entry, "code", place, MCC_CHECK_CODES),
        read.choice(entry, "severity", place, SEVERITIES), *_reason_and_source(entry, place), _name(entry, place),
    )  # fmt: skip


def _spend_merchant_rule(value: object, place: read.Place, ids: dict[str, str]) -> SpendMerchantRule:
    entry = read.object_keys(value, place, required=_SPEND_KEYS | _MERCHANT_KEYS, optional={"name"})
    rule_id = read.rule_id(entry, place, ids)
    place = read.Place(place.path, rule_id)
    return SpendMerchantRule(
        rule_id, read.patterns(entry, place), read.choice(entry, "code", place, MERCHANT_CHECK_CODES),
        read.choice(entry, "severity", place, SEVERITIES), *_reason_and_source(entry, place), _name(entry, place),
    )  # fmt: skip


def _category_mcc_rule(value: object, place: read.Place, ids: dict[str, str], known: frozenset[str]) -> CategoryMccRule:
    entry = read.object_keys(value, place, required=_CATEGORY_KEYS, optional=_MCC_KEYS)
    rule_id = read.rule_id(entry, place, ids)
    place = read.Place(place.path, rule_id)
    first, last = read.mcc_span(entry, place)
    category = read.choice(entry, "category", place, known)
    source = read.required_text(entry, "source", place, max_length=read.SOURCE_LENGTH_MAX)
    return CategoryMccRule(rule_id, f"{first:04d}", f"{last:04d}", category, source, _name(entry, place))


def _category_merchant_rule(value: object, place: read.Place, ids: dict[str, str], known: frozenset[str]) -> CategoryMerchantRule:
    entry = read.object_keys(value, place, required=_CATEGORY_KEYS | _MERCHANT_KEYS, optional={"name"})
    rule_id = read.rule_id(entry, place, ids)
    place = read.Place(place.path, rule_id)
    patterns = read.patterns(entry, place)
    category = read.choice(entry, "category", place, known)
    source = read.required_text(entry, "source", place, max_length=read.SOURCE_LENGTH_MAX)
    return CategoryMerchantRule(rule_id, patterns, category, source, _name(entry, place))


def _reason_and_source(entry: Mapping[str, Any], place: read.Place) -> tuple[str, str]:
    return (
        read.required_text(entry, "reason", place, max_length=read.REASON_LENGTH_MAX),
        read.required_text(entry, "source", place, max_length=read.SOURCE_LENGTH_MAX),
    )


def _name(entry: Mapping[str, Any], place: read.Place) -> str | None:
    return read.text(entry, "name", place, max_length=read.NAME_LENGTH_MAX, required=False)


def _refuse_repeats(
    mcc_rules: Sequence[SpendMccRule] | Sequence[CategoryMccRule],
    merchant_rules: Sequence[SpendMerchantRule] | Sequence[CategoryMerchantRule],
    *,
    group: Callable[[Any], str],
) -> None:
    """The same code, or the same pattern, twice for one outcome is an editing slip: only the
    first could ever match, so the second is refused rather than silently ignored."""
    codes: dict[tuple[str, str], int] = {}
    for index, rule in enumerate(mcc_rules):
        if rule.mcc_from == rule.mcc_to:
            seen = codes.setdefault((group(rule), rule.mcc_from), index)
            if seen != index:
                read.Place(f"mcc[{index}]", rule.id).fail("mcc", f"{rule.mcc_from} is already in mcc[{seen}] for the same outcome")
    patterns: dict[tuple[str, str], int] = {}
    for index, rule in enumerate(merchant_rules):
        for position, pattern in enumerate(rule.patterns):
            seen = patterns.setdefault((group(rule), pattern), index)
            if seen != index:
                read.Place(f"merchants[{index}]", rule.id).fail(
                    f"patterns[{position}]", f"{pattern!r} is already in merchants[{seen}] for the same outcome"
                )


# --- the shipped defaults ----------------------------------------------------------------


@cache
def shipped_spend_checks_text() -> str:
    """The shipped spend checks as written: what a funder copies to make its own."""
    return (_DATA / "spend_checks.json").read_text(encoding="utf-8")


@cache
def shipped_category_rules_text() -> str:
    return (_DATA / "categories.json").read_text(encoding="utf-8")


@cache
def shipped_spend_checks() -> SpendChecks:
    return load_spend_checks(shipped_spend_checks_text(), origin=SHIPPED_ORIGIN)


@cache
def shipped_category_rules() -> CategoryRules:
    return load_category_rules(shipped_category_rules_text(), origin=SHIPPED_ORIGIN, categories=[c[0] for c in STANDARD_CATEGORIES])
