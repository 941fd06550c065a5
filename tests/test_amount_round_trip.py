"""Amounts survive every hop exactly: typed text → pence → database → JSON → pence again.

DESIGN.md §2: amounts are integer pence inside, decimal strings in JSON, and never a float.
Each hop has its own way to lose a penny — a float in a parser, a DECIMAL stored as a float
by SQLite, a JSON number — so this follows 10,000 random amounts (research/reliability.md
goal 19) through all of them on both databases: typed as people type them (with and without
£, with and without thousands commas, signs before or after the £, short forms such as
``£12`` and ``12.5``), parsed by ``ledger.core.money.parse_amount``, turned into pence, posted as
journal entries in batches (large enough, on PostgreSQL, to take the COPY path as well as
the INSERT one), read back from the journal rows and the balances, sent through JSON as
``format_amount`` strings, and parsed again. Every amount must come back as the same pence.

The split rule (``split_pence``) is covered in ``test_money.py``; the tests at the end add
what that file does not: 1,000-way splits of wholes smaller than 1,000p, weighted splits
over 1,000 pence-sized weights, and ``split`` on parsed ``Money``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import pytest

from ledger.core import journal, money
from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal_rows import load_entries
from ledger.store.database import Database
from tests.support.builders import make_world

AMOUNT_COUNT = 10_000
SEED = 20_261_124
LARGEST_PENCE = 1_000_000_000  # £10,000,000.00
BATCH_SIZES = (1, 999, 2_000, 2_500, 4_500)
"""Batches of entries posted in one call. On PostgreSQL a batch of 2,000 rows or more goes
through COPY; the smaller ones through INSERT."""
EDGE_PENCE = (1, 9, 10, 99, 100, 101, 999, 1_000, 99_999, 100_000, 123_456_789, LARGEST_PENCE - 1, LARGEST_PENCE)


@dataclass(frozen=True)
class TypedAmount:
    pence: int
    text: str


def random_pence(rng: random.Random) -> int:
    """Log-uniform magnitude from 1p to £10m (as many 2-digit amounts as 9-digit ones), with
    a random sign."""
    digits = rng.randint(1, 10)
    magnitude = min(rng.randint(10 ** (digits - 1), 10**digits - 1), LARGEST_PENCE)
    return magnitude if rng.random() < 0.5 else -magnitude


def typed(pence: int, rng: random.Random) -> str:
    """``pence`` written the way a person or a spreadsheet might write it. Written here from
    scratch, not with ``ledger.core.money``'s formatters, so a shared mistake cannot cancel out."""
    pounds, pennies = divmod(abs(pence), 100)
    whole = f"{pounds:,}" if rng.random() < 0.5 else str(pounds)
    if pennies == 0 and rng.random() < 0.3:
        fraction = ""  # "£12"
    elif pennies % 10 == 0 and rng.random() < 0.3:
        fraction = f".{pennies // 10}"  # "12.5"
    else:
        fraction = f".{pennies:02d}"
    if pounds == 0 and fraction and rng.random() < 0.2:
        whole = ""  # ".05"
    pound_sign = rng.random() < 0.5
    body = whole + fraction
    if pence < 0:
        text = rng.choice(["-£", "£-"]) + body if pound_sign else "-" + body
    else:
        text = rng.choice(["", "", "+"]) + ("£" if pound_sign else "") + body
    if not pound_sign and rng.random() < 0.1:
        text = rng.choice([f"GBP {text}", f"{text} GBP", f"gbp{text}"])
    return rng.choice(["", " ", "  "]) + text + rng.choice(["", " ", "\t"])


def typed_amounts() -> list[TypedAmount]:
    rng = random.Random(SEED)
    edges = [sign * pence for pence in EDGE_PENCE for sign in (1, -1)]
    amounts = edges + [random_pence(rng) for _ in range(AMOUNT_COUNT - len(edges))]
    return [TypedAmount(pence, typed(pence, rng)) for pence in amounts]


TYPED = typed_amounts()


def test_the_sample_covers_what_it_claims() -> None:
    assert len(TYPED) == AMOUNT_COUNT
    magnitudes = [abs(a.pence) for a in TYPED]
    assert min(magnitudes) == 1 and max(magnitudes) == LARGEST_PENCE
    assert sum(a.pence < 0 for a in TYPED) > AMOUNT_COUNT // 3 and sum(a.pence > 0 for a in TYPED) > AMOUNT_COUNT // 3
    for pattern in ("£", ",", "-£", "£-", "+", "GBP", "."):
        assert sum(pattern in a.text for a in TYPED) > 100, pattern
    assert any("." not in a.text for a in TYPED), "whole pounds typed without pence"
    assert all(isinstance(a.pence, int) for a in TYPED)


