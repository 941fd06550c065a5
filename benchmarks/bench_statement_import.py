"""Statement imports through the service (parse with ``importers``, store with
``ledger.statements.storing``), on SQLite, against parsing alone in the same process.

Targets (issue 11):
- a 100,000-line prepaid-card CSV: parse + store < 10 s (and its ratio to parsing alone);
- a 100,000-transaction OFX file: < 30 s (and how much of it is ``ofxparse``);
- a 100 MB file: peak memory bounded, < 500 MB (the whole ``phb-ledger import`` process,
  its maximum resident set size as the kernel reports it).

Each store starts from a new SQLite database with one budget; the commit is inside the
timing. Medians over ``--repeat`` runs.

    python -m benchmarks.bench_statement_import --repeat 3
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from benchmarks.cli import exit_cleanly_on_sigterm, parser, verdict
from benchmarks.statement_files import ofx_card_statement, prepaid_card_csv, prepaid_card_csv_of_size
from importers import read_statement
from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core.accounts import account_ids_by_code
from ledger.statements.storing import SourceFile, store_statement
from ledger.store import migrate
from ledger.store.database import Database

LINES = 100_000
CSV_TARGET_S = 10.0
OFX_TARGET_S = 30.0
MEMORY_TARGET_MB = 500
MEMORY_FILE_BYTES = 100 * 1000 * 1000


def main(argv: list[str] | None = None) -> int:
    exit_cleanly_on_sigterm()
    arguments = parser(__doc__ or "")
    arguments.set_defaults(repeat=3)
    arguments.add_argument("--skip-memory", action="store_true", help="Do not measure the 100 MB import")
    args = arguments.parse_args(argv)
    if args.db != "sqlite":
        raise SystemExit("bench_statement_import measures SQLite only (the targets are for SQLite)")
    work = Path(tempfile.mkdtemp(prefix="bench-statements-"))

    csv_data = prepaid_card_csv(LINES)
    parse_s = _median(args.repeat, lambda: _parse(csv_data, "card.csv"))
    import_s = _median(args.repeat, lambda: _import(work, csv_data, "card.csv"))
    print(f"CSV, {LINES:,} prepaid-card lines ({len(csv_data) / 1e6:.1f} MB): parse alone {parse_s:.2f} s,"
          f" parse + store {import_s:.2f} s ({verdict(import_s < CSV_TARGET_S)} < {CSV_TARGET_S:.0f} s),"
          f" {import_s / parse_s:.1f}× parsing alone")  # fmt: skip

    ofx_data = ofx_card_statement(LINES)
    ofxparse_s = _median(args.repeat, lambda: _ofxparse_alone(ofx_data))
    ofx_parse_s = _median(args.repeat, lambda: _parse(ofx_data, "card.ofx"))
    ofx_import_s = _median(args.repeat, lambda: _import(work, ofx_data, "card.ofx"))
    print(f"OFX, {LINES:,} transactions ({len(ofx_data) / 1e6:.1f} MB): ofxparse on the cleaned file {ofxparse_s:.2f} s,"
          f" our parse (cleaning + ofxparse + checks) {ofx_parse_s:.2f} s, parse + store {ofx_import_s:.2f} s"
          f" ({verdict(ofx_import_s < OFX_TARGET_S)} < {OFX_TARGET_S:.0f} s); ofxparse is"
          f" {100 * ofxparse_s / ofx_import_s:.0f}% of the import")  # fmt: skip

    if not args.skip_memory:
        peak_mb, seconds, lines = _peak_memory_of_cli_import(work)
        print(f"memory: phb-ledger import of a {MEMORY_FILE_BYTES / 1e6:.0f} MB prepaid-card CSV ({lines:,} lines)"
              f" peaked at {peak_mb:.0f} MB resident ({verdict(peak_mb < MEMORY_TARGET_MB)} < {MEMORY_TARGET_MB} MB)"
              f" and took {seconds:.1f} s")  # fmt: skip
    return 0


def _median(repeat: int, run: Callable[[], float]) -> float:
    return statistics.median(run() for _ in range(repeat))


def _parse(data: bytes, name: str) -> float:
    began = time.perf_counter()
    parsed = read_statement(data, name)
    count = sum(1 for _ in parsed.lines)
    elapsed = time.perf_counter() - began
    assert count >= LINES, count
    return elapsed


def _ofxparse_alone(data: bytes) -> float:
    from importers import ofx_cleanup

    cleaned = ofx_cleanup.clean(data)
    from io import BytesIO

    from ofxparse import OfxParser

    began = time.perf_counter()
    for chunk in ofx_cleanup.ofxparse_inputs(cleaned):
        OfxParser.parse(BytesIO(chunk))
    return time.perf_counter() - began


def _card_account(database: Database) -> int:
    with database.write() as session:
        icb = parties.create_funder(session, parties.FunderSpec("icb", "NHS Devon ICB", "icb"))
        holder = parties.create_holder(session, parties.HolderSpec("sunrise", "Sunrise Support", "isf_provider"))
        person = parties.create_person(
            session, parties.PersonSpec("Alex Smith", date(1990, 5, 1), "learning_disability_autism"), today=date(2026, 11, 24)
        )
        budget = budgets.create_budget(
            session,
            budgets.BudgetSpec(
                reference="ISF-0001", holder_id=holder.id, person_id=person.id, lead_funder_id=icb.id,
                period_start=date(2026, 4, 1), period_end=date(2027, 3, 31),
                parts=(budgets.PartSpec("third_party", "prepaid_card"),),
            ),
        )  # fmt: skip
        return account_ids_by_code(session, [f"{budget.reference}:card"])[f"{budget.reference}:card"]


def _fresh_database(work: Path) -> tuple[Database, int]:
    path = work / f"import-{time.monotonic_ns()}.sqlite"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    return database, _card_account(database)


def _import(work: Path, data: bytes, name: str) -> float:
    database, account_id = _fresh_database(work)
    try:
        began = time.perf_counter()
        with database.write() as session:
            parsed = read_statement(data, name)
            source = SourceFile(name=name, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
            result = store_statement(session, account_id=account_id, statement=parsed, source=source, imported_by="bench")
        elapsed = time.perf_counter() - began
        assert result.new == result.lines >= LINES, result
        return elapsed
    finally:
        database.dispose()


def _peak_memory_of_cli_import(work: Path) -> tuple[float, float, int]:
    """The CLI importing a 100 MB file into a new database, in a child process of its own, so
    that its peak resident set is its own (``wait4``'s rusage)."""
    database, account_id = _fresh_database(work)
    url = str(database.engine.url)
    database.dispose()
    file = work / "big.csv"
    file.write_bytes(prepaid_card_csv_of_size(MEMORY_FILE_BYTES))
    lines = sum(1 for _ in file.open("rb")) - 1
    command = [sys.executable, "-m", "web", "import", str(file), "--account", str(account_id), "--db", url, "--json"]
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the 100 MB import failed")
    return usage.ru_maxrss / 1024, seconds, lines


if __name__ == "__main__":
    raise SystemExit(main())
