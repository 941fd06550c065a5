"""``phb-ledger budget-position``, ``close-budget`` and ``surplus return|decide``: where a
budget's money is, closing it, and what happens to a surplus."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.core.money import format_amount, format_gbp, parse_amount, to_pence
from ledger.errors import LedgerError
from ledger.position.closing import close_budget
from ledger.position.figures import BudgetPosition, MoneyFigures, budget_position, tenths_text
from ledger.position.surplus import ReturnedShare, record_surplus_decision, return_surplus, returned_shares
from ledger.store.tables.closing import BudgetClosure, SurplusDecision
from web.cli_common import DbOption, JsonOption, open_database, parse_date, print_json, reporting_errors, stdout

surplus_app = typer.Typer(help="What happens to a surplus: return it to the funders, accept it, reallocate it.", no_args_is_help=True)

Reference = Annotated[str, typer.Argument(help="The budget's reference, e.g. ISF-0007")]
Reason = Annotated[str, typer.Option("--reason", help="Why, in a sentence a reviewer will read")]
By = Annotated[str, typer.Option("--by", help="Who decided")]
On = Annotated[str, typer.Option("--on", help="The day (YYYY-MM-DD)")]

# (label, field) in the order a person reads a position
_ROWS = (
    ("Allocated", "allocated_pence"), ("Received", "received_pence"), ("Notional (arranged by the funder)", "notional_pence"),
    ("Still to come", "receivable_pence"), ("Held funds", "held_pence"), ("On the card", "card_pence"),
    ("Committed (approved, not paid)", "committed_pence"), ("Contingency planned", "contingency_planned_pence"),
    ("Contingency ring-fenced", "contingency_ring_fenced_pence"), ("Contingency used", "contingency_used_pence"),
    ("Contingency returned", "contingency_returned_pence"), ("Contingency left", "contingency_left_pence"),
    ("Top-slice planned", "top_slice_planned_pence"), ("Top-slice taken", "top_slice_taken_pence"),
    ("Transition planned", "transition_planned_pence"), ("Transition spent", "transition_spent_pence"),
    ("Transition left", "transition_left_pence"), ("Spent", "spent_pence"), ("Fees", "fees_pence"),
    ("Returned", "returned_pence"), ("Money left this year", "money_left_pence"), ("Surplus", "surplus_pence"),
    ("Weekly amount", "weekly_amount_pence"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the ``phb-ledger`` app."""
    app.command("budget-position")(show_position)
    app.command("close-budget")(close)
    app.add_typer(surplus_app, name="surplus")


