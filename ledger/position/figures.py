"""A budget's position: where its money is, what is left this year, and how many weeks of
support its held funds would pay for (DESIGN.md §1 "Surplus", issue 10 item 9).

Everything comes from the ledger's balances (and the agreed plan in force), so the position
can never disagree with the journal:

- allocated, still to come, held funds, card money, committed, contingency left, top-slice
  taken, fees, spend by category and returned are account balances;
- what was received, what the funder paid directly for notional services, and what of the
  contingency was ring-fenced, used or returned, are the same accounts' postings summed by
  the kind of entry that made them (a reversal counts as the kind it reverses);
- what the plan says (its total, contingency, top-slice and transition lines) is the agreed
  plan version in force on the day asked about.

Money left this year = allocation − spend − fees − top-slice − returned. Approving wages or
an invoice already debits spend, so committed money is outside it (and shown apart). By the
ledger's own balance this equals still to come + held + contingency + card − committed.

Weeks held (DESIGN.md §1) = (held balance − committed − contingency − unspent transition) ÷
weekly amount. The budget's *held balance* is its money in the bank: in the ledger that is
``B:cash`` **plus** ``B:contingency`` (ring-fencing moves money out of ``B:cash`` but not out
of the bank), so with the contingency taken off again the formula reads
``B:cash − committed − unspent transition``. Taking contingency off ``B:cash`` a second time
would count it twice. The weekly amount is (plan total − contingency − top-slice −
transition) spread over the plan period's weeks. Weeks are kept as whole tenths of a week,
worked out in integers (rounded half up), never as a float.

Per funder: accounts that are a funder's own (its receivable, allocation, returned) are
wholly that funder's; every shared figure (held funds, card, committed, spend, contingency,
top-slice, the plan's figures, …) is the funder's pro-rata share of it by what each funder
has allocated, split with ``split_pence``, so the funders' shares of every figure add up
exactly to the budget's. The person counts as a funder for their client contribution.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.budgets.parties import get_funder, get_holder
from ledger.core import checks
from ledger.core.accounts import CONTRIBUTION_CODE
from ledger.core.balances import AccountBalance, FunderKey, budget_balances, funder_shares, holder_balances, totals_by_kind
from ledger.core.money import split_pence
from ledger.core.vocabulary import TRANSITION_CATEGORY, AccountKind, EntryKind, PlanLineKind, PlanStatus
from ledger.errors import InvalidInput
from ledger.loads.runs import PartSchedule, budget_schedule
from ledger.store.tables import Account, Budget, Category, Funder, JournalEntry, PlanLine, Posting, SupportPlanVersion, utcnow
from ledger.store.tables.closing import SurplusThreshold

DEFAULT_WARN_WEEKS_TENTHS = 40
"""Warn when held funds would pay for more than 4 weeks."""
DEFAULT_ACT_WEEKS_TENTHS = 80
"""Act (decide what happens to the surplus) above 8 weeks."""
THRESHOLD_WEEKS_TENTHS_MAX = 520
DAYS_PER_WEEK = 7
TENTHS = 10


class SurplusState(StrEnum):
    OK = "ok"
    WARN = "warn"
    ACT = "act"


@dataclass(frozen=True, slots=True)
class Thresholds:
    warn_weeks_tenths: int = DEFAULT_WARN_WEEKS_TENTHS
    act_weeks_tenths: int = DEFAULT_ACT_WEEKS_TENTHS
    is_default: bool = True

    def state(self, weeks_held_tenths: int | None) -> SurplusState:
        if weeks_held_tenths is None:
            return SurplusState.OK
        if weeks_held_tenths > self.act_weeks_tenths:
            return SurplusState.ACT
        if weeks_held_tenths > self.warn_weeks_tenths:
            return SurplusState.WARN
        return SurplusState.OK


@dataclass(frozen=True, slots=True)
class PlanFigures:
    """What the agreed plan version in force says (all zero before any plan is agreed)."""

    version_id: int | None = None
    total_pence: int = 0
    contingency_pence: int = 0
    top_slice_pence: int = 0
    transition_pence: int = 0
    one_off_pence: int = 0
    """One-off lines other than transition (a hot tub, a car): not recurring costs."""

    def split(self, weights: Sequence[int]) -> list[PlanFigures]:
        columns = [
            split_pence(amount, weights)
            for amount in (self.total_pence, self.contingency_pence, self.top_slice_pence, self.transition_pence, self.one_off_pence)
        ]
        return [PlanFigures(self.version_id, *parts) for parts in zip(*columns, strict=True)]


@dataclass(frozen=True, slots=True)
class MoneyFigures:
    """A budget's (or one funder's share of a budget's) money, all in pence."""

    allocated_pence: int
    received_pence: int
    notional_pence: int
    """Cost of services the funder arranged and paid itself (notional parts)."""
    receivable_pence: int
    """Still to come from the funder(s)."""
    held_pence: int
    """Held funds: ``B:cash``."""
    card_pence: int
    committed_pence: int
    """Approved wages and invoices not yet paid: ``B:payable``."""
    contingency_planned_pence: int
    contingency_ring_fenced_pence: int
    contingency_used_pence: int
    contingency_returned_pence: int
    contingency_left_pence: int
    top_slice_planned_pence: int
    top_slice_taken_pence: int
    transition_planned_pence: int
    transition_spent_pence: int
    transition_left_pence: int
    spent_pence: int
    """All spend, every category (transition included); committed money is in it."""
    spent_by_category: dict[str, int]
    fees_pence: int
    returned_pence: int
    money_left_pence: int
    surplus_pence: int
    """Held funds − committed − unspent transition (contingency has its own account), at
    least zero: what could be returned or reallocated."""
    weekly_amount_pence: int
    weeks_held_tenths: int | None
    """None when the plan spends nothing weekly (nothing to measure against)."""
    thresholds: Thresholds
    surplus_state: SurplusState


