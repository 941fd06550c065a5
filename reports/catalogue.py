"""Every report the service makes: its name, what it is asked for, which periods it takes,
and the function that builds its document. The CLI (``phb-ledger report NAME``), the API
(``GET /api/v1/reports/NAME``) and the scheduler all go through this list, so a report
added here is available everywhere at once.

Builders are imported when first used (``module:function``), so asking for one report does
not load every other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from sqlalchemy.orm import Session

from ledger.errors import InvalidInput, NotFound
from reports.document import Document
from reports.params import ReportParams

Builder = Callable[..., Document]


@dataclass(frozen=True, slots=True)
class ReportKind:
    name: str
    title: str
    description: str
    subject: str
    """``budget``, ``holder`` or ``funder``: whose report it is."""
    periods: tuple[str, ...]
    """The ways its period may be named: ``quarter``, ``month``, ``dates``."""
    builder: str
    """``module:function`` taking (session, params, *, now, cache)."""
    period_required: bool = True
    bundle: str | None = None
    """``module:function`` making the report as a ZIP with its attachments (the audit pack)."""

    def build(self, session: Session, params: ReportParams, *, now: datetime, cache: dict | None = None) -> Document:
        self.check(params)
        module_name, function_name = self.builder.split(":")
        function: Builder = getattr(import_module(module_name), function_name)
        return function(session, params, now=now, cache=cache if cache is not None else {})

    def build_bundle(self, session: Session, params: ReportParams, *, now: datetime) -> bytes:
        if self.bundle is None:
            raise InvalidInput(f"the {self.title.lower()} is not made as a ZIP: use html, pdf, csv or xlsx", code="format_not_offered", field="format")
        self.check(params)
        module_name, function_name = self.bundle.split(":")
        return getattr(import_module(module_name), function_name)(session, params, now=now)

    def check(self, params: ReportParams) -> None:
        subject_id = {"budget": params.budget_id, "holder": params.holder_id, "funder": params.funder_id}[self.subject]
        if subject_id is None:
            raise InvalidInput(f"the {self.title.lower()} is for one {self.subject}: name it", code="report_subject_missing", field=self.subject)
        if params.period is None:
            if self.period_required:
                raise InvalidInput(
                    f"the {self.title.lower()} needs a period: {' or '.join(_PERIOD_WORDS[p] for p in self.periods)}",
                    code="report_period_missing",
                    field=self.periods[0],
                )
        elif params.period.kind not in self.periods:
            raise InvalidInput(
                f"the {self.title.lower()} takes {' or '.join(_PERIOD_WORDS[p] for p in self.periods)}, not {_PERIOD_WORDS[params.period.kind]}",
                code="report_period_kind",
                field=params.period.kind if params.period.kind != "dates" else "from",
            )


_PERIOD_WORDS = {"quarter": "a quarter (2026Q1)", "month": "a month (2026-10)", "dates": "from and to dates"}

REPORTS: dict[str, ReportKind] = {
    kind.name: kind
    for kind in (
        ReportKind(
            "quarterly-review", "Quarterly quality review",
            "One budget's quarter: plan against spending, money in and out, contingency, weeks held, the projection, flags, "
            "reconciliation, and the review meeting's outcomes, actions and decisions.",
            "budget", ("quarter",), "reports.quarterly_review:build",
        ),
        ReportKind(
            "funder-tracker", "Monthly funder tracker",
            "Each person a funder pays for, for one month: money position, contingency use, flags and review status (its share of a jointly funded budget).",
            "funder", ("month",), "reports.funder_views:build_tracker",
        ),
        ReportKind(
            "holder-summary", "Holder summary",
            "One row per budget a holder holds, exceptions first, with totals that tie back to the ledger and each funder's share apart.",
            "holder", ("month", "quarter", "dates"), "reports.funder_views:build_holder_summary",
        ),
        ReportKind(
            "funder-summary", "Funder summary",
            "Every budget a funder pays for, by holder, exceptions first: the funder's share, with totals that tie back to the ledger.",
            "funder", ("month", "quarter", "dates"), "reports.funder_views:build_funder_summary",
        ),
        ReportKind(
            "monitoring-return", "Direct payment monitoring return",
            "A council's audit of one budget for a period: opening and closing balances, every transaction, the amount allowed to be "
            "retained, the surplus returnable, the amount requested, notes and actions, and the declaration.",
            "budget", ("quarter", "month", "dates"), "reports.monitoring_return:build",
        ),
        ReportKind(
            "nhse-return", "NHS England quarterly personal health budget return",
            "An ICB's count of people with a personal health budget by management option, adult or child, and eligibility group: "
            "live at the quarter's end and in the year to date.",
            "funder", ("quarter",), "reports.nhse_return:build",
        ),
        ReportKind(
            "provider-statement", "Statement to the person",
            "The provider's statement to the person for a month or a quarter: hours of support × rate, what was bought, the management fee, the balance.",
            "budget", ("month", "quarter"), "reports.provider_statement:build",
        ),
        ReportKind(
            "easy-read-statement", "Easy-read statement",
            "The statement to the person in easy read, for post: large type, short sentences, one idea a line, simple pictures.",
            "budget", ("month", "quarter"), "reports.provider_statement:build_easy_read",
        ),
        ReportKind(
            "audit-pack", "Audit pack",
            "A funder's audit of a period: trial balance, journal with provenance, flags with their history, the ledger check, "
            "unreconciled items and the evidence attached.",
            "funder", ("quarter", "month", "dates"), "reports.audit_pack:build", bundle="reports.audit_pack:build_zip",
        ),
    )
}  # fmt: skip


def report_kind(name: str) -> ReportKind:
    kind = REPORTS.get(name)
    if kind is None:
        raise NotFound(f"there is no report {name!r}; the reports are: {', '.join(REPORTS)}", code="report_not_found", field="report")
    return kind
