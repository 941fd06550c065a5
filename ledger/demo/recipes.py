"""What the demo is made of, as plain frozen values: who the people are, what each budget's
plan says, how its money is paid and spent, and the few things that go wrong.

Recipes hold real dates (the cast is written for a given ``today``) and integer pence; they
touch no database. ``ledger.demo.plan_figures`` turns a version recipe into exact plan money,
``ledger.demo.world`` writes the recipes through the ledger services, and
``ledger.demo.history`` plays out the year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ledger.budgets.budget import ContactSpec
from ledger.core.vocabulary import Cadence, DrawdownTiming, Holding, ManagementOption
from ledger.loads.schedule import CADENCE_WEEKS


@dataclass(frozen=True)
class RepresentativeRecipe:
    name: str
    legal_basis: str
    relationship: str
    speaks_for_person: bool = False
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class PersonRecipe:
    name: str
    date_of_birth: date
    eligibility_group: str
    preferred_name: str | None = None
    representatives: tuple[RepresentativeRecipe, ...] = ()

    @property
    def first_name(self) -> str:
        return self.preferred_name or self.name.split()[0]


@dataclass(frozen=True)
class PartRecipe:
    """A budget part, named by ``key`` so that plan lines can say which part pays them."""

    key: str
    management_option: str
    holding: str
    cadence: str = Cadence.WEEKLY
    timing: str = DrawdownTiming.IN_ADVANCE
    initial_float_weeks: int = 0

    @property
    def is_card(self) -> bool:
        return self.holding == Holding.PREPAID_CARD

    @property
    def is_notional(self) -> bool:
        return self.management_option == ManagementOption.NOTIONAL

    @property
    def cadence_weeks(self) -> int:
        return CADENCE_WEEKS[Cadence(self.cadence)]


class PaidBy:
    """How the money of a plan line leaves the budget."""

    PAYROLL = "payroll"
    """Wages: approved each month in the holder's payroll run, then paid from the bank."""
    INVOICE = "invoice"
    """Invoices approved and paid from the bank: monthly in arrears, or once for a one-off."""
    CARD = "card"
    """Card purchases at shops and venues."""
    CARD_TRANSFER = "card_transfer"
    """Payments from the card account by bank transfer on each load day: a PA's wages for
    the days worked since the one before."""
    NOTIONAL = "notional"
    """The funder pays the provider itself; the cost is recorded against the budget."""


@dataclass(frozen=True)
class LineRecipe:
    """One plan line. Recurring lines give ``annual_pence`` or hours × rate (the weeks are
    counted from the line's dates); one-off lines give ``one_off_pence`` and a date.
    ``remainder`` lines take what is left: on a card part, whatever the loads leave after
    its other lines; elsewhere, whatever the total leaves (so every version adds up)."""

    category: str
    description: str
    part: str
    annual_pence: int | None = None
    hours_hundredths: int | None = None
    rate_pence: int | None = None
    one_off_pence: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    remainder: bool = False
    paid_by: str | None = None
    supplier: str | None = None
    """Who sends the invoice or takes the card payment; the description's words otherwise."""

    @property
    def is_one_off(self) -> bool:
        return self.one_off_pence is not None


@dataclass(frozen=True)
class FundingRecipe:
    funder: str
    amount_pence: int | None = None
    """``None``: this funder pays whatever the others leave of the total (the lead does)."""
    client_contribution_pence: int = 0


@dataclass(frozen=True)
class Agreement:
    name: str
    role: str


@dataclass(frozen=True)
class VersionRecipe:
    effective_from: date
    agreed_on: date
    agreed_by: Agreement
    funding: tuple[FundingRecipe, ...]
    lines: tuple[LineRecipe, ...]
    load_pence: int = 0
    """About what goes onto the card each period (week, fortnight or four weeks): the card's
    recurring lines come to this much a period for the days the version is in force. The
    drawdown service spreads them, and any one-off card lines, over the periods by days."""
    contingency_pence: int = 0
    top_slice_basis_points: int | None = None
    top_slice_fixed_pence: int | None = None
    total_pence: int | None = None
    """``None``: the smallest whole £100 that pays for every line, contingency and top-slice."""
    outcomes: tuple[str, ...] = ()
    change_reason: str | None = None
    review_every_months: int = 3


class Schedule:
    """When a funder (or the person, for a contribution) pays."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    FOUR_WEEKLY = "four_weekly"
    WITH_LOADS = "with_loads"
    """The funder pays each card load as it goes on (a direct payment straight to a card)."""


@dataclass(frozen=True)
class ContingencyUse:
    on: date
    amount_pence: int
    category: str
    reason: str
    agreed_by: str
    onto_card: bool = False
    """Loaded onto the card for the family to spend, rather than paid straight out."""


@dataclass(frozen=True)
class UnidentifiedPayment:
    """The funder's payment of ``month`` arrives with a reference nobody recognises, sits in
    the holder's unallocated account, and is attributed ``days_unidentified`` days later."""

    month: date
    bank_reference: str
    days_unidentified: int = 4


