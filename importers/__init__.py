"""Statement importers: one module per format, bytes in, a parsed statement out.

Pure (no database, no web); nothing here imports ``ledger``, ``reports`` or ``web``.
"""
