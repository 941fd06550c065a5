"""Reading what the drawdown schedule needs from the database, in bulk: the parts that load
a prepaid card, what each agreed plan version says each part loads, pauses, and the loads
already made. One query per kind of fact for a whole holder (or one budget), so a run over
thousands of budgets makes a handful of queries, not thousands."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import TRANSITION_CATEGORY, AccountKind, BudgetStatus, Holding, ManagementOption, PlanStatus
from ledger.loads.schedule import LoadTime, Offset, PartTerms, Pause, VersionTerms, part_nets
from ledger.store.tables import (
    Account,
    Budget,
    BudgetPart,
    BudgetPause,
    Category,
    Drawdown,
    FundingLine,
    Holder,
    PlanLine,
    PlanPartAmount,
    SupportPlanVersion,
)
from ledger.store.tables.load_offsets import LoadOffset, WithheldLoad


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose loads: one holder's budgets, or one budget."""

    holder_id: int | None = None
    budget_id: int | None = None

    def restrict(self, query: Select) -> Select:  # type: ignore[type-arg]
        """``query`` must already join ``budget``."""
        if self.budget_id is not None:
            query = query.where(Budget.id == self.budget_id)
        if self.holder_id is not None:
            query = query.where(Budget.holder_id == self.holder_id)
        return query


@dataclass(frozen=True, slots=True)
class LoadingPart:
    """A budget part whose money goes onto a prepaid card, with what its loads post to."""

    terms: PartTerms
    budget_id: int
    reference: str
    holder_id: int
    plan_start: date
    plan_end: date
    cash_account_id: int
    card_account_id: int


@dataclass(frozen=True, slots=True)
class HolderSchedules:
    """Everything needed to work out the schedules of one holder's (or one budget's) parts."""

    load_time: LoadTime
    parts: list[LoadingPart]
    versions: dict[int, list[VersionTerms]]
    """Per part id."""
    pauses: dict[int, list[Pause]]
    """Per budget id."""
    posted: dict[int, dict[date, int]]
    """Per part id: period start → amount loaded (0 for a load withheld whole)."""
    offsets: dict[int, list[Offset]]
    """Per part id: surplus offsets against its loads."""
    withheld: dict[int, dict[date, int]]
    """Per part id: period start → amount withheld from that load."""


def loading_parts(session: Session, scope: Scope, *, open_only: bool = True) -> list[LoadingPart]:
    """Card parts (not notional) in scope, by holder then part id."""
    query = (
        select(
            BudgetPart.id, BudgetPart.cadence, BudgetPart.timing, BudgetPart.initial_float_weeks,
            Budget.id, Budget.reference, Budget.holder_id, Budget.period_start, Budget.period_end,
        )  # fmt: skip
        .join(Budget, Budget.id == BudgetPart.budget_id)
        .where(BudgetPart.holding == Holding.PREPAID_CARD, BudgetPart.management_option != ManagementOption.NOTIONAL)
        .order_by(Budget.holder_id, BudgetPart.id)
    )
    if open_only:
        query = query.where(Budget.status == BudgetStatus.OPEN)
    rows = session.execute(scope.restrict(query)).all()
    accounts = _cash_and_card_accounts(session, scope)
    return [
        LoadingPart(
            PartTerms(part_id, cadence, timing, float_weeks),
            budget_id, reference, holder_id, start, end,
            accounts[(budget_id, AccountKind.CASH)], accounts[(budget_id, AccountKind.CARD)],
        )  # fmt: skip
        for part_id, cadence, timing, float_weeks, budget_id, reference, holder_id, start, end in rows
    ]


def holder_load_time(session: Session, holder_id: int) -> LoadTime:
    weekday, at = session.execute(select(Holder.load_weekday, Holder.load_time).where(Holder.id == holder_id)).one()
    return LoadTime(weekday, at)


def schedules_input(session: Session, holder_id: int, parts: list[LoadingPart], scope: Scope) -> HolderSchedules:
    """Read the rest of what the schedules of ``parts`` (all of one holder) need. Call it
    after taking the book's lock when the result decides what to post."""
    posted = _posted(session, scope)
    withheld = _withheld(session, scope)
    for part_id, by_period in withheld.items():
        for starts_on in by_period:
            posted[part_id].setdefault(starts_on, 0)
    return HolderSchedules(
        load_time=holder_load_time(session, holder_id),
        parts=parts,
        versions=_version_terms(session, scope, parts),
        pauses=_pauses(session, scope),
        posted=posted,
        offsets=_offsets(session, scope),
        withheld=withheld,
    )


def _cash_and_card_accounts(session: Session, scope: Scope) -> dict[tuple[int, str], int]:
    query = (
        select(Account.budget_id, Account.kind, Account.id)
        .join(Budget, Budget.id == Account.budget_id)
        .where(Account.kind.in_([AccountKind.CASH, AccountKind.CARD]))
    )
    return {(budget_id, kind): account_id for budget_id, kind, account_id in session.execute(scope.restrict(query))}


