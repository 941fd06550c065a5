"""The funder's pages (a funder's auditor): exceptions first across holders, the monthly
tracker, the budgets it funds with every figure drilled down to the entries and statement
lines behind it, its decisions on flags (accept, challenge, require repayment by a
regulation 15 notice, record it recovered), and returns and audit packs to download.

The auditor sees only the budgets its funder funds (``ledger.access.visibility``) and, of a jointly
funded budget, its own share of every money figure (the whole is noted beside it). Every id
in an address is checked: another funder's budget, flag or entry gets the same 404 page as
one that does not exist. This module holds the exceptions page and includes the others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ledger.access.visibility import Principal, funded_budget_ids
from ledger.reviews.due import ReviewDue
from reports.funder_view_reads import funder_scope
from web.clock import today_in_england
from web.pages import funder_budgets, funder_entries, funder_flags, funder_reports
from web.pages.access import FUNDER_PAGES
from web.pages.funder_common import WORKING_STATES, database, funder_of, month_of, words
from web.pages.funder_reads import (
    AccountProblem,
    FlagRow,
    SurplusRow,
    flag_counts,
    flag_query,
    flag_rows,
    holder_names,
    overdue_reviews,
    surplus_held,
    unreconciled_accounts,
)  # fmt: skip
from web.pages.render import page

router = APIRouter(include_in_schema=False)
SHORT = 10
"""Rows of each table on the exceptions page, until asked for all."""
SECTIONS = ("flags", "accounts", "surplus", "reviews")


@dataclass(frozen=True)
class Exceptions:
    as_of: date
    flag_counts: dict[str, int]
    flags: list[FlagRow]
    accounts: list[AccountProblem]
    surplus: list[SurplusRow]
    reviews: list[ReviewDue]
    review_holders: dict[int, str]

    @property
    def working_flags(self) -> int:
        return sum(self.flag_counts.get(state, 0) for state in WORKING_STATES)


def read_exceptions(session: Session, funder_id: int, today: date) -> Exceptions:
    """Everything that needs the funder's attention, in bulk over the budgets it funds."""
    scope = funded_budget_ids(funder_id)
    funded = set(session.scalars(scope))
    month = month_of(today)
    reviews = overdue_reviews(session, funder_id, funded, today)
    return Exceptions(
        as_of=today,
        flag_counts=flag_counts(session, scope),
        flags=flag_rows(session, flag_query(scope, states=WORKING_STATES), limit=SHORT),
        accounts=unreconciled_accounts(session, scope),
        surplus=surplus_held(session, funder_id, funder_scope(funder_id, month.first, today), today),
        reviews=reviews,
        review_holders=holder_names(session, (review.holder_id for review in reviews)),
    )


@router.get("/funder")
def exceptions_page(request: Request, show: str | None = Query(default=None, max_length=20), who: Principal = Depends(FUNDER_PAGES)) -> Response:
    with database(request).read() as session:
        funder = funder_of(session, who)
        found = read_exceptions(session, funder.id, today_in_england())  # type: ignore[arg-type]
    return page(
        request, "funder/exceptions.html", title="Exceptions", funder=funder, found=found, show=show if show in SECTIONS else None,
        short=SHORT, **words(),
    )  # fmt: skip


router.include_router(funder_reports.router)
router.include_router(funder_budgets.router)
router.include_router(funder_entries.router)
router.include_router(funder_flags.router)
