"""The funder's pages on a small world (both databases): exceptions first and complete, the
council's share of a jointly funded budget and nothing of the budgets it does not fund, the
drill-down from a figure to the entry and its statement line, an entry shared with another
budget showing only the funded budget's lines, the auditor's decisions through the forms
(challenge, accept, require repayment with its regulation 15 notice, record it recovered)
with their errors, CSRF, another funder's ids answered 404, and every download recorded
against each budget it covers.

The world: an ISF provider holding ISF-0001 (the ICB and the council fund it jointly) and
ISF-0002 (the ICB alone), each with a card load and a reconciled card statement (a betting
shop and a pub raise flags); ISF-0001 has a later statement not yet matched; one entry (a
payroll run) touches both budgets. "Today" is 24 November 2026 on every page.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.access.users import UserSpec, create_user
from ledger.access.visibility import funded_budget_ids
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.money import format_gbp
from ledger.core.periods import parse_quarter
from ledger.core.vocabulary import EntryKind
from ledger.flags import recovery, workflow
from ledger.flags.evidence import attach_evidence
from ledger.position.figures import budget_position
from ledger.reconcile.automatic import reconcile_accounts
from ledger.reviews.plan_reviews import reviews_due
from ledger.store.database import Database
from ledger.store.tables import Account
from ledger.store.tables.access import AccessRecord
from ledger.store.tables.flags import Flag, FlagEvent, RepaymentNotice
from reports.generate import generate
from reports.params import ReportParams, quarter_period
from tests.support.builders import make_budget, make_person, make_plan, make_world
from tests.support.card_statements import CardLine, card_csv, post_drawdown
from web.app import create_app
from web.pages import funder_budgets, funder_flags, funder_pages, funder_reports
from web.statement_import import import_statement

TODAY = date(2026, 11, 24)
PASSWORD = "funder pages: a long enough passphrase"
ICB_AUDITOR = "icb.auditor@test.example"
COUNCIL_AUDITOR = "council.auditor@test.example"
HOLDER = {"actor": "Sam (ISF lead)", "actor_role": "holder"}
MAY_LINES = [
    CardLine("L1", date(2026, 5, 5), "LOAD", "", "LOAD", 40_000),
    CardLine("P1", date(2026, 5, 6), "TESCO STORES 3297", "5411", "PURCHASE", -1_234),
    CardLine("P2", date(2026, 5, 7), "THE SHIP INN", "5813", "PURCHASE", -1_840),
    CardLine("P3", date(2026, 5, 8), "WILLIAM HILL 0123", "7995", "PURCHASE", -2_000),
]
JUNE_LINES = [
    CardLine("P4", date(2026, 6, 2), "BOOTS 1122", "5912", "PURCHASE", -500),
    CardLine("P5", date(2026, 6, 3), "COSTA COFFEE", "5814", "PURCHASE", -350),
]


@dataclass(frozen=True)
class Small:
    icb_id: int
    council_id: int
    holder_id: int
    joint: int
    """ISF-0001: the ICB and the council."""
    icb_only: int
    """ISF-0002: the ICB alone."""
    joint_card: int
    icb_only_card: int
    joint_flags: tuple[int, ...]
    icb_only_flags: tuple[int, ...]
    payroll_entry: int
    icb_only_entry: int
    icb_only_notice: int
    icb_only_evidence: int
    icb_only_document: int


def _card_statement(session: Session, world, budget, lines: list[CardLine], name: str, *, opening_pence: int = 0) -> None:  # type: ignore[no-untyped-def]
    result = import_statement(
        session, account_id=world.account_id(session, "card", budget), data=card_csv(lines, opening_pence), file_name=name,
        format="csv:prepaid_card", imported_by="test",
    )  # fmt: skip
    assert result.import_id is not None


def build_small(session: Session) -> Small:
    world = make_world(session)
    person = make_person(session, "Robin Jones")
    second = make_budget(session, world.holder, person, world.icb, reference="ISF-0002")
    make_plan(session, second, [(world.icb, 3_000_000, 0)], total_pence=3_000_000)
    cards = {}
    for budget in (world.budget, second):
        post_drawdown(session, world, budget, date(2026, 5, 4), 40_000, f"load-{budget.reference}")
        _card_statement(session, world, budget, MAY_LINES, f"{budget.reference}-card-2026-05.csv")
        cards[budget.id] = world.account_id(session, "card", budget)
    reconcile_accounts(session, list(cards.values()), actor="test")
    _card_statement(session, world, world.budget, JUNE_LINES, "ISF-0001-card-2026-06.csv", opening_pence=34_926)
    payroll = post_entry(session, NewEntry(
        book_id=world.holder.id, entry_date=date(2026, 6, 30), description="Payroll June 2026", idempotency_key="payroll-2026-06",
        postings=(
            NewPosting(world.account_id(session, "spend:staff_pay"), 10_000), NewPosting(world.account_id(session, "cash"), -10_000),
            NewPosting(world.account_id(session, "spend:staff_pay", second), 5_000), NewPosting(world.account_id(session, "cash", second), -5_000),
        ), kind=EntryKind.MANUAL, created_by="test",
    )).entry.id  # fmt: skip
    icb_only_entry = post_entry(session, NewEntry(
        book_id=world.holder.id, entry_date=date(2026, 7, 1), description="Swimming club invoice", idempotency_key="swim-2026-07",
        postings=(NewPosting(world.account_id(session, "spend:activities", second), 2_500), NewPosting(world.account_id(session, "cash", second), -2_500)),
        kind=EntryKind.MANUAL, created_by="test",
    )).entry.id  # fmt: skip
    flags_of = lambda budget_id: tuple(session.scalars(select(Flag.id).where(Flag.budget_id == budget_id).order_by(Flag.id)))  # noqa: E731
    joint_flags, icb_only_flags = flags_of(world.budget.id), flags_of(second.id)
    assert len(joint_flags) >= 2 and len(icb_only_flags) >= 2, "the pub and the betting shop raise flags on each budget"
    notice = recovery.request_recovery(
        session, icb_only_flags[-1], amount_pence=2_000, reasons="Betting is not in the plan", repay_by=date(2026, 12, 31),
        repayer="Sunrise Support", issued_on=date(2026, 6, 1), actor="Priya", actor_role="funder",
    ).notices[-1].id  # fmt: skip
    evidence = attach_evidence(
        session, world.holder.id, kind="receipt", file_name="receipt.pdf", content_type="application/pdf", content=b"%PDF-1.4 receipt %%EOF",
        uploaded_by="test", flag_id=icb_only_flags[0], budget_id=second.id,
    )  # fmt: skip
    document = generate(session, "quarterly-review", ReportParams(budget_id=second.id, period=quarter_period(parse_quarter("2026Q1"))),
                        now=datetime(2026, 11, 24, 12, 0), generated_by="test")  # fmt: skip
    for username, funder in ((ICB_AUDITOR, world.icb), (COUNCIL_AUDITOR, world.council)):
        create_user(session, UserSpec(username, f"{funder.name} auditor", "funder_auditor", PASSWORD, funder_id=funder.id), created_by="test")
    return Small(
        world.icb.id, world.council.id, world.holder.id, world.budget.id, second.id, cards[world.budget.id], cards[second.id],  # type: ignore[arg-type]
        joint_flags, icb_only_flags, payroll, icb_only_entry, notice, evidence.id, document.id,  # type: ignore[arg-type]
    )


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    """Every funder page's "today" (the small world's plans run April 2026 to March 2027)."""
    for module in (funder_pages, funder_budgets, funder_flags, funder_reports):
        monkeypatch.setattr(module, "today_in_england", lambda: TODAY)
    return TODAY


@pytest.fixture
def small(db: Database, today: date) -> Small:
    with db.write() as session:
        return build_small(session)


def signed_in(database: Database, username: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(create_app(database, migrate_on_start=False), base_url="https://testserver")
    form = client.get("/sign-in")
    answer = client.post("/sign-in", data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": ""})
    assert answer.status_code == 200, answer.text[:300]
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def section(html: str, anchor: str) -> str:
    """The part of a page from the heading with id ``anchor`` to the next h2."""
    start = html.index(f'id="{anchor}"')
    following = html.find("<h2", start)
    return html[start : following if following != -1 else len(html)]


def figures_on(html: str) -> dict[str, int]:
    """The money table's figures (its share column), as pence."""
    found = {}
    for label, amount in re.findall(r'data-figure="([^"]+)">(-?£[0-9,]+\.[0-9]{2})', html):
        sign = -1 if amount.startswith("-") else 1
        found[label] = sign * int(amount.lstrip("-£").replace(",", "").replace(".", ""))
    return found


