"""The words of the PHB domain (DESIGN.md §1) as enumerations.

Values are stored as text in the database and sent as text in JSON, so a value, once
released, is never renamed.
"""

from __future__ import annotations

from enum import StrEnum


class FunderKind(StrEnum):
    ICB = "icb"
    """Integrated care board: the NHS funder (the older sources say CCG)."""
    COUNCIL_ADULT_SOCIAL_CARE = "council_adult_social_care"
    COUNCIL_CHILDREN_EDUCATION = "council_children_education"
    """Children's services or education, e.g. for an Education, Health and Care Plan."""

    @property
    def is_social_care(self) -> bool:
        """Only a social-care share can carry a means-tested client contribution."""
        return self is FunderKind.COUNCIL_ADULT_SOCIAL_CARE


DEFAULT_FUNDER_LABEL = {
    FunderKind.ICB: "ICB",
    FunderKind.COUNCIL_ADULT_SOCIAL_CARE: "Council adult social care",
    FunderKind.COUNCIL_CHILDREN_EDUCATION: "Council children's services",
}


class HolderKind(StrEnum):
    ISF_PROVIDER = "isf_provider"
    """A provider holding Individual Service Funds (third-party budgets)."""
    MANAGED_ACCOUNT_SERVICE = "managed_account_service"
    SELF_MANAGED = "self_managed"
    """The person or their family holds a direct payment."""
    COMMISSIONER = "commissioner"
    """The funder arranges and pays for services itself: notional budgets."""


class EligibilityGroup(StrEnum):
    CONTINUING_HEALTHCARE = "continuing_healthcare"
    CHILDRENS_CONTINUING_CARE = "childrens_continuing_care"
    SECTION_117_AFTERCARE = "section_117_aftercare"
    PERSONAL_WHEELCHAIR_BUDGET = "personal_wheelchair_budget"
    END_OF_LIFE = "end_of_life"
    LEARNING_DISABILITY_AUTISM = "learning_disability_autism"
    MENTAL_HEALTH = "mental_health"
    OTHER = "other"


class LegalBasis(StrEnum):
    NOMINATED_FAMILY_MEMBER = "nominated_family_member"
    APPOINTEE = "appointee"
    LASTING_POWER_OF_ATTORNEY = "lasting_power_of_attorney_health_welfare"
    COURT_OF_PROTECTION_DEPUTY = "court_of_protection_deputy"


class ContactRole(StrEnum):
    CARE_COORDINATOR = "care_coordinator"
    NAMED_ADVISOR = "named_advisor"
    HEALTH_CONTACT = "health_contact"


class ManagementOption(StrEnum):
    NOTIONAL = "notional"
    """The NHS arranges and pays; no money moves, but costs are recorded."""
    THIRD_PARTY = "third_party"
    """An Individual Service Fund or a trust."""
    DIRECT_PAYMENT = "direct_payment"


class Holding(StrEnum):
    BANK_ACCOUNT = "bank_account"
    MANAGED_ACCOUNT = "managed_account"
    PREPAID_CARD = "prepaid_card"
    NONE = "none"
    """Notional parts: nobody holds the money."""


class Cadence(StrEnum):
    WEEKLY = "weekly"
    TWO_WEEKLY = "two_weekly"
    FOUR_WEEKLY = "four_weekly"


class DrawdownTiming(StrEnum):
    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    AGREED = "agreed"
    WITHDRAWN = "withdrawn"
    """A draft abandoned before agreement; kept for the record."""


class PlanLineKind(StrEnum):
    RECURRING = "recurring"
    ONE_OFF = "one_off"


class BudgetStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AccountType(StrEnum):
    """The accounting type decides the natural sign of a balance."""

    ASSET = "asset"
    LIABILITY = "liability"
    FUND = "fund"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class AccountKind(StrEnum):
    """What an account is for: DESIGN.md §3, plus the holder's own suspense pair."""

    RECEIVABLE = "receivable"
    CASH = "cash"
    CONTINGENCY = "contingency"
    CARD = "card"
    PAYABLE = "payable"
    ALLOCATION = "allocation"
    SPEND = "spend"
    TOP_SLICE = "top_slice"
    FEES = "fees"
    RETURNED = "returned"
    UNALLOCATED = "unallocated"
    """Money in the holder's client bank account not yet attributed to a budget."""
    UNIDENTIFIED = "unidentified"
    """The holder fund's other side of ``unallocated``: whose money it is, not yet known."""


ACCOUNT_TYPE_OF_KIND = {
    AccountKind.RECEIVABLE: AccountType.ASSET,
    AccountKind.CASH: AccountType.ASSET,
    AccountKind.CONTINGENCY: AccountType.ASSET,
    AccountKind.CARD: AccountType.ASSET,
    AccountKind.PAYABLE: AccountType.LIABILITY,
    AccountKind.ALLOCATION: AccountType.FUND,
    AccountKind.SPEND: AccountType.EXPENSE,
    AccountKind.TOP_SLICE: AccountType.EXPENSE,
    AccountKind.FEES: AccountType.EXPENSE,
    AccountKind.RETURNED: AccountType.EXPENSE,
    AccountKind.UNALLOCATED: AccountType.ASSET,
    AccountKind.UNIDENTIFIED: AccountType.LIABILITY,
}

