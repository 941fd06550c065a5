"""What the funder's pages read from the ledger, in bulk: flags of the funded budgets,
statement accounts not reconciled, surplus held, reviews overdue, an account's entries a page
at a time, and the statement lines matched to entries. A handful of queries whatever the number of
budgets (an ICB funds 800–2,500); never one query per budget."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.core.balances import AccountBalance, natural
from ledger.core.money import split_pence
from ledger.core.vocabulary import TRANSITION_CATEGORY, AccountKind, PlanLineKind, PlanStatus
from ledger.position.figures import MoneyFigures, PlanFigures, SurplusState, Thresholds, money_figures, plan_in_force, thresholds_of
from ledger.reviews.due import ReviewDue
from ledger.reviews.plan_reviews import reviews_due
from ledger.store.tables import Account, Budget, Category, Holder, JournalEntry, Person, PlanLine, Posting, SupportPlanVersion
from ledger.store.tables.flags import Flag
from ledger.store.tables.reconciliation import ReconciliationMatch, ReconciliationMatchPart
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from web.pages.funder_common import STATE_ORDER

# --- flags --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagRow:
    id: int
    budget_id: int
    reference: str
    holder: str
    code: str
    severity: str
    reason: str
    amount_pence: int | None
    occurred_on: date
    state: str


def _state_rank():  # type: ignore[no-untyped-def]
    return case(*((Flag.state == state, rank) for rank, state in enumerate(STATE_ORDER)), else_=len(STATE_ORDER))


def flag_query(scope: Select, *, states: Sequence[str] = (), code: str | None = None, holder_id: int | None = None,
               budget_id: int | None = None) -> Select:  # fmt: skip
    query = select(Flag.id).where(Flag.budget_id.in_(scope))
    if states:
        query = query.where(Flag.state.in_(list(states)))
    if code:
        query = query.where(Flag.code == code)
    if holder_id is not None:
        query = query.where(Flag.holder_id == holder_id)
    if budget_id is not None:
        query = query.where(Flag.budget_id == budget_id)
    return query


def flag_rows(session: Session, wanted: Select, *, offset: int = 0, limit: int = 50) -> list[FlagRow]:
    """The flags ``wanted`` names: what waits for the funder's decision first (explained),
    then open, challenged, and the settled ones; newest cause first within each."""
    rows = session.execute(
        select(Flag.id, Flag.budget_id, Budget.reference, Holder.name, Flag.code, Flag.severity, Flag.reason, Flag.amount_pence,
               Flag.occurred_on, Flag.state)
        .join(Budget, Budget.id == Flag.budget_id).join(Holder, Holder.id == Flag.holder_id)
        .where(Flag.id.in_(wanted))
        .order_by(_state_rank(), Flag.occurred_on.desc(), Flag.id.desc()).offset(offset).limit(limit)
    )  # fmt: skip
    return [FlagRow(*row) for row in rows]


def count_of(session: Session, wanted: Select) -> int:
    return int(session.scalar(select(func.count()).select_from(wanted.subquery())) or 0)


def flag_counts(session: Session, scope: Select) -> dict[str, int]:
    rows = session.execute(select(Flag.state, func.count(Flag.id)).where(Flag.budget_id.in_(scope)).group_by(Flag.state))
    return {state: int(count) for state, count in rows}


# --- statement accounts not reconciled -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountProblem:
    account_id: int
    code: str
    kind: str
    budget_id: int
    reference: str
    holder: str
    unmatched_lines: int
    unmatched_pence: int
    statement_on: date | None
    statement_pence: int | None
    ledger_pence: int | None

    @property
    def difference_pence(self) -> int | None:
        if self.statement_pence is None or self.ledger_pence is None:
            return None
        return self.ledger_pence - self.statement_pence


def unreconciled_accounts(session: Session, scope: Select) -> list[AccountProblem]:
    """The funded budgets' statement accounts (a card, a family's bank account) with lines
    no match stands for, or whose last statement's closing balance the ledger does not
    show on that day. The holder's client bank account is the holder's, not shown here."""
    accounts = {
        row.id: row
        for row in session.execute(
            select(Account.id, Account.code, Account.kind, Account.budget_id, Budget.reference, Holder.name.label("holder"))
            .join(Budget, Budget.id == Account.budget_id).join(Holder, Holder.id == Budget.holder_id)
            .where(Account.budget_id.in_(scope), Account.id.in_(select(StatementImport.account_id).distinct()))
        )
    }  # fmt: skip
    if not accounts:
        return []
    unmatched = _unmatched_by_account(session, scope)
    closing = _last_closing(session, scope)
    ledger = _ledger_on_closing(session, scope)
    found = []
    for account_id, row in accounts.items():
        lines, pence = unmatched.get(account_id, (0, 0))
        on, statement = closing.get(account_id, (None, None))
        problem = AccountProblem(account_id, row.code, row.kind, row.budget_id, row.reference, row.holder, lines, pence, on, statement,
                                 ledger.get(account_id, 0) if on is not None else None)  # fmt: skip
        if lines or problem.difference_pence:
            found.append(problem)
    return sorted(found, key=lambda p: (-p.unmatched_lines, p.reference, p.code))


def _statement_accounts(scope: Select) -> Select:
    return select(Account.id).where(Account.budget_id.in_(scope), Account.id.in_(select(StatementImport.account_id).distinct()))


def _unmatched_by_account(session: Session, scope: Select) -> dict[int, tuple[int, int]]:
    line = StatementLineRecord
    rows = session.execute(
        select(line.account_id, func.count(line.id), func.coalesce(func.sum(line.amount_pence), 0))
        .outerjoin(ReconciliationMatch, ReconciliationMatch.active_line_id == line.id)
        .where(line.account_id.in_(_statement_accounts(scope)), ReconciliationMatch.id.is_(None))
        .group_by(line.account_id)
    )
    return {account_id: (int(count), int(pence)) for account_id, count, pence in rows}


def _last_closing(session: Session, scope: Select) -> dict[int, tuple[date, int]]:
    rows = session.execute(
        select(StatementImport.account_id, StatementImport.closing_on, StatementImport.closing_pence)
        .where(StatementImport.account_id.in_(_statement_accounts(scope)), StatementImport.closing_pence.is_not(None),
               StatementImport.closing_on.is_not(None))
        .order_by(StatementImport.account_id, StatementImport.closing_on, StatementImport.id)
    )  # fmt: skip
    return {account_id: (on, int(pence)) for account_id, on, pence in rows}  # the last of each account wins


def _ledger_on_closing(session: Session, scope: Select) -> dict[int, int]:
    """What the ledger says each statement account held on its last statement's closing
    day (``ledger.statements.storing.ledger_balance``): a card is its own account; a budget's bank
    account is its cash and contingency together (ring-fencing does not leave the bank)."""
    last = (
        select(StatementImport.account_id, func.max(StatementImport.closing_on).label("closing_on"))
        .where(StatementImport.account_id.in_(_statement_accounts(scope)), StatementImport.closing_pence.is_not(None))
        .group_by(StatementImport.account_id)
        .subquery()
    )
    statement, member = aliased(Account), aliased(Account)
    joins_member = or_(
        and_(statement.kind != AccountKind.CASH, member.id == statement.id),
        and_(statement.kind == AccountKind.CASH, member.budget_id == statement.budget_id, member.kind.in_([AccountKind.CASH, AccountKind.CONTINGENCY])),
    )
    rows = session.execute(
        select(statement.id, func.sum(Posting.amount_pence))
        .select_from(last)
        .join(statement, statement.id == last.c.account_id)
        .join(member, joins_member)
        .join(Posting, Posting.account_id == member.id)
        .where(Posting.entry_date <= last.c.closing_on)
        .group_by(statement.id)
    )  # fmt: skip
    return {account_id: int(total or 0) for account_id, total in rows}  # cash, contingency and card are debit-normal


# --- surplus held --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurplusRow:
    budget_id: int
    reference: str
    person: str
    holder: str
    figures: MoneyFigures
    """The whole budget's held funds, weeks held and surplus state (the other figures are not read)."""
    held_share_pence: int
    """This funder's share of the held funds."""
    is_joint: bool


