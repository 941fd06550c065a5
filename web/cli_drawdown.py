"""``phb-ledger drawdown``: post the card loads that are due, and show a budget's schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core.money import format_amount, format_gbp, parse_amount, to_pence
from ledger.errors import LedgerError
from ledger.loads.offsets import offset_against_loads
from ledger.loads.runs import DrawdownRun, budget_schedule, post_due_drawdowns
from ledger.loads.schedule import due_at
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, reporting_errors, stdout

LONDON = ZoneInfo("Europe/London")

drawdown_app = typer.Typer(help="Card loads (drawdowns): post what is due, show a schedule.", no_args_is_help=True)


def as_of_moment(day: date | None, now: datetime) -> datetime:
    """``--as-of DAY`` means every load due on or before DAY, whatever its time: the end of
    DAY in England, but never later than now (a load is never made before it is due)."""
    if day is None:
        return now
    if day > now.astimezone(LONDON).date():
        raise LedgerError(f"--as-of {day} is after today: loads are made when they are due, never before")
    end_of_day = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=LONDON) - timedelta(microseconds=1)
    return min(end_of_day.astimezone(UTC), now)


@drawdown_app.command("run")
def run(
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Post loads due up to this date (YYYY-MM-DD; default now)")] = None,
    holder: Annotated[str | None, typer.Option(help="Only this holder's budgets (its code)")] = None,
    budget: Annotated[str | None, typer.Option(help="Only this budget (its reference)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Post every card load due up to --as-of that has not been made, exactly once.

    Safe to run again, from cron or by hand, while the scheduler runs: nothing is ever loaded twice.
    """
    with reporting_errors():
        day = parse_date(as_of, "--as-of")
        database = open_database(db)
        with database.write() as session:
            holder_id = parties.holder_by_code(session, holder).id if holder else None
            budget_id = budgets.budget_by_reference(session, budget).id if budget else None
            result = post_due_drawdowns(
                session, as_of_moment(day, datetime.now(UTC)), holder_id=holder_id, budget_id=budget_id, created_by="cli"
            )
    if as_json:
        print_json(run_as_json(result))
        return
    budgets_loaded = len({load.budget_reference for load in result.posted})
    stdout.print(
        f"Posted {len(result.posted)} load(s), {format_gbp(result.total_pence)}, for {budgets_loaded} budget(s),"
        f" due up to {result.as_of.astimezone(LONDON):%d %b %Y %H:%M}.",
        highlight=False,
    )
    for held in result.held:
        stdout.print(f"Held: {held.budget_reference} load for {held.period_starts_on} ({format_gbp(held.amount_pence)}): {held.reason}", highlight=False)
    for low in result.low_cash:
        stdout.print(f"Low cash: {low.budget_reference} held funds are {format_gbp(low.cash_pence)} (its funder has not paid yet)", highlight=False)


def run_as_json(result: DrawdownRun) -> dict[str, Any]:
    return {
        "as_of": result.as_of.isoformat(),
        "parts_checked": result.parts_checked,
        "posted": len(result.posted),
        "total": format_amount(result.total_pence),
        "loads": [
            {
                "budget": load.budget_reference,
                "part_id": load.part_id,
                "period_start": load.period_starts_on.isoformat(),
                "period_end": load.period_ends_on.isoformat(),
                "due_on": load.due_on.isoformat(),
                "amount": format_amount(load.amount_pence),
                "entry_id": load.entry_id,
            }
            for load in result.posted
        ],
        "held": [
            {"budget": held.budget_reference, "period_start": held.period_starts_on.isoformat(), "due_on": held.due_on.isoformat(),
             "amount": format_amount(held.amount_pence), "reason": held.reason}
            for held in result.held
        ],  # fmt: skip
        "low_cash": [{"budget": low.budget_reference, "cash": format_amount(low.cash_pence)} for low in result.low_cash],
        "withheld": [
            {"budget": w.budget_reference, "period_start": w.period_starts_on.isoformat(), "withheld": format_amount(w.withheld_pence)}
            for w in result.withheld
        ],
    }


@drawdown_app.command("schedule")
def show_schedule(
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A budget's card loads for its plan period: made, due, paused, covered by the float."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            schedules = budget_schedule(session, budgets.budget_by_reference(session, budget).id)
    loads = [(schedule, load) for schedule in schedules for load in schedule.loads]
    if as_json:
        print_json(
            [
                {
                    "part_id": schedule.part.terms.part_id,
                    "period_start": load.period.starts_on.isoformat(),
                    "period_end": load.period.ends_on.isoformat(),
                    "due_on": load.period.due_on.isoformat(),
                    "due_at": due_at(load.period.due_on, schedule.load_time).isoformat(),
                    "amount": format_amount(load.amount_pence),
                    "withheld": format_amount(load.withheld_pence),
                    "status": str(load.status),
                }
                for schedule, load in loads
            ]
        )
        return
    if not loads:
        stdout.print(f"{budget} has no prepaid-card part: nothing is loaded onto a card.", highlight=False)
        return
    table = Table("Period", "Due", "Amount", "Withheld", "Status", title=f"Card loads of {budget}")
    for _schedule, load in loads:
        period = load.period
        withheld = format_gbp(load.withheld_pence) if load.withheld_pence else ""
        table.add_row(f"{period.starts_on} to {period.ends_on}", str(period.due_on), format_gbp(load.amount_pence), withheld, str(load.status))
    stdout.print(table)


@drawdown_app.command("offset")
def offset(
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    amount: Annotated[str, typer.Option(help="How much of the card's surplus pays for the next loads, e.g. 150.00")],
    starts_on: Annotated[str, typer.Option("--from", help="Withhold from loads of periods starting on or after this date")],
    reason: Annotated[str, typer.Option(help="Why, in a sentence a reviewer will read")],
    decided_by: Annotated[str, typer.Option("--decided-by", help="Who decided (the funder's officer)")],
    decided_on: Annotated[str | None, typer.Option("--decided-on", help="When (YYYY-MM-DD; default today)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offset a surplus on the card against the next loads: they are shortened, earliest first."""
    with reporting_errors():
        start = parse_date(starts_on, "--from")
        decided = parse_date(decided_on, "--decided-on") or datetime.now(UTC).astimezone(LONDON).date()
        pence = to_pence(parse_amount(amount, field="--amount"), field="--amount")
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            made = offset_against_loads(
                session, budget_id, amount_pence=pence, starts_on=start, reason=reason, decided_by=decided_by, decided_on=decided
            )
            result = {"id": made.id, "budget": budget, "amount": format_amount(made.amount_pence), "starts_on": made.starts_on.isoformat()}
    if as_json:
        print_json(result)
        return
    stdout.print(f"{format_gbp(pence)} of {budget}'s card surplus will be withheld from its loads due from {start}.", highlight=False)
