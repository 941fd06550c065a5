"""``phb-ledger contingency``, ``top-slice`` and ``notional``: use and show contingency, take
the monthly top-slice, record notional costs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core.money import format_amount, format_gbp, parse_amount, to_pence
from ledger.money_out.notional import notional_costs, record_notional_cost
from ledger.set_asides.contingency import contingency_position, contingency_uses, use_contingency
from ledger.set_asides.top_slice import due_contingency_ring_fences, take_due_top_slices, top_slice_schedule
from ledger.store.tables import Category
from ledger.store.tables.budget_money import ContingencyUse, NotionalCost
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, reporting_errors, stdout
from web.clock import today_in_england

contingency_app = typer.Typer(help="Contingency: use it (a recorded decision), ring-fence it, show it.", no_args_is_help=True)
top_slice_app = typer.Typer(help="The top-slice, taken monthly in advance.", no_args_is_help=True)
notional_app = typer.Typer(help="Costs of services a funder arranged (notional parts).", no_args_is_help=True)

BudgetArgument = Annotated[str, typer.Argument(help="The budget's reference")]
RecordedByOption = Annotated[str, typer.Option("--recorded-by", help="Who is recording it")]


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the ``phb-ledger`` app."""
    app.add_typer(contingency_app, name="contingency")
    app.add_typer(top_slice_app, name="top-slice")
    app.add_typer(notional_app, name="notional")


def _amount(text: str, option: str) -> int:
    return to_pence(parse_amount(text, field=option), field=option)


def _required_date(text: str, option: str) -> date:
    day = parse_date(text, option)
    assert day is not None
    return day


def _as_of(text: str | None) -> date:
    return parse_date(text, "--as-of") or today_in_england()


# --- contingency ---------------------------------------------------------------------------


