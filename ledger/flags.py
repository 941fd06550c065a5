"""The flag catalogue and the rules that raise flags (what happens after: ``ledger.flag_workflow``).

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from ledger.flag_workflow import FlagState
from ledger import journal_rows
from ledger.journal import lock_book
from ledger.journal_rows import chunks
from ledger.money import format_gbp
from ledger.periods import quarter_of
from ledger.plans import london_date
from ledger.rules import SpendChecks, load_spend_checks, merchant_key, shipped_spend_checks
from ledger.tables import Account, Budget, Category, Funder, JournalEntry, PlanLine, Posting, SupportPlanVersion
from ledger.tables.budget_money import ContingencyUse
from ledger.tables.flags import Evidence, Flag, FlagSettings, FunderRuleSet
from ledger.tables.reconciliation import ReconciliationMatch, ReconciliationMatchPart
from ledger.tables.statements import StatementImport, StatementLineRecord
from ledger.vocabulary import UNCATEGORISED_CATEGORY, AccountKind, EntryKind, PlanStatus

BUILTIN_RULES_VERSION = "builtin:2026.1"
DEFAULT_LARGE_SPEND_PENCE = 50_000
DEFAULT_DUPLICATE_WINDOW_DAYS = 1
DEFAULT_OVER_PLAN_TOLERANCE_BASIS_POINTS = 500
RECEIPT_KINDS = ("receipt", "invoice", "timesheet")
"""Evidence that answers for a large spend."""
# Spend that can be out of plan or uncategorised; a contingency use is an agreed decision
# (reason, who agreed it, when) and is not second-guessed here.
_SPEND_ENTRY_KINDS = frozenset(
    {
        EntryKind.CARD_PURCHASE, EntryKind.BANK_SPEND, EntryKind.PAYABLE_APPROVED, EntryKind.NOTIONAL_COST,
        EntryKind.TRANSITION_SPEND, EntryKind.RECATEGORISATION, EntryKind.MANUAL,
    }
)  # fmt: skip
_CONTINGENCY_DRAWN_WITH_LEAVE = frozenset({EntryKind.CONTINGENCY_RETURN, EntryKind.CONTINGENCY_RING_FENCE, EntryKind.REVERSAL})


class FlagCode(StrEnum):
    EXCLUDED_MCC = "EXCLUDED_MCC"
    EXCLUDED_MERCHANT = "EXCLUDED_MERCHANT"
    CHECK_VENUE = "CHECK_VENUE"
    CASH_WITHDRAWAL = "CASH_WITHDRAWAL"
    LARGE_SPEND = "LARGE_SPEND"
    DUPLICATE_SPEND = "DUPLICATE_SPEND"
    OUT_OF_PLAN_CATEGORY = "OUT_OF_PLAN_CATEGORY"
    OVER_PLAN_LINE = "OVER_PLAN_LINE"
    UNCATEGORISED = "UNCATEGORISED"
    CONTINGENCY_WITHOUT_APPROVAL = "CONTINGENCY_WITHOUT_APPROVAL"
    SURPLUS_HELD = "SURPLUS_HELD"
    BALANCE_MISMATCH = "BALANCE_MISMATCH"
    UNREVIEWED = "UNREVIEWED"


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY = {
    FlagCode.EXCLUDED_MCC: Severity.HIGH, FlagCode.EXCLUDED_MERCHANT: Severity.HIGH,
    FlagCode.CHECK_VENUE: Severity.LOW, FlagCode.CASH_WITHDRAWAL: Severity.MEDIUM,
    FlagCode.LARGE_SPEND: Severity.LOW, FlagCode.DUPLICATE_SPEND: Severity.LOW,
    FlagCode.OUT_OF_PLAN_CATEGORY: Severity.MEDIUM, FlagCode.OVER_PLAN_LINE: Severity.MEDIUM,
    FlagCode.UNCATEGORISED: Severity.LOW, FlagCode.CONTINGENCY_WITHOUT_APPROVAL: Severity.HIGH,
    FlagCode.SURPLUS_HELD: Severity.MEDIUM, FlagCode.BALANCE_MISMATCH: Severity.HIGH,
    FlagCode.UNREVIEWED: Severity.MEDIUM,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    large_spend_pence: int = DEFAULT_LARGE_SPEND_PENCE
    duplicate_window_days: int = DEFAULT_DUPLICATE_WINDOW_DAYS
    over_plan_tolerance_basis_points: int = DEFAULT_OVER_PLAN_TOLERANCE_BASIS_POINTS
    version: str = BUILTIN_RULES_VERSION


@dataclass(frozen=True, slots=True)
class NewFlag:
    cause_key: str
    code: FlagCode
    budget_id: int | None
    reason: str
    occurred_on: date
    rule_id: str
    rule_version: str
    amount_pence: int | None = None
    account_id: int | None = None
    statement_line_id: int | None = None
    entry_id: int | None = None
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class FlagRun:
    raised: int
    considered: int


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
    context = _Context(session, budgets)
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
        found += _spend_posting_flags(context, ids, entry_ids)
        found += _contingency_flags(session, budgets, ids)
        if line_ids is None if dated_rules is None else dated_rules:
            found += _surplus_flags(session, holder_id, budgets, ids, today)
            found += _review_flags(session, holder_id, set(ids), today)
    found += _balance_flags(session, holder_id, line_ids)
    raised = store_flags(session, holder_id, found, budgets, actor)
    return FlagRun(raised, len(found))


class _Context:
    """What the rules read once per run: each funder's settings and spend checks."""

    def __init__(self, session: Session, budgets: dict[int, Budget]) -> None:
        self.session = session
        self.budgets = budgets
        funders = sorted({b.lead_funder_id for b in budgets.values()})
        self.settings = settings_of(session, funders)
        self.checks = spend_checks_of(session, funders)
        self.funder_codes = dict(session.execute(select(Funder.id, Funder.code).where(Funder.id.in_(funders))).all()) if funders else {}

    def settings_for(self, budget_id: int | None) -> Settings:
        budget = self.budgets.get(budget_id or 0)
        return self.settings.get(budget.lead_funder_id, Settings()) if budget else Settings()

    def checks_for(self, budget_id: int | None) -> SpendChecks:
        budget = self.budgets.get(budget_id or 0)
        return self.checks.get(budget.lead_funder_id) if budget and budget.lead_funder_id in self.checks else shipped_spend_checks()


