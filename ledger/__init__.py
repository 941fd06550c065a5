"""The ledger: money, the PHB domain, the double-entry journal, every money flow, statements,
reconciliation, flags, reviews, who may see what, and their persistence.

Packages from the ground up (``ARCHITECTURE.md``): ``store``, ``core``, ``budgets``,
``access``, the money flows (``loads``, ``money_in``, ``money_out``, ``set_asides``),
``position``, ``statements``, ``rules``, ``reviews``, ``flags``, ``reconcile``, ``demo``. A
package imports only those below it, and nothing here imports ``web``, ``reports`` or
``importers``: ``lint-imports`` checks both (the contracts are in ``pyproject.toml``).
"""
