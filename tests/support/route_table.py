"""The access tests' world and the app's route table.

**The world** (:func:`build_world`): two holders (A and B), two funders (an ICB and a
council); at A a budget funded jointly by the ICB and the council with a client
contribution (``A1``) and an ICB-only budget (``A2``); at B an ICB-only budget (``B1``).
A1 is a direct payment (so its family member sends statements and explains flags).
Each budget has everything an address can name: accounts, a card statement imported and
reconciled (statement import, lines, matches, entries), flags (one with a regulation 15
notice), evidence, a payable, a pause, an agreed plan version, a quality review, a kept
report document and expected payments; A1's entry and payable are an invoice shared with A2
(so a council auditor reading it must see A1's lines only). Each holder has a pool and a category rule; the
council has a funder-wide kept document. Users of every role sign in: holder A's admin and
staff, holder B's admin, the ICB's and the council's auditors, a family member linked to A1
(as the person's representative) and the system admin.

**The route table** (:func:`endpoints`): every route of ``create_app(db).routes`` with its
methods, its area (API or which pages) and the record each path parameter names. A path
parameter this module does not know fails the tests (:class:`UnknownParameter`): a new
route with a new kind of id cannot be forgotten.

**Who may see what** (:func:`may_see`) is decided here from the world's facts, independently
of ``ledger.access.visibility``: holder users see their holder's records, the people of their budgets
and the funders that fund them; an auditor sees the budgets its funder funds (never a
holder-wide record); the family member sees A1 only; the system admin sees everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import Mount

from ledger.access.users import UserSpec, create_user, digest, issue_api_token, link_family
from ledger.budgets import budget as budgets
from ledger.budgets import parties, plans
from ledger.budgets.pauses import pause_budget
from ledger.core import accounts
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.periods import parse_quarter
from ledger.core.vocabulary import EntryKind
from ledger.flags.evidence import attach_evidence
from ledger.flags.recovery import request_recovery
from ledger.money_in.expected_payments import add_expected_payment
from ledger.money_out.payables import approve_invoice
from ledger.money_out.pools import create_pool
from ledger.reconcile.automatic import reconcile_accounts
from ledger.reconcile.category_rules import define_rule
from ledger.reviews.quality_reviews import AttendeeSpec, QualityReviewSpec, record_quality_review
from ledger.store.database import Database
from ledger.store.tables.access import UserSession
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementLineRecord
from reports.generate import generate
from reports.params import ReportParams, parse_month, quarter_period
from web.auth import SESSION_COOKIE
from web.statement_import import import_statement

PASSWORD = "access tests: a long enough passphrase"
PLAN_START = date(2026, 4, 1)
PLAN_END = date(2027, 3, 31)
QUARTER = "2026Q1"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n a receipt \n%%EOF"

ADMIN_A, STAFF_A, ADMIN_B = "holder_a_admin", "holder_a_staff", "holder_b_admin"
ICB_AUDITOR, COUNCIL_AUDITOR, FAMILY, SYSTEM_ADMIN = "icb_auditor", "council_auditor", "family", "system_admin"
ROLES = (ADMIN_A, STAFF_A, ADMIN_B, ICB_AUDITOR, COUNCIL_AUDITOR, FAMILY, SYSTEM_ADMIN)
"""Every kind of user the tests sign in (holder B's staff would only repeat holder B's admin)."""


@dataclass(frozen=True, slots=True)
class BudgetFacts:
    """One budget of the world as written down before it was made: what identifies it."""

    key: str
    holder: str
    reference: str
    person: str
    representative: str
    contact: str
    total_pence: int
    funding: tuple[tuple[str, int, int], ...]
    """(funder key, amount, client contribution) per funding line."""
    option: str = "third_party"
    """The management option of its one part (on a prepaid card)."""

    @property
    def funders(self) -> frozenset[str]:
        return frozenset(key for key, _, _ in self.funding)

    def identifying(self) -> tuple[str, ...]:
        """Strings whose presence in a response would show something of this budget."""
        pounds, pence = divmod(self.total_pence, 100)
        return (self.person, self.person.split()[-1], self.reference, self.representative, self.contact,
                f"{pounds:,}.{pence:02d}", f"{pounds}.{pence:02d}")  # fmt: skip


BUDGETS = (
    BudgetFacts("A1", "A", "ALD-7731", "Zephyrine Quillon", "Perpetua Quillon", "Cressida Fairweather", 4_123_457,
                (("icb", 2_173_457, 0), ("council", 1_950_000, 130_000)), option="direct_payment"),
    BudgetFacts("A2", "A", "ALD-8842", "Barnaby Thistlewood", "Evangeline Thistlewood", "Horatio Penhallow", 3_311_113,
                (("icb", 3_311_113, 0),)),
    BudgetFacts("B1", "B", "BIR-9953", "Ottoline Marchbank", "Leopold Marchbank", "Winifred Trelawny", 2_977_771,
                (("icb", 2_977_771, 0),)),
)  # fmt: skip
FACTS = {facts.key: facts for facts in BUDGETS}

USERS: dict[str, tuple[str, str, str]] = {
    ADMIN_A: ("ignatius@alder.test", "Ignatius Pemberton", "holder_admin"),
    STAFF_A: ("lavinia@alder.test", "Lavinia Crabtree", "holder_staff"),
    ADMIN_B: ("montgomery@birch.test", "Montgomery Fairfax", "holder_admin"),
    ICB_AUDITOR: ("araminta@icb.test", "Araminta Goodbody", "funder_auditor"),
    COUNCIL_AUDITOR: ("cornelius@council.test", "Cornelius Ashdown", "funder_auditor"),
    FAMILY: ("perpetua@family.test", "Perpetua Quillon", "family"),
    SYSTEM_ADMIN: ("septimus@service.test", "Septimus Oakhart", "system_admin"),
}
"""Role key → (username, display name, role)."""

ROLE_HOLDER = {ADMIN_A: "A", STAFF_A: "A", ADMIN_B: "B"}
ROLE_FUNDER = {ICB_AUDITOR: "icb", COUNCIL_AUDITOR: "council"}
FAMILY_BUDGETS = frozenset({"A1"})


@dataclass
class Target:
    """The records of one budget (and its holder and one of its funders) that addresses name."""

    key: str
    budget_id: int
    holder_id: int
    funder_id: int
    funder: str
    person_id: int
    ids: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    database: Database
    holder_ids: dict[str, int]
    funder_ids: dict[str, int]
    targets: dict[str, Target]
    user_ids: dict[str, int]
    tokens: dict[str, str]
    council_document_id: int
    spare_token_id: int
    """The system admin's token that no client sends: the one addresses naming a token name
    (revoking it stops no test's client)."""

    def names(self) -> list[str]:
        """Every person's, representative's, contact's and user's name in the world."""
        people = [name for facts in BUDGETS for name in (facts.person, facts.representative, facts.contact)]
        return people + [display for _, display, _ in USERS.values()]


# --- building the world ------------------------------------------------------------------------


def build_world(database: Database) -> World:
    with database.write() as session:
        funder_ids = {
            "icb": parties.create_funder(session, parties.FunderSpec("icb-test", "NHS Test ICB", "icb")).id,
            "council": parties.create_funder(session, parties.FunderSpec("council-test", "Test City Council", "council_adult_social_care")).id,
        }  # fmt: skip
        holder_ids = {
            "A": parties.create_holder(session, parties.HolderSpec("holder-a", "Alder Support", "isf_provider")).id,
            "B": parties.create_holder(session, parties.HolderSpec("holder-b", "Birch Care", "isf_provider")).id,
        }
        targets = {facts.key: _stock_budget(session, facts, holder_ids, funder_ids) for facts in BUDGETS}  # type: ignore[arg-type]
        for holder, keys in (("A", ("A1", "A2")), ("B", ("B1",))):
            pool = create_pool(session, holder_ids[holder], f"Shared staff {holder}", [(FACTS[k].reference, 1) for k in keys])
            rule = define_rule(session, holder_ids[holder], match_on="mcc", pattern="7997", category="activities", created_by="test")
            for key in keys:
                targets[key].ids.update(pool_id=pool.id, rule_key=rule.rule_key)
        shared = approve_invoice(
            session, holder_ids["A"], supplier="Day Centre", number="SHARED-1", dated_on=date(2026, 6, 3), approved_by="test",
            lines=[(FACTS["A1"].reference, "activities", 2_500), (FACTS["A2"].reference, "activities", 2_700)],
        ).payable.payable  # fmt: skip
        targets["A1"].ids.update(entry_id=shared.approval_entry_id, payable_id=shared.id)  # one entry and one payable over A1 and A2
        council_doc = generate(
            session, "funder-summary", ReportParams(funder_id=funder_ids["council"], period=parse_month("2026-10")), now=NOW,
            generated_by="test",
        ).id  # fmt: skip
        user_ids = _make_users(session, holder_ids, funder_ids, targets)  # type: ignore[arg-type]
        tokens = {role: issue_api_token(session, user_ids[role], name="access tests")[0] for role in ROLES if role != FAMILY}
        spare = issue_api_token(session, user_ids[SYSTEM_ADMIN], name="access tests: spare")[1].id
    return World(database, holder_ids, funder_ids, targets, user_ids, tokens, council_doc, spare)  # type: ignore[arg-type]


def _stock_budget(session: Session, facts: BudgetFacts, holder_ids: dict[str, int], funder_ids: dict[str, int]) -> Target:
    """The budget, its person and plan, and every kind of record an address can name."""
    holder_id = holder_ids[facts.holder]
    person = parties.create_person(session, parties.PersonSpec(facts.person, date(1990, 5, 1), "learning_disability_autism"), today=NOW.date())
    representative = parties.add_representative(
        session, person.id, parties.RepresentativeSpec(facts.representative, "nominated_family_member", relationship="parent")
    )  # type: ignore[arg-type]
    budget = budgets.create_budget(
        session,
        budgets.BudgetSpec(
            reference=facts.reference, holder_id=holder_id, person_id=person.id, lead_funder_id=funder_ids[facts.funding[0][0]],  # type: ignore[arg-type]
            period_start=PLAN_START, period_end=PLAN_END, parts=(budgets.PartSpec(facts.option, "prepaid_card"),),
            contacts=(budgets.ContactSpec("care_coordinator", facts.contact, phone="01752 000000"),),
        ),
    )  # fmt: skip
    contingency, activities = 100_000, 50_000
    version = plans.create_draft(
        session, budget.id,
        plans.PlanVersionSpec(
            effective_from=PLAN_START, total_pence=facts.total_pence,
            funding_lines=[plans.FundingLineSpec(funder_ids[key], amount, contribution) for key, amount, contribution in facts.funding],
            lines=[plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=facts.total_pence - contingency - activities),
                   plans.PlanLineSpec("activities", "Swimming", "recurring", annual_amount_pence=activities)],
            contingency_pence=contingency,
        ),
    )  # fmt: skip
    plans.agree(session, version.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=datetime(2026, 3, 20, 10, 0))
    for key, _, _ in facts.funding:
        add_expected_payment(session, budget.id, funder_ids[key], due_on=date(2026, 4, 1), amount_pence=10_000, description="First", created_by="test")
    funder_key = facts.funding[-1][0]
    target = Target(facts.key, budget.id, holder_id, funder_ids[funder_key], funder_key, person.id)  # type: ignore[arg-type]
    target.ids.update(budget_id=budget.id, holder_id=holder_id, funder_id=funder_ids[funder_key], person_id=person.id, version_id=version.id,
                      representative_id=representative.id)  # fmt: skip
    target.ids.update(_statement_records(session, facts, holder_id, budget.id))
    target.ids.update(_other_records(session, facts, holder_id, budget.id))
    return target


