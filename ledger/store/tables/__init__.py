"""The database tables (SQLModel), one module per concept.

Amounts are integer pence in ``*_pence`` BIGINT columns; timestamps are UTC without a zone;
enumerated values are stored as their text (see ``ledger.core.vocabulary``).
"""

from ledger.store.tables.base import metadata, utcnow
from ledger.store.tables.budgets import Budget, BudgetContact, BudgetPart, Category
from ledger.store.tables.drawdowns import BudgetPause, Drawdown
from ledger.store.tables.journal import Account, ClosedPeriod, JournalEntry, LedgerBook, Posting
from ledger.store.tables.parties import Funder, Holder, Person, Representative
from ledger.store.tables.plans import FundingLine, PlanLine, PlanOutcome, PlanPartAmount, SupportPlanVersion
from ledger.store.tables.scheduler import APSCHEDULER_JOBS, SchedulerLease

# Later money flows keep their tables in their own modules (import the classes from there);
# importing them here registers them with the metadata.
from ledger.store.tables import access, budget_money, closing, flags, funder_payments, load_offsets, payables, quality_reviews, reconciliation, report_documents, reviews, sign_in_throttle, statements  # noqa: E402, F401  isort: skip

__all__ = [
    "APSCHEDULER_JOBS",
    "Account",
    "Budget",
    "BudgetContact",
    "BudgetPart",
    "BudgetPause",
    "Category",
    "ClosedPeriod",
    "Drawdown",
    "Funder",
    "FundingLine",
    "Holder",
    "JournalEntry",
    "LedgerBook",
    "Person",
    "PlanLine",
    "PlanOutcome",
    "PlanPartAmount",
    "Posting",
    "Representative",
    "SchedulerLease",
    "SupportPlanVersion",
    "metadata",
    "utcnow",
]
