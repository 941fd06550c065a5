"""Surplus offset against the next card loads."""

from __future__ import annotations