def access_records(database: Database, action: str = "auditor_export") -> list[AccessRecord]:
    with database.read() as session:
        return list(session.scalars(select(AccessRecord).where(AccessRecord.action == action).order_by(AccessRecord.id)))


# --- exceptions first ---------------------------------------------------------------------------


def test_the_exceptions_page_lists_every_exception_first_with_its_counts(db: Database, small: Small, today: date) -> None:
    client = signed_in(db, ICB_AUDITOR)
    page = client.get("/funder")
    assert page.status_code == 200
    html = page.text
    with db.read() as session:
        scope = funded_budget_ids(small.icb_id)
        open_flags = session.scalar(select(func.count(Flag.id)).where(Flag.budget_id.in_(scope), Flag.state == "open"))
        overdue = [r for r in reviews_due(session, as_of=today, funder_id=small.icb_id, include_upcoming_days=0) if r.is_overdue]
    cards = re.findall(r'class="nhsuk-card__link" href="[^"]+">([^<]+)</a></h2>\s*<p class="nhsuk-card__description"><span class="app-big-number">([0-9,]+)', html)
    counts = dict(cards)
    assert counts["Open flags"] == str(open_flags) and counts["Reviews overdue"] == str(len(overdue))
    assert counts["Accounts not reconciled"] == "1" and counts["Flags to decide"] == "0"
    assert list(counts) == ["Flags to decide", "Open flags", "Challenged flags", "Accounts not reconciled", "Surplus held", "Reviews overdue"]
    flags = section(html, "flags")
    assert all(f"/funder/flags/{flag_id}" in flags for flag_id in small.joint_flags + small.icb_only_flags[:-1])
    accounts = section(html, "accounts")
    assert f"/funder/budgets/{small.joint}/accounts/{small.joint_card}" in accounts and ">2<" in accounts and "£8.50" in accounts
    assert "apart" in accounts, "the June statement's balance is not what the ledger shows"
    reviews = section(html, "reviews")
    assert all(f"/funder/budgets/{review.budget_id}" in reviews for review in overdue)
    assert html.index('id="flags"') < html.index('id="accounts"') < html.index('id="surplus"') < html.index('id="reviews"')


