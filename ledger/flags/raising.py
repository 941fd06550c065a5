"""The rules that raise flags (the catalogue: ``ledger.flags.catalogue``; the rules over the
ledger: ``ledger.flags.ledger_rules``; what happens after: ``ledger.flags.workflow``).

Each flag has a stable code, a severity, the rule and version that raised it, a reason in
plain English, and a cause key: the statement line, entry, budget and quarter, or import it is
about. The key is unique, so running the rules again raises nothing new — one flag per cause.

The goods are excluded, not the place (DESIGN.md §1): codes that sell little but excluded
goods are ``EXCLUDED_*``; venues where people may well spend well (a pub) ask for an
explanation (``CHECK_VENUE``). Pacing ahead of a plan line is never a flag: ``OVER_PLAN_LINE``
compares spend with the line's whole amount for the plan period, not pro rata.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ledger.budgets.plans import london_date
from ledger.core import journal_rows
from ledger.core.journal import lock_book
from ledger.core.journal_rows import chunks
from ledger.core.money import format_gbp
from ledger.core.vocabulary import AccountKind, PlanStatus
from ledger.flags.catalogue import (
    BUILTIN_RULES_VERSION,
    DEFAULT_DUPLICATE_WINDOW_DAYS,
    DEFAULT_LARGE_SPEND_PENCE,
    DEFAULT_OVER_PLAN_TOLERANCE_BASIS_POINTS,
    RECEIPT_KINDS,
    SEVERITY,
    FlagCode,
    FlagRun,
    NewFlag,
    RuleContext,
    Settings,
    Severity,
    settings_of,
    spend_checks_of,
)
from ledger.flags.ledger_rules import balance_flags, contingency_flags, review_flags, spend_posting_flags, surplus_flags
from ledger.flags.states import FlagState
from ledger.rules import merchant_key
from ledger.store.tables import Account, Budget, Posting, SupportPlanVersion
from ledger.store.tables.flags import Evidence, Flag
from ledger.store.tables.reconciliation import ReconciliationMatch, ReconciliationMatchPart
from ledger.store.tables.statements import StatementLineRecord

__all__ = [
    "BUILTIN_RULES_VERSION", "DEFAULT_DUPLICATE_WINDOW_DAYS", "DEFAULT_LARGE_SPEND_PENCE", "DEFAULT_OVER_PLAN_TOLERANCE_BASIS_POINTS",
    "SEVERITY", "FlagCode", "FlagRun", "FlagState", "NewFlag", "Settings", "Severity", "SpendLine", "raise_flags", "settings_of",
    "spend_checks_of", "store_flags",
]  # fmt: skip


def raise_flags(
    session: Session,
    holder_id: int,
    *,
    line_ids: Sequence[int] | None = None,
    budget_ids: Sequence[int] | None = None,
    as_of: date | None = None,
    actor: str = "system",
    dated_rules: bool | None = None,
    entry_ids: Sequence[int] | None = None,
    spend_lines: Sequence[SpendLine] = (),
) -> FlagRun:
    """Run the rules for one holder: the line rules over ``line_ids`` (every matched line
    when None), the budget rules over the budgets those lines touch plus ``budget_ids``
    (every budget of the holder when both are None). The rules that change with the date —
    surplus held, reviews overdue — run when ``dated_rules`` (by default, when no lines are
    given: the daily run, ``flags --run``); a reconciliation leaves them to those. With
    ``entry_ids`` (what a reconciliation just posted or matched) only those entries are
    looked at for uncategorised and out-of-plan spend, and ``spend_lines`` are purchases it
    already knows (the rest of ``line_ids`` are read). Returns how many flags are new."""
    today = as_of or london_date(datetime.now(UTC).replace(tzinfo=None))
    lock_book(session, holder_id)
    budgets = {b.id: b for b in session.scalars(select(Budget).where(Budget.holder_id == holder_id)) if b.id is not None}
    context = RuleContext(session, budgets)
    known = {line.id for line in spend_lines}
    to_read = None if line_ids is None else [line_id for line_id in line_ids if line_id not in known]
    read = _spend_lines(session, holder_id, to_read) if to_read is None or to_read else []
    spend_lines = sorted([*spend_lines, *(line for line in read if line.id not in known)], key=lambda line: (line.posted_on, line.dedupe_key))
    found: list[NewFlag] = []
    found += _line_flags(context, spend_lines)
    found += _duplicate_flags(session, context, spend_lines)
    touched = {line.budget_id for line in spend_lines if line.budget_id is not None}
    if budget_ids is not None:
        touched.update(budget_ids)
    elif line_ids is None:
        touched.update(budgets)
    if touched:
        ids = sorted(touched)
        found += spend_posting_flags(context, ids, entry_ids)
        found += contingency_flags(session, budgets, ids)
        if line_ids is None if dated_rules is None else dated_rules:
            found += surplus_flags(session, holder_id, budgets, ids, today)
            found += review_flags(session, holder_id, set(ids), today)
    found += balance_flags(session, holder_id, line_ids)
    raised = store_flags(session, holder_id, found, budgets, actor)
    return FlagRun(raised, len(found))


# --- statement lines --------------------------------------------------------------------


class SpendLine(NamedTuple):
    """A matched purchase on a card or a budget's own bank account, as the line rules see it."""

    id: int
    account_id: int
    budget_id: int | None
    entry_id: int | None
    posted_on: date
    amount_pence: int
    mcc: str | None
    merchant: str
    dedupe_key: str


