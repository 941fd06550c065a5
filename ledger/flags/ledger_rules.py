"""The flag rules over the ledger rather than statement lines: spend uncategorised or in a
category the plan lacks, a plan line overspent, contingency drawn without a recorded decision,
surplus held, reviews overdue, and a statement's closing balance the ledger does not show."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from ledger.core.journal_rows import chunks
from ledger.core.money import format_gbp
from ledger.core.periods import quarter_of
from ledger.core.vocabulary import UNCATEGORISED_CATEGORY, AccountKind, PlanStatus
from ledger.flags.catalogue import (
    BUILTIN_RULES_VERSION,
    CONTINGENCY_DRAWN_WITH_LEAVE,
    SPEND_ENTRY_KINDS,
    FlagCode,
    NewFlag,
    RuleContext,
    Severity,
)
from ledger.flags.states import FlagState
from ledger.flags.workflow import close_by_system
from ledger.store.tables import Account, Budget, Category, JournalEntry, PlanLine, Posting, SupportPlanVersion
from ledger.store.tables.budget_money import ContingencyUse
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementImport, StatementLineRecord


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


def spend_posting_flags(context: RuleContext, budget_ids: list[int], entry_ids: Sequence[int] | None) -> list[NewFlag]:
    session = context.session
    categories = {c.id: c for c in session.scalars(select(Category))}
    uncategorised = next(c.id for c in categories.values() if c.code == UNCATEGORISED_CATEGORY[0] and c.holder_id is None)
    versions = _agreed_versions(session, budget_ids)
    found: list[NewFlag] = []
    for spend in _spend_postings(session, budget_ids, entry_ids):
        if spend.pence <= 0 or spend.kind not in SPEND_ENTRY_KINDS:
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


def contingency_flags(session: Session, budgets: dict[int, Budget], budget_ids: list[int]) -> list[NewFlag]:
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
            if entry_id in approved or kind in CONTINGENCY_DRAWN_WITH_LEAVE:
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


def surplus_flags(session: Session, holder_id: int, budgets: dict[int, Budget], budget_ids: list[int], today: date) -> list[NewFlag]:
    from ledger.position.figures import SurplusState, holder_positions

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


def review_flags(session: Session, holder_id: int, budget_ids: set[int], today: date) -> list[NewFlag]:
    from ledger.reviews.plan_reviews import reviews_due

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


def balance_flags(session: Session, holder_id: int, line_ids: Sequence[int] | None) -> list[NewFlag]:
    """The latest statement of each account whose closing balance the ledger does not show
    on that day. One flag per statement: when the two come to agree (the rest of its lines
    matched), the flag closes itself."""
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
    from ledger.statements.storing import ledger_balance

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
