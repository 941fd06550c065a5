"""Each funder's own spend-check rules and flag thresholds. A funder edits a copy: every save
is the next version of its own rule set, validated like the shipped one; the shipped default
(``ledger/rules/data``) is never changed in place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.parties import get_funder
from ledger.core import checks
from ledger.flags.raising import Settings, settings_of
from ledger.rules import load_spend_checks, shipped_spend_checks
from ledger.store.tables.base import utcnow
from ledger.store.tables.flags import FlagSettings, FunderRuleSet

LARGE_SPEND_PENCE_MAX = 10_000_000
DUPLICATE_WINDOW_DAYS_MAX = 14
TOLERANCE_BASIS_POINTS_MAX = 5_000


def save_spend_checks(session: Session, funder_id: int, definition: str, *, created_by: str, note: str | None = None) -> FunderRuleSet:
    funder = get_funder(session, funder_id)
    author = checks.required_text(created_by, "created_by", max_length=200)
    load_spend_checks(definition, origin=f"funder-{funder.id}")  # refuses a bad definition, naming the entry
    latest = session.scalar(select(func.max(FunderRuleSet.version)).where(FunderRuleSet.funder_id == funder.id)) or 0
    shipped = shipped_spend_checks()
    row = FunderRuleSet(
        funder_id=funder.id, version=latest + 1, definition=definition,
        based_on=f"funder-{funder.id}-v{latest}" if latest else f"shipped:{shipped.version}",
        note=checks.text(note, "note", max_length=1000, required=False), created_by=author,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def spend_check_versions(session: Session, funder_id: int) -> list[FunderRuleSet]:
    get_funder(session, funder_id)
    return list(session.scalars(select(FunderRuleSet).where(FunderRuleSet.funder_id == funder_id).order_by(FunderRuleSet.version)))


@dataclass(frozen=True, slots=True)
class FunderSettings:
    funder_id: int
    settings: Settings
    is_default: bool


def flag_settings(session: Session, funder_id: int) -> FunderSettings:
    get_funder(session, funder_id)
    found = settings_of(session, [funder_id]).get(funder_id)
    return FunderSettings(funder_id, found or Settings(), found is None)


def set_flag_settings(
    session: Session, funder_id: int, *, large_spend_pence: int, duplicate_window_days: int, over_plan_tolerance_basis_points: int, updated_by: str
) -> FunderSettings:
    get_funder(session, funder_id)
    checks.whole_number(large_spend_pence, "large_spend", minimum=1, maximum=LARGE_SPEND_PENCE_MAX)
    checks.whole_number(duplicate_window_days, "duplicate_window_days", minimum=0, maximum=DUPLICATE_WINDOW_DAYS_MAX)
    checks.whole_number(over_plan_tolerance_basis_points, "over_plan_tolerance_basis_points", minimum=0, maximum=TOLERANCE_BASIS_POINTS_MAX)
    author = checks.required_text(updated_by, "updated_by", max_length=200)
    row = session.get(FlagSettings, funder_id)
    if row is None:
        row = FlagSettings(funder_id=funder_id, large_spend_pence=0, duplicate_window_days=0, over_plan_tolerance_basis_points=0, updated_by=author)
        session.add(row)
    row.large_spend_pence, row.duplicate_window_days = large_spend_pence, duplicate_window_days
    row.over_plan_tolerance_basis_points, row.updated_by, row.updated_at = over_plan_tolerance_basis_points, author, utcnow()
    session.flush()
    return flag_settings(session, funder_id)
