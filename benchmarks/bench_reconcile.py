"""Reconciliation through the service (``ledger.reconcile.automatic.reconcile_accounts``): 10,000,
100,000 and 1,000,000 prepaid-card lines over the 2,500 budgets of the ``icb`` set, on SQLite.

Target (issue 12): reconcile 100,000 card lines across 2,500 budgets < 10 s on SQLite, growing
close to linearly from 10k to 100k to 1M lines.

Set-up for N lines (untimed): a copy of the set's set-up snapshot (budgets agreed and funded,
nothing loaded); the drawdown service catches the cards' loads up to as many weeks as
N / budgets lines need (about ten lines a week: a load and nine purchases); then each budget
gets N / budgets card lines, seeded: its real loads (the drawdown entries' dates and
amounts, read back, each dated the same day or a day later on the card), and purchases at its
favourite merchants (``benchmarks.merchants``) with the MCCs such businesses carry (one in
15 with none; a few at betting shops 7995, off-licences 5921 and pubs 5813, so flags are
raised; one in 40 with a fee; one in 200 a refund), with running balances. Each budget's
lines are one statement import into its card account (``store_statement``), one write
transaction per holder.

Measured: ``reconcile_accounts`` over every card account of a holder, one call per holder,
each in its own ``Database.write()`` transaction (commit included), summed over the holders.
Then a second run over the same accounts, which should find nothing to do. A separate pass
times each phase (wrappers, as ``benchmarks.phases``), and ``--pyinstrument`` profiles
another.

    python -m benchmarks.bench_reconcile --set icb
    python -m benchmarks.bench_reconcile --set icb --lines 10000,100000 --pyinstrument
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from random import Random
from typing import TypeVar
from zoneinfo import ZoneInfo

from moneyed import Money
from sqlalchemy import func, select

from benchmarks.cli import exit_cleanly_on_sigterm, parser, verdict
from benchmarks.datasets import DATA_SETS, PERIOD_START, SEED, DataSetSpec, FundedBudget
from benchmarks.merchants import BUSINESS_KINDS, PLACES, Merchant, merchants
from benchmarks.phases import COMMIT, OPEN_SESSION, PHASES, PhaseTimer
from benchmarks.results import Recorder, spread
from benchmarks.snapshots import funded_budgets, setup_snapshot
from benchmarks.stores import checkpoint_sqlite, copy_sqlite, remove_sqlite, sqlite_url
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine
from ledger.core import journal
from ledger.core.money import split_pence
from ledger.flags import raising as flags
from ledger.loads.runs import post_due_drawdowns
from ledger.reconcile import automatic as reconcile
from ledger.reconcile import categorise
from ledger.reconcile.automatic import ReconcileResult, reconcile_accounts
from ledger.statements.storing import SourceFile, store_statement
from ledger.store.database import Database
from ledger.store.tables import BudgetPart, Drawdown, JournalEntry
from ledger.store.tables.flags import Flag

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # the data sets lie in the past: any later clock will do
LINE_COUNTS = (10_000, 100_000, 1_000_000)
TARGET_LINES = 100_000
TARGET_S = 10.0
LINES_PER_WEEK = 10
"""A load and nine purchases, near the data sets' 1 + 6–13 a week."""
ACTOR = "benchmark"
NO_MCC_ONE_IN = 15
FEE_ONE_IN = 40
REFUND_ONE_IN = 200
FAVOURITE_SHARE_PERCENT = 85
CARD_NUMBER = "************4821"
T = TypeVar("T")