def _statement_records(session: Session, facts: BudgetFacts, holder_id: int, budget_id: int) -> dict[str, Any]:
    """A card load, the card's statement imported and reconciled (its flags raised), one flag
    taken to a regulation 15 notice and evidence on another."""
    codes = [f"{facts.reference}:{suffix}" for suffix in ("card", "cash")]
    ids = accounts.account_ids_by_code(session, codes)
    card, cash = ids[codes[0]], ids[codes[1]]
    load = post_entry(
        session,
        NewEntry(book_id=holder_id, entry_date=date(2026, 5, 4), description="Card load", idempotency_key=f"load-{facts.key}",
                 postings=(NewPosting(card, 40_000), NewPosting(cash, -40_000)), kind=EntryKind.DRAWDOWN, created_by="test"),
    ).entry.id  # fmt: skip
    imported = import_statement(session, account_id=card, data=_card_csv(), file_name=f"card-{facts.key}.csv", format="csv:prepaid_card", imported_by="test")
    reconcile_accounts(session, [card], actor="test")
    line_id = session.scalar(select(StatementLineRecord.id).where(StatementLineRecord.account_id == card).order_by(StatementLineRecord.id))
    flag_ids = list(session.scalars(select(Flag.id).where(Flag.budget_id == budget_id).order_by(Flag.id)))
    assert len(flag_ids) >= 2, f"the card statement should raise two flags on {facts.reference}"
    recovered = request_recovery(
        session, flag_ids[1], amount_pence=2_000, reasons="Betting is not in the plan", repay_by=date(2026, 12, 31), repayer=facts.person,
        issued_on=date(2026, 6, 1), actor="Auditor", actor_role="funder",
    )  # fmt: skip
    evidence = attach_evidence(
        session, holder_id, kind="receipt", file_name="receipt.pdf", content_type="application/pdf", content=PDF, uploaded_by="test",
        flag_id=flag_ids[0], budget_id=budget_id,
    )  # fmt: skip
    return {"account_id": card, "code": codes[0], "import_id": imported.import_id, "line_id": line_id, "entry_id": load, "flag_id": flag_ids[0],
            "notice_id": recovered.notices[-1].id, "evidence_id": evidence.id}  # fmt: skip


