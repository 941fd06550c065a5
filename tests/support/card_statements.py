"""Card statements for reconciliation tests: prepaid-card CSV files (the shipped
``prepaid_card`` layout) built from a list of lines, with running balances, and a budget
whose card has the drawdowns the loads stand for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.vocabulary import EntryKind
from ledger.store.tables import Budget
from tests.support.builders import World
from web.statement_import import import_statement

HEADER = "Transaction ID,Date,Card Number,Merchant,Description,MCC,Type,Amount,Fee,Currency,Balance"


@dataclass(frozen=True)
class CardLine:
    id: str
    day: date
    merchant: str
    mcc: str
    kind: str
    pence: int
    fee_pence: int = 0


def pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def card_csv(lines: list[CardLine], opening_pence: int = 0) -> bytes:
    balance = opening_pence
    rows = [HEADER]
    for line in lines:
        balance += line.pence - line.fee_pence
        rows.append(
            f"{line.id},{line.day:%d/%m/%Y},************4321,{line.merchant},{line.merchant},{line.mcc},{line.kind},"
            f"{pounds(line.pence)},{pounds(line.fee_pence) if line.fee_pence else ''},GBP,{pounds(balance)}"
        )
    return ("\n".join(rows) + "\n").encode()


def post_drawdown(session: Session, world: World, budget: Budget, day: date, pence: int, key: str) -> int:
    """A card load as the drawdown service posts it (debit card, credit cash)."""
    result = post_entry(
        session,
        NewEntry(
            book_id=budget.holder_id, entry_date=day, description=f"Card load {day}", idempotency_key=key,
            postings=(NewPosting(world.account_id(session, "card", budget), pence), NewPosting(world.account_id(session, "cash", budget), -pence)),
            kind=EntryKind.DRAWDOWN, created_by="test",
        ),  # fmt: skip
    )
    return result.entry.id


def import_card(session: Session, world: World, budget: Budget, lines: list[CardLine], name: str = "card.csv") -> int:
    result = import_statement(
        session, account_id=world.account_id(session, "card", budget), data=card_csv(lines), file_name=name,
        format="csv:prepaid_card", imported_by="test",
    )  # fmt: skip
    assert result.import_id is not None
    return result.import_id
