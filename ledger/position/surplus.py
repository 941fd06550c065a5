"""What happens to a surplus (DESIGN.md §1, issue 10 item 11): returned to the funders,
accepted with a reason, or reallocated by a plan revision; for an open budget (a surplus
found mid-year) or a closed one. (Offsetting it against the next loads is
``ledger.loads.offsets``; its decisions use the same table with action ``offset``.)

The surplus is held funds − committed − unspent transition, as ``ledger.position.figures`` works it
out (the contingency has its own account, so it is never in held funds; transition money is
never surplus while it can still be spent). Once the budget is closed, what it holds can no
longer be spent, so a return may take all of it — unspent transition money too — and leave
nothing. Every decision is checked against it under the book's lock, so two racing
decisions cannot both spend the same surplus.

Returning posts debit ``B:returned:F`` for each funder, credit ``B:cash`` (``surplus_return``),
by default pro rata to what each funder allocated (the person counts as a funder for their
client contribution), split with ``split_pence`` so the parts add up exactly. Its key is
``budget:<id>:surplus-return:<day>:<pence>``: the same return asked for again (a retry)
returns the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.core import checks
from ledger.core.accounts import CONTRIBUTION_CODE, account_ids_by_code, budget_account_code
from ledger.core.balances import budget_balances
from ledger.core.entries import ENTRY_DATE_MAX, ENTRY_DATE_MIN, NewEntry, NewPosting, PostOutcome
from ledger.core.journal import load_entry, lock_book, post_entry
from ledger.core.money import AMOUNT_PENCE_MAX, format_gbp, split_pence
from ledger.core.vocabulary import AccountKind, BudgetStatus, EntryKind, PlanStatus
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.position.figures import MoneyFigures, budget_figures
from ledger.store.tables import Account, Budget, Funder, SupportPlanVersion
from ledger.store.tables.closing import SurplusDecision

DECISION_ACTIONS = ("accept", "reallocate", "return")
"""What ``record_surplus_decision`` takes; ``offset`` is recorded by the load offsets."""


@dataclass(frozen=True, slots=True)
class ReturnedShare:
    funder_id: int | None
    funder_code: str
    amount_pence: int


@dataclass(frozen=True, slots=True)
class SurplusReturn:
    decision: SurplusDecision
    shares: list[ReturnedShare]
    created: bool
    """False when this was a replay of a return already made."""


def return_surplus(
    session: Session,
    budget_id: int,
    *,
    amount_pence: int | None = None,
    on: date,
    reason: str,
    decided_by: str,
    shares: dict[int | None, int] | None = None,
    recorded_by: str | None = None,
) -> SurplusReturn:
    """Return ``amount_pence`` (default: all of the surplus) to the funders; ``shares``
    names each funder's part (``None`` for the person) instead of pro rata."""
    budget = get_budget(session, budget_id)
    reason = checks.required_text(reason, "reason", max_length=1000)
    decided_by = checks.required_text(decided_by, "decided_by", max_length=200)
    recorded_by = checks.required_text(recorded_by, "recorded_by", max_length=200) if recorded_by is not None else decided_by
    checks.date_between(on, "on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    if amount_pence is not None:
        _check_amount(amount_pence, "amount")
    lock_book(session, budget.holder_id)
    replay = _earlier_return(session, budget, on, reason, amount_pence)
    if replay is not None:
        return replay
    surplus = _returnable(budget, budget_figures(session, budget))
    amount = surplus if amount_pence is None else amount_pence
    if amount <= 0:
        raise Conflict(f"{budget.reference} has no surplus to return", code="no_surplus", details={"surplus_pence": surplus})
    _refuse_beyond_surplus(budget, amount, surplus)
    allocations = _allocations(session, budget)
    parts = surplus_shares(allocations, amount, shares)
    codes = _funder_codes(session, [key for key in parts if key is not None])
    returned_codes = {key: budget_account_code(budget.reference, AccountKind.RETURNED, codes.get(key, CONTRIBUTION_CODE)) for key in parts}
    cash_code = budget_account_code(budget.reference, AccountKind.CASH)
    ids = account_ids_by_code(session, [*returned_codes.values(), cash_code], field="shares")
    postings = [NewPosting(ids[returned_codes[key]], pence) for key, pence in parts.items() if pence]
    result = post_entry(
        session,
        NewEntry(
            book_id=budget.holder_id,
            entry_date=on,
            description=f"Surplus of {budget.reference} returned to its funders: {reason}"[:500],
            idempotency_key=f"budget:{budget.id}:surplus-return:{on.isoformat()}:{amount}",
            postings=(*postings, NewPosting(ids[cash_code], -amount)),
            kind=EntryKind.SURPLUS_RETURN,
            created_by=recorded_by,
        ),
    )
    if result.outcome is not PostOutcome.CREATED:
        raise Conflict(
            f"a surplus return of {format_gbp(amount)} on {on} was already recorded for {budget.reference} ({result.outcome})",
            code="surplus_return_exists",
            details={"entry_id": result.entry.id},
        )
    decision = SurplusDecision(
        budget_id=budget.id, action="return", amount_pence=amount, reason=reason, decided_by=decided_by, decided_on=on,
        entry_id=result.entry.id, recorded_by=recorded_by,
    )  # fmt: skip
    session.add(decision)
    session.flush()
    return SurplusReturn(decision, _returned_shares(session, decision), created=True)


def record_surplus_decision(
    session: Session,
    budget_id: int,
    *,
    action: str,
    amount_pence: int,
    reason: str,
    decided_by: str,
    decided_on: date,
    plan_version_id: int | None = None,
    recorded_by: str | None = None,
) -> SurplusDecision:
    """Record that a surplus is accepted (kept, with a reason) or reallocated by a plan
    revision (``plan_version_id``: the draft or agreed version that spends it). ``return``
    returns the money (pro rata; see :func:`return_surplus`). The same decision recorded
    again returns the first."""
    budget = get_budget(session, budget_id)
    if action not in DECISION_ACTIONS:
        hint = " (offsets against the next loads are recorded with the load offsets)" if action == "offset" else ""
        raise InvalidInput(f"action must be one of: {', '.join(DECISION_ACTIONS)}{hint}", code="field_not_allowed", field="action")
    _check_amount(amount_pence, "amount")
    if action == "return":
        if plan_version_id is not None:
            raise InvalidInput("a return names no plan version", code="plan_version_not_wanted", field="plan_version_id")
        return return_surplus(
            session, budget.id, amount_pence=amount_pence, on=decided_on, reason=reason, decided_by=decided_by, recorded_by=recorded_by
        ).decision
    reason = checks.required_text(reason, "reason", max_length=1000)
    decided_by = checks.required_text(decided_by, "decided_by", max_length=200)
    recorded_by = checks.required_text(recorded_by, "recorded_by", max_length=200) if recorded_by is not None else decided_by
    checks.date_between(decided_on, "decided_on", earliest=ENTRY_DATE_MIN, latest=ENTRY_DATE_MAX)
    _check_plan_version(session, budget, action, plan_version_id)
    lock_book(session, budget.holder_id)
    earlier = session.execute(
        select(SurplusDecision).where(
            SurplusDecision.budget_id == budget.id, SurplusDecision.action == action, SurplusDecision.amount_pence == amount_pence,
            SurplusDecision.decided_on == decided_on, SurplusDecision.reason == reason,
        )
    ).scalar_one_or_none()
    if earlier is not None and earlier.plan_version_id == plan_version_id:
        return earlier
    _refuse_beyond_surplus(budget, amount_pence, budget_figures(session, budget).surplus_pence)
    decision = SurplusDecision(
        budget_id=budget.id, action=action, amount_pence=amount_pence, reason=reason, decided_by=decided_by,
        decided_on=decided_on, plan_version_id=plan_version_id, recorded_by=recorded_by,
    )  # fmt: skip
    session.add(decision)
    session.flush()
    return decision


def surplus_decisions(session: Session, budget_id: int) -> list[SurplusDecision]:
    get_budget(session, budget_id)
    return list(
        session.execute(
            select(SurplusDecision).where(SurplusDecision.budget_id == budget_id).order_by(SurplusDecision.decided_on, SurplusDecision.id)
        ).scalars()
    )


def returned_shares(session: Session, decision: SurplusDecision) -> list[ReturnedShare]:
    """Who a return went to, read back from its entry (empty for other decisions)."""
    return _returned_shares(session, decision)


# --- helpers ----------------------------------------------------------------------------


def _check_amount(amount_pence: int, field: str) -> None:
    assert isinstance(amount_pence, int) and not isinstance(amount_pence, bool), f"{field} must be int pence"
    if not 0 < amount_pence <= AMOUNT_PENCE_MAX:
        raise InvalidInput(
            f"{field} must be more than £0.00 and at most {format_gbp(AMOUNT_PENCE_MAX)}", code="amount_out_of_range", field=field
        )


def _returnable(budget: Budget, figures: MoneyFigures) -> int:
    """The surplus; for a closed budget, everything in held funds not committed. Unspent
    transition money is never surplus while it can still be spent, but once the budget is
    closed it cannot, so it goes back to the funders with the rest and leaves nothing."""
    if budget.status == BudgetStatus.CLOSED:
        return max(0, figures.held_pence - figures.committed_pence)
    return figures.surplus_pence


def _refuse_beyond_surplus(budget: Budget, amount: int, surplus: int) -> None:
    if amount > surplus:
        raise Conflict(
            f"{format_gbp(amount)} is more than the surplus of {budget.reference}, {format_gbp(surplus)} (held funds less"
            " committed money and unspent transition money, which is never surplus)",
            code="beyond_surplus",
            field="amount",
            details={"surplus_pence": surplus, "amount_pence": amount},
        )


def _earlier_return(session: Session, budget: Budget, on: date, reason: str, amount_pence: int | None) -> SurplusReturn | None:
    """The same return made before (same day and reason, and amount when one is given)."""
    query = select(SurplusDecision).where(
        SurplusDecision.budget_id == budget.id, SurplusDecision.action == "return",
        SurplusDecision.decided_on == on, SurplusDecision.reason == reason,
    )  # fmt: skip
    if amount_pence is not None:
        query = query.where(SurplusDecision.amount_pence == amount_pence)
    earlier = session.execute(query.order_by(SurplusDecision.id).limit(1)).scalar_one_or_none()
    if earlier is None:
        return None
    return SurplusReturn(earlier, _returned_shares(session, earlier), created=False)


def _allocations(session: Session, budget: Budget) -> dict[int | None, int]:
    """What each funder (None: the person) has allocated, by its allocation account."""
    return {
        (None if balance.is_person_contribution else balance.funder_id): balance.balance_pence
        for balance in budget_balances(session, budget.id)
        if balance.kind == AccountKind.ALLOCATION
    }


def surplus_shares(allocations: dict[int | None, int], amount: int, asked: dict[int | None, int] | None) -> dict[int | None, int]:
    """Each funder's part of a return: ``asked`` checked (funders of this budget, parts
    adding up to ``amount``), or pro rata to the allocations by the one split rule."""
    if asked is None:
        keys = sorted((key for key, pence in allocations.items() if pence > 0), key=lambda k: (k is None, k or 0))
        if not keys:
            raise Conflict("nothing has been allocated to this budget, so there is no funder to return to", code="no_allocation")
        return dict(zip(keys, split_pence(amount, [allocations[key] for key in keys]), strict=True))
    for key, pence in asked.items():
        where = f"shares[{'contribution' if key is None else key}]"
        if key not in allocations:
            raise InvalidInput(f"{where}: that funder does not fund this budget", code="funder_not_funding", field=where)
        if not isinstance(pence, int) or isinstance(pence, bool) or pence < 0:
            raise InvalidInput(f"{where} cannot be negative", code="amount_negative", field=where)
    if sum(asked.values()) != amount:
        raise InvalidInput(
            f"the shares come to {format_gbp(sum(asked.values()))} but the return is {format_gbp(amount)}",
            code="shares_do_not_add_up",
            field="shares",
        )
    return dict(sorted(asked.items(), key=lambda item: (item[0] is None, item[0] or 0)))


def _funder_codes(session: Session, funder_ids: list[int]) -> dict[int | None, str]:
    return dict(session.execute(select(Funder.id, Funder.code).where(Funder.id.in_(funder_ids))).all())


def _check_plan_version(session: Session, budget: Budget, action: str, plan_version_id: int | None) -> None:
    if action == "accept":
        if plan_version_id is not None:
            raise InvalidInput("accepting a surplus names no plan version", code="plan_version_not_wanted", field="plan_version_id")
        return
    if plan_version_id is None:
        raise InvalidInput(
            "a reallocation names the plan revision (draft or agreed) that spends the money",
            code="plan_version_required",
            field="plan_version_id",
        )
    version = session.get(SupportPlanVersion, plan_version_id)
    if version is None or version.budget_id != budget.id:
        raise NotFound(f"{budget.reference} has no plan version {plan_version_id}", code="plan_version_not_found", field="plan_version_id")
    if version.status not in (PlanStatus.DRAFT, PlanStatus.AGREED):
        raise Conflict(f"plan version {version.version} is {version.status}", code="plan_version_withdrawn", field="plan_version_id")


def _returned_shares(session: Session, decision: SurplusDecision) -> list[ReturnedShare]:
    if decision.entry_id is None:
        return []
    entry = load_entry(session, decision.entry_id)
    accounts = {
        account.id: account
        for account in session.execute(select(Account).where(Account.id.in_([p.account_id for p in entry.postings]))).scalars()
    }
    shares = []
    for posting in entry.postings:
        account = accounts[posting.account_id]
        if account.kind == AccountKind.RETURNED:
            funder_id = None if account.is_person_contribution else account.funder_id
            shares.append(ReturnedShare(funder_id, account.code.rsplit(":", 1)[1], posting.amount_pence))
    return sorted(shares, key=lambda share: (share.funder_id is None, share.funder_id or 0))
