"""Recovering money a flag is about: the funder requires repayment by written notice
(regulation 15 of the NHS (Direct Payments) Regulations 2013), and records the money coming
back: repaid (posted, undoing the spend) or offset against the next card loads.

A repayment notice says what regulation 15 requires it to say: the reasons, the amount, the
time to repay and who repays; and that the recipient may ask for the decision to be
reconsidered (reg. 15(4)). It names the budget by its reference, never the person.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.core import checks
from ledger.core.accounts import account_ids_by_code, budget_account_code
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import load_entry, post_entry
from ledger.core.money import AMOUNT_PENCE_MAX
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.errors import Conflict, InvalidInput
from ledger.flags.repayment_notices import plain_date, repayment_notice_text
from ledger.flags.states import ActorRole, RecoveryInto, RecoveryMethod
from ledger.flags.steps import NOTE_LENGTH_MAX, Links, make_step, take_step
from ledger.flags.views import FlagView
from ledger.loads.offsets import offset_against_loads
from ledger.store.tables import Account, Budget, Funder
from ledger.store.tables.flags import Flag, FlagEvent, RepaymentNotice


def request_recovery(
    session: Session,
    flag_id: int,
    *,
    amount_pence: int,
    reasons: str,
    repay_by: date,
    repayer: str,
    issued_on: date,
    actor: str,
    actor_role: str = ActorRole.FUNDER,
) -> FlagView:
    """Require repayment by written notice (regulation 15); the notice is stored with its text."""
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or not 0 < amount_pence <= AMOUNT_PENCE_MAX:
        raise InvalidInput("amount must be more than £0.00", code="recovery_amount_not_positive", field="amount")
    reasons = checks.required_text(reasons, "reasons", max_length=NOTE_LENGTH_MAX)
    repayer = checks.required_text(repayer, "repayer", max_length=200)
    if repay_by <= issued_on:
        raise InvalidInput(
            f"repay_by {repay_by} must be after the notice is issued ({issued_on}): the notice gives time to repay",
            code="repay_by_not_after_issue",
            field="repay_by",
        )
    terms = (amount_pence, reasons, repay_by, repayer, issued_on)
    step = make_step("request_recovery", actor, actor_role, reasons)

    def same_notice(event: FlagEvent) -> bool:
        notice = session.get(RepaymentNotice, event.notice_id) if event.notice_id else None
        return notice is not None and (notice.amount_pence, notice.reasons, notice.repay_by, notice.repayer, notice.issued_on) == terms

    def issue(flag: Flag) -> Links:
        return Links(notice_id=_issue_notice(session, flag, step.actor, *terms).id)

    return take_step(session, flag_id, step, issue, same_notice)


def record_recovery(
    session: Session,
    flag_id: int,
    *,
    method: str,
    on: date,
    actor: str,
    actor_role: str = ActorRole.FUNDER,
    into: str = RecoveryInto.CARD,
) -> FlagView:
    """The notice's amount came back: repaid (posted, undoing the spend) or offset against
    the next card loads."""
    how = checks.choice(method, RecoveryMethod, "method")
    where = checks.choice(into, RecoveryInto, "into")
    if how is RecoveryMethod.REPAYMENT:
        note = f"Repayment received {'onto the card' if where is RecoveryInto.CARD else 'into the account'} on {plain_date(on)}"
    else:
        note = f"Recovered by offset against the card loads from {plain_date(on)}"
    step = make_step("record_recovery", actor, actor_role, note)
    return take_step(session, flag_id, step, lambda flag: _recover(session, flag, how, where, on, step.actor))


def _flag_budget(session: Session, flag: Flag, what: str) -> Budget:
    if flag.budget_id is None:
        raise InvalidInput(f"flag {flag.id} is not about one budget, so there is nothing to {what}", code="recovery_needs_budget")
    return get_budget(session, flag.budget_id)


def _issue_notice(
    session: Session, flag: Flag, issued_by: str, amount_pence: int, reasons: str, repay_by: date, repayer: str, issued_on: date
) -> RepaymentNotice:
    budget = _flag_budget(session, flag, "repay")
    funder_id = flag.funder_id or budget.lead_funder_id
    funder = session.get(Funder, funder_id)
    assert funder is not None, "a budget's lead funder exists"
    text = repayment_notice_text(
        funder_name=funder.name, budget_reference=budget.reference, flag_id=flag.id, flag_code=flag.code,
        flag_reason=flag.reason, reasons=reasons, amount_pence=amount_pence, repay_by=repay_by, repayer=repayer,
        issued_on=issued_on,
    )  # fmt: skip
    notice = RepaymentNotice(
        flag_id=flag.id, budget_id=budget.id, funder_id=funder_id, amount_pence=amount_pence, reasons=reasons,
        repay_by=repay_by, repayer=repayer, issued_by=issued_by, issued_on=issued_on, text=text,
    )  # fmt: skip
    session.add(notice)
    session.flush()
    return notice


def _recover(session: Session, flag: Flag, how: RecoveryMethod, where: RecoveryInto, on: date, actor: str) -> Links:
    notice = session.scalars(
        select(RepaymentNotice).where(RepaymentNotice.flag_id == flag.id).order_by(RepaymentNotice.id.desc()).limit(1)
    ).first()
    assert notice is not None, "a flag whose recovery was requested has a notice"
    if on < notice.issued_on:
        raise InvalidInput(
            f"{on} is before the notice was issued ({notice.issued_on})", code="recovery_before_notice", field="on"
        )
    budget = _flag_budget(session, flag, "recover")
    if how is RecoveryMethod.OFFSET:
        offset = offset_against_loads(
            session, budget.id, amount_pence=notice.amount_pence, starts_on=on,
            reason=f"Recovery for flag {flag.id}: {flag.reason}"[:1000], decided_by=actor, decided_on=on,
        )  # fmt: skip
        return Links(load_offset_id=offset.id, notice_id=notice.id)
    entry_id = _post_repayment(session, flag, budget, notice, where, on, actor)
    return Links(entry_id=entry_id, notice_id=notice.id)


def _post_repayment(
    session: Session, flag: Flag, budget: Budget, notice: RepaymentNotice, where: RecoveryInto, on: date, actor: str
) -> int:
    spent_on = _spend_account_of(session, flag)
    into_code = budget_account_code(budget.reference, AccountKind.CARD if where is RecoveryInto.CARD else AccountKind.CASH)
    into_id = account_ids_by_code(session, [into_code])[into_code]
    result = post_entry(
        session,
        NewEntry(
            book_id=flag.holder_id,
            entry_date=on,
            description=f"Repayment required by notice {notice.id} for flag {flag.id} ({flag.code}): {budget.reference}"[:500],
            idempotency_key=f"flag-recovery:{flag.id}",
            postings=(NewPosting(into_id, notice.amount_pence), NewPosting(spent_on, -notice.amount_pence)),
            kind=EntryKind.RECOVERY,
            created_by=actor,
        ),
    )
    if result.outcome.is_conflict:
        raise Conflict(
            f"the journal already holds entry {result.entry.id} for the recovery of flag {flag.id}, saying something else",
            code="flag_recovery_conflict",
            details={"entry_id": result.entry.id},
        )
    return result.entry.id


def _spend_account_of(session: Session, flag: Flag) -> int:
    """The account the flagged money went to: the spend (or fees) account of the flag's
    budget its entry debited — the flag's own account when it names one, else the largest."""
    if flag.entry_id is None:
        raise InvalidInput(
            f"flag {flag.id} names no spend entry to undo; recover the money by offset against the next loads",
            code="recovery_needs_spend",
            field="method",
        )
    entry = load_entry(session, flag.entry_id)
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_([p.account_id for p in entry.postings])))}
    debits = [
        p for p in entry.postings
        if p.amount_pence > 0 and accounts[p.account_id].kind in (AccountKind.SPEND, AccountKind.FEES)
        and accounts[p.account_id].budget_id == flag.budget_id
    ]  # fmt: skip
    if not debits:
        raise InvalidInput(
            f"entry {entry.id} of flag {flag.id} spent nothing from the flag's budget", code="recovery_needs_spend", field="method"
        )
    own = [p for p in debits if p.account_id == flag.account_id]
    return (own or sorted(debits, key=lambda p: (-p.amount_pence, p.line_no)))[0].account_id


__all__ = ["record_recovery", "request_recovery"]
