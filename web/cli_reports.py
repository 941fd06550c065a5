"""``phb-ledger report``: every report of the catalogue, in HTML, PDF, CSV or XLSX; the
versions kept; and making what the scheduler makes.

    phb-ledger report quarterly --budget ISF-0001 --quarter 2026Q1 --format pdf --output review.pdf
    phb-ledger report monitoring-return --budget DP-0001 --from 2026-04-01 --to 2026-09-30 --format xlsx
    phb-ledger report nhse-return --funder icb-devon --quarter 2026Q2 --format csv --output -
    phb-ledger report kept --budget ISF-0001
    phb-ledger report due [--run]
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger.budgets.budget import budget_by_reference, get_budget
from ledger.budgets.parties import funder_by_code, get_funder, get_holder, holder_by_code
from ledger.errors import NotFound
from ledger.reviews.report_documents import Trigger, list_documents
from ledger.store.database import Database
from reports.catalogue import REPORTS, ReportKind
from reports.generate import due_documents, generate, kept_version, make_document, render_kept
from reports.params import ReportParams, parse_period
from reports.render import MEDIA_TYPES, Format, Rendered, render
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, progress, reporting_errors, stderr, stdout
from web.clock import ENGLAND, today_in_england
from web.report_jobs import make_due_documents

report_app = typer.Typer(help="Reports: quarterly reviews, trackers, returns, statements and audit packs, in HTML, PDF, CSV or XLSX.", no_args_is_help=True)

ALIASES = {"quarterly": "quarterly-review", "tracker": "funder-tracker", "statement": "provider-statement", "easy-read": "easy-read-statement"}


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


def resolve_params(database: Database, kind: ReportKind, *, budget: str | None, holder: str | None, funder: str | None,
                   quarter: str | None, month: str | None, start: str | None, end: str | None) -> ReportParams:  # fmt: skip
    """References and codes (or ids) to the ids a report is asked for."""
    period = parse_period(quarter=quarter, month=month, starts_on=parse_date(start, "--from"), ends_on=parse_date(end, "--to"))
    with database.read() as session:
        budget_id = (get_budget(session, int(budget)) if budget.isdigit() else budget_by_reference(session, budget)).id if budget else None
        holder_id = (get_holder(session, int(holder)) if holder.isdigit() else holder_by_code(session, holder)).id if holder else None
        funder_id = (get_funder(session, int(funder)) if funder.isdigit() else funder_by_code(session, funder)).id if funder else None
    params = ReportParams(budget_id=budget_id, holder_id=holder_id, funder_id=funder_id, period=period)
    kind.check(params)
    return params


def _write(content: bytes, output: str | None, default_name: str) -> str:
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return "-"
    path = Path(output or default_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return str(path)


def _command(kind: ReportKind):  # type: ignore[no-untyped-def]
    def run(
        budget: Annotated[str | None, typer.Option("--budget", help="The budget's reference (or id)")] = None,
        holder: Annotated[str | None, typer.Option("--holder", help="The holder's code (or id)")] = None,
        funder: Annotated[str | None, typer.Option("--funder", help="The funder's code (or id)")] = None,
        quarter: Annotated[str | None, typer.Option("--quarter", help="A financial-year quarter: 2026Q1 = April to June 2026")] = None,
        month: Annotated[str | None, typer.Option("--month", help="A month: 2026-10")] = None,
        start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD), with --to")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), with --from")] = None,
        format: Annotated[Format, typer.Option("--format", help="html, pdf, csv or xlsx (and zip for the audit pack: with its evidence)")] = Format.HTML,
        output: Annotated[str | None, typer.Option("--output", "-o", help="File to write (default: a name of its own here; - for standard output)")] = None,
        keep: Annotated[bool, typer.Option("--keep", help="Keep it as a new version (beside the older ones)")] = False,
        version: Annotated[int | None, typer.Option("--version", min=1, help="Write this kept version instead of making it now")] = None,
        by: Annotated[str, typer.Option("--by", help="Who asks for it (kept with --keep)")] = "phb-ledger report",
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with reporting_errors():
            database = open_database(db)
            params = resolve_params(database, kind, budget=budget, holder=holder, funder=funder, quarter=quarter, month=month, start=start, end=end)
            now = datetime.now(ENGLAND)
            if format == Format.ZIP:
                with database.read() as session:
                    bundle = kind.build_bundle(session, params, now=now)
                rendered = Rendered(bundle, MEDIA_TYPES[Format.ZIP], f"{kind.name}-{params.key(kind.name).split('|', 1)[1].replace('|', '-').replace('=', '-')}.zip")
                made = "live"
            elif version is not None:
                with database.read() as session:
                    row = kept_version(session, kind.name, params, version)
                    if row is None:
                        raise NotFound(f"there is no version {version} of this {kind.title.lower()}", code="document_version_not_found")
                    rendered = render_kept(row, format)
                made = str(version)
            elif keep:
                with database.write() as session:
                    row = generate(session, kind.name, params, now=now, trigger=Trigger.ON_DEMAND, generated_by=by)
                    rendered = render_kept(row, format)
                made = str(row.version)
            else:
                with database.read() as session:
                    document = make_document(session, kind.name, params, now=now)
                rendered = render(document, format)
                made = "live"
            written = _write(rendered.content, output, rendered.file_name)
        if output == "-":
            return
        if as_json:
            print_json({"report": kind.name, "file": written, "format": format.value, "bytes": len(rendered.content), "version": made})
        else:
            stderr.print(f"Wrote {written} ({len(rendered.content):,} bytes, {'made now' if made == 'live' else 'version ' + made}).", highlight=False)

    run.__doc__ = f"{kind.title}: {kind.description}"
    return run


for _kind in REPORTS.values():
    report_app.command(_kind.name)(_command(_kind))
for _alias, _name in ALIASES.items():
    report_app.command(_alias, help=f"The same as '{_name}'.")(_command(REPORTS[_name]))


@report_app.command("kept")
def kept(
    kind: Annotated[str | None, typer.Option("--kind", help="Only this report")] = None,
    budget: Annotated[str | None, typer.Option("--budget")] = None,
    funder: Annotated[str | None, typer.Option("--funder")] = None,
    holder: Annotated[str | None, typer.Option("--holder")] = None,
    period: Annotated[str | None, typer.Option("--period", help="2026Q1, 2026-10, …")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The documents kept, newest first."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            budget_id = budget_by_reference(session, budget).id if budget else None
            funder_id = funder_by_code(session, funder).id if funder else None
            holder_id = holder_by_code(session, holder).id if holder else None
            kind_name = ALIASES.get(kind, kind) if kind else None
            rows = list_documents(session, kind=kind_name, budget_id=budget_id, funder_id=funder_id, holder_id=holder_id, period=period, limit=limit)
    if as_json:
        print_json([
            {"id": r.id, "kind": r.kind, "version": r.version, "title": r.title, "period": r.period, "trigger": r.trigger,
             "generated_by": r.generated_by, "generated_at": r.generated_at.isoformat(), "model_sha256": r.model_sha256}
            for r in rows
        ])  # fmt: skip
        return
    if not rows:
        stdout.print("No documents kept.")
        return
    table = Table("Id", "Report", "Version", "Title", "Made", "How")
    for r in rows:
        table.add_row(str(r.id), r.kind, str(r.version), r.title, f"{r.generated_at:%Y-%m-%d %H:%M}", r.trigger.replace("_", " "))
    stdout.print(table)


@report_app.command("due")
def due(
    run: Annotated[bool, typer.Option("--run", help="Make and keep them now (as the scheduler would)")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As if today were this day (YYYY-MM-DD)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the scheduler makes and has not yet: the last quarter's reviews and NHS England
    returns, the last month's funder trackers."""
    with reporting_errors():
        day = parse_date(as_of, "--as-of") or today_in_england()
        database = open_database(db)
        if run:
            with progress("Making documents", enabled=not as_json) as update:
                made = make_due_documents(database, day, progress=update)
        else:
            with database.read() as session:
                found = due_documents(session, day)
    if run:
        if as_json:
            print_json({"made": made.made, "by_kind": made.by_kind, "failed": made.failed})
        else:
            stdout.print(f"Made and kept {made.made} document(s): {', '.join(f'{k} {n}' for k, n in made.by_kind.items()) or 'nothing was due'}.", highlight=False)
            for failure in made.failed:
                stderr.print(f"Could not make {failure}", highlight=False)
        if made.failed:
            raise typer.Exit(1)
        return
    counts: dict[str, int] = {}
    for item in found:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    if as_json:
        print_json(counts)
    else:
        stdout.print(f"Due as at {day}: " + (", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing"), highlight=False)

