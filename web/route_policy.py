"""Which roles may use which API route, beyond what they may see (``ledger.access.visibility``).

Reading is open to every role that can see the records named. Writing is for a holder's
admin and staff and the system admin, except:

- the system admin alone sets up funders and holders, the funding streams' review intervals,
  each funder's thresholds and spend checks, and runs the all-holder jobs by hand;
- a holder's admin (not its staff) closes a quarter or a budget and sets the load time;
- a funder's auditor makes no change but its own decisions on a flag: accepting or
  challenging an explanation, requesting recovery and recording it recovered (nobody but
  the system admin may make those; closing a settled flag and recording a reallocation are
  the system admin's, or the scheduler's when the ledger settles it);
- a family member reads only their own balance, asks for a change or a review, and — on a
  direct payment — uploads statements and explains flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.access.visibility import Role

ADMIN = frozenset({Role.SYSTEM_ADMIN})
HOLDER_ADMIN = frozenset({Role.SYSTEM_ADMIN, Role.HOLDER_ADMIN})
HOLDERS = frozenset({Role.SYSTEM_ADMIN, Role.HOLDER_ADMIN, Role.HOLDER_STAFF})
AUDITORS = frozenset({Role.SYSTEM_ADMIN, Role.FUNDER_AUDITOR})
WITH_FAMILY = HOLDERS | {Role.FAMILY}
PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    writers: frozenset[Role] = HOLDERS
    family: bool = False
    """Whether a family member may use the route at all (else 404)."""
    public: bool = False
    """Open without signing in (what the service is and where its document is)."""


SPECIAL: dict[tuple[str, str], RoutePolicy] = {
    ("POST", "/funders"): RoutePolicy(ADMIN),
    ("POST", "/holders"): RoutePolicy(ADMIN),
    ("PUT", "/review-intervals/{funder_kind}"): RoutePolicy(ADMIN),
    ("PUT", "/funders/{funder_id}/surplus-thresholds"): RoutePolicy(ADMIN),
    ("POST", "/funders/{funder_id}/spend-checks"): RoutePolicy(ADMIN),
    ("PUT", "/funders/{funder_id}/flag-settings"): RoutePolicy(ADMIN),
    ("POST", "/drawdowns/run"): RoutePolicy(ADMIN),
    ("POST", "/top-slices/run"): RoutePolicy(ADMIN),
    ("POST", "/users"): RoutePolicy(ADMIN),
    ("POST", "/holders/{holder_id}/closed-quarters"): RoutePolicy(HOLDER_ADMIN),
    ("PUT", "/holders/{holder_id}/load-time"): RoutePolicy(HOLDER_ADMIN),
    ("POST", "/budgets/{budget_id}/close"): RoutePolicy(HOLDER_ADMIN),
    ("POST", "/flags/{flag_id}/accept"): RoutePolicy(AUDITORS),
    ("POST", "/flags/{flag_id}/challenge"): RoutePolicy(AUDITORS),
    ("POST", "/flags/{flag_id}/request-recovery"): RoutePolicy(AUDITORS),
    ("POST", "/flags/{flag_id}/recovered"): RoutePolicy(AUDITORS),
    ("POST", "/flags/{flag_id}/reallocate"): RoutePolicy(ADMIN),
    ("POST", "/flags/{flag_id}/close"): RoutePolicy(ADMIN),
    ("POST", "/flags/{flag_id}/explain"): RoutePolicy(WITH_FAMILY, family=True),
    ("POST", "/flags/{flag_id}/reconsider"): RoutePolicy(WITH_FAMILY, family=True),
    ("POST", "/budgets/{budget_id}/review-requests"): RoutePolicy(WITH_FAMILY, family=True),
    ("POST", "/accounts/{account_id}/statements"): RoutePolicy(WITH_FAMILY, family=True),
    ("GET", "/family/budgets"): RoutePolicy(family=True),
    ("GET", "/family/budgets/{budget_id}"): RoutePolicy(family=True),
    ("GET", "/"): RoutePolicy(family=True, public=True),
}


def policy_for(method: str, path: str) -> RoutePolicy:
    key = (method.upper(), path[len(PREFIX) :] if path.startswith(PREFIX) else path)
    return SPECIAL.get(key, RoutePolicy())
