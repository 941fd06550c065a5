"""The flag catalogue: each flag's stable code and severity, the built-in thresholds a funder
may change, a flag before it is stored, and what every rule reads once per run (each funder's
settings and its own copy of the spend checks)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import EntryKind
from ledger.rules import SpendChecks, load_spend_checks, shipped_spend_checks
from ledger.store.tables import Budget
from ledger.store.tables.flags import FlagSettings, FunderRuleSet

BUILTIN_RULES_VERSION = "builtin:2026.1"
DEFAULT_LARGE_SPEND_PENCE = 50_000
DEFAULT_DUPLICATE_WINDOW_DAYS = 1
DEFAULT_OVER_PLAN_TOLERANCE_BASIS_POINTS = 500
RECEIPT_KINDS = ("receipt", "invoice", "timesheet")
"""Evidence that answers for a large spend."""
# Spend that can be out of plan or uncategorised; a contingency use is an agreed decision
# (reason, who agreed it, when) and is not second-guessed here.
SPEND_ENTRY_KINDS = frozenset(
    {
        EntryKind.CARD_PURCHASE, EntryKind.BANK_SPEND, EntryKind.PAYABLE_APPROVED, EntryKind.NOTIONAL_COST,
        EntryKind.TRANSITION_SPEND, EntryKind.RECATEGORISATION, EntryKind.MANUAL,
    }
)  # fmt: skip
CONTINGENCY_DRAWN_WITH_LEAVE = frozenset({EntryKind.CONTINGENCY_RETURN, EntryKind.CONTINGENCY_RING_FENCE, EntryKind.REVERSAL})


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


class RuleContext:
    """What the rules read once per run: each funder's settings and spend checks."""

    def __init__(self, session: Session, budgets: dict[int, Budget]) -> None:
        self.session = session
        self.budgets = budgets
        funders = sorted({b.lead_funder_id for b in budgets.values()})
        self.settings = settings_of(session, funders)
        self.checks = spend_checks_of(session, funders)

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
