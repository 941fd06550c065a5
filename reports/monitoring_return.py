"""The council's monitoring return for one budget and one period, in the layout of a
council's direct payment audit summary (Trafford's): the summary first — who, the period,
the opening and closing balances, the amount allowed to be retained, the surplus, the
amount requested, notes and actions — then every payment in and out for evidencing, and
the declarations to sign.

The money held is what the budget has in the bank (its share ``B:cash``), on its card and
set aside as contingency: opening = at the end of the day before the period, closing = at
the end of its last day. Every entry that changed that total is a transaction of the
return; a move between the budget's own accounts (a card load, contingency set aside) does
not change it and is counted in a note instead (``reports.statement_reads``).

Amount allowed to be retained = weeks × weekly amount + named reserves. The weeks are the
lead funder's action threshold (``ledger.position.figures.thresholds_of``: 8 weeks unless it set
its own; Trafford keeps 6 to 8); the weekly amount is the position's, as at the period's
end; the reserves are contingency left, money committed (wages and invoices approved, not
yet paid), transition money not yet spent and each surplus the funder agreed could be
kept. Once a budget has closed no weeks are kept and only committed money is reserved (as
``ledger.position.surplus`` returns a closed budget's money). Surplus returnable = closing − allowed,
never below zero. Amount requested = the surplus less what the funder decided in the period
to offset against card loads or spend by revising the plan; money returned in the period
has already left the closing balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.budgets.parties import get_funder, get_holder, get_person, representatives_of
from ledger.core.money import split_pence
from ledger.core.periods import parse_quarter, quarter_of
from ledger.core.vocabulary import AccountKind, FunderKind, HolderKind
from ledger.errors import InvalidInput
from ledger.position.closing import closure_of
from ledger.position.figures import budget_figures, tenths_text, thresholds_of
from ledger.position.surplus import surplus_decisions
from ledger.reviews.due import quarter_words
from ledger.reviews.plan_reviews import reviews_due
from ledger.reviews.quality_reviews import quality_review_of
from ledger.store.tables import Account, Budget, Funder, Posting
from ledger.store.tables.quality_reviews import QualityReview
from reports import budget_reads as reads
from reports.document import Column, Declaration, Document, Fact, Facts, Paragraphs, Section, Table, ValueKind, table
from reports.formatting import MONTHS, day_text, money_text
from reports.params import Period, ReportParams
from reports.review_people import STATUS_WORDS
from reports.review_status import flag_words
from reports.statement_reads import ACCOUNT_WORDS, HELD_KINDS, HeldMoney, held_money, kind_words

M, D, W = ValueKind.MONEY, ValueKind.DATE, ValueKind.WEEKS
KIND = "monitoring-return"
TENTHS = 10
COUNCIL_KINDS = (FunderKind.COUNCIL_ADULT_SOCIAL_CARE, FunderKind.COUNCIL_CHILDREN_EDUCATION)
DEDUCTED_ACTIONS = ("offset", "reallocate")
ACTION_WORDS = {
    "accept": "Agreed it could be kept",
    "reallocate": "Spent by revising the plan",
    "return": "Returned to the funders",
    "offset": "Offset against the next card loads",
}
REVIEW_WORDS = {"plan": "Plan review", "quarterly_quality": "Quarterly quality review", "significant_change": "Review after a significant change", "requested": "Review asked for"}
BASIS_WORDS = {
    "nominated_family_member": "nominated family member", "appointee": "appointee",
    "lasting_power_of_attorney_health_welfare": "lasting power of attorney", "court_of_protection_deputy": "Court of Protection deputy",
}  # fmt: skip


# --- the arithmetic, pure ---------------------------------------------------------------


def weeks_retained_pence(weekly_amount_pence: int, weeks_tenths: int) -> int:
    """Weeks × weekly amount, to the nearest penny (half up); both are never negative."""
    assert weekly_amount_pence >= 0 and weeks_tenths >= 0
    return (2 * weekly_amount_pence * weeks_tenths + TENTHS) // (2 * TENTHS)


def allowed_to_retain(weekly_amount_pence: int, weeks_tenths: int, reserves_pence: list[int]) -> int:
    return weeks_retained_pence(weekly_amount_pence, weeks_tenths) + sum(reserves_pence)


def surplus_returnable(closing_pence: int, allowed_pence: int) -> int:
    return max(0, closing_pence - allowed_pence)


def amount_requested(surplus_pence: int, deducted_pence: int) -> int:
    return max(0, surplus_pence - deducted_pence)


@dataclass(frozen=True, slots=True)
class Reserve:
    label: str
    amount_pence: int
    note: str | None = None


@dataclass(frozen=True)
class Retention:
    weekly_amount_pence: int
    weeks_tenths: int
    weeks_pence: int
    reserves: list[Reserve]
    allowed_pence: int
    surplus_pence: int
    deducted_pence: int
    requested_pence: int


# --- reading ----------------------------------------------------------------------------


def build(session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
    if params.budget_id is None or params.period is None:
        raise InvalidInput("a monitoring return is for one budget and one period", code="report_params", field="budget")
    budget = get_budget(session, params.budget_id)
    check_period_covers_budget(session, budget, params.period)
    return MonitoringReturn(session, budget, params.period).document(now)


def check_period_covers_budget(session: Session, budget: Budget, period: Period) -> None:
    """Refuse a period wholly before the budget's first money (or plan start) or after its
    plan period and closing: it would describe nothing of this budget."""
    first_posted = session.scalar(
        select(func.min(Posting.entry_date)).join(Account, Account.id == Posting.account_id).where(Account.budget_id == budget.id)
    )
    closure = closure_of(session, budget.id)
    earliest = min(budget.period_start, first_posted or budget.period_start)
    latest = max(budget.period_end, closure.closed_on if closure else budget.period_end)
    if period.ends_on < earliest or period.starts_on > latest:
        raise InvalidInput(
            f"{budget.reference} runs {day_text(budget.period_start)} to {day_text(budget.period_end)}: {period.label} is outside it",
            code="period_outside_plan",
            field="from" if period.kind == "dates" else period.kind,
        )


def period_words(period: Period) -> str:
    if period.kind == "quarter":
        return quarter_words(parse_quarter(period.label))
    if period.kind == "month":
        return f"{MONTHS[period.starts_on.month - 1]} {period.starts_on.year}"
    return f"{day_text(period.starts_on)} to {day_text(period.ends_on)}"


class MonitoringReturn:
    """Reads once, works out the retention, then lays out the return."""

    def __init__(self, session: Session, budget: Budget, period: Period) -> None:
        self.session, self.budget, self.period = session, budget, period
        starts_on, ends_on = period.starts_on, period.ends_on
        self.holder = get_holder(session, budget.holder_id)
        self.person = get_person(session, budget.person_id)
        self.lead = get_funder(session, budget.lead_funder_id)
        self.windows = reads.account_windows(session, budget.id, starts_on, ends_on)
        self.held: HeldMoney = held_money(session, budget.id, self.windows, starts_on, ends_on)
        self.figures = budget_figures(session, budget, as_of=ends_on)
        closure = closure_of(session, budget.id)
        self.closed_on = closure.closed_on if closure is not None and closure.closed_on <= ends_on else None
        self.act_weeks_tenths = thresholds_of(session, [budget.lead_funder_id])[budget.lead_funder_id].act_weeks_tenths
        self.decisions = [d for d in surplus_decisions(session, budget.id) if d.decided_on <= ends_on]
        self.in_period = [d for d in self.decisions if d.decided_on >= starts_on]
        self.weights = self._funder_weights()
        self.retention = self._retention()

    def _funder_weights(self) -> list[tuple[Funder | None, int]]:
        """Each funder's allocation at the period's end (None: the person's contribution)."""
        amounts: dict[int | None, int] = {}
        for window in self.windows:
            if window.kind == AccountKind.ALLOCATION and window.closing_pence > 0:
                key = None if window.is_person_contribution else window.funder_id
                amounts[key] = amounts.get(key, 0) + window.closing_pence
        keys = sorted(amounts, key=lambda key: (key is None, key or 0))
        return [(get_funder(self.session, key) if key is not None else None, amounts[key]) for key in keys]

    def _retention(self) -> Retention:
        f = self.figures
        if self.closed_on is not None:
            weeks, reserves = 0, [Reserve("Committed: wages and invoices approved, not yet paid", f.committed_pence)]
        else:
            weeks = self.act_weeks_tenths
            reserves = [
                Reserve("Contingency left", f.contingency_left_pence),
                Reserve("Committed: wages and invoices approved, not yet paid", f.committed_pence),
                Reserve("Transition money not yet spent", f.transition_left_pence),
            ]
            reserves += [
                Reserve(f"Surplus the funder agreed could be kept ({day_text(d.decided_on)})", d.amount_pence, d.reason)
                for d in self.decisions if d.action == "accept"
            ]  # fmt: skip
        weekly = f.weekly_amount_pence
        allowed = allowed_to_retain(weekly, weeks, [r.amount_pence for r in reserves])
        surplus = surplus_returnable(self.held.closing_pence, allowed)
        deducted = sum(d.amount_pence for d in self.in_period if d.action in DEDUCTED_ACTIONS)
        return Retention(weekly, weeks, weeks_retained_pence(weekly, weeks), reserves, allowed, surplus, deducted, amount_requested(surplus, deducted))

    def council_share(self, whole_pence: int) -> list[int]:
        return split_pence(whole_pence, [amount for _, amount in self.weights]) if self.weights else []

    @property
    def council(self) -> Funder | None:
        return next((funder for funder, _ in self.weights if funder is not None and funder.kind in COUNCIL_KINDS), None)

    # --- the document -------------------------------------------------------------------

    def document(self, now: datetime) -> Document:
        sections = (
            Section("summary", "Audit summary", self.summary_blocks(), intro=f"{period_words(self.period)}: {day_text(self.period.starts_on)} to {day_text(self.period.ends_on)}."),
            Section("notes", "Notes and actions", self.notes_blocks()),
            Section("transactions", "Payments in and out", self.transaction_blocks(),
                    intro="Every payment into and out of the money held for this budget in the period, for evidencing."),
            Section("declaration", "Declarations", self.declarations()),
        )  # fmt: skip
        return Document(
            kind=KIND,
            title="Direct payment monitoring return",
            subtitle=f"{self.budget.reference} · {self.person.name} · {period_words(self.period)}",
            subject=self.budget.reference,
            period=self.period.label,
            period_start=self.period.starts_on,
            period_end=self.period.ends_on,
            generated_at=now,
            summary=tuple(self.summary_lines()),
            sections=sections,
            organisation=(self.council or self.lead).name,
        )

    def summary_lines(self) -> list[str]:
        held, r = self.held, self.retention
        lines = [
            f"Held at the start: {money_text(held.opening_pence)}. Held at the end: {money_text(held.closing_pence)}.",
            f"{money_text(held.money_in_pence)} came in and {money_text(held.money_out_pence)} went out ({len(held.moves)} payment{'s' if len(held.moves) != 1 else ''}).",
            f"Allowed to be retained: {money_text(r.allowed_pence)}. Surplus returnable: {money_text(r.surplus_pence)}.",
            f"Amount requested: {money_text(r.requested_pence)}.",
        ]
        if self.closed_on is not None:
            lines.append(f"The budget closed on {day_text(self.closed_on)}.")
        return lines

    def summary_blocks(self) -> tuple:
        held, r, start = self.held, self.retention, self.period.starts_on
        funders = "; ".join(f"{funder.name if funder else 'the person (client contribution)'} {money_text(amount)}" for funder, amount in self.weights)
        client = Facts("client", None, (
            Fact("Client", self.person.name), Fact("Budget", self.budget.reference), Fact("Money held by", self.holder.name),
            Fact("Funded by", funders or self.lead.name), Fact("Period start", start, D), Fact("Period end", self.period.ends_on, D),
        ))  # fmt: skip
        balances = Facts("balances", "Balances", (
            Fact("Opening balance", held.opening_pence, M, f"At the end of {day_text(start - timedelta(days=1))}"),
            Fact("Money in", held.money_in_pence, M), Fact("Money out", held.money_out_pence, M),
            Fact("Closing balance", held.closing_pence, M, f"At the end of {day_text(self.period.ends_on)}"),
        ))  # fmt: skip
        weekly_note = f"The plan's weekly cost as at {day_text(self.period.ends_on)}"
        weeks_note = "The budget has closed: no weeks are kept" if self.closed_on else f"{self.lead.name}'s limit before it acts on a surplus"
        retained = Facts("retained", "Amount allowed to be retained", (
            Fact("Weekly amount", r.weekly_amount_pence, M, weekly_note), Fact("Weeks allowed", r.weeks_tenths, W, weeks_note),
            Fact("Weeks × weekly amount", r.weeks_pence, M),
            *(Fact(reserve.label, reserve.amount_pence, M, reserve.note) for reserve in r.reserves),
            Fact("Total allowed to be retained", r.allowed_pence, M),
        ))  # fmt: skip
        returned = sum(d.amount_pence for d in self.in_period if d.action == "return")
        surplus_facts = [
            Fact("Surplus returnable", r.surplus_pence, M, "Closing balance less the amount allowed, never below £0.00"),
            Fact("Offset or spent by plan revision in the period", r.deducted_pence, M),
            Fact("Returned in the period (already out of the closing balance)", returned, M),
            Fact("Amount requested", r.requested_pence, M),
        ]
        council = self.council
        if council is not None and len(self.weights) > 1:
            index = [funder for funder, _ in self.weights].index(council)
            surplus_facts += [
                Fact(f"{council.name}'s share of the surplus", self.council_share(r.surplus_pence)[index], M, "Split by what each funder allocated"),
                Fact(f"{council.name}'s share of the amount requested", self.council_share(r.requested_pence)[index], M),
            ]
        blocks: list = [client, balances, retained, Facts("surplus", "Surplus", tuple(surplus_facts))]
        if len(self.weights) > 1:
            blocks.append(self.shares_table())
        blocks.append(self.decisions_table())
        return tuple(blocks)

    def shares_table(self) -> Table:
        r = self.retention
        surplus, requested = self.council_share(r.surplus_pence), self.council_share(r.requested_pence)
        rows = [
            (funder.name if funder else "The person (client contribution)", amount, surplus[i], requested[i])
            for i, (funder, amount) in enumerate(self.weights)
        ]
        return table(
            "funder_shares", "Each funder's share (by what each allocated)",
            (Column("funder", "Funder"), Column("allocated", "Allocated", M), Column("surplus", "Share of the surplus", M), Column("requested", "Share of the amount requested", M)),
            rows, totals=True, row_marks=["council" if funder is not None and funder.kind in COUNCIL_KINDS else None for funder, _ in self.weights],
        )  # fmt: skip

    def decisions_table(self) -> Table:
        return table(
            "decisions", "Decisions about a surplus in the period",
            (Column("decided_on", "Decided on", D), Column("decision", "Decision"), Column("amount", "Amount", M), Column("reason", "Reason"), Column("decided_by", "Decided by")),
            [(d.decided_on, ACTION_WORDS.get(d.action, d.action), d.amount_pence, d.reason, d.decided_by) for d in self.in_period],
            totals=False, empty_text="No decisions about a surplus were made in the period.",
        )  # fmt: skip

    def notes_blocks(self) -> tuple:
        held = self.held
        notes = []
        if held.internal_count:
            what = ", ".join(f"{kind_words(kind).lower()} {money_text(pence)}" for kind, pence in sorted(held.internal_by_kind.items()))
            notes.append(
                f"{held.internal_count} move{'s' if held.internal_count != 1 else ''} between the budget's own accounts ({what}) "
                "are not listed as transactions: they move money between the bank, the card and the contingency, and do not change what is held."
            )
        if self.closed_on is not None:
            notes.append(f"The budget closed on {day_text(self.closed_on)}. Nothing is kept for weeks to come: only money committed to wages and invoices may be retained.")
        weeks = tenths_text(self.retention.weeks_tenths)
        rules = (
            "Money held: the budget's money in the bank, on its card and set aside as contingency.",
            f"Amount allowed to be retained: {weeks} weeks of the weekly amount (the lead funder's limit before it acts on a surplus; councils commonly keep 6 to 8 weeks), "
            "plus contingency left, money committed to wages and invoices not yet paid, transition money not yet spent, and any surplus the funder agreed could be kept.",
            "Weekly amount: the plan's cost for the year without contingency, management fee (top-slice) and transition, spread over the weeks of the plan period.",
            "Surplus returnable: the closing balance less the amount allowed to be retained, never below £0.00.",
            "Amount requested: the surplus, less what the funder decided in the period to offset against the next card loads or spend by revising the plan. "
            "Money returned in the period has already left the closing balance and is not asked for again.",
        )
        blocks: list = []
        if notes:
            blocks.append(Paragraphs("notes", "Notes", tuple(notes)))
        blocks += [Paragraphs("rules", "How this return is worked out", rules), self.flags_table(), self.reviews_table(), self.actions_table()]
        return tuple(blocks)

    def flags_table(self) -> Table:
        flags = reads.flags_for_window(self.session, self.budget.id, self.period.starts_on, self.period.ends_on)
        return table(
            "flags", "Flags raised in the period, and earlier ones still open",
            (Column("occurred_on", "Happened on", D), Column("flag", "Flag"), Column("reason", "What happened"), Column("amount", "Amount", M), Column("state", "State now")),
            [(f.occurred_on, flag_words(f.code), f.reason, f.amount_pence, f.state.replace("_", " ")) for f in flags],
            row_marks=[None if f.state in reads.CLOSED_FLAG_STATES else "open" for f in flags], empty_text="No flags.",
        )  # fmt: skip

    def reviews_table(self) -> Table:
        overdue = [r for r in reviews_due(self.session, as_of=self.period.ends_on, budget_id=self.budget.id, include_upcoming_days=0) if r.is_overdue]
        return table(
            "reviews_overdue", f"Reviews overdue at {day_text(self.period.ends_on)}",
            (Column("review", "Review"), Column("due_on", "Was due by", D), Column("why", "Why")),
            [(REVIEW_WORDS.get(r.kind, r.kind), r.due_on, r.reason) for r in overdue], empty_text="No review was overdue.",
        )  # fmt: skip

    def actions_table(self) -> Table:
        latest = self.session.scalar(
            select(QualityReview.quarter).where(QualityReview.budget_id == self.budget.id, QualityReview.quarter <= quarter_of(self.period.ends_on).label)
            .order_by(QualityReview.quarter.desc()).limit(1)
        )  # fmt: skip
        view = quality_review_of(self.session, self.budget.id, latest) if latest else None
        title = f"Actions from the quality review of {quarter_words(parse_quarter(latest))}" if view else "Actions from the latest quality review"
        return table(
            "actions", title,
            (Column("what", "What"), Column("who", "Who"), Column("by_when", "By when", D), Column("status", "Status")),
            [(a.what, a.who, a.by_when, STATUS_WORDS.get(a.status, a.status)) for a in (view.actions if view else [])],
            empty_text="No quality review has been recorded." if view is None else "The review agreed no actions.",
        )  # fmt: skip

    def transaction_blocks(self) -> tuple:
        held, r = self.held, self.retention
        check = Facts("balance_check", None, (
            Fact("Balance at the start", held.opening_pence, M), Fact("Payments in", held.money_in_pence, M),
            Fact("Payments out", held.money_out_pence, M), Fact("Closing balance", held.closing_pence, M),
            Fact("Amount allowed to be retained", r.allowed_pence, M),
        ))  # fmt: skip
        accounts = table(
            "accounts", "Where the money is",
            (Column("account", "Held in"), Column("start", "At the start", M), Column("change", "Change", M), Column("end", "At the end", M)),
            [(ACCOUNT_WORDS[k], held.opening_by_kind[k], held.closing_by_kind[k] - held.opening_by_kind[k], held.closing_by_kind[k]) for k in HELD_KINDS],
            totals=True,
        )  # fmt: skip
        balance, rows = held.opening_pence, []
        for move in held.moves:
            balance += move.net_pence
            rows.append((move.entry_date, move.description, kind_words(move.kind, move.original_kind), ", ".join(move.accounts),
                         move.money_in_pence or None, move.money_out_pence or None, balance, "; ".join(move.provenance) or "Not on a statement"))  # fmt: skip
        columns = (
            Column("date", "Date", D), Column("description", "Description"), Column("type", "Type"), Column("account", "Account"),
            Column("in", "Money in", M), Column("out", "Money out", M), Column("balance", "Balance", M), Column("evidence", "Statement line"),
        )  # fmt: skip
        transactions = table(
            "transactions", "Every transaction", columns, rows,
            totals_row=(None, "Total", None, None, held.money_in_pence, held.money_out_pence, held.closing_pence, None) if rows else None,
            note=f"The balance starts from the opening balance of {money_text(held.opening_pence)}.",
            empty_text="No money came in or went out in the period.",
        )  # fmt: skip
        return (check, accounts, transactions)

    def declarations(self) -> tuple:
        person = self.person.name
        if self.holder.kind == HolderKind.ISF_PROVIDER:
            who = f"{self.holder.name}, which holds the money for {person}"
            text = (
                f"We confirm that the money in this return was spent only on what {person}'s support plan agrees. "
                "The balances and payments are true and complete. We keep the receipts, invoices and timesheets. "
                "We understand the council can ask for money back that was not spent on the support plan."
            )
        else:
            representatives = representatives_of(self.session, self.person.id)
            names = ", ".join(f"{r.name} ({BASIS_WORDS.get(r.legal_basis, r.legal_basis)})" for r in representatives)
            who = f"{person}, or their representative{': ' + names if names else ''}"
            text = (
                "I confirm that the money in this return was spent only on what my support plan agrees. "
                "The balances and payments are true and complete. I keep the receipts, invoices and timesheets. "
                "I understand the council can ask for money back that was not spent on my support plan."
            )
        officer = f"The officer of {(self.council or self.lead).name} who audited this return"
        return (
            Declaration("recipient", "Declaration by the person who receives the money", text, (who,)),
            Declaration(
                "officer", "Checked by the council",
                "I have checked this return against the bank and card statements and the evidence behind them. The amount requested is right.",
                (officer,),
            ),
        )


__all__ = [
    "KIND", "MonitoringReturn", "Reserve", "Retention", "allowed_to_retain", "amount_requested", "build",
    "check_period_covers_budget", "period_words", "surplus_returnable", "weeks_retained_pence",
]  # fmt: skip
