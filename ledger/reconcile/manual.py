"""What people do to reconciliation by hand: match a line to what they know it is, unmatch
it, split it over categories or budgets, re-categorise a spend. Each is audited (who, when,
what, why, in ``reconciliation_event``), each refuses a line in a locked reconciled period,
and each happens under the holder's book lock.

Unmatching reverses what reconciliation posted for the line; a funder receipt or a payment
recorded through its own service stays recorded (the line is only detached from it: correct
the receipt or payment where it lives). Re-categorising the same merchant to the same category
twice teaches the holder a rule (``origin = learned``) that categorises the next one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import category_by_code
from ledger.core import checks
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import lock_book, post_entries, post_entry, reverse_entry
from ledger.core.money import format_gbp
from ledger.core.vocabulary import UNCATEGORISED_CATEGORY, AccountKind, EntryKind
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.reconcile.automatic import locked_through, record_matches, unmatched_lines
from ledger.reconcile.categorise import MatchOn, RuleOrigin, spend_accounts
from ledger.reconcile.combinations import PayablesProposal, ReceivablesProposal, pay_proposal, record_receivables
from ledger.reconcile.ledger_side import StatementKind, scope_of, unmatched_candidates
from ledger.reconcile.lines import Decided, Line, MatchMethod
from ledger.rules import merchant_key
from ledger.statements.line_checks import why_not_postable
from ledger.store.tables import Account, Budget, Posting
from ledger.store.tables.base import utcnow
from ledger.store.tables.reconciliation import (
    Categorisation,
    CategoryRule,
    ReconciliationEvent,
    ReconciliationMatch,
    ReconciliationMatchPart,
)
from ledger.store.tables.statements import StatementLineRecord

PERSON_RULE = ("person", "-")
SPLIT_PARTS_MAX = 20
LEARN_AFTER = 2


@dataclass(frozen=True, slots=True)
class SplitPart:
    amount_pence: int
    """Positive: how much of the line this part is."""
    category: str | None = None
    """A spend category; None with ``fee=True``."""
    budget_id: int | None = None
    """Needed on the client bank account; a card or budget account's own budget otherwise."""
    fee: bool = False


def _line(session: Session, line_id: int) -> StatementLineRecord:
    record = session.get(StatementLineRecord, line_id)
    if record is None:
        raise NotFound(f"there is no statement line {line_id}", code="statement_line_not_found")
    return record


def _active_match(session: Session, line_id: int) -> ReconciliationMatch | None:
    return session.scalar(select(ReconciliationMatch).where(ReconciliationMatch.active_line_id == line_id))


def _prepare(session: Session, line_id: int) -> tuple[StatementLineRecord, Account]:
    record = _line(session, line_id)
    account = session.get(Account, record.account_id)
    assert account is not None
    lock_book(session, account.holder_id)
    through = locked_through(session, [account.id or 0]).get(account.id or 0)
    if through is not None and record.posted_on <= through:
        raise Conflict(
            f"line {line_id} of {record.posted_on} is in a reconciled period locked up to {through}; reopen it first",
            code="reconciliation_locked",
        )
    return record, account


def _as_line(session: Session, record: StatementLineRecord) -> Line:
    found = unmatched_lines(session, [record.account_id], line_ids=[record.id])[record.account_id]
    if not found:
        raise Conflict(f"statement line {record.id} is matched already; unmatch it first", code="line_already_matched")
    held_because = why_not_postable(found[0].posted_on, found[0].amount_pence)
    if held_because is not None:
        raise InvalidInput(f"statement line {record.id} cannot be matched: {held_because}", code="line_not_postable", field="line_id")
    return found[0]


def event(session: Session, holder_id: int, action: str, actor: str, *, account_id: int | None = None, line_id: int | None = None,
          match_id: int | None = None, **detail: object) -> None:  # fmt: skip
    session.add(
        ReconciliationEvent(
            holder_id=holder_id, account_id=account_id, statement_line_id=line_id, match_id=match_id, action=action,
            detail=json.dumps(detail, default=str, sort_keys=True), actor=actor[:200],
        )  # fmt: skip
    )


# --- match --------------------------------------------------------------------------------


