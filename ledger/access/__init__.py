"""Who is signed in and what they may see: users, sessions and tokens, the one place that decides which budgets a principal sees, whose each record is, and the record of every access."""
