"""Who and what the money is for: holders, funders and people, budgets with their parts and categories, support plans and their versions, allocations and pauses."""