_SURPLUS_KINDS = (AccountKind.CASH, AccountKind.PAYABLE, AccountKind.ALLOCATION)


def surplus_held(session: Session, funder_id: int, scope: Select, as_of: date) -> list[SurplusRow]:
    """The budgets in ``scope`` holding more weeks of support than their lead funder's warning
    level, as at ``as_of``: ``ledger.position.figures.money_figures`` of just the balances weeks held
    depend on (held funds, committed, transition spent) and of the allocations that make each
    funder's share, read in four queries — not every account of 2,500 budgets."""
    budgets = session.execute(
        select(Budget.id, Budget.reference, func.coalesce(Person.preferred_name, Person.name), Holder.name, Budget.lead_funder_id,
               Budget.period_start, Budget.period_end)
        .join(Person, Person.id == Budget.person_id).join(Holder, Holder.id == Budget.holder_id).where(Budget.id.in_(scope))
    ).all()  # fmt: skip
    balances = _surplus_balances(session, scope, as_of)
    plans = _agreed_plans(session, scope)
    thresholds = thresholds_of(session, {row[4] for row in budgets})
    found = []
    for budget_id, reference, person, holder, lead, starts_on, ends_on in budgets:
        own = balances.get(budget_id, [])
        figures = money_figures(own, {}, plan_in_force(plans.get(budget_id, []), as_of), (ends_on - starts_on).days + 1, thresholds.get(lead, Thresholds()))
        if figures.surplus_state == SurplusState.OK:
            continue
        weights = {_funder_key(b): b.balance_pence for b in own if b.kind == AccountKind.ALLOCATION and b.balance_pence > 0} or {lead: 1}
        keys = sorted(weights, key=lambda key: (key is None, key or 0))
        held = dict(zip(keys, split_pence(figures.held_pence, [weights[key] for key in keys]), strict=True)) if figures.held_pence else {}
        found.append(SurplusRow(budget_id, reference, person, holder, figures, held.get(funder_id, 0), len(keys) > 1))
    return sorted(found, key=lambda row: (row.figures.surplus_state != SurplusState.ACT, -(row.figures.weeks_held_tenths or 0), row.reference))


