"""The double-entry core: money, the chart of accounts, entries, the hash-chained journal, balances, periods, the words the ledger uses, and verify."""
