"""What the funder tracker and the holder and funder summaries read from the ledger: every
budget in scope with its whole-budget figures, each funder's share of them, its flags, its
statement lines not matched and its next review — in a dozen queries whatever the number of
budgets (an ICB funds 800–2,500).

Whole-budget figures are ``ledger.position.figures.money_figures`` of the budget's balances, kind
sums and agreed plan in force, as ``holder_positions`` works them out. Shares follow
``ledger.core.balances.funder_shares``: a funder's own accounts (its allocation, receivable and
returned) are wholly its; every shared account (cash, card, payable, contingency, spend,
fees, top-slice) is split account by account with ``split_pence`` in proportion to what each
funder has allocated by the period's last day; the person's client contribution is a share
of its own (key ``None``). Movements within the period are split with the same weights, so
the shares of every figure add up exactly to the budget's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from ledger.core.balances import AccountBalance, FunderKey, natural
from ledger.core.money import split_pence
from ledger.core.vocabulary import TRANSITION_CATEGORY, AccountKind, EntryKind, PlanLineKind, PlanStatus
from ledger.position.figures import MoneyFigures, PlanFigures, Thresholds, money_figures, plan_in_force, thresholds_of
from ledger.reviews.due import ReviewDue
from ledger.reviews.plan_reviews import UPCOMING_DAYS_MAX, reviews_due
from ledger.store.tables import Account, Budget, BudgetPart, Category, Funder, FundingLine, Holder, JournalEntry, Person, PlanLine, Posting, SupportPlanVersion
from ledger.store.tables.flags import Flag
from ledger.store.tables.reconciliation import ReconciliationMatch
from ledger.store.tables.statements import StatementLineRecord
from reports.budget_reads import CLOSED_FLAG_STATES

NOT_RECEIVED_KINDS = (EntryKind.ALLOCATION, EntryKind.NOTIONAL_COST)


@dataclass(slots=True)
class Share:
    """One funder's share of a budget's figures (or, added up, the whole budget's), in pence."""

    allocated_pence: int = 0
    received_pence: int = 0
    receivable_pence: int = 0
    spent_pence: int = 0
    spent_in_period_pence: int = 0
    fees_pence: int = 0
    top_slice_pence: int = 0
    returned_pence: int = 0
    held_pence: int = 0
    card_pence: int = 0
    committed_pence: int = 0
    contingency_left_pence: int = 0
    contingency_used_in_period_pence: int = 0

    @property
    def money_left_pence(self) -> int:
        return self.allocated_pence - self.spent_pence - self.fees_pence - self.top_slice_pence - self.returned_pence


@dataclass(frozen=True, slots=True)
class ReviewState:
    due_on: date
    kind: str
    is_overdue: bool


@dataclass
class BudgetView:
    budget_id: int
    reference: str
    person_id: int
    person: str
    holder_id: int
    holder_name: str
    lead_funder_id: int
    status: str
    options: str
    whole: MoneyFigures
    whole_share: Share
    """The shares added up: the whole budget's figures, with what moved in the period."""
    shares: dict[FunderKey, Share] = field(default_factory=dict)
    open_flags: int = 0
    flags_in_period: int = 0
    unmatched_lines: int = 0
    review: ReviewState | None = None

    @property
    def funders(self) -> list[FunderKey]:
        """Who funds it, by allocation as at the period's end (the person last)."""
        return sorted((key for key, share in self.shares.items() if share.allocated_pence > 0), key=_funder_order)

    @property
    def is_joint(self) -> bool:
        return len(self.funders) > 1


# --- which budgets --------------------------------------------------------------------------


def funded_by(funder_id: int) -> Select:
    """Budgets a funder leads or has a funding line in an agreed plan version of (as
    ``ledger.reviews.plan_reviews`` and ``ledger.flags.queries`` find them)."""
    funded = (
        select(SupportPlanVersion.budget_id)
        .join(FundingLine, FundingLine.plan_version_id == SupportPlanVersion.id)
        .where(FundingLine.funder_id == funder_id, SupportPlanVersion.status == PlanStatus.AGREED)
    )
    return select(Budget.id).where(or_(Budget.lead_funder_id == funder_id, Budget.id.in_(funded)))


def funder_scope(funder_id: int, starts_on: date, ends_on: date) -> Select:
    return funded_by(funder_id).where(Budget.period_start <= ends_on, Budget.period_end >= starts_on)


def holder_scope(holder_id: int, starts_on: date, ends_on: date) -> Select:
    return select(Budget.id).where(Budget.holder_id == holder_id, Budget.period_start <= ends_on, Budget.period_end >= starts_on)


# --- reading -----------------------------------------------------------------------------------


def budget_views(session: Session, scope: Select, starts_on: date, ends_on: date, *, review_day: date,
                 funder_id: int | None = None, holder_id: int | None = None) -> list[BudgetView]:  # fmt: skip
    """Every budget in ``scope`` as at ``ends_on``, with what moved from ``starts_on``; the
    review status as at ``review_day``. ``funder_id`` or ``holder_id`` narrows the reviews read."""
    budgets = session.execute(
        select(Budget.id, Budget.reference, Budget.person_id, func.coalesce(Person.preferred_name, Person.name), Budget.holder_id, Holder.name,
               Budget.lead_funder_id, Budget.status, Budget.period_start, Budget.period_end)
        .join(Person, Person.id == Budget.person_id).join(Holder, Holder.id == Budget.holder_id)
        .where(Budget.id.in_(scope)).order_by(Budget.reference)
    ).all()  # fmt: skip
    if not budgets:
        return []
    accounts = _accounts(session, scope)
    sums = _sums(session, scope, starts_on, ends_on)
    kind_sums, used_in_period = _kind_sums(session, scope, starts_on, ends_on)
    plans = _agreed_plans(session, scope)
    thresholds = thresholds_of(session, {row.lead_funder_id for row in budgets})
    options = _options(session, scope)
    open_flags, new_flags = _flag_counts(session, scope, starts_on, ends_on)
    unmatched = _unmatched_lines(session, scope, ends_on)
    reviews = _reviews(session, review_day, funder_id=funder_id, holder_id=holder_id)
    views = []
    for budget_id, reference, person_id, person, holder, holder_name, lead, status, period_start, period_end in budgets:
        balances = [_balance(row, sums.get(row[0], (0, 0))[0]) for row in accounts.get(budget_id, [])]
        plan = plan_in_force(plans.get(budget_id, []), ends_on)
        days = (period_end - period_start).days + 1
        whole = money_figures(balances, kind_sums, plan, days, thresholds.get(lead, Thresholds()))
        shares = split_shares(accounts.get(budget_id, []), sums, kind_sums, used_in_period, lead)
        views.append(
            BudgetView(
                budget_id, reference, person_id, person, holder, holder_name, lead, status, options.get(budget_id, ""), whole,
                added_up(shares.values()), shares, open_flags.get(budget_id, 0), new_flags.get(budget_id, 0),
                unmatched.get(budget_id, 0), reviews.get(budget_id),
            )
        )  # fmt: skip
    return views


AccountRow = tuple[int, str, str, str, int | None, int | None, bool, int | None]
"""(id, code, kind, type, budget id, funder id, is the person's contribution, category id)."""


def _accounts(session: Session, scope: Select) -> dict[int, list[AccountRow]]:
    a = Account.__table__.c
    rows = session.execute(
        select(a.id, a.code, a.kind, a.type, a.budget_id, a.funder_id, a.is_person_contribution, a.category_id)
        .where(a.budget_id.in_(scope)).order_by(a.id)
    )  # fmt: skip
    by_budget: dict[int, list[AccountRow]] = defaultdict(list)
    for row in rows:
        by_budget[row[4]].append((row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7]))
    return by_budget


