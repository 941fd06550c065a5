"""Six families holding their own direct payments, and four notional budgets the ICB
arranges itself.

Families each hold one budget in a dedicated bank account or on a prepaid card, employ their
own personal assistants and pay their own bills. DP-0001 is a child's budget jointly funded
by the ICB and the council's SEND service (an EHCP); DP-0003's card gets a four-week float,
a contingency load when the PA is off sick, and one purchase at an off-licence the flags
will refuse; DP-0004 is a 16-year-old's, whose four-week float lets her buy a tablet early
in the year; DP-0006 buys a hot tub for hydrotherapy.

The notional budgets (NOT-) move no money: the ICB pays the providers, and each cost is
recorded against the budget so that "money left" is true. NOT-0003 is a personal wheelchair
budget; NOT-0004 a three-month fast-track budget at the end of life.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from ledger.core.vocabulary import Cadence, HolderKind, Holding, LegalBasis, ManagementOption
from ledger.core.vocabulary import EligibilityGroup as G
from ledger.demo.cast import (
    CHILDREN,
    COMMISSIONER,
    CORNWALL,
    CORNWALL_AGREES,
    DEVON,
    DEVON_AGREES,
    contacts,
    family_holder,
    person,
    representative,
)
from ledger.demo.dates import add_months
from ledger.demo.recipes import (
    Agreement,
    Behaviour,
    BudgetRecipe,
    ContingencyUse,
    FundingRecipe,
    LineRecipe,
    OddPurchase,
    PartRecipe,
    PersonRecipe,
    Schedule,
    VersionRecipe,
    one_off,
    rest,
    weekly_hours,
    yearly,
)
from ledger.demo.timeline import Timeline

BANK = PartRecipe("bank", ManagementOption.DIRECT_PAYMENT, Holding.BANK_ACCOUNT)
NOTIONAL = PartRecipe("notional", ManagementOption.NOTIONAL, Holding.NONE)
PAYROLL_BUREAU = "PeoplePay Payroll Bureau"
INSURER = "Mutual Care Insurance"


def _budget(
    timeline: Timeline,
    reference: str,
    holder: str,
    who: PersonRecipe,
    *,
    start_month: int,
    parts: tuple[PartRecipe, ...],
    lines: tuple[LineRecipe, ...],
    outcomes: tuple[str, ...],
    funder: str = DEVON,
    agreed_by: Agreement = DEVON_AGREES,
    period_months: int = 12,
    **version_fields: object,
) -> BudgetRecipe:
    start = timeline.start(start_month)
    holder_kind = HolderKind.COMMISSIONER if holder == COMMISSIONER else HolderKind.SELF_MANAGED
    version = VersionRecipe(
        effective_from=start,
        agreed_on=start - timedelta(days=4 if period_months < 12 else 16),
        agreed_by=agreed_by,
        funding=(FundingRecipe(funder),),
        lines=lines,
        outcomes=outcomes,
        **version_fields,  # type: ignore[arg-type]
    )
    notional = all(part.management_option == ManagementOption.NOTIONAL for part in parts)
    return BudgetRecipe(
        reference=reference,
        holder=holder,
        person=who,
        lead_funder=funder,
        period_start=start,
        period_end=timeline.end(start, period_months),
        parts=parts,
        versions=(version,),
        payments=() if notional else ((funder, Schedule.MONTHLY),),
        contacts=contacts(int(reference[-4:]) + 40, funder, holder_kind, who.eligibility_group),
    )


def _employer_lines(start: date, part: str = "bank") -> tuple[LineRecipe, ...]:
    return (
        yearly("payroll_account_fees", "Payroll bureau: payslips, PAYE and pension", part, 16_800, supplier=PAYROLL_BUREAU),
        one_off(
            "insurance", "Employer's liability insurance (annual premium)", part, 14_500, start + timedelta(days=6),
            supplier=INSURER,
        ),
    )  # fmt: skip


def family_stories(timeline: Timeline) -> list[BudgetRecipe]:
    return [_noah(timeline), _priya(timeline), _tom(timeline), _ruby(timeline), _dev(timeline), _megan(timeline)]


def notional_stories(timeline: Timeline) -> list[BudgetRecipe]:
    return [_harold(timeline), _sandra(timeline), _josh(timeline), _eileen(timeline)]


def _noah(timeline: Timeline) -> BudgetRecipe:
    mother = representative("Grace Okafor", LegalBasis.NOMINATED_FAMILY_MEMBER, "mother", speaks=True, number=21)
    who = person(timeline.today, "Noah Okafor", 7, (5, 12), G.CHILDRENS_CONTINUING_CARE, mother)
    start = timeline.start(1)
    lines = (
        weekly_hours("staff_pay", "Personal assistant after school and in the holidays: 12 hours a week", "bank", 1_200, 1_350),
        *_employer_lines(start),
        one_off(
            "equipment", "Weighted blanket and ear defenders", "bank", 14_000, start + timedelta(days=45),
            supplier="Sensory Direct Ltd",
        ),
        rest(
            "short_breaks", "Overnight short breaks at Oakdale", "bank", supplier="Oakdale Children's Short Breaks",
            at_least=240_000,
        ),
    )  # fmt: skip
    recipe = _budget(
        timeline, "DP-0001", family_holder("Okafor").code, who, start_month=1, parts=(BANK,), lines=lines,
        outcomes=("Sleep better so the family can too", "Go to holiday club with support"), contingency_pence=50_000,
    )  # fmt: skip
    joint = replace(recipe.versions[0], funding=(FundingRecipe(DEVON), FundingRecipe(CHILDREN, 650_000)))
    return replace(recipe, versions=(joint,), payments=((DEVON, Schedule.MONTHLY), (CHILDREN, Schedule.QUARTERLY)))


def _priya(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Priya Sharma", 34, (10, 28), G.MENTAL_HEALTH)
    start = timeline.start(2)
    lines = (
        yearly(
            "counselling", "Weekly counselling with a therapist Priya chose", "bank", 52 * 5_000,
            supplier="Waves Counselling CIC",
        ),
        yearly("exercise", "Gym membership and swimming", "bank", 48_000, supplier="Plymouth Active Leisure"),
        weekly_hours("staff_pay", "Peer support worker: 6 hours a week", "bank", 600, 1_300),
        one_off(
            "training", "Cookery and confidence course", "bank", 32_000, add_months(start, 4),
            supplier="City College Plymouth",
        ),
        *_employer_lines(start),
        rest("activities", "Art group and allotment", "bank", supplier="Stonehouse Creative", at_least=30_000),
    )  # fmt: skip
    return _budget(
        timeline, "DP-0002", family_holder("Sharma").code, who, start_month=2, parts=(BANK,), lines=lines,
        outcomes=("Stay well and keep my job", "Feel confident cooking for myself"), contingency_pence=40_000,
    )  # fmt: skip


def _tom(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Tom Bassett", 45, (8, 3), G.CONTINUING_HEALTHCARE)
    start = timeline.start(1)
    card = PartRecipe(
        "card", ManagementOption.DIRECT_PAYMENT, Holding.PREPAID_CARD, cadence=Cadence.FOUR_WEEKLY, initial_float_weeks=4,
    )
    lines = (
        weekly_hours("staff_pay", "Personal assistant: 20 hours a week", "card", 2_000, 1_380),
        one_off(
            "insurance", "Employer's liability insurance (annual premium)", "card", 14_500, start + timedelta(days=6),
            supplier=INSURER,
        ),
        yearly("therapies", "Hydrotherapy sessions", "card", 26 * 3_600),
        rest("activities", "Activities and outings", "card"),
    )  # fmt: skip
    sick_cover = ContingencyUse(
        on=add_months(start, 5) + timedelta(days=10), amount_pence=52_000, category="agency_support", onto_card=True,
        reason="Agency cover while Tom's personal assistant was off sick for two weeks",
        agreed_by="Sam Okoro, NHS Devon ICB personal health budgets team",
    )  # fmt: skip
    off_licence = OddPurchase(add_months(start, 7) + timedelta(days=3), "Bargain Booze Mutley", 5921, "activities", 1_499)
    recipe = _budget(
        timeline, "DP-0003", family_holder("Bassett").code, who, start_month=1, parts=(card,), lines=lines,
        outcomes=("Keep working part-time from home", "Get to the hydrotherapy pool every fortnight"),
        load_pence=128_000, contingency_pence=100_000,
    )  # fmt: skip
    return replace(recipe, payments=((DEVON, Schedule.WITH_LOADS),), behaviour=Behaviour(incidents=(sick_cover, off_licence)))


def _ruby(timeline: Timeline) -> BudgetRecipe:
    father = representative("Piotr Kowalski", LegalBasis.NOMINATED_FAMILY_MEMBER, "father", speaks=False, number=22)
    who = person(timeline.today, "Ruby Kowalski", 16, (12, 1), G.CHILDRENS_CONTINUING_CARE, father)
    start = timeline.start(3)
    card = PartRecipe(
        "card", ManagementOption.DIRECT_PAYMENT, Holding.PREPAID_CARD, cadence=Cadence.TWO_WEEKLY, initial_float_weeks=4,
    )
    lines = (
        weekly_hours("staff_pay", "Personal assistant for college and clubs: 8 hours a week", "card", 800, 1_320),
        yearly("transport", "Taxis and buses to college and clubs", "card", 52 * 1_500),
        yearly("exercise", "Wheelchair basketball club", "card", 26 * 1_600),
        one_off(
            "assistive_technology", "Tablet with a communication app", "card", 42_900, add_months(start, 2),
            supplier="Currys Plymouth",
        ),
        rest("activities", "Activities with friends", "card"),
    )  # fmt: skip
    recipe = _budget(
        timeline, "DP-0004", family_holder("Kowalski").code, who, start_month=3, parts=(card,), lines=lines,
        outcomes=("Go to college and clubs without Dad driving me", "Talk to my friends online"),
        load_pence=32_000, contingency_pence=30_000,
    )  # fmt: skip
    return replace(recipe, payments=((DEVON, Schedule.WITH_LOADS),), behaviour=Behaviour(refunds=True))


def _dev(timeline: Timeline) -> BudgetRecipe:
    wife = representative("Anjali Chauhan", LegalBasis.LASTING_POWER_OF_ATTORNEY, "wife", speaks=True, number=23)
    who = person(timeline.today, "Dev Chauhan", 58, (1, 17), G.CONTINUING_HEALTHCARE, wife)
    start = timeline.start(2)
    lines = (
        weekly_hours("staff_pay", "Personal assistant team: 45 hours a week", "bank", 4_500, 1_410),
        *_employer_lines(start),
        yearly(
            "therapies", "Massage therapy for muscle pain and cramps", "bank", 24 * 4_500,
            supplier="Looe Complementary Therapies",
        ),
        one_off("equipment", "Riser-recliner chair", "bank", 115_000, add_months(start, 1), supplier="Westcountry Mobility"),
        rest(
            "agency_support", "Agency cover when the PA team is short", "bank", supplier="Harbourside Care Agency",
            at_least=100_000,
        ),
    )  # fmt: skip
    return _budget(
        timeline, "DP-0005", family_holder("Chauhan").code, who, start_month=2, parts=(BANK,), lines=lines,
        funder=CORNWALL, agreed_by=CORNWALL_AGREES,
        outcomes=("Stay at home with my family", "Keep up with my grandchildren's football"), contingency_pence=150_000,
    )  # fmt: skip


def _megan(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Megan Evans", 29, (4, 23), G.OTHER)
    start = timeline.start(3)
    lines = (
        weekly_hours("staff_pay", "Personal assistant: 15 hours a week", "bank", 1_500, 1_300),
        *_employer_lines(start),
        one_off(
            "equipment", "Hot tub for hydrotherapy at home (pain relief)", "bank", 399_500, add_months(start, 3),
            supplier="Spa Warehouse Exeter",
        ),
        yearly("therapies", "Physiotherapy, fortnightly", "bank", 26 * 5_000, supplier="Plym Valley Physiotherapy"),
        rest("activities", "Activities that keep Megan well", "bank", supplier="Plymouth Arts Centre", at_least=40_000),
    )  # fmt: skip
    return _budget(
        timeline, "DP-0006", family_holder("Evans").code, who, start_month=3, parts=(BANK,), lines=lines,
        outcomes=("Fewer days in bed with pain", "Get back to my pottery class"), contingency_pence=60_000,
    )  # fmt: skip


def _harold(timeline: Timeline) -> BudgetRecipe:
    nephew = representative("Colin Quick", LegalBasis.NOMINATED_FAMILY_MEMBER, "nephew", speaks=True, number=31)
    who = person(timeline.today, "Harold Quick", 81, (2, 14), G.CONTINUING_HEALTHCARE, nephew)
    start = timeline.start(1)
    lines = (
        weekly_hours(
            "agency_support", "Home care from Harbourside Care: 28 hours a week", "notional", 2_800, 2_680,
            supplier="Harbourside Care Agency",
        ),
        yearly("therapies", "Physiotherapy at home, fortnightly", "notional", 26 * 5_500, supplier="Plym Valley Physiotherapy"),
        one_off(
            "equipment", "Pressure-relieving mattress", "notional", 48_000, start + timedelta(days=20),
            supplier="Westcountry Mobility",
        ),
        rest(
            "short_breaks", "Respite week so Harold's wife can have a break", "notional", supplier="Moorhaven Care Home",
            at_least=120_000,
        ),
    )  # fmt: skip
    return _budget(
        timeline, "NOT-0001", COMMISSIONER, who, start_month=1, parts=(NOTIONAL,), lines=lines,
        outcomes=("Stay at home with my wife", "Get out to the bowls club in summer"),
    )  # fmt: skip


def _sandra(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Sandra Voss", 47, (9, 9), G.SECTION_117_AFTERCARE)
    lines = (
        yearly(
            "accommodation_contribution", "Supported accommodation: care and support element", "notional", 960_000,
            supplier="Drake House Supported Living",
        ),
        rest("counselling", "Psychology sessions", "notional", supplier="Waves Counselling CIC", at_least=52 * 6_000),
    )  # fmt: skip
    return _budget(
        timeline, "NOT-0002", COMMISSIONER, who, start_month=2, parts=(NOTIONAL,), lines=lines,
        outcomes=("Move on to my own tenancy within two years", "Stay well after leaving hospital"),
    )  # fmt: skip


def _josh(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Josh Ferris", 23, (6, 1), G.PERSONAL_WHEELCHAIR_BUDGET)
    start = timeline.start(3)
    lines = (
        one_off(
            "equipment", "Powered wheelchair with tilt-in-space", "notional", 745_000, start + timedelta(days=24),
            supplier="Plymouth Wheelchair Service",
        ),
        rest(
            "equipment", "Wheelchair maintenance and repairs", "notional", supplier="Plymouth Wheelchair Service",
            at_least=42_000,
        ),
    )  # fmt: skip
    return _budget(
        timeline, "NOT-0003", COMMISSIONER, who, start_month=3, parts=(NOTIONAL,), lines=lines,
        outcomes=("Get to university lectures on my own", "Sit comfortably through a whole day"),
    )  # fmt: skip


def _eileen(timeline: Timeline) -> BudgetRecipe:
    daughter = representative("Carol Tamblyn", LegalBasis.LASTING_POWER_OF_ATTORNEY, "daughter", speaks=True, number=32)
    who = person(timeline.today, "Eileen Tamblyn", 76, (12, 19), G.END_OF_LIFE, daughter)
    start = timeline.start(9)
    lines = (
        weekly_hours(
            "agency_support", "Four care calls a day: 21 hours a week", "notional", 2_100, 2_750,
            supplier="Harbourside Care Agency",
        ),
        one_off(
            "equipment", "Riser-recliner chair", "notional", 89_500, start + timedelta(days=5),
            supplier="Westcountry Mobility",
        ),
        rest(
            "short_breaks", "Night sitting so the family can sleep", "notional", supplier="St Budeaux Hospice at Home",
            at_least=150_000,
        ),
    )  # fmt: skip
    return _budget(
        timeline, "NOT-0004", COMMISSIONER, who, start_month=9, parts=(NOTIONAL,), lines=lines, period_months=3,
        outcomes=("Be cared for at home, as Eileen asked", "Her family able to rest at night"), review_every_months=1,
    )  # fmt: skip