# The MCC a card scheme gives each kind of business (ISO 18245). Several are ones the
# shipped category rules leave to a person (groceries-like shops, cafés, holiday lets).
MCC_OF_KIND = {
    "Leisure Centre": "7997", "Swimming Pool": "7997", "Climbing Wall": "7997", "Gym": "7997", "Yoga Studio": "7911",
    "Bowls Club": "7997", "Taxis": "4121", "Cabs": "4121", "Bus Station": "4131", "Railway Station": "4112",
    "Car Park": "7523", "Community Transport": "4789", "Petrol Station": "5541", "Cinema": "7832", "Bowling Alley": "7933",
    "Community Cafe": "5814", "Garden Centre": "5261", "Aquarium": "7998", "Zoo": "7998", "Museum": "7991",
    "Theatre": "7922", "Music Venue": "7929", "Farm Park": "7991", "Pottery Cafe": "7999", "Art Supplies": "5970",
    "Mobility Shop": "5047", "Hardware": "5251", "Home Store": "5712", "Sensory Toys": "5945", "Sports Shop": "5941",
    "Computer Shop": "5732", "Phone Shop": "4812", "Electronics": "5732", "Physiotherapy": "8099",
    "Massage Clinic": "8099", "Hydrotherapy Pool": "8099", "Music Therapy": "8099", "Reflexology": "8099",
    "Aromatherapy": "8099", "Counselling Service": "8099", "Wellbeing Centre": "8099", "Talking Therapies": "8099",
    "College": "8220", "Cookery School": "8299", "Driving School": "8299", "Adult Learning": "8299",
    "Holiday Cottages": "6513", "Respite Lodge": "7011", "Caravan Park": "7033", "Guest House": "7011",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FlaggedKind:
    """Purchases the spend checks flag: (name pattern, MCC, price range, one purchase in how many)."""

    name: str
    mcc: str
    low_pence: int
    high_pence: int
    one_in: int


FLAGGED_KINDS = (
    FlaggedKind("{place} Bookmakers", "7995", 500, 2_500, 1_000),  # EXCLUDED_MCC (EXCLUDED_MERCHANT with no MCC)
    FlaggedKind("{place} Wine Shop", "5921", 800, 4_000, 1_000),  # EXCLUDED_MCC
    FlaggedKind("The {place} Arms", "5813", 600, 3_500, 250),  # CHECK_VENUE: a pub visit asks for an explanation
)


@dataclass(frozen=True, slots=True)
class Load:
    on: date
    pence: int


@dataclass(slots=True)
class LineMix:
    """What a set of statement lines holds, by what reconciliation should make of it."""

    loads: int = 0
    purchases: int = 0
    refunds: int = 0
    fees: int = 0
    flagged: int = 0

    @property
    def lines(self) -> int:
        return self.loads + self.purchases + self.refunds + self.fees

    def add(self, other: LineMix) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Measured:
    lines: int
    seconds: float
    gc_seconds: float
    """Of ``seconds``, the time Python's cyclic garbage collector ran."""
    second_seconds: float
    counts: dict[str, int]
    second_counts: dict[str, int]
    flags_by_code: dict[str, int]


def main(argv: list[str] | None = None) -> int:
    exit_cleanly_on_sigterm()
    arguments = parser(__doc__ or "")
    arguments.set_defaults(repeat=1, set="icb")
    arguments.add_argument("--lines", type=_line_counts, default=LINE_COUNTS, help="line counts to measure, comma-separated")
    arguments.add_argument("--no-phases", action="store_true", help="skip the per-phase pass")
    arguments.add_argument("--pyinstrument", action="store_true", help="also profile a pass: out/reconcile-profile-<set>-<lines>.txt/.html")
    arguments.add_argument("--keep-db", action="store_true", help="keep each size's loaded database in out/db/")
    args = arguments.parse_args(argv)
    if args.db != "sqlite":
        raise SystemExit("bench_reconcile measures SQLite only (the target is for SQLite)")
    spec = DATA_SETS[args.set]
    setup_path, _ = setup_snapshot(spec, args.out)
    budgets = funded_budgets(setup_path, spec)
    recorder = Recorder(args.out, "reconcile", {"set": spec.name, "db": "sqlite", "repeat": args.repeat})
    medians: dict[int, float] = {}
    try:
        for lines in args.lines:
            medians[lines] = _measure_size(args, spec, setup_path, budgets, lines, recorder)
        _summarise(medians, recorder)
    finally:
        recorder.finish()
    return 0


def _line_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"line counts are whole numbers, comma-separated: {text!r}") from error
    if not counts or min(counts) <= 0:
        raise argparse.ArgumentTypeError("give at least one positive line count")
    return counts