@dataclass(frozen=True, slots=True)
class FunderPosition:
    funder_id: int | None
    """None for the person (their client contribution)."""
    funder_code: str
    funder_name: str
    figures: MoneyFigures


@dataclass(frozen=True)
class BudgetPosition:
    budget_id: int
    reference: str
    holder_id: int
    status: str
    period_start: date
    period_end: date
    as_of: date | None
    lead_funder_id: int
    plan_version_id: int | None
    figures: MoneyFigures
    shares: list[FunderPosition] = field(default_factory=list)
    """Per funder share; empty in a holder's list of positions."""
    schedule: list[PartSchedule] = field(default_factory=list)
    """Card loads made and to come; empty in a holder's list of positions."""


KindSums = dict[int, dict[str, int]]
"""Per account id: the debit-positive sum of its postings per kind of entry."""


def budget_position(session: Session, budget_id: int, *, as_of: date | None = None) -> BudgetPosition:
    """One budget's position as at ``as_of`` (default: everything posted), with each
    funder's share and the schedule of card loads."""
    budget = get_budget(session, budget_id)
    shares = funder_shares(session, budget.id, as_of=as_of)
    whole = _whole(shares)
    kind_sums = _kind_sums(session, holder_id=budget.holder_id, budget_id=budget.id, as_of=as_of)
    plan = agreed_plan_in_force(session, budget, as_of)
    funder_ids = [key for key in shares if key is not None] + [budget.lead_funder_id]
    thresholds = thresholds_of(session, funder_ids)
    days = _period_days(budget)
    lead_thresholds = thresholds.get(budget.lead_funder_id, Thresholds())
    figures = money_figures(whole, kind_sums, plan, days, lead_thresholds)
    return BudgetPosition(
        budget_id=budget.id,
        reference=budget.reference,
        holder_id=budget.holder_id,
        status=budget.status,
        period_start=budget.period_start,
        period_end=budget.period_end,
        as_of=as_of,
        lead_funder_id=budget.lead_funder_id,
        plan_version_id=plan.version_id,
        figures=figures,
        shares=_funder_positions(session, budget, shares, kind_sums, plan, days, thresholds, figures),
        schedule=budget_schedule(session, budget.id),
    )