def match_line(
    session: Session,
    line_id: int,
    *,
    actor: str,
    entry_ids: Sequence[int] = (),
    payable_ids: Sequence[int] = (),
    receivables: ReceivablesProposal | None = None,
    category: str | None = None,
    note: str | None = None,
) -> int:
    """Match a line by hand to one of: entries already in the ledger (their bank amounts
    must add up to the line), approved payables it paid, a funder's payment for the budgets
    and amounts given, or (a card or budget account's purchase or refund) a spend category.
    Returns the match id."""
    actor = checks.required_text(actor, "actor", max_length=200)
    note = checks.text(note, "note", max_length=1000, required=False)
    chosen = [bool(entry_ids), bool(payable_ids), receivables is not None, category is not None]
    if sum(chosen) != 1:
        raise InvalidInput("say what the line is: entry_ids, payable_ids, receivables or category (one of them)", code="match_target_missing", field="entry_ids")
    record, account = _prepare(session, line_id)
    line = _as_line(session, record)
    scope = scope_of(session, account)
    if entry_ids:
        decided = _to_entries(session, scope, line, entry_ids)
    elif payable_ids:
        _require(scope.kind == StatementKind.CLIENT_BANK and line.amount_pence < 0, "payables are paid from the client bank account", "payable_ids")
        decided = Decided(line, MatchMethod.PAYABLES, [pay_proposal(session, account.holder_id, line, PayablesProposal(tuple(payable_ids)), actor)])
    elif receivables is not None:
        _require(scope.kind == StatementKind.CLIENT_BANK and line.amount_pence > 0, "funder payments arrive on the client bank account", "receivables")
        decided = Decided(line, MatchMethod.RECEIVABLES, [record_receivables(session, account.holder_id, line, receivables, actor)])
    else:
        assert category is not None
        return split_line(session, line_id, [SplitPart(abs(line.amount_pence), category)], actor=actor, reason=note or "categorised by hand")
    match_id = record_matches(session, account.holder_id, [decided], actor=actor, created_by=actor)[0]
    event(session, account.holder_id, "match", actor, account_id=account.id, line_id=line.id, match_id=match_id, method=decided.method,
          entries=[p[0] for p in decided.parts], note=note)  # fmt: skip
    return match_id


def _require(condition: bool, message: str, field: str) -> None:
    if not condition:
        raise InvalidInput(message, code="match_target_wrong", field=field)


def _to_entries(session: Session, scope, line: Line, entry_ids: Sequence[int]) -> Decided:  # type: ignore[no-untyped-def]
    wanted = sorted(set(entry_ids))
    available = {c.entry_id: c for c in unmatched_candidates(session, [scope])[scope.account_id]}
    missing = [e for e in wanted if e not in available]
    if missing:
        raise InvalidInput(
            f"entry {missing[0]} is not an unmatched entry on this statement's accounts", code="entry_not_matchable", field="entry_ids"
        )
    total = sum(available[e].bank_pence for e in wanted)
    if total != line.amount_pence:
        raise InvalidInput(
            f"the entries come to {format_gbp(total)}; the line is {format_gbp(line.amount_pence)}",
            code="match_amount_mismatch", field="entry_ids", details={"entries_total": total, "line": line.amount_pence},
        )  # fmt: skip
    parts = []
    for entry_id in wanted:
        budgets = [b for b, _ in available[entry_id].by_budget if b]
        parts.append((entry_id, available[entry_id].bank_pence, budgets[0] if len(budgets) == 1 else None, False))
    return Decided(line, MatchMethod.MANUAL, parts)


# --- unmatch ------------------------------------------------------------------------------


def unmatch_line(session: Session, line_id: int, *, actor: str, reason: str) -> int:
    """Undo a line's match; what reconciliation posted for it is reversed. Returns the
    undone match's id."""
    actor = checks.required_text(actor, "actor", max_length=200)
    reason = checks.required_text(reason, "reason", max_length=1000)
    record, account = _prepare(session, line_id)
    match = _active_match(session, line_id)
    if match is None:
        raise Conflict(f"statement line {line_id} is not matched", code="line_not_matched")
    parts = list(session.scalars(select(ReconciliationMatchPart).where(ReconciliationMatchPart.match_id == match.id)))
    reversed_ids = []
    for part in parts:
        part.active_entry_id = None
        if part.posted_here:
            result = reverse_entry(
                session, part.entry_id, entry_date=record.posted_on, idempotency_key=f"unmatch:match-{match.id}:entry-{part.entry_id}",
                created_by=actor, description=f"Unmatched from statement line {line_id}: {reason}"[:500],
            )  # fmt: skip
            reversed_ids.append(result.entry.id)
    match.active_line_id = None
    match.undone_at = utcnow()
    match.undone_by = actor
    match.undo_reason = reason
    session.flush()
    event(session, account.holder_id, "unmatch", actor, account_id=account.id, line_id=line_id, match_id=match.id, reason=reason,
          reversals=reversed_ids)  # fmt: skip
    return match.id or 0