def _measure_size(
    args: argparse.Namespace, spec: DataSetSpec, setup_path: Path, budgets: list[FundedBudget], lines: int, recorder: Recorder
) -> float:
    print(f"\n== {lines:,} card lines over {len(budgets):,} budgets ({spec.name} set) ==", flush=True)
    loaded = args.out / "db" / f"{spec.name}-reconcile-{lines}-loaded.sqlite"
    mix = _load(spec, setup_path, loaded, budgets, lines)
    holders = _cards_by_holder(budgets)
    work = args.out / "db" / f"{spec.name}-reconcile-run.sqlite"
    runs: list[Measured] = []
    try:
        for attempt in range(args.repeat):
            measured = _with_copy(loaded, work, lambda database: _timed_runs(database, holders))
            runs.append(measured)
            _report_run(attempt + 1, measured, mix)
            recorder.write({"event": "run", "lines": lines, "attempt": attempt + 1, "seconds": measured.seconds,
                            "lines_per_s": lines / measured.seconds, "gc_seconds": measured.gc_seconds, "second_run_seconds": measured.second_seconds,
                            "counts": measured.counts, "second_counts": measured.second_counts,
                            "flags_by_code": measured.flags_by_code, "mix": _mix_dict(mix), "checks": _checks(measured, mix)})  # fmt: skip
        times = spread([run.seconds for run in runs])
        recorder.write({"event": "summary", "lines": lines, "seconds": times, "second_run_seconds": spread([r.second_seconds for r in runs])})
        if not args.no_phases:
            timer = _with_copy(loaded, work, lambda database: _phase_pass(database, holders))
            table = _describe_phases(timer, lines)
            print("\n".join(table))
            recorder.write({"event": "phases", "lines": lines, "phases": {p.label: [round(p.seconds, 4), p.calls] for p in timer.table()}})
        if args.pyinstrument:
            stem = args.out / f"reconcile-profile-{spec.name}-{lines}"
            written = _with_copy(loaded, work, lambda database: _pyinstrument_pass(database, holders, stem))
            print(f"  pyinstrument profile: {written} (and .html)")
    finally:
        remove_sqlite(work)
        if not args.keep_db:
            remove_sqlite(loaded)
    return times.median


# --- set-up (untimed) ---------------------------------------------------------------------