def holder_positions(session: Session, holder_id: int, *, as_of: date | None = None) -> list[BudgetPosition]:
    """Every budget of a holder, by reference: a handful of queries whatever the number of
    budgets (every balance is read at once). Without per-funder shares or schedules: ask
    for one budget's position for those."""
    get_holder(session, holder_id)
    budgets = list(session.execute(select(Budget).where(Budget.holder_id == holder_id).order_by(Budget.reference)).scalars())
    by_budget: dict[int, list[AccountBalance]] = defaultdict(list)
    for balance in holder_balances(session, holder_id, as_of=as_of):
        if balance.budget_id is not None:
            by_budget[balance.budget_id].append(balance)
    kind_sums = _kind_sums(session, holder_id=holder_id, as_of=as_of)
    plans = _agreed_plans(session, holder_id=holder_id)
    thresholds = thresholds_of(session, {budget.lead_funder_id for budget in budgets})
    positions = []
    for budget in budgets:
        plan = plan_in_force(plans.get(budget.id, []), as_of)
        figures = money_figures(
            by_budget[budget.id], kind_sums, plan, _period_days(budget), thresholds.get(budget.lead_funder_id, Thresholds())
        )
        positions.append(
            BudgetPosition(
                budget.id, budget.reference, budget.holder_id, budget.status, budget.period_start, budget.period_end,
                as_of, budget.lead_funder_id, plan.version_id, figures,
            )
        )
    return positions


def budget_figures(session: Session, budget: Budget, *, as_of: date | None = None) -> MoneyFigures:
    """The whole budget's figures only (no shares, no schedule): what closing and surplus
    decisions check against."""
    balances = budget_balances(session, budget.id, as_of=as_of)
    kind_sums = _kind_sums(session, holder_id=budget.holder_id, budget_id=budget.id, as_of=as_of)
    plan = agreed_plan_in_force(session, budget, as_of)
    thresholds = thresholds_of(session, [budget.lead_funder_id]).get(budget.lead_funder_id, Thresholds())
    return money_figures(balances, kind_sums, plan, _period_days(budget), thresholds)


# --- the arithmetic, pure ----------------------------------------------------------------


def money_figures(
    balances: Iterable[AccountBalance], kind_sums: KindSums, plan: PlanFigures, period_days: int, thresholds: Thresholds
) -> MoneyFigures:
    """The figures of one budget (or one funder's share) from its balances, its postings
    summed by entry kind, and its plan."""
    balances = list(balances)
    totals = totals_by_kind(balances)
    by_category: dict[str, int] = {}
    received = notional = ring_fenced = used = contingency_returned = 0
    for balance in balances:
        if balance.kind == AccountKind.SPEND:
            category = balance.code.rsplit(":", 1)[1]
            by_category[category] = by_category.get(category, 0) + balance.balance_pence
        sums = kind_sums.get(balance.account_id, {})
        if balance.kind == AccountKind.RECEIVABLE:
            notional -= sums.get(EntryKind.NOTIONAL_COST, 0)
            received -= sum(v for k, v in sums.items() if k not in (EntryKind.ALLOCATION, EntryKind.NOTIONAL_COST))
        elif balance.kind == AccountKind.CONTINGENCY:
            ring_fenced += sums.get(EntryKind.CONTINGENCY_RING_FENCE, 0)
            used -= sums.get(EntryKind.CONTINGENCY_USE, 0)
            contingency_returned -= sums.get(EntryKind.CONTINGENCY_RETURN, 0)
    allocated = totals.get(AccountKind.ALLOCATION, 0)
    held = totals.get(AccountKind.CASH, 0)
    committed = totals.get(AccountKind.PAYABLE, 0)
    contingency_left = totals.get(AccountKind.CONTINGENCY, 0)
    spent = totals.get(AccountKind.SPEND, 0)
    fees = totals.get(AccountKind.FEES, 0)
    top_slice = totals.get(AccountKind.TOP_SLICE, 0)
    returned = totals.get(AccountKind.RETURNED, 0)
    transition_spent = by_category.get(TRANSITION_CATEGORY, 0)
    transition_left = max(0, plan.transition_pence - transition_spent)
    idle = idle_pence(held, contingency_left, committed=committed, transition_left=transition_left)
    weekly = weekly_amount_pence(plan, period_days)
    weeks = weeks_held_tenths(idle, weekly)
    return MoneyFigures(
        allocated_pence=allocated,
        received_pence=received,
        notional_pence=notional,
        receivable_pence=totals.get(AccountKind.RECEIVABLE, 0),
        held_pence=held,
        card_pence=totals.get(AccountKind.CARD, 0),
        committed_pence=committed,
        contingency_planned_pence=plan.contingency_pence,
        contingency_ring_fenced_pence=ring_fenced,
        contingency_used_pence=used,
        contingency_returned_pence=contingency_returned,
        contingency_left_pence=contingency_left,
        top_slice_planned_pence=plan.top_slice_pence,
        top_slice_taken_pence=top_slice,
        transition_planned_pence=plan.transition_pence,
        transition_spent_pence=transition_spent,
        transition_left_pence=transition_left,
        spent_pence=spent,
        spent_by_category={code: pence for code, pence in sorted(by_category.items()) if pence},
        fees_pence=fees,
        returned_pence=returned,
        money_left_pence=allocated - spent - fees - top_slice - returned,
        surplus_pence=max(0, idle),
        weekly_amount_pence=weekly,
        weeks_held_tenths=weeks,
        thresholds=thresholds,
        surplus_state=thresholds.state(weeks),
    )


