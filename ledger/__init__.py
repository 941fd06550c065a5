"""The ledger core: money, the PHB domain, the double-entry journal and its persistence.

Nothing here imports ``web``, ``reports`` or ``importers`` (DESIGN.md §4).
"""