def _balance(row: AccountRow, closing: int) -> AccountBalance:
    return AccountBalance(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], closing)


def _sums(session: Session, scope: Select, starts_on: date, ends_on: date) -> dict[int, tuple[int, int]]:
    """Per account, in its natural sign: the balance at ``ends_on`` and what moved from ``starts_on``."""
    posting, account = Posting.__table__.c, Account.__table__.c
    moved = func.coalesce(func.sum(case((posting.entry_date >= starts_on, posting.amount_pence), else_=0)), 0)
    rows = session.execute(
        select(posting.account_id, account.type, func.sum(posting.amount_pence), moved)
        .join(Account.__table__, account.id == posting.account_id)
        .where(account.budget_id.in_(scope), posting.entry_date <= ends_on)
        .group_by(posting.account_id, account.type)
    )
    return {account_id: (natural(type_, int(closing)), natural(type_, int(inside))) for account_id, type_, closing, inside in rows}


def _kind_sums(session: Session, scope: Select, starts_on: date, ends_on: date) -> tuple[dict[int, dict[str, int]], dict[int, int]]:
    """Receivable and contingency postings by kind of entry (a reversal counts as the kind it
    reverses), debit-positive, as ``ledger.position.figures`` sums them; and each contingency
    account's use within the period."""
    posting, entry, account = Posting.__table__, JournalEntry.__table__, Account.__table__
    original = entry.alias("original")
    kind = func.coalesce(original.c.kind, entry.c.kind)
    inside = func.coalesce(func.sum(case((posting.c.entry_date >= starts_on, posting.c.amount_pence), else_=0)), 0)
    rows = session.execute(
        select(posting.c.account_id, kind, func.sum(posting.c.amount_pence), inside)
        .join(account, account.c.id == posting.c.account_id)
        .join(entry, entry.c.id == posting.c.entry_id)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(account.c.budget_id.in_(scope), account.c.kind.in_([AccountKind.RECEIVABLE, AccountKind.CONTINGENCY]), posting.c.entry_date <= ends_on)
        .group_by(posting.c.account_id, kind)
    )
    sums: dict[int, dict[str, int]] = defaultdict(dict)
    used: dict[int, int] = {}
    for account_id, entry_kind, total, in_period in rows:
        sums[account_id][entry_kind] = int(total)
        if entry_kind == EntryKind.CONTINGENCY_USE:
            used[account_id] = -int(in_period)
    return sums, used


