"""Setting up a data set through the ledger's own service functions: funders, holders (one
book each), people, budgets with their charts of accounts, and agreed three-year plans, whose
agreement posts each budget's allocation. The funders then pay each budget's allocation in
full at the start, so card loads draw on cash that is there.

Then :func:`funded_budgets` reads back the ids that posting the set's entries needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from random import Random

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.datasets import PERIOD_END, PERIOD_START, BudgetProfile, DataSetSpec, FundedBudget, budget_profiles
from benchmarks.merchants import CARD_CATEGORIES
from ledger.budgets import budget as budgets
from ledger.budgets import parties, plans
from ledger.core import accounts, journal
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.money import split_pence
from ledger.core.vocabulary import EntryKind, HolderKind
from ledger.store.database import Database
from ledger.store.tables import Budget, Funder, Holder

AGREED_AT = datetime(2023, 3, 20, 10, 0)
BUDGETS_PER_TRANSACTION = 50
CONTINGENCY_WEEKS = 4
ICB = parties.FunderSpec("icb-devon", "NHS Devon ICB", "icb")
COUNCIL = parties.FunderSpec("plymouth-asc", "Plymouth City Council (adult social care)", "council_adult_social_care")
HOLDER_NAMES = (
    "Sunrise Support", "Tamar Valley Care", "Moorland Lives", "Harbour ISF Services", "Dart Direct Payments",
    "Clearwater Managed Accounts", "Rame Head Support", "Cornerstone Living", "Estuary Care Partners", "Kernow Support",
)  # fmt: skip


def set_up(database: Database, spec: DataSetSpec) -> list[FundedBudget]:
    """Create everything the set's entries post to; ``BUDGETS_PER_TRANSACTION`` budgets per
    write transaction, as an import of a caseload would."""
    assert spec.holders <= len(HOLDER_NAMES)
    with database.write() as session:
        icb = parties.create_funder(session, ICB)
        council = parties.create_funder(session, COUNCIL)
        holders = [_create_holder(session, index) for index in range(spec.holders)]
    profiles = budget_profiles(spec)
    for start in range(0, len(profiles), BUDGETS_PER_TRANSACTION):
        with database.write() as session:
            for profile in profiles[start : start + BUDGETS_PER_TRANSACTION]:
                _set_up_budget(session, spec, profile, holders[profile.holder_index], icb, council)
    with database.read() as session:
        return funded_budgets(session, spec)


def _create_holder(session: Session, index: int) -> Holder:
    kind = HolderKind.ISF_PROVIDER if index % 2 == 0 else HolderKind.MANAGED_ACCOUNT_SERVICE
    name = HOLDER_NAMES[index]
    return parties.create_holder(session, parties.HolderSpec(name.lower().replace(" ", "-"), name, kind))


def _set_up_budget(
    session: Session, spec: DataSetSpec, profile: BudgetProfile, holder: Holder, icb: Funder, council: Funder
) -> None:
    person = parties.create_person(
        session,
        parties.PersonSpec(profile.person_name, profile.date_of_birth, profile.eligibility_group),
        today=PERIOD_START,
    )
    option = "third_party" if holder.kind == HolderKind.ISF_PROVIDER else "direct_payment"
    budget = budgets.create_budget(
        session,
        budgets.BudgetSpec(
            reference=profile.reference,
            holder_id=holder.id,
            person_id=person.id,
            lead_funder_id=icb.id,
            period_start=PERIOD_START,
            period_end=PERIOD_END,
            parts=(budgets.PartSpec(option, "prepaid_card"),),
        ),
    )
    version = plans.create_draft(session, budget.id, _plan(spec, profile, icb, council))
    plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)
    _receive_funding(session, budget, plans.version_allocations(session, version), {icb.id: icb.code, council.id: council.code})


def _plan(spec: DataSetSpec, profile: BudgetProfile, icb: Funder, council: Funder) -> plans.PlanVersionSpec:
    """Card money for every week plus a few weeks' contingency, over a line per card category."""
    card_pence = profile.weekly_load_pence * spec.weeks
    contingency_pence = profile.weekly_load_pence * CONTINGENCY_WEEKS
    total_pence = card_pence + contingency_pence
    rng = Random(f"{spec.seed}:plan:{profile.index}")
    line_amounts = split_pence(card_pence, [rng.randint(1, 10) for _ in CARD_CATEGORIES])
    lines = [
        plans.PlanLineSpec(
            category, f"{category.replace('_', ' ').capitalize()} paid by card", "recurring", annual_amount_pence=amount
        )
        for category, amount in zip(CARD_CATEGORIES, line_amounts, strict=True)
        if amount
    ]
    if profile.joint_with_council:
        icb_pence, council_pence = split_pence(total_pence, [2, 1])
        funding = [
            plans.FundingLineSpec(icb.id, icb_pence),
            plans.FundingLineSpec(council.id, council_pence, min(council_pence, profile.contribution_weekly_pence * spec.weeks)),
        ]
    else:
        funding = [plans.FundingLineSpec(icb.id, total_pence)]
    return plans.PlanVersionSpec(
        effective_from=PERIOD_START,
        total_pence=total_pence,
        funding_lines=funding,
        lines=lines,
        contingency_pence=contingency_pence,
        review_every_months=3,
    )


