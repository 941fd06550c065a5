"""CLI: reviews (being built)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the ``phb-ledger`` app."""
