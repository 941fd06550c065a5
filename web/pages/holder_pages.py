"""The holder's pages (a provider's admin and staff): budgets, one budget, statements and
payroll uploads, the unmatched queue, flags to explain, and quarterly quality reviews. Each
area is a module of its own; this one gathers their routers.

Every page passes ``HOLDER_PAGES`` (signed in, a holder's user, the CSRF token of a form)
and checks every id it is given against ``ledger.access.visibility``: another holder's budget, account,
import, flag or document is the same 404 page as one that does not exist.

Uploads need a larger body limit than the service's default (``web.limits``): the app gives
each path of ``UPLOAD_LIMITS`` its own.
"""

from __future__ import annotations

from fastapi import APIRouter

from web.pages import holder_budgets, holder_flags, holder_payroll, holder_reviews, holder_statements, holder_unmatched

router = APIRouter(include_in_schema=False)
for _module in (holder_budgets, holder_statements, holder_payroll, holder_unmatched, holder_flags, holder_reviews):
    router.include_router(_module.router)

UPLOAD_LIMITS = (*holder_statements.UPLOAD_LIMITS, *holder_payroll.UPLOAD_LIMITS, *holder_flags.UPLOAD_LIMITS)
"""(path regex, bytes) of the holder's upload forms, for ``BodySizeLimit``'s overrides."""