def _other_records(session: Session, facts: BudgetFacts, holder_id: int, budget_id: int) -> dict[str, Any]:
    """A pause, an approved invoice, a quality review and its kept document."""
    pause = pause_budget(session, budget_id, starts_on=date(2027, 1, 4), ends_on=date(2027, 1, 10), reason="In hospital", recorded_by="test")
    payable = approve_invoice(
        session, holder_id, supplier="Swim Club", number=f"INV-{facts.key}", dated_on=date(2026, 6, 2),
        lines=[(facts.reference, "activities", 3_000)], approved_by="test",
    )  # fmt: skip
    record_quality_review(
        session, budget_id, QUARTER,
        QualityReviewSpec(held_on=date(2026, 6, 20), attendees=(AttendeeSpec(facts.person.split()[0], "the person"),)),
        recorded_by="test", today=NOW.date(),
    )  # fmt: skip
    document = generate(
        session, "quarterly-review", ReportParams(budget_id=budget_id, period=quarter_period(parse_quarter(QUARTER))), now=NOW, generated_by="test"
    )  # fmt: skip
    return {"pause_id": pause.id, "payable_id": payable.payable.id, "document_id": document.id}


def _card_csv() -> bytes:
    header = "Transaction ID,Date,Card Number,Merchant,Description,MCC,Type,Amount,Fee,Currency,Balance"
    lines = [("L1", "05/05/2026", "LOAD", "", "LOAD", 40_000), ("P1", "06/05/2026", "TESCO STORES 3297", "5411", "PURCHASE", -1_234),
             ("P2", "07/05/2026", "THE SHIP INN", "5813", "PURCHASE", -1_840), ("P3", "08/05/2026", "WILLIAM HILL 0123", "7995", "PURCHASE", -2_000)]  # fmt: skip
    balance, rows = 0, [header]
    for ident, day, merchant, mcc, kind, pence in lines:
        balance += pence
        rows.append(f"{ident},{day},************4321,{merchant},{merchant},{mcc},{kind},{_pounds(pence)},,GBP,{_pounds(balance)}")
    return ("\n".join(rows) + "\n").encode()


