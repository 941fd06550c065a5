"""Reviews due: default intervals per funding stream, reviews held, reviews asked for."""

from __future__ import annotations