def idle_pence(held_pence: int, contingency_left_pence: int, *, committed: int, transition_left: int) -> int:
    """DESIGN.md §1's numerator: held balance − committed − contingency − unspent transition,
    where the held balance (the budget's money in the bank) is ``B:cash + B:contingency``."""
    bank = held_pence + contingency_left_pence
    return bank - committed - contingency_left_pence - transition_left


def weekly_amount_pence(plan: PlanFigures, period_days: int) -> int:
    """(plan total − contingency − top-slice − transition) per week of the plan period, to
    the nearest penny (half up); zero when nothing is left to spend weekly."""
    net = plan.total_pence - plan.contingency_pence - plan.top_slice_pence - plan.transition_pence
    if net <= 0 or period_days <= 0:
        return 0
    return _round_half_up(net * DAYS_PER_WEEK, period_days)


def weeks_held_tenths(idle: int, weekly: int) -> int | None:
    """``idle ÷ weekly`` in tenths of a week, rounded half up; None without a weekly amount."""
    if weekly <= 0:
        return None
    return _round_half_up(idle * TENTHS, weekly)


def _round_half_up(numerator: int, denominator: int) -> int:
    assert denominator > 0
    return (2 * numerator + denominator) // (2 * denominator)


def tenths_text(tenths: int) -> str:
    """Tenths of a week as text: 43 → "4.3", -5 → "-0.5"."""
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), TENTHS)
    return f"{sign}{whole}.{tenth}"


def plan_in_force(plans: Sequence[tuple[date, int, PlanFigures]], as_of: date | None) -> PlanFigures:
    """Of a budget's agreed versions (effective from, version number, figures), the one in
    force on ``as_of`` (latest effective date, then version); the latest when ``as_of`` is
    None; the first when ``as_of`` is before every version (transition spent early)."""
    dated = sorted(plans, key=lambda p: (p[0], p[1]))
    if not dated:
        return PlanFigures()
    if as_of is None:
        return dated[-1][2]
    in_force = [p for p in dated if p[0] <= as_of]
    return (in_force or dated[:1])[-1][2]


# --- reading ----------------------------------------------------------------------------


def agreed_plan_in_force(session: Session, budget: Budget, as_of: date | None) -> PlanFigures:
    return plan_in_force(_agreed_plans(session, holder_id=budget.holder_id, budget_id=budget.id).get(budget.id, []), as_of)


def _whole(shares: dict[FunderKey, list[AccountBalance]]) -> list[AccountBalance]:
    """Add the funders' shares back up into the budget's balances, one per account."""
    first: dict[int, AccountBalance] = {}
    sums: dict[int, int] = defaultdict(int)
    for balances in shares.values():
        for balance in balances:
            first.setdefault(balance.account_id, balance)
            sums[balance.account_id] += balance.balance_pence
    return [
        AccountBalance(b.account_id, b.code, b.kind, b.type, b.budget_id, b.funder_id, b.is_person_contribution, b.category_id, sums[a])
        for a, b in sorted(first.items())
    ]