def _pounds(pence: int) -> str:
    return f"{'-' if pence < 0 else ''}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def _make_users(session: Session, holder_ids: dict[str, int], funder_ids: dict[str, int], targets: dict[str, Target]) -> dict[str, int]:
    user_ids = {}
    for role, (username, display, kind) in USERS.items():
        holder = holder_ids[ROLE_HOLDER[role]] if role in ROLE_HOLDER else None
        funder = funder_ids[ROLE_FUNDER[role]] if role in ROLE_FUNDER else None
        user = create_user(session, UserSpec(username, display, kind, PASSWORD, holder, funder), created_by="test")
        user_ids[role] = user.id
    for key in FAMILY_BUDGETS:
        link_family(session, user_ids[FAMILY], targets[key].budget_id, representative_id=targets[key].ids["representative_id"], created_by="test")
    return user_ids  # type: ignore[return-value]


# --- the route table ---------------------------------------------------------------------------

API = "/api/v1"
AREAS = {"/api/": "api", "/holder": "holder", "/funder": "funder", "/family": "family", "/admin": "admin", "/account": "account"}
SESSION_PATHS = frozenset({"/", "/sign-in", "/sign-out"})
PUBLIC_PATHS = frozenset({f"{API}/openapi.json", f"{API}/docs", "/docs/oauth2-redirect"})
"""The OpenAPI document and its viewer: open to anyone, naming no record."""
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