def show_position(
    budget: Reference,
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As at the end of this day (YYYY-MM-DD; default everything)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Where a budget's money is, what is left this year, weeks held, and each funder's share."""
    with reporting_errors():
        day = parse_date(as_of, "--as-of")
        database = open_database(db)
        with database.read() as session:
            position = budget_position(session, budgets.budget_by_reference(session, budget).id, as_of=day)
    if as_json:
        print_json(position_as_json(position))
        return
    figures = position.figures
    table = Table("", title=f"{position.reference} ({position.status})")
    table.add_column("Amount", justify="right")
    for label, name in _ROWS:
        table.add_row(label, format_gbp(getattr(figures, name)))
    table.add_row("Weeks held", _weeks(figures))
    table.add_row("Surplus state", str(figures.surplus_state))
    stdout.print(table)
    shares = Table("Funder", title="Each funder's share")
    for heading in ("Allocated", "Received", "Held", "Money left", "Surplus"):
        shares.add_column(heading, justify="right")
    for share in position.shares:
        f = share.figures
        shares.add_row(share.funder_code, *(format_gbp(p) for p in (f.allocated_pence, f.received_pence, f.held_pence, f.money_left_pence, f.surplus_pence)))
    stdout.print(shares)
    as_at = f"as at {position.as_of}" if position.as_of else "everything posted"
    stdout.print(f"Plan version {position.plan_version_id or 'none agreed'}; {as_at}.", highlight=False)
    if figures.spent_by_category:
        spent = ", ".join(f"{code} {format_gbp(pence)}" for code, pence in figures.spent_by_category.items())
        stdout.print(f"Spent by category: {spent}", highlight=False)
    to_load = [load for schedule in position.schedule for load in schedule.loads if str(load.status) == "due"][:3]
    for load in to_load:
        stdout.print(f"Card load to make: {format_gbp(load.amount_pence)} due {load.period.due_on}", highlight=False)


def _weeks(figures: MoneyFigures) -> str:
    if figures.weeks_held_tenths is None:
        return "-"
    limits = f"warn > {tenths_text(figures.thresholds.warn_weeks_tenths)}, act > {tenths_text(figures.thresholds.act_weeks_tenths)}"
    return f"{tenths_text(figures.weeks_held_tenths)} ({limits})"


def figures_as_json(figures: MoneyFigures) -> dict[str, Any]:
    body: dict[str, Any] = {name.removesuffix("_pence"): format_amount(getattr(figures, name)) for _label, name in _ROWS}
    body["spent_by_category"] = {code: format_amount(pence) for code, pence in figures.spent_by_category.items()}
    body["weeks_held"] = None if figures.weeks_held_tenths is None else tenths_text(figures.weeks_held_tenths)
    body["warn_weeks"] = tenths_text(figures.thresholds.warn_weeks_tenths)
    body["act_weeks"] = tenths_text(figures.thresholds.act_weeks_tenths)
    body["surplus_state"] = str(figures.surplus_state)
    return body


def position_as_json(position: BudgetPosition) -> dict[str, Any]:
    return {
        "budget": position.reference,
        "status": position.status,
        "as_of": position.as_of.isoformat() if position.as_of else None,
        "plan_version_id": position.plan_version_id,
        "figures": figures_as_json(position.figures),
        "shares": [{"funder": s.funder_code, "figures": figures_as_json(s.figures)} for s in position.shares],
        "schedule": [
            {"part_id": s.part.terms.part_id, "period_start": load.period.starts_on.isoformat(), "due_on": load.period.due_on.isoformat(),
             "amount": format_amount(load.amount_pence), "status": str(load.status)}
            for s in position.schedule for load in s.loads
        ],
    }


def close(budget: Reference, on: On, reason: Reason, by: By, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Close a budget: loads stop, contingency and card money come back to held funds, the
    allocation not received is released. Refused while wages or invoices are unpaid."""
    with reporting_errors():
        day = _required_date(on, "--on")
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            closure = close_budget(session, budget_id, closed_on=day, reason=reason, closed_by=by)
    if as_json:
        print_json(closure_as_json(budget, closure))
        return
    stdout.print(
        f"Closed {budget} on {closure.closed_on}: contingency returned {format_gbp(closure.contingency_returned_pence)},"
        f" card money returned {format_gbp(closure.card_returned_pence)}, allocation released"
        f" {format_gbp(closure.allocation_released_pence)}; surplus {format_gbp(closure.surplus_pence)},"
        f" to recover {format_gbp(closure.to_recover_pence)}.",
        highlight=False,
    )


def closure_as_json(reference: str, closure: BudgetClosure) -> dict[str, Any]:
    return {
        "budget": reference,
        "closed_on": closure.closed_on.isoformat(),
        "contingency_returned": format_amount(closure.contingency_returned_pence),
        "card_returned": format_amount(closure.card_returned_pence),
        "allocation_released": format_amount(closure.allocation_released_pence),
        "surplus": format_amount(closure.surplus_pence),
        "to_recover": format_amount(closure.to_recover_pence),
    }


@surplus_app.command("return")
def return_command(
    budget: Reference,
    on: On,
    reason: Reason,
    by: By,
    amount: Annotated[str | None, typer.Option("--amount", help="How much (default: all of the surplus)")] = None,
    share: Annotated[list[str] | None, typer.Option("--share", help="FUNDER=AMOUNT (funder code, or 'contribution'); repeat; default pro rata")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Return surplus to the funders (pro rata to what each allocated unless --share says)."""
    with reporting_errors():
        day = _required_date(on, "--on")
        pence = None if amount is None else to_pence(parse_amount(amount, field="--amount"), field="--amount")
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            shares = _parse_shares(session, share) if share else None
            result = return_surplus(session, budget_id, amount_pence=pence, on=day, reason=reason, decided_by=by, shares=shares)
    if as_json:
        print_json(decision_as_json(result.decision, result.shares) | {"created": result.created})
        return
    verb = "Returned" if result.created else "Already returned"
    parts = ", ".join(f"{s.funder_code} {format_gbp(s.amount_pence)}" for s in result.shares)
    stdout.print(f"{verb} {format_gbp(result.decision.amount_pence)} of {budget}'s surplus: {parts}.", highlight=False)


@surplus_app.command("decide")
def decide_command(
    budget: Reference,
    action: Annotated[str, typer.Option("--action", help="accept, reallocate or return")],
    amount: Annotated[str, typer.Option("--amount", help="How much of the surplus")],
    on: On,
    reason: Reason,
    by: By,
    plan_version: Annotated[int | None, typer.Option("--plan-version", help="For reallocate: the plan version id that spends it")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record what was decided about a surplus."""
    with reporting_errors():
        day = _required_date(on, "--on")
        pence = to_pence(parse_amount(amount, field="--amount"), field="--amount")
        database = open_database(db)
        with database.write() as session:
            budget_id = budgets.budget_by_reference(session, budget).id
            decision = record_surplus_decision(
                session, budget_id, action=action, amount_pence=pence, reason=reason, decided_by=by, decided_on=day,
                plan_version_id=plan_version,
            )  # fmt: skip
            shares = returned_shares(session, decision)
    if as_json:
        print_json(decision_as_json(decision, shares))
        return
    stdout.print(f"Recorded: {decision.action} {format_gbp(decision.amount_pence)} of {budget}'s surplus on {decision.decided_on}.", highlight=False)


def decision_as_json(decision: SurplusDecision, shares: list[ReturnedShare]) -> dict[str, Any]:
    return {
        "id": decision.id,
        "action": decision.action,
        "amount": format_amount(decision.amount_pence),
        "decided_on": decision.decided_on.isoformat(),
        "plan_version_id": decision.plan_version_id,
        "entry_id": decision.entry_id,
        "shares": [{"funder": s.funder_code, "amount": format_amount(s.amount_pence)} for s in shares],
    }


def _parse_shares(session: Session, texts: list[str]) -> dict[int | None, int]:
    shares: dict[int | None, int] = {}
    for text in texts:
        code, sep, amount = text.partition("=")
        if not sep:
            raise LedgerError(f"--share must be FUNDER=AMOUNT, not {text!r}")
        key = None if code.strip() == "contribution" else parties.funder_by_code(session, code.strip()).id
        if key in shares:
            raise LedgerError(f"--share names {code.strip()} twice")
        shares[key] = to_pence(parse_amount(amount, field="--share"), field="--share")
    return shares


def _required_date(text: str, option: str) -> date:
    day = parse_date(text, option)
    assert day is not None
    return day