@contingency_app.command("use")
def use(
    budget: BudgetArgument,
    amount: Annotated[str, typer.Option(help="How much, e.g. 250.00")],
    reason: Annotated[str, typer.Option(help="Why the contingency is used")],
    agreed_by: Annotated[str, typer.Option("--agreed-by", help="Who agreed it")],
    agreed_role: Annotated[str, typer.Option("--agreed-role", help="In what role they agreed it")],
    agreed_on: Annotated[str, typer.Option("--agreed-on", help="When it was agreed (YYYY-MM-DD)")],
    to: Annotated[str, typer.Option("--to", help="card: onto the prepaid card; spend: straight to a spend category")],
    category: Annotated[str | None, typer.Option(help="The spend category, with --to spend")] = None,
    used_on: Annotated[str | None, typer.Option("--used-on", help="When it is used (default today)")] = None,
    recorded_by: RecordedByOption = "cli",
    key: Annotated[str | None, typer.Option("--key", help="Idempotency key (default: the decision itself)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Use contingency: refused beyond what is left. Running it again with the same decision posts nothing more."""
    with reporting_errors():
        pence = _amount(amount, "--amount")
        agreed = _required_date(agreed_on, "--agreed-on")
        today = today_in_england()
        used = parse_date(used_on, "--used-on") or today
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            recorded = use_contingency(
                session, budget_id, amount_pence=pence, reason=reason, agreed_by_name=agreed_by, agreed_by_role=agreed_role,
                agreed_on=agreed, used_on=used, to=to, category_code=category, recorded_by=recorded_by, idempotency_key=key,
                today=today,
            )  # fmt: skip
            row = _use_json(recorded.use, _codes(session).get(recorded.use.category_id or 0))
            left = contingency_position(session, budget_id).left_pence
    if as_json:
        print_json({"created": recorded.created, "use": row, "left": format_amount(left)})
        return
    verb = "Used" if recorded.created else "Already recorded:"
    used = format_gbp(recorded.use.amount_pence)
    stdout.print(f"{verb} {used} of {budget}'s contingency ({row['to']}); {format_gbp(left)} left.", highlight=False)


@contingency_app.command("show")
def show_contingency(budget: BudgetArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A budget's contingency: planned, ring-fenced, used, returned, left, and each use."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            position = contingency_position(session, budget_id)
            codes = _codes(session)
            uses = [_use_json(u, codes.get(u.category_id or 0)) for u in contingency_uses(session, budget_id)]
    figures = {
        "planned": position.planned_pence, "ring_fenced": position.ring_fenced_pence, "used": position.used_pence,
        "returned": position.returned_pence, "left": position.left_pence,
    }  # fmt: skip
    if as_json:
        print_json({**{name: format_amount(pence) for name, pence in figures.items()}, "uses": uses})
        return
    stdout.print(", ".join(f"{name.replace('_', '-')} {format_gbp(pence)}" for name, pence in figures.items()), highlight=False)
    table = Table("Used on", "Amount", "To", "Reason", "Agreed by", title=f"Contingency used from {budget}")
    for row in uses:
        agreed = f"{row['agreed_by_name']} ({row['agreed_by_role']})"
        table.add_row(row["used_on"], row["amount"], row["category"] or row["to"], row["reason"], agreed)
    stdout.print(table)


@contingency_app.command("ring-fence")
def ring_fence(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Use the plan in force on this day (default today)")] = None,
    budget: Annotated[str | None, typer.Option(help="Only this budget (its reference)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ring-fence each open budget's contingency to its plan (released when a revision lowers it)."""
    with reporting_errors():
        day = _as_of(as_of)
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id if budget else None
            result = due_contingency_ring_fences(session, day, budget_id=budget_id, created_by="cli")
    if as_json:
        print_json({
            "as_of": day.isoformat(), "budgets_checked": result.budgets_checked, "posted": len(result.posted),
            "changes": [{"budget": r.budget_reference, "change": format_amount(r.change_pence), "entry_id": r.entry_id} for r in result.posted],
            "held": [{"budget": h.budget_reference, "reason": h.reason} for h in result.held],
        })  # fmt: skip
        return
    stdout.print(f"Ring-fenced contingency for {len(result.posted)} of {result.budgets_checked} budget(s).", highlight=False)
    for held in result.held:
        stdout.print(f"Held: {held.budget_reference}: {held.reason}", highlight=False)


def _use_json(use: ContingencyUse, category: str | None) -> dict[str, Any]:
    return {
        "id": use.id, "amount": format_amount(use.amount_pence), "reason": use.reason, "agreed_by_name": use.agreed_by_name,
        "agreed_by_role": use.agreed_by_role, "agreed_on": use.agreed_on.isoformat(), "used_on": use.used_on.isoformat(),
        "to": use.destination, "category": category, "entry_id": use.entry_id, "recorded_by": use.recorded_by,
    }  # fmt: skip


def _codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Category.id, Category.code)).all())


# --- top-slice -----------------------------------------------------------------------------


@top_slice_app.command("run")
def run(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Take every month due up to this day (default today)")] = None,
    holder: Annotated[str | None, typer.Option(help="Only this holder's budgets (its code)")] = None,
    budget: Annotated[str | None, typer.Option(help="Only this budget (its reference)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take every month's top-slice due up to --as-of, exactly once. Safe to run again."""
    with reporting_errors():
        day = _as_of(as_of)
        database = open_database(db)
        with database.write() as session:
            holder_id = parties.holder_by_code(session, holder).id if holder else None
            budget_id = budgets.budget_by_reference(session, budget).id if budget else None
            result = take_due_top_slices(session, day, holder_id=holder_id, budget_id=budget_id, created_by="cli", today=today_in_england())
    if as_json:
        print_json({
            "as_of": day.isoformat(), "budgets_checked": result.budgets_checked, "posted": len(result.posted),
            "total": format_amount(result.total_pence),
            "months": [{"budget": m.budget_reference, "month_start": m.month_starts_on.isoformat(), "amount": format_amount(m.amount_pence),
                        "entry_id": m.entry_id} for m in result.posted],
            "held": [{"budget": h.budget_reference, "month_start": h.month_starts_on.isoformat(), "amount": format_amount(h.amount_pence),
                      "reason": h.reason} for h in result.held],
        })  # fmt: skip
        return
    stdout.print(f"Took {len(result.posted)} month(s) of top-slice, {format_gbp(result.total_pence)}, up to {day:%d %b %Y}.", highlight=False)
    for held in result.held:
        stdout.print(f"Held: {held.budget_reference} {held.month_starts_on} ({format_gbp(held.amount_pence)}): {held.reason}", highlight=False)


@top_slice_app.command("show")
def show_top_slice(budget: BudgetArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A budget's top-slice month by month: taken, and to come."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            months = top_slice_schedule(session, budgets.budget_by_reference(session, budget).id)
    rows = [
        {"month_start": m.month.starts_on.isoformat(), "month_end": m.month.ends_on.isoformat(), "amount": format_amount(m.amount_pence),
         "status": str(m.status)}
        for m in months
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    table = Table("Month", "Amount", "Status", title=f"Top-slice of {budget}")
    for month, row in zip(months, rows, strict=True):
        table.add_row(f"{row['month_start']} to {row['month_end']}", format_gbp(month.amount_pence), row["status"])
    stdout.print(table)


# --- notional ------------------------------------------------------------------------------


@notional_app.command("record")
def record(
    budget: BudgetArgument,
    funder: Annotated[str, typer.Option(help="The funder who arranged the service (its code)")],
    category: Annotated[str, typer.Option(help="The spend category, e.g. agency_support")],
    amount: Annotated[str, typer.Option(help="What it cost, e.g. 120.00")],
    on: Annotated[str, typer.Option("--on", help="When the cost was incurred (YYYY-MM-DD)")],
    supplier: Annotated[str, typer.Option(help="Who provided the service")],
    reference: Annotated[str, typer.Option(help="The supplier's invoice or order number")],
    description: Annotated[str, typer.Option(help="What the service was")],
    recorded_by: RecordedByOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the cost of a service a funder arranged; refused beyond its allocation."""
    with reporting_errors():
        pence = _amount(amount, "--amount")
        day = _required_date(on, "--on")
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            recorded = record_notional_cost(
                session, budget_id, funder_id=parties.funder_by_code(session, funder).id, category_code=category, amount_pence=pence,
                on=day, supplier=supplier, reference=reference, description=description, recorded_by=recorded_by,
                today=today_in_england(),
            )  # fmt: skip
            row = _cost_json(recorded.cost, _codes(session)[recorded.cost.category_id])
    if as_json:
        print_json({"created": recorded.created, "cost": row})
        return
    verb = "Recorded" if recorded.created else "Already recorded:"
    stdout.print(f"{verb} {format_gbp(recorded.cost.amount_pence)} from {supplier} ({reference}) against {budget}.", highlight=False)


@notional_app.command("list")
def list_costs(budget: BudgetArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The notional costs recorded against a budget."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            codes = _codes(session)
            rows = [_cost_json(c, codes[c.category_id]) for c in notional_costs(session, budgets.budget_by_reference(session, budget).id)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        stdout.print(f"No notional costs recorded against {budget}.", highlight=False)
        return
    table = Table("On", "Supplier", "Reference", "Category", "Amount", title=f"Notional costs of {budget}")
    for row in rows:
        table.add_row(row["on"], row["supplier"], row["reference"], row["category"], row["amount"])
    stdout.print(table)


def _cost_json(cost: NotionalCost, category: str) -> dict[str, Any]:
    return {
        "id": cost.id, "funder_id": cost.funder_id, "category": category, "amount": format_amount(cost.amount_pence),
        "on": cost.incurred_on.isoformat(), "supplier": cost.supplier, "reference": cost.reference, "description": cost.description,
        "entry_id": cost.entry_id, "recorded_by": cost.recorded_by,
    }  # fmt: skip

