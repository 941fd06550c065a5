"""Wages, invoices, payroll runs and pooled costs: approved (committed) and paid."""

from __future__ import annotations
