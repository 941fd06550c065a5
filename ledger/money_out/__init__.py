"""Money going out from the bank: wages and invoices approved and paid, payroll sheets and runs, pooled costs shared over budgets, and notional costs a funder pays directly."""
