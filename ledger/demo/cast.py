"""The demo's cast: funders, holders, the forty people and those who act for them, and the
contacts each family is shown.

Every person, family and organisation here is invented, except the public bodies that fund
PHBs in Devon and Cornwall, named as the issue asks. Phone numbers are from Ofcom's ranges
reserved for drama (01632 960xxx, 07700 900xxx) and email addresses are at example.org.
"""

from __future__ import annotations

from datetime import date

from ledger.budgets.budget import ContactSpec
from ledger.budgets.parties import FunderSpec, HolderSpec
from ledger.core.vocabulary import ContactRole, EligibilityGroup, FunderKind, HolderKind, LegalBasis
from ledger.demo.recipes import Agreement, PersonRecipe, RepresentativeRecipe
from ledger.loads.schedule import LoadTime

DEVON = "devon-icb"
CORNWALL = "cornwall-icb"
COUNCIL = "plymouth-asc"
CHILDREN = "plymouth-send"

FUNDERS = (
    FunderSpec(DEVON, "NHS Devon ICB", FunderKind.ICB, "ICB"),
    FunderSpec(CORNWALL, "NHS Cornwall and Isles of Scilly ICB", FunderKind.ICB, "ICB"),
    FunderSpec(COUNCIL, "Plymouth City Council (adult social care)", FunderKind.COUNCIL_ADULT_SOCIAL_CARE, "Council"),
    FunderSpec(CHILDREN, "Plymouth City Council (children's services and SEND)", FunderKind.COUNCIL_CHILDREN_EDUCATION, "Council"),
)

ISF_PROVIDER = "tamar-valley-isf"
MANAGED_ACCOUNTS = "moorview-accounts"
COMMISSIONER = "devon-icb-commissioned"

LOAD_TIME = LoadTime()
"""When every holder of the demo loads cards: Mondays at 06:00, England's time."""


def _holder(code: str, name: str, kind: HolderKind) -> HolderSpec:
    return HolderSpec(code, name, kind, load_weekday=LOAD_TIME.weekday, load_time=LOAD_TIME.at)


HOLDERS = (
    _holder(ISF_PROVIDER, "Tamar Valley Supported Living CIC", HolderKind.ISF_PROVIDER),
    _holder(MANAGED_ACCOUNTS, "Moorview Direct Payment Support", HolderKind.MANAGED_ACCOUNT_SERVICE),
    _holder(COMMISSIONER, "NHS Devon ICB commissioned care (notional budgets)", HolderKind.COMMISSIONER),
)

FAMILY_SURNAMES = ("Okafor", "Sharma", "Bassett", "Kowalski", "Chauhan", "Evans")


def family_holder(surname: str) -> HolderSpec:
    """A family holding its own direct payment: one holder, one book, one budget."""
    return _holder(f"family-{surname.lower()}", f"The {surname} family (direct payment)", HolderKind.SELF_MANAGED)


def all_holders() -> tuple[HolderSpec, ...]:
    """Every holder, in the order they are created: the provider, the managed-account
    service, the six families, the commissioner."""
    provider, managed, commissioner = HOLDERS
    return (provider, managed, *(family_holder(surname) for surname in FAMILY_SURNAMES), commissioner)


PROVIDER_CATEGORIES = ((ISF_PROVIDER, "holidays", "Holidays and trips away", "Holidays"),)
"""Spend categories a holder adds to the standard list."""

DEVON_AGREES = Agreement("Sam Okoro", "PHB manager, NHS Devon ICB")
CORNWALL_AGREES = Agreement("Dr Ruth Penhale", "Clinical lead for personal health budgets, NHS Cornwall and Isles of Scilly ICB")
COUNCIL_AGREES = Agreement("Mark Tregear", "Direct payments team manager, Plymouth City Council")


def born(today: date, age: int, month: int, day: int) -> date:
    """The birthday that makes the person ``age`` on ``today``."""
    year = today.year - age
    return date(year - 1 if (month, day) > (today.month, today.day) else year, month, day)