def _agreed_plans(session: Session, scope: Select) -> dict[int, list[tuple[date, int, PlanFigures]]]:
    version = SupportPlanVersion
    one_offs = session.execute(
        select(PlanLine.plan_version_id, Category.code, func.sum(PlanLine.amount_pence))
        .join(Category, Category.id == PlanLine.category_id).join(version, version.id == PlanLine.plan_version_id)
        .where(version.budget_id.in_(scope), version.status == PlanStatus.AGREED, PlanLine.kind == PlanLineKind.ONE_OFF)
        .group_by(PlanLine.plan_version_id, Category.code)
    )  # fmt: skip
    transition: dict[int, int] = defaultdict(int)
    other: dict[int, int] = defaultdict(int)
    for version_id, category, total in one_offs:
        (transition if category == TRANSITION_CATEGORY else other)[version_id] += int(total)
    plans: dict[int, list[tuple[date, int, PlanFigures]]] = defaultdict(list)
    rows = session.execute(
        select(version.id, version.budget_id, version.effective_from, version.version, version.total_pence, version.contingency_pence, version.top_slice_pence)
        .where(version.budget_id.in_(scope), version.status == PlanStatus.AGREED)
    )  # fmt: skip
    for version_id, budget_id, effective_from, number, total, contingency, top_slice in rows:
        figures = PlanFigures(version_id, total, contingency, top_slice, transition[version_id], other[version_id])
        plans[budget_id].append((effective_from, number, figures))
    return plans


OPTION_WORDS = {"third_party": "Third party", "direct_payment": "Direct payment", "notional": "Notional"}