BUDGET_RECORDS = frozenset({
    "budget_id", "person_id", "account_id", "code", "import_id", "line_id", "entry_id", "version_id", "pause_id", "payable_id",
    "flag_id", "notice_id", "evidence_id", "document_id",
})  # fmt: skip
"""Records of one budget: visible to whoever may see the budget."""
HOLDER_RECORDS = frozenset({"holder_id", "pool_id"})
"""Holder-wide records: only the holder's own users (and the system admin) see them."""
FUNDER_RECORDS = frozenset({"funder_id"})
USER_RECORDS = frozenset({"user_id", "token_id"})
"""A sign-in and its tokens: its user's own and the system admin's (the world's addresses name
the family member's user and the system admin's spare token, so only the system admin sees them)."""
FREE = {"quarter": QUARTER, "name": "quarterly-review", "funder_kind": "icb", "format": "html", "report": "monitoring-return"}
"""Path parameters that name no record of their own: a fixed value that exists."""
PATH_PARAMETERS = BUDGET_RECORDS | HOLDER_RECORDS | FUNDER_RECORDS | USER_RECORDS | frozenset(FREE) | {"rule_key"}

QUERY_RECORDS = {"budget_id": "budget_id", "holder_id": "holder_id", "funder_id": "funder_id", "account_id": "account_id",
                 "budget": "budget_id", "account": "account_id", "holder": "holder_id"}  # fmt: skip
"""Query parameters naming a record (pages call them ``budget``, ``account``, ``holder``)."""
QUERY_EXTRAS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", f"{API}/reports/{{name}}"): {"quarter": QUARTER},
    ("GET", "/funder/downloads/{report}"): {"period": QUARTER, "format": "html"},
}
"""What a route needs beside its path to reach the record (a report's period)."""
QUERY_SUBJECTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", f"{API}/reports/{{name}}"): ("budget_id",),
    ("GET", "/funder/downloads/{report}"): ("budget",),
}
"""Routes whose path names only what is asked for (a report), and whose query names whose."""
QUERY_AS_REFERENCE = frozenset({("/funder/downloads/{report}", "budget")})
"""Query parameters that take a budget's reference rather than its id."""
LIST_FILTERS_ON_FUNDER_PAGES = frozenset({"holder"})
"""A funder's pages filter its own budgets by holder: a filter, not a record it reads."""


FORM_RECORDS = {"account": "account_id", "account_id": "account_id", "budget": "budget_id", "entry_ids": "entry_id",
                "payable_ids": "payable_id", "funder_id": "funder_id", "holder_id": "holder_id"}  # fmt: skip
"""A page form's fields that name a record."""


def form_records(endpoint: Endpoint, target: Target) -> dict[str, str]:
    """The form fields of ``endpoint`` that name a record, filled with ``target``'s."""
    return {name: str(target.ids[FORM_RECORDS[name]]) for name, is_file in endpoint.fields if name in FORM_RECORDS and not is_file}


RECORD_NOUNS = frozenset({"budget", "holder", "funder", "person", "account", "entry", "pause", "payable", "pool",
                          "flag", "notice", "evidence", "document", "user", "representative"})  # fmt: skip
"""A query parameter or form field by one of these names (or ending ``_id``/``_ids``) names a record."""


def _names_a_record(name: str) -> bool:
    return name.endswith(("_id", "_ids")) or name in RECORD_NOUNS


class UnknownParameter(AssertionError):
    """A route names a record this table does not know: add it (and who may see it)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    area: str
    """``api``, ``holder``, ``funder``, ``family``, ``admin``, ``session`` or ``public``."""
    parameters: tuple[str, ...]
    query_records: tuple[str, ...]
    fields: tuple[tuple[str, bool], ...] = ()
    """A page form's fields: (name, whether it is a file)."""

    def form(self, **values: str) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
        """The form filled with "1" in every field (``values`` instead where given) and a
        one-byte text file in every file field: enough to get past validation to the handler."""
        data = {name: values.get(name, "1") for name, is_file in self.fields if not is_file}
        files = {name: ("note.txt", b"1", "text/plain") for name, is_file in self.fields if is_file}
        return data, files

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE

    @property
    def api_path(self) -> str:
        return self.path[len(API) :] if self.path.startswith(API) else self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every route and method of the app (HEAD left out: it is GET's), static files aside."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount) or route.path is None:
            continue
        parameters = tuple(re.findall(r"{([^}:]+)(?::[^}]*)?}", route.path))
        dependant = getattr(route.original_route, "dependant", None)
        queries = [param.alias or param.name for param in (dependant.query_params if dependant else [])]
        fields = tuple(
            (param.alias or param.name, "UploadFile" in str(param.field_info.annotation))
            for param in (dependant.body_params if dependant and not route.path.startswith(API) else [])
        )
        for name in parameters:
            if name not in PATH_PARAMETERS:
                raise UnknownParameter(f"{route.path}: path parameter {name!r} names a record the access tests do not know")
        for name in queries:
            if _names_a_record(name) and name not in QUERY_RECORDS:
                raise UnknownParameter(f"{route.path}: query parameter {name!r} names a record the access tests do not know")
        for name, is_file in fields:
            if not is_file and _names_a_record(name) and name not in FORM_RECORDS:
                raise UnknownParameter(f"{route.path}: form field {name!r} names a record the access tests do not know")
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append(Endpoint(method, route.path, _area(route.path), parameters, tuple(q for q in queries if q in QUERY_RECORDS), fields))
    return found


def _area(path: str) -> str:
    if path in PUBLIC_PATHS:
        return "public"
    if path in SESSION_PATHS:
        return "session"
    for prefix, area in AREAS.items():
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] in "/?" or prefix.endswith("/")):
            return area
    raise UnknownParameter(f"{path}: a page outside every known area (holder, funder, family, admin): whose is it?")


