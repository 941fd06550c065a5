"""Funder payments expected and received, and how a receipt splits over budgets."""

from __future__ import annotations
