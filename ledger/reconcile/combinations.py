"""Lines on the client bank account that stand for several things at once.

Money in: a funder's payment for several budgets. Its remittance advice, recorded before
the line arrived, says which budgets (the line carries the advice's reference); without one,
the combination of outstanding receivables — each budget's instalments, oldest first — that
adds up to the line exactly. Money out: one transfer for a day's card loads, or the approved
payables (a payroll run over many budgets, a supplier's invoices) that add up exactly.

Exactly one fitting combination is acted on (the receipt recorded, the payables paid, through
the services that own them); more than one is a question for a person, never a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import EntryKind
from ledger.money_in.funder_receipts import EARLY_PAYMENT_DAYS, record_funder_receipt
from ledger.money_in.receipt_shares import REFERENCE_LENGTH_MAX, outstanding_instalments
from ledger.money_out.payables import BANK_REFERENCE_LENGTH_MAX, pay_payables
from ledger.reconcile.exact_combinations import exact_combinations
from ledger.reconcile.ledger_side import Candidate
from ledger.reconcile.lines import Line
from ledger.store.tables import Budget, Funder
from ledger.store.tables.funder_payments import ExpectedPayment
from ledger.store.tables.payables import Payable
from ledger.store.tables.reconciliation import ReconciliationMatchPart, RemittanceAdvice

INSTALMENTS_PER_BUDGET_MAX = 6
PAYABLES_CONSIDERED_MAX = 40
PROPOSALS_MAX = 5
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True)
class Outcome:
    method: str | None = None
    parts: tuple[tuple[int | None, int, int | None, bool], ...] = ()
    taken: tuple[Candidate, ...] = ()
    ambiguous: bool = False


@dataclass(frozen=True, slots=True)
class ReceivablesProposal:
    funder_id: int
    shares: tuple[tuple[int, int], ...]
    """(budget id, pence), by budget id."""


@dataclass(frozen=True, slots=True)
class PayablesProposal:
    payable_ids: tuple[int, ...]


def squashed(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


def line_reference(line: Line, max_length: int) -> str:
    """The bank's words for a line, made unique by its id (two lines alike on one day stay two)."""
    suffix = f" [line {line.id}]"
    return (line.description.strip()[: max_length - len(suffix)] or "bank line") + suffix


# --- money in -----------------------------------------------------------------------------


def bank_credit_match(session: Session, holder_id: int, line: Line, actor: str) -> Outcome:
    advice = _remittance_advice(session, holder_id, line)
    if advice is not None:
        lines = [(str(ref), int(pence)) for ref, pence in json.loads(advice.lines)]
        recorded = record_funder_receipt(
            session, holder_id, advice.funder_id, received_on=line.posted_on, amount_pence=line.amount_pence,
            reference=advice.reference, remittance=lines, created_by=actor,
        )  # fmt: skip
        if _entry_matched(session, line.account_id, recorded.receipt.entry_id):
            return Outcome()
        advice.receipt_id = recorded.receipt.id
        return Outcome("remittance", ((recorded.receipt.entry_id, line.amount_pence, None, False),))
    proposals, gave_up = receivables_proposals(session, holder_id, line)
    if len(proposals) != 1 or gave_up:
        return Outcome(ambiguous=len(proposals) > 1 or gave_up)
    return Outcome("receivables", (record_receivables(session, holder_id, line, proposals[0], actor),))


def record_receivables(session: Session, holder_id: int, line: Line, proposal: ReceivablesProposal, actor: str) -> tuple[int | None, int, int | None, bool]:
    """Record the funder's payment a line is, split as the combination says (reconciliation's
    one fitting combination, or the one a person confirmed)."""
    references = dict(session.execute(select(Budget.id, Budget.reference).where(Budget.id.in_([b for b, _ in proposal.shares]))).all())
    recorded = record_funder_receipt(
        session, holder_id, proposal.funder_id, received_on=line.posted_on, amount_pence=line.amount_pence,
        reference=line_reference(line, REFERENCE_LENGTH_MAX),
        remittance=[(references[budget_id], pence) for budget_id, pence in proposal.shares], created_by=actor,
    )  # fmt: skip
    single = proposal.shares[0][0] if len(proposal.shares) == 1 else None
    return (recorded.receipt.entry_id, line.amount_pence, single, False)


def _remittance_advice(session: Session, holder_id: int, line: Line) -> RemittanceAdvice | None:
    text = squashed(f"{line.description} {line.payee or ''}")
    fitting = [
        advice
        for advice in session.scalars(
            select(RemittanceAdvice).where(
                RemittanceAdvice.holder_id == holder_id,
                RemittanceAdvice.receipt_id.is_(None),
                RemittanceAdvice.total_pence == line.amount_pence,
            ).order_by(RemittanceAdvice.id)
        )
        if squashed(advice.reference) and squashed(advice.reference) in text
    ]
    return fitting[0] if len(fitting) == 1 else None