# --- who may use what ---------------------------------------------------------------------------

FAMILY_API = frozenset({
    ("GET", "/family/budgets"), ("GET", "/family/budgets/{budget_id}"), ("POST", "/flags/{flag_id}/explain"),
    ("POST", "/flags/{flag_id}/reconsider"), ("POST", "/budgets/{budget_id}/review-requests"), ("POST", "/accounts/{account_id}/statements"),
})  # fmt: skip
"""What a family member's sign-in reaches in the API: their balance, asking for a review, and
(on a direct payment) sending statements and explaining flags."""
AUDITOR_WRITES = frozenset({"/flags/{flag_id}/accept", "/flags/{flag_id}/challenge", "/flags/{flag_id}/request-recovery", "/flags/{flag_id}/recovered",
                            "/plan-versions/{version_id}/agree"})  # fmt: skip
"""The only changes an auditor makes: its decisions on a flag, and agreeing a support plan."""

# Who may change what through the API, written down here independently of web.route_policy.
SYSTEM_ADMIN_WRITES = frozenset({
    "/funders", "/holders", "/review-intervals/{funder_kind}", "/funders/{funder_id}/surplus-thresholds", "/funders/{funder_id}/spend-checks",
    "/funders/{funder_id}/flag-settings", "/drawdowns/run", "/top-slices/run", "/flags/{flag_id}/reallocate", "/flags/{flag_id}/close",
})  # fmt: skip
"""Set-up, funders' settings, the all-holder jobs and the ends of a flag's life: the system admin's alone."""
SYSTEM_ADMIN_WRITES |= {"/users/{user_id}/deactivate", "/users/{user_id}/reactivate", "/users/{user_id}/one-time-password", "/users/{user_id}/tokens"}
"""And who may sign in: deactivating, reactivating, one-time passwords, issuing tokens."""
OWN_SIGN_IN_WRITES = frozenset({"/account/password", "/tokens/{token_id}/revoke"})
"""One's own password and tokens: every user's but a family member's (whose account page does it)."""
HOLDER_ADMIN_WRITES = frozenset({"/holders/{holder_id}/closed-quarters", "/holders/{holder_id}/load-time", "/budgets/{budget_id}/close"})
"""What a holder's admin does and its staff may not."""
PLAN_AGREEMENT = "/plan-versions/{version_id}/agree"
"""The funder's decision: its auditor agrees, or a holder's admin records the funder's agreement; never staff."""
FAMILY_WRITES = {"/budgets/{budget_id}/review-requests": False, "/accounts/{account_id}/statements": True,
                 "/flags/{flag_id}/explain": True, "/flags/{flag_id}/reconsider": True}  # fmt: skip
"""What a family member may change through the API, and whether only on a direct payment."""
ROLE_KIND = {ADMIN_A: "holder_admin", STAFF_A: "holder_staff", ADMIN_B: "holder_admin", ICB_AUDITOR: "funder_auditor",
             COUNCIL_AUDITOR: "funder_auditor", FAMILY: "family", SYSTEM_ADMIN: "system_admin"}  # fmt: skip