def _load(spec: DataSetSpec, setup_path: Path, target: Path, budgets: list[FundedBudget], lines: int) -> LineMix:
    """Copy the set-up snapshot, post the loads the lines need, store every budget's card
    statement; returns what the lines hold."""
    per_budget = dict(zip((b.budget_id for b in budgets), split_pence(lines, len(budgets)), strict=True))
    weeks = min(max(1, math.ceil(max(per_budget.values()) / LINES_PER_WEEK)), spec.weeks)
    last_day = PERIOD_START + timedelta(weeks=weeks) - timedelta(days=1)
    copy_sqlite(setup_path, target)
    database = Database(sqlite_url(target))
    mix = LineMix()
    try:
        started = time.perf_counter()
        with database.write() as session:
            run = post_due_drawdowns(session, datetime.combine(last_day, datetime.max.time(), tzinfo=LONDON), now=NOW, created_by=ACTOR)
        print(f"  set-up: {len(run.posted):,} loads posted for {weeks} weeks in {time.perf_counter() - started:.1f} s", flush=True)
        loads = _loads_by_budget(database)
        started = time.perf_counter()
        merchant_list = merchants()
        for holder_budgets in _by_holder(budgets).values():
            with database.write() as session:
                for budget in holder_budgets:
                    budget_loads, budget_lines = loads.get(budget.budget_id, []), per_budget[budget.budget_id]
                    statement, source, budget_mix = card_statement(budget, budget_loads, budget_lines, last_day, merchant_list, lines)
                    store_statement(session, account_id=budget.card_account_id, statement=statement, source=source, imported_by=ACTOR)
                    mix.add(budget_mix)
        print(f"  set-up: {mix.lines:,} lines stored ({_describe_mix(mix)}) in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        database.dispose()
    checkpoint_sqlite(target)
    return mix


def _loads_by_budget(database: Database) -> dict[int, list[Load]]:
    """Every budget's loads as the ledger has them: the drawdown entries' dates and amounts."""
    query = (
        select(BudgetPart.budget_id, JournalEntry.entry_date, Drawdown.amount_pence)
        .join(BudgetPart, BudgetPart.id == Drawdown.budget_part_id)
        .join(JournalEntry, JournalEntry.id == Drawdown.entry_id)
        .order_by(BudgetPart.budget_id, JournalEntry.entry_date)
    )
    found: dict[int, list[Load]] = {}
    with database.read() as session:
        for budget_id, entry_date, pence in session.execute(query):
            found.setdefault(budget_id, []).append(Load(entry_date, pence))
    return found


def _by_holder(budgets: Sequence[FundedBudget]) -> dict[int, list[FundedBudget]]:
    found: dict[int, list[FundedBudget]] = {}
    for budget in budgets:
        found.setdefault(budget.book_id, []).append(budget)
    return dict(sorted(found.items()))


def _cards_by_holder(budgets: Sequence[FundedBudget]) -> dict[int, list[int]]:
    return {holder: [b.card_account_id for b in held] for holder, held in _by_holder(budgets).items()}


def card_statement(
    budget: FundedBudget, loads: list[Load], lines: int, last_day: date, merchant_list: list[Merchant], seed_lines: int
) -> tuple[ParsedStatement, SourceFile, LineMix]:
    """One budget's card statement of exactly ``lines`` lines, seeded by the budget and size."""
    rng = Random(f"{SEED}:reconcile:{seed_lines}:{budget.profile.index}")
    reference = budget.profile.reference
    loads = loads[:lines]
    rows = [(load.on + timedelta(days=rng.randrange(2)), 0, "LOAD", load.pence, "CARD LOAD", None, 0) for load in loads]
    purchases = _purchases(rng, budget, lines - len(loads), last_day, merchant_list, sum(load.pence for load in loads))
    rows.extend(purchases)
    rows.sort(key=lambda row: (row[0], row[1]))
    statement_lines, mix = _statement_lines(rows, reference)
    mix.loads = len(loads)
    raw_bytes = sum(len(line.raw) + 1 for line in statement_lines if line.part == 0)
    name = f"card-{reference}-{PERIOD_START:%Y%m%d}-{last_day:%Y%m%d}.csv"
    source = SourceFile(name, hashlib.sha256(f"{name}:{seed_lines}".encode()).hexdigest(), raw_bytes)
    statement = ParsedStatement(
        format="csv", currency="GBP", lines=statement_lines, account=AccountIdentifiers(other=f"card {CARD_NUMBER}"), layout="prepaid_card"
    )
    return statement, source, mix


Row = tuple[date, int, str, int, str, str | None, int]
"""(day, order within the day, type, signed pence, merchant, MCC, fee pence)."""


def _purchases(rng: Random, budget: FundedBudget, lines: int, last_day: date, merchant_list: list[Merchant], loaded_pence: int) -> list[Row]:
    """Purchases filling ``lines`` lines (a purchase with a fee takes two); together 85–102 %
    of what was loaded; one in ``REFUND_ONE_IN`` a refund of an earlier purchase."""
    span = (last_day - PERIOD_START).days + 1
    picks: list[tuple[date, str, str | None, int, int, bool]] = []
    left = lines
    while left > 0:
        name, mcc, low, high = _merchant(rng, budget, merchant_list)
        with_fee = left >= 2 and rng.randrange(FEE_ONE_IN) == 0
        picks.append((PERIOD_START + timedelta(days=rng.randrange(span)), name, mcc, low, high, with_fee))
        left -= 2 if with_fee else 1
    picks.sort(key=lambda pick: pick[0])
    target = loaded_pence * rng.randint(85, 102) // 100
    amounts = split_pence(max(target, len(picks)), [rng.randint(low, high) for _, _, _, low, high, _ in picks]) if picks else []
    rows: list[Row] = []
    bought: list[Row] = []
    for order, ((day, name, mcc, _, _, with_fee), pence) in enumerate(zip(picks, amounts, strict=True), 1):
        fee = rng.randrange(20, 100) if with_fee else 0
        if bought and not with_fee and rng.randrange(REFUND_ONE_IN) == 0:
            _, _, _, spent, name, mcc, _ = bought[rng.randrange(len(bought))]
            rows.append((day, order, "REFUND", -spent, name, mcc, 0))
        else:
            rows.append((day, order, "PURCHASE", -max(pence, 1), name, mcc, fee))
            bought.append(rows[-1])
    return rows


def _merchant(rng: Random, budget: FundedBudget, merchant_list: list[Merchant]) -> tuple[str, str | None, int, int]:
    """Where a purchase was made: the name as the card shows it, its MCC (or none) and price range."""
    for kind in FLAGGED_KINDS:
        if rng.randrange(kind.one_in) == 0:
            name, mcc, low, high = kind.name.format(place=rng.choice(PLACES)), kind.mcc, kind.low_pence, kind.high_pence
            break
    else:
        favourites = budget.profile.favourite_merchants
        index = rng.choice(favourites) if rng.randrange(100) < FAVOURITE_SHARE_PERCENT else rng.randrange(len(merchant_list))
        merchant = merchant_list[index]
        name, low, high = merchant.name, merchant.low_pence, merchant.high_pence
        mcc = MCC_OF_KIND[BUSINESS_KINDS[index % len(BUSINESS_KINDS)].name]
    return name.upper(), None if rng.randrange(NO_MCC_ONE_IN) == 0 else mcc, low, high


def _statement_lines(rows: list[Row], reference: str) -> tuple[list[StatementLine], LineMix]:
    """The rows as an importer would hand them over: running balances, a fee as a second
    line (part 1) of its row, the CSV text of each row."""
    mix = LineMix()
    balance = 0
    found: list[StatementLine] = []
    flagged_mccs = {kind.mcc for kind in FLAGGED_KINDS}
    for number, (day, _, kind, pence, name, mcc, fee) in enumerate(rows, 1):
        balance += pence - fee
        bank_id = f"{reference}-{number:06d}"
        description = name if kind == "LOAD" else f"{kind} {name}"
        raw = (f"{bank_id},{day:%d/%m/%Y},{CARD_NUMBER},{name},{description},{mcc or ''},{kind},{_pounds(pence)},"
               f"{_pounds(fee) if fee else ''},GBP,{_pounds(balance)}")  # fmt: skip
        line = StatementLine(
            line_no=number + 1, posted_on=day, amount=Money(_pounds(pence), "GBP"), description=description,
            payee=None if kind == "LOAD" else name, mcc=mcc, bank_id=bank_id,
            balance=None if fee else Money(_pounds(balance), "GBP"), kind=kind, raw=raw,
        )  # fmt: skip
        found.append(line)
        if kind == "REFUND":
            mix.refunds += 1
        elif kind == "PURCHASE":
            mix.purchases += 1
            mix.flagged += mcc in flagged_mccs
        if fee:
            mix.fees += 1
            found.append(
                StatementLine(
                    line_no=number + 1, posted_on=day, amount=Money(_pounds(-fee), "GBP"), description=f"Fee: {description}",
                    bank_id=bank_id, balance=Money(_pounds(balance), "GBP"), kind=kind, is_fee=True, part=1, raw=raw,
                )  # fmt: skip
            )
    return found, mix


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


# --- the measured runs ----------------------------------------------------------------------


def _with_copy(loaded: Path, work: Path, run: Callable[[Database], T]) -> T:
    copy_sqlite(loaded, work)
    database = Database(sqlite_url(work))
    try:
        return run(database)
    finally:
        database.dispose()
        remove_sqlite(work)


class CollectorTime:
    """How long Python's cyclic garbage collector ran while installed (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    @contextmanager
    def installed(self) -> Iterator[CollectorTime]:
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


def _reconcile_all(database: Database, holders: dict[int, list[int]]) -> tuple[float, float, Counter[str]]:
    """One ``reconcile_accounts`` call per holder, each in its own write transaction
    (commit included); the summed time, the collector's part of it, and the counts."""
    seconds = 0.0
    counts: Counter[str] = Counter()
    with CollectorTime().installed() as collector:
        for account_ids in holders.values():
            started = time.perf_counter()
            with database.write() as session:
                result = reconcile_accounts(session, account_ids, actor=ACTOR)
            seconds += time.perf_counter() - started
            counts.update(_counts(result))
    return seconds, collector.seconds, counts


def _counts(result: ReconcileResult) -> dict[str, int]:
    return {name: value for name, value in result.as_dict().items() if isinstance(value, int)}


def _timed_runs(database: Database, holders: dict[int, list[int]]) -> Measured:
    seconds, gc_seconds, counts = _reconcile_all(database, holders)
    second_seconds, _, second_counts = _reconcile_all(database, holders)
    with database.read() as session:
        by_code = dict(session.execute(select(Flag.code, func.count()).group_by(Flag.code).order_by(Flag.code)).all())
    return Measured(counts["lines_seen"], seconds, gc_seconds, second_seconds, dict(counts), dict(second_counts), by_code)


def _checks(measured: Measured, mix: LineMix) -> dict[str, bool]:
    counts = measured.counts
    return {
        "lines_seen == lines stored": counts["lines_seen"] == mix.lines,
        "matched_existing == loads": counts["matched_existing"] == mix.loads,
        "posted_spend == purchases": counts["posted_spend"] == mix.purchases,
        "posted_refunds == refunds": counts["posted_refunds"] == mix.refunds,
        "posted_fees == fees": counts["posted_fees"] == mix.fees,
        "nothing unmatched": counts["unmatched"] == 0,
        "flags_raised > 0": counts["flags_raised"] > 0,
        "second run: nothing to do": measured.second_counts.get("lines_seen", 0) == 0 and measured.second_counts.get("matched", 0) == 0,
    }


def _report_run(attempt: int, measured: Measured, mix: LineMix) -> None:
    counts = measured.counts
    print(f"run {attempt}: {measured.lines:,} lines reconciled in {measured.seconds:.2f} s = {measured.lines / measured.seconds:,.0f} lines/s"
          f" ({1e6 * measured.seconds / max(measured.lines, 1):.1f} µs a line; of it the garbage collector {measured.gc_seconds:.2f} s);"
          f" second run (nothing to do) {measured.second_seconds:.2f} s")  # fmt: skip
    shown = ("matched", "matched_existing", "posted_spend", "posted_refunds", "posted_fees", "uncategorised", "unmatched", "flags_raised")
    print("  counts: " + ", ".join(f"{name} {counts.get(name, 0):,}" for name in shown))
    print(f"  lines stored: {_describe_mix(mix)}")
    print("  flags by code: " + ", ".join(f"{code} {count:,}" for code, count in measured.flags_by_code.items()))
    failed = [name for name, passed in _checks(measured, mix).items() if not passed]
    print("  checks: " + ("all hold" if not failed else "FAILED: " + "; ".join(failed)))
    if failed:
        print(f"  second run counts: {measured.second_counts}")


def _describe_mix(mix: LineMix) -> str:
    return (f"{mix.loads:,} loads, {mix.purchases:,} purchases ({mix.flagged:,} at betting shops, off-licences or pubs),"
            f" {mix.refunds:,} refunds, {mix.fees:,} fees")  # fmt: skip


def _mix_dict(mix: LineMix) -> dict[str, int]:
    return {name: getattr(mix, name) for name in mix.__slots__}  # type: ignore[attr-defined]


# --- where the time goes --------------------------------------------------------------------

# (owner, attribute, label): module functions are looked up by name when called, so swapping
# the module's attribute times every call; ``post_entries`` and ``lock_book`` are timed where
# ``ledger.reconcile.automatic`` imported them, the journal's own phases as ``benchmarks.phases`` does.
RECONCILE_PHASES = (
    (reconcile, "lock_book", "reconcile: lock book"),
    (reconcile, "scope_of", "reconcile: scopes of the accounts"),
    (reconcile, "unmatched_lines", "reconcile: read unmatched lines"),
    (reconcile, "unmatched_candidates", "reconcile: read ledger candidates (card postings)"),
    (reconcile, "locked_through", "reconcile: read reconciliation locks"),
    (reconcile, "_reconcile_holder", "reconcile: per-line loop (own time)"),
    (reconcile, "_decide", "reconcile: decide a line (own time)"),
    (reconcile._Pool, "closest", "reconcile: closest ledger entry by amount"),
    (reconcile, "_budget_account", "reconcile: spend, refund or fee (own time)"),
    (categorise.Categoriser, "__init__", "categorise: load the holder's rules"),
    (categorise.Categoriser, "categorise", "categorise: choose a category"),
    (reconcile, "_post_and_record", "reconcile: post and record (own time)"),
    (reconcile, "_refund_categories", "reconcile: refund categories"),
    (reconcile, "_generations", "reconcile: earlier generations (SELECT matches)"),
    (reconcile, "_posting_accounts", "reconcile: posting accounts"),
    (reconcile, "_entry_for", "reconcile: build NewEntry"),
    (reconcile, "post_entries", "journal: post_entries (own time)"),
    (reconcile, "record_matches", "reconcile: insert matches, parts, categorisations"),
    (flags, "raise_flags", "flags: raise_flags (own time)"),
    (flags, "_spend_lines", "flags: read spend lines"),
    (flags, "_line_flags", "flags: line rules (MCC, merchant, large)"),
    (flags, "_duplicate_flags", "flags: duplicate spend"),
    (flags, "spend_posting_flags", "flags: spend postings (uncategorised, out of plan)"),
    (flags, "contingency_flags", "flags: contingency"),
    (flags, "surplus_flags", "flags: surplus (holder positions)"),
    (flags, "review_flags", "flags: reviews due"),
    (flags, "balance_flags", "flags: statement balances"),
    (flags, "store_flags", "flags: insert flags and events"),
) + tuple((module, name, f"journal: {label}") for module, name, label in PHASES if (module, name) != (journal, "post_entries"))


@contextmanager
def _phases_installed(timer: PhaseTimer) -> Iterator[PhaseTimer]:
    present = [(owner, name, label) for owner, name, label in RECONCILE_PHASES if name in vars(owner)]
    for owner, name, _ in RECONCILE_PHASES:
        if name not in vars(owner):
            print(f"  (phase {getattr(owner, '__name__', owner)}.{name} no longer exists; not timed)")
    originals = [(owner, name, vars(owner)[name]) for owner, name, _ in present]
    try:
        for owner, name, label in present:
            setattr(owner, name, timer._wrap(label, vars(owner)[name], by_table=name == "insert_rows"))
        yield timer
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def _phase_pass(database: Database, holders: dict[int, list[int]]) -> PhaseTimer:
    timer = PhaseTimer()
    with _phases_installed(timer):
        for account_ids in holders.values():
            started = time.perf_counter()
            with database.write() as session:
                opened = time.perf_counter()
                timer._wrap("reconcile: reconcile_accounts (own time)", reconcile_accounts, by_table=False)(session, account_ids, actor=ACTOR)
                done = time.perf_counter()
            timer.add(OPEN_SESSION, opened - started)
            timer.add(COMMIT, time.perf_counter() - done)
    return timer


def _describe_phases(timer: PhaseTimer, lines: int) -> list[str]:
    total = sum(timer.seconds.values())
    shown = [f"where the time goes ({lines:,} lines; own time of each phase, timing wrappers add ~1 µs a call):",
             f"  {'phase':<72} {'s':>8} {'%':>6} {'µs/line':>8} {'calls':>9}"]  # fmt: skip
    for phase in timer.table():
        shown.append(f"  {phase.label:<72} {phase.seconds:8.3f} {100 * phase.seconds / total:6.1f} {1e6 * phase.seconds / lines:8.2f} {phase.calls:9,d}")
    shown.append(f"  {'total':<72} {total:8.3f} {100.0:6.1f} {1e6 * total / lines:8.2f}")
    return shown


def _pyinstrument_pass(database: Database, holders: dict[int, list[int]], out_stem: Path) -> Path:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    for account_ids in holders.values():
        profiler.start()
        with database.write() as session:
            reconcile_accounts(session, account_ids, actor=ACTOR)
        profiler.stop()
    text_path = out_stem.with_suffix(".txt")
    text_path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    out_stem.with_suffix(".html").write_text(profiler.output_html())
    return text_path


# --- verdict --------------------------------------------------------------------------------


def _summarise(medians: dict[int, float], recorder: Recorder) -> None:
    print()
    for lines, seconds in sorted(medians.items()):
        print(f"{lines:>9,} lines: {seconds:7.2f} s, {lines / seconds:9,.0f} lines/s, {1e6 * seconds / lines:6.1f} µs a line")
    sizes = sorted(medians)
    growth = {f"{a}->{b}": medians[b] / medians[a] for a, b in zip(sizes, sizes[1:])}
    for (a, b), factor in zip(zip(sizes, sizes[1:]), growth.values()):
        print(f"growth {a:,} → {b:,} lines (×{b / a:g}): time ×{factor:.2f} (linear would be ×{b / a:g})")
    if TARGET_LINES in medians:
        seconds = medians[TARGET_LINES]
        print(f"target: {TARGET_LINES:,} lines across 2,500 budgets in {seconds:.2f} s ({verdict(seconds < TARGET_S)} < {TARGET_S:.0f} s)")
        recorder.write({"event": "targets", "lines": TARGET_LINES, "seconds": seconds, "passed": seconds < TARGET_S})
    recorder.write({"event": "growth", "medians": medians, "growth": growth})


if __name__ == "__main__":
    raise SystemExit(main())