@dataclass(frozen=True)
class DuplicateInvoice:
    """The invoice of line ``line_position`` for ``month`` is approved twice; the duplicate
    is reversed ``days_later`` days after."""

    month: date
    line_position: int
    days_later: int = 3


@dataclass(frozen=True)
class WrongCategory:
    """The first card purchase on or after ``on`` is booked to ``booked_as``; it is
    reversed and booked again, correctly, ``days_later`` days after."""

    on: date
    booked_as: str
    days_later: int = 2


@dataclass(frozen=True)
class OddPurchase:
    """A card purchase the flags will want explained (a pub) or refuse (an off-licence)."""

    on: date
    merchant: str
    merchant_category_code: int
    category: str
    amount_pence: int


@dataclass(frozen=True)
class HospitalStay:
    """The person is in hospital from ``starts_on`` to ``ends_on`` (their last day there).
    The holder pauses the card loads (``ledger.budgets.pauses``) the day they go in and ends the
    pause the day they come home; the card is not used meanwhile."""

    starts_on: date
    ends_on: date
    reason: str
    recorded_by: str

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


Incident = ContingencyUse | UnidentifiedPayment | DuplicateInvoice | WrongCategory | OddPurchase | HospitalStay


@dataclass(frozen=True)
class Behaviour:
    """How the money is actually spent, against the plan."""

    card_spend_percent: int = 93
    """Of what the card lines plan, how much is spent: lower builds a surplus."""
    invoice_percent: int = 98
    """Of what invoiced lines plan, how much is billed."""
    staff_fill_percent: int = 100
    vacancy: tuple[date, date] | None = None
    """Months in which only ``staff_fill_percent`` of the planned hours are worked."""
    category_weight_percent: tuple[tuple[str, int], ...] = ()
    """Shifts card spending between categories (100 = as planned) without changing its
    total: one budget overspends its transport line this way."""
    refunds: bool = False
    incidents: tuple[Incident, ...] = ()

    @property
    def hospital_stays(self) -> tuple[HospitalStay, ...]:
        return tuple(incident for incident in self.incidents if isinstance(incident, HospitalStay))


@dataclass(frozen=True)
class BudgetRecipe:
    reference: str
    holder: str
    person: PersonRecipe
    lead_funder: str
    period_start: date
    period_end: date
    parts: tuple[PartRecipe, ...]
    versions: tuple[VersionRecipe, ...]
    payments: tuple[tuple[str, str], ...]
    """(funder code, or ``contribution`` for the person, → ``Schedule``)."""
    contacts: tuple[ContactSpec, ...] = ()
    behaviour: Behaviour = field(default_factory=Behaviour)
    previous_placement_annual_cost_pence: int | None = None
    previous_placement_description: str | None = None

    def part(self, key: str) -> PartRecipe:
        for part in self.parts:
            if part.key == key:
                return part
        raise AssertionError(f"{self.reference} has no part {key!r}")

    @property
    def card_part(self) -> PartRecipe | None:
        return next((part for part in self.parts if part.is_card), None)

    def version_on(self, day: date) -> int:
        """Index of the version in force on ``day`` (the first before the plan starts)."""
        index = 0
        for position, version in enumerate(self.versions):
            if version.effective_from <= day:
                index = position
        return index


# Short ways to write plan lines, so that a plan reads like a plan.


def weekly_hours(
    category: str,
    description: str,
    part: str,
    hours_hundredths: int,
    rate_pence: int,
    *,
    starts_on: date | None = None,
    ends_on: date | None = None,
    supplier: str | None = None,
) -> LineRecipe:
    """Hours a week (in hundredths) × an hourly rate, for the weeks between the dates."""
    return LineRecipe(
        category, description, part, hours_hundredths=hours_hundredths, rate_pence=rate_pence,
        starts_on=starts_on, ends_on=ends_on, supplier=supplier,
    )  # fmt: skip


def yearly(category: str, description: str, part: str, pence: int, *, supplier: str | None = None) -> LineRecipe:
    return LineRecipe(category, description, part, annual_pence=pence, supplier=supplier)


def one_off(
    category: str,
    description: str,
    part: str,
    pence: int,
    on: date,
    *,
    until: date | None = None,
    supplier: str | None = None,
    paid_by: str | None = None,
) -> LineRecipe:
    return LineRecipe(category, description, part, one_off_pence=pence, starts_on=on, ends_on=until, supplier=supplier, paid_by=paid_by)


def rest(category: str, description: str, part: str, *, at_least: int | None = None, supplier: str | None = None) -> LineRecipe:
    """The line that takes what is left (see ``LineRecipe.remainder``); ``at_least`` is its
    natural cost, which a derived total always covers."""
    return LineRecipe(category, description, part, annual_pence=at_least, remainder=True, supplier=supplier)
