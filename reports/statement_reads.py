"""What the council's monitoring return and the provider's statement to the person read from
the ledger, for one budget and one window of days:

- the money the budget holds (its bank share ``B:cash``, its card ``B:card`` and its
  contingency ``B:contingency``): the balance before and after the window and every entry
  that changed it, with the statement line behind each (the entry's own source file and
  line, or the line reconciliation matched it to). An entry whose postings to those three
  accounts net to zero (a card load, contingency set aside) only moves money between the
  budget's own accounts, so it is counted apart and never listed;
- what was paid from the bank for the person's support (wages with the hours and rate
  behind them, invoices), from the payments posted to ``B:payable``, with the payroll and
  invoice lines behind each payment where the payables service recorded them;
- what was bought (card and bank purchases, refunds, contingency spent), by category.

An entry that also posts to other budgets (a payroll run, one funder payment for many
people) keeps its description out of these documents: it names other people's budgets. It
is described by its kind instead, as this budget's part of a shared payment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core.balances import natural
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.store.tables import Account, Category, JournalEntry, Posting
from ledger.store.tables.payables import Payable, PayableLine
from ledger.store.tables.reconciliation import ReconciliationMatch, ReconciliationMatchPart
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from reports.budget_reads import AccountWindow
from reports.formatting import source_text

HELD_KINDS = (AccountKind.CASH, AccountKind.CARD, AccountKind.CONTINGENCY)
ACCOUNT_WORDS = {AccountKind.CASH: "Bank", AccountKind.CARD: "Card", AccountKind.CONTINGENCY: "Contingency"}
PURCHASE_KINDS = (
    EntryKind.CARD_PURCHASE, EntryKind.CARD_REFUND, EntryKind.BANK_SPEND, EntryKind.CONTINGENCY_USE,
    EntryKind.RECATEGORISATION, EntryKind.RECOVERY,
)  # fmt: skip
KIND_WORDS = {
    EntryKind.MANUAL: "Manual entry",
    EntryKind.FUNDER_PAYMENT: "Paid in by the funder",
    EntryKind.CONTRIBUTION_RECEIVED: "Client contribution paid in",
    EntryKind.MONEY_IDENTIFIED: "Money found to be this budget's",
    EntryKind.NOTIONAL_COST: "Cost paid by the funder",
    EntryKind.TOP_SLICE: "Management fee (top-slice)",
    EntryKind.TOP_SLICE_RETURN: "Management fee given back",
    EntryKind.CONTINGENCY_RING_FENCE: "Contingency set aside",
    EntryKind.CONTINGENCY_USE: "Contingency used",
    EntryKind.CONTINGENCY_RETURN: "Contingency returned",
    EntryKind.CARD_UNLOAD: "Card money moved back to the bank",
    EntryKind.TRANSITION_SPEND: "Transition cost",
    EntryKind.SURPLUS_OFFSET: "Surplus offset against card loads",
    EntryKind.DRAWDOWN: "Card load",
    EntryKind.CARD_PURCHASE: "Card purchase",
    EntryKind.CARD_REFUND: "Card refund",
    EntryKind.BANK_SPEND: "Paid from the bank account",
    EntryKind.RECATEGORISATION: "Moved to another category",
    EntryKind.RECOVERY: "Money paid back",
    EntryKind.PAYABLE_APPROVED: "Wages or invoice approved",
    EntryKind.PAYABLE_PAID: "Wages or invoice paid",
    EntryKind.FEE: "Bank or card fee",
    EntryKind.SURPLUS_RETURN: "Surplus returned to the funder",
    EntryKind.TRANSFER: "Transfer",
    EntryKind.REVERSAL: "Correction",
}


def kind_words(kind: str, original_kind: str | None = None) -> str:
    words = KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())  # type: ignore[call-overload]
    if kind == EntryKind.REVERSAL and original_kind:
        return f"Correction: reverses a {kind_words(original_kind).lower()}"
    return words


# --- money held -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldMove:
    """One entry that changed the money held: ``net_pence`` is money in (+) or out (−)."""

    entry_id: int
    entry_date: date
    seq: int
    kind: str
    original_kind: str | None
    description: str
    net_pence: int
    accounts: tuple[str, ...]
    """The held accounts it changed (cash, card, contingency)."""
    provenance: tuple[str, ...]
    """``file line N`` for each statement line behind it."""

    @property
    def money_in_pence(self) -> int:
        return max(0, self.net_pence)

    @property
    def money_out_pence(self) -> int:
        return max(0, -self.net_pence)


@dataclass(frozen=True)
class HeldMoney:
    opening_pence: int
    closing_pence: int
    opening_by_kind: dict[str, int]
    closing_by_kind: dict[str, int]
    moves: list[HeldMove]
    internal_count: int
    """Entries that moved money between the budget's own accounts (netting to zero)."""
    internal_moved_pence: int
    """What those moves carried (the sum of their debits to the held accounts)."""
    internal_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def money_in_pence(self) -> int:
        return sum(move.money_in_pence for move in self.moves)

    @property
    def money_out_pence(self) -> int:
        return sum(move.money_out_pence for move in self.moves)