def person(
    today: date,
    name: str,
    age: int,
    birthday: tuple[int, int],
    group: EligibilityGroup,
    *representatives: RepresentativeRecipe,
    preferred: str | None = None,
) -> PersonRecipe:
    return PersonRecipe(name, born(today, age, *birthday), group, preferred, tuple(representatives))


def representative(name: str, basis: LegalBasis, relationship: str, *, speaks: bool, number: int) -> RepresentativeRecipe:
    return RepresentativeRecipe(
        name=name,
        legal_basis=basis,
        relationship=relationship,
        speaks_for_person=speaks,
        email=f"{name.split()[0].lower()}.{name.split()[-1].lower()}@example.org",
        phone=f"07700 900{number:03d}",
    )


DEVON_PHB_TEAM = "NHS Devon ICB personal health budgets team"
_COORDINATORS = {
    DEVON: (("Aisha Rahman", DEVON_PHB_TEAM), ("Sam Okoro", DEVON_PHB_TEAM)),
    CORNWALL: (("Kate Trewin", "NHS Cornwall and Isles of Scilly ICB continuing care team"),),
    COUNCIL: (("Lee Harding", "Plymouth City Council community connections"),),
    CHILDREN: (("Joanne Beer", "Plymouth City Council SEND team"),),
}
_ADVISORS = {
    HolderKind.ISF_PROVIDER: (("Jess Harvey", HOLDERS[0].name), ("Owen Bray", HOLDERS[0].name)),
    HolderKind.MANAGED_ACCOUNT_SERVICE: (("Lucy Kemp", HOLDERS[1].name), ("Adam Nile", HOLDERS[1].name)),
    HolderKind.SELF_MANAGED: (("Chris Yeo", "Plymouth Direct Payments Advice Service"),),
    HolderKind.COMMISSIONER: (("Priya Desai", "NHS Devon ICB brokerage team"),),
}
_HEALTH_CONTACTS = {
    EligibilityGroup.LEARNING_DISABILITY_AUTISM: ("Tom Avery", "Plymouth Community Learning Disability Team"),
    EligibilityGroup.MENTAL_HEALTH: ("Ben Adeyemi", "Plymouth Community Mental Health Team"),
    EligibilityGroup.SECTION_117_AFTERCARE: ("Ben Adeyemi", "Plymouth Community Mental Health Team"),
    EligibilityGroup.CHILDRENS_CONTINUING_CARE: ("Rosie Lane", "Children's Community Nursing Team, Plymouth"),
    EligibilityGroup.PERSONAL_WHEELCHAIR_BUDGET: ("Gareth Wills", "Plymouth Wheelchair Service"),
    EligibilityGroup.END_OF_LIFE: ("Fiona Grey", "St Budeaux Hospice at Home"),
}
_DEFAULT_HEALTH_CONTACT = ("Fiona Grey", "Plymouth Community Nursing")


def contacts(number: int, funder: str, holder_kind: HolderKind, group: str) -> tuple[ContactSpec, ...]:
    """Care coordinator, named advisor and health contact for budget ``number``."""
    coordinator = _pick(_COORDINATORS[funder], number)
    advisor = _pick(_ADVISORS[holder_kind], number)
    health = _HEALTH_CONTACTS.get(EligibilityGroup(group), _DEFAULT_HEALTH_CONTACT)
    return tuple(
        ContactSpec(role, name, organisation, phone=f"01632 960{(number * 3 + offset) % 1000:03d}", email=_email(name))
        for offset, (role, (name, organisation)) in enumerate(
            ((ContactRole.CARE_COORDINATOR, coordinator), (ContactRole.NAMED_ADVISOR, advisor), (ContactRole.HEALTH_CONTACT, health))
        )
    )


def _pick(options: tuple[tuple[str, str], ...], number: int) -> tuple[str, str]:
    return options[number % len(options)]


def _email(name: str) -> str:
    first, *_, last = name.split()
    return f"{first.lower()}.{last.lower()}@example.org"
