"""Money coming in: what funders and the person are expected to pay, and its receipt, split over budgets and instalments."""