def _funder_key(balance: AccountBalance) -> int | None:
    return None if balance.is_person_contribution else balance.funder_id


def _surplus_balances(session: Session, scope: Select, as_of: date) -> dict[int, list[AccountBalance]]:
    a = Account.__table__.c
    wanted = or_(a.kind.in_(_SURPLUS_KINDS), and_(a.kind == AccountKind.SPEND, a.code.like(f"%:spend:{TRANSITION_CATEGORY}")))
    rows = session.execute(
        select(a.id, a.code, a.kind, a.type, a.budget_id, a.funder_id, a.is_person_contribution, a.category_id, func.sum(Posting.amount_pence))
        .join(Posting, Posting.account_id == a.id)
        .where(a.budget_id.in_(scope), wanted, Posting.entry_date <= as_of)
        .group_by(a.id, a.code, a.kind, a.type, a.budget_id, a.funder_id, a.is_person_contribution, a.category_id)
    )  # fmt: skip
    found: dict[int, list[AccountBalance]] = defaultdict(list)
    for account_id, code, kind, type_, budget_id, funder, person, category, total in rows:
        found[budget_id].append(AccountBalance(account_id, code, kind, type_, budget_id, funder, bool(person), category, natural(type_, int(total))))
    return found


def _agreed_plans(session: Session, scope: Select) -> dict[int, list[tuple[date, int, PlanFigures]]]:
    """Each budget's agreed versions with what weeks held need of them: the total, the
    contingency, the top-slice and the one-off transition lines."""
    version = SupportPlanVersion
    transition = dict(
        session.execute(
            select(PlanLine.plan_version_id, func.sum(PlanLine.amount_pence))
            .join(Category, Category.id == PlanLine.category_id).join(version, version.id == PlanLine.plan_version_id)
            .where(version.budget_id.in_(scope), version.status == PlanStatus.AGREED, PlanLine.kind == PlanLineKind.ONE_OFF,
                   Category.code == TRANSITION_CATEGORY)
            .group_by(PlanLine.plan_version_id)
        ).all()
    )  # fmt: skip
    plans: dict[int, list[tuple[date, int, PlanFigures]]] = defaultdict(list)
    rows = session.execute(
        select(version.id, version.budget_id, version.effective_from, version.version, version.total_pence, version.contingency_pence,
               version.top_slice_pence)
        .where(version.budget_id.in_(scope), version.status == PlanStatus.AGREED)
    )  # fmt: skip
    for version_id, budget_id, effective_from, number, total, contingency, top_slice in rows:
        plans[budget_id].append((effective_from, number, PlanFigures(version_id, total, contingency, top_slice, int(transition.get(version_id, 0)))))
    return plans


# --- reviews -----------------------------------------------------------------------------------


def overdue_reviews(session: Session, funder_id: int, funded: set[int], today: date) -> list[ReviewDue]:
    found = reviews_due(session, as_of=today, funder_id=funder_id, include_upcoming_days=0)
    return [review for review in found if review.is_overdue and review.budget_id in funded]


def holder_names(session: Session, holder_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(holder_ids))
    if not ids:
        return {}
    return dict(session.execute(select(Holder.id, Holder.name).where(Holder.id.in_(ids))).all())  # type: ignore[arg-type]


def person_names(session: Session, budget_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(budget_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Budget.id, func.coalesce(Person.preferred_name, Person.name)).join(Person, Person.id == Budget.person_id).where(Budget.id.in_(ids))
    )
    return dict(rows.all())  # type: ignore[arg-type]


