"""Imported statements kept against a ledger account: each line once, traceable to its file, with its de-duplication key, the holder's saved CSV layouts and the statement's totals."""