def held_money(session: Session, budget_id: int, windows: list[AccountWindow], starts_on: date, ends_on: date) -> HeldMoney:
    """The money held before and after the window, and every entry in it that changed it."""
    held = {w.account_id: w for w in windows if w.kind in HELD_KINDS}
    opening_by_kind: dict[str, int] = {kind.value: 0 for kind in HELD_KINDS}
    closing_by_kind: dict[str, int] = {kind.value: 0 for kind in HELD_KINDS}
    for window in held.values():
        opening_by_kind[window.kind] += window.opening_pence
        closing_by_kind[window.kind] += window.closing_pence
    per_entry: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    entries: dict[int, tuple] = {}
    shared: set[int] = set()
    sources: dict[int, list[str]] = {}
    if held:
        entry_ids = _entries_touching(list(held), starts_on, ends_on)
        posting = Posting.__table__
        for entry_id, account_id, total in session.execute(
            select(posting.c.entry_id, posting.c.account_id, func.sum(posting.c.amount_pence))
            .where(posting.c.account_id.in_(list(held)), posting.c.entry_date.between(starts_on, ends_on))
            .group_by(posting.c.entry_id, posting.c.account_id)
        ):
            window = held[account_id]
            per_entry[entry_id][window.kind] += natural(window.type, int(total))
        entries = _entry_details(session, entry_ids)
        shared = _shared_entries(session, budget_id, entry_ids)
        sources = _provenance(session, entry_ids)
    moves: list[HeldMove] = []
    internal_count = internal_moved = 0
    internal_by_kind: dict[str, int] = defaultdict(int)
    for entry_id, changes in per_entry.items():
        net = sum(changes.values())
        entry_date, seq, kind, original_kind, description, source_file, source_line = entries[entry_id]
        if net == 0:
            internal_count += 1
            carried = sum(v for v in changes.values() if v > 0)
            internal_moved += carried
            internal_by_kind[original_kind or kind] += carried
            continue
        own_source = (source_text(source_file, source_line),) if source_file else ()
        moves.append(
            HeldMove(
                entry_id, entry_date, seq, kind, original_kind,
                shared_words(kind, original_kind) if entry_id in shared else description,
                net, tuple(ACCOUNT_WORDS[AccountKind(k)] for k in sorted(changes, key=_held_order) if changes[k]),
                tuple(dict.fromkeys(own_source + tuple(sources.get(entry_id, ())))),
            )
        )  # fmt: skip
    moves.sort(key=lambda move: (move.entry_date, move.seq, move.entry_id))
    result = HeldMoney(
        sum(opening_by_kind.values()), sum(closing_by_kind.values()), opening_by_kind, closing_by_kind, moves,
        internal_count, internal_moved, dict(internal_by_kind),
    )  # fmt: skip
    assert result.opening_pence + result.money_in_pence - result.money_out_pence == result.closing_pence, "held money must add up"
    return result


