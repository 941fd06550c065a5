"""Which plan category a spend goes to, and the rule that said so.

In order: the holder's own rules (made through the API), rules learned from people's
re-categorisations, then the shipped rules (merchant names before MCCs; see
``ledger.rules``). A spend no rule places goes to ``uncategorised`` and is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.accounts import budget_fixed_specs, categories_for_holder, ensure_accounts
from ledger.core.vocabulary import UNCATEGORISED_CATEGORY, AccountKind
from ledger.rules import merchant_key, shipped_category_rules
from ledger.store.tables import Account, Budget, Category
from ledger.store.tables.reconciliation import CategoryRule

UNCATEGORISED = UNCATEGORISED_CATEGORY[0]
NO_RULE = ("none", "-")
NGRAM_WORDS_MAX = 6
_UNSEEN = object()


class RuleOrigin(StrEnum):
    HOLDER = "holder"
    LEARNED = "learned"


class MatchOn(StrEnum):
    MERCHANT = "merchant"
    MCC = "mcc"


@dataclass(frozen=True, slots=True)
class Categorised:
    category_id: int
    category_code: str
    rule_id: str
    rule_version: str


def holder_rule_id(rule: CategoryRule) -> str:
    return f"{rule.origin}:{rule.rule_key}"


def words_within(pattern: str, key: str) -> bool:
    """Whether ``pattern``'s words come, in a row, among ``key``'s."""
    return f" {pattern} " in f" {key} "


class Categoriser:
    """The rules of one holder, loaded once for a run."""

    def __init__(self, session: Session, holder_id: int) -> None:
        self.categories = {c.code: c for c in categories_for_holder(session, holder_id)}
        self.by_id = {c.id: c for c in self.categories.values()}
        rules = session.scalars(
            select(CategoryRule)
            .where(CategoryRule.holder_id == holder_id, CategoryRule.retired_at.is_(None))
            .order_by(CategoryRule.origin, CategoryRule.id)
        ).all()
        # The holder's own before the learned ('holder' sorts after 'learned': reorder).
        ordered = [r for r in rules if r.origin == RuleOrigin.HOLDER] + [r for r in rules if r.origin == RuleOrigin.LEARNED]
        self._merchant: dict[str, CategoryRule] = {}
        self._long_merchant: list[CategoryRule] = []
        self._mcc: dict[str, CategoryRule] = {}
        for rule in ordered:
            if rule.match_on == MatchOn.MCC:
                self._mcc.setdefault(rule.pattern, rule)
            elif len(rule.pattern.split()) > NGRAM_WORDS_MAX:
                self._long_merchant.append(rule)
            else:
                self._merchant.setdefault(rule.pattern, rule)
        self.shipped = shipped_category_rules()
        self._chosen: dict[tuple[str | None, str], Categorised | None] = {}

    def uncategorised(self) -> Categorised:
        category = self.categories[UNCATEGORISED]
        assert category.id is not None
        return Categorised(category.id, category.code, *NO_RULE)

    def categorise(self, mcc: str | None, merchant: str) -> Categorised | None:
        """The category for a spend, from the first rule that places it (remembered for the
        run: a card's merchants repeat)."""
        remembered = self._chosen.get((mcc, merchant), _UNSEEN)
        if remembered is not _UNSEEN:
            return remembered  # type: ignore[return-value]
        chosen = self._categorise(mcc, merchant)
        self._chosen[(mcc, merchant)] = chosen
        return chosen

    def _categorise(self, mcc: str | None, merchant: str) -> Categorised | None:
        key = merchant_key(merchant)
        rule = self._holder_rule(mcc, key)
        if rule is not None:
            category = self.by_id[rule.category_id]
            assert category.id is not None
            return Categorised(category.id, category.code, holder_rule_id(rule), str(rule.version))
        hit = self.shipped.categorise(mcc, merchant)
        if hit is None or hit.category not in self.categories:
            return None
        category = self.categories[hit.category]
        assert category.id is not None
        return Categorised(category.id, category.code, hit.rule_id, hit.rule_version)

    def _holder_rule(self, mcc: str | None, key: str) -> CategoryRule | None:
        if key and (self._merchant or self._long_merchant):
            words = key.split()
            best: CategoryRule | None = None
            for size in range(min(NGRAM_WORDS_MAX, len(words)), 0, -1):
                for start in range(len(words) - size + 1):
                    found = self._merchant.get(" ".join(words[start : start + size]))
                    if found is not None and (best is None or found.id < best.id):
                        best = found
                if best is not None:
                    return best
            for rule in self._long_merchant:
                if words_within(rule.pattern, key):
                    return rule
        if mcc and mcc in self._mcc:
            return self._mcc[mcc]
        return None


def spend_accounts(session: Session, holder_id: int, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The spend account of each (budget, category) asked for, made where a holder's
    category arrived after the budget was set up."""
    wanted = set(pairs)
    if not wanted:
        return {}
    budget_ids = sorted({b for b, _ in wanted})
    found = _spend_accounts(session, holder_id, budget_ids)
    missing = wanted - found.keys()
    if missing:
        budgets = {b.id: b for b in session.scalars(select(Budget).where(Budget.id.in_(sorted({b for b, _ in missing}))))}
        categories = {c.id: c for c in session.scalars(select(Category).where(Category.id.in_(sorted({c for _, c in missing}))))}
        specs = []
        for budget_id, category_id in sorted(missing):
            specs.extend(s for s in budget_fixed_specs(budgets[budget_id], [categories[category_id]]) if s.kind == AccountKind.SPEND)
        ensure_accounts(session, specs)
        found = _spend_accounts(session, holder_id, budget_ids)
    return found


def _spend_accounts(session: Session, holder_id: int, budget_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    found: dict[tuple[int, int], int] = {}
    query = select(Account.budget_id, Account.category_id, Account.id).where(
        Account.holder_id == holder_id, Account.kind == AccountKind.SPEND
    )
    wanted = set(budget_ids)
    for budget_id, category_id, account_id in session.execute(query):
        if budget_id in wanted and category_id is not None:
            found[(budget_id, category_id)] = account_id
    return found


