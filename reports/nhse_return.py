"""The NHS England quarterly personal health budget return of one ICB: how many people had a
personal health budget the ICB funds, by management option, adult or child, and eligibility
group — live at the quarter's end, and at any time in the financial year to date.

The collection is NHS Digital's "Personal Health Budget (PHB)" data collection (quarterly
since April 2017, submitted on the first working day of each quarter for the quarter before;
Data Provision Notice "Personal Health Budgets"; NHS England standard DAPB2184 Amd 26/2019,
"Personal Health Budget", an aggregate collection from ICBs). None of the pages we could
read (the collection's page on digital.nhs.uk, the notice, the standard's entry on
standards.nhs.uk) lists the submission's column names, so the CSV is a tidy table of our
own rather than the collection's template: one row per ICB × quarter × measure × age group ×
eligibility group × management option, with the number of people, every combination
present (zeros included) so the file's shape is the same every quarter.

How people are counted:

- the ICB's budgets: those it leads, or funds by a line in an agreed plan version
  (``reports.funded_scope``);
- a budget is *live* on a day inside its plan period, on or after the first agreed plan
  version takes effect, and not after the budget was closed (closed on a day: live that day);
- *live at quarter end*: live on the quarter's last day; *year to date*: live on any day
  from 1 April of the financial year to the quarter's last day;
- people, not budgets: someone with two budgets in the year counts once;
- adult or child by age on the quarter's last day (under 18: a child);
- one management option per person: the option carrying the most money in the plan
  version in force (at the quarter's end, or on the last day a budget was live), added up
  over the person's budgets; a tie goes to the option listed first (notional, third party,
  direct payment). People with more than one option are counted again in a column of their
  own, so nothing is hidden and every person is in exactly one row.

Three set-based queries, whatever the number of budgets.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ledger.budgets.parties import age_on, get_funder
from ledger.core.periods import Quarter, parse_quarter
from ledger.core.vocabulary import EligibilityGroup, FunderKind, ManagementOption, PlanStatus
from ledger.errors import InvalidInput
from ledger.store.tables import Budget, BudgetPart, Funder, Person, SupportPlanVersion
from ledger.store.tables.closing import BudgetClosure
from ledger.store.tables.plans import PlanPartAmount
from reports.document import Column, Document, Fact, Facts, Paragraphs, Section, Table, ValueKind, table
from reports.formatting import day_text
from reports.funded_scope import funded_budget_ids
from reports.params import ReportParams

KIND = "nhse-return"
ADULT_FROM_YEARS = 18
C = ValueKind.COUNT

OPTION_LABELS = {
    ManagementOption.NOTIONAL: "Notional",
    ManagementOption.THIRD_PARTY: "Third party",
    ManagementOption.DIRECT_PAYMENT: "Direct payment",
}
OPTIONS = tuple(OPTION_LABELS)
"""In the collection's order; a tie in money goes to the option listed first."""

CHC = "NHS Continuing Healthcare"
FAST_TRACK = "NHS Continuing Healthcare fast track (end of life)"
CHILDREN_CONTINUING_CARE = "Children and young people's continuing care"
ELIGIBILITY_LABELS = {
    EligibilityGroup.CONTINUING_HEALTHCARE: CHC,
    EligibilityGroup.END_OF_LIFE: FAST_TRACK,
    EligibilityGroup.CHILDRENS_CONTINUING_CARE: CHILDREN_CONTINUING_CARE,
    EligibilityGroup.PERSONAL_WHEELCHAIR_BUDGET: "Personal wheelchair budget",
    EligibilityGroup.SECTION_117_AFTERCARE: "Section 117 aftercare",
    EligibilityGroup.MENTAL_HEALTH: "Mental health",
    EligibilityGroup.LEARNING_DISABILITY_AUTISM: "Learning disability and/or autism",
    EligibilityGroup.OTHER: "Other",
}
ELIGIBILITY_ORDER = tuple(ELIGIBILITY_LABELS.values())
ADULT, CHILD = "Adult", "Child"
AGE_GROUPS = (ADULT, CHILD)
LIVE, YEAR_TO_DATE = "Live at quarter end", "Year to date"
MEASURES = (LIVE, YEAR_TO_DATE)


def eligibility_label(group: str, *, child: bool) -> str:
    """The collection's group: continuing healthcare is children's continuing care for a child."""
    if group == EligibilityGroup.CONTINUING_HEALTHCARE and child:
        return CHILDREN_CONTINUING_CARE
    return ELIGIBILITY_LABELS.get(group, ELIGIBILITY_LABELS[EligibilityGroup.OTHER])  # type: ignore[call-overload]