def _kind_sums(session: Session, *, holder_id: int, budget_id: int | None = None, as_of: date | None = None) -> KindSums:
    """Receivable and contingency postings summed per account and kind of entry (a reversal
    counts as the kind of the entry it reverses, so a reversed payment is not received)."""
    posting, entry, account = Posting.__table__, JournalEntry.__table__, Account.__table__
    original = entry.alias("original")
    kind = func.coalesce(original.c.kind, entry.c.kind)
    query = (
        select(posting.c.account_id, kind, func.sum(posting.c.amount_pence))
        .join(account, account.c.id == posting.c.account_id)
        .join(entry, entry.c.id == posting.c.entry_id)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(account.c.holder_id == holder_id, account.c.kind.in_([AccountKind.RECEIVABLE, AccountKind.CONTINGENCY]))
        .group_by(posting.c.account_id, kind)
    )
    if budget_id is not None:
        query = query.where(account.c.budget_id == budget_id)
    if as_of is not None:
        query = query.where(posting.c.entry_date <= as_of)
    sums: KindSums = defaultdict(dict)
    for account_id, entry_kind, total in session.execute(query):
        sums[account_id][entry_kind] = int(total)
    return sums


def _agreed_plans(session: Session, *, holder_id: int, budget_id: int | None = None) -> dict[int, list[tuple[date, int, PlanFigures]]]:
    """Every agreed version of the holder's budgets (or one budget) with its figures:
    (effective from, version number, figures) per budget."""
    version = SupportPlanVersion
    query = (
        select(version.id, version.budget_id, version.effective_from, version.version, version.total_pence,
               version.contingency_pence, version.top_slice_pence)
        .join(Budget, Budget.id == version.budget_id)
        .where(Budget.holder_id == holder_id, version.status == PlanStatus.AGREED)
    )
    lines = (
        select(PlanLine.plan_version_id, Category.code, func.sum(PlanLine.amount_pence))
        .join(Category, Category.id == PlanLine.category_id)
        .join(version, version.id == PlanLine.plan_version_id)
        .join(Budget, Budget.id == version.budget_id)
        .where(Budget.holder_id == holder_id, version.status == PlanStatus.AGREED, PlanLine.kind == PlanLineKind.ONE_OFF)
        .group_by(PlanLine.plan_version_id, Category.code)
    )
    if budget_id is not None:
        query, lines = query.where(Budget.id == budget_id), lines.where(Budget.id == budget_id)
    transition: dict[int, int] = defaultdict(int)
    one_off: dict[int, int] = defaultdict(int)
    for version_id, category, total in session.execute(lines):
        (transition if category == TRANSITION_CATEGORY else one_off)[version_id] += int(total)
    plans: dict[int, list[tuple[date, int, PlanFigures]]] = defaultdict(list)
    for version_id, owner, effective_from, number, total, contingency, top_slice in session.execute(query):
        figures = PlanFigures(version_id, total, contingency, top_slice, transition[version_id], one_off[version_id])
        plans[owner].append((effective_from, number, figures))
    return plans


def _period_days(budget: Budget) -> int:
    return (budget.period_end - budget.period_start).days + 1


def _funder_positions(
    session: Session,
    budget: Budget,
    shares: dict[FunderKey, list[AccountBalance]],
    kind_sums: KindSums,
    plan: PlanFigures,
    days: int,
    thresholds: dict[int, Thresholds],
    whole: MoneyFigures,
) -> list[FunderPosition]:
    keys = sorted(shares, key=_funder_order)
    allocated = {key: totals_by_kind(shares[key]).get(AccountKind.ALLOCATION, 0) for key in keys}
    weights = {key: amount for key, amount in allocated.items() if amount > 0} or {budget.lead_funder_id: 1}
    weighted = sorted(weights, key=_funder_order)
    plan_parts = dict(zip(weighted, plan.split([weights[key] for key in weighted]), strict=True))
    shared_sums = _split_shared_sums(shares, kind_sums, weighted, [weights[key] for key in weighted])
    # Figures that are not sums (a floor at zero, a rounding) are split from the whole's, so
    # that they too add up exactly: unspent transition, the surplus, the weekly amount.
    split_weights = [weights[key] for key in weighted]
    nonlinear = {
        name: dict(zip(weighted, split_pence(getattr(whole, name), split_weights), strict=True))
        for name in ("transition_left_pence", "surplus_pence", "weekly_amount_pence")
    }
    idle = dict(zip(weighted, split_pence(_idle_of(whole), split_weights), strict=True))
    names = _funder_names(session, [key for key in keys if key is not None])
    lead = thresholds.get(budget.lead_funder_id, Thresholds())
    positions = []
    for key in keys:
        code, name = names.get(key, (CONTRIBUTION_CODE, "the person (client contribution)"))
        own_sums = {b.account_id: kind_sums.get(b.account_id, {}) for b in shares[key] if b.funder_id is not None or b.is_person_contribution}
        own_thresholds = thresholds.get(key, lead) if key is not None else lead
        figures = money_figures(shares[key], own_sums | shared_sums.get(key, {}), plan_parts.get(key, PlanFigures(plan.version_id)), days, own_thresholds)
        weekly = nonlinear["weekly_amount_pence"].get(key, 0)
        weeks = weeks_held_tenths(idle.get(key, 0), weekly)
        figures = replace(
            figures,
            transition_left_pence=nonlinear["transition_left_pence"].get(key, 0),
            surplus_pence=nonlinear["surplus_pence"].get(key, 0),
            weekly_amount_pence=weekly,
            weeks_held_tenths=weeks,
            surplus_state=own_thresholds.state(weeks),
        )
        positions.append(FunderPosition(key, code, name, figures))
    return positions


