"""Seeded, deterministic benchmark data: budgets with agreed plans, then weekly card loads and
card purchases as ``NewEntry`` batches.

Three sets, the same shape at different sizes (every budget runs for 156 weeks):

- ``small``: 50 budgets over 5 holders (≈ 82,000 entries), for quick runs;
- ``reference``: 500 budgets over 5 holders (≈ 820,000 entries, 1.64 million postings), the
  set ``../shared/research/perf.md`` measured other tools on;
- ``icb``: 2,500 budgets over 10 holders (≈ 4.1 million entries, 8.2 million postings), an
  ICB's whole PHB caseload.

Each week every budget gets one drawdown (debit ``B:card``, credit ``B:cash``) on the
Monday, and 6–13 card purchases (debit ``B:spend:<category>``, credit ``B:card``) at
merchants it mostly goes back to; about 1 in 250 is a refund instead. A week's purchases
add up to 85–102 % of its load, so card balances stay near zero, as they do in life.

The same seed gives the same people, plans, amounts, keys and order on every run and on
both databases; only ids, timestamps and hashes depend on the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random
from typing import NamedTuple

from benchmarks.merchants import Merchant, merchants
from ledger.core.entries import NewEntry, NewPosting, Provenance
from ledger.core.money import split_pence
from ledger.core.vocabulary import EntryKind

PERIOD_START = date(2023, 4, 3)
"""A Monday: loads go on the card weekly, in advance."""
PERIOD_END = date(2026, 3, 31)
"""Three years, the longest plan period a budget allows."""
SEED = 20261124
DATA_SET_VERSION = 1
"""Bump when what the generator makes changes, so stale snapshots are rebuilt."""
STATEMENT_FORMAT = "prepaid_card_csv"
IMPORTER = "benchmarks.datasets"
FAVOURITES_MIN = 12
FAVOURITES_MAX = 30
FAVOURITE_SHARE_PERCENT = 85
REFUND_ONE_IN = 250


@dataclass(frozen=True)
class DataSetSpec:
    name: str
    budgets: int
    holders: int
    weeks: int = 156
    purchases_min: int = 6
    purchases_max: int = 13
    seed: int = SEED

    @property
    def approximate_entries(self) -> int:
        per_week = 1 + (self.purchases_min + self.purchases_max) / 2
        return round(self.budgets * self.weeks * per_week)


DATA_SETS = {
    "small": DataSetSpec("small", budgets=50, holders=5),
    "reference": DataSetSpec("reference", budgets=500, holders=5),
    "icb": DataSetSpec("icb", budgets=2500, holders=10),
}


class BudgetProfile(NamedTuple):
    """Everything about one budget the set-up and the entries need, drawn from the seed."""

    index: int
    reference: str
    holder_index: int
    person_name: str
    date_of_birth: date
    eligibility_group: str
    weekly_load_pence: int
    joint_with_council: bool
    contribution_weekly_pence: int
    favourite_merchants: tuple[int, ...]


class FundedBudget(NamedTuple):
    """A set-up budget's ids: what posting entries to it needs."""

    profile: BudgetProfile
    budget_id: int
    book_id: int
    cash_account_id: int
    card_account_id: int
    spend_account_ids: dict[str, int]
    """Spend account id by category code."""


_FIRST_NAMES = (
    "Alex", "Sam", "Jo", "Chris", "Priya", "Amir", "Bethan", "Callum", "Demi", "Eilidh", "Femi", "Grace",
    "Harvey", "Isla", "Jack", "Kezia", "Liam", "Maya", "Niamh", "Oscar", "Poppy", "Rhys", "Sofia", "Tariq",
    "Uma", "Vince", "Wren", "Yusuf", "Zara", "Ellis", "Morgan", "Rowan", "Jamie", "Robin", "Kit", "Tam",
)  # fmt: skip
_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Khan", "Trelawny", "Penrose", "Hocking", "Pascoe", "Nankervis", "Chapman", "Bennett", "Ahmed",
)  # fmt: skip
_ELIGIBILITY_WEIGHTS = (
    ("continuing_healthcare", 40),
    ("learning_disability_autism", 20),
    ("mental_health", 12),
    ("section_117_aftercare", 10),
    ("personal_wheelchair_budget", 8),
    ("childrens_continuing_care", 6),
    ("end_of_life", 2),
    ("other", 2),
)


