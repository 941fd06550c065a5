"""Who may change what: the one table of every route that changes something, API and pages,
with the roles that may use it. What a user may *see* is ``ledger.access.visibility``'s;
this decides what each role may *do* with what it sees. Both gates (``web.auth.api_guard``
for the API, ``web.pages.access.requires`` for pages) ask :func:`writers_of`, and a route
missing from the table is refused to everyone (a test fails until it is given its writers).

The rules the table writes down:

- the system admin alone sets up funders and holders, the funding streams' review intervals,
  each funder's thresholds and spend checks, and runs the all-holder jobs by hand;
- a holder's admin and staff keep the holder's books; the admin alone closes a quarter or a
  budget and sets the load time;
- agreeing a support plan is the funder's decision (an NHS manager agrees the plan is sound,
  sensible and affordable): a funder's auditor agrees it, or a holder's admin records an
  agreement the funder's named person made, with its date and document; never staff;
- a funder's auditor otherwise makes only its decisions on a flag: accepting or challenging
  an explanation, requiring repayment and recording it recovered;
- a family member asks for a change or a review of their own budget, and — only where that
  budget has a direct payment — sends its statements and explains its flags;
- the system admin alone deactivates, reactivates and resets a user's sign-in (a holder's
  admin asks them: one place decides who may sign in, and nobody can lock out a user of
  another holder or a funder); every signed-in user changes their own password and revokes
  their own API tokens (whose token it is, ``ledger.access.resources`` checks), a family
  member on their account page (their sign-in reaches no more of the API than their balance).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.access.visibility import Role

PREFIX = "/api/v1"


class FamilyWrites(StrEnum):
    NO = "no"
    OWN_BUDGET = "own_budget"
    """On a budget linked to them (the visibility check makes sure it is theirs)."""
    DIRECT_PAYMENT = "direct_payment"
    """On their own budget, and only when it has a direct payment: the family then manages
    the money themselves, and so sends its statements and answers its flags."""


@dataclass(frozen=True, slots=True)
class Writers:
    roles: frozenset[Role]
    family: FamilyWrites = FamilyWrites.NO

    def allow(self, role: Role) -> bool:
        return role in self.roles or (role is Role.FAMILY and self.family is not FamilyWrites.NO)


def _writers(*roles: Role, family: FamilyWrites = FamilyWrites.NO) -> Writers:
    return Writers(frozenset(roles), family)


_R = Role
SYSTEM_ADMIN = _writers(_R.SYSTEM_ADMIN)
HOLDER_ADMIN = _writers(_R.SYSTEM_ADMIN, _R.HOLDER_ADMIN)
HOLDERS = _writers(_R.SYSTEM_ADMIN, _R.HOLDER_ADMIN, _R.HOLDER_STAFF)
FUNDER = _writers(_R.SYSTEM_ADMIN, _R.FUNDER_AUDITOR)
PLAN_AGREERS = _writers(_R.SYSTEM_ADMIN, _R.FUNDER_AUDITOR, _R.HOLDER_ADMIN)
HOLDERS_OR_OWN_FAMILY = _writers(_R.SYSTEM_ADMIN, _R.HOLDER_ADMIN, _R.HOLDER_STAFF, family=FamilyWrites.OWN_BUDGET)
HOLDERS_OR_PAYING_FAMILY = _writers(_R.SYSTEM_ADMIN, _R.HOLDER_ADMIN, _R.HOLDER_STAFF, family=FamilyWrites.DIRECT_PAYMENT)
HOLDER_PAGES = _writers(_R.HOLDER_ADMIN, _R.HOLDER_STAFF)
FUNDER_PAGES = _writers(_R.FUNDER_AUDITOR)
OWN_FAMILY_PAGE = _writers(family=FamilyWrites.OWN_BUDGET)
PAYING_FAMILY_PAGE = _writers(family=FamilyWrites.DIRECT_PAYMENT)
ADMIN_PAGES = _writers(_R.SYSTEM_ADMIN)
ANYONE = _writers(*Role)
"""Signing in and out, and one's own account page."""
OWN_SIGN_IN = _writers(_R.SYSTEM_ADMIN, _R.HOLDER_ADMIN, _R.HOLDER_STAFF, _R.FUNDER_AUDITOR)
"""One's own password and tokens through the API (a family member uses the account page)."""