def may_write(kind: str, endpoint: Endpoint) -> bool:
    """Whether a user of ``kind`` (a role's name) may make the change ``endpoint`` makes, on a
    record they may see (a family member: on a budget with a direct payment)."""
    if endpoint.area in ("session", "public", "account"):
        return True
    if endpoint.area != "api":
        return kind in {"holder": ("holder_admin", "holder_staff"), "funder": ("funder_auditor",), "family": ("family",),
                        "admin": ("system_admin",)}[endpoint.area]  # fmt: skip
    path = endpoint.api_path
    if kind == "system_admin":
        return True
    if path in OWN_SIGN_IN_WRITES:
        return kind != "family"
    if kind == "family":
        return path in FAMILY_WRITES
    if kind == "funder_auditor":
        return path in AUDITOR_WRITES
    if path in SYSTEM_ADMIN_WRITES or path in AUDITOR_WRITES - {PLAN_AGREEMENT}:
        return False
    if path in HOLDER_ADMIN_WRITES or path == PLAN_AGREEMENT:
        return kind == "holder_admin"
    return kind in ("holder_admin", "holder_staff")
PAGE_AREAS = {"holder": {ADMIN_A, STAFF_A, ADMIN_B}, "funder": {ICB_AUDITOR, COUNCIL_AUDITOR}, "family": {FAMILY}, "admin": {SYSTEM_ADMIN},
              "account": set(ROLES)}  # fmt: skip


def may_use(role: str, endpoint: Endpoint) -> bool:
    """Whether ``role`` may use the route at all, whatever it names."""
    if endpoint.area in ("session", "public"):
        return True
    if endpoint.area == "api":
        return role != FAMILY or (endpoint.method, endpoint.api_path) in FAMILY_API
    return role in PAGE_AREAS[endpoint.area]


def may_see(role: str, parameter: str, target: Target) -> bool:
    """Whether ``role`` may see the record ``parameter`` names in ``target``, from the world's facts."""
    facts = FACTS[target.key]
    if role == SYSTEM_ADMIN or parameter in FREE or parameter == "rule_key":
        return True
    if parameter in USER_RECORDS:
        return False
    if parameter in HOLDER_RECORDS:
        return ROLE_HOLDER.get(role) == facts.holder
    if parameter in FUNDER_RECORDS:
        if role in ROLE_FUNDER:
            return ROLE_FUNDER[role] == target.funder
        return role in ROLE_HOLDER and any(f.holder == ROLE_HOLDER[role] and target.funder in f.funders for f in BUDGETS)
    assert parameter in BUDGET_RECORDS, parameter
    if role in ROLE_HOLDER:
        return ROLE_HOLDER[role] == facts.holder
    if role in ROLE_FUNDER:
        return ROLE_FUNDER[role] in facts.funders
    return target.key in FAMILY_BUDGETS


def visible_budgets(role: str) -> frozenset[str]:
    """The budgets ``role`` may see anything of."""
    return frozenset(f.key for f in BUDGETS if may_see(role, "budget_id", Target(f.key, 0, 0, 0, "", 0)))


def identifying_of_hidden(role: str) -> frozenset[str]:
    """Every string that would show something of a budget ``role`` may not see."""
    shown = visible_budgets(role)
    return without_own_name(role, [text for f in BUDGETS if f.key not in shown for text in f.identifying()])


def without_own_name(role: str, strings: list[str] | tuple[str, ...]) -> frozenset[str]:
    """``strings`` but those in the user's own name (every page shows who is signed in)."""
    own = USERS[role][1]
    return frozenset(text for text in strings if text not in own)


# --- requests ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Probe:
    """One request of an endpoint naming the records of one target."""

    endpoint: Endpoint
    target: str
    url: str
    kinds: tuple[str, ...]
    """The kinds of record the request names (path parameters, or ``budget_id`` for a query's budget)."""
    query: str | None = None
    """The query parameter that alone names the record (the route's path names none)."""

    @property
    def by_query(self) -> bool:
        return self.query is not None

    @property
    def filter_only(self) -> bool:
        """A filter of what the user sees anyway (a funder's budgets by holder): it reads no record."""
        return self.endpoint.area == "funder" and self.query in LIST_FILTERS_ON_FUNDER_PAGES

    @property
    def as_form_field(self) -> bool:
        """A page naming the record in its query, as a form field or filter: refusing it as a
        form error (422), like a record that does not exist, is as good as a 404."""
        return self.endpoint.area != "api" and (self.by_query or (self.endpoint.method, self.endpoint.path) in QUERY_SUBJECTS)

    def visible_to(self, world: World, role: str) -> bool:
        return may_use(role, self.endpoint) and all(may_see(role, kind, world.targets[self.target]) for kind in self.kinds)


