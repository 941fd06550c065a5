"""Money onto prepaid cards: the drawdown schedule, what it reads, posting each due load exactly once, and offsetting a surplus against the next loads."""