_A = PREFIX
WRITES: dict[tuple[str, str], Writers] = {
    # parties, budgets and plans
    ("POST", f"{_A}/funders"): SYSTEM_ADMIN,
    ("POST", f"{_A}/holders"): SYSTEM_ADMIN,
    ("POST", f"{_A}/people"): HOLDERS,
    ("POST", f"{_A}/people/{{person_id}}/representatives"): HOLDERS,
    ("POST", f"{_A}/budgets"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/contacts"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/categories"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/plan-versions"): HOLDERS,
    ("PUT", f"{_A}/plan-versions/{{version_id}}"): HOLDERS,
    ("POST", f"{_A}/plan-versions/{{version_id}}/agree"): PLAN_AGREERS,
    ("POST", f"{_A}/plan-versions/{{version_id}}/withdraw"): HOLDERS,
    # the journal
    ("POST", f"{_A}/entries"): HOLDERS,
    ("POST", f"{_A}/entries/{{entry_id}}/reverse"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/closed-quarters"): HOLDER_ADMIN,
    # card loads
    ("POST", f"{_A}/drawdowns/run"): SYSTEM_ADMIN,
    ("POST", f"{_A}/budgets/{{budget_id}}/pauses"): HOLDERS,
    ("POST", f"{_A}/pauses/{{pause_id}}/end"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/load-offsets"): HOLDERS,
    ("PUT", f"{_A}/holders/{{holder_id}}/load-time"): HOLDER_ADMIN,
    # money in
    ("POST", f"{_A}/budgets/{{budget_id}}/expected-payments"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/funder-receipts"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/unallocated/attributions"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/contributions"): HOLDERS,
    # money out
    ("POST", f"{_A}/holders/{{holder_id}}/invoices"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/wages"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/payroll-runs"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/payments"): HOLDERS,
    ("POST", f"{_A}/payables/{{payable_id}}/cancel"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/pools"): HOLDERS,
    ("PUT", f"{_A}/pools/{{pool_id}}/shares"): HOLDERS,
    ("POST", f"{_A}/pools/{{pool_id}}/costs"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/notional-costs"): HOLDERS,
    # set-asides, position and closing
    ("POST", f"{_A}/budgets/{{budget_id}}/contingency-uses"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/contingency/ring-fence"): HOLDERS,
    ("POST", f"{_A}/top-slices/run"): SYSTEM_ADMIN,
    ("PUT", f"{_A}/funders/{{funder_id}}/surplus-thresholds"): SYSTEM_ADMIN,
    ("POST", f"{_A}/budgets/{{budget_id}}/close"): HOLDER_ADMIN,
    ("POST", f"{_A}/budgets/{{budget_id}}/surplus-returns"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/surplus-decisions"): HOLDERS,
    # reviews
    ("POST", f"{_A}/budgets/{{budget_id}}/reviews"): HOLDERS,
    ("POST", f"{_A}/budgets/{{budget_id}}/review-requests"): HOLDERS_OR_OWN_FAMILY,
    ("PUT", f"{_A}/review-intervals/{{funder_kind}}"): SYSTEM_ADMIN,
    ("POST", f"{_A}/budgets/{{budget_id}}/quality-reviews/{{quarter}}"): HOLDERS,
    ("POST", f"{_A}/reports/{{name}}/documents"): HOLDERS,
    # statements and reconciliation
    ("POST", f"{_A}/accounts/{{account_id}}/statements"): HOLDERS_OR_PAYING_FAMILY,
    ("POST", f"{_A}/holders/{{holder_id}}/csv-layouts"): HOLDERS,
    ("POST", f"{_A}/accounts/{{account_id}}/reconcile"): HOLDERS,
    ("POST", f"{_A}/accounts/{{account_id}}/reconciliation/lock"): HOLDERS,
    ("POST", f"{_A}/accounts/{{account_id}}/reconciliation/reopen"): HOLDERS,
    ("POST", f"{_A}/statement-lines/{{line_id}}/match"): HOLDERS,
    ("POST", f"{_A}/statement-lines/{{line_id}}/unmatch"): HOLDERS,
    ("POST", f"{_A}/statement-lines/{{line_id}}/split"): HOLDERS,
    ("POST", f"{_A}/statement-lines/{{line_id}}/recategorise"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/category-rules"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/category-rules/{{rule_key}}"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/category-rules/{{rule_key}}/retire"): HOLDERS,
    ("POST", f"{_A}/holders/{{holder_id}}/remittances"): HOLDERS,
    # flags
    ("POST", f"{_A}/flags/run"): HOLDERS,
    ("POST", f"{_A}/flags/{{flag_id}}/explain"): HOLDERS_OR_PAYING_FAMILY,
    ("POST", f"{_A}/flags/{{flag_id}}/reconsider"): HOLDERS_OR_PAYING_FAMILY,
    ("POST", f"{_A}/flags/{{flag_id}}/accept"): FUNDER,
    ("POST", f"{_A}/flags/{{flag_id}}/challenge"): FUNDER,
    ("POST", f"{_A}/flags/{{flag_id}}/request-recovery"): FUNDER,
    ("POST", f"{_A}/flags/{{flag_id}}/recovered"): FUNDER,
    ("POST", f"{_A}/flags/{{flag_id}}/reallocate"): SYSTEM_ADMIN,
    ("POST", f"{_A}/flags/{{flag_id}}/close"): SYSTEM_ADMIN,
    ("POST", f"{_A}/holders/{{holder_id}}/evidence"): HOLDERS,
    ("POST", f"{_A}/funders/{{funder_id}}/spend-checks"): SYSTEM_ADMIN,
    ("PUT", f"{_A}/funders/{{funder_id}}/flag-settings"): SYSTEM_ADMIN,
    # sign-ins
    ("POST", f"{_A}/users/{{user_id}}/deactivate"): SYSTEM_ADMIN,
    ("POST", f"{_A}/users/{{user_id}}/reactivate"): SYSTEM_ADMIN,
    ("POST", f"{_A}/users/{{user_id}}/one-time-password"): SYSTEM_ADMIN,
    ("POST", f"{_A}/users/{{user_id}}/tokens"): SYSTEM_ADMIN,
    ("POST", f"{_A}/tokens/{{token_id}}/revoke"): OWN_SIGN_IN,
    ("POST", f"{_A}/account/password"): OWN_SIGN_IN,
    # pages
    ("POST", "/sign-in"): ANYONE,
    ("POST", "/sign-out"): ANYONE,
    ("POST", "/holder/statements"): HOLDER_PAGES,
    ("POST", "/holder/payroll"): HOLDER_PAGES,
    ("POST", "/holder/unmatched/{line_id}/match"): HOLDER_PAGES,
    ("POST", "/holder/accounts/{account_id}/reconcile"): HOLDER_PAGES,
    ("POST", "/holder/flags/{flag_id}/explain"): HOLDER_PAGES,
    ("POST", "/holder/budgets/{budget_id}/reviews/{quarter}"): HOLDER_PAGES,
    ("POST", "/funder/flags/{flag_id}/accept"): FUNDER_PAGES,
    ("POST", "/funder/flags/{flag_id}/challenge"): FUNDER_PAGES,
    ("POST", "/funder/flags/{flag_id}/request-recovery"): FUNDER_PAGES,
    ("POST", "/funder/flags/{flag_id}/recovered"): FUNDER_PAGES,
    ("POST", "/family/budgets/{budget_id}/ask"): OWN_FAMILY_PAGE,
    ("POST", "/family/budgets/{budget_id}/statements"): PAYING_FAMILY_PAGE,
    ("POST", "/family/budgets/{budget_id}/flags/{flag_id}"): PAYING_FAMILY_PAGE,
    ("POST", "/admin/users"): ADMIN_PAGES,
    ("POST", "/admin/users/{user_id}/links"): ADMIN_PAGES,
    ("POST", "/admin/users/{user_id}/tokens"): ADMIN_PAGES,
    ("POST", "/admin/users/{user_id}/deactivate"): ADMIN_PAGES,
    ("POST", "/admin/users/{user_id}/reactivate"): ADMIN_PAGES,
    ("POST", "/admin/users/{user_id}/one-time-password"): ADMIN_PAGES,
    ("POST", "/admin/tokens/{token_id}/revoke"): ADMIN_PAGES,
    ("POST", "/account/password"): ANYONE,
    ("POST", "/account/tokens/{token_id}/revoke"): ANYONE,
}
"""Every route that changes something, by its method and path as the app declares it."""

NOBODY = _writers()

FAMILY_READS = frozenset({f"{_A}/family/budgets", f"{_A}/family/budgets/{{budget_id}}", f"{_A}/"})
"""What a family member's sign-in reads in the API: their balance (and what the service is)."""
PUBLIC = frozenset({f"{_A}/"})
"""Open without signing in: what the service is and where its document is."""
OPEN_BEFORE_PASSWORD_CHANGE = frozenset({
    ("GET", f"{_A}/account"), ("POST", f"{_A}/account/password"), ("GET", "/account/password"), ("POST", "/account/password"),
    ("POST", "/sign-out"),
})  # fmt: skip
"""All a user whose password is an admin-set one-time one may do: see who they are, choose
their own password, sign out."""


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    writers: Writers
    family: bool
    """Whether a family member may use the route at all (else 404)."""
    public: bool = False
    open_before_password_change: bool = False


def writers_of(method: str, path: str) -> Writers:
    """Who may use a route that changes something (nobody, for a route not in the table)."""
    return WRITES.get((method.upper(), path), NOBODY)


def policy_for(method: str, path: str) -> RoutePolicy:
    method = method.upper()
    first = (method if method != "HEAD" else "GET", path) in OPEN_BEFORE_PASSWORD_CHANGE
    if method in ("GET", "HEAD", "OPTIONS"):
        return RoutePolicy(NOBODY, family=path in FAMILY_READS, public=path in PUBLIC, open_before_password_change=first)
    writers = writers_of(method, path)
    return RoutePolicy(writers, family=writers.family is not FamilyWrites.NO, open_before_password_change=first)
