"""Set-ups for the payables tests: a holder with many agreed budgets, balances by code, and
payroll CSV text."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core import balances
from ledger.store.tables import Account, Budget, JournalEntry, Posting
from ledger.store.tables.payables import Payable, PayableLine
from tests.support.builders import World, make_budget, make_person, make_plan, make_world


def world_with_budgets(session: Session, count: int) -> tuple[World, list[Budget]]:
    """``make_world`` and ``count`` budgets of its holder in all (ISF-0001 … ), each agreed."""
    world = make_world(session)
    budgets = [world.budget]
    for number in range(2, count + 1):
        person = make_person(session, f"Person {number}")
        budget = make_budget(session, world.holder, person, world.icb, reference=f"ISF-{number:04d}")
        make_plan(session, budget, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
        budgets.append(budget)
    return world, budgets


def balance(session: Session, code: str) -> int:
    """The signed sum of an account (debit positive), by its code."""
    account_id = session.execute(select(Account.id).where(Account.code == code)).scalar_one()
    return balances.signed_sums(session, [account_id]).get(account_id, 0)


def counts(session: Session) -> tuple[int, int, int, int]:
    """Entries, postings, payables and payable lines: equal before and after means nothing
    was recorded."""
    return tuple(  # type: ignore[return-value]
        session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in (JournalEntry, Posting, Payable, PayableLine)
    )


def payroll_csv(rows: list[tuple[str, ...]], header: str = "worker,budget,hours,rate,employer_costs,category") -> bytes:
    return ("\n".join([header, *(",".join(row) for row in rows)]) + "\n").encode()