def _spend_lines(session: Session, holder_id: int, line_ids: Sequence[int] | None) -> list[SpendLine]:
    """Matched money-out lines on cards and budgets' own bank accounts that bought
    something (their entry puts money into a spend category): not fees, loads or payments of
    wages approved before."""
    spend_account = aliased(Account)
    query = (
        select(
            StatementLineRecord.id, StatementLineRecord.account_id, Account.budget_id, ReconciliationMatchPart.entry_id,
            StatementLineRecord.posted_on, StatementLineRecord.amount_pence, StatementLineRecord.mcc,
            StatementLineRecord.payee, StatementLineRecord.description, StatementLineRecord.dedupe_key,
        )
        .join(ReconciliationMatch, ReconciliationMatch.active_line_id == StatementLineRecord.id)
        .join(ReconciliationMatchPart, ReconciliationMatchPart.match_id == ReconciliationMatch.id)
        .join(Account, Account.id == StatementLineRecord.account_id)
        .where(
            Account.kind.in_([AccountKind.CARD, AccountKind.CASH]),
            StatementLineRecord.amount_pence < 0,
            StatementLineRecord.is_fee.is_(False),
            ReconciliationMatch.method != "fee",
            select(Posting.entry_id)
            .join(spend_account, spend_account.id == Posting.account_id)
            .where(Posting.entry_id == ReconciliationMatchPart.entry_id, spend_account.kind == AccountKind.SPEND, Posting.amount_pence > 0)
            .exists(),
        )
    )  # fmt: skip
    rows: dict[int, SpendLine] = {}
    batches = [None] if line_ids is None else list(chunks(sorted(set(line_ids))))
    for batch in batches:
        # Given lines, the query starts from them (a holder's every match is not read once a
        # batch); otherwise from the holder's matches.
        batch_query = query.where(ReconciliationMatch.holder_id == holder_id) if batch is None else query.where(StatementLineRecord.id.in_(batch))
        for row in session.execute(batch_query):
            line_id, account_id, budget_id, entry_id, posted_on, amount, mcc, payee, description, key = row
            if line_id not in rows:  # a split line: its first part stands for it
                rows[line_id] = SpendLine(line_id, account_id, budget_id, entry_id, posted_on, amount, mcc, payee or description, key)
    return sorted(rows.values(), key=lambda line: (line.posted_on, line.dedupe_key))


