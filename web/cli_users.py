"""``phb-ledger users``: sign-ins from the command line — the first system admin of a new
database, holders' and funders' users, family links and API tokens.

    phb-ledger users add admin@example.org --name "Service admin" --role system_admin
    phb-ledger users add sam@provider.example --name "Sam Reed" --role holder_admin --holder tamar-valley-isf
    phb-ledger users link carol@example.org ISF-0002 [--as-person]
    phb-ledger users token finance-system@icb.example --name "ICB finance system" [--expires-in-days 90]
    phb-ledger users deactivate sam@provider.example --reason "Left on 30 November"
    phb-ledger users reactivate sam@provider.example --reason "Returned from leave"
    phb-ledger users tokens finance-system@icb.example
    phb-ledger users revoke-token 12 [--reason "Key seen in a log"]
    phb-ledger users one-time-password sam@provider.example      (asks for the password)

What is done here is recorded in the access record as done by ``phb-ledger users`` and the
operating-system account that ran it (the command line has no signed-in user).
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from ledger.access import lifecycle
from ledger.access.log import Actor
from ledger.access.users import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX, UserSpec, create_user, link_family, list_users
from ledger.budgets.budget import budget_by_reference
from ledger.budgets.parties import funder_by_code, holder_by_code
from ledger.errors import InvalidInput, NotFound
from ledger.store.tables import Representative
from ledger.store.tables.access import ROLES, UserAccount
from web.cli_common import DbOption, JsonOption, open_database, print_json, reporting_errors, stdout

users_app = typer.Typer(help="Sign-ins: users, family links, API tokens.", no_args_is_help=True)
CREATED_BY = "phb-ledger users"


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def operator() -> Actor:
    """Who ran the command, as the access record keeps it."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        account = "unknown account"
    return Actor.command_line(f"{CREATED_BY} (run by {account})")


def _user(session, username: str) -> UserAccount:  # type: ignore[no-untyped-def]
    user = session.scalar(select(UserAccount).where(UserAccount.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"there is no user {username!r}", code="user_not_found")
    return user


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Username or email address")],
    name: Annotated[str, typer.Option("--name", help="The name shown when they sign in")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}")],
    holder: Annotated[str | None, typer.Option("--holder", help="The holder's code (a holder's admin or staff)")] = None,
    funder: Annotated[str | None, typer.Option("--funder", help="The funder's code (an auditor)")] = None,
    password: Annotated[str, typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="12 characters or more (asked for when not given)")] = "",  # fmt: skip
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user who can sign in."""
    with reporting_errors():
        database = open_database(db)
        with database.write() as session:
            holder_id = holder_by_code(session, holder).id if holder else None
            funder_id = funder_by_code(session, funder).id if funder else None
            user = create_user(session, UserSpec(username, name, role, password, holder_id, funder_id), created_by=CREATED_BY)
            made = {"id": user.id, "username": user.username, "role": user.role, "holder_id": holder_id, "funder_id": funder_id}
    if as_json:
        print_json(made)
    else:
        stdout.print(f"Added {made['username']} ({role.replace('_', ' ')}).", highlight=False)


@users_app.command("link")
def link(
    username: Annotated[str, typer.Argument(help="A family user's username")],
    budget: Annotated[str, typer.Argument(help="The budget's reference")],
    as_person: Annotated[bool, typer.Option("--as-person", help="They are the person themself (16 or over)")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Link a family user to a budget: as the person, or as the person's recorded representative of the same name."""
    with reporting_errors():
        database = open_database(db)
        with database.write() as session:
            user = _user(session, username)
            found = budget_by_reference(session, budget)
            representative = None
            if not as_person:
                representative = session.scalar(
                    select(Representative.id).where(Representative.person_id == found.person_id, Representative.name == user.display_name).limit(1)
                )
                if representative is None:
                    raise InvalidInput(
                        f"{user.display_name} is not a recorded representative of {found.reference}'s person: record them first, or pass --as-person",
                        code="representative_not_recorded", field="budget",
                    )  # fmt: skip
            made = link_family(session, user.id, found.id, representative_id=representative, created_by=CREATED_BY)  # type: ignore[arg-type]
            answer = {"user": user.username, "budget": found.reference, "basis": made.basis}
    if as_json:
        print_json(answer)
    else:
        stdout.print(f"{answer['user']} now reaches {answer['budget']} ({answer['basis']}).", highlight=False)