# --- split --------------------------------------------------------------------------------


def split_line(session: Session, line_id: int, parts: Sequence[SplitPart], *, actor: str, reason: str) -> int:
    """Post a line as several parts (categories, or budgets on the client bank account),
    replacing what reconciliation posted for it. Returns the new match id."""
    actor = checks.required_text(actor, "actor", max_length=200)
    reason = checks.required_text(reason, "reason", max_length=1000)
    record, account = _prepare(session, line_id)
    scope = scope_of(session, account)
    match = _active_match(session, line_id)
    if match is not None:
        if match.method not in MatchMethod.POSTING_HERE:
            raise Conflict(f"line {line_id} stands for entries recorded elsewhere; unmatch it before splitting", code="line_already_matched")
        unmatch_line(session, line_id, actor=actor, reason=f"split: {reason}")
    line = _as_line(session, record)
    checked = _checked_parts(scope, line, parts)
    holder_id = account.holder_id
    categories = {p.category: category_by_code(session, holder_id, p.category, field=f"parts[{i}].category") for i, p in enumerate(checked) if p.category}
    budget_ids = sorted({p.budget_id for p in checked if p.budget_id is not None})
    spend = spend_accounts(session, holder_id, {(p.budget_id, categories[p.category].id) for p in checked if p.category and p.budget_id})  # type: ignore[misc]
    fixed = {
        (b, k): a
        for b, k, a in session.execute(
            select(Account.budget_id, Account.kind, Account.id).where(Account.budget_id.in_(budget_ids), Account.kind.in_([AccountKind.CARD, AccountKind.CASH, AccountKind.FEES]))
        )
    }
    generation = session.scalar(select(func.count()).select_from(ReconciliationMatch).where(ReconciliationMatch.statement_line_id == line_id)) or 0
    sign = -1 if line.amount_pence < 0 else 1
    entries, decided_parts = [], []
    for index, part in enumerate(checked):
        assert part.budget_id is not None
        holding = fixed[(part.budget_id, AccountKind.CARD if scope.kind == StatementKind.CARD else AccountKind.CASH)]
        category = categories.get(part.category) if part.category else None
        other = fixed[(part.budget_id, AccountKind.FEES)] if part.fee else spend[(part.budget_id, category.id)]  # type: ignore[union-attr]
        pence = sign * part.amount_pence
        what = "Fee" if part.fee else f"{category.name}"  # type: ignore[union-attr]
        entries.append(
            NewEntry(
                book_id=holder_id, entry_date=line.posted_on,
                description=f"{what}: {line.merchant.strip()[:200]} ({format_gbp(part.amount_pence)}, part {index + 1} of {len(checked)})"[:500],
                idempotency_key=f"reconcile-split:account-{line.account_id}:{line.dedupe_key}:{generation}:{index}",
                postings=(NewPosting(holding, pence), NewPosting(other, -pence)),
                kind=EntryKind.FEE if part.fee else (EntryKind.CARD_REFUND if sign > 0 else EntryKind.CARD_PURCHASE if scope.kind == StatementKind.CARD else EntryKind.BANK_SPEND),
                provenance=line.provenance(), created_by=actor,
            )  # fmt: skip
        )
        decided_parts.append((part.budget_id, pence, category))
    results = post_entries(session, entries)
    decided = Decided(line, MatchMethod.SPLIT, [(r.entry.id, pence, budget, True) for r, (budget, pence, _c) in zip(results, decided_parts)])
    match_id = record_matches(session, holder_id, [decided], actor=actor, created_by=actor)[0]
    part_rows = list(session.scalars(select(ReconciliationMatchPart).where(ReconciliationMatchPart.match_id == match_id).order_by(ReconciliationMatchPart.id)))
    key = merchant_key(line.merchant)[:200]
    for row, (budget, _pence, category) in zip(part_rows, decided_parts):
        if category is not None:
            session.add(
                Categorisation(
                    match_part_id=row.id, budget_id=budget, category_id=category.id, merchant_key=key, rule_id=PERSON_RULE[0],
                    rule_version=PERSON_RULE[1], decided_by=actor, by_person=True, entry_id=row.entry_id,
                )  # fmt: skip
            )
    event(session, holder_id, "split", actor, account_id=account.id, line_id=line_id, match_id=match_id, reason=reason,
          parts=[{"budget_id": p.budget_id, "pence": p.amount_pence, "category": p.category, "fee": p.fee} for p in checked])  # fmt: skip
    session.flush()
    return match_id


