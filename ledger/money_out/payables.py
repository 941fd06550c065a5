"""Paying for support from the client bank account: approve, pay and cancel payables.

ISF providers pay wages, agencies and invoices from the one client bank account that holds
many budgets. DESIGN.md §3:

- approved (committed): debit ``B:spend:<category>``, credit ``B:payable`` — one entry, one
  balanced pair per budget and category, however many budgets the payable covers;
- paid from the bank: debit ``B:payable``, credit ``B:cash`` — one entry for one bank
  payment, which may pay several payables, one pair per budget;
- cancelled before it is paid: the approval entry is reversed.

So "committed" is simply the balance of ``B:payable``.

Exactly once: an invoice is unique per holder by its supplier and number (case and spacing
ignored; a database index backs this), approving the same invoice again with the same content
returns the original, and each entry's key says what it is (``payable:<id>:approved``,
``payable:<id>:paid`` after the lowest payable id in the payment, ``payable:<id>:cancelled``).
Every service takes the book's lock before it reads, so two requests racing to approve or pay
the same thing queue, and the second sees what the first did.

Payroll runs (``ledger.money_out.payroll_runs``) and pooled costs (``ledger.money_out.pools``) build their lines
and approve them through :func:`approve_lines`, the shared core.

A payable's lines are checked by ``ledger.money_out.payable_lines``; payables are read back through
``ledger.money_out.payable_views``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.budgets.parties import get_holder
from ledger.core import checks
from ledger.core.accounts import budget_account_code
from ledger.core.entries import NO_PROVENANCE, NewEntry, NewPosting, PostResult, Provenance
from ledger.core.journal import lock_book, post_entry, reverse_entry
from ledger.core.money import AMOUNT_PENCE_MAX, format_gbp
from ledger.core.vocabulary import AccountKind, EntryKind
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.money_out.payable_lines import DESCRIPTION_LENGTH_MAX, LINES_MAX, LineProblem, LineSpec, ResolvedLine, normalised, resolve_lines
from ledger.money_out.payable_views import PayableStatus, PayableView, get_payable, lines_of
from ledger.store.tables import Account, utcnow
from ledger.store.tables.payables import Payable, PayableLine

SUPPLIER_LENGTH_MAX = 200
NUMBER_LENGTH_MAX = 100
WHO_LENGTH_MAX = 200
BANK_REFERENCE_LENGTH_MAX = 100
PAYABLES_PER_PAYMENT_MAX = 500


class PayableKind:
    INVOICE = "invoice"
    WAGES = "wages"
    PAYROLL = "payroll"
    POOLED = "pooled"


LineInput = LineSpec | tuple[str, str, int] | tuple[str, str, int, str | None]


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    payable: PayableView
    created: bool
    """False for a replay: the same payable approved before with the same content."""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payables: tuple[PayableView, ...]
    entry_id: int
    amount_pence: int
    totals_by_budget: dict[str, int] = field(default_factory=dict)
    created: bool = True


# --- approving ------------------------------------------------------------------------------


def approve_invoice(
    session: Session,
    holder_id: int,
    *,
    supplier: str,
    number: str,
    dated_on: date,
    lines: Sequence[LineInput],
    approved_by: str,
    description: str | None = None,
    kind: str = PayableKind.INVOICE,
) -> ApprovalResult:
    """Approve an invoice (commit the money): one entry with a (spend, payable) pair per
    budget and category. The same supplier and number again with the same content returns
    the original; with other content it is a ``Conflict`` (``invoice_exists``)."""
    if kind not in (PayableKind.INVOICE, PayableKind.WAGES):
        raise InvalidInput("kind must be invoice or wages", code="field_not_allowed", field="kind")
    specs = [_line_spec(line, index) for index, line in enumerate(lines)]
    return approve_lines(
        session, holder_id, kind=kind, supplier=supplier, number=number, dated_on=dated_on, lines=specs,
        approved_by=approved_by, description=description,
    )  # fmt: skip


def approve_wages(
    session: Session,
    holder_id: int,
    *,
    supplier: str,
    number: str,
    dated_on: date,
    lines: Sequence[LineInput],
    approved_by: str,
    description: str | None = None,
) -> ApprovalResult:
    """Approve a worker's wages: ``supplier`` is the worker, ``number`` the payslip or pay
    period reference. Otherwise as :func:`approve_invoice`."""
    return approve_invoice(
        session, holder_id, supplier=supplier, number=number, dated_on=dated_on, lines=lines,
        approved_by=approved_by, description=description, kind=PayableKind.WAGES,
    )  # fmt: skip


def approve_lines(
    session: Session,
    holder_id: int,
    *,
    kind: str,
    supplier: str,
    number: str,
    dated_on: date,
    lines: Sequence[LineSpec],
    approved_by: str,
    description: str | None = None,
    source_file: str | None = None,
    source_sha256: str | None = None,
    provenance: Provenance = NO_PROVENANCE,
    refuse: Callable[[list[LineProblem]], Exception] | None = None,
) -> ApprovalResult:
    """The shared core: check every line, then record the payable and post its approval.

    ``refuse(problems)`` turns the lines' problems into the error to raise (a payroll run
    names CSV lines); by default the first problem is raised, with all of them in details.
    """
    get_holder(session, holder_id)
    supplier_text = checks.required_text(supplier, "supplier", max_length=SUPPLIER_LENGTH_MAX)
    number_text = checks.required_text(number, "number", max_length=NUMBER_LENGTH_MAX)
    approver = checks.required_text(approved_by, "approved_by", max_length=WHO_LENGTH_MAX)
    about = checks.text(description, "description", max_length=DESCRIPTION_LENGTH_MAX, required=False)
    _check_lines_count(lines)
    lock_book(session, holder_id)
    supplier_key, number_key = normalised(supplier_text, SUPPLIER_LENGTH_MAX), normalised(number_text, NUMBER_LENGTH_MAX)
    existing = _active_payable(session, holder_id, supplier_key, number_key)
    if existing is not None:
        return ApprovalResult(_replay(session, existing, kind, dated_on, lines), created=False)
    resolved, problems = resolve_lines(session, holder_id, dated_on, lines)
    if problems:
        raise (refuse or _first_problem)(problems)
    payable = Payable(
        holder_id=holder_id,
        kind=kind,
        supplier=supplier_text,
        supplier_key=supplier_key,
        number=number_text,
        number_key=number_key,
        description=about,
        dated_on=dated_on,
        approved_by=approver,
        approved_at=utcnow(),
        total_pence=sum(line.amount_pence for line in lines),
        status=PayableStatus.APPROVED,
        source_file=source_file,
        source_sha256=source_sha256,
    )
    session.add(payable)
    session.flush()
    assert payable.id is not None
    result = post_entry(session, _approval_entry(payable, resolved, provenance))
    _check_outcome(result, f"the approval of payable {payable.id}")
    payable.approval_entry_id = result.entry.id
    session.execute(insert(PayableLine), [_line_row(payable.id, line) for line in resolved])
    session.flush()
    return ApprovalResult(get_payable(session, payable.id), created=True)


def _line_spec(line: LineInput, index: int) -> LineSpec:
    if isinstance(line, LineSpec):
        return line
    if not isinstance(line, tuple) or len(line) not in (3, 4):
        raise InvalidInput(
            f"lines[{index}] must be (budget, category, amount_pence[, description])", code="line_invalid", field=f"lines[{index}]"
        )
    budget, category, amount = line[0], line[1], line[2]
    return LineSpec(budget, category, amount, line[3] if len(line) == 4 else None)


def _check_lines_count(lines: Sequence[LineSpec]) -> None:
    if not lines:
        raise InvalidInput("a payable needs at least one line", code="lines_empty", field="lines")
    if len(lines) > 100_000:
        raise InvalidInput("a payable has at most 100,000 lines", code="lines_too_many", field="lines")


def _first_problem(problems: list[LineProblem]) -> InvalidInput:
    first = problems[0]
    return InvalidInput(
        f"lines[{first.index}].{first.field}: {first.message}",
        code=first.code,
        field=f"lines[{first.index}].{first.field}",
        details={"problems": [{"line": p.index, "field": p.field, "code": p.code, "message": p.message} for p in problems]},
    )


def _approval_entry(payable: Payable, lines: list[ResolvedLine], provenance: Provenance) -> NewEntry:
    totals: dict[tuple[int, int], int] = {}
    for line in lines:
        key = (line.spend_account_id, line.payable_account_id)
        totals[key] = totals.get(key, 0) + line.spec.amount_pence
    postings: list[NewPosting] = []
    for (spend, owed), pence in totals.items():
        postings += [NewPosting(spend, pence), NewPosting(owed, -pence)]
    return NewEntry(
        book_id=payable.holder_id,
        entry_date=payable.dated_on,
        description=f"{_label(payable)} approved"[:500],
        idempotency_key=f"payable:{payable.id}:approved",
        postings=tuple(postings),
        kind=EntryKind.PAYABLE_APPROVED,
        provenance=provenance,
        created_by=payable.approved_by,
    )


def _label(payable: Payable) -> str:
    if payable.kind == PayableKind.PAYROLL:
        return f"Payroll {payable.number}"
    if payable.kind == PayableKind.WAGES:
        return f"Wages of {payable.supplier}, {payable.number}"
    return f"Invoice {payable.number} from {payable.supplier}"


def _line_row(payable_id: int, line: ResolvedLine) -> dict[str, Any]:
    spec = line.spec
    return {
        "payable_id": payable_id,
        "line_no": line.line_no,
        "budget_id": line.budget_id,
        "category_id": line.category_id,
        "amount_pence": spec.amount_pence,
        "description": line.description,
        "worker": spec.worker,
        "hours_hundredths": spec.hours_hundredths,
        "rate_pence": spec.rate_pence,
        "employer_costs_pence": spec.employer_costs_pence,
        "pool_id": spec.pool_id,
    }


def _active_payable(session: Session, holder_id: int, supplier_key: str, number_key: str) -> Payable | None:
    return session.execute(
        select(Payable).where(
            Payable.holder_id == holder_id,
            Payable.supplier_key == supplier_key,
            Payable.number_key == number_key,
            Payable.status != PayableStatus.CANCELLED,
        )
    ).scalar_one_or_none()


def _replay(session: Session, existing: Payable, kind: str, dated_on: date, lines: Sequence[LineSpec]) -> PayableView:
    """The original, if the request says the same as what was approved; else a conflict."""
    view = get_payable(session, existing.id)  # type: ignore[arg-type]
    asked = sorted((s.budget_reference, s.category_code, s.amount_pence, (s.description or "").strip() or None) for s in lines)
    stored = sorted((line.budget_reference, line.category_code, line.amount_pence, line.description) for line in view.lines)
    if existing.kind == kind and existing.dated_on == dated_on and asked == stored:
        return view
    raise Conflict(
        f"{existing.supplier} {existing.number} was already approved (payable {existing.id}, {format_gbp(existing.total_pence)},"
        f" dated {existing.dated_on}) with other content; an invoice is approved once per supplier and number",
        code="invoice_exists",
        field="number",
        details={"payable_id": existing.id},
    )


def _check_outcome(result: PostResult, what: str) -> None:
    if result.outcome.is_conflict:
        raise Conflict(
            f"{what} was posted before with other content ({result.outcome}); run `phb-ledger verify` and look at entry"
            f" {result.entry.id}",
            code="payable_entry_conflict",
        )


# --- paying ---------------------------------------------------------------------------------


def pay_payables(
    session: Session,
    holder_id: int,
    payable_ids: Sequence[int],
    *,
    paid_on: date,
    bank_reference: str,
    amount_pence: int,
    paid_by: str,
) -> PaymentResult:
    """Record one bank payment that pays one or more approved payables in full: one entry,
    a (payable, cash) pair per budget. ``amount_pence`` is what left the bank and must be
    their total. Paying the same payables again with the same payment returns the original."""
    get_holder(session, holder_id)
    ids = _payable_ids(payable_ids)
    reference = checks.required_text(bank_reference, "bank_reference", max_length=BANK_REFERENCE_LENGTH_MAX)
    payer = checks.required_text(paid_by, "paid_by", max_length=WHO_LENGTH_MAX)
    if type(amount_pence) is not int or not 0 < amount_pence <= AMOUNT_PENCE_MAX:
        raise InvalidInput("amount must be more than £0.00", code="amount_not_positive", field="amount")
    lock_book(session, holder_id)
    payables = _payables_of_holder(session, holder_id, ids)
    replay = _payment_replay(session, payables, paid_on, reference, amount_pence)
    if replay is not None:
        return replay
    for payable in payables:
        _check_payable_to_pay(payable, paid_on)
    total = sum(payable.total_pence for payable in payables)
    if amount_pence != total:
        difference = amount_pence - total
        more_or_less = "more" if difference > 0 else "less"
        raise InvalidInput(
            f"the bank payment of {format_gbp(amount_pence)} is {format_gbp(abs(difference))} {more_or_less} than the"
            f" {format_gbp(total)} the payables come to; a payment pays its payables in full",
            code="payment_amount_mismatch",
            field="amount",
            details={"payables_total": total, "amount": amount_pence, "difference": difference},
        )
    by_budget: dict[str, int] = {}
    for line in lines_of(session, ids):
        by_budget[line.budget_reference] = by_budget.get(line.budget_reference, 0) + line.amount_pence
    if len(by_budget) > LINES_MAX:
        raise InvalidInput(
            f"one payment covers at most {LINES_MAX} budgets (one entry); pay these payables in two payments",
            code="payment_too_many_budgets",
            field="payable_ids",
        )
    entry = _payment_entry(session, holder_id, min(ids), payables, by_budget, paid_on, reference, payer)
    result = post_entry(session, entry)
    _check_outcome(result, f"the payment of payable {min(ids)}")
    for payable in payables:
        payable.status = PayableStatus.PAID
        payable.payment_entry_id = result.entry.id
        payable.paid_on = paid_on
        payable.paid_by = payer
        payable.bank_reference = reference
    session.flush()
    views = tuple(get_payable(session, payable_id) for payable_id in ids)
    return PaymentResult(views, result.entry.id, amount_pence, by_budget, created=True)


def _payable_ids(payable_ids: Sequence[int]) -> list[int]:
    ids = list(payable_ids)
    if not ids:
        raise InvalidInput("name at least one payable to pay", code="payables_empty", field="payable_ids")
    if len(ids) > PAYABLES_PER_PAYMENT_MAX:
        raise InvalidInput(f"one payment pays at most {PAYABLES_PER_PAYMENT_MAX} payables", code="payables_too_many", field="payable_ids")
    if any(type(i) is not int or i < 1 for i in ids):
        raise InvalidInput("payable ids are whole numbers from 1", code="payable_id_invalid", field="payable_ids")
    if len(set(ids)) != len(ids):
        raise InvalidInput("a payable is named twice", code="payable_named_twice", field="payable_ids")
    return sorted(ids)


def _payables_of_holder(session: Session, holder_id: int, ids: list[int]) -> list[Payable]:
    # populate_existing: read the rows as they are now, under the lock, not as this session last saw them.
    query = select(Payable).where(Payable.id.in_(ids)).execution_options(populate_existing=True)
    found = {p.id: p for p in session.execute(query).scalars()}
    for payable_id in ids:
        payable = found.get(payable_id)
        if payable is None or payable.holder_id != holder_id:
            raise NotFound(f"there is no payable {payable_id} for this holder", code="payable_not_found", field="payable_ids")
    return [found[payable_id] for payable_id in ids]


def _payment_replay(
    session: Session, payables: list[Payable], paid_on: date, reference: str, amount_pence: int
) -> PaymentResult | None:
    """The original payment, if every payable named was paid together by one payment with
    this date, reference and amount (a retry); ``None`` if none of them is paid yet."""
    entry_ids = {payable.payment_entry_id for payable in payables}
    if entry_ids == {None}:
        return None
    entry_id = next(iter(entry_ids)) if len(entry_ids) == 1 else None
    if entry_id is not None:
        together = session.execute(select(Payable.id).where(Payable.payment_entry_id == entry_id)).scalars().all()
        same = (
            sorted(together) == sorted(p.id for p in payables)  # type: ignore[type-var]
            and all(p.paid_on == paid_on and p.bank_reference == reference for p in payables)
            and sum(p.total_pence for p in payables) == amount_pence
        )
        if same:
            views = tuple(get_payable(session, p.id) for p in payables)  # type: ignore[arg-type]
            by_budget: dict[str, int] = {}
            for view in views:
                for ref, pence in view.totals_by_budget().items():
                    by_budget[ref] = by_budget.get(ref, 0) + pence
            return PaymentResult(views, entry_id, amount_pence, by_budget, created=False)
    paid = next(p for p in payables if p.payment_entry_id is not None)
    raise Conflict(
        f"payable {paid.id} ({paid.supplier} {paid.number}) was already paid on {paid.paid_on}"
        f" (bank reference {paid.bank_reference}); a payable is paid once",
        code="payable_already_paid",
        field="payable_ids",
        details={"payable_id": paid.id, "payment_entry_id": paid.payment_entry_id},
    )


def _check_payable_to_pay(payable: Payable, paid_on: date) -> None:
    if payable.status == PayableStatus.CANCELLED:
        raise Conflict(f"payable {payable.id} was cancelled on {payable.cancelled_on}; it cannot be paid", code="payable_cancelled")
    assert payable.status == PayableStatus.APPROVED, payable.status
    if paid_on < payable.dated_on:
        raise InvalidInput(
            f"paid_on {paid_on} is before payable {payable.id} is dated ({payable.dated_on})",
            code="paid_before_dated",
            field="paid_on",
        )


def _payment_entry(
    session: Session,
    holder_id: int,
    key_id: int,
    payables: list[Payable],
    by_budget: dict[str, int],
    paid_on: date,
    reference: str,
    payer: str,
) -> NewEntry:
    codes = {ref: (budget_account_code(ref, AccountKind.PAYABLE), budget_account_code(ref, AccountKind.CASH)) for ref in by_budget}
    wanted = [code for pair in codes.values() for code in pair]
    ids = dict(session.execute(select(Account.code, Account.id).where(Account.code.in_(wanted))).all())
    postings: list[NewPosting] = []
    for ref, pence in by_budget.items():
        owed, cash = codes[ref]
        postings += [NewPosting(ids[owed], pence), NewPosting(ids[cash], -pence)]
    what = _label(payables[0]) if len(payables) == 1 else f"{len(payables)} payables"
    return NewEntry(
        book_id=holder_id,
        entry_date=paid_on,
        description=f"{what} paid from the client bank account, reference {reference}"[:500],
        idempotency_key=f"payable:{key_id}:paid",
        postings=tuple(postings),
        kind=EntryKind.PAYABLE_PAID,
        created_by=payer,
    )


# --- cancelling -----------------------------------------------------------------------------


def cancel_payable(session: Session, payable_id: int, *, cancelled_on: date, cancelled_by: str) -> PayableView:
    """Cancel an approved payable not yet paid: its approval entry is reversed, so the money
    is no longer committed. Cancelling again returns it as it is."""
    payable = session.get(Payable, payable_id)
    if payable is None:
        raise NotFound(f"there is no payable {payable_id}", code="payable_not_found")
    who = checks.required_text(cancelled_by, "cancelled_by", max_length=WHO_LENGTH_MAX)
    lock_book(session, payable.holder_id)
    session.refresh(payable)
    if payable.status == PayableStatus.CANCELLED:
        return get_payable(session, payable_id)
    if payable.status == PayableStatus.PAID:
        raise Conflict(
            f"payable {payable_id} was paid on {payable.paid_on}; a payment cannot be cancelled, only refunded",
            code="payable_already_paid",
        )
    assert payable.approval_entry_id is not None
    if cancelled_on < payable.dated_on:
        raise InvalidInput(f"cancelled_on {cancelled_on} is before the payable's date {payable.dated_on}", code="cancelled_before_dated", field="cancelled_on")
    result = reverse_entry(
        session,
        payable.approval_entry_id,
        entry_date=cancelled_on,
        idempotency_key=f"payable:{payable_id}:cancelled",
        created_by=who,
        description=f"{_label(payable)} cancelled"[:500],
    )
    _check_outcome(result, f"the cancellation of payable {payable_id}")
    payable.status = PayableStatus.CANCELLED
    payable.cancel_entry_id = result.entry.id
    payable.cancelled_on = cancelled_on
    payable.cancelled_by = who
    session.flush()
    return get_payable(session, payable_id)