def receivables_proposals(session: Session, holder_id: int, line: Line) -> tuple[list[ReceivablesProposal], bool]:
    """The combinations of outstanding receivables that add up to the line exactly (at most
    ``PROPOSALS_MAX``), from the funders the line names if it names any, and whether the
    search gave up."""
    due_by = line.posted_on + timedelta(days=EARLY_PAYMENT_DAYS)
    instalments = outstanding_instalments(
        session, and_(Budget.holder_id == holder_id, ExpectedPayment.due_on <= due_by, ExpectedPayment.funder_id.is_not(None))
    )
    if not instalments:
        return [], False
    funder_of = dict(session.execute(select(ExpectedPayment.id, ExpectedPayment.funder_id).where(ExpectedPayment.id.in_([i.id for i in instalments]))).all())
    by_funder: dict[int, dict[int, list[int]]] = {}
    for instalment in instalments:  # oldest first already
        budgets = by_funder.setdefault(funder_of[instalment.id], {})
        budgets.setdefault(instalment.budget_id, []).append(instalment.outstanding_pence)
    funders = _named_funders(session, sorted(by_funder), line) or sorted(by_funder)
    proposals: list[ReceivablesProposal] = []
    gave_up = False
    for funder_id in funders:
        budget_ids = sorted(by_funder[funder_id])
        groups = [_prefix_sums(by_funder[funder_id][b][:INSTALMENTS_PER_BUDGET_MAX]) for b in budget_ids]
        found = exact_combinations(line.amount_pence, groups, limit=PROPOSALS_MAX)
        gave_up = gave_up or found.gave_up
        for combination in found.found:
            shares = tuple((budget_ids[g], groups[g][i]) for g, i in enumerate(combination) if i)
            proposals.append(ReceivablesProposal(funder_id, shares))
    return proposals[:PROPOSALS_MAX], gave_up


def _prefix_sums(amounts: Sequence[int]) -> list[int]:
    sums = [0]
    for amount in amounts:
        sums.append(sums[-1] + amount)
    return sums


def _named_funders(session: Session, funder_ids: list[int], line: Line) -> list[int]:
    text = f" {squashed_words(line.description + ' ' + (line.payee or ''))} "
    named = []
    for funder in session.scalars(select(Funder).where(Funder.id.in_(funder_ids)).order_by(Funder.id)):
        if any(f" {squashed_words(name)} " in text for name in (funder.code, funder.name) if squashed_words(name)):
            named.append(funder.id)  # type: ignore[arg-type]
    return named


def squashed_words(text: str) -> str:
    return " ".join(_NOT_ALNUM.sub(" ", text.casefold()).split())


def _entry_matched(session: Session, account_id: int, entry_id: int) -> bool:
    return (
        session.scalar(
            select(ReconciliationMatchPart.id).where(ReconciliationMatchPart.account_id == account_id, ReconciliationMatchPart.active_entry_id == entry_id)
        )
        is not None
    )


# --- money out ----------------------------------------------------------------------------


def bank_debit_match(session: Session, holder_id: int, line: Line, available: list[Candidate], window_days: int, actor: str) -> Outcome:
    loads = _bulk_loads(line, available, window_days)
    if loads:
        parts = tuple((c.entry_id, c.bank_pence, c.by_budget[0][0] if len(c.by_budget) == 1 else None, False) for c in loads)
        return Outcome("bulk_loads", parts, tuple(loads))
    proposals, gave_up = payables_proposals(session, holder_id, line, window_days)
    if len(proposals) != 1 or gave_up:
        return Outcome(ambiguous=len(proposals) > 1 or gave_up)
    return Outcome("payables", (pay_proposal(session, holder_id, line, proposals[0], actor),))


def pay_proposal(session: Session, holder_id: int, line: Line, proposal: PayablesProposal, actor: str) -> tuple[int | None, int, int | None, bool]:
    paid = pay_payables(
        session, holder_id, list(proposal.payable_ids), paid_on=line.posted_on,
        bank_reference=line_reference(line, BANK_REFERENCE_LENGTH_MAX), amount_pence=-line.amount_pence, paid_by=actor,
    )  # fmt: skip
    budgets = list(paid.totals_by_budget)
    single = None
    if len(budgets) == 1:
        single = session.scalar(select(Budget.id).where(Budget.reference == budgets[0]))
    return (paid.entry_id, line.amount_pence, single, False)


def _bulk_loads(line: Line, available: list[Candidate], window_days: int) -> list[Candidate]:
    by_day: dict = {}
    for candidate in available:
        if candidate.kind == EntryKind.DRAWDOWN and abs((candidate.entry_date - line.posted_on).days) <= window_days:
            by_day.setdefault(candidate.entry_date, []).append(candidate)
    for day in sorted(by_day, key=lambda d: (abs((d - line.posted_on).days), d)):
        loads = by_day[day]
        if len(loads) > 1 and sum(c.bank_pence for c in loads) == line.amount_pence:
            return loads
    return []


def payables_proposals(session: Session, holder_id: int, line: Line, window_days: int) -> tuple[list[PayablesProposal], bool]:
    """The sets of approved, unpaid payables that add up to what left the bank, from the
    supplier the line names if it names one."""
    target = -line.amount_pence
    payables = list(
        session.scalars(
            select(Payable)
            .where(
                Payable.holder_id == holder_id, Payable.status == "approved", Payable.total_pence <= target,
                Payable.dated_on <= line.posted_on + timedelta(days=window_days),
            )
            .order_by(Payable.dated_on, Payable.id)
        )
    )
    if not payables:
        return [], False
    text = f" {squashed_words(line.description + ' ' + (line.payee or ''))} "
    named = [p for p in payables if squashed_words(p.supplier) and f" {squashed_words(p.supplier)} " in text]
    pool = (named or payables)[-PAYABLES_CONSIDERED_MAX:]
    found = exact_combinations(target, [[0, p.total_pence] for p in pool], limit=PROPOSALS_MAX)
    proposals = [PayablesProposal(tuple(sorted(pool[g].id for g, i in enumerate(c) if i))) for c in found.found]  # type: ignore[misc]
    return proposals, found.gave_up


__all__ = [
    "Outcome", "PayablesProposal", "ReceivablesProposal", "bank_credit_match", "bank_debit_match", "line_reference",
    "pay_proposal", "payables_proposals", "receivables_proposals", "record_receivables",
]  # fmt: skip
