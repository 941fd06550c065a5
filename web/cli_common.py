"""What every ``phb-ledger`` command shares: options, JSON output, one-line errors, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import OperationalError

from ledger.errors import LedgerError
from ledger.store import migrate
from ledger.store.database import DATABASE_URL_ENV, Database

DbOption = Annotated[
    str | None,
    typer.Option("--db", help=f"Database URL (default ${DATABASE_URL_ENV}, else SQLite in ./var/)", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
stdout = Console()
stderr = Console(stderr=True)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn every expected failure into one line on stderr and exit status 1."""
    try:
        yield
    except LedgerError as error:
        fail(error.message)
    except OperationalError as error:
        fail(f"cannot use the database: {first_line(str(error.orig or error))}")
    except Exception as error:  # a file that cannot be read, a bug: still one line
        fail(f"{type(error).__name__}: {first_line(str(error))}")


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:2]) if lines else "no details"


def fail(reason: str) -> None:
    sys.stderr.write(f"phb-ledger: {reason}\n")
    raise typer.Exit(1)


def open_database(url: str | None) -> Database:
    database = Database(url)
    migrate.upgrade(database)
    return database


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


@contextmanager
def progress(label: str, *, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar on a terminal (never in --json mode, never into a pipe)."""
    if not enabled or not stderr.is_terminal:
        yield lambda done, total=None: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LedgerError(f"{option} must be a date like 2026-04-01, not {text!r}") from None