def quarter_words(quarter: Quarter) -> str:
    """2026Q2 → "2026-27 Q2"."""
    return f"{quarter.financial_year}-{(quarter.financial_year + 1) % 100:02d} Q{quarter.number}"


def financial_year_start(quarter: Quarter) -> date:
    return date(quarter.financial_year, 4, 1)


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetLife:
    """When a budget was live, and its agreed plan versions (effective from, version, id)."""

    budget_id: int
    person: Person
    live_from: date | None
    live_to: date
    versions: tuple[tuple[date, int, int], ...]

    def live_on(self, day: date) -> bool:
        return self.live_from is not None and self.live_from <= day <= self.live_to

    def live_between(self, first: date, last: date) -> bool:
        return self.live_from is not None and self.live_from <= last and self.live_to >= first and self.live_from <= self.live_to

    def version_on(self, day: date) -> int:
        in_force = [version_id for effective_from, _number, version_id in self.versions if effective_from <= day]
        assert in_force, f"budget {self.budget_id} has no agreed plan in force on {day}"
        return in_force[-1]


def read_lives(session: Session, funder_id: int, first: date, last: date) -> list[BudgetLife]:
    """The funder's budgets whose plan period meets ``first``…``last``, with their agreed versions."""
    in_window = select(Budget.id).where(
        Budget.id.in_(funded_budget_ids(funder_id)), Budget.period_start <= last, Budget.period_end >= first
    )
    versions: dict[int, list[tuple[date, int, int]]] = {}
    for budget_id, effective_from, number, version_id in session.execute(
        select(SupportPlanVersion.budget_id, SupportPlanVersion.effective_from, SupportPlanVersion.version, SupportPlanVersion.id)
        .where(SupportPlanVersion.status == PlanStatus.AGREED, SupportPlanVersion.budget_id.in_(in_window))
        .order_by(SupportPlanVersion.budget_id, SupportPlanVersion.effective_from, SupportPlanVersion.version)
    ):
        versions.setdefault(budget_id, []).append((effective_from, number, version_id))
    rows = session.execute(
        select(Budget.id, Budget.period_start, Budget.period_end, BudgetClosure.closed_on, Person)
        .join(Person, Person.id == Budget.person_id)
        .outerjoin(BudgetClosure, BudgetClosure.budget_id == Budget.id)
        .where(Budget.id.in_(in_window))
        .order_by(Budget.id)
    ).all()
    lives = []
    for budget_id, starts_on, ends_on, closed_on, person in rows:
        agreed = tuple(versions.get(budget_id, ()))
        live_from = max(starts_on, agreed[0][0]) if agreed else None
        live_to = min(ends_on, closed_on) if closed_on is not None else ends_on
        lives.append(BudgetLife(budget_id, person, live_from, live_to, agreed))
    return lives


def read_option_money(session: Session, funder_id: int, first: date, last: date) -> dict[int, dict[str, int]]:
    """Agreed plan version id → management option → money through the budget's parts of that
    option (0 for a part the version gives nothing)."""
    in_window = select(Budget.id).where(
        Budget.id.in_(funded_budget_ids(funder_id)), Budget.period_start <= last, Budget.period_end >= first
    )
    rows = session.execute(
        select(SupportPlanVersion.id, BudgetPart.management_option, func.coalesce(func.sum(PlanPartAmount.amount_pence), 0))
        .select_from(SupportPlanVersion)
        .join(BudgetPart, BudgetPart.budget_id == SupportPlanVersion.budget_id)
        .outerjoin(PlanPartAmount, and_(PlanPartAmount.budget_part_id == BudgetPart.id, PlanPartAmount.plan_version_id == SupportPlanVersion.id))
        .where(SupportPlanVersion.status == PlanStatus.AGREED, SupportPlanVersion.budget_id.in_(in_window))
        .group_by(SupportPlanVersion.id, BudgetPart.management_option)
    )
    money: dict[int, dict[str, int]] = {}
    for version_id, option, pence in rows:
        money.setdefault(version_id, {})[option] = int(pence)
    return money


# --- counting ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counted:
    """One person in one measure: the row they are counted in."""

    person_id: int
    age_group: str
    eligibility: str
    option: str
    mixed: bool
    budgets: int


def main_option(money_by_option: dict[str, int]) -> tuple[str, bool]:
    """The option with the most money (ties to the first in ``OPTIONS``), and whether more
    than one option carries money."""
    assert money_by_option, "a budget has at least one part"
    with_money = [o for o in OPTIONS if money_by_option.get(o, 0) > 0]
    candidates = with_money or [o for o in OPTIONS if o in money_by_option]
    best = max(candidates, key=lambda o: (money_by_option.get(o, 0), -OPTIONS.index(o)))
    return best, len(with_money) > 1


