"""The service's idea of "today": the date in England, where PHBs are held."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def today_in_england() -> date:
    return datetime.now(ENGLAND).date()