def probes(world: World, endpoint: Endpoint) -> list[Probe]:
    """The requests that name each target's records through ``endpoint``: its path parameters
    all at once (with what the route needs beside them), or (a route without them) each query
    parameter naming a record in turn."""
    found = []
    for key, target in world.targets.items():
        extras = dict(QUERY_EXTRAS.get((endpoint.method, endpoint.path), {}))
        if endpoint.parameters:
            values = {name: _value(world, target, name) for name in endpoint.parameters}
            kinds = endpoint.parameters
            for name in QUERY_SUBJECTS.get((endpoint.method, endpoint.path), ()):
                extras[name] = FACTS[key].reference if (endpoint.path, name) in QUERY_AS_REFERENCE else target.ids[QUERY_RECORDS[name]]
                kinds += (QUERY_RECORDS[name],)
            found.append(Probe(endpoint, key, _with_query(endpoint.path.format(**values), extras), kinds))
        elif endpoint.method == "GET":
            for name in endpoint.query_records:
                value = FACTS[key].reference if (endpoint.path, name) in QUERY_AS_REFERENCE else target.ids[QUERY_RECORDS[name]]
                found.append(Probe(endpoint, key, _with_query(endpoint.path, {**extras, name: value}), (QUERY_RECORDS[name],), query=name))
    return found


def _value(world: World, target: Target, name: str) -> Any:
    if name in FREE:
        return FREE[name]
    if name == "user_id":
        return world.user_ids[FAMILY]
    if name == "token_id":
        return world.spare_token_id
    return target.ids[name]


def _with_query(url: str, query: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return f"{url}?{urlencode(query)}" if query else url


# --- signing in ------------------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clients:
    """Per role: a browser signed in with the form (cookie) and its CSRF token, and (but for
    the family) an API client with a bearer token."""

    browser: dict[str, TestClient]
    csrf: dict[str, str]
    api: dict[str, TestClient]
    anonymous: TestClient

    def for_api(self, role: str) -> tuple[TestClient, dict[str, str]]:
        """The client for an API request as ``role``, and the headers it needs."""
        if role == FAMILY:
            return self.browser[role], {"X-CSRF-Token": self.csrf[role]}
        return self.api[role], {}


def sign_in(app: FastAPI, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A browser signed in through the sign-in form, and its session's CSRF token (what every
    page's forms carry; read from the session's row, so that a page being built elsewhere
    cannot stop these tests)."""
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    form = client.get("/sign-in")
    token = CSRF_FIELD.search(form.text)
    assert token is not None, "the sign-in page has a csrf_token field"
    answer = client.post("/sign-in", data={"username": username, "password": password, "csrf_token": token.group(1), "next": ""},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text[:300]
    database: Database = app.state.database
    with database.read() as session:
        csrf = session.scalar(select(UserSession.csrf_token).where(UserSession.token_sha256 == digest(client.cookies[SESSION_COOKIE])))
    assert csrf is not None
    return client, csrf


@contextmanager
def clients(app: FastAPI, world: World) -> Iterator[Clients]:
    """Every role's clients, each kept open for the block (one event loop each, not one per request)."""
    with ExitStack() as stack:
        anonymous = stack.enter_context(TestClient(app, base_url="https://testserver", raise_server_exceptions=False))
        browser, csrf = {}, {}
        for role in ROLES:
            client, csrf[role] = sign_in(app, USERS[role][0])
            browser[role] = stack.enter_context(client)
        api = {
            role: stack.enter_context(
                TestClient(app, base_url="https://testserver", headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False)
            )
            for role, token in world.tokens.items()
        }
        yield Clients(browser, csrf, api, anonymous)


READ_ROLES = tuple(role for role in ROLES if role != STAFF_A)
"""Holder A's staff read exactly what holder A's admin reads: asked only where they differ (writes)."""


def asks(world: World, endpoint: Endpoint, roles: tuple[str, ...], *, visible: bool = True, invisible: bool = True) -> list[tuple[str, Probe]]:
    """The (role, probe) pairs worth asking: every probe a role may not see and one it may;
    for a role that may not use the route at all, one probe (of its own records, if any)."""
    found = []
    every = probes(world, endpoint)
    for role in roles:
        if not may_use(role, endpoint):
            own = [probe for probe in every if all(may_see(role, kind, world.targets[probe.target]) for kind in probe.kinds)]
            found += [(role, (own or every)[0])] if invisible and every else []
            continue
        seen = [probe for probe in every if probe.visible_to(world, role)]
        if invisible:
            found += [(role, probe) for probe in every if probe not in seen]
        if visible and seen:
            found.append((role, seen[0]))
    return found