def shared_words(kind: str, original_kind: str | None) -> str:
    return f"{kind_words(kind, original_kind)}: this budget's part of one payment for several budgets"


def _held_order(kind: str) -> int:
    return [k.value for k in HELD_KINDS].index(kind)


def _entries_touching(account_ids: list[int], starts_on: date, ends_on: date):  # type: ignore[no-untyped-def]
    posting = Posting.__table__
    return select(posting.c.entry_id).where(posting.c.account_id.in_(account_ids), posting.c.entry_date.between(starts_on, ends_on)).distinct()


def _entry_details(session: Session, entry_ids) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    entry = JournalEntry.__table__
    original = entry.alias("original")
    rows = session.execute(
        select(entry.c.id, entry.c.entry_date, entry.c.seq, entry.c.kind, original.c.kind, entry.c.description,
               entry.c.source_file, entry.c.source_line)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(entry.c.id.in_(entry_ids))
    )  # fmt: skip
    return {row[0]: tuple(row[1:]) for row in rows}


def _shared_entries(session: Session, budget_id: int, entry_ids) -> set[int]:  # type: ignore[no-untyped-def]
    """Entries that post to another budget's accounts as well as this one's."""
    posting, account = Posting.__table__, Account.__table__
    rows = session.execute(
        select(posting.c.entry_id)
        .join(account, account.c.id == posting.c.account_id)
        .where(posting.c.entry_id.in_(entry_ids), account.c.budget_id.is_not(None), account.c.budget_id != budget_id)
        .distinct()
    )
    return {row[0] for row in rows}


