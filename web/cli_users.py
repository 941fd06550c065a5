"""``phb-ledger users``: sign-ins from the command line — the first system admin of a new
database, holders' and funders' users, family links and API tokens.

    phb-ledger users add admin@example.org --name "Service admin" --role system_admin
    phb-ledger users add sam@provider.example --name "Sam Reed" --role holder_admin --holder tamar-valley-isf
    phb-ledger users link carol@example.org ISF-0002 [--as-person]
    phb-ledger users token finance-system@icb.example --name "ICB finance system"
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from ledger.access.users import UserSpec, create_user, issue_api_token, link_family, list_users
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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue an API token (shown once): send it as Authorization: Bearer <token>."""
    with reporting_errors():
        database = open_database(db)
        with database.write() as session:
            value, row = issue_api_token(session, _user(session, username).id, name=name)  # type: ignore[arg-type]
            answer = {"id": row.id, "name": row.name, "token": value}
    if as_json:
        print_json(answer)
    else:
        stdout.print(f"Token for {name} (shown once): {value}", highlight=False)


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
    table = Table("Username", "Name", "Role", "Holder", "Funder")
    for u in users:
        table.add_row(u["username"], u["name"], u["role"], str(u["holder_id"] or ""), str(u["funder_id"] or ""))
    stdout.print(table)