def test_the_budget_list_puts_those_needing_attention_first_and_filters(db: Database, small: Small) -> None:
    client = signed_in(db, ICB_AUDITOR)
    html = client.get("/funder/budgets").text
    assert html.count("/funder/budgets/") >= 2 and "ISF-0001" in html and "ISF-0002" in html
    assert "Attention" in html
    only = client.get("/funder/budgets", params={"exception": "unmatched"}).text
    assert "ISF-0001" in only and "ISF-0002" not in only
    by_reference = client.get("/funder/budgets", params={"reference": "0002"}).text
    assert "ISF-0002" in by_reference and ">ISF-0001<" not in by_reference


# --- the council's share and nothing more -------------------------------------------------------


def test_the_council_sees_its_share_of_the_joint_budget_and_nothing_of_the_others(db: Database, small: Small) -> None:
    client = signed_in(db, COUNCIL_AUDITOR)
    page = client.get(f"/funder/budgets/{small.joint}")
    assert page.status_code == 200
    with db.read() as session:
        position = budget_position(session, small.joint)
    share = next(s.figures for s in position.shares if s.funder_id == small.council_id)
    shown = figures_on(page.text)
    assert shown["Allocated"] == share.allocated_pence == 2_000_000
    assert shown["Held funds"] == share.held_pence and shown["On the card"] == share.card_pence
    assert shown["Spent"] == share.spent_pence and shown["Money left"] == share.money_left_pence
    assert shown["Contingency left"] == share.contingency_left_pence and shown["Still to come"] == share.receivable_pence
    assert format_gbp(position.figures.allocated_pence) in page.text, "the whole is noted beside the share"
    for path in (f"/funder/budgets/{small.icb_only}", f"/funder/flags/{small.icb_only_flags[0]}", f"/funder/entries/{small.icb_only_entry}",
                 f"/funder/notices/{small.icb_only_notice}", f"/funder/evidence/{small.icb_only_evidence}",
                 f"/funder/documents/{small.icb_only_document}", f"/funder/budgets/{small.icb_only}/accounts/{small.icb_only_card}",
                 f"/funder/budgets/{small.joint}/accounts/{small.icb_only_card}"):  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "ISF-0002" not in answer.text and "Robin" not in answer.text, path
    for path in ("/funder", "/funder/budgets", "/funder/flags", "/funder/tracker?month=2026-05", "/funder/budgets?scope=all"):
        text = client.get(path).text
        assert "ISF-0002" not in text and "Robin Jones" not in text, path
    with db.read() as session:
        icb_own = session.scalar(select(Account.id).where(Account.budget_id == small.joint, Account.funder_id == small.icb_id, Account.kind == "allocation"))
    assert client.get(f"/funder/budgets/{small.joint}/accounts/{icb_own}").status_code == 404, "another funder's own account"


