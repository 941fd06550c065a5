"""The names a document's header carries: the service's, and the organisation running it.
Set them with ``PHB_LEDGER_SERVICE_NAME`` and ``PHB_LEDGER_ORGANISATION``."""

from __future__ import annotations

import os
from dataclasses import dataclass

SERVICE_NAME_ENV = "PHB_LEDGER_SERVICE_NAME"
ORGANISATION_ENV = "PHB_LEDGER_ORGANISATION"
DEFAULT_SERVICE_NAME = "Personal health budgets"


@dataclass(frozen=True, slots=True)
class Branding:
    service_name: str = DEFAULT_SERVICE_NAME
    organisation: str = ""


def branding_from_environment() -> Branding:
    return Branding(
        service_name=os.environ.get(SERVICE_NAME_ENV, "").strip() or DEFAULT_SERVICE_NAME,
        organisation=os.environ.get(ORGANISATION_ENV, "").strip(),
    )