def settings_of(session: Session, funder_ids: Iterable[int]) -> dict[int, Settings]:
    rows = session.scalars(select(FlagSettings).where(FlagSettings.funder_id.in_(sorted(set(funder_ids)))))
    return {
        row.funder_id: Settings(
            row.large_spend_pence, row.duplicate_window_days, row.over_plan_tolerance_basis_points,
            f"funder-{row.funder_id}:{row.updated_at:%Y%m%d%H%M%S}",
        )  # fmt: skip
        for row in rows
    }


def spend_checks_of(session: Session, funder_ids: Iterable[int]) -> dict[int, SpendChecks]:
    """Each funder's latest own copy of the spend checks (funders without one use the
    shipped default)."""
    latest = (
        select(FunderRuleSet.funder_id, func.max(FunderRuleSet.version).label("version"))
        .where(FunderRuleSet.funder_id.in_(sorted(set(funder_ids))))
        .group_by(FunderRuleSet.funder_id)
        .subquery()
    )
    rows = session.scalars(
        select(FunderRuleSet).join(latest, and_(latest.c.funder_id == FunderRuleSet.funder_id, latest.c.version == FunderRuleSet.version))
    )
    return {row.funder_id: load_spend_checks(row.definition, origin=f"funder-{row.funder_id}-v{row.version}") for row in rows}


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


def _line_flags(context: _Context, lines: list[SpendLine]) -> list[NewFlag]:
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


def _duplicate_flags(session: Session, context: _Context, lines: list[SpendLine]) -> list[NewFlag]:
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


# --- spend in the ledger ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spend:
    entry_id: int
    budget_id: int
    category_id: int
    entry_date: date
    pence: int
    kind: str


