"""The quarterly quality review of one budget: its money from the ledger and what the people
at the review said and decided (``ledger.reviews.quality_reviews``), as one document.

The quarter is a UK financial-year quarter (``2026Q1`` = April–June 2026), cut to the plan
period where the budget starts or ends inside it. "To date" means since the plan began —
the budget's accounts belong to this plan period alone, so that includes transition costs
spent before it started. Every figure is read from postings (``reports.budget_reads``) or
worked out from the agreed plan in force at the quarter's end; the position figures are the
ledger's own (``ledger.position.figures``), so the review never disagrees with the position page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets.budget import get_budget
from ledger.budgets.parties import get_holder, get_person
from ledger.core.periods import Quarter, parse_quarter
from ledger.core.vocabulary import TRANSITION_CATEGORY, AccountKind, EntryKind, PlanStatus
from ledger.errors import InvalidInput
from ledger.position.figures import MoneyFigures, budget_figures, tenths_text
from ledger.reviews.due import quarter_words
from ledger.store.tables import Budget, Category, PlanLine, SupportPlanVersion
from reports import budget_reads as reads
from reports.document import Chart, Column, Document, Fact, Facts, Section, Series, ValueKind, table
from reports.formatting import day_text, money_text
from reports.params import ReportParams
from reports.plan_pacing import LineToPace, paced_by_category
from reports.review_people import people_sections
from reports.review_projection import projection_table
from reports.review_status import flags_table, reconciliation_table

M, C, D, T, W = ValueKind.MONEY, ValueKind.COUNT, ValueKind.DATE, ValueKind.TEXT, ValueKind.WEEKS
AHEAD_OF_PACE_BASIS_POINTS = 1000
"""Spending more than 10% of a line's whole-year amount ahead of its pace is mentioned in
the summary (as information: people may spend at times that make sense to them)."""
KIND = "quarterly-review"


@dataclass(frozen=True)
class ReviewWindow:
    budget: Budget
    quarter: Quarter
    starts_on: date
    ends_on: date

    @property
    def is_part_quarter(self) -> bool:
        return (self.starts_on, self.ends_on) != (self.quarter.starts_on, self.quarter.ends_on)


def review_window(budget: Budget, quarter: Quarter) -> ReviewWindow:
    if quarter.ends_on < budget.period_start or quarter.starts_on > budget.period_end:
        raise InvalidInput(
            f"{budget.reference}'s plan runs {budget.period_start} to {budget.period_end}: {quarter.label} is outside it",
            code="quarter_outside_plan",
            field="quarter",
        )
    return ReviewWindow(budget, quarter, max(quarter.starts_on, budget.period_start), min(quarter.ends_on, budget.period_end))


@dataclass(frozen=True)
class PlanLineRow:
    category: str
    kind: str
    amount_pence: int
    starts_on: date | None
    ends_on: date | None
    description: str


def agreed_versions(session: Session, budget_id: int) -> list[SupportPlanVersion]:
    return list(
        session.scalars(
            select(SupportPlanVersion)
            .where(SupportPlanVersion.budget_id == budget_id, SupportPlanVersion.status == PlanStatus.AGREED)
            .order_by(SupportPlanVersion.effective_from, SupportPlanVersion.version)
        )
    )


def version_in_force(versions: list[SupportPlanVersion], day: date) -> SupportPlanVersion | None:
    in_force = [v for v in versions if v.effective_from <= day]
    return (in_force or versions[:1])[-1] if versions else None


def plan_lines(session: Session, version: SupportPlanVersion | None) -> list[PlanLineRow]:
    if version is None:
        return []
    rows = session.execute(
        select(PlanLine, Category.code).join(Category, Category.id == PlanLine.category_id)
        .where(PlanLine.plan_version_id == version.id).order_by(PlanLine.position)
    ).all()  # fmt: skip
    return [PlanLineRow(code, line.kind, line.amount_pence, line.starts_on, line.ends_on, line.description) for line, code in rows]


def build(session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
    if params.budget_id is None or params.period is None or params.period.kind != "quarter":
        raise InvalidInput("a quarterly review is for one budget and one quarter (e.g. 2026Q1)", code="report_params", field="quarter")
    budget = get_budget(session, params.budget_id)
    window = review_window(budget, parse_quarter(params.period.label))
    return QuarterlyReview(session, window, cache if cache is not None else {}).document(now)


class QuarterlyReview:
    """Reads once, then lays out the sections."""

    def __init__(self, session: Session, window: ReviewWindow, cache: dict) -> None:
        self.session, self.window, self.cache = session, window, cache
        budget = window.budget
        self.budget = budget
        self.holder = get_holder(session, budget.holder_id)
        self.person = get_person(session, budget.person_id)
        self.names = _cached(cache, ("categories", budget.holder_id), lambda: reads.category_names(session, budget.holder_id))
        self.versions = agreed_versions(session, budget.id)
        self.plan = version_in_force(self.versions, window.ends_on)
        self.lines = plan_lines(session, self.plan)
        self.accounts = reads.account_windows(session, budget.id, window.starts_on, window.ends_on)
        self.moves = reads.movements_by_entry_kind(session, budget.id, window.starts_on, window.ends_on)
        self.figures: MoneyFigures = budget_figures(session, budget, as_of=window.ends_on)

    # --- reading helpers ---------------------------------------------------------------

    def closing(self, kind: AccountKind) -> int:
        return sum(a.closing_pence for a in self.accounts if a.kind == kind)

    def opening(self, kind: AccountKind) -> int:
        return sum(a.opening_pence for a in self.accounts if a.kind == kind)

    def moved(self, kind: AccountKind, *entry_kinds: EntryKind) -> int:
        return sum(self.moves.get((kind, entry_kind), 0) for entry_kind in entry_kinds)

    def spend(self, *, to_date: bool) -> dict[str, int]:
        by_category: dict[str, int] = {}
        for account in self.accounts:
            if account.kind == AccountKind.SPEND:
                value = account.closing_pence if to_date else account.moved_pence
                by_category[account.category_code or ""] = by_category.get(account.category_code or "", 0) + value
        return by_category

    def category_name(self, code: str) -> str:
        return self.names.get(code, (code.replace("_", " ").capitalize(), code))[0]

    # --- the document -------------------------------------------------------------------

    def document(self, now: datetime) -> Document:
        window = self.window
        sections = [
            self.position_section(),
            self.plan_section(),
            self.flows_section(),
            self.contingency_section(),
            self.balances_section(),
            Section("projection", "Projected position at the end of the plan year", (projection_table(self.session, self.budget, self.window.ends_on, self.figures, self.accounts),)),
            Section("flags", "Flags", (flags_table(self.session, self.budget.id, window.starts_on, window.ends_on),)),
            Section("reconciliation", "Reconciliation of the accounts", (reconciliation_table(self.session, self.budget, window.starts_on, window.ends_on, self.cache),)),
            *people_sections(self.session, self.budget, window.quarter, self.plan),
        ]
        return Document(
            kind=KIND,
            title="Quarterly quality review",
            subtitle=f"{self.budget.reference} · {self.person.preferred_name or self.person.name} · {quarter_words(window.quarter)}",
            subject=self.budget.reference,
            period=window.quarter.label,
            period_start=window.starts_on,
            period_end=window.ends_on,
            generated_at=now,
            summary=tuple(self.summary()),
            sections=tuple(sections),
            organisation=self.holder.name,
        )

    def summary(self) -> list[str]:
        figures, window = self.figures, self.window
        lines = [f"{money_text(figures.money_left_pence)} is left for the rest of the plan year (to {day_text(self.budget.period_end)})."]
        if self.plan is None:
            return lines + ["No plan had been agreed by the end of the quarter, so there is no plan to measure spending against."]
        over, out_of_plan, ahead = self.off_plan()
        if not (over or out_of_plan):
            text = "Spending is on plan"
        else:
            parts = [f"{self.category_name(c).lower()} is {money_text(v)} over its line" for c, v in over]
            parts += [f"{money_text(v)} went on {self.category_name(c).lower()}, which the plan does not include" for c, v in out_of_plan]
            text = "Spending is on plan except: " + "; ".join(parts)
        lines.append(text + ".")
        if ahead:
            words = ", ".join(f"{self.category_name(c).lower()} ({money_text(v)})" for c, v in ahead)
            lines.append(f"Ahead of the plan's pace, for information: {words}.")
        if figures.weeks_held_tenths is not None and figures.surplus_state != "ok":
            lines.append(
                f"Held funds would pay for {tenths_text(figures.weeks_held_tenths)} weeks of support, above the "
                f"{'action' if figures.surplus_state == 'act' else 'warning'} level of "
                f"{tenths_text(figures.thresholds.act_weeks_tenths if figures.surplus_state == 'act' else figures.thresholds.warn_weeks_tenths)} weeks."
            )
        used = self.moved(AccountKind.CONTINGENCY, EntryKind.CONTINGENCY_USE)
        lines.append(f"Contingency: {money_text(-used)} used this quarter, {money_text(self.closing(AccountKind.CONTINGENCY))} left.")
        if self.budget.status == "closed":
            lines.append("The budget is closed.")
        if window.is_part_quarter:
            lines.append(f"This review covers {day_text(window.starts_on)} to {day_text(window.ends_on)}, the part of the quarter inside the plan period.")
        revisions = [v for v in self.versions[1:] if window.starts_on <= v.effective_from <= window.ends_on]
        for version in revisions:
            lines.append(f"The plan was revised from {day_text(version.effective_from)} (version {version.version}){': ' + version.change_reason if version.change_reason else ''}.")
        return lines

    def off_plan(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[tuple[str, int]]]:
        spent = self.spend(to_date=True)
        planned = self.planned_by_category()
        paced = self.paced()
        over = [(c, spent.get(c, 0) - amount) for c, amount in planned.items() if spent.get(c, 0) > amount]
        out_of_plan = [(c, v) for c, v in spent.items() if c not in planned and v > 0]
        ahead = [
            (c, spent.get(c, 0) - paced.get(c, 0)) for c, amount in planned.items()
            if spent.get(c, 0) <= amount and (spent.get(c, 0) - paced.get(c, 0)) * 10_000 > AHEAD_OF_PACE_BASIS_POINTS * amount
        ]  # fmt: skip
        return over, out_of_plan, ahead

    def planned_by_category(self) -> dict[str, int]:
        planned: dict[str, int] = {}
        for line in self.lines:
            planned[line.category] = planned.get(line.category, 0) + line.amount_pence
        return planned

    def paced(self) -> dict[str, int]:
        lines = [LineToPace(l.category, l.kind, l.amount_pence, l.starts_on, l.ends_on) for l in self.lines]
        return paced_by_category(lines, self.budget.period_start, self.budget.period_end, self.window.ends_on)

    def position_section(self) -> Section:
        f = self.figures
        weeks_note = None
        if f.weeks_held_tenths is not None:
            weeks_note = f"Warning above {tenths_text(f.thresholds.warn_weeks_tenths)} weeks, action above {tenths_text(f.thresholds.act_weeks_tenths)} weeks; weekly amount {money_text(f.weekly_amount_pence)}"
        facts = (
            Fact("Allocated for the plan year", f.allocated_pence, M),
            Fact("Received from the funders so far", f.received_pence, M),
            Fact("Paid directly by the funder (notional)", f.notional_pence, M),
            Fact("Still to come from the funders", f.receivable_pence, M),
            Fact("Spent so far (including committed)", f.spent_pence, M),
            Fact("Fees so far", f.fees_pence, M),
            Fact("Top-slice taken so far", f.top_slice_taken_pence, M),
            Fact("Returned to the funders", f.returned_pence, M),
            Fact("Money left for the rest of the plan year", f.money_left_pence, M),
            Fact("Held funds (in the bank)", f.held_pence, M),
            Fact("On the card", f.card_pence, M),
            Fact("Committed (approved, not yet paid)", f.committed_pence, M),
            Fact("Contingency left", f.contingency_left_pence, M),
            Fact("Weeks held", f.weeks_held_tenths, W, weeks_note) if f.weeks_held_tenths is not None else Fact("Weeks held", "Not measured: the plan spends nothing weekly"),
        )
        intro = f"At the end of {day_text(self.window.ends_on)}. Plan in force: version {self.plan.version} from {day_text(self.plan.effective_from)}." if self.plan else "No plan had been agreed by the end of the quarter."
        return Section("position", "Money at the end of the quarter", (Facts("position", None, facts),), intro=intro)

    def plan_section(self) -> Section:
        planned = self.planned_by_category()
        paced = self.paced()
        quarter = self.spend(to_date=False)
        to_date = self.spend(to_date=True)
        codes = list(planned) + sorted(c for c in set(to_date) | set(quarter) if c not in planned and (to_date.get(c) or quarter.get(c)))
        rows, marks = [], []
        for code in codes:
            plan, pace, spent = planned.get(code, 0), paced.get(code, 0), to_date.get(code, 0)
            rows.append((self.category_name(code), plan, pace, quarter.get(code, 0), spent, spent - pace, plan - spent))
            marks.append("out_of_plan" if code not in planned else "over_plan" if spent > plan else None)
        columns = (
            Column("category", "Category"), Column("plan", "Plan for the year", M), Column("paced", "Paced to quarter end", M),
            Column("quarter", "Spent this quarter", M), Column("to_date", "Spent to date", M),
            Column("pace_difference", "Ahead (+) or behind (-) pace", M), Column("left", "Left on the line", M),
        )  # fmt: skip
        spend_table = table(
            "plan_vs_spend", "Plan lines against spending", columns, rows, totals=True, row_marks=marks,
            note="Pace: what the plan expected by the quarter's end (recurring lines evenly over the plan year, one-off lines on their dates). Spending ahead of pace is information for the review, not a problem in itself.",
        )  # fmt: skip
        chart = Chart(
            "spend_chart", "Spending against plan by category", "bar", tuple(r[0] for r in rows),
            (Series("Paced to quarter end", tuple(r[2] for r in rows)), Series("Spent to date", tuple(r[4] for r in rows))),
            M, "plan_vs_spend", "Bar chart: for each category, what the plan expected by the quarter's end beside what was spent to date.",
        )  # fmt: skip
        return Section("plan", "Plan against spending", (spend_table, chart))

    def flows_section(self) -> Section:
        w = self.window
        loads = reads.card_loads(self.session, self.budget.id, w.starts_on, w.ends_on)
        paid = reads.payables_paid(self.session, self.budget.id, w.starts_on, w.ends_on)
        wages = sum(p.amount_pence for p in paid if p.kind in ("wages", "payroll"))
        invoices = sum(p.amount_pence for p in paid if p.kind in ("invoice", "pooled"))
        received = -self.moved(AccountKind.RECEIVABLE, EntryKind.FUNDER_PAYMENT, EntryKind.CONTRIBUTION_RECEIVED, EntryKind.MONEY_IDENTIFIED)
        purchases = self.moved(AccountKind.SPEND, EntryKind.CARD_PURCHASE, EntryKind.CARD_REFUND, EntryKind.BANK_SPEND)
        facts = (
            Fact("Received from the funders", received, M),
            Fact("Card loads", loads.total_pence, M, f"{loads.count} load{'s' if loads.count != 1 else ''}" if loads.count else None),
            Fact("Wages and payroll paid", wages, M),
            Fact("Invoices paid", invoices, M),
            Fact("Card and bank spending (less refunds)", purchases, M),
            Fact("Fees", sum(a.moved_pence for a in self.accounts if a.kind == AccountKind.FEES), M),
            Fact("Top-slice taken", sum(a.moved_pence for a in self.accounts if a.kind == AccountKind.TOP_SLICE), M),
            Fact("Transition costs", self.spend(to_date=False).get(TRANSITION_CATEGORY, 0), M),
            Fact("Returned to the funders", sum(a.moved_pence for a in self.accounts if a.kind == AccountKind.RETURNED), M),
        )
        payments = table(
            "payments", "Wages, payroll and invoices paid this quarter",
            (Column("paid_on", "Paid on", D), Column("kind", "Kind"), Column("payee", "Paid to"), Column("category", "Category"), Column("amount", "Amount", M)),
            [(p.paid_on, p.kind.replace("_", " "), f"{p.supplier} {p.number}".strip() if p.kind != "payroll" else f"Payroll {p.number}" + (f" ({p.worker})" if p.worker else ""), p.category_name, p.amount_pence) for p in paid],
            totals=True, empty_text="Nothing was paid from the bank for this budget this quarter.",
        )  # fmt: skip
        transition = (
            Fact("Transition planned", sum(l.amount_pence for l in self.lines if l.category == TRANSITION_CATEGORY), M),
            Fact("Transition spent to date", self.spend(to_date=True).get(TRANSITION_CATEGORY, 0), M),
            Fact("Transition left", self.figures.transition_left_pence, M),
            Fact("Top-slice planned for the year", self.figures.top_slice_planned_pence, M),
            Fact("Top-slice taken to date", self.figures.top_slice_taken_pence, M),
        )
        return Section("flows", "Money in and out this quarter", (Facts("quarter_flows", None, facts), payments, Facts("top_slice_transition", "Top-slice and transition", transition)))

    def contingency_section(self) -> Section:
        w = self.window
        uses = reads.contingency_uses(self.session, self.budget.id, w.starts_on, w.ends_on)
        facts = (
            Fact("Planned for the year", self.figures.contingency_planned_pence, M),
            Fact("Left at the start of the quarter", self.opening(AccountKind.CONTINGENCY), M),
            Fact("Ring-fenced this quarter", self.moved(AccountKind.CONTINGENCY, EntryKind.CONTINGENCY_RING_FENCE), M),
            Fact("Used this quarter", -self.moved(AccountKind.CONTINGENCY, EntryKind.CONTINGENCY_USE), M),
            Fact("Returned this quarter", -self.moved(AccountKind.CONTINGENCY, EntryKind.CONTINGENCY_RETURN), M),
            Fact("Left at the end of the quarter", self.closing(AccountKind.CONTINGENCY), M),
        )
        uses_table = table(
            "contingency_uses", "Contingency used this quarter, with the reasons",
            (Column("used_on", "Used on", D), Column("amount", "Amount", M), Column("reason", "Reason"), Column("agreed_by", "Agreed by"), Column("agreed_on", "Agreed on", D)),
            [(u.used_on, u.amount_pence, u.reason, f"{u.agreed_by_name} ({u.agreed_by_role})", u.agreed_on) for u in uses],
            totals=True, empty_text="No contingency was used this quarter.",
        )  # fmt: skip
        return Section("contingency", "Contingency", (Facts("contingency", None, facts), uses_table))

    def balances_section(self) -> Section:
        w = self.window
        series = reads.daily_balances(self.session, self.accounts, w.starts_on, w.ends_on)
        points = [(day, values) for day, values in series if day.weekday() == 6 or day == w.ends_on or day == w.starts_on]
        rows = [(day, v[AccountKind.CASH], v[AccountKind.CARD], v[AccountKind.CONTINGENCY], v[AccountKind.PAYABLE]) for day, v in points]
        balances = table(
            "balances", "Balances over the quarter (each Sunday, and the first and last day)",
            (Column("day", "Day", D), Column("held", "Held funds", M), Column("card", "On the card", M), Column("contingency", "Contingency", M), Column("committed", "Committed", M)),
            rows,
        )  # fmt: skip
        chart = Chart(
            "balances_chart", "Balances over the quarter", "line", tuple(f"{d.day} {d:%b}" for d, *_ in rows),
            (Series("Held funds", tuple(r[1] for r in rows)), Series("On the card", tuple(r[2] for r in rows)), Series("Contingency", tuple(r[3] for r in rows))),
            M, "balances", "Line chart of held funds, card money and contingency over the quarter.",
        )  # fmt: skip
        return Section("balances", "Held funds, card and contingency over the quarter", (chart, balances))


def _cached(cache: dict, key: tuple, make):  # type: ignore[no-untyped-def]
    if key not in cache:
        cache[key] = make()
    return cache[key]


__all__ = ["KIND", "QuarterlyReview", "ReviewWindow", "build", "review_window"]