def budget_profiles(spec: DataSetSpec) -> list[BudgetProfile]:
    """The set's budgets, the same for the same seed."""
    rng = Random(f"{spec.seed}:profiles")
    merchant_count = len(merchants())
    groups = [group for group, _ in _ELIGIBILITY_WEIGHTS]
    weights = [weight for _, weight in _ELIGIBILITY_WEIGHTS]
    profiles = []
    for index in range(spec.budgets):
        group = rng.choices(groups, weights)[0]
        child = group == "childrens_continuing_care"
        if child:
            born = date(2008, 1, 1) + timedelta(days=rng.randrange(3000))
        else:
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(24000))
        joint = not child and rng.randrange(3) == 0
        load = rng.randrange(80, 401) * 100 + rng.choice((0, 25, 50, 75)) * 10
        home = rng.randrange(merchant_count)
        favourites = tuple(sorted({(home + rng.randrange(-200, 200)) % merchant_count
                                   for _ in range(rng.randint(FAVOURITES_MIN, FAVOURITES_MAX))}))  # fmt: skip
        profiles.append(
            BudgetProfile(
                index=index,
                reference=f"PHB-{index + 1:05d}",
                holder_index=index % spec.holders,
                person_name=f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}",
                date_of_birth=born,
                eligibility_group=group,
                weekly_load_pence=load,
                joint_with_council=joint,
                contribution_weekly_pence=rng.choice((0, 0, 1_500, 2_500)) if joint else 0,
                favourite_merchants=favourites,
            )
        )
    return profiles


def entry_batches(spec: DataSetSpec, budgets: Sequence[FundedBudget], batch_size: int) -> Iterator[list[NewEntry]]:
    """The set's entries in date order (week by week, then day, then budget), ``batch_size``
    at a time. Lazy: only one week of entries is held at once."""
    assert batch_size > 0
    generator = _WeekGenerator(spec, budgets)
    batch: list[NewEntry] = []
    for week in range(spec.weeks):
        for entry in generator.week(week):
            batch.append(entry)
            if len(batch) == batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


class _WeekGenerator:
    def __init__(self, spec: DataSetSpec, budgets: Sequence[FundedBudget]) -> None:
        self.spec = spec
        self.budgets = budgets
        self.merchants = merchants()
        self.rng = Random(f"{spec.seed}:entries")
        self.transactions = [0] * len(budgets)
        self.statement_lines: dict[int, tuple[str, int]] = {}

    def week(self, week: int) -> list[NewEntry]:
        monday = PERIOD_START + timedelta(weeks=week)
        dated: list[tuple[int, int, int, NewEntry]] = []
        for position, budget in enumerate(self.budgets):
            dated.append((0, position, 0, self._drawdown(budget, monday)))
            count = self.rng.randint(self.spec.purchases_min, self.spec.purchases_max)
            days = sorted(self.rng.randrange(7) for _ in range(count))
            chosen = [self._merchant(budget) for _ in range(count)]
            target = budget.profile.weekly_load_pence * self.rng.randint(85, 102) // 100
            amounts = split_pence(target, [self.rng.randint(m.low_pence, m.high_pence) for m in chosen])
            for line, (day, merchant, amount) in enumerate(zip(days, chosen, amounts, strict=True), 1):
                entry = self._purchase(position, budget, monday + timedelta(days=day), merchant, amount)
                dated.append((day, position, line, entry))
        dated.sort(key=lambda item: item[:3])
        return [entry for _, _, _, entry in dated]

    def _merchant(self, budget: FundedBudget) -> Merchant:
        favourites = budget.profile.favourite_merchants
        if self.rng.randrange(100) < FAVOURITE_SHARE_PERCENT:
            return self.merchants[self.rng.choice(favourites)]
        return self.merchants[self.rng.randrange(len(self.merchants))]

    def _drawdown(self, budget: FundedBudget, monday: date) -> NewEntry:
        reference = budget.profile.reference
        load = budget.profile.weekly_load_pence
        return NewEntry(
            book_id=budget.book_id,
            entry_date=monday,
            description=f"Weekly card load for {reference}, week of {monday:%d %b %Y}",
            idempotency_key=f"drawdown:{reference}:{monday.isoformat()}",
            postings=(NewPosting(budget.card_account_id, load), NewPosting(budget.cash_account_id, -load)),
            kind=EntryKind.DRAWDOWN,
            created_by="scheduler:drawdown",
        )

    def _purchase(self, position: int, budget: FundedBudget, day: date, merchant: Merchant, amount: int) -> NewEntry:
        reference = budget.profile.reference
        self.transactions[position] += 1
        statement = f"card-{reference}-{day:%Y-%m}.csv"
        previous_statement, previous_line = self.statement_lines.get(position, ("", 0))
        line = previous_line + 1 if previous_statement == statement else 1
        self.statement_lines[position] = (statement, line)
        refund = self.rng.randrange(REFUND_ONE_IN) == 0
        signed = -amount if refund else amount
        spend = budget.spend_account_ids[merchant.category]
        return NewEntry(
            book_id=budget.book_id,
            entry_date=day,
            description=f"{'Card refund' if refund else 'Card purchase'}: {merchant.name}",
            idempotency_key=f"card:{reference}:{self.transactions[position]:06d}",
            postings=(NewPosting(spend, signed), NewPosting(budget.card_account_id, -signed)),
            kind=EntryKind.CARD_REFUND if refund else EntryKind.CARD_PURCHASE,
            provenance=Provenance(statement, line, STATEMENT_FORMAT, IMPORTER),
            created_by="importer:prepaid-card",
        )

