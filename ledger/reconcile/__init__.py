"""Reconciliation: matching statement lines to the ledger, categorising spend, posting what the ledger lacks, the people's steps, and where each account stands."""