def test_an_entry_shared_with_another_budget_shows_only_the_funded_budgets_lines(db: Database, small: Small) -> None:
    council = signed_in(db, COUNCIL_AUDITOR).get(f"/funder/entries/{small.payroll_entry}").text
    assert "ISF-0001" in council and "ISF-0002" not in council and "£100.00" in council and "£50.00" not in council
    assert "2 more lines of this entry are on budgets or accounts that are not yours to see" in unescape(council)
    icb = signed_in(db, ICB_AUDITOR).get(f"/funder/entries/{small.payroll_entry}").text
    assert "ISF-0001" in icb and "ISF-0002" in icb and "£50.00" in icb and "more line" not in icb


# --- drilling down ------------------------------------------------------------------------------


def test_from_a_figure_to_the_entries_to_the_statement_line(db: Database, small: Small) -> None:
    client = signed_in(db, COUNCIL_AUDITOR)
    budget = client.get(f"/funder/budgets/{small.joint}").text
    spent = re.search(r'<a href="(/funder/budgets/\d+/accounts/\d+)">[^<]*<span class="nhsuk-u-visually-hidden">: Staff pay and personal assistants', budget)
    assert spent is not None, "spending by category links to the category's account"
    card = re.search(r'<a href="(/funder/budgets/\d+/accounts/(\d+))" data-figure="On the card">', budget)
    assert card is not None and int(card.group(2)) == small.joint_card
    account = client.get(card.group(1)).text
    assert "shared by the budget" in account, "the council sees that the account's entries are the whole budget's"
    row = account[: account.index("Card purchase: WILLIAM HILL")]
    entry_link = re.findall(r'<a href="(/funder/entries/\d+)">Entry \d+</a>', row)[-1]  # the betting shop's row
    assert "ISF-0001-card-2026-05.csv, line 5" in account[len(row) :][:600], "the statement line beside the entry"
    entry = client.get(entry_link).text
    assert re.search(r"data-statement-file>ISF-0001-card-2026-05.csv<", entry) and re.search(r"data-statement-line>5<", entry)
    assert "WILLIAM HILL 0123" in entry and "-£20.00" in entry
    period = client.get(card.group(1), params={"from": "2026-06-01", "to": "2026-06-30"}).text
    assert "No entries in this period" in period and "Balance before 1 June 2026" in period


def test_an_accounts_entries_come_a_page_at_a_time(db: Database, small: Small) -> None:
    with db.write() as session:
        cash = session.scalar(select(Account.id).where(Account.budget_id == small.joint, Account.kind == "cash"))
        fees = session.scalar(select(Account.id).where(Account.budget_id == small.joint, Account.kind == "fees"))
        for n in range(60):
            post_entry(session, NewEntry(book_id=small.holder_id, entry_date=date(2026, 8, 1 + n % 28), description=f"Bank fee {n}",
                                         idempotency_key=f"fee-{n}", postings=(NewPosting(fees, 10), NewPosting(cash, -10)),  # type: ignore[arg-type]
                                         kind=EntryKind.FEE, created_by="test"))  # fmt: skip
    client = signed_in(db, ICB_AUDITOR)
    first = client.get(f"/funder/budgets/{small.joint}/accounts/{fees}").text
    assert first.count("/funder/entries/") == 50
    older = re.search(r'href="\?before=([^"]+)"', first)
    assert older is not None
    second = client.get(f"/funder/budgets/{small.joint}/accounts/{fees}?before={older.group(1)}").text
    assert second.count("/funder/entries/") == 10 and "Bank fee" in second