def _spend_postings(session: Session, budget_ids: list[int], entry_ids: Sequence[int] | None = None) -> list[_Spend]:
    """Postings on budgets' spend accounts (of ``entry_ids`` only, if given), leaving out
    entries reversed and reversals."""
    reversal = aliased(JournalEntry)
    query = (
        select(Posting.entry_id, Account.budget_id, Account.category_id, Posting.entry_date, Posting.amount_pence, JournalEntry.kind)
        .join(Account, Account.id == Posting.account_id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(reversal, reversal.reverses_entry_id == JournalEntry.id)
        .where(Account.kind == AccountKind.SPEND, JournalEntry.reverses_entry_id.is_(None), reversal.id.is_(None))
    )
    found = []
    if entry_ids is None:
        for chunk in chunks(budget_ids):
            found.extend(_Spend(*row) for row in session.execute(query.where(Account.budget_id.in_(chunk))))
    else:
        wanted = set(budget_ids)
        for chunk in chunks(sorted(set(entry_ids))):
            found.extend(_Spend(*row) for row in session.execute(query.where(Posting.entry_id.in_(chunk))) if row[1] in wanted)
    return found


def _spend_totals(session: Session, budget_ids: list[int]) -> dict[tuple[int, int], int]:
    """What each budget has spent in each category (a reversal and its original cancel out)."""
    totals: dict[tuple[int, int], int] = {}
    for chunk in chunks(budget_ids):
        query = (
            select(Account.budget_id, Account.category_id, func.sum(Posting.amount_pence))
            .join(Posting, Posting.account_id == Account.id)
            .where(Account.budget_id.in_(chunk), Account.kind == AccountKind.SPEND)
            .group_by(Account.budget_id, Account.category_id)
        )
        totals.update({(budget_id, category_id): int(total) for budget_id, category_id, total in session.execute(query)})
    return totals


@dataclass(frozen=True, slots=True)
class _PlanVersion:
    id: int
    version: int
    effective_from: date
    amounts: dict[int, int]
    """Category id → what the version's lines give it for the plan period."""


def _agreed_versions(session: Session, budget_ids: list[int]) -> dict[int, list[_PlanVersion]]:
    amounts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    versions: dict[int, list[tuple[int, int, date]]] = defaultdict(list)
    for chunk in chunks(budget_ids):
        query = select(SupportPlanVersion.id, SupportPlanVersion.budget_id, SupportPlanVersion.version, SupportPlanVersion.effective_from).where(
            SupportPlanVersion.budget_id.in_(chunk), SupportPlanVersion.status == PlanStatus.AGREED
        )
        for version_id, budget_id, number, effective_from in session.execute(query):
            versions[budget_id].append((version_id, number, effective_from))
    ids = sorted(v for rows in versions.values() for v, _, _ in rows)
    for chunk in chunks(ids):
        query = select(PlanLine.plan_version_id, PlanLine.category_id, func.sum(PlanLine.amount_pence)).where(
            PlanLine.plan_version_id.in_(chunk)
        ).group_by(PlanLine.plan_version_id, PlanLine.category_id)
        for version_id, category_id, total in session.execute(query):
            amounts[version_id][category_id] = int(total)
    return {
        budget_id: [_PlanVersion(v, n, e, dict(amounts[v])) for v, n, e in sorted(rows, key=lambda r: r[1])]
        for budget_id, rows in versions.items()
    }


def _in_force(versions: list[_PlanVersion], day: date) -> _PlanVersion | None:
    """The latest agreed version in force on ``day`` (the first one for spend before it,
    such as transition costs)."""
    in_force = [v for v in versions if v.effective_from <= day]
    return max(in_force, key=lambda v: (v.effective_from, v.version)) if in_force else (versions[0] if versions else None)


def _spend_posting_flags(context: _Context, budget_ids: list[int], entry_ids: Sequence[int] | None) -> list[NewFlag]:
    session = context.session
    categories = {c.id: c for c in session.scalars(select(Category))}
    uncategorised = next(c.id for c in categories.values() if c.code == UNCATEGORISED_CATEGORY[0] and c.holder_id is None)
    versions = _agreed_versions(session, budget_ids)
    found: list[NewFlag] = []
    for spend in _spend_postings(session, budget_ids, entry_ids):
        if spend.pence <= 0 or spend.kind not in _SPEND_ENTRY_KINDS:
            continue
        name = categories[spend.category_id].name
        when = f"{format_gbp(spend.pence)} on {spend.entry_date:%d %B %Y}"
        if spend.category_id == uncategorised:
            found.append(
                NewFlag(
                    f"UNCATEGORISED:entry-{spend.entry_id}", FlagCode.UNCATEGORISED, spend.budget_id,
                    f"{when} has no category yet: say what it was for.", spend.entry_date, "uncategorised", BUILTIN_RULES_VERSION,
                    amount_pence=spend.pence, entry_id=spend.entry_id,
                )  # fmt: skip
            )
            continue
        version = _in_force(versions.get(spend.budget_id, []), spend.entry_date)
        if version is not None and spend.category_id not in version.amounts:
            found.append(
                NewFlag(
                    f"OUT_OF_PLAN_CATEGORY:entry-{spend.entry_id}:category-{spend.category_id}", FlagCode.OUT_OF_PLAN_CATEGORY,
                    spend.budget_id, f"{when} on {name.lower()}, which plan version {version.version} does not include.",
                    spend.entry_date, "out-of-plan-category", BUILTIN_RULES_VERSION, amount_pence=spend.pence, entry_id=spend.entry_id,
                )  # fmt: skip
            )
    for (budget_id, category_id), spent in sorted(_spend_totals(session, budget_ids).items()):
        latest = versions.get(budget_id, [])
        if not latest or category_id == uncategorised:
            continue
        version = latest[-1]
        planned = version.amounts.get(category_id)
        if planned is None:
            continue  # out of plan altogether: flagged above
        tolerance = context.settings_for(budget_id).over_plan_tolerance_basis_points
        allowed = planned + planned * tolerance // 10_000
        if spent > allowed:
            name = categories[category_id].name
            found.append(
                NewFlag(
                    f"OVER_PLAN_LINE:budget-{budget_id}:version-{version.id}:category-{category_id}", FlagCode.OVER_PLAN_LINE,
                    budget_id,
                    f"Spend on {name.lower()} has reached {format_gbp(spent)}, beyond the {format_gbp(planned)} plan version"
                    f" {version.version} gives it for the year (with {tolerance / 100:g}% leeway).",
                    context.budgets[budget_id].period_start, "over-plan-line", context.settings_for(budget_id).version,
                    amount_pence=spent - planned,
                )  # fmt: skip
            )
    return found


def _contingency_flags(session: Session, budgets: dict[int, Budget], budget_ids: list[int]) -> list[NewFlag]:
    """Contingency drawn by anything but a recorded, agreed use."""
    approved = set()
    reversal = aliased(JournalEntry)
    found = []
    for chunk in chunks(budget_ids):
        approved.update(session.scalars(select(ContingencyUse.entry_id).where(ContingencyUse.budget_id.in_(chunk))))
        query = (
            select(Posting.entry_id, Account.budget_id, Posting.entry_date, Posting.amount_pence, JournalEntry.kind)
            .join(Account, Account.id == Posting.account_id)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .outerjoin(reversal, reversal.reverses_entry_id == JournalEntry.id)
            .where(Account.budget_id.in_(chunk), Account.kind == AccountKind.CONTINGENCY, Posting.amount_pence < 0, reversal.id.is_(None))
        )
        for entry_id, budget_id, entry_date, pence, kind in session.execute(query):
            if entry_id in approved or kind in _CONTINGENCY_DRAWN_WITH_LEAVE:
                continue
            found.append(
                NewFlag(
                    f"CONTINGENCY_WITHOUT_APPROVAL:entry-{entry_id}", FlagCode.CONTINGENCY_WITHOUT_APPROVAL, budget_id,
                    f"{format_gbp(-pence)} of {budgets[budget_id].reference}'s contingency was used on {entry_date:%d %B %Y}"
                    " with no recorded decision (reason, who agreed it, when).",
                    entry_date, "contingency-without-approval", BUILTIN_RULES_VERSION, amount_pence=-pence, entry_id=entry_id,
                )  # fmt: skip
            )
    return found


def _surplus_flags(session: Session, holder_id: int, budgets: dict[int, Budget], budget_ids: list[int], today: date) -> list[NewFlag]:
    from ledger.position import SurplusState, holder_positions

    found = []
    wanted = set(budget_ids)
    quarter = quarter_of(today)
    for position in holder_positions(session, holder_id, as_of=today):
        figures = position.figures
        if position.budget_id not in wanted or position.status != "open":
            continue
        state = figures.thresholds.state(figures.weeks_held_tenths)
        if state is SurplusState.OK:
            continue
        limit = figures.thresholds.act_weeks_tenths if state is SurplusState.ACT else figures.thresholds.warn_weeks_tenths
        weeks = (figures.weeks_held_tenths or 0) / 10
        found.append(
            NewFlag(
                f"SURPLUS_HELD:budget-{position.budget_id}:{quarter.label}:{state}", FlagCode.SURPLUS_HELD, position.budget_id,
                f"{position.reference} holds {weeks:g} weeks of its budget ({format_gbp(figures.surplus_pence)} not needed for"
                f" what is committed, contingency or transition), more than {limit / 10:g} weeks:"
                + (" decide what happens to it." if state is SurplusState.ACT else " worth a conversation at the next review."),
                today, "surplus-held", BUILTIN_RULES_VERSION, amount_pence=figures.surplus_pence,
                severity=Severity.HIGH if state is SurplusState.ACT else Severity.MEDIUM,
            )  # fmt: skip
        )
    return found


def _review_flags(session: Session, holder_id: int, budget_ids: set[int], today: date) -> list[NewFlag]:
    from ledger.reviews import reviews_due

    found = []
    for due in reviews_due(session, as_of=today, holder_id=holder_id, include_upcoming_days=0):
        if not due.is_overdue or due.budget_id not in budget_ids:
            continue
        found.append(
            NewFlag(
                f"UNREVIEWED:budget-{due.budget_id}:{due.kind}:{due.due_on.isoformat()}:{due.request_id or 0}", FlagCode.UNREVIEWED,
                due.budget_id, f"{due.reference}: {due.reason} (due {due.due_on:%d %B %Y}) has not been held.",
                due.due_on, "review-overdue", BUILTIN_RULES_VERSION,
            )  # fmt: skip
        )
    return found


def _balance_flags(session: Session, holder_id: int, line_ids: Sequence[int] | None) -> list[NewFlag]:
    """The latest statement of each account whose closing balance the ledger does not show
    on that day. One flag per statement: when the two come to agree (the rest of its lines
    matched), the flag closes itself."""
    from ledger.flag_workflow import close_by_system

    latest = _latest_statements(session, holder_id, line_ids)
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(sorted(latest))))} if latest else {}
    ledger = _ledger_closing(session, list(latest.values()), accounts)
    found = []
    agreeing: dict[str, int] = {}
    for statement in latest.values():
        account = accounts[statement.account_id]
        held, stated = ledger[statement.id], statement.closing_pence
        assert statement.closing_on is not None and stated is not None
        cause = f"BALANCE_MISMATCH:import-{statement.id}"
        if held == stated:
            agreeing[cause] = held
            continue
        found.append(
            NewFlag(
                cause, FlagCode.BALANCE_MISMATCH, account.budget_id,
                f"The statement {statement.file_name} says {account.name} held {format_gbp(stated)} at the end of"
                f" {statement.closing_on:%d %B %Y}; the ledger shows {format_gbp(held)}"
                f" ({format_gbp(abs(held - stated))} {'more' if held > stated else 'less'}) when it was checked.",
                statement.closing_on, "balance-mismatch", BUILTIN_RULES_VERSION, amount_pence=abs(held - stated), account_id=account.id,
            )  # fmt: skip
        )
    for chunk in chunks(sorted(agreeing)):
        for flag in session.scalars(select(Flag).where(Flag.cause_key.in_(chunk), Flag.state != FlagState.CLOSED)):
            close_by_system(session, flag.id or 0, f"the ledger now shows {format_gbp(agreeing[flag.cause_key])}, as the statement does")
    return found


