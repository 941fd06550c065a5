"""Performance benchmarks for the ledger core (posting and balances). Not run by ``make test``;
see ``benchmarks/README.md``."""