# --- decisions on flags -------------------------------------------------------------------------


def _explain(db: Database, flag_id: int, note: str = "A birthday meal at the pub with friends: in the plan's activities") -> None:
    with db.write() as session:
        workflow.explain(session, flag_id, note, **HOLDER)


def test_the_auditor_challenges_then_accepts_an_explanation(db: Database, small: Small) -> None:
    flag_id = small.joint_flags[0]
    _explain(db, flag_id)
    client = signed_in(db, COUNCIL_AUDITOR)
    page = client.get(f"/funder/flags/{flag_id}")
    assert "Accept the explanation" in page.text and "Challenge the explanation" in page.text
    challenged = client.post(f"/funder/flags/{flag_id}/challenge", data={"note": "Send the receipt, please", "csrf_token": csrf_of(page.text)})
    assert challenged.status_code == 200 and "You challenged the explanation" in challenged.text
    _explain(db, flag_id, "Receipt attached: two meals and soft drinks")
    page = client.get(f"/funder/flags/{flag_id}")
    accepted = client.post(f"/funder/flags/{flag_id}/accept", data={"note": "Soft drinks only: fine", "csrf_token": csrf_of(page.text)})
    assert accepted.status_code == 200 and "You accepted the explanation" in accepted.text
    with db.read() as session:
        events = list(session.scalars(select(FlagEvent).where(FlagEvent.flag_id == flag_id).order_by(FlagEvent.id)))
    assert [e.action for e in events][-4:] == ["explained", "challenged", "explained", "accepted"]
    assert events[-1].actor == "Plymouth City Council auditor (council.auditor@test.example)" and events[-1].actor_role == "funder" and events[-1].note == "Soft drinks only: fine"
    again = client.post(f"/funder/flags/{flag_id}/accept", data={"note": "Another note", "csrf_token": csrf_of(accepted.text)})
    assert again.status_code == 409 and "There is a problem" in again.text and "someone acted on it" in again.text


def test_an_empty_decision_is_shown_again_with_its_errors(db: Database, small: Small) -> None:
    flag_id = small.joint_flags[-1]
    _explain(db, flag_id)
    client = signed_in(db, ICB_AUDITOR)
    page = client.get(f"/funder/flags/{flag_id}")
    empty = client.post(f"/funder/flags/{flag_id}/accept", data={"note": "  ", "csrf_token": csrf_of(page.text)})
    assert empty.status_code == 422 and "There is a problem" in empty.text and 'href="#accept-note"' in empty.text
    recovery = client.post(f"/funder/flags/{flag_id}/request-recovery", data={
        "amount": "twenty", "reasons": "", "repay_by_day": "31", "repay_by_month": "2", "repay_by_year": "2027", "repayer": "",
        "csrf_token": csrf_of(page.text),
    })  # fmt: skip
    assert recovery.status_code == 422
    for field in ("amount", "reasons", "repay-by-day", "repayer"):
        assert f'href="#{field}"' in recovery.text, field
    assert "<details class=\"nhsuk-details\" open>" in recovery.text, "the form with the errors is open"
    past = client.post(f"/funder/flags/{flag_id}/request-recovery", data={
        "amount": "20.00", "reasons": "Betting", "repay_by_day": "1", "repay_by_month": "11", "repay_by_year": "2026", "repayer": "The holder",
        "csrf_token": csrf_of(page.text),
    })  # fmt: skip
    assert past.status_code == 422 and "must be after today, 24 November 2026" in past.text
    with db.read() as session:
        assert session.get(Flag, flag_id).state == "explained"  # type: ignore[union-attr]
        assert session.scalar(select(func.count(RepaymentNotice.id)).where(RepaymentNotice.flag_id == flag_id)) == 0


