"""The twelve Individual Service Funds of Tamar Valley Supported Living (the Plymouth model).

Each person has a team employed for them; wages, training and agency cover are paid from
the provider's client bank account, and a weekly load goes onto the person's prepaid card
for activities and getting about. The provider keeps a top-slice (7.5%, or a fixed sum for
two people) for recruitment, training and supervision.

The stories: ISF-0002 is jointly funded with the council (a client contribution on the
council's share); ISF-0003 uses contingency for emergency respite, goes to the pub (a venue
the flags will ask about) and has a purchase booked to the wrong category, then reversed;
ISF-0004 spends well past its transport line; ISF-0005 "starts small" and moves to a bigger
direct payment at the half-year review; ISF-0006 carries a staff vacancy and builds a
surplus; ISF-0007 buys a sensory lamp and a profiling bed; ISF-0009 moves home from an
out-of-area hospital with £25,400 of transition costs spent before the plan starts; ISF-0011
spends a fortnight in hospital after a fall (his card loads paused meanwhile) and adds waking
nights at a mid-year revision; ISF-0012 goes on holiday (the provider's own spend category).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ledger.core.vocabulary import EligibilityGroup as G
from ledger.core.vocabulary import HolderKind, Holding, LegalBasis, ManagementOption
from ledger.demo.cast import (
    CORNWALL,
    CORNWALL_AGREES,
    COUNCIL,
    DEVON,
    DEVON_AGREES,
    ISF_PROVIDER,
    contacts,
    person,
    representative,
)
from ledger.demo.dates import add_months
from ledger.demo.plan_figures import version_figures
from ledger.demo.recipes import (
    Agreement,
    Behaviour,
    BudgetRecipe,
    ContingencyUse,
    FundingRecipe,
    HospitalStay,
    LineRecipe,
    OddPurchase,
    PaidBy,
    PartRecipe,
    PersonRecipe,
    Schedule,
    VersionRecipe,
    WrongCategory,
    one_off,
    rest,
    weekly_hours,
    yearly,
)
from ledger.demo.timeline import Timeline

BANK = PartRecipe("bank", ManagementOption.THIRD_PARTY, Holding.BANK_ACCOUNT)
CARD = PartRecipe("card", ManagementOption.THIRD_PARTY, Holding.PREPAID_CARD)
DIRECT_PAYMENT_CARD = PartRecipe("card", ManagementOption.DIRECT_PAYMENT, Holding.PREPAID_CARD)
TOP_SLICE_BASIS_POINTS = 750
TRAINER = "Tamar Learning and Development"
AGENCY = "Harbourside Care Agency"
MENTAL_HEALTH_TRAINING = "mental health first aid, trauma-informed support"


def isf_lines(
    who: PersonRecipe,
    *,
    hours: int,
    rate: int,
    transport_weekly: int = 1_200,
    exercise_weekly: int = 600,
    sleep_in_annual: int | None = None,
    training_annual: int = 120_000,
    training_topics: str = "autism, positive behaviour support",
) -> tuple[LineRecipe, ...]:
    """The lines most of the provider's plans share: the team, training, agency cover as
    the remainder, and the card's activities (remainder), transport and exercise."""
    first = who.first_name
    lines = [weekly_hours("staff_pay", f"Support workers employed for {first}: {hours // 100} hours a week", "bank", hours, rate)]
    if sleep_in_annual:
        lines.append(yearly("staff_pay", "Sleep-in nights, seven a week", "bank", sleep_in_annual))
    lines += [
        yearly("training", f"Team training for {first}'s support ({training_topics})", "bank", training_annual, supplier=TRAINER),
        rest("agency_support", "Agency cover for staff holidays and sickness", "bank", supplier=AGENCY, at_least=200_000),
        rest("activities", "Activities and days out", "card"),
        yearly("transport", "Bus, train and taxi fares", "card", transport_weekly * 52),
        yearly("exercise", "Swimming, gym and climbing", "card", exercise_weekly * 52),
    ]
    return tuple(lines)


