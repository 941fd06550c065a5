"""Money set aside from a budget: the ring-fenced contingency and its use, and the top-slice."""