@users_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="The user the client acts as")],
    name: Annotated[str, typer.Option("--name", help="What the client is")],
    expires_in_days: Annotated[int, typer.Option("--expires-in-days", help=f"Days it lasts (at most {TOKEN_DAYS_MAX})")] = TOKEN_DAYS_DEFAULT,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue an API token (shown once): send it as Authorization: Bearer <token>."""
    with reporting_errors():
        database = open_database(db)
        with database.write() as session:
            value, view = lifecycle.issue_token(session, _user(session, username).id, name=name, expires_in_days=expires_in_days, by=operator())  # type: ignore[arg-type]
            answer = {"id": view.id, "name": view.name, "token": value, "expires_at": view.expires_at.isoformat()}
    if as_json:
        print_json(answer)
    else:
        stdout.print(f"Token {answer['id']} for {name}, expires {view.expires_at:%Y-%m-%d} (shown once): {value}", highlight=False)


ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why: kept in the access record")]


@users_app.command("deactivate")
def deactivate(username: Annotated[str, typer.Argument(help="The leaver's username")], reason: ReasonOption = None, db: DbOption = None,
               as_json: JsonOption = False) -> None:  # fmt: skip
    """Deactivate a user: no more sign-ins; every session and API token of theirs stops now."""
    _change_sign_in(username, lifecycle.deactivate_user, reason or "deactivated at the command line", db, as_json,
                    said="Deactivated {}: their sessions and API tokens have stopped.")  # fmt: skip


@users_app.command("reactivate")
def reactivate(username: Annotated[str, typer.Argument(help="A deactivated user's username")], reason: ReasonOption = None, db: DbOption = None,
               as_json: JsonOption = False) -> None:  # fmt: skip
    """Let a deactivated user sign in again (old sessions and tokens stay dead)."""
    _change_sign_in(username, lifecycle.reactivate_user, reason or "reactivated at the command line", db, as_json,
                    said="Reactivated {}: they sign in again with their password.")  # fmt: skip


def _change_sign_in(username: str, change, reason: str, db: str | None, as_json: bool, *, said: str) -> None:  # type: ignore[no-untyped-def]
    with reporting_errors():
        database = open_database(db)
        with database.write() as session:
            user = change(session, _user(session, username).id, by=operator(), reason=reason)
            answer = {"id": user.id, "username": user.username, "active": user.active}
    if as_json:
        print_json(answer)
    else:
        stdout.print(said.format(answer["username"]), highlight=False)


@users_app.command("tokens")
def tokens(username: Annotated[str, typer.Argument(help="Whose tokens")], db: DbOption = None, as_json: JsonOption = False) -> None:
    """A user's API tokens, newest first, with their last use, expiry and state."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            views = lifecycle.user_tokens(session, _user(session, username).id)  # type: ignore[arg-type]
    rows = [{"id": v.id, "name": v.name, "created_at": v.created_at.isoformat(), "last_used_at": v.last_used_at.isoformat() if v.last_used_at else None,
             "expires_at": v.expires_at.isoformat(), "state": v.state, "revoked_by": v.revoked_by} for v in views]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    table = Table("Id", "Name", "Issued", "Last used", "Expires", "State")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["created_at"][:16], (r["last_used_at"] or "never")[:16], r["expires_at"][:10], r["state"])
    stdout.print(table)


@users_app.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="The token's id (from `users tokens`)")],
    reason: ReasonOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API token: it stops working now."""
    with reporting_errors():
        database = open_database(db)
        with database.write() as session:
            view = lifecycle.revoke_token(session, token_id, by=operator(), reason=reason)
            answer = {"id": view.id, "name": view.name, "state": view.state}
    if as_json:
        print_json(answer)
    else:
        stdout.print(f"Revoked token {answer['id']} ({answer['name']}).", highlight=False)


@users_app.command("one-time-password")
def one_time_password(
    username: Annotated[str, typer.Argument(help="Whose password to reset")],
    password: Annotated[str, typer.Option("--password", prompt="One-time password", hide_input=True, confirmation_prompt=True,
                                          help="Asked for (never give it on the command line: it would stay in the shell's history)")] = "",  # fmt: skip
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a one-time password: their sessions end, and at their next sign-in they must choose their own."""
    with reporting_errors():
        database = open_database(db)
        with database.write() as session:
            user = lifecycle.set_one_time_password(session, _user(session, username).id, password=password, by=operator())  # type: ignore[arg-type]
            answer = {"id": user.id, "username": user.username, "must_change_password": user.must_change_password}
    if as_json:
        print_json(answer)
    else:
        stdout.print(f"{answer['username']} signs in with the one-time password and must then choose their own.", highlight=False)


@users_app.command("list")
def list_all(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Everyone who can sign in."""
    with reporting_errors():
        database = open_database(db)
        with database.read() as session:
            users = [{"id": u.id, "username": u.username, "name": u.display_name, "role": u.role, "holder_id": u.holder_id,
                      "funder_id": u.funder_id, "active": u.active} for u in list_users(session)]  # fmt: skip
    if as_json:
        print_json(users)
        return
    table = Table("Username", "Name", "Role", "Holder", "Funder", "Status")
    for u in users:
        table.add_row(u["username"], u["name"], u["role"], str(u["holder_id"] or ""), str(u["funder_id"] or ""), "active" if u["active"] else "deactivated")
    stdout.print(table)
