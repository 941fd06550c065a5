"""Spend rules as data, and the pure engine that applies them (no database here).

- ``merchant_key``: the merchant's own words in a statement line's text.
- Spend checks (``SpendChecks.check``): excluded MCCs and merchants, venues to explain, cash.
- Category rules (``CategoryRules.categorise``): which plan category a spend goes to.

The shipped defaults are JSON files in ``ledger/rules/data``, each entry citing its source;
a funder's own copy is the same JSON, loaded with ``load_spend_checks``.
"""

from __future__ import annotations

from ledger.rules.merchant_names import merchant_key
from ledger.rules.rule_sets import (
    MCC_CHECK_CODES,
    MERCHANT_CHECK_CODES,
    SEVERITIES,
    SHIPPED_ORIGIN,
    SPEND_CHECK_CODES,
    CategoryHit,
    CategoryMccRule,
    CategoryMerchantRule,
    CategoryRules,
    SpendCheckHit,
    SpendChecks,
    SpendMccRule,
    SpendMerchantRule,
    load_category_rules,
    load_spend_checks,
    shipped_category_rules,
    shipped_category_rules_text,
    shipped_spend_checks,
    shipped_spend_checks_text,
)

__all__ = [
    "MCC_CHECK_CODES",
    "MERCHANT_CHECK_CODES",
    "SEVERITIES",
    "SHIPPED_ORIGIN",
    "SPEND_CHECK_CODES",
    "CategoryHit",
    "CategoryMccRule",
    "CategoryMerchantRule",
    "CategoryRules",
    "SpendCheckHit",
    "SpendChecks",
    "SpendMccRule",
    "SpendMerchantRule",
    "load_category_rules",
    "load_spend_checks",
    "merchant_key",
    "shipped_category_rules",
    "shipped_category_rules_text",
    "shipped_spend_checks",
    "shipped_spend_checks_text",
]
