"""Whose a record is, for every kind of record an address can name: the holder whose book it
is in, and the budgets it belongs to (none for a holder-wide record such as the client bank
account or a payroll run's payment). ``ledger.access.visibility`` decides from that who may see it.

A holder's admin and staff see every record of their holder. Anyone else sees a record only
through a budget they may see; a holder-wide record is the holder's alone. A user's sign-in
and API tokens are their own (and the system admin's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal, can_see_budget, can_see_holder, can_see_person
from ledger.errors import NotFound
from ledger.store.tables import Account, Budget, BudgetPause, JournalEntry, Posting, SupportPlanVersion
from ledger.store.tables.access import ApiToken, UserAccount
from ledger.store.tables.flags import Evidence, Flag, RepaymentNotice
from ledger.store.tables.payables import Payable, PayableLine, Pool
from ledger.store.tables.report_documents import ReportDocument
from ledger.store.tables.statements import StatementImport, StatementLineRecord


@dataclass(frozen=True, slots=True)
class Owner:
    holder_id: int | None
    budget_ids: frozenset[int] = frozenset()
    funder_id: int | None = None
    person_id: int | None = None
    user_id: int | None = None
    """A sign-in's own record (the user, their tokens): theirs and the system admin's."""


def _budget(session: Session, budget_id: int | None) -> Owner | None:
    budget = session.get(Budget, budget_id) if budget_id is not None else None
    return Owner(budget.holder_id, frozenset({budget.id})) if budget is not None else None


def _account(session: Session, account_id: int) -> Owner | None:
    account = session.get(Account, account_id)
    if account is None:
        return None
    return Owner(account.holder_id, frozenset({account.budget_id}) if account.budget_id is not None else frozenset())


def _account_code(session: Session, code: str) -> Owner | None:
    account_id = session.scalar(select(Account.id).where(Account.code == code))
    return _account(session, account_id) if account_id is not None else None


def _statement_import(session: Session, import_id: int) -> Owner | None:
    account_id = session.scalar(select(StatementImport.account_id).where(StatementImport.id == import_id))
    return _account(session, account_id) if account_id is not None else None


def _statement_line(session: Session, line_id: int) -> Owner | None:
    account_id = session.scalar(select(StatementLineRecord.account_id).where(StatementLineRecord.id == line_id))
    return _account(session, account_id) if account_id is not None else None


def _entry(session: Session, entry_id: int) -> Owner | None:
    book = session.scalar(select(JournalEntry.book_id).where(JournalEntry.id == entry_id))
    if book is None:
        return None
    budgets = session.scalars(
        select(Account.budget_id).join(Posting, Posting.account_id == Account.id).where(Posting.entry_id == entry_id, Account.budget_id.is_not(None)).distinct()
    )
    return Owner(book, frozenset(budgets))


def _plan_version(session: Session, version_id: int) -> Owner | None:
    return _budget(session, session.scalar(select(SupportPlanVersion.budget_id).where(SupportPlanVersion.id == version_id)))


def _pause(session: Session, pause_id: int) -> Owner | None:
    return _budget(session, session.scalar(select(BudgetPause.budget_id).where(BudgetPause.id == pause_id)))


def _payable(session: Session, payable_id: int) -> Owner | None:
    holder = session.scalar(select(Payable.holder_id).where(Payable.id == payable_id))
    if holder is None:
        return None
    return Owner(holder, frozenset(session.scalars(select(PayableLine.budget_id).where(PayableLine.payable_id == payable_id).distinct())))


def _pool(session: Session, pool_id: int) -> Owner | None:
    holder = session.scalar(select(Pool.holder_id).where(Pool.id == pool_id))
    return Owner(holder) if holder is not None else None


def _flag(session: Session, flag_id: int) -> Owner | None:
    row = session.execute(select(Flag.holder_id, Flag.budget_id).where(Flag.id == flag_id)).first()
    if row is None:
        return None
    return Owner(row.holder_id, frozenset({row.budget_id}) if row.budget_id is not None else frozenset())


def _notice(session: Session, notice_id: int) -> Owner | None:
    flag_id = session.scalar(select(RepaymentNotice.flag_id).where(RepaymentNotice.id == notice_id))
    return _flag(session, flag_id) if flag_id is not None else None


def _evidence(session: Session, evidence_id: int) -> Owner | None:
    row = session.execute(select(Evidence.holder_id, Evidence.budget_id).where(Evidence.id == evidence_id)).first()
    if row is None:
        return None
    return Owner(row.holder_id, frozenset({row.budget_id}) if row.budget_id is not None else frozenset())


def _document(session: Session, document_id: int) -> Owner | None:
    row = session.execute(select(ReportDocument.budget_id, ReportDocument.holder_id, ReportDocument.funder_id).where(ReportDocument.id == document_id)).first()
    if row is None:
        return None
    if row.budget_id is not None:
        return _budget(session, row.budget_id)
    return Owner(row.holder_id, funder_id=row.funder_id)


def _user(session: Session, user_id: int) -> Owner | None:
    return Owner(None, user_id=user_id) if session.get(UserAccount, user_id) is not None else None


def _api_token(session: Session, token_id: int) -> Owner | None:
    user_id = session.scalar(select(ApiToken.user_id).where(ApiToken.id == token_id))
    return Owner(None, user_id=user_id) if user_id is not None else None


RESOLVERS: dict[str, tuple[str, str, Callable[[Session, object], Owner | None]]] = {
    "account_id": ("account", "account_not_found", _account),  # type: ignore[dict-item]
    "code": ("account", "account_not_found", _account_code),  # type: ignore[dict-item]
    "import_id": ("statement import", "statement_import_not_found", _statement_import),  # type: ignore[dict-item]
    "line_id": ("statement line", "statement_line_not_found", _statement_line),  # type: ignore[dict-item]
    "entry_id": ("journal entry", "entry_not_found", _entry),  # type: ignore[dict-item]
    "version_id": ("plan version", "plan_version_not_found", _plan_version),  # type: ignore[dict-item]
    "pause_id": ("pause", "pause_not_found", _pause),  # type: ignore[dict-item]
    "payable_id": ("payable", "payable_not_found", _payable),  # type: ignore[dict-item]
    "pool_id": ("pool", "pool_not_found", _pool),  # type: ignore[dict-item]
    "flag_id": ("flag", "flag_not_found", _flag),  # type: ignore[dict-item]
    "notice_id": ("repayment notice", "notice_not_found", _notice),  # type: ignore[dict-item]
    "evidence_id": ("evidence", "evidence_not_found", _evidence),  # type: ignore[dict-item]
    "document_id": ("document", "document_not_found", _document),  # type: ignore[dict-item]
    "user_id": ("user", "user_not_found", _user),  # type: ignore[dict-item]
    "token_id": ("API token", "token_not_found", _api_token),  # type: ignore[dict-item]
}
"""Each path parameter naming a record: what it is called, and how to find whose it is."""


def can_see(session: Session, principal: Principal, owner: Owner) -> bool:
    if principal.is_admin:
        return True
    if owner.user_id is not None:
        return owner.user_id == principal.user_id
    if principal.is_holder and owner.holder_id is not None:
        return owner.holder_id == principal.holder_id
    if owner.budget_ids:
        return any(can_see_budget(session, principal, budget_id) for budget_id in owner.budget_ids)
    if owner.funder_id is not None and owner.holder_id is None:
        # A funder-wide record (a tracker, a return, an audit pack) is the funder's own.
        return principal.is_auditor and principal.funder_id == owner.funder_id
    if owner.person_id is not None:
        return can_see_person(session, principal, owner.person_id)
    return owner.holder_id is not None and can_see_holder(session, principal, owner.holder_id)


def require_visible(session: Session, principal: Principal, parameter: str, value: object) -> Owner:
    """The owner of the record a path parameter names, if ``principal`` may see it; else the
    same 404 as for a record that does not exist."""
    noun, code, resolve = RESOLVERS[parameter]
    owner = resolve(session, value)
    if owner is None or not can_see(session, principal, owner):
        raise NotFound(f"there is no {noun} {value!r}" if isinstance(value, str) else f"there is no {noun} {value}", code=code)
    return owner
