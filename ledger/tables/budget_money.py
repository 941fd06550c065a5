"""Contingency use, top-slice, notional costs and transition spend."""

from __future__ import annotations