def isf_budget(
    timeline: Timeline,
    number: int,
    who: PersonRecipe,
    *,
    start_month: int,
    lines: tuple[LineRecipe, ...],
    load: int,
    outcomes: tuple[str, ...],
    lead: str = DEVON,
    agreed_by: Agreement = DEVON_AGREES,
    contingency: int = 200_000,
    top_slice_fixed: int | None = None,
    **extra: object,
) -> BudgetRecipe:
    start = timeline.start(start_month)
    version = VersionRecipe(
        effective_from=start,
        agreed_on=start - timedelta(days=18),
        agreed_by=agreed_by,
        funding=(FundingRecipe(lead),),
        lines=lines,
        load_pence=load,
        contingency_pence=contingency,
        top_slice_basis_points=None if top_slice_fixed else TOP_SLICE_BASIS_POINTS,
        top_slice_fixed_pence=top_slice_fixed,
        outcomes=outcomes,
    )
    recipe = BudgetRecipe(
        reference=f"ISF-{number:04d}",
        holder=ISF_PROVIDER,
        person=who,
        lead_funder=lead,
        period_start=start,
        period_end=timeline.end(start),
        parts=(BANK, CARD),
        versions=(version,),
        payments=((lead, Schedule.MONTHLY),),
        contacts=contacts(number, lead, HolderKind.ISF_PROVIDER, who.eligibility_group),
    )
    return replace(recipe, **extra)  # type: ignore[arg-type]


def isf_stories(timeline: Timeline) -> list[BudgetRecipe]:
    return [
        _alfie(timeline), _bethany(timeline), _callum(timeline), _daisy(timeline), _ethan(timeline), _freya(timeline),
        _george(timeline), _hollie(timeline), _isaac(timeline), _jasmine(timeline), _kieran(timeline), _lily(timeline),
    ]  # fmt: skip


