"""Balances on a posted data set: every account of every budget, and one budget at a time.

    python -m benchmarks.bench_balances --db sqlite --set reference --repeat 3

Reads the set's posted SQLite snapshot (``benchmarks/out/db/<set>-posted.sqlite``), posting
the set through the service first if there is none. On PostgreSQL the snapshot is copied
row for row into a throwaway database (``pg_clone.py``), vacuumed and analysed, and dropped
at the end.

(a) ``ledger.core.balances.all_balances``, now and as at a date, each run in a fresh child
    process doing only that, so its peak RSS is the cost of the call (plus the interpreter
    and imports); a raw ``GROUP BY`` over ``posting`` through the driver is the reference.
(b) ``ledger.core.balances.budget_balances`` for ``--budgets`` random budgets, each call in its own
    read session as a request would be, now and as at a random date in the plan period;
    a raw per-budget ``GROUP BY`` is the reference.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from random import Random
from time import perf_counter

import psycopg

from benchmarks import snapshots
from benchmarks.cli import exit_cleanly_on_sigterm, parser, verdict
from benchmarks.datasets import DATA_SETS, PERIOD_END, PERIOD_START, DataSetSpec
from benchmarks.pg_clone import clone_sqlite_to_postgres
from benchmarks.results import Recorder, Spread, percentile, spread
from benchmarks.stores import postgres_scratch, raw_sqlite, sqlite_url
from ledger.core.balances import all_balances, budget_balances, natural
from ledger.store.database import Database, ping

AS_OF = date(2024, 9, 30)
"""Mid-way through the plan period (end of Q2 of 2024/25)."""
BUDGET_SAMPLE_DEFAULT = 200
WARM_UP_CALLS = 20
TARGET_ALL_SECONDS = {"reference": 2.0, "icb": 10.0}
TARGET_ALL_PEAK_RSS_MB = 1024
TARGET_ONE_BUDGET_MS = 5.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    db: str
    url: str
    """SQLAlchemy URL, for the service."""
    connect_raw: Callable[[], object]
    """A plain driver connection, for the raw references."""
    placeholder: str


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--budgets", type=int, default=BUDGET_SAMPLE_DEFAULT, help="random budgets for the one-budget timing")
    options.add_argument("--batch-size", type=int, default=10_000, help="entries per transaction if the set must be posted first")
    options.add_argument("--child-all-balances", metavar="URL", help=argparse.SUPPRESS)
    options.add_argument("--as-of", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = options.parse_args(argv)
    if args.child_all_balances:
        return _child_all_balances(args.child_all_balances, args.as_of)
    exit_cleanly_on_sigterm()
    spec = DATA_SETS[args.set]
    found = snapshots.posted_snapshot(spec, args.out)
    posted_path, facts = found if found else snapshots.build_posted(spec, args.out, args.batch_size)[:2]
    settings = {"db": args.db, "set": spec.name, "entries": facts["entries"], "postings": facts["postings"]}
    recorder = Recorder(args.out, "balances", settings)
    try:
        with _target(args.db, posted_path) as target:
            size = f"{facts['entries']:,} entries, {facts['postings']:,} postings"
            print(f"balances of the {spec.name} set on {args.db}: {size}", flush=True)
            results = {
                **_all_balances(target, args.repeat, recorder),
                **_one_budget(target, spec, args.repeat, args.budgets, recorder),
            }
        _verdicts(spec, args.db, results, recorder, args.out)
    finally:
        recorder.finish()
    return 0


@contextmanager
def _target(db: str, posted_path: Path) -> Iterator[Target]:
    if db == "sqlite":
        yield Target(db, sqlite_url(posted_path), lambda: raw_sqlite(posted_path), "?")
        return
    with postgres_scratch() as scratch:
        name = scratch.create_migrated("balances")
        print("copying the posted set to PostgreSQL …", flush=True)
        clone_sqlite_to_postgres(posted_path, scratch.libpq_url(name))
        started = perf_counter()
        scratch.vacuum_analyze(name)
        print(f"  VACUUM ANALYZE in {perf_counter() - started:.1f} s", flush=True)
        yield Target(db, scratch.sqlalchemy_url(name), lambda: psycopg.connect(scratch.libpq_url(name), autocommit=True), "%s")


# --- (a) every account of every budget ----------------------------------------------------


def _child_all_balances(url: str, as_of: date | None) -> int:
    """Run in a child process: one ``all_balances`` call, reported as one JSON line."""
    database = Database(url)
    ping(database)
    started = perf_counter()
    with database.read() as session:
        balances = list(all_balances(session, as_of=as_of))
    seconds = perf_counter() - started
    signed_total = sum(natural(balance.type, balance.balance_pence) for balance in balances)
    database.dispose()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "accounts": len(balances), "signed_total": signed_total, "maxrss_kib": maxrss_kib}))
    return 0


def _run_child(url: str, as_of: date | None) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.bench_balances", "--child-all-balances", url]
    if as_of is not None:
        command += ["--as-of", as_of.isoformat()]
    finished = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["signed_total"] == 0, f"balances should sum to zero, got {result['signed_total']}"
    result["children_maxrss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result


def _all_balances(target: Target, repeat: int, recorder: Recorder) -> dict[str, Spread]:
    results: dict[str, Spread] = {}
    for label, as_of in (("all", None), ("all_as_of", AS_OF)):
        runs = [_run_child(target.url, as_of) for _ in range(repeat)]
        seconds = spread([run["seconds"] for run in runs])
        peak_mb = max(max(run["maxrss_kib"], run["children_maxrss_kib"]) for run in runs) / 1024
        raw = spread(_raw_all(target, as_of, repeat))
        results[label], results[f"{label}_raw"] = seconds, raw
        results[f"{label}_peak_mb"] = Spread(peak_mb, peak_mb, peak_mb, 0.0, len(runs))
        recorder.write(
            {"event": "summary", "measure": label, "as_of": as_of, "accounts": runs[0]["accounts"], "seconds": seconds,
             "peak_rss_mb": round(peak_mb, 1), "raw_group_by_seconds": raw}
        )  # fmt: skip
        print(
            f"  all_balances{' as of ' + str(as_of) if as_of else ''}: {seconds.describe(' s')}; peak RSS {peak_mb:,.0f} MB;"
            f" {runs[0]['accounts']:,} accounts; raw GROUP BY {raw.describe(' s')}",
            flush=True,
        )
    return results


def _raw_all(target: Target, as_of: date | None, repeat: int) -> list[float]:
    query = "SELECT account_id, sum(amount_pence) FROM posting"
    if as_of is not None:
        query += f" WHERE entry_date <= {target.placeholder}"
    query += " GROUP BY account_id"
    parameters = (as_of.isoformat() if target.db == "sqlite" else as_of,) if as_of else ()
    timings = []
    with closing(target.connect_raw()) as connection:
        for _ in range(repeat):
            started = perf_counter()
            connection.execute(query, parameters).fetchall()  # type: ignore[attr-defined]
            timings.append(perf_counter() - started)
    return timings


# --- (b) one budget -----------------------------------------------------------------------


def _one_budget(target: Target, spec: DataSetSpec, repeat: int, sample_size: int, recorder: Recorder) -> dict[str, Spread]:
    database = Database(target.url)
    results: dict[str, Spread] = {}
    try:
        budget_ids = _budget_ids(database)
        rng = Random(f"{spec.seed}:balances")
        sample = rng.sample(budget_ids, sample_size) if sample_size <= len(budget_ids) else rng.choices(budget_ids, k=sample_size)
        days = [PERIOD_START + timedelta(days=rng.randrange((PERIOD_END - PERIOD_START).days)) for _ in sample]
        for budget_id in rng.choices(budget_ids, k=WARM_UP_CALLS):
            _time_budget(database, budget_id, None)
        for label, dates in (("one_budget", [None] * len(sample)), ("one_budget_as_of", days)):
            rounds = [[_time_budget(database, b, d) for b, d in zip(sample, dates, strict=True)] for _ in range(repeat)]
            raw = _raw_one_budget(target, sample, dates)
            results[label] = _describe_one_budget(label, rounds, raw, recorder)
    finally:
        database.dispose()
    return results


def _budget_ids(database: Database) -> list[int]:
    with database.read() as session:
        return list(session.connection().exec_driver_sql("SELECT id FROM budget ORDER BY id").scalars())


def _time_budget(database: Database, budget_id: int, as_of: date | None) -> float:
    started = perf_counter()
    with database.read() as session:
        balances = budget_balances(session, budget_id, as_of=as_of)
    elapsed = perf_counter() - started
    assert sum(natural(b.type, b.balance_pence) for b in balances) == 0, f"budget {budget_id} does not balance"
    return elapsed


def _raw_one_budget(target: Target, sample: list[int], dates: list[date | None]) -> list[float]:
    p = target.placeholder
    timings = []
    with closing(target.connect_raw()) as connection:
        for budget_id, as_of in zip(sample, dates, strict=True):
            query = (
                "SELECT account_id, sum(amount_pence) FROM posting"
                f" WHERE account_id IN (SELECT id FROM account WHERE budget_id = {p})"
            )
            parameters: tuple = (budget_id,)
            if as_of is not None:
                query += f" AND entry_date <= {p}"
                parameters += (as_of.isoformat() if target.db == "sqlite" else as_of,)
            started = perf_counter()
            connection.execute(query + " GROUP BY account_id", parameters).fetchall()  # type: ignore[attr-defined]
            timings.append(perf_counter() - started)
    return timings


def _describe_one_budget(label: str, rounds: list[list[float]], raw: list[float], recorder: Recorder) -> Spread:
    medians_ms = spread([1000 * percentile(r, 50) for r in rounds])
    every_ms = [1000 * t for r in rounds for t in r]
    p95_ms, max_ms, raw_ms = percentile(every_ms, 95), max(every_ms), 1000 * percentile(raw, 50)
    recorder.write(
        {"event": "summary", "measure": label, "calls_per_round": len(rounds[0]), "median_ms": medians_ms,
         "p95_ms": round(p95_ms, 3), "max_ms": round(max_ms, 3), "raw_median_ms": round(raw_ms, 3)}
    )  # fmt: skip
    print(
        f"  {label}: median {medians_ms.describe(' ms')}; p95 {p95_ms:.2f} ms; max {max_ms:.2f} ms;"
        f" raw GROUP BY median {raw_ms:.2f} ms",
        flush=True,
    )
    return medians_ms


# --- targets ------------------------------------------------------------------------------


def _verdicts(spec: DataSetSpec, db: str, results: dict[str, Spread], recorder: Recorder, out_dir: Path) -> None:
    checks: dict[str, bool] = {}
    if spec.name in TARGET_ALL_SECONDS:
        checks[f"all balances < {TARGET_ALL_SECONDS[spec.name]} s"] = results["all"].median < TARGET_ALL_SECONDS[spec.name]
    if spec.name == "reference":
        checks[f"all balances peak RSS < {TARGET_ALL_PEAK_RSS_MB} MB"] = results["all_peak_mb"].median < TARGET_ALL_PEAK_RSS_MB
    checks[f"one budget median < {TARGET_ONE_BUDGET_MS} ms"] = results["one_budget"].median < TARGET_ONE_BUDGET_MS
    checks[f"one budget as of a date median < {TARGET_ONE_BUDGET_MS} ms"] = results["one_budget_as_of"].median < TARGET_ONE_BUDGET_MS
    print(f"\ntargets ({db}, {spec.name}):")
    for name, passed in checks.items():
        print(f"  {name}: {verdict(passed)}")
    recorder.write({"event": "targets", "checks": checks})
    _compare_sets(spec, db, results, out_dir)


def _compare_sets(spec: DataSetSpec, db: str, results: dict[str, Spread], out_dir: Path) -> None:
    """One budget's cost must not grow with the number of budgets: compare with the latest
    result of the other sets on the same database."""
    path = out_dir / "balances.jsonl"
    latest: dict[str, float] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("db") == db and record.get("measure") == "one_budget" and record.get("event") == "summary":
            latest[record["set"]] = record["median_ms"]["median"]
    mine = results["one_budget"].median
    for other, median_ms in sorted(latest.items()):
        if other != spec.name:
            print(f"  one budget, {spec.name} vs {other}: {mine:.2f} ms vs {median_ms:.2f} ms (× {mine / median_ms:.2f})")


if __name__ == "__main__":
    raise SystemExit(main())