def _idle_of(figures: MoneyFigures) -> int:
    return idle_pence(
        figures.held_pence, figures.contingency_left_pence, committed=figures.committed_pence, transition_left=figures.transition_left_pence
    )


def _split_shared_sums(
    shares: dict[FunderKey, list[AccountBalance]], kind_sums: KindSums, keys: list[FunderKey], weights: list[int]
) -> dict[FunderKey, KindSums]:
    """Each funder's share of the per-kind sums of the shared accounts (the contingency)."""
    shared_ids = {b.account_id for balances in shares.values() for b in balances if b.funder_id is None and not b.is_person_contribution}
    split: dict[FunderKey, KindSums] = defaultdict(lambda: defaultdict(dict))
    for account_id in shared_ids:
        for entry_kind, total in kind_sums.get(account_id, {}).items():
            for key, part in zip(keys, split_pence(total, weights), strict=True):
                split[key][account_id][entry_kind] = part
    return split


def _funder_order(key: FunderKey) -> tuple[bool, int]:
    return (key is None, key or 0)


def _funder_names(session: Session, funder_ids: list[int]) -> dict[FunderKey, tuple[str, str]]:
    rows = session.execute(select(Funder.id, Funder.code, Funder.name).where(Funder.id.in_(funder_ids))).all()
    return {funder_id: (code, name) for funder_id, code, name in rows}


# --- thresholds -------------------------------------------------------------------------


def thresholds_of(session: Session, funder_ids: Iterable[int]) -> dict[int, Thresholds]:
    """Each funder's thresholds; the defaults for a funder without its own."""
    wanted = sorted(set(funder_ids))
    rows = session.execute(select(SurplusThreshold).where(SurplusThreshold.funder_id.in_(wanted))).scalars() if wanted else []
    found = {row.funder_id: Thresholds(row.warn_weeks_tenths, row.act_weeks_tenths, is_default=False) for row in rows}
    return {funder_id: found.get(funder_id, Thresholds()) for funder_id in wanted}


def set_surplus_thresholds(
    session: Session, funder_id: int, *, warn_weeks_tenths: int, act_weeks_tenths: int, updated_by: str
) -> SurplusThreshold:
    """Set a funder's own thresholds (tenths of a week: 45 = 4.5 weeks)."""
    get_funder(session, funder_id)
    warn = checks.whole_number(warn_weeks_tenths, "warn_weeks_tenths", minimum=0, maximum=THRESHOLD_WEEKS_TENTHS_MAX)
    act = checks.whole_number(act_weeks_tenths, "act_weeks_tenths", minimum=0, maximum=THRESHOLD_WEEKS_TENTHS_MAX)
    if act <= warn:
        raise InvalidInput(
            f"act_weeks_tenths ({act}) must be above warn_weeks_tenths ({warn})", code="thresholds_order", field="act_weeks_tenths"
        )
    who = checks.required_text(updated_by, "updated_by", max_length=200)
    row = session.get(SurplusThreshold, funder_id)
    if row is None:
        row = SurplusThreshold(funder_id=funder_id, warn_weeks_tenths=warn, act_weeks_tenths=act, updated_by=who)
        session.add(row)
    else:
        row.warn_weeks_tenths, row.act_weeks_tenths, row.updated_by, row.updated_at = warn, act, who, utcnow()
    session.flush()
    return row
