"""The provider's statement to the person, for a month or a quarter, in plain words: the
support paid for (each worker's hours × rate, and invoices), what was bought by category,
the management fee, and the money left — and the same in easy read for post (large type,
short sentences, one idea a line, a picture beside each).

Support paid for is what left the bank for the budget's wages and invoices in the period
(``reports.statement_reads.support_payments``): the payroll and invoice lines behind each
payment where the payables service recorded them. What was bought is card and bank spending,
refunds and contingency spent, by the plan's categories in the family's own words. The fee
is the top-slice taken in the period, with bank and card fees beside it. The money is that of
the position at the period's end (``ledger.position.figures``); the money at the start and the end
is what the budget held in the bank, on its card and as contingency, and the payments in and
out between them add up to the difference.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ledger.budgets.budget import contacts_of, get_budget
from ledger.budgets.parties import get_holder, get_person
from ledger.core.vocabulary import AccountKind, Cadence, HolderKind
from ledger.errors import InvalidInput
from ledger.loads.runs import budget_schedule
from ledger.loads.schedule import LoadStatus
from ledger.position.figures import budget_figures
from ledger.store.tables import Budget
from reports import budget_reads as reads
from reports.document import Column, Document, EasyRead, Fact, Facts, PictureLine, Section, ValueKind, table
from reports.formatting import MONTHS, day_text, money_text
from reports.monitoring_return import check_period_covers_budget
from reports.params import Period, ReportParams
from reports.pictures import picture_for_category
from reports.statement_reads import SupportPayment, held_money, purchases, support_payments

M, D, H, T = ValueKind.MONEY, ValueKind.DATE, ValueKind.HOURS, ValueKind.TEXT
KIND, EASY_KIND = "provider-statement", "easy-read-statement"
CATEGORIES_SHOWN = 4
"""The easy-read letter names the biggest few categories; the rest are "other things"."""
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHARED_PAYMENT = "Your share of one payment for several people's support"
SMALLEST_EASY_PENCE = 50
"""Easy read shows whole pounds: a figure under 50p would read £0, so it is left out."""
ROLE_WORDS = {"care_coordinator": "Care coordinator", "named_advisor": "Named advisor", "health_contact": "Health contact"}


def build(session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
    return _statement(session, params, cache).document(now)


def build_easy_read(session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
    return _statement(session, params, cache).easy_read(now)


def _statement(session: Session, params: ReportParams, cache: dict | None) -> ProviderStatement:
    if params.budget_id is None or params.period is None or params.period.kind not in ("month", "quarter"):
        raise InvalidInput("a statement is for one budget and one month or quarter", code="report_params", field="budget")
    budget = get_budget(session, params.budget_id)
    check_period_covers_budget(session, budget, params.period)
    return ProviderStatement(session, budget, params.period, cache if cache is not None else {})


def period_words(period: Period) -> str:
    """October 2026; July to September 2026; December 2026 to February 2027."""
    first, last = period.starts_on, period.ends_on
    if period.kind == "month":
        return f"{MONTHS[first.month - 1]} {first.year}"
    if first.year == last.year:
        return f"{MONTHS[first.month - 1]} to {MONTHS[last.month - 1]} {last.year}"
    return f"{MONTHS[first.month - 1]} {first.year} to {MONTHS[last.month - 1]} {last.year}"


class ProviderStatement:
    """Reads once; lays out the statement, or the easy-read letter."""

    def __init__(self, session: Session, budget: Budget, period: Period, cache: dict) -> None:
        self.session, self.budget, self.period = session, budget, period
        starts_on, ends_on = period.starts_on, period.ends_on
        self.holder = get_holder(session, budget.holder_id)
        self.person = get_person(session, budget.person_id)
        key = ("categories", budget.holder_id)
        if key not in cache:
            cache[key] = reads.category_names(session, budget.holder_id)
        self.names: dict[str, tuple[str, str]] = cache[key]
        self.windows = reads.account_windows(session, budget.id, starts_on, ends_on)
        self.held = held_money(session, budget.id, self.windows, starts_on, ends_on)
        self.figures = budget_figures(session, budget, as_of=ends_on)
        assert self.figures.held_pence + self.figures.card_pence + self.figures.contingency_left_pence == self.held.closing_pence
        payable = next((w.account_id for w in self.windows if w.kind == AccountKind.PAYABLE), None)
        self.payments = support_payments(session, budget.id, payable, starts_on, ends_on)
        self.bought = purchases(session, budget.id, starts_on, ends_on)
        self.top_slice_pence = sum(w.moved_pence for w in self.windows if w.kind == AccountKind.TOP_SLICE)
        self.fees_pence = sum(w.moved_pence for w in self.windows if w.kind == AccountKind.FEES)
        self.contacts = contacts_of(session, budget.id)
        self.schedules = budget_schedule(session, budget.id)

    @property
    def we(self) -> str:
        """Who paid: the provider ("we"), or the family holding its own direct payment ("you")."""
        return "you" if self.holder.kind == HolderKind.SELF_MANAGED else "we"

    @property
    def words(self) -> str:
        return period_words(self.period)

    @property
    def day_before(self) -> date:
        return self.period.starts_on - timedelta(days=1)

    @property
    def this(self) -> str:
        return "this month" if self.period.kind == "month" else "this quarter"

    @property
    def name(self) -> str:
        return self.person.preferred_name or self.person.name.split(" ")[0]

    def plain(self, code: str) -> str:
        return self.names.get(code, (code, code.replace("_", " ").capitalize()))[1]

    @property
    def wages(self) -> list[SupportPayment]:
        return [p for p in self.payments if p.is_wages]

    @property
    def other_support(self) -> list[SupportPayment]:
        return [p for p in self.payments if not p.is_wages]

    def by_category(self) -> list[tuple[str, int]]:
        totals: dict[str, int] = defaultdict(int)
        for purchase in self.bought:
            totals[purchase.category_code] += purchase.amount_pence
        return sorted(((code, pence) for code, pence in totals.items() if pence), key=lambda item: (-item[1], item[0]))

    # --- the statement ------------------------------------------------------------------

    def document(self, now: datetime) -> Document:
        held, f = self.held, self.figures
        summary = (
            f"This is your statement for {self.words}. It shows the support {'we ' if self.we == 'we' else ''}paid for, what you bought, "
            f"{'our fee' if self.we == 'we' else 'fees'} and the money you have left.",
            f"You have {money_text(f.money_left_pence)} left for the rest of your plan year, which ends on {day_text(self.budget.period_end)}.",
            f"You had {money_text(held.opening_pence)} on {day_text(self.day_before)} and {money_text(held.closing_pence)} on {day_text(self.period.ends_on)}.",
        )
        sections = (self.support_section(), self.bought_section(), self.fee_section(), self.balance_section(), self.contacts_section())
        return Document(
            kind=KIND, title="Your statement", subtitle=f"{self.person.name} · {self.budget.reference} · {self.words}",
            subject=self.budget.reference, period=self.period.label, period_start=self.period.starts_on, period_end=self.period.ends_on,
            generated_at=now, summary=summary, sections=sections, organisation=self.holder.name,
        )  # fmt: skip

    def support_section(self) -> Section:
        wages, other = self.wages, self.other_support
        hours = sum(p.hours_hundredths or 0 for p in wages)
        facts = [
            Fact("Paid to your support workers", sum(p.amount_pence for p in wages), M),
            Fact("Paid for other support", sum(p.amount_pence for p in other), M),
            Fact("Paid for your support in all", sum(p.amount_pence for p in self.payments), M),
        ]
        if hours:
            facts.append(Fact("Hours your support workers worked", hours, H))
        rows = [(p.paid_on, p.worker or p.paid_to, p.hours_hundredths, p.rate_pence, _pay_for_hours(p), _employer_costs(p), p.amount_pence) for p in wages]
        wages_table = table(
            "wages", "Your support workers",
            (Column("paid_on", "Paid on", D), Column("worker", "Worker"), Column("hours", "Hours", H), Column("rate", "Rate an hour", M),
             Column("pay", "Hours × rate", M), Column("costs", "Employer's costs", M), Column("amount", "Paid", M)),
            rows,
            totals_row=(None, "Total", hours, None, sum(r[4] or 0 for r in rows), sum(r[5] or 0 for r in rows), sum(r[6] for r in rows)) if rows else None,
            note="Hours × rate is to the nearest penny. Employer's costs are the employer's National Insurance and pension.",
            empty_text=f"No wages were paid from your budget {self.this}.",
        )  # fmt: skip
        other_table = table(
            "other_support", "Other support paid for",
            (Column("paid_on", "Paid on", D), Column("paid_to", "Paid to"), Column("what", "What for"), Column("amount", "Paid", M)),
            [(p.paid_on, p.paid_to, SHARED_PAYMENT if p.shared else p.description, p.amount_pence) for p in other],
            totals=True, empty_text=f"Nothing else was paid from your budget {self.this}.",
        )  # fmt: skip
        intro = "What we paid from the bank for your support." if self.we == "we" else "What was paid from your bank account for your support."
        return Section("support", f"Your support {self.this}", (Facts("support_totals", None, tuple(facts)), wages_table, other_table), intro=intro)

    def bought_section(self) -> Section:
        categories = table(
            "by_category", "What you bought, by what it was for",
            (Column("category", "What it was for"), Column("amount", "Spent", M)),
            [(self.plain(code), pence) for code, pence in self.by_category()],
            totals=True, empty_text=f"You bought nothing with your card or bank account {self.this}.",
        )  # fmt: skip
        bought = table(
            "purchases", "Everything you bought",
            (Column("day", "Day", D), Column("what", "Where or what"), Column("category", "What it was for"), Column("amount", "Spent", M)),
            [(p.bought_on, p.description, self.plain(p.category_code), p.amount_pence) for p in self.bought],
            totals=True, note="A refund shows as a minus amount.", empty_text="Nothing to show.",
        )  # fmt: skip
        return Section("bought", "What you bought", (categories, bought))

    def fee_section(self) -> Section:
        f = self.figures
        ours = self.we == "we"
        facts = (
            Fact(f"{'Our management fee' if ours else 'Management fee (top-slice)'} {self.this}", self.top_slice_pence, M,
                 "It pays for training, recruiting and supervising staff." if ours else None),
            Fact(f"Bank and card fees {self.this}", self.fees_pence, M),
            Fact("Management fee agreed for the year", f.top_slice_planned_pence, M),
            Fact("Management fee taken so far this year", f.top_slice_taken_pence, M),
        )
        return Section("fee", "Our management fee" if ours else "Fees", (Facts("fees", None, facts),))

    def balance_section(self) -> Section:
        held, f = self.held, self.figures
        flow = Facts("money_flow", f"Your money in {self.words}", (
            Fact(f"Money on {day_text(self.day_before)}", held.opening_pence, M), Fact("Money paid in", held.money_in_pence, M),
            Fact("Money paid out", held.money_out_pence, M), Fact(f"Money on {day_text(self.period.ends_on)}", held.closing_pence, M),
        ))  # fmt: skip
        balance = Facts("balance", f"Your money on {day_text(self.period.ends_on)}", (
            Fact("Money left for the rest of your plan year", f.money_left_pence, M, f"Your plan year ends on {day_text(self.budget.period_end)}"),
            Fact("Held for you in the bank" if self.we == "we" else "In your bank account", f.held_pence, M), Fact("On your card", f.card_pence, M),
            Fact("Emergency money left (contingency)", f.contingency_left_pence, M),
            Fact("Set aside for wages and bills not yet paid", f.committed_pence, M),
        ))  # fmt: skip
        where = "we hold for you in the bank" if self.we == "we" else "is in your bank account"
        return Section("balance", "Your money", (flow, balance), intro=f"Your money is what {where}, on your card and as emergency money.")

    def contacts_section(self) -> Section:
        contacts = table(
            "contacts", "Who to contact",
            (Column("role", "Who"), Column("name", "Name"), Column("organisation", "Where"), Column("phone", "Phone"), Column("email", "Email")),
            [(ROLE_WORDS.get(c.role, c.role), c.name, c.organisation or "", c.phone or "", c.email or "") for c in self.contacts],
            empty_text=f"Call {self.holder.name} with any questions.",
        )  # fmt: skip
        return Section("contacts", "Questions or changes", (contacts,),
                       intro="Ask us if something looks wrong, or if you want to change your plan or have a review.")  # fmt: skip

    # --- the easy-read letter -----------------------------------------------------------

    def easy_read(self, now: datetime) -> Document:
        f = self.figures
        about = EasyRead("about", None, (
            PictureLine("letter", f"This letter is about your money for {self.words}."),
            PictureLine("person", f"It is for {self.name}."),
        ))  # fmt: skip
        money = EasyRead("money", None, (
            PictureLine("money", "You have this much money left this year:", f.money_left_pence, M),
            PictureLine("calendar", f"Your plan year ends on {day_text(self.budget.period_end)}."),
            PictureLine("home", "We keep this money for you in the bank:" if self.we == "we" else "Money in your bank account:", f.held_pence, M),
            *((PictureLine("card", "Money on your card:", f.card_pence, M),) if self.schedules else ()),
            PictureLine("shield", "Your emergency money left:", f.contingency_left_pence, M),
        ))  # fmt: skip
        sections = [
            Section("about", "Your money letter", (about,)),
            Section("money", "Your money", (money,)),
            Section("spent", f"What your money paid for {self.this}", (EasyRead("spent", None, tuple(self.easy_spent())),)),
        ]
        card = self.easy_card()
        if card:
            sections.append(Section("card", "Your card", (EasyRead("card", None, tuple(card)),)))
        sections.append(Section("contact", "Questions", (EasyRead("contact", None, tuple(self.easy_contacts())),)))
        return Document(
            kind=EASY_KIND, title="Your money", subtitle=f"{self.words} · {self.budget.reference}", subject=self.budget.reference,
            period=self.period.label, period_start=self.period.starts_on, period_end=self.period.ends_on, generated_at=now,
            summary=(), sections=tuple(sections), style="easy_read", organisation=self.holder.name,
        )  # fmt: skip

    def easy_spent(self) -> list[PictureLine]:
        wages = sum(p.amount_pence for p in self.wages)
        other = sum(p.amount_pence for p in self.other_support)
        hours = sum(p.hours_hundredths or 0 for p in self.wages)
        lines = []
        we = self.we.capitalize()
        if wages:
            lines.append(PictureLine("people", f"{we} paid your support workers:", wages, M))
        if hours:
            lines.append(PictureLine("clock", "They worked this many hours:", hours, H))
        if other:
            lines.append(PictureLine("people", f"{we} paid for other support:" if wages else f"{we} paid for your support:", other, M))
        categories = self.by_category()
        for code, pence in categories[:CATEGORIES_SHOWN]:
            lines.append(PictureLine(picture_for_category(code), f"You spent this on {self.plain(code).lower()}:", pence, M))
        rest = sum(pence for _, pence in categories[CATEGORIES_SHOWN:])
        if rest:
            lines.append(PictureLine("bag", "You spent this on other things:", rest, M))
        if self.top_slice_pence:
            lines.append(PictureLine("pen", "Our fee for looking after your money:", self.top_slice_pence, M))
        if self.fees_pence >= SMALLEST_EASY_PENCE:
            lines.append(PictureLine("money", "Bank and card fees:", self.fees_pence, M))
        if not lines:
            lines.append(PictureLine("money", f"Nothing was paid from your money {self.this}."))
        return lines

    def easy_card(self) -> list[PictureLine]:
        lines = []
        for schedule in self.schedules:
            day = DAY_NAMES[schedule.load_time.weekday]
            every = {Cadence.WEEKLY: f"every {day}", Cadence.TWO_WEEKLY: f"every other {day}"}.get(schedule.part.terms.cadence, f"every four weeks, on a {day}")  # type: ignore[call-overload]
            lines.append(PictureLine("card", f"Your card gets money {every}."))
            upcoming = next(
                (load for load in schedule.loads
                 if load.period.due_on > self.period.ends_on and load.status in (LoadStatus.DUE, LoadStatus.POSTED) and load.amount_pence > 0),
                None,
            )  # fmt: skip
            if upcoming is not None:
                lines.append(PictureLine("calendar", "The next money goes on your card on:", upcoming.period.due_on, D))
                lines.append(PictureLine("money", "It will be:", upcoming.amount_pence, M))
        return lines

    def easy_contacts(self) -> list[PictureLine]:
        ordered = sorted((c for c in self.contacts if c.phone), key=lambda c: (c.role != "care_coordinator", c.role != "named_advisor", c.id))
        lines = [
            PictureLine("phone", f"{'Questions? Call' if index == 0 else 'Or call'} {contact.name}:", contact.phone, T)
            for index, contact in enumerate(ordered[:2])
        ]
        if not lines:
            lines.append(PictureLine("phone", f"Questions? Call {self.holder.name}."))
        lines.append(PictureLine("question", "You can ask to change your plan."))
        return lines


def _pay_for_hours(payment: SupportPayment) -> int | None:
    """Hours × rate to the nearest penny (half up), as the payroll worked it out."""
    if payment.hours_hundredths is None or payment.rate_pence is None:
        return None
    return (2 * payment.hours_hundredths * payment.rate_pence + 100) // 200


def _employer_costs(payment: SupportPayment) -> int | None:
    if payment.hours_hundredths is None or payment.rate_pence is None:
        return payment.employer_costs_pence
    return payment.employer_costs_pence or 0


__all__ = ["EASY_KIND", "KIND", "ProviderStatement", "build", "build_easy_read", "period_words"]