def _alfie(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Alfie Tremayne", 24, (4, 17), G.LEARNING_DISABILITY_AUTISM)
    return isf_budget(
        timeline, 1, who, start_month=0, load=7_500,
        lines=isf_lines(who, hours=8_400, rate=1_340, sleep_in_annual=3_458_000),
        outcomes=("Live in my own flat with a team I helped choose", "Go to the football with my brother every home game"),
    )  # fmt: skip


def _bethany(timeline: Timeline) -> BudgetRecipe:
    mother = representative("Carol Pascoe", LegalBasis.NOMINATED_FAMILY_MEMBER, "mother", speaks=False, number=1)
    who = person(timeline.today, "Bethany Pascoe", 31, (9, 2), G.LEARNING_DISABILITY_AUTISM, mother, preferred="Beth")
    recipe = isf_budget(
        timeline, 2, who, start_month=1, load=6_500,
        lines=isf_lines(who, hours=5_600, rate=1_340),
        outcomes=("Keep my job at the café two days a week", "Cook a meal for friends once a month"),
    )  # fmt: skip
    joint = replace(
        recipe.versions[0],
        funding=(FundingRecipe(DEVON), FundingRecipe(COUNCIL, 2_200_000, client_contribution_pence=234_000)),
    )
    payments = ((DEVON, Schedule.MONTHLY), (COUNCIL, Schedule.FOUR_WEEKLY), ("contribution", Schedule.MONTHLY))
    return replace(recipe, versions=(joint,), payments=payments)


def _callum(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Callum Rowe", 27, (12, 8), G.LEARNING_DISABILITY_AUTISM)
    start = timeline.start(0)
    respite = ContingencyUse(
        on=add_months(start, 7) + timedelta(days=9),
        amount_pence=68_000,
        category="short_breaks",
        reason="Two emergency nights at Oakdale respite while Callum's flat was without heating",
        agreed_by="Aisha Rahman, NHS Devon ICB personal health budgets team",
    )
    pub = OddPurchase(add_months(start, 5) + timedelta(days=12), "The Ship Inn, Noss Mayo", 5813, "activities", 1_860)
    mistake = WrongCategory(add_months(start, 3) + timedelta(days=4), booked_as="equipment")
    return isf_budget(
        timeline, 3, who, start_month=0, load=7_000,
        lines=isf_lines(who, hours=7_000, rate=1_340, sleep_in_annual=3_458_000),
        outcomes=("Meet friends at the pub quiz on Thursdays", "Learn to use the bus to get to college on my own"),
        behaviour=Behaviour(refunds=True, incidents=(respite, pub, mistake)),
    )  # fmt: skip


def _daisy(timeline: Timeline) -> BudgetRecipe:
    sister = representative("Sarah Hocking", LegalBasis.LASTING_POWER_OF_ATTORNEY, "sister", speaks=True, number=2)
    who = person(timeline.today, "Daisy Hocking", 38, (6, 25), G.LEARNING_DISABILITY_AUTISM, sister)
    return isf_budget(
        timeline, 4, who, start_month=1, load=6_000,
        lines=isf_lines(who, hours=6_300, rate=1_360, transport_weekly=1_000),
        outcomes=("Visit my sister in Truro every fortnight", "Swim twice a week"),
        behaviour=Behaviour(card_spend_percent=97, category_weight_percent=(("transport", 330),)),
    )  # fmt: skip


def _ethan(timeline: Timeline) -> BudgetRecipe:
    """Start small: mostly an ISF with a small direct payment on the card; at the half-year
    review the family employs a PA through the direct payment and the ISF hours drop."""
    who = person(timeline.today, "Ethan Moyle", 22, (2, 27), G.LEARNING_DISABILITY_AUTISM)
    start = timeline.start(1)
    first_lines = isf_lines(who, hours=2_500, rate=1_340, transport_weekly=1_000, exercise_weekly=0)[:-1]
    recipe = isf_budget(
        timeline, 5, who, start_month=1, load=4_000, lines=first_lines, contingency=150_000,
        outcomes=("Choose who supports me", "Get a Saturday job"),
    )  # fmt: skip
    recipe = replace(recipe, parts=(BANK, DIRECT_PAYMENT_CARD))
    first = recipe.versions[0]
    effective = add_months(start, 6)
    before, after = effective - timedelta(days=1), effective
    second_lines = (
        weekly_hours("staff_pay", "Support workers employed for Ethan: 25 hours a week", "bank", 2_500, 1_340, ends_on=before),
        weekly_hours("staff_pay", "Support workers employed for Ethan: 12 hours a week", "bank", 1_200, 1_340, starts_on=after),
        *first_lines[1:3],
        weekly_hours(
            "staff_pay", "Personal assistant employed by Ethan's family: 10 hours a week", "card", 1_000, 1_350,
            starts_on=after,
        ),
        *first_lines[3:],
    )  # fmt: skip
    second = replace(
        first,
        effective_from=effective,
        agreed_on=effective - timedelta(days=12),
        lines=second_lines,
        load_pence=18_000,
        total_pence=version_figures(recipe, 0).total_pence,
        change_reason="Half-year review: Ethan's family now employs a personal assistant he chose, so ISF hours"
        " fall from 25 to 12 a week and the direct payment rises from £40 to £180 a week",
    )
    return replace(recipe, versions=(first, second))


def _freya(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Freya Pengelly", 29, (10, 5), G.MENTAL_HEALTH)
    start = timeline.start(0)
    vacancy = (add_months(start, 3), add_months(start, 7) - timedelta(days=1))
    return isf_budget(
        timeline, 6, who, start_month=0, load=5_500,
        lines=isf_lines(who, hours=4_200, rate=1_350, training_topics=MENTAL_HEALTH_TRAINING),
        outcomes=("Stay well at home without a hospital admission", "Take part in the allotment group"),
        behaviour=Behaviour(card_spend_percent=55, staff_fill_percent=55, vacancy=vacancy, invoice_percent=80),
    )  # fmt: skip


def _george(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "George Nance", 45, (1, 30), G.LEARNING_DISABILITY_AUTISM)
    start = timeline.start(1)
    lines = isf_lines(who, hours=6_000, rate=1_340) + (
        one_off(
            "equipment", "Sensory lamp and bubble tube for George's bedroom", "bank", 18_000,
            add_months(start, 2) + timedelta(days=3), supplier="Sensory Direct Ltd",
        ),
        one_off(
            "equipment", "Profiling bed with pressure-relieving mattress", "bank", 189_500,
            add_months(start, 4) + timedelta(days=10), supplier="Westcountry Mobility",
        ),
        yearly("therapies", "Music therapy, fortnightly", "bank", 26 * 4_200, supplier="Saltash Music Therapy"),
    )  # fmt: skip
    return isf_budget(
        timeline, 7, who, start_month=1, load=6_500, lines=lines,
        outcomes=("Sleep through the night more often", "Play in the community music group"),
        behaviour=Behaviour(refunds=True),
    )  # fmt: skip


def _hollie(timeline: Timeline) -> BudgetRecipe:
    mother = representative("Joanne Trebilcock", LegalBasis.NOMINATED_FAMILY_MEMBER, "mother", speaks=True, number=3)
    who = person(timeline.today, "Hollie Trebilcock", 19, (8, 11), G.LEARNING_DISABILITY_AUTISM, mother)
    return isf_budget(
        timeline, 8, who, start_month=2, load=5_000, top_slice_fixed=360_000,
        lines=isf_lines(who, hours=4_500, rate=1_340, transport_weekly=1_500),
        outcomes=("Settle into adult life after leaving school", "Go to the drama group at the Barbican Theatre"),
    )  # fmt: skip


def _isaac(timeline: Timeline) -> BudgetRecipe:
    """Home from hospital: staff employed and trained before the move, paid as transition."""
    deputy = representative("Alan Mercer", LegalBasis.COURT_OF_PROTECTION_DEPUTY, "deputy (solicitor)", speaks=True, number=4)
    who = person(timeline.today, "Isaac Jory", 34, (3, 3), G.LEARNING_DISABILITY_AUTISM, deputy)
    start = timeline.start(2)
    transition = (
        one_off(
            "transition", "Staff recruited and employed ahead of the move: induction and shadowing at Ashcombe House", "bank",
            1_480_000, start - timedelta(days=70), paid_by=PaidBy.PAYROLL, until=start - timedelta(days=1),
        ),
        one_off(
            "transition", "Positive behaviour support plan and training for the new team", "bank", 420_000,
            start - timedelta(days=42), supplier="Westcountry PBS Partnership",
        ),
        one_off(
            "transition", "Furniture, sensory room fit-out and removal", "bank", 640_000, start - timedelta(days=21),
            supplier="Plymouth Home Furnishers",
        ),
    )  # fmt: skip
    recipe = isf_budget(
        timeline, 9, who, start_month=2, load=8_000, top_slice_fixed=480_000, contingency=300_000,
        lines=transition + isf_lines(who, hours=11_200, rate=1_390, sleep_in_annual=3_458_000),
        outcomes=("Live in my own home near my family after six years in hospital", "Have a team who know me well"),
        previous_placement_annual_cost_pence=19_800_000,
        previous_placement_description="Out-of-area hospital placement (assessment and treatment unit), Ashcombe House, Bristol",
    )  # fmt: skip
    first = replace(recipe.versions[0], agreed_on=start - timedelta(days=112))
    return replace(recipe, versions=(first,))


def _jasmine(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Jasmine Carne", 52, (11, 1), G.SECTION_117_AFTERCARE)
    lines = isf_lines(who, hours=2_800, rate=1_360, exercise_weekly=400, training_topics=MENTAL_HEALTH_TRAINING) + (
        yearly(
            "counselling", "Weekly counselling with a therapist Jasmine chose", "bank", 52 * 5_000,
            supplier="Waves Counselling CIC",
        ),
    )  # fmt: skip
    return isf_budget(
        timeline, 10, who, start_month=1, load=4_500, lines=lines, lead=CORNWALL, agreed_by=CORNWALL_AGREES,
        outcomes=("Stay out of hospital and keep my tenancy", "Walk the coast path with my support worker"),
        payments=((CORNWALL, Schedule.QUARTERLY),),
    )  # fmt: skip


def _kieran(timeline: Timeline) -> BudgetRecipe:
    """The second of two falls at night puts Kieran in hospital for a fortnight: his card
    loads are paused, then resume. A mid-year revision then adds waking nights; the
    allocation rises."""
    who = person(timeline.today, "Kieran Polglase", 41, (5, 9), G.CONTINUING_HEALTHCARE)
    start = timeline.start(0)
    fall = add_months(start, 4) + timedelta(days=12)
    stay = HospitalStay(
        fall, fall + timedelta(days=15), reason="Kieran is in hospital after a fall at night",
        recorded_by="Owen Bray, Tamar Valley Supported Living CIC",
    )  # fmt: skip
    recipe = isf_budget(
        timeline, 11, who, start_month=0, load=6_000,
        lines=isf_lines(who, hours=5_600, rate=1_420, training_topics="brain injury awareness, moving and handling"),
        outcomes=("Get back to woodwork at the men's shed", "Manage my own medication with prompts"),
        behaviour=Behaviour(incidents=(stay,)),
    )  # fmt: skip
    first = recipe.versions[0]
    effective = add_months(start, 6)
    nights = weekly_hours("staff_pay", "Waking night support: 70 hours a week", "bank", 7_000, 1_490, starts_on=effective)
    second = replace(
        first,
        effective_from=effective,
        agreed_on=effective - timedelta(days=10),
        lines=(first.lines[0], nights, *first.lines[1:]),
        change_reason="Quarterly review: after two falls at night Kieran needs waking night support; the ICB"
        " agreed the extra hours and raised the allocation",
    )
    return replace(recipe, versions=(first, second))


def _lily(timeline: Timeline) -> BudgetRecipe:
    who = person(timeline.today, "Lily Vosper", 26, (7, 19), G.LEARNING_DISABILITY_AUTISM)
    start = timeline.start(2)
    lines = isf_lines(who, hours=4_900, rate=1_340) + (
        one_off(
            "holidays", "A week's holiday at Perran Sands with two staff", "bank", 65_000,
            add_months(start, 5) + timedelta(days=6), supplier="Haven Perran Sands",
        ),
    )  # fmt: skip
    return isf_budget(
        timeline, 12, who, start_month=2, load=5_500, lines=lines,
        outcomes=("Go on holiday with friends", "Take part in the Plymouth Pride parade"),
    )  # fmt: skip