def _receive_funding(session: Session, budget: Budget, allocations: dict[int | None, int], funder_codes: dict[int, str]) -> None:
    """Each funder (and the person, for a contribution) pays its whole allocation at the start."""
    reference = budget.reference
    payers = [(funder_codes[f] if f is not None else accounts.CONTRIBUTION_CODE, pence) for f, pence in allocations.items() if pence]
    ids = accounts.account_ids_by_code(session, [f"{reference}:cash"] + [f"{reference}:receivable:{code}" for code, _ in payers])
    entries = [
        NewEntry(
            book_id=budget.holder_id,
            entry_date=PERIOD_START,
            description=f"Payment received from {code} for {reference}, plan period {PERIOD_START:%Y}–{PERIOD_END:%y}",
            idempotency_key=f"funding:{reference}:{code}",
            postings=(NewPosting(ids[f"{reference}:cash"], pence), NewPosting(ids[f"{reference}:receivable:{code}"], -pence)),
            kind=EntryKind.CONTRIBUTION_RECEIVED if code == accounts.CONTRIBUTION_CODE else EntryKind.FUNDER_PAYMENT,
        )
        for code, pence in payers
    ]
    journal.post_entries(session, entries)


def funded_budgets(session: Session, spec: DataSetSpec) -> list[FundedBudget]:
    """The ids of the set's budgets, books and the accounts its entries post to."""
    profiles = budget_profiles(spec)
    budget_rows = {row.reference: row for row in session.execute(select(Budget.reference, Budget.id, Budget.holder_id))}
    funded = []
    for start in range(0, len(profiles), BUDGETS_PER_TRANSACTION):
        chunk = profiles[start : start + BUDGETS_PER_TRANSACTION]
        ids = accounts.account_ids_by_code(session, [code for p in chunk for code in _account_codes(p.reference)])
        for profile in chunk:
            row = budget_rows[profile.reference]
            funded.append(_funded(profile, row.id, row.holder_id, ids))
    return funded


def _account_codes(reference: str) -> list[str]:
    return [f"{reference}:cash", f"{reference}:card"] + [f"{reference}:spend:{c}" for c in CARD_CATEGORIES]


def _funded(profile: BudgetProfile, budget_id: int, book_id: int, ids: dict[str, int]) -> FundedBudget:
    reference = profile.reference
    return FundedBudget(
        profile=profile,
        budget_id=budget_id,
        book_id=book_id,
        cash_account_id=ids[f"{reference}:cash"],
        card_account_id=ids[f"{reference}:card"],
        spend_account_ids={category: ids[f"{reference}:spend:{category}"] for category in CARD_CATEGORIES},
    )


def budget_ids(session: Session) -> Sequence[int]:
    return list(session.execute(select(Budget.id).order_by(Budget.id)).scalars())