def test_requiring_repayment_writes_the_notice_and_the_money_is_recorded_back(db: Database, small: Small) -> None:
    flag_id = next(f for f in small.joint_flags if _code(db, f) == "EXCLUDED_MCC")
    client = signed_in(db, ICB_AUDITOR)
    page = client.get(f"/funder/flags/{flag_id}")
    assert "Require the money to be repaid" in page.text
    sent = client.post(f"/funder/flags/{flag_id}/request-recovery", data={
        "amount": "20.00", "reasons": "Betting is excluded from every personal health budget.", "repay_by_day": "31",
        "repay_by_month": "1", "repay_by_year": "2027", "repayer": "Sunrise Support (the budget holder)", "csrf_token": csrf_of(page.text),
    })  # fmt: skip
    assert sent.status_code == 200 and re.search(r"/funder/notices/\d+", str(sent.url))
    notice = unescape(sent.text)
    assert "Notice requiring repayment" in notice and "regulation 15" in notice.lower()
    assert "£20.00" in notice and "31 January 2027" in notice and "Sunrise Support (the budget holder)" in notice
    assert "Betting is excluded from every personal health budget." in notice and "ask NHS Devon ICB to reconsider" in notice
    with db.read() as session:
        stored = session.scalars(select(RepaymentNotice).where(RepaymentNotice.flag_id == flag_id)).one()
        assert (stored.amount_pence, stored.repay_by, stored.issued_on, stored.issued_by) == (2_000, date(2027, 1, 31), TODAY, "NHS Devon ICB auditor (icb.auditor@test.example)")
    page = client.get(f"/funder/flags/{flag_id}")
    assert "Record the money recovered" in page.text
    missing = client.post(f"/funder/flags/{flag_id}/recovered", data={"csrf_token": csrf_of(page.text)})
    assert missing.status_code == 422 and 'href="#method"' in missing.text and 'href="#recovered-on-day"' in missing.text
    done = client.post(f"/funder/flags/{flag_id}/recovered", data={
        "method": "repayment", "into": "card", "on_day": "20", "on_month": "12", "on_year": "2026", "csrf_token": csrf_of(page.text),
    })  # fmt: skip
    assert done.status_code == 200 and "You recorded that the money came back" in done.text
    with db.read() as session:
        assert session.get(Flag, flag_id).state == "recovered"  # type: ignore[union-attr]
        recovered = session.scalars(select(FlagEvent).where(FlagEvent.flag_id == flag_id, FlagEvent.action == "recovered")).one()
        assert recovered.entry_id is not None
    assert f"/funder/entries/{recovered.entry_id}" in done.text


def _code(db: Database, flag_id: int) -> str:
    with db.read() as session:
        return session.get(Flag, flag_id).code  # type: ignore[union-attr]


def test_forms_without_the_csrf_token_are_refused(db: Database, small: Small) -> None:
    flag_id = small.joint_flags[0]
    _explain(db, flag_id)
    client = signed_in(db, ICB_AUDITOR)
    for action, data in (("accept", {"note": "fine"}), ("challenge", {"note": "why?"}), ("recovered", {"method": "offset"}),
                         ("request-recovery", {"amount": "1.00", "reasons": "x", "repayer": "y"})):  # fmt: skip
        assert client.post(f"/funder/flags/{flag_id}/{action}", data=data).status_code == 403, action
        assert client.post(f"/funder/flags/{flag_id}/{action}", data={**data, "csrf_token": "not-the-token"}).status_code == 403, action
    with db.read() as session:
        assert session.get(Flag, flag_id).state == "explained"  # type: ignore[union-attr]


def test_another_funders_flag_cannot_be_decided(db: Database, small: Small) -> None:
    flag_id = small.icb_only_flags[0]
    _explain(db, flag_id)
    client = signed_in(db, COUNCIL_AUDITOR)
    token = csrf_of(client.get("/funder/flags").text)
    for action, data in (("accept", {"note": "fine"}), ("challenge", {"note": "why?"})):
        answer = client.post(f"/funder/flags/{flag_id}/{action}", data={**data, "csrf_token": token})
        assert answer.status_code == 404 and "ISF-0002" not in answer.text
    with db.read() as session:
        assert session.get(Flag, flag_id).state == "explained"  # type: ignore[union-attr]
    assert signed_in(db, "council.auditor@test.example").get("/funder/flags/999999999").status_code == 404


# --- downloads ----------------------------------------------------------------------------------