def _line_flags(context: RuleContext, lines: list[SpendLine]) -> list[NewFlag]:
    found: list[NewFlag] = []
    receipts = _lines_with_receipts(context.session, [line.id for line in lines])
    cash_allowance = _cash_allowances(context.session, {line.budget_id for line in lines if line.budget_id})
    cash_by_day: dict[tuple[int, date], int] = defaultdict(int)
    for line in lines:
        spent = -line.amount_pence
        hits = context.checks_for(line.budget_id).check(line.mcc, line.merchant)
        settings = context.settings_for(line.budget_id)
        large = spent > settings.large_spend_pence and line.id not in receipts
        if not hits and not large:
            continue
        where = f"{format_gbp(spent)} at {line.merchant.strip() or 'an unnamed merchant'} on {line.posted_on:%d %B %Y}"
        for hit in hits:
            code = FlagCode(hit.code)
            reason = f"{where}: {hit.reason}"
            if code is FlagCode.CASH_WITHDRAWAL:
                cash_by_day[(line.account_id, line.posted_on)] += spent
                cap = cash_allowance.get(line.budget_id or 0)
                if cap is not None and cash_by_day[(line.account_id, line.posted_on)] <= cap:
                    continue
                reason = f"{where}: " + (
                    "the plan does not allow cash withdrawals." if cap is None
                    else f"cash withdrawn that day comes to more than the plan's daily limit of {format_gbp(cap)}."
                )  # fmt: skip
            found.append(_line_flag(line, code, reason, hit.rule_id, hit.rule_version, hit.severity))
        if large:
            reason = f"{where}: more than {format_gbp(settings.large_spend_pence)} with no receipt attached."
            found.append(_line_flag(line, FlagCode.LARGE_SPEND, reason, "large-spend", settings.version))
    return found


def _line_flag(line: SpendLine, code: FlagCode, reason: str, rule_id: str, rule_version: str, severity: str | None = None) -> NewFlag:
    return NewFlag(
        f"{code}:line-{line.id}", code, line.budget_id, reason, line.posted_on, rule_id, rule_version,
        amount_pence=-line.amount_pence, account_id=line.account_id, statement_line_id=line.id, entry_id=line.entry_id,
        severity=severity,
    )  # fmt: skip


