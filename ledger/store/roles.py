"""The service's PostgreSQL login: made by whoever sets the cluster up (an administrator, or
the tests and benchmarks for their own databases). It may log in and act as the application
role, and nothing more: not a superuser, no databases or roles of its own, owns nothing."""

from __future__ import annotations

import psycopg
from psycopg import sql

from ledger.store.database import APP_ROLE_DEFAULT


def ensure_application_login(connection: psycopg.Connection, login: str, *, app_role: str = APP_ROLE_DEFAULT) -> None:
    """Make the application role (no login) and ``login``, a member of it, if missing.
    Roles are cluster-wide, so parallel callers on a fresh server may race: the loser's
    duplicate is ignored. ``connection`` is in autocommit mode, as a role administrator."""
    statements = (
        sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(app_role)),
        sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT").format(sql.Identifier(login)),
        sql.SQL("GRANT {} TO {}").format(sql.Identifier(app_role), sql.Identifier(login)),
    )
    for statement in statements:
        try:
            connection.execute(statement)
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            pass