def _version_terms(session: Session, scope: Scope, parts: list[LoadingPart]) -> dict[int, list[VersionTerms]]:
    agreed = (SupportPlanVersion.status == PlanStatus.AGREED,)
    versions = session.execute(
        scope.restrict(
            select(
                SupportPlanVersion.id, SupportPlanVersion.budget_id, SupportPlanVersion.effective_from,
                SupportPlanVersion.top_slice_pence, SupportPlanVersion.contingency_pence,
            )  # fmt: skip
            .join(Budget, Budget.id == SupportPlanVersion.budget_id)
            .where(*agreed)
        )
    ).all()
    part_amounts: dict[int, dict[int, int]] = defaultdict(dict)
    for version_id, part_id, amount in session.execute(
        scope.restrict(
            select(PlanPartAmount.plan_version_id, PlanPartAmount.budget_part_id, PlanPartAmount.amount_pence)
            .join(SupportPlanVersion, SupportPlanVersion.id == PlanPartAmount.plan_version_id)
            .join(Budget, Budget.id == SupportPlanVersion.budget_id)
            .where(*agreed)
        )
    ):
        part_amounts[version_id][part_id] = amount
    contributions = dict(
        session.execute(
            scope.restrict(
                select(FundingLine.plan_version_id, func.sum(FundingLine.client_contribution_pence))
                .join(SupportPlanVersion, SupportPlanVersion.id == FundingLine.plan_version_id)
                .join(Budget, Budget.id == SupportPlanVersion.budget_id)
                .where(*agreed)
                .group_by(FundingLine.plan_version_id)
            )
        ).all()
    )
    transition: dict[int, dict[int | None, int]] = defaultdict(dict)
    for version_id, part_id, amount in session.execute(
        scope.restrict(
            select(PlanLine.plan_version_id, PlanLine.budget_part_id, func.sum(PlanLine.amount_pence))
            .join(Category, Category.id == PlanLine.category_id)
            .join(SupportPlanVersion, SupportPlanVersion.id == PlanLine.plan_version_id)
            .join(Budget, Budget.id == SupportPlanVersion.budget_id)
            .where(*agreed, Category.code == TRANSITION_CATEGORY)
            .group_by(PlanLine.plan_version_id, PlanLine.budget_part_id)
        )
    ):
        transition[version_id][part_id] = int(amount)
    parts_of_budget: dict[int, list[int]] = defaultdict(list)
    for part in parts:
        parts_of_budget[part.budget_id].append(part.terms.part_id)
    terms: dict[int, list[VersionTerms]] = defaultdict(list)
    for version_id, budget_id, effective_from, top_slice, contingency in versions:
        nets = part_nets(
            part_amounts[version_id],
            top_slice_pence=top_slice,
            contingency_pence=contingency,
            contribution_pence=int(contributions.get(version_id) or 0),
            transition_by_part=transition[version_id],
        )
        for part_id in parts_of_budget.get(budget_id, ()):
            terms[part_id].append(VersionTerms(version_id, effective_from, nets.get(part_id, 0)))
    return terms


def _pauses(session: Session, scope: Scope) -> dict[int, list[Pause]]:
    pauses: dict[int, list[Pause]] = defaultdict(list)
    query = select(BudgetPause.budget_id, BudgetPause.starts_on, BudgetPause.ends_on).join(Budget, Budget.id == BudgetPause.budget_id)
    for budget_id, starts_on, ends_on in session.execute(scope.restrict(query)):
        pauses[budget_id].append(Pause(starts_on, ends_on))
    return pauses


def _posted(session: Session, scope: Scope) -> dict[int, dict[date, int]]:
    posted: dict[int, dict[date, int]] = defaultdict(dict)
    query = (
        select(Drawdown.budget_part_id, Drawdown.period_starts_on, Drawdown.amount_pence)
        .join(BudgetPart, BudgetPart.id == Drawdown.budget_part_id)
        .join(Budget, Budget.id == BudgetPart.budget_id)
    )
    for part_id, starts_on, amount in session.execute(scope.restrict(query)):
        posted[part_id][starts_on] = amount
    return posted


def _offsets(session: Session, scope: Scope) -> dict[int, list[Offset]]:
    offsets: dict[int, list[Offset]] = defaultdict(list)
    query = select(LoadOffset.budget_part_id, LoadOffset.starts_on, LoadOffset.amount_pence).join(Budget, Budget.id == LoadOffset.budget_id)
    for part_id, starts_on, amount in session.execute(scope.restrict(query)):
        offsets[part_id].append(Offset(starts_on, amount))
    return offsets


def _withheld(session: Session, scope: Scope) -> dict[int, dict[date, int]]:
    withheld: dict[int, dict[date, int]] = defaultdict(dict)
    query = (
        select(WithheldLoad.budget_part_id, WithheldLoad.period_starts_on, WithheldLoad.withheld_pence)
        .join(BudgetPart, BudgetPart.id == WithheldLoad.budget_part_id)
        .join(Budget, Budget.id == BudgetPart.budget_id)
    )
    for part_id, starts_on, amount in session.execute(scope.restrict(query)):
        withheld[part_id][starts_on] = amount
    return withheld
