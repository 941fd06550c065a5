"""Read-only views of the ledger for people: reviews, returns, audit packs, the balance page.

May import ``ledger``; never ``web``.
"""