def _checked_parts(scope, line: Line, parts: Sequence[SplitPart]) -> list[SplitPart]:  # type: ignore[no-untyped-def]
    if not 1 <= len(parts) <= SPLIT_PARTS_MAX:
        raise InvalidInput(f"a split has 1 to {SPLIT_PARTS_MAX} parts", code="split_parts_count", field="parts")
    checked = []
    for index, part in enumerate(parts):
        where = f"parts[{index}]"
        if type(part.amount_pence) is not int or part.amount_pence <= 0:
            raise InvalidInput(f"{where}.amount must be more than £0.00", code="amount_not_positive", field=f"{where}.amount")
        if part.fee == (part.category is not None):
            raise InvalidInput(f"{where}: give a category, or mark it a fee", code="split_part_kind", field=f"{where}.category")
        budget_id = part.budget_id if scope.kind == StatementKind.CLIENT_BANK else scope.budget_id
        if budget_id is None:
            raise InvalidInput(f"{where}.budget_id: a client bank account line is split over budgets", code="budget_required", field=f"{where}.budget_id")
        if scope.kind != StatementKind.CLIENT_BANK and part.budget_id not in (None, scope.budget_id):
            raise InvalidInput(f"{where}.budget_id: this statement is one budget's", code="budget_not_this_statement", field=f"{where}.budget_id")
        checked.append(SplitPart(part.amount_pence, part.category, budget_id, part.fee))
    total = sum(p.amount_pence for p in checked)
    if total != abs(line.amount_pence):
        raise InvalidInput(
            f"the parts come to {format_gbp(total)}; the line is {format_gbp(abs(line.amount_pence))}",
            code="split_amount_mismatch", field="parts",
        )  # fmt: skip
    if scope.kind == StatementKind.CLIENT_BANK and line.amount_pence > 0:
        raise InvalidInput("money in on the client bank account is a funder's payment: match it to receivables", code="split_not_for_money_in", field="parts")
    return checked


# --- re-categorise ------------------------------------------------------------------------