def test_every_download_is_recorded_against_each_budget_it_covers(db: Database, small: Small) -> None:
    client = signed_in(db, ICB_AUDITOR)
    page = client.get("/funder/downloads")
    assert page.status_code == 200 and "NHS England quarterly return" in page.text and "Documents kept" in page.text
    tracker = client.get("/funder/downloads/funder-tracker", params={"period": "2026-05", "format": "csv"})
    assert tracker.status_code == 200 and tracker.headers["content-type"].startswith("text/csv") and "ISF-0001" in tracker.text
    records = access_records(db)
    assert {r.budget_id for r in records} == {small.joint, small.icb_only} and all(r.user_id and r.role == "funder_auditor" for r in records)
    assert "funder-tracker 2026-05 as csv" in records[-1].reason
    pack = client.get("/funder/downloads/audit-pack", params={"period": "2026Q1", "format": "zip"})
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    assert any(name.endswith(".pdf") or name.endswith(".csv") for name in zipfile.ZipFile(io.BytesIO(pack.content)).namelist())
    assert len(access_records(db)) == len(records) + 2
    kept = client.get(f"/funder/documents/{small.icb_only_document}", params={"format": "pdf"})
    assert kept.status_code == 200 and kept.content.startswith(b"%PDF")
    assert access_records(db)[-1].budget_id == small.icb_only
    council = signed_in(db, COUNCIL_AUDITOR)
    monitoring = council.get("/funder/downloads/monitoring-return", params={"budget": "isf-0001", "period": "2026Q1", "format": "xlsx"})
    assert monitoring.status_code == 200 and monitoring.content[:2] == b"PK"
    last = access_records(db)[-1]
    assert last.budget_id == small.joint and last.funder_id == small.council_id
    before = len(access_records(db))
    hidden = council.get("/funder/downloads/monitoring-return", params={"budget": "ISF-0002", "period": "2026Q1", "format": "pdf"})
    assert hidden.status_code == 404 and "There is no budget ISF-0002 among those" in hidden.text
    assert council.get("/funder/downloads/nhse-return", params={"period": "2026Q1", "format": "pdf"}).status_code == 404
    assert "NHS England quarterly return" not in council.get("/funder/downloads").text
    wrong = council.get("/funder/downloads/funder-tracker", params={"period": "2026Q1", "format": "pdf"})
    assert wrong.status_code == 422 and "There is a problem" in wrong.text and "a month" in wrong.text
    assert len(access_records(db)) == before, "nothing downloaded, nothing recorded"


def test_the_tracker_page_is_the_reports_document_with_its_months(db: Database, small: Small) -> None:
    client = signed_in(db, COUNCIL_AUDITOR)
    page = client.get("/funder/tracker", params={"month": "2026-05"})
    assert page.status_code == 200
    html = page.text
    assert "Monthly tracker: May 2026" in html and "?month=2026-04" in html and "?month=2026-06" in html
    assert f'<a href="/funder/budgets/{small.joint}">ISF-0001</a>' in html
    for format in ("html", "pdf", "csv", "xlsx"):
        assert f"/funder/downloads/funder-tracker?period=2026-05&amp;format={format}" in html
    default = client.get("/funder/tracker").text
    assert "Monthly tracker: October 2026" in default and "?month=2026-11" in default and "?month=2026-12" not in default


def test_the_tracker_page_shows_the_kept_version_until_asked_for_one_made_now(db: Database, small: Small, monkeypatch: pytest.MonkeyPatch) -> None:
    from reports.params import parse_month

    with db.write() as session:
        kept = generate(session, "funder-tracker", ReportParams(funder_id=small.icb_id, period=parse_month("2026-05")),
                        now=datetime(2026, 6, 1, 9, 0), generated_by="scheduler")  # fmt: skip
    client = signed_in(db, ICB_AUDITOR)
    page = client.get("/funder/tracker", params={"month": "2026-05"}).text
    assert "This is version 1, kept on 1 June 2026" in page and f"/funder/documents/{kept.id}?format=pdf" in page
    assert "?month=2026-05&amp;live=true" in page
    monkeypatch.setattr(funder_reports, "TRACKER_ROWS_SHOWN", 1)
    live = client.get("/funder/tracker", params={"month": "2026-05", "live": "true"}).text
    assert "Made now from the ledger. Version 1 was kept on 1 June 2026" in live
    assert "… and 1 more: the CSV and XLSX of this tracker hold every row." in live