def _lines_with_receipts(session: Session, line_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(sorted(line_ids)):
        found.update(
            session.scalars(select(Evidence.statement_line_id).where(Evidence.statement_line_id.in_(chunk), Evidence.kind.in_(RECEIPT_KINDS)))
        )
    return found


def _cash_allowances(session: Session, budget_ids: set[int | None]) -> dict[int, int]:
    """The daily cash cap of each budget's latest agreed plan (absent: no cash allowed)."""
    found: dict[int, int] = {}
    wanted = sorted(b for b in budget_ids if b)
    if not wanted:
        return found
    query = (
        select(SupportPlanVersion.budget_id, SupportPlanVersion.cash_withdrawal_daily_cap_pence)
        .where(SupportPlanVersion.budget_id.in_(wanted), SupportPlanVersion.status == PlanStatus.AGREED)
        .order_by(SupportPlanVersion.budget_id, SupportPlanVersion.version)
    )
    for budget_id, cap in session.execute(query):
        if cap is None:
            found.pop(budget_id, None)
        else:
            found[budget_id] = cap
    return found


def _duplicate_flags(session: Session, context: RuleContext, lines: list[SpendLine]) -> list[NewFlag]:
    """The same merchant and amount on the same account within the funder's window: the
    later one (in date, then line order) asks whether it was charged twice."""
    if not lines:
        return []
    windows = {line.budget_id: context.settings_for(line.budget_id).duplicate_window_days for line in lines}
    widest = max(windows.values())
    accounts = sorted({line.account_id for line in lines})
    first, last = min(line.posted_on for line in lines), max(line.posted_on for line in lines)
    neighbours = _spend_lines_between(session, accounts, first - timedelta(days=widest), last + timedelta(days=widest))
    groups: dict[tuple[int, int, str], list[tuple[date, str, int]]] = defaultdict(list)
    for account_id, line_id, posted_on, amount, text, key in neighbours:
        groups[(account_id, amount, merchant_key(text))].append((posted_on, key, line_id))
    for group in groups.values():
        group.sort()
    found = []
    for line in lines:
        group = groups.get((line.account_id, line.amount_pence, merchant_key(line.merchant)), [])
        window = windows[line.budget_id]
        earlier = [
            other for other in group
            if other[2] != line.id and (other[0], other[1]) < (line.posted_on, line.dedupe_key)
            and (line.posted_on - other[0]).days <= window
        ]  # fmt: skip
        if earlier:
            reason = (
                f"{format_gbp(-line.amount_pence)} at {line.merchant.strip()} on {line.posted_on:%d %B %Y}, the same amount at the"
                f" same place as on {earlier[-1][0]:%d %B %Y}: was it charged twice?"
            )
            found.append(_line_flag(line, FlagCode.DUPLICATE_SPEND, reason, "duplicate-spend", context.settings_for(line.budget_id).version))
    return found


def _spend_lines_between(session: Session, account_ids: list[int], first: date, last: date) -> list[tuple[int, int, date, int, str, str]]:
    rows = []
    for chunk in chunks(account_ids):
        query = select(
            StatementLineRecord.account_id, StatementLineRecord.id, StatementLineRecord.posted_on, StatementLineRecord.amount_pence,
            func.coalesce(StatementLineRecord.payee, StatementLineRecord.description), StatementLineRecord.dedupe_key,
        ).where(
            StatementLineRecord.account_id.in_(chunk), StatementLineRecord.posted_on.between(first, last),
            StatementLineRecord.amount_pence < 0, StatementLineRecord.is_fee.is_(False),
        )  # fmt: skip
        rows.extend(tuple(row) for row in session.execute(query))
    return rows


# --- storing ------------------------------------------------------------------------------

FLAG_COLUMNS = (
    "id", "cause_key", "holder_id", "budget_id", "funder_id", "code", "severity", "rule_id", "rule_version", "reason",
    "amount_pence", "occurred_on", "account_id", "statement_line_id", "entry_id", "state", "raised_at", "state_changed_at",
)  # fmt: skip
EVENT_COLUMNS = ("flag_id", "action", "from_state", "to_state", "actor", "actor_role", "evidence_ids", "at")


def store_flags(session: Session, holder_id: int, flags: list[NewFlag], budgets: dict[int, Budget], actor: str) -> int:
    """Insert the flags whose cause has none yet, each with its first history event."""
    if not flags:
        return 0
    unique = {flag.cause_key: flag for flag in flags}
    existing: set[str] = set()
    keys = sorted(unique)
    for chunk in chunks(keys):
        existing.update(session.scalars(select(Flag.cause_key).where(Flag.cause_key.in_(chunk))))
    new = [unique[key] for key in keys if key not in existing]
    if not new:
        return 0
    encode_date, encode_timestamp = journal_rows.date_encoder(session)
    now = encode_timestamp(datetime.now(UTC).replace(tzinfo=None))
    ids = journal_rows.reserve_ids(session, "flag", len(new))
    rows = [
        (
            flag_id, flag.cause_key, holder_id, flag.budget_id,
            budgets[flag.budget_id].lead_funder_id if flag.budget_id in budgets else None,
            str(flag.code), str(flag.severity or SEVERITY[flag.code]), flag.rule_id[:80], flag.rule_version[:80], flag.reason,
            flag.amount_pence, encode_date(flag.occurred_on), flag.account_id, flag.statement_line_id, flag.entry_id,
            str(FlagState.OPEN), now, now,
        )  # fmt: skip
        for flag_id, flag in zip(ids, new)
    ]
    # Under the holder's book lock no one else raises flags for these causes meanwhile; the
    # unique cause key is the database's guarantee.
    journal_rows.insert_rows(session, "flag", FLAG_COLUMNS, rows)
    events = [(flag_id, "raised", None, str(FlagState.OPEN), actor[:200], "system", "[]", now) for flag_id in ids]
    journal_rows.insert_rows(session, "flag_event", EVENT_COLUMNS, events)
    return len(ids)