PER_FUNDER_KINDS = (AccountKind.RECEIVABLE, AccountKind.ALLOCATION, AccountKind.RETURNED)
BUDGET_FIXED_KINDS = (
    AccountKind.CASH,
    AccountKind.CONTINGENCY,
    AccountKind.CARD,
    AccountKind.PAYABLE,
    AccountKind.TOP_SLICE,
    AccountKind.FEES,
)


class EntryKind(StrEnum):
    """Which event of DESIGN.md §3 an entry records. Later money flows add members."""

    MANUAL = "manual"
    ALLOCATION = "allocation"
    FUNDER_PAYMENT = "funder_payment"
    CONTRIBUTION_RECEIVED = "contribution_received"
    NOTIONAL_COST = "notional_cost"
    TOP_SLICE = "top_slice"
    CONTINGENCY_RING_FENCE = "contingency_ring_fence"
    CONTINGENCY_USE = "contingency_use"
    CONTINGENCY_RETURN = "contingency_return"
    TOP_SLICE_RETURN = "top_slice_return"
    CARD_UNLOAD = "card_unload"
    TRANSITION_SPEND = "transition_spend"
    SURPLUS_OFFSET = "surplus_offset"
    MONEY_IDENTIFIED = "money_identified"
    DRAWDOWN = "drawdown"
    CARD_PURCHASE = "card_purchase"
    CARD_REFUND = "card_refund"
    BANK_SPEND = "bank_spend"
    """A payment out of a budget's own bank account (a direct payment), posted from its statement."""
    RECATEGORISATION = "recategorisation"
    """Spend moved from one category to another, when a person re-categorises it."""
    RECOVERY = "recovery"
    """Money repaid after a flag's recovery was requested: the spend it undoes."""
    PAYABLE_APPROVED = "payable_approved"
    PAYABLE_PAID = "payable_paid"
    FEE = "fee"
    SURPLUS_RETURN = "surplus_return"
    TRANSFER = "transfer"
    REVERSAL = "reversal"


ENTRY_KIND_WORDS: dict[str, str] = {
    "manual": "Manual entry", "allocation": "Allocation", "funder_payment": "Funder payment", "contribution_received": "Contribution received",
    "notional_cost": "Notional cost", "top_slice": "Top-slice", "contingency_ring_fence": "Contingency set aside",
    "contingency_use": "Contingency used", "contingency_return": "Contingency returned", "top_slice_return": "Top-slice returned",
    "card_unload": "Card unloaded", "transition_spend": "Transition cost", "surplus_offset": "Surplus offset", "money_identified": "Money identified",
    "drawdown": "Card load", "card_purchase": "Card purchase", "card_refund": "Card refund", "bank_spend": "Bank payment",
    "recategorisation": "Re-categorised", "recovery": "Repayment", "payable_approved": "Wages or invoice approved",
    "payable_paid": "Wages or invoice paid", "fee": "Fee", "surplus_return": "Surplus returned", "transfer": "Transfer", "reversal": "Reversal",
}  # fmt: skip
"""What each kind of entry is, in a few plain words (pages, and descriptions cut for a reader)."""


STANDARD_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    # (code, name, plain words for families)
    ("staff_pay", "Staff pay and personal assistants", "Paying your support workers"),
    ("agency_support", "Agency support", "Support from an agency"),
    ("activities", "Activities", "Things to do"),
    ("equipment", "Equipment", "Equipment"),
    ("assistive_technology", "Assistive technology", "Technology that helps you"),
    ("transport", "Transport", "Getting about"),
    ("short_breaks", "Short breaks and respite", "Short breaks"),
    ("therapies", "Therapies (including complementary)", "Therapies"),
    ("counselling", "Counselling", "Counselling"),
    ("exercise", "Exercise", "Exercise"),
    ("training", "Training", "Training"),
    ("accommodation_contribution", "Accommodation contribution", "Help with where you live"),
    ("insurance", "Insurance (employer's liability)", "Insurance"),
    ("payroll_account_fees", "Payroll and account fees", "Payroll and bank fees"),
    ("brokerage_support_planning", "Brokerage and support planning", "Help to plan your support"),
    ("transition", "Transition", "Getting ready to move"),
)
TRANSITION_CATEGORY = "transition"
UNCATEGORISED_CATEGORY = ("uncategorised", "Not yet categorised", "Not sorted yet")
"""Where spend waits until someone (or a rule) says what it was for; never a plan line's."""
SEEDED_CATEGORIES = (*STANDARD_CATEGORIES, UNCATEGORISED_CATEGORY)
