"""The ``phb-ledger`` command line (DESIGN.md §5).

Every command takes ``--json``. Commands that change something print one JSON object
counting what they did; listing commands print a JSON array. On error a command prints a
one-line reason to stderr and exits non-zero. Long work shows a progress bar on a terminal.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core import balances
from ledger.core.money import format_amount, format_gbp
from ledger.core.verify import verify as verify_ledger
from ledger.store import migrate
from ledger.store.database import Database
from web import cli_budget_money, cli_closing, cli_import, cli_payables, cli_receipts, cli_reconcile, cli_reports, cli_reviews, cli_users
from web.cli_common import (
    DbOption,
    JsonOption,
    stderr,
    stdout,
)
from web.cli_common import (
    open_database as _open,
)
from web.cli_common import (
    parse_date as _parse_date,
)
from web.cli_common import (
    print_json as _print_json,
)
from web.cli_common import (
    progress as _progress,
)
from web.cli_common import (
    reporting_errors as _reporting_errors,
)
from web.cli_drawdown import drawdown_app
from web.limits import DEFAULT_WORKER_THREADS

app = typer.Typer(
    name="phb-ledger",
    help="A double-entry ledger for NHS personal health budgets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(drawdown_app, name="drawdown")
for area in (cli_receipts, cli_payables, cli_budget_money, cli_closing, cli_reviews, cli_import, cli_reconcile, cli_reports, cli_users):
    area.register(app)

DEMO_DATABASE = Path("var") / "phb-ledger-demo.db"


def main() -> None:
    """Entry point of the console script."""
    app()


@app.command()
def serve(
    db: DbOption = None,
    demo: Annotated[bool, typer.Option("--demo", help=f"Serve a fresh demo database ({DEMO_DATABASE}) unless --db is given")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    scheduler: Annotated[bool, typer.Option(help="Run the scheduler (card loads when due); one process at a time does")] = True,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Requests whose database work runs at once")] = DEFAULT_WORKER_THREADS,
) -> None:
    """Run the web app, the JSON API and the scheduler."""
    import uvicorn

    from web.app import create_app

    with _reporting_errors():
        url = db
        if demo:
            url = db or f"sqlite:///{DEMO_DATABASE}"
            if db is None:
                _remove_sqlite_file(DEMO_DATABASE)
            database = _open(url)
            summary = _load_demo(database, show_progress=True)
            stderr.print(f"Demo loaded: {summary.budgets} budgets, {summary.entries} entries.", highlight=False)
        else:
            database = _open(url)
        stderr.print(
            f"phb-ledger on http://{host}:{port}/ — API at /api/v1/, documentation at /api/v1/docs ({database.dialect})",
            highlight=False,
        )
        from ledger.demo.users import DEMO_USERS

        application = create_app(database, run_scheduler=scheduler, demo_users=DEMO_USERS if demo else (), worker_threads=threads)
    _log_to_stderr("phb_ledger")
    # Forwarded headers are read by the app, from the proxies PHB_LEDGER_TRUSTED_PROXIES names
    # only (web.trusted_proxies); uvicorn's own reading would trust 127.0.0.1 by default.
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=False)


def _log_to_stderr(name: str) -> None:
    """The service's own log lines (the scheduler's) beside uvicorn's."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _remove_sqlite_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _load_demo(database: Database, *, show_progress: bool, today: date | None = None):  # type: ignore[no-untyped-def]
    from ledger.demo import load_demo
    from web.clock import today_in_england

    with _progress("Loading demo", enabled=show_progress) as update:
        return load_demo(database, today=today or today_in_england(), progress=lambda _stage, done, total: update(done, total))


@app.command()
def demo(
    db: DbOption = None,
    today: Annotated[str | None, typer.Option(help="Pretend today is this date (YYYY-MM-DD)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Load the demo data set into an empty database."""
    with _reporting_errors():
        database = _open(db)
        summary = _load_demo(database, show_progress=not as_json, today=date.fromisoformat(today) if today else None)
    counts = {name: getattr(summary, name) for name in summary.__dataclass_fields__}
    if as_json:
        _print_json(counts)
    else:
        stdout.print(", ".join(f"{value} {name}" for name, value in counts.items()), highlight=False)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Bring the database schema up to date."""
    with _reporting_errors():
        database = Database(db)
        before = migrate.current_revision(database)
        migrate.upgrade(database)
        after = migrate.current_revision(database)
    if as_json:
        _print_json({"from": before, "to": after, "upgraded": before != after})
    else:
        stdout.print(f"Schema at {after}" + ("" if before != after else " (already up to date)"), highlight=False)


@app.command()
def verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check every ledger invariant and every book's hash chain. Exits 1 if anything is wrong."""
    with _reporting_errors():
        database = _open(db)
        with database.read() as session, _progress("Verifying", enabled=not as_json) as update:
            problems = verify_ledger(session, progress=lambda done: update(done, None))
    if as_json:
        _print_json({"ok": not problems, "problems": [asdict(problem) for problem in problems]})
    elif problems:
        for problem in problems:
            stdout.print(str(problem), markup=False, highlight=False)
        stdout.print(f"{len(problems)} problem(s) found.", highlight=False)
    else:
        stdout.print("The ledger verifies: every entry balances and every hash chain is intact.", highlight=False)
    if problems:
        raise typer.Exit(1)


@app.command("budgets")
def list_budgets(
    db: DbOption = None,
    holder: Annotated[str | None, typer.Option(help="Only this holder's budgets (its code)")] = None,
    as_json: JsonOption = False,
) -> None:
    """List budgets."""
    with _reporting_errors():
        database = _open(db)
        with database.read() as session:
            holder_id = parties.holder_by_code(session, holder).id if holder else None
            holders = {h.id: h.code for h in parties.list_holders(session)}
            rows = [
                {
                    "id": b.id,
                    "reference": b.reference,
                    "holder": holders[b.holder_id],
                    "period_start": b.period_start.isoformat(),
                    "period_end": b.period_end.isoformat(),
                    "status": b.status,
                }
                for b in budgets.list_budgets(session, holder_id=holder_id)
            ]
    if as_json:
        _print_json(rows)
        return
    table = Table("Reference", "Holder", "Plan period", "Status")
    for row in rows:
        table.add_row(row["reference"], row["holder"], f"{row['period_start']} to {row['period_end']}", row["status"])
    stdout.print(table)


@app.command("accounts")
def list_accounts(
    db: DbOption = None,
    budget: Annotated[str | None, typer.Option(help="Only this budget's accounts (its reference)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Balances as at this date (YYYY-MM-DD)")] = None,
    as_json: JsonOption = False,
) -> None:
    """List accounts with their balances."""
    with _reporting_errors():
        day = _parse_date(as_of, "--as-of")
        database = _open(db)
        with database.read() as session:
            if budget:
                rows = balances.budget_balances(session, budgets.budget_by_reference(session, budget).id, as_of=day)
            else:
                rows = list(balances.all_balances(session, as_of=day))
    if as_json:
        _print_json(
            [{"account": r.code, "kind": r.kind, "type": r.type, "balance": format_amount(r.balance_pence)} for r in rows]
        )
        return
    table = Table("Account", "Type", "Balance", title=f"Balances as at {day}" if day else "Balances")
    for row in rows:
        table.add_row(row.code, row.type, format_gbp(row.balance_pence), style="dim" if row.balance_pence == 0 else None)
    stdout.print(table)