def _options(session: Session, scope: Select) -> dict[int, str]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(BudgetPart.budget_id, BudgetPart.management_option).where(BudgetPart.budget_id.in_(scope)).distinct()
        .order_by(BudgetPart.budget_id, BudgetPart.management_option.desc())
    )  # fmt: skip
    for budget_id, option in rows:
        found[budget_id].append(OPTION_WORDS.get(option, option.replace("_", " ").capitalize()))
    return {budget_id: " + ".join(words) for budget_id, words in found.items()}


def _flag_counts(session: Session, scope: Select, starts_on: date, ends_on: date) -> tuple[dict[int, int], dict[int, int]]:
    """Flags not yet settled (whose cause came by ``ends_on``), and flags whose cause fell in the period."""
    is_open = case((Flag.state.not_in(CLOSED_FLAG_STATES), 1), else_=0)
    is_new = case((Flag.occurred_on >= starts_on, 1), else_=0)
    rows = session.execute(
        select(Flag.budget_id, func.sum(is_open), func.sum(is_new))
        .where(Flag.budget_id.in_(scope), Flag.occurred_on <= ends_on).group_by(Flag.budget_id)
    )  # fmt: skip
    open_counts, new_counts = {}, {}
    for budget_id, open_count, new_count in rows:
        open_counts[budget_id], new_counts[budget_id] = int(open_count), int(new_count)
    return open_counts, new_counts


def _unmatched_lines(session: Session, scope: Select, ends_on: date) -> dict[int, int]:
    """Lines of the budget's own statement accounts (card, the family's bank account) up to
    ``ends_on`` that no match stands for."""
    line = StatementLineRecord.__table__.c
    rows = session.execute(
        select(Account.budget_id, func.count(line.id))
        .join(Account, Account.id == line.account_id)
        .outerjoin(ReconciliationMatch, ReconciliationMatch.active_line_id == line.id)
        .where(Account.budget_id.in_(scope), line.posted_on <= ends_on, ReconciliationMatch.id.is_(None))
        .group_by(Account.budget_id)
    )
    return {budget_id: int(count) for budget_id, count in rows}


def _reviews(session: Session, as_of: date, *, funder_id: int | None, holder_id: int | None) -> dict[int, ReviewState]:
    """Each budget's most pressing review: the earliest overdue, else the next due."""
    found: dict[int, ReviewState] = {}
    due: list[ReviewDue] = reviews_due(session, as_of=as_of, funder_id=funder_id, holder_id=holder_id, include_upcoming_days=UPCOMING_DAYS_MAX)
    for review in due:  # overdue first, then by due date
        found.setdefault(review.budget_id, ReviewState(review.due_on, review.kind, review.is_overdue))
    return found


# --- the arithmetic ---------------------------------------------------------------------------

_SHARED_FIELDS = {
    AccountKind.CASH: "held_pence",
    AccountKind.CARD: "card_pence",
    AccountKind.PAYABLE: "committed_pence",
    AccountKind.CONTINGENCY: "contingency_left_pence",
    AccountKind.SPEND: "spent_pence",
    AccountKind.FEES: "fees_pence",
    AccountKind.TOP_SLICE: "top_slice_pence",
}
_OWN_FIELDS = {AccountKind.ALLOCATION: "allocated_pence", AccountKind.RECEIVABLE: "receivable_pence", AccountKind.RETURNED: "returned_pence"}


def split_shares(
    accounts: list[AccountRow], sums: dict[int, tuple[int, int]], kind_sums: dict[int, dict[str, int]], used_in_period: dict[int, int], lead_funder_id: int
) -> dict[FunderKey, Share]:
    """Each funder's share of one budget (see the module's docstring)."""
    weights: dict[FunderKey, int] = {}
    for row in accounts:
        closing = sums.get(row[0], (0, 0))[0]
        if row[2] == AccountKind.ALLOCATION and closing > 0:
            weights[_key(row)] = closing
    if not weights:
        weights = {lead_funder_id: 1}
    keys = sorted(weights, key=_funder_order)
    by = [weights[key] for key in keys]
    shares: dict[FunderKey, Share] = {key: Share() for key in keys}
    for row in accounts:
        account_id, kind = row[0], row[2]
        closing, moved = sums.get(account_id, (0, 0))
        if row[5] is not None or row[6]:
            share = shares.setdefault(_key(row), Share())
            setattr(share, _OWN_FIELDS[kind], getattr(share, _OWN_FIELDS[kind]) + closing)
            if kind == AccountKind.RECEIVABLE:
                share.received_pence -= sum(v for k, v in kind_sums.get(account_id, {}).items() if k not in NOT_RECEIVED_KINDS)
            continue
        name = _SHARED_FIELDS.get(kind)
        if name is None:
            continue
        _add_split(shares, keys, by, name, closing)
        if kind == AccountKind.SPEND:
            _add_split(shares, keys, by, "spent_in_period_pence", moved)
        elif kind == AccountKind.CONTINGENCY:
            _add_split(shares, keys, by, "contingency_used_in_period_pence", used_in_period.get(account_id, 0))
    return shares