def count_people(lives: list[BudgetLife], money: dict[int, dict[str, int]], quarter: Quarter, measure: str) -> list[Counted]:
    first, last = financial_year_start(quarter), quarter.ends_on
    versions_by_person: dict[int, list[int]] = {}
    people: dict[int, Person] = {}
    for life in lives:
        if measure == LIVE:
            if not life.live_on(last):
                continue
            day = last
        else:
            if not life.live_between(first, last):
                continue
            day = min(last, life.live_to)
        versions_by_person.setdefault(life.person.id, []).append(life.version_on(day))  # type: ignore[arg-type]
        people[life.person.id] = life.person  # type: ignore[index]
    counted = []
    for person_id in sorted(versions_by_person):
        person = people[person_id]
        totals: Counter[str] = Counter()
        for version_id in versions_by_person[person_id]:
            for option, pence in money.get(version_id, {}).items():
                totals[option] += pence
        option, mixed = main_option(dict(totals))
        child = age_on(person, last) < ADULT_FROM_YEARS
        counted.append(
            Counted(person_id, CHILD if child else ADULT, eligibility_label(person.eligibility_group, child=child), option, mixed, len(versions_by_person[person_id]))
        )
    return counted


# --- the document ------------------------------------------------------------------------


def build(session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
    if params.funder_id is None or params.period is None or params.period.kind != "quarter":
        raise InvalidInput("the NHS England return is for one ICB and one quarter (e.g. 2026Q2)", code="report_params", field="quarter")
    funder = get_funder(session, params.funder_id)
    if funder.kind != FunderKind.ICB:
        raise InvalidInput(
            f"{funder.name} is not an ICB: the NHS England personal health budget return is made by ICBs", code="nhse_return_icb_only", field="funder"
        )
    quarter = parse_quarter(params.period.label)
    first, last = financial_year_start(quarter), quarter.ends_on
    lives = read_lives(session, funder.id, first, last)  # type: ignore[arg-type]
    money = read_option_money(session, funder.id, first, last)  # type: ignore[arg-type]
    counted = {measure: count_people(lives, money, quarter, measure) for measure in MEASURES}
    return _document(funder, quarter, counted, now)


def _document(funder: Funder, quarter: Quarter, counted: dict[str, list[Counted]], now: datetime) -> Document:
    first, last = financial_year_start(quarter), quarter.ends_on
    live, to_date = counted[LIVE], counted[YEAR_TO_DATE]
    summary = [
        f"{len(live)} {_people(len(live))} had a personal health budget funded by {funder.name} on {day_text(last)}, the quarter's last day.",
        f"{len(to_date)} {_people(len(to_date))} had one at some time in the year to date ({day_text(first)} to {day_text(last)}).",
        "People are counted, not budgets: someone with two budgets in the year counts once.",
    ]
    mixed = sum(1 for c in to_date if c.mixed)
    if mixed:
        summary.append(
            f"{mixed} of the people in the year to date had more than one management option: each is counted once, "
            "under the option with the most money in their plan, and shown again in the column for more than one option."
        )
    sections = (
        Section("counts", "The counts", (_facts(counted, last),)),
        Section("live", f"Live on {day_text(last)}", (_cross_tab("live", counted[LIVE], counted),)),
        Section("year_to_date", f"Year to date: {day_text(first)} to {day_text(last)}", (_cross_tab("year_to_date", counted[YEAR_TO_DATE], counted),)),
        Section("return", "The return, one row per group", (_return_table(funder, quarter, counted),)),
        Section("method", "How the return is counted", (Paragraphs("method", None, _method_lines(quarter)),)),
    )
    return Document(
        kind=KIND,
        title="NHS England quarterly personal health budget return",
        subtitle=f"{funder.name} ({funder.code}) · {quarter_words(quarter)} · {day_text(quarter.starts_on)} to {day_text(last)}",
        subject=funder.code,
        period=quarter.label,
        period_start=quarter.starts_on,
        period_end=last,
        generated_at=now,
        summary=tuple(summary),
        sections=sections,
        primary_table="return",
        organisation=funder.name,
    )


def _people(count: int) -> str:
    return "person" if count == 1 else "people"


def _facts(counted: dict[str, list[Counted]], last: date) -> Facts:
    live, to_date = counted[LIVE], counted[YEAR_TO_DATE]
    return Facts("counts", None, (
        Fact("People live at the quarter's end", len(live), C),
        Fact("People in the year to date", len(to_date), C),
        Fact("Children (under 18 on the quarter's last day), live at the quarter's end", sum(1 for c in live if c.age_group == CHILD), C),
        Fact("Budgets live at the quarter's end", sum(c.budgets for c in live), C),
        Fact("Budgets live in the year to date", sum(c.budgets for c in to_date), C),
        Fact("People with more than one budget in the year to date", sum(1 for c in to_date if c.budgets > 1), C),
        Fact("People with more than one management option, live at the quarter's end", sum(1 for c in live if c.mixed), C),
        Fact("People with more than one management option in the year to date", sum(1 for c in to_date if c.mixed), C),
    ))  # fmt: skip


def _cross_tab(key: str, people: list[Counted], counted: dict[str, list[Counted]]) -> Table:
    """Eligibility × age down, options across; rows that have someone in either measure."""
    cells = Counter((c.eligibility, c.age_group, c.option) for c in people)
    mixed = Counter((c.eligibility, c.age_group) for c in people if c.mixed)
    present = {(c.eligibility, c.age_group) for measure in MEASURES for c in counted[measure]}
    rows = []
    for eligibility in ELIGIBILITY_ORDER:
        for age_group in AGE_GROUPS:
            if (eligibility, age_group) not in present:
                continue
            by_option = [cells[(eligibility, age_group, option)] for option in OPTIONS]
            rows.append((eligibility, age_group, *by_option, sum(by_option), mixed[(eligibility, age_group)]))
    columns = (
        Column("eligibility", "Eligibility group"), Column("age_group", "Adult or child"),
        *(Column(option, label, C) for option, label in OPTION_LABELS.items()),
        Column("all", "All options", C), Column("mixed", "Of whom more than one option", C),
    )  # fmt: skip
    block = table(
        key, "People by eligibility group, age and management option", columns, rows, totals=True,
        note="Each person is counted once, under the management option carrying the most money in their plan; "
        "the last column counts again those who had more than one option.",
        empty_text="No one had a personal health budget funded by this ICB.",
    )  # fmt: skip
    total = block.totals[block.column_index("all")] if block.totals else 0
    assert total == len({c.person_id for c in people}), f"{key}: the table counts {total} people, the list {len(people)}"
    return block


RETURN_COLUMNS = (
    Column("icb_code", "ICB code"), Column("icb_name", "ICB name"), Column("quarter", "Quarter"),
    Column("measure", "Measure"), Column("age_group", "Age group"), Column("eligibility_group", "Eligibility group"),
    Column("management_option", "Management option"), Column("people", "People", C),
    Column("people_with_more_than_one_option", "Of whom more than one option", C),
)  # fmt: skip


def _return_table(funder: Funder, quarter: Quarter, counted: dict[str, list[Counted]]) -> Table:
    rows = []
    for measure in MEASURES:
        cells = Counter((c.age_group, c.eligibility, c.option) for c in counted[measure])
        mixed = Counter((c.age_group, c.eligibility, c.option) for c in counted[measure] if c.mixed)
        for age_group in AGE_GROUPS:
            for eligibility in ELIGIBILITY_ORDER:
                for option, label in OPTION_LABELS.items():
                    key = (age_group, eligibility, option)
                    rows.append((funder.code, funder.name, quarter_words(quarter), measure, age_group, eligibility, label, cells[key], mixed[key]))
    return table(
        "return", "The return: people by measure, age group, eligibility group and management option", RETURN_COLUMNS, rows,
        note="Every combination is listed, zeros included. Adding up the people of one measure gives the number of people in it.",
    )  # fmt: skip


def _method_lines(quarter: Quarter) -> tuple[str, ...]:
    last = quarter.ends_on
    return (
        "Budgets counted: those the ICB leads, and those it pays towards through a funding line in an agreed plan.",
        f"Live at the quarter's end: the plan period covers {day_text(last)}, an agreed plan was in force that day, "
        "and the budget had not been closed before it.",
        f"Year to date: live on any day from {day_text(financial_year_start(quarter))} to {day_text(last)}, "
        "including budgets that have since ended or been closed.",
        f"Adult or child: age on {day_text(last)}; under 18 is a child. "
        "NHS Continuing Healthcare for a child is counted as children and young people's continuing care.",
        "Management option: the option carrying the most money in the plan in force (at the quarter's end, or on the "
        "last day the budget was live in the year), added up over the person's budgets. A tie goes to notional, then "
        "third party, then direct payment.",
        "The published collection's submission columns were not available to us, so this return is a plain table of "
        "its measures: one row per group, which can be copied into the collection's template.",
    )


__all__ = ["KIND", "BudgetLife", "Counted", "build", "count_people", "main_option", "quarter_words", "read_lives", "read_option_money"]
