"""Holders' own categorisation rules, versioned: a rule keeps its key; changing it adds the
next version and retires the one before, so every categorisation can name the exact rule
(id and version) that made it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import category_by_code
from ledger.budgets.parties import get_holder
from ledger.core import checks
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.reconcile.categorise import UNCATEGORISED, MatchOn, RuleOrigin
from ledger.rules import merchant_key
from ledger.store.tables.base import utcnow
from ledger.store.tables.reconciliation import CategoryRule

_MCC_DIGITS = 4


def define_rule(
    session: Session, holder_id: int, *, match_on: str, pattern: str, category: str, created_by: str, rule_key: str | None = None
) -> CategoryRule:
    """A new rule, or (``rule_key`` given) the next version of one."""
    holder = get_holder(session, holder_id)
    author = checks.required_text(created_by, "created_by", max_length=200)
    kind = checks.choice(match_on, MatchOn, "match_on")
    text = checks.required_text(pattern, "pattern", max_length=200)
    if kind == MatchOn.MCC:
        if not (len(text) == _MCC_DIGITS and text.isascii() and text.isdigit()):
            raise InvalidInput("pattern: an MCC is four digits", code="mcc_invalid", field="pattern")
    else:
        text = merchant_key(text)
        if not text:
            raise InvalidInput("pattern: no words left once card-scheme noise is taken out", code="pattern_empty", field="pattern")
    target = category_by_code(session, holder.id, category, field="category")  # type: ignore[arg-type]
    if target.code == UNCATEGORISED:
        raise InvalidInput("category: a rule puts spend in a real category", code="category_not_plannable", field="category")
    version = 1
    if rule_key is None:
        number = (session.scalar(select(func.count()).select_from(CategoryRule).where(CategoryRule.holder_id == holder.id)) or 0) + 1
        rule_key = f"rule-{number}"
    else:
        current = session.scalars(
            select(CategoryRule).where(CategoryRule.holder_id == holder.id, CategoryRule.rule_key == rule_key).order_by(CategoryRule.version.desc())
        ).first()
        if current is None:
            raise NotFound(f"holder {holder.id} has no rule {rule_key!r}", code="rule_not_found")
        version = current.version + 1
        if current.retired_at is None:
            current.retired_at, current.retired_by = utcnow(), author
    rule = CategoryRule(
        holder_id=holder.id, rule_key=rule_key, version=version, match_on=kind, pattern=text, category_id=target.id,
        origin=RuleOrigin.HOLDER, created_by=author,
    )  # fmt: skip
    session.add(rule)
    session.flush()
    return rule


def retire_rule(session: Session, holder_id: int, rule_key: str, *, retired_by: str) -> CategoryRule:
    author = checks.required_text(retired_by, "retired_by", max_length=200)
    current = session.scalars(
        select(CategoryRule).where(CategoryRule.holder_id == holder_id, CategoryRule.rule_key == rule_key, CategoryRule.retired_at.is_(None))
    ).first()
    if current is None:
        known = session.scalar(select(func.count()).select_from(CategoryRule).where(CategoryRule.holder_id == holder_id, CategoryRule.rule_key == rule_key))
        if known:
            raise Conflict(f"holder {holder_id}'s rule {rule_key!r} is already retired", code="rule_already_retired")
        raise NotFound(f"holder {holder_id} has no rule {rule_key!r}", code="rule_not_found")
    current.retired_at, current.retired_by = utcnow(), author
    session.flush()
    return current


def rules_of(session: Session, holder_id: int, *, include_retired: bool = False) -> list[CategoryRule]:
    get_holder(session, holder_id)
    query = select(CategoryRule).where(CategoryRule.holder_id == holder_id)
    if not include_retired:
        query = query.where(CategoryRule.retired_at.is_(None))
    return list(session.scalars(query.order_by(CategoryRule.rule_key, CategoryRule.version)))
