"""Closing a budget, surplus decisions and surplus thresholds."""

from __future__ import annotations
