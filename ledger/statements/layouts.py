"""CSV layouts a provider defines for its own bank or card provider, kept versioned.

A layout is data (DESIGN.md §4): the web layer checks a definition with
``importers.csv_layouts`` before it is stored here (``ledger`` never imports
``importers``). Defining a layout under a name the holder already uses makes the next
version; the same definition again returns the version that has it. Imports name the
version that read them (``name@version``), so a stored line can always be traced to the
exact layout.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.budgets import parties
from ledger.core import checks
from ledger.errors import NotFound
from ledger.store.tables.statements import CsvLayoutDefinition

LAYOUT_NAME_LENGTH_MAX = 80


def define_layout(
    session: Session, *, holder_id: int, name: str, definition: dict[str, Any], created_by: str
) -> CsvLayoutDefinition:
    parties.get_holder(session, holder_id)
    name = checks.required_text(name, "name", max_length=LAYOUT_NAME_LENGTH_MAX)
    created_by = checks.required_text(created_by, "created_by", max_length=200)
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    latest = latest_layout(session, holder_id, name)
    if latest is not None and latest.definition == text:
        return latest
    version = (latest.version if latest else 0) + 1
    row = CsvLayoutDefinition(holder_id=holder_id, name=name, version=version, definition=text, created_by=created_by)
    session.add(row)
    session.flush()
    return row


def latest_layout(session: Session, holder_id: int, name: str) -> CsvLayoutDefinition | None:
    return session.scalars(
        select(CsvLayoutDefinition)
        .where(CsvLayoutDefinition.holder_id == holder_id, CsvLayoutDefinition.name == name)
        .order_by(CsvLayoutDefinition.version.desc())
        .limit(1)
    ).first()


def layouts_of(session: Session, holder_id: int) -> list[CsvLayoutDefinition]:
    """The latest version of each of the holder's layouts, by name."""
    newest = (
        select(CsvLayoutDefinition.name, func.max(CsvLayoutDefinition.version).label("version"))
        .where(CsvLayoutDefinition.holder_id == holder_id)
        .group_by(CsvLayoutDefinition.name)
        .subquery()
    )
    query = (
        select(CsvLayoutDefinition)
        .join(newest, (CsvLayoutDefinition.name == newest.c.name) & (CsvLayoutDefinition.version == newest.c.version))
        .where(CsvLayoutDefinition.holder_id == holder_id)
        .order_by(CsvLayoutDefinition.name)
    )
    return list(session.scalars(query))


def layout_versions(session: Session, holder_id: int, name: str) -> list[CsvLayoutDefinition]:
    rows = list(
        session.scalars(
            select(CsvLayoutDefinition)
            .where(CsvLayoutDefinition.holder_id == holder_id, CsvLayoutDefinition.name == name)
            .order_by(CsvLayoutDefinition.version)
        )
    )
    if not rows:
        raise NotFound(f"the holder has no CSV layout named {name!r}", code="layout_not_found", field="name")
    return rows