def _provenance(session: Session, entry_ids) -> dict[int, list[str]]:  # type: ignore[no-untyped-def]
    """Entry id → the statement lines reconciliation matched it to (matches still standing)."""
    part, match = ReconciliationMatchPart.__table__, ReconciliationMatch.__table__
    line, imported = StatementLineRecord.__table__, StatementImport.__table__
    rows = session.execute(
        select(part.c.entry_id, imported.c.file_name, line.c.line_no, line.c.part)
        .join(match, match.c.id == part.c.match_id)
        .join(line, line.c.id == match.c.statement_line_id)
        .join(imported, imported.c.id == line.c.import_id)
        .where(part.c.entry_id.in_(entry_ids), part.c.active_entry_id.is_not(None), match.c.undone_at.is_(None))
        .order_by(part.c.entry_id, imported.c.file_name, line.c.line_no, line.c.part)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for entry_id, file_name, line_no, line_part in rows:
        text = f"{file_name} line {line_no}" + (f" (part {line_part + 1})" if line_part else "")
        if text not in found[entry_id]:
            found[entry_id].append(text)
    return found


# --- paid from the bank for support -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SupportPayment:
    """One line of what was paid from the bank for the person's support. ``kind`` is the
    payable's (wages, payroll, invoice, pooled), or None for a payment posted without one."""

    paid_on: date
    entry_id: int
    kind: str | None
    paid_to: str | None
    description: str
    category_code: str | None
    amount_pence: int
    worker: str | None = None
    hours_hundredths: int | None = None
    rate_pence: int | None = None
    employer_costs_pence: int | None = None
    shared: bool = False
    """Part of one payment for several budgets (its description is then the kind's words)."""

    @property
    def is_wages(self) -> bool:
        return self.kind in ("wages", "payroll")


def support_payments(session: Session, budget_id: int, payable_account_id: int | None, starts_on: date, ends_on: date) -> list[SupportPayment]:
    """Every payment from the bank for this budget's wages and invoices in the window: the
    payroll and invoice lines behind each where they were recorded, and what is left of a
    payment beyond them (a payment posted straight to the journal) as one line of its own.
    The lines add up to what the payments took off ``B:payable``."""
    if payable_account_id is None:
        return []
    posting, entry = Posting.__table__, JournalEntry.__table__
    original = entry.alias("original")
    paid = session.execute(
        select(entry.c.id, entry.c.entry_date, entry.c.seq, entry.c.kind, original.c.kind, entry.c.description, func.sum(posting.c.amount_pence))
        .join(entry, entry.c.id == posting.c.entry_id)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(posting.c.account_id == payable_account_id, posting.c.entry_date.between(starts_on, ends_on),
               func.coalesce(original.c.kind, entry.c.kind) == EntryKind.PAYABLE_PAID)
        .group_by(entry.c.id, entry.c.entry_date, entry.c.seq, entry.c.kind, original.c.kind, entry.c.description)
        .order_by(entry.c.entry_date, entry.c.seq)
    ).all()  # fmt: skip
    if not paid:
        return []
    entry_ids = [row[0] for row in paid]
    lines_by_entry: dict[int, list[SupportPayment]] = defaultdict(list)
    for payable, line, code in session.execute(
        select(Payable, PayableLine, Category.code)
        .join(PayableLine, PayableLine.payable_id == Payable.id)
        .join(Category, Category.id == PayableLine.category_id)
        .where(PayableLine.budget_id == budget_id, Payable.payment_entry_id.in_(entry_ids))
        .order_by(Payable.id, PayableLine.line_no)
    ):
        lines_by_entry[payable.payment_entry_id].append(
            SupportPayment(
                payable.paid_on, payable.payment_entry_id, payable.kind, line.worker or payable.supplier,
                line.description or payable.description or f"{payable.supplier} {payable.number}", code, line.amount_pence,
                line.worker or (payable.supplier if payable.kind == "wages" else None), line.hours_hundredths, line.rate_pence,
                line.employer_costs_pence,
            )
        )  # fmt: skip
    shared = _shared_entries(session, budget_id, entry_ids)
    payments: list[SupportPayment] = []
    for entry_id, entry_date, _seq, kind, original_kind, description, total in paid:
        lines = lines_by_entry.get(entry_id, []) if kind != EntryKind.REVERSAL else []
        payments += lines
        rest = int(total) - sum(line.amount_pence for line in lines)
        if rest:
            words = shared_words(kind, original_kind) if entry_id in shared else description
            payments.append(SupportPayment(entry_date, entry_id, None, None, words, None, rest, shared=entry_id in shared))
    return payments


# --- bought -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Purchase:
    entry_id: int
    bought_on: date
    kind: str
    description: str
    category_code: str
    amount_pence: int
    """Spent (+) or refunded (−), in this category."""


def purchases(session: Session, budget_id: int, starts_on: date, ends_on: date) -> list[Purchase]:
    """Card and bank purchases, refunds, contingency spent and moves between categories in
    the window: one line per entry and category."""
    posting, entry, account, category = Posting.__table__, JournalEntry.__table__, Account.__table__, Category.__table__
    original = entry.alias("original")
    kind = func.coalesce(original.c.kind, entry.c.kind)
    rows = session.execute(
        select(entry.c.id, entry.c.entry_date, entry.c.seq, kind, entry.c.description, category.c.code, func.sum(posting.c.amount_pence))
        .join(entry, entry.c.id == posting.c.entry_id)
        .join(account, account.c.id == posting.c.account_id)
        .join(category, category.c.id == account.c.category_id)
        .outerjoin(original, original.c.id == entry.c.reverses_entry_id)
        .where(account.c.budget_id == budget_id, account.c.kind == AccountKind.SPEND,
               posting.c.entry_date.between(starts_on, ends_on), kind.in_(PURCHASE_KINDS))
        .group_by(entry.c.id, entry.c.entry_date, entry.c.seq, kind, entry.c.description, category.c.code)
        .order_by(entry.c.entry_date, entry.c.seq, category.c.code)
    )  # fmt: skip
    return [Purchase(e, day, k, words, code, int(total)) for e, day, _seq, k, words, code, total in rows if int(total)]


__all__ = [
    "ACCOUNT_WORDS", "HELD_KINDS", "HeldMove", "HeldMoney", "PURCHASE_KINDS", "Purchase", "SupportPayment", "held_money",
    "kind_words", "purchases", "shared_words", "support_payments",
]  # fmt: skip
