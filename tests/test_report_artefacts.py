"""Every report of the catalogue, made from the demo, in every format: each reads back to
the view model's figures (CSV and XLSX cell by cell, HTML and PDF by every money figure), and
each PDF is turned into PNG pages under ``var/test-artefacts/`` for a person to look at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from ledger.budgets.budget import budget_by_reference
from ledger.budgets.parties import funder_by_code, holder_by_code
from ledger.store.database import Database
from reports.catalogue import REPORTS
from reports.generate import make_document
from reports.params import ReportParams, parse_period
from tests.support.report_formats import check_every_format

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ASKED = {
    "quarterly-review": ("budget", "ISF-0011", {"quarter": "2026Q2"}),
    "funder-tracker": ("funder", "plymouth-asc", {"month": "2026-10"}),
    "holder-summary": ("holder", "tamar-valley-isf", {"quarter": "2026Q2"}),
    "funder-summary": ("funder", "cornwall-icb", {"quarter": "2026Q2"}),
    "monitoring-return": ("budget", "DP-0001", {"quarter": "2026Q2"}),
    "nhse-return": ("funder", "devon-icb", {"quarter": "2026Q2"}),
    "provider-statement": ("budget", "ISF-0002", {"month": "2026-10"}),
    "easy-read-statement": ("budget", "DP-0003", {"month": "2026-10"}),
    "audit-pack": ("funder", "plymouth-send", {"month": "2026-10"}),
}


def params_for(session: Session, kind: str) -> ReportParams:
    subject, code, period = ASKED[kind]
    ids = {
        "budget": lambda: {"budget_id": budget_by_reference(session, code).id},
        "holder": lambda: {"holder_id": holder_by_code(session, code).id},
        "funder": lambda: {"funder_id": funder_by_code(session, code).id},
    }[subject]()
    return ReportParams(period=parse_period(**period), **ids)


def test_every_report_is_asked_for_here() -> None:
    assert set(ASKED) == set(REPORTS)


@pytest.mark.parametrize("kind", sorted(ASKED))
def test_every_report_reads_back_in_every_format_and_prints(report_demo: Database, kind: str) -> None:
    with report_demo.read() as session:
        document = make_document(session, kind, params_for(session, kind), now=NOW)
    assert document.kind == kind and document.sections
    check_every_format(document, artefact=f"{kind}-{ASKED[kind][1]}".lower())
