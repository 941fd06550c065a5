"""Reports on a posted data set (SQLite): every budget's quarterly quality review as HTML,
one review as PDF, and the ICB's NHS England return.

    python -m benchmarks.bench_reports --set icb --quarter 2024Q2

Reads the set's posted snapshot (``benchmarks/out/db/<set>-posted.sqlite``; posting the set
through the service first if there is none). Timed, in one process, each as the scheduler
does it (one read session, one cache shared by the run):

(a) the quarterly reviews of the first 600 budgets (by holder, then reference), then of every
    budget: the view model built from the ledger and the HTML page rendered, per budget;
    ``--keep`` also times making and keeping them all in a copy of the snapshot (the
    scheduler's job, ``web.report_jobs``: build, render, compress, insert);
(b) one budget's review as PDF (build + WeasyPrint), ``--repeat`` times: the first run in the
    process (fonts loaded) and the median of the rest;
(c) the NHS England return for the set's ICB over every budget, ``--repeat`` times.

Targets (issue 13): (a) 2,500 budgets under 120 s, 600 under 60 s; (b) under 2 s; (c) under 5 s.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

from sqlalchemy import select

from benchmarks import snapshots
from benchmarks.cli import exit_cleanly_on_sigterm, parser, verdict
from benchmarks.datasets import DATA_SETS
from benchmarks.results import Recorder
from benchmarks.stores import copy_sqlite, remove_sqlite, sqlite_url
from ledger.core.periods import parse_quarter
from ledger.store.database import Database
from ledger.store.tables import Funder
from reports.branding import Branding
from reports.generate import budgets_in, make_document
from reports.params import ReportParams, quarter_period
from reports.render import render
from reports.render_html import HtmlOptions, render_html

NOW = datetime(2026, 4, 1, 6, 30, tzinfo=UTC)
TARGETS = {"reviews_600_s": 60.0, "reviews_all_s": 120.0, "one_pdf_s": 2.0, "icb_return_s": 5.0}
BRANDING = Branding()


def main(argv: list[str] | None = None) -> int:
    arguments = parser("Quarterly reviews, one PDF and the ICB return on a posted data set (SQLite).")
    arguments.add_argument("--quarter", default="2024Q2", help="the quarter reviewed (inside the set's plan period)")
    arguments.add_argument("--keep", action="store_true", help="also time making and keeping every review in a copy of the snapshot")
    arguments.add_argument("--batch-size", type=int, default=50_000, help="entries per transaction if the set must be posted first")
    args = arguments.parse_args(argv)
    exit_cleanly_on_sigterm()
    spec = DATA_SETS[args.set]
    found = snapshots.posted_snapshot(spec, args.out)
    posted_path, facts = found if found else snapshots.build_posted(spec, args.out, args.batch_size)[:2]
    period = quarter_period(parse_quarter(args.quarter))
    recorder = Recorder(args.out, "reports", {"db": "sqlite", "set": spec.name, "quarter": period.label, "entries": facts["entries"]})
    database = Database(sqlite_url(posted_path))
    results: dict[str, float] = {}
    try:
        with database.read() as session:
            budget_ids = budgets_in(session, period)
            icb_id = session.scalar(select(Funder.id).where(Funder.kind == "icb").order_by(Funder.id))
        print(f"reports on the {spec.name} set ({facts['entries']:,} entries), {len(budget_ids):,} budgets in {period.label}", flush=True)
        for label, ids in (("reviews_600_s", budget_ids[:600]), ("reviews_all_s", budget_ids)):
            seconds, html_bytes = _reviews(database, ids, period)
            results[label] = seconds
            recorder.write({"event": label, "budgets": len(ids), "seconds": round(seconds, 2), "html_bytes_median": html_bytes})
            print(f"  quarterly reviews (HTML), {len(ids):,} budgets: {seconds:.1f} s ({1000 * seconds / len(ids):.1f} ms a budget)"
                  f" — target < {TARGETS[label]:.0f} s: {verdict(seconds < TARGETS[label])}", flush=True)  # fmt: skip
        first, rest = _one_pdf(database, budget_ids[len(budget_ids) // 2], period, max(args.repeat, 2))
        results["one_pdf_s"] = max(first, rest)
        recorder.write({"event": "one_pdf", "first_s": round(first, 3), "median_s": round(rest, 3)})
        print(f"  one review as PDF: first {first:.2f} s, then median {rest:.2f} s — target < 2 s: {verdict(max(first, rest) < 2)}", flush=True)
        if icb_id is not None:
            icb = _icb_return(database, icb_id, period, args.repeat)
            results["icb_return_s"] = icb
            recorder.write({"event": "icb_return", "budgets": len(budget_ids), "median_s": round(icb, 3)})
            print(f"  NHS England return for the ICB ({len(budget_ids):,} budgets): median {icb:.2f} s — target < 5 s: {verdict(icb < 5)}", flush=True)
    finally:
        database.dispose()
    if args.keep:
        results["keep_all_s"] = _keep_all(posted_path, args.out, period, recorder)
    recorder.finish()
    return 0 if all(results.get(name, 0) < target for name, target in TARGETS.items()) else 1


def _reviews(database: Database, budget_ids: list[int], period) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    sizes = []
    cache: dict = {}
    started = perf_counter()
    with database.read() as session:
        for budget_id in budget_ids:
            document = make_document(session, "quarterly-review", ReportParams(budget_id=budget_id, period=period), now=NOW, cache=cache)
            sizes.append(len(render_html(document, BRANDING, HtmlOptions())))
    return perf_counter() - started, int(statistics.median(sizes))


def _one_pdf(database: Database, budget_id: int, period, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = perf_counter()
        with database.read() as session:
            document = make_document(session, "quarterly-review", ReportParams(budget_id=budget_id, period=period), now=NOW)
        render(document, "pdf", branding=BRANDING)
        times.append(perf_counter() - started)
    return times[0], statistics.median(times[1:])


def _icb_return(database: Database, funder_id: int, period, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = perf_counter()
        with database.read() as session:
            document = make_document(session, "nhse-return", ReportParams(funder_id=funder_id, period=period), now=NOW)
        render(document, "csv", branding=BRANDING)
        times.append(perf_counter() - started)
    return statistics.median(times)


def _keep_all(posted_path: Path, out_dir: Path, period, recorder: Recorder) -> float:  # type: ignore[no-untyped-def]
    """The scheduler's job over every budget of the quarter, on a copy of the snapshot."""
    from web.report_jobs import make_due_documents

    work = copy_sqlite(posted_path, out_dir / "db" / "reports-keep.sqlite")
    database = Database(sqlite_url(work))
    try:
        started = perf_counter()
        made = make_due_documents(database, period.ends_on + timedelta(days=7), now=NOW)
        seconds = perf_counter() - started
    finally:
        database.dispose()
        remove_sqlite(work)
    recorder.write({"event": "keep_all", "made": made.made, "by_kind": made.by_kind, "seconds": round(seconds, 2)})
    print(f"  the scheduler's job (make and keep): {made.made:,} documents {made.by_kind} in {seconds:.1f} s", flush=True)
    return seconds


if __name__ == "__main__":
    raise SystemExit(main())