# --- statement lines behind entries --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementRef:
    """A statement line matched to an entry. Its words and amount are shown only when it is
    a line of a funded budget's own statement; a line of the holder's client bank account
    (many people's money) shows where it is and this entry's part of it for the funded budgets."""

    line_id: int
    file_name: str
    line_no: int
    posted_on: date
    account_code: str
    is_budgets_own: bool
    description: str | None
    payee: str | None
    line_pence: int | None
    part_pence: int | None
    import_id: int


def statement_lines_of(session: Session, entry_ids: Sequence[int], funded: set[int]) -> dict[int, list[StatementRef]]:
    """Entry id → the statement lines matched to it now (file, line number, …)."""
    if not entry_ids:
        return {}
    line, part = StatementLineRecord, ReconciliationMatchPart
    rows = session.execute(
        select(part.active_entry_id, part.budget_id, part.amount_pence, line.id, StatementImport.file_name, line.line_no, line.posted_on,
               Account.code, Account.budget_id, line.description, line.payee, line.amount_pence, StatementImport.id)
        .join(ReconciliationMatch, ReconciliationMatch.id == part.match_id)
        .join(line, line.id == ReconciliationMatch.statement_line_id)
        .join(StatementImport, StatementImport.id == line.import_id)
        .join(Account, Account.id == line.account_id)
        .where(part.active_entry_id.in_(list(entry_ids)), ReconciliationMatch.active_line_id.is_not(None))
        .order_by(part.active_entry_id, StatementImport.file_name, line.line_no)
    )  # fmt: skip
    found: dict[int, list[StatementRef]] = defaultdict(list)
    for entry_id, part_budget, part_pence, line_id, file_name, line_no, posted_on, code, line_budget, words, payee, line_pence, import_id in rows:
        own = line_budget is not None and line_budget in funded
        found[entry_id].append(StatementRef(
            line_id, file_name, line_no, posted_on, code, own, words if own else None, payee if own else None, line_pence if own else None,
            part_pence if part_budget in funded else None, import_id,
        ))  # fmt: skip
    return dict(found)


# --- an account's entries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountLine:
    entry_id: int
    entry_date: date
    kind: str
    description: str
    amount_pence: int
    """In the account's natural sign: positive adds to its balance."""


@dataclass(frozen=True, slots=True)
class AccountPage:
    lines: list[AccountLine]
    next_before: tuple[date, int] | None
    opening_pence: int
    closing_pence: int
    moved_pence: int


def account_page(session: Session, account: Account, *, starts_on: date | None, ends_on: date | None,
                 before: tuple[date, int] | None, limit: int) -> AccountPage:  # fmt: skip
    """The account's entries between the dates, newest first, ``limit`` at a time (pass
    ``next_before`` back as ``before``), with its balance before and at the end of the period."""
    posting = Posting.__table__.c
    query = (
        select(posting.entry_id, posting.entry_date, JournalEntry.kind, JournalEntry.description, func.sum(posting.amount_pence))
        .join(JournalEntry, JournalEntry.id == posting.entry_id)
        .where(posting.account_id == account.id)
        .group_by(posting.entry_id, posting.entry_date, JournalEntry.kind, JournalEntry.description)
        .order_by(posting.entry_date.desc(), posting.entry_id.desc())
        .limit(limit + 1)
    )
    if starts_on is not None:
        query = query.where(posting.entry_date >= starts_on)
    if ends_on is not None:
        query = query.where(posting.entry_date <= ends_on)
    if before is not None:
        query = query.where(or_(posting.entry_date < before[0], and_(posting.entry_date == before[0], posting.entry_id < before[1])))
    rows = session.execute(query).all()
    page, more = rows[:limit], len(rows) > limit
    lines = [AccountLine(entry_id, day, kind, words, natural(account.type, int(pence))) for entry_id, day, kind, words, pence in page]
    opening = _balance(session, account, before_day=starts_on) if starts_on is not None else 0
    closing = _balance(session, account, through=ends_on)
    return AccountPage(lines, (page[-1][1], page[-1][0]) if more else None, opening, closing, closing - opening)


def _balance(session: Session, account: Account, *, through: date | None = None, before_day: date | None = None) -> int:
    query = select(func.coalesce(func.sum(Posting.amount_pence), 0)).where(Posting.account_id == account.id)
    if through is not None:
        query = query.where(Posting.entry_date <= through)
    if before_day is not None:
        query = query.where(Posting.entry_date < before_day)
    return natural(account.type, int(session.scalar(query) or 0))


def account_balances(session: Session, account_ids: Sequence[int]) -> dict[int, int]:
    """Debit-positive balances of the accounts, everything posted."""
    if not account_ids:
        return {}
    rows = session.execute(select(Posting.account_id, func.sum(Posting.amount_pence)).where(Posting.account_id.in_(list(account_ids))).group_by(Posting.account_id))
    return {account_id: int(total) for account_id, total in rows}
