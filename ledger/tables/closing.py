"""Closing a budget, surplus decisions and reviews due."""

from __future__ import annotations
