"""The eighteen direct payments Moorview Direct Payment Support holds in managed accounts.

Moorview runs one payroll for every personal assistant its clients employ, pays agency and
therapy invoices from the client account, and for some people loads a card every four weeks.
It keeps a fixed £360 a year per account as its fee (a fixed top-slice).

The stories: MA-0004's PA leaves and is not replaced for three months (a surplus builds);
MA-0006 has a notional part (physiotherapy the ICB arranges itself); MA-0008's agency invoice
is approved twice by mistake and the duplicate reversed; MA-0009 is jointly funded with a
client contribution; MA-0012's payment arrives with a reference nobody recognises and waits
in the unallocated account until it is identified; MA-0016 is a child's budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from ledger.core.vocabulary import Cadence, HolderKind, Holding, LegalBasis, ManagementOption
from ledger.core.vocabulary import EligibilityGroup as G
from ledger.demo.cast import (
    CORNWALL,
    CORNWALL_AGREES,
    COUNCIL,
    DEVON,
    DEVON_AGREES,
    MANAGED_ACCOUNTS,
    contacts,
    person,
    representative,
)
from ledger.demo.dates import add_months
from ledger.demo.recipes import (
    Behaviour,
    BudgetRecipe,
    DuplicateInvoice,
    FundingRecipe,
    LineRecipe,
    PartRecipe,
    PersonRecipe,
    RepresentativeRecipe,
    Schedule,
    UnidentifiedPayment,
    VersionRecipe,
    one_off,
    rest,
    weekly_hours,
    yearly,
)
from ledger.demo.timeline import Timeline

ACCOUNT = PartRecipe("account", ManagementOption.DIRECT_PAYMENT, Holding.MANAGED_ACCOUNT)
CARD = PartRecipe("card", ManagementOption.DIRECT_PAYMENT, Holding.PREPAID_CARD, cadence=Cadence.FOUR_WEEKLY)
NOTIONAL = PartRecipe("notional", ManagementOption.NOTIONAL, Holding.NONE)
ACCOUNT_FEE_PENCE = 36_000
PAYROLL_BUREAU = "PeoplePay Payroll Bureau"
INSURER = "Mutual Care Insurance"
AGENCY = "Harbourside Care Agency"


@dataclass(frozen=True)
class Row:
    """One managed account: who, funded by whom from when, and the PA hours it pays for."""

    name: str
    age: int
    birthday: tuple[int, int]
    group: G
    funder: str
    start_month: int
    hours: int
    rate: int
    card_load: int = 0
    representative: RepresentativeRecipe | None = None
    extras: tuple[LineRecipe, ...] = ()


def _rows() -> tuple[Row, ...]:
    son = representative("David Tonkin", LegalBasis.NOMINATED_FAMILY_MEMBER, "son", speaks=False, number=11)
    appointee = representative(
        "Jan Ellis", LegalBasis.APPOINTEE, "appointee (council appointeeship team)", speaks=False, number=12,
    )
    wife = representative("Margaret Penrose", LegalBasis.LASTING_POWER_OF_ATTORNEY, "wife", speaks=True, number=13)
    mother = representative("Kelly Lobb", LegalBasis.NOMINATED_FAMILY_MEMBER, "mother", speaks=True, number=14)
    podiatry = yearly("therapies", "Podiatry at home, monthly", "account", 12 * 3_800, supplier="Plympton Foot Clinic")
    counselling = yearly("counselling", "Counselling, fortnightly", "account", 26 * 5_000, supplier="Waves Counselling CIC")
    hydro = yearly("therapies", "Hydrotherapy sessions", "card", 26 * 3_600)
    physio = yearly(
        "therapies", "Physiotherapy the ICB arranges: weekly sessions at home", "notional", 52 * 4_800,
        supplier="Plym Valley Physiotherapy",
    )
    return (
        Row("Margaret Eddy", 78, (3, 14), G.CONTINUING_HEALTHCARE, DEVON, 0, 3_500, 1_390, extras=(podiatry,)),
        Row("Norman Chegwidden", 66, (7, 2), G.MENTAL_HEALTH, DEVON, 0, 1_500, 1_350, 16_000, appointee),
        Row("Olive Rundle", 83, (1, 9), G.CONTINUING_HEALTHCARE, DEVON, 1, 4_200, 1_420),
        Row("Patrick Kitto", 59, (11, 30), G.CONTINUING_HEALTHCARE, CORNWALL, 1, 3_000, 1_380),
        Row("Rosemary Tonkin", 71, (5, 21), G.CONTINUING_HEALTHCARE, DEVON, 1, 2_800, 1_390, 12_000, son),
        Row("Stanley Bolitho", 62, (9, 3), G.OTHER, DEVON, 2, 2_000, 1_360, extras=(physio,)),
        Row("Theresa Angove", 54, (2, 11), G.SECTION_117_AFTERCARE, DEVON, 2, 1_200, 1_350, 20_000, extras=(counselling,)),
        Row("Vincent Hambly", 47, (6, 6), G.LEARNING_DISABILITY_AUTISM, DEVON, 2, 3_200, 1_370),
        Row("Wendy Treloar", 68, (8, 19), G.CONTINUING_HEALTHCARE, CORNWALL, 2, 2_600, 1_400),
        Row("Brenda Couch", 74, (12, 24), G.CONTINUING_HEALTHCARE, DEVON, 3, 3_800, 1_400, 14_000, extras=(hydro,)),
        Row("Arthur Penrose", 80, (10, 10), G.CONTINUING_HEALTHCARE, DEVON, 3, 4_500, 1_420, representative=wife),
        Row("Clive Retallack", 57, (4, 4), G.MENTAL_HEALTH, CORNWALL, 3, 1_600, 1_350),
        Row("Doreen Opie", 86, (1, 28), G.CONTINUING_HEALTHCARE, DEVON, 3, 4_000, 1_410),
        Row("Edwin Sandercock", 49, (9, 15), G.OTHER, DEVON, 4, 2_400, 1_360, 12_000),
        Row("Frances Tregunna", 63, (6, 30), G.CONTINUING_HEALTHCARE, CORNWALL, 4, 3_300, 1_400),
        Row("Harrison Lobb", 12, (3, 22), G.CHILDRENS_CONTINUING_CARE, DEVON, 4, 1_800, 1_380, 10_000, mother),
        Row("Hazel Truscott", 69, (11, 2), G.CONTINUING_HEALTHCARE, DEVON, 4, 2_900, 1_390),
        Row("Ivor Coad", 55, (8, 8), G.MENTAL_HEALTH, DEVON, 4, 1_400, 1_350, 14_000),
    )


def managed_stories(timeline: Timeline) -> list[BudgetRecipe]:
    recipes = [_managed(timeline, number, row) for number, row in enumerate(_rows(), 1)]
    return [_with_story(timeline, recipe) for recipe in recipes]


def _managed(timeline: Timeline, number: int, row: Row) -> BudgetRecipe:
    reps = (row.representative,) if row.representative else ()
    who = person(timeline.today, row.name, row.age, row.birthday, row.group, *reps)
    start = timeline.start(row.start_month)
    parts = [ACCOUNT]
    if row.card_load:
        parts.append(CARD)
    if any(line.part == "notional" for line in row.extras):
        parts.append(NOTIONAL)
    version = VersionRecipe(
        effective_from=start,
        agreed_on=start - timedelta(days=21),
        agreed_by=CORNWALL_AGREES if row.funder == CORNWALL else DEVON_AGREES,
        funding=(FundingRecipe(row.funder),),
        lines=_lines(who, row, start),
        load_pence=row.card_load,
        contingency_pence=100_000,
        top_slice_fixed_pence=ACCOUNT_FEE_PENCE,
        outcomes=_outcomes(row.group),
    )
    return BudgetRecipe(
        reference=f"MA-{number:04d}",
        holder=MANAGED_ACCOUNTS,
        person=who,
        lead_funder=row.funder,
        period_start=start,
        period_end=timeline.end(start),
        parts=tuple(parts),
        versions=(version,),
        payments=((row.funder, Schedule.FOUR_WEEKLY if row.funder == DEVON else Schedule.MONTHLY),),
        contacts=contacts(number, row.funder, HolderKind.MANAGED_ACCOUNT_SERVICE, row.group),
    )


def _lines(who: PersonRecipe, row: Row, start: date) -> tuple[LineRecipe, ...]:
    lines = [
        weekly_hours(
            "staff_pay", f"Personal assistants employed by {who.first_name}: {row.hours // 100} hours a week", "account",
            row.hours, row.rate,
        ),
        yearly("payroll_account_fees", "Payroll bureau: payslips, PAYE and pension", "account", 16_800, supplier=PAYROLL_BUREAU),
        one_off(
            "insurance", "Employer's liability insurance (annual premium)", "account", 14_500, start + timedelta(days=6),
            supplier=INSURER,
        ),
        rest("agency_support", "Agency cover when personal assistants are away", "account", supplier=AGENCY, at_least=60_000),
    ]  # fmt: skip
    if row.card_load:
        lines.append(rest("activities", "Activities and outings", "card"))
    return (*lines, *row.extras)


def _outcomes(group: G) -> tuple[str, ...]:
    return {
        G.CONTINUING_HEALTHCARE: ("Stay at home with carers I know", "Get out into the garden or the park every day"),
        G.MENTAL_HEALTH: ("Keep well and out of hospital", "Rebuild my routine: up, out and busy three days a week"),
        G.SECTION_117_AFTERCARE: ("Keep my flat and my recovery", "Volunteer at the community garden"),
        G.CHILDRENS_CONTINUING_CARE: ("Give my mum a break so she can keep working", "Join the after-school club with my friends"),
    }.get(group, ("Manage my own support", "Be part of my community"))


def _with_story(timeline: Timeline, recipe: BudgetRecipe) -> BudgetRecipe:
    start = recipe.period_start
    if recipe.reference == "MA-0004":  # PA leaves; three months before a new one starts
        vacancy = (add_months(start, 4), add_months(start, 7) - timedelta(days=1))
        return replace(recipe, behaviour=Behaviour(staff_fill_percent=0, vacancy=vacancy, invoice_percent=70))
    if recipe.reference == "MA-0008":
        return replace(recipe, behaviour=Behaviour(incidents=(DuplicateInvoice(add_months(start, 3), line_position=4),)))
    if recipe.reference == "MA-0009":
        joint = replace(
            recipe.versions[0],
            funding=(FundingRecipe(CORNWALL), FundingRecipe(COUNCIL, 900_000, client_contribution_pence=156_000)),
        )
        payments = ((CORNWALL, Schedule.MONTHLY), (COUNCIL, Schedule.MONTHLY), ("contribution", Schedule.MONTHLY))
        return replace(recipe, versions=(joint,), payments=payments)
    if recipe.reference == "MA-0012":
        unknown = UnidentifiedPayment(add_months(start, 4), bank_reference="CIOS ICB REMIT 0093417")
        return replace(recipe, behaviour=Behaviour(incidents=(unknown,)))
    return recipe