def _add_split(shares: dict[FunderKey, Share], keys: list[FunderKey], weights: list[int], name: str, pence: int) -> None:
    if pence == 0:
        return
    for key, part in zip(keys, split_pence(pence, weights), strict=True):
        setattr(shares[key], name, getattr(shares[key], name) + part)


def added_up(shares) -> Share:  # type: ignore[no-untyped-def]
    total = Share()
    for share in shares:
        for name in Share.__dataclass_fields__:
            setattr(total, name, getattr(total, name) + getattr(share, name))
    return total


def _key(row: AccountRow) -> FunderKey:
    return None if row[6] else row[5]


def _funder_order(key: FunderKey) -> tuple[bool, int]:
    return (key is None, key or 0)


def funder_names(session: Session, keys) -> dict[FunderKey, str]:  # type: ignore[no-untyped-def]
    ids = sorted({key for key in keys if key is not None})
    names: dict[FunderKey, str] = {None: "Person's contribution"}
    if ids:
        names.update({funder_id: name for funder_id, name in session.execute(select(Funder.id, Funder.name).where(Funder.id.in_(ids)))})
    return names


# --- the tie-back: a funder's own accounts, read directly -----------------------------------------


@dataclass(frozen=True, slots=True)
class OwnTotals:
    allocated_pence: int
    received_pence: int
    receivable_pence: int
    returned_pence: int


def own_account_totals(session: Session, funder_id: int, scope: Select, ends_on: date) -> OwnTotals:
    """The sums of a funder's own accounts (allocation, receivable, returned) over the budgets
    in ``scope`` as at ``ends_on``, straight from the postings: no split, no per-budget work."""
    posting, entry, account = Posting.__table__, JournalEntry.__table__, Account.__table__
    own = (account.c.funder_id == funder_id, account.c.budget_id.in_(scope), posting.c.entry_date <= ends_on)
    by_kind = dict(
        session.execute(
            select(account.c.kind, func.sum(posting.c.amount_pence)).join(account, account.c.id == posting.c.account_id)
            .where(*own).group_by(account.c.kind)
        ).all()
    )  # fmt: skip
    original = entry.alias("original")
    kind = func.coalesce(original.c.kind, entry.c.kind)
    paid_in = session.scalar(
        select(func.coalesce(func.sum(posting.c.amount_pence), 0))
        .join(account, account.c.id == posting.c.account_id).join(entry, entry.c.id == posting.c.entry_id)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(*own, account.c.kind == AccountKind.RECEIVABLE, kind.not_in(NOT_RECEIVED_KINDS))
    )  # fmt: skip
    return OwnTotals(
        allocated_pence=-int(by_kind.get(AccountKind.ALLOCATION, 0)),
        received_pence=-int(paid_in or 0),
        receivable_pence=int(by_kind.get(AccountKind.RECEIVABLE, 0)),
        returned_pence=int(by_kind.get(AccountKind.RETURNED, 0)),
    )


__all__ = [
    "BudgetView", "OwnTotals", "ReviewState", "Share", "added_up", "budget_views", "funded_by", "funder_names", "funder_scope",
    "holder_scope", "own_account_totals", "split_shares",
]  # fmt: skip
