"""Flags for review: the catalogue, the rules that raise them over statement lines and the ledger, funders' own rules, evidence, and what happens to a flag after it is raised."""
