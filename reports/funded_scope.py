"""Which budgets a funder funds, as a subquery the funder reports filter by: the same rule
the access checks use (``ledger.access.visibility.funded_budget_ids``)."""

from __future__ import annotations

from ledger.access.visibility import funded_budget_ids

__all__ = ["funded_budget_ids"]