def _latest_statements(session: Session, holder_id: int, line_ids: Sequence[int] | None) -> dict[int, StatementImport]:
    """The latest import with a closing balance of each account (of the lines given)."""
    query = select(StatementImport).where(StatementImport.holder_id == holder_id, StatementImport.closing_pence.is_not(None))
    if line_ids is not None:
        accounts: set[int] = set()
        for chunk in chunks(sorted(set(line_ids))):
            accounts.update(session.scalars(select(StatementLineRecord.account_id).where(StatementLineRecord.id.in_(chunk)).distinct()))
        if not accounts:
            return {}
        query = query.where(StatementImport.account_id.in_(sorted(accounts)))
    latest: dict[int, StatementImport] = {}
    for statement in session.scalars(query.order_by(StatementImport.closing_on, StatementImport.id)):
        latest[statement.account_id] = statement
    return latest


def _ledger_closing(session: Session, statements: list[StatementImport], accounts: dict[int | None, Account]) -> dict[int | None, int]:
    """What the ledger holds on each statement's closing day: one query for all the cards
    (a card's statement shows its one account), ``ledger_balance`` for bank accounts."""
    from ledger.statements import ledger_balance

    found: dict[int | None, int] = {}
    cards = [s.id for s in statements if accounts[s.account_id].kind == AccountKind.CARD]
    for chunk in chunks(sorted(i for i in cards if i is not None)):
        query = (
            select(StatementImport.id, func.coalesce(func.sum(Posting.amount_pence), 0))
            .outerjoin(Posting, and_(Posting.account_id == StatementImport.account_id, Posting.entry_date <= StatementImport.closing_on))
            .where(StatementImport.id.in_(chunk))
            .group_by(StatementImport.id)
        )
        found.update({import_id: int(total) for import_id, total in session.execute(query)})
    for statement in statements:
        if statement.id not in found:
            assert statement.closing_on is not None
            found[statement.id] = ledger_balance(session, accounts[statement.account_id], as_of=statement.closing_on)
    return found


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