def test_typed_text_parses_to_the_same_pence() -> None:
    for amount in TYPED:
        parsed = money.parse_amount(amount.text)
        assert parsed.currency.code == "GBP"
        assert money.to_pence(parsed) == amount.pence, amount


def batches(items: list[TypedAmount]) -> Iterator[list[TypedAmount]]:
    assert sum(BATCH_SIZES) == len(items)
    start = 0
    for size in BATCH_SIZES:
        yield items[start : start + size]
        start += size


def test_amounts_round_trip_through_the_database_and_json(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        cash = world.account_id(session, "cash")
        receivable = world.account_id(session, "receivable:icb-devon")
    with db.read() as session:
        cash_before = signed_sums(session, [cash]).get(cash, 0)
        receivable_before = signed_sums(session, [receivable]).get(receivable, 0)

    entry_ids: list[int] = []
    for batch_number, batch in enumerate(batches(TYPED)):
        entries = []
        for index, amount in enumerate(batch):
            pence = money.to_pence(money.parse_amount(amount.text))
            entries.append(
                NewEntry(
                    book_id=world.holder.id,
                    entry_date=date(2026, 4, 1 + index % 28),
                    description=f"Typed as {amount.text.strip()}",
                    idempotency_key=f"round-trip-{batch_number}-{index}",
                    postings=(NewPosting(cash, pence), NewPosting(receivable, -pence)),
                    kind="transfer",
                )
            )
        with db.write() as session:
            results = journal.post_entries(session, entries)
        assert all(result.outcome is PostOutcome.CREATED for result in results)
        entry_ids += [result.entry.id for result in results]

    with db.read() as session:
        stored = load_entries(session, entry_ids)
        sums = signed_sums(session, [cash, receivable])
    total = sum(amount.pence for amount in TYPED)
    assert sums[cash] - cash_before == total
    assert sums[receivable] - receivable_before == -total

    for entry_id, amount in zip(entry_ids, TYPED, strict=True):
        postings = {posting.account_id: posting.amount_pence for posting in stored[entry_id].postings}
        read_back = postings[cash]
        assert type(read_back) is int and read_back == amount.pence and postings[receivable] == -amount.pence
        body = json.dumps({"amount": money.format_amount(read_back)})
        sent = json.loads(body)["amount"]
        assert isinstance(sent, str), f"JSON carries amounts as strings, not numbers: {body}"
        assert money.to_pence(money.parse_amount(sent)) == amount.pence, (amount, body)


# --- splitting: what test_money.py leaves out -------------------------------------------------


def test_a_thousand_way_split_of_fewer_than_a_thousand_pence_gives_the_pennies_to_the_first_parts() -> None:
    for whole in [*range(-999, 1_000, 37), 1, -1, 999, -999, 0]:
        parts = money.split_pence(whole, 1_000)
        sign = -1 if whole < 0 else 1
        assert parts == [sign] * abs(whole) + [0] * (1_000 - abs(whole))
        assert sum(parts) == whole


def test_weighted_splits_over_a_thousand_pence_sized_weights_sum_to_the_whole() -> None:
    """E.g. one payroll payment split over 1,000 budgets in proportion to their allocations."""
    rng = random.Random(SEED)
    for _ in range(40):
        whole = rng.randint(-money.AMOUNT_PENCE_MAX, money.AMOUNT_PENCE_MAX)
        weights = [rng.choice([0, rng.randint(1, 100), rng.randint(1, money.AMOUNT_PENCE_MAX)]) for _ in range(1_000)]
        weights[rng.randrange(1_000)] = rng.randint(1, money.AMOUNT_PENCE_MAX)  # not all zero
        parts = money.split_pence(whole, weights)
        assert sum(parts) == whole
        total_weight = sum(weights)
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - Fraction(whole * weight, total_weight)) < 1
            if weight == 0:
                assert part == 0


@pytest.mark.parametrize("by", [2, 3, 7, [1, 1, 1], [5_200_000, 2_000_000], [9_999, 1, 0]])
def test_splitting_parsed_money_sums_to_the_parsed_whole(by: int | list[int]) -> None:
    for amount in TYPED[::10]:
        whole = money.parse_amount(amount.text)
        parts = money.split(whole, by)
        assert sum((money.to_pence(part) for part in parts), 0) == amount.pence
        assert all(part.currency == whole.currency for part in parts)