def recategorise(session: Session, line_id: int, category: str, *, actor: str, reason: str, part_id: int | None = None) -> int:
    """Move a matched spend to another category: an entry moves the money, a categorisation
    records who decided. Returns the categorisation id."""
    actor = checks.required_text(actor, "actor", max_length=200)
    reason = checks.required_text(reason, "reason", max_length=1000)
    record, account = _prepare(session, line_id)
    match = _active_match(session, line_id)
    if match is None:
        raise Conflict(f"statement line {line_id} is not matched yet: match it to a category instead", code="line_not_matched")
    parts = list(session.scalars(select(ReconciliationMatchPart).where(ReconciliationMatchPart.match_id == match.id).order_by(ReconciliationMatchPart.id)))
    if part_id is not None:
        parts = [p for p in parts if p.id == part_id]
    if len(parts) != 1 or parts[0].budget_id is None:
        raise InvalidInput("name the part to re-categorise (part_id): this line has several, or none in one budget", code="part_required", field="part_id")
    part = parts[0]
    budget = session.get(Budget, part.budget_id)
    assert budget is not None
    new = category_by_code(session, budget.holder_id, category, field="category")
    old_category_id = _current_category(session, part)
    if old_category_id is None:
        raise Conflict(f"line {line_id} is not a spend (it stands for {match.method})", code="not_a_spend")
    if new.code == UNCATEGORISED_CATEGORY[0]:
        raise InvalidInput("choose the category the spend belongs to", code="category_not_plannable", field="category")
    if old_category_id == new.id:
        raise Conflict(f"line {line_id} is already in {new.code}", code="already_in_category")
    spend = spend_accounts(session, budget.holder_id, {(budget.id, old_category_id), (budget.id, new.id)})  # type: ignore[arg-type]
    moved = -part.amount_pence  # what the spend account was debited
    count = session.scalar(select(func.count()).select_from(Categorisation).where(Categorisation.match_part_id == part.id)) or 0
    posted = post_entry(
        session,
        NewEntry(
            book_id=budget.holder_id, entry_date=record.posted_on,
            description=f"Re-categorised to {new.name.lower()}: {(record.payee or record.description).strip()[:200]} ({format_gbp(abs(moved))}): {reason}"[:500],
            idempotency_key=f"recategorise:part-{part.id}:{count}",
            postings=(NewPosting(spend[(budget.id, new.id)], moved), NewPosting(spend[(budget.id, old_category_id)], -moved)),  # type: ignore[index]
            kind=EntryKind.RECATEGORISATION, created_by=actor,
        ),  # fmt: skip
    )
    key = merchant_key(record.payee or record.description)[:200]
    row = Categorisation(
        match_part_id=part.id, budget_id=budget.id, category_id=new.id, merchant_key=key, rule_id=PERSON_RULE[0],
        rule_version=PERSON_RULE[1], decided_by=actor, by_person=True, entry_id=posted.entry.id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    event(session, budget.holder_id, "recategorise", actor, account_id=account.id, line_id=line_id, match_id=match.id,
          reason=reason, category=new.code, entry=posted.entry.id)  # fmt: skip
    learned = _learn(session, budget.holder_id, key, new.id, actor)  # type: ignore[arg-type]
    if learned is not None:
        event(session, budget.holder_id, "rule_learned", actor, account_id=account.id, line_id=line_id, rule=learned.rule_key, pattern=key, category=new.code)
    _close_uncategorised(session, part.entry_id, new.name)
    return row.id or 0


def _current_category(session: Session, part: ReconciliationMatchPart) -> int | None:
    latest = session.scalar(
        select(Categorisation.category_id).where(Categorisation.match_part_id == part.id).order_by(Categorisation.id.desc()).limit(1)
    )
    if latest is not None:
        return latest
    return session.scalar(
        select(Account.category_id)
        .join(Posting, Posting.account_id == Account.id)
        .where(Posting.entry_id == part.entry_id, Account.kind == AccountKind.SPEND)
        .limit(1)
    )


def _learn(session: Session, holder_id: int, key: str, category_id: int, actor: str) -> CategoryRule | None:
    if not key:
        return None
    alike = session.scalar(
        select(func.count(func.distinct(Categorisation.match_part_id)))
        .join(Budget, Budget.id == Categorisation.budget_id)
        .where(Budget.holder_id == holder_id, Categorisation.by_person.is_(True), Categorisation.merchant_key == key, Categorisation.category_id == category_id)
    )
    if (alike or 0) < LEARN_AFTER:
        return None
    standing = session.scalars(
        select(CategoryRule).where(CategoryRule.holder_id == holder_id, CategoryRule.match_on == MatchOn.MERCHANT, CategoryRule.pattern == key, CategoryRule.retired_at.is_(None))
    ).all()
    if any(rule.category_id == category_id for rule in standing):
        return None
    for rule in standing:
        if rule.origin == RuleOrigin.HOLDER:
            return None  # the holder's own rule says otherwise: people's choices do not override it
        rule.retired_at, rule.retired_by = utcnow(), f"learned again ({actor})"[:200]
    number = (session.scalar(select(func.count()).select_from(CategoryRule).where(CategoryRule.holder_id == holder_id)) or 0) + 1
    rule = CategoryRule(
        holder_id=holder_id, rule_key=f"learned-{number}", version=1, match_on=MatchOn.MERCHANT, pattern=key,
        category_id=category_id, origin=RuleOrigin.LEARNED, created_by=actor,
    )  # fmt: skip
    session.add(rule)
    session.flush()
    return rule


def _close_uncategorised(session: Session, entry_id: int, category_name: str) -> None:
    from ledger.flags.workflow import close_by_system
    from ledger.store.tables.flags import Flag

    for flag in session.scalars(select(Flag).where(Flag.entry_id == entry_id, Flag.code == "UNCATEGORISED", Flag.state != "closed")):
        close_by_system(session, flag.id, f"categorised by hand as {category_name.lower()}")


__all__ = ["ReceivablesProposal", "SplitPart", "match_line", "recategorise", "split_line", "unmatch_line"]
