"""The ground floor: the database engine and sessions, the tables, the migrations and the scheduler's leases; it imports nothing of the ledger above it."""
