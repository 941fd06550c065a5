"""The holder's forms, on both databases, signed in as a small world's holder admin: a real
statement file uploaded and its summary read, a bad one refused naming its line and field;
reconciling and matching a line from the unmatched queue's suggestions; a payroll run
uploaded, and a bad one refused with every problem by line; a flag explained with a receipt;
a quarterly quality review recorded through the form (mistakes shown with the values kept)
and read back in the review's document."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledger.access.users import UserSpec, create_user
from ledger.budgets import parties, plans
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.money import format_gbp
from ledger.core.periods import parse_quarter
from ledger.core.vocabulary import EntryKind
from ledger.flags.views import flag_view
from ledger.money_in.expected_payments import add_expected_payment
from ledger.reconcile.automatic import reconcile_accounts
from ledger.reconcile.status import account_status
from ledger.reviews.quality_reviews import quality_review_of
from ledger.reviews.report_documents import Trigger, list_documents
from ledger.statements.storing import statement_import
from ledger.store.database import Database
from ledger.store.tables import Account, PlanOutcome
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementImport
from reports.generate import generate
from reports.params import ReportParams, quarter_period
from tests.support.builders import AGREED_AT, make_budget, make_person, make_plan
from tests.support.card_statements import card_csv
from tests.support.payables_world import payroll_csv, world_with_budgets
from tests.test_pages_holder import csrf_of, signed_in, text_of
from tests.test_reconcile import bank_csv, card_lines
from web.app import create_app
from web.statement_import import import_statement

PASSWORD = "correct horse battery staple"
SAM, PAT = "sam@sunrise.example", "pat@elsewhere.example"
STATEMENTS = Path(__file__).parent / "data" / "statements"


@dataclass
class Small:
    db: Database
    holder_id: int
    budget_ids: list[int]
    icb_id: int
    other_budget_id: int

    def account(self, suffix: str, budget: int = 0) -> int:
        with self.db.read() as session:
            return session.scalar(select(Account.id).where(Account.code == f"ISF-{budget + 1:04d}:{suffix}"))  # type: ignore[return-value]

    def client(self, username: str = SAM) -> TestClient:
        return signed_in(self.db, username, PASSWORD)


@pytest.fixture
def small(db: Database) -> Small:
    """Sunrise Support's two agreed budgets (ISF-0001 jointly funded), its admin Sam, and
    another holder (Elsewhere Care, admin Pat) with a budget of its own."""
    with db.write() as session:
        world, budgets = world_with_budgets(session, 2)
        outcomes_plan(session, world.budget.id, world.version.id, world.icb.id, world.council.id)
        other = parties.create_holder(session, parties.HolderSpec("elsewhere", "Elsewhere Care", "isf_provider"))
        budget = make_budget(session, other, make_person(session, "Robin Other"), world.icb, reference="ELS-0001")
        make_plan(session, budget, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
        create_user(session, UserSpec(SAM, "Sam at Sunrise", "holder_admin", PASSWORD, world.holder.id), created_by="test")
        create_user(session, UserSpec(PAT, "Pat at Elsewhere", "holder_admin", PASSWORD, other.id), created_by="test")
        return Small(db, world.holder.id, [b.id for b in budgets], world.icb.id, budget.id)  # type: ignore[arg-type]


def outcomes_plan(session, budget_id: int, version_id: int, icb_id: int, council_id: int) -> None:  # type: ignore[no-untyped-def]
    """ISF-0001's agreed plan, revised from April to name two outcomes to review."""
    revision = plans.create_draft(session, budget_id, plans.PlanVersionSpec(
        effective_from=date(2026, 4, 1), total_pence=5_200_000,
        funding_lines=[plans.FundingLineSpec(icb_id, 3_200_000, 0), plans.FundingLineSpec(council_id, 2_000_000, 0)],
        lines=[plans.PlanLineSpec("staff_pay", "Personal assistants", "recurring", annual_amount_pence=5_050_000),
               plans.PlanLineSpec("activities", "Swimming", "recurring", annual_amount_pence=50_000)],
        contingency_pence=100_000, outcomes=["Go swimming every week", "Cook a meal for friends once a month"],
        change_reason="outcomes written down",
    ))  # fmt: skip
    plans.agree(session, revision.id, agreed_by_name="Jo Bloggs", agreed_by_role="ICB PHB manager", agreed_at=AGREED_AT)


def forms_of(page: str, action_part: str) -> list[dict[str, str]]:
    """Each form posting to an address containing ``action_part``, as its hidden fields."""
    found = []
    for form in re.findall(r"<form[^>]*action=\"[^\"]*" + re.escape(action_part) + r"[^\"]*\"[^>]*>.*?</form>", page, flags=re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        fields["_action"] = re.search(r'action="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        found.append({k: html.unescape(v) for k, v in fields.items()})
    return found


# --- statements ------------------------------------------------------------------------------


def test_a_statement_file_is_uploaded_and_its_summary_read(small: Small) -> None:
    client = small.client()
    card = small.account("card")
    token = csrf_of(client.get("/holder/statements").text)
    data = (STATEMENTS / "csv" / "sample__prepaid_card.csv").read_bytes()
    sent = client.post("/holder/statements", data={"csrf_token": token, "account": str(card), "format": "auto"},
                       files={"file": ("sample__prepaid_card.csv", data, "text/csv")}, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text[:500]
    import_id = int(sent.headers["location"].rsplit("/", 1)[1])
    with small.db.read() as session:
        result = statement_import(session, import_id)
    summary = text_of(client.get(sent.headers["location"]).text)
    assert result.new > 0 and result.account_id == card
    assert f"{result.new} new line" in summary and "ISF-0001 card" in summary and "sample__prepaid_card.csv" in summary
    assert f"Total of the file's lines {format_gbp(result.lines_total_pence)}" in summary
    again = client.post("/holder/statements", data={"csrf_token": token, "account": str(card), "format": "csv:prepaid_card"},
                        files={"file": ("again.csv", data, "text/csv")})  # fmt: skip
    assert again.status_code == 200 and f"0 new lines stored; {result.lines} already stored" in text_of(again.text)
    listed = text_of(client.get("/holder/statements").text)
    assert "sample__prepaid_card.csv" in listed and "again.csv" in listed
    assert client.get(f"/holder/statements?account={card}").status_code == 200
    assert client.get(f"/holder/statements?budget={small.budget_ids[0]}").status_code == 200
    assert small.client(PAT).get(sent.headers["location"]).status_code == 404


def test_a_bad_file_is_refused_naming_its_line_and_field(small: Small) -> None:
    client = small.client()
    card = small.account("card")
    token = csrf_of(client.get("/holder/statements").text)
    data = (STATEMENTS / "csv" / "sample__prepaid_card.csv").read_bytes().replace(b"-23.40", b"-23.4x")
    refused = client.post("/holder/statements", data={"csrf_token": token, "account": str(card), "format": "auto"},
                          files={"file": ("broken.csv", data, "text/csv")})  # fmt: skip
    assert refused.status_code == 422
    words = text_of(refused.text)
    assert "There is a problem" in words and "broken.csv, line 3, field Amount" in words
    assert 'href="#file"' in refused.text
    nothing = client.post("/holder/statements", data={"csrf_token": token, "account": "", "format": "auto"})
    assert nothing.status_code == 422
    assert "Choose the account the statement is for" in text_of(nothing.text) and "Choose a statement file" in text_of(nothing.text)
    with small.db.read() as session:
        assert session.scalar(select(func.count()).select_from(StatementImport)) == 0


# --- reconciling and the unmatched queue -----------------------------------------------------------


def test_the_reconcile_button_and_a_suggestion_match_a_payment(small: Small) -> None:
    with small.db.write() as session:
        for budget_id in small.budget_ids:
            add_expected_payment(session, budget_id, small.icb_id, due_on=date(2026, 4, 1), amount_pence=25_000, description="April", created_by="t")
        bank = session.scalar(select(Account.id).where(Account.code == "holder:sunrise:unallocated"))
        import_statement(session, account_id=bank, data=bank_csv([(date(2026, 4, 2), "BACS CREDIT", 25_000)]), file_name="bank.csv",
                         format="csv:starling", imported_by="test")  # fmt: skip
    client = small.client()
    token = csrf_of(client.get("/holder/unmatched").text)
    done = client.post(f"/holder/accounts/{bank}/reconcile", data={"csrf_token": token})
    assert done.status_code == 200 and "Reconciled: 0 lines matched, 1 left unmatched" in text_of(done.text)
    queue = client.get("/holder/unmatched")
    assert "1 line to match" in text_of(queue.text) and "£250.00" in queue.text
    suggestions = [f for f in forms_of(queue.text, "/match") if f.get("kind") == "receivables"]
    assert len(suggestions) == 2  # two budgets are owed £250: a person chooses, never the service
    chosen = {k: v for k, v in suggestions[0].items() if k != "_action"}
    matched = client.post(suggestions[0]["_action"], data=chosen, follow_redirects=False)
    assert matched.status_code == 303 and "matched=" in matched.headers["location"]
    after = text_of(client.get(matched.headers["location"]).text)
    assert "0 lines to match" in after and "is matched" in after
    with small.db.read() as session:
        assert account_status(session, bank).unmatched_line_count == 0
    again = client.post(suggestions[1]["_action"], data={k: v for k, v in suggestions[1].items() if k != "_action"})
    assert again.status_code == 409 and "There is a problem" in again.text  # the line is matched already
    assert small.client(PAT).post(f"/holder/accounts/{bank}/reconcile", data={"csrf_token": token}).status_code == 403
    pat = small.client(PAT)
    assert pat.post(f"/holder/accounts/{bank}/reconcile", data={"csrf_token": csrf_of(pat.get("/holder").text)}).status_code == 404


# --- payroll ---------------------------------------------------------------------------------------


def pay_date(day: int, month: int, year: int) -> dict[str, str]:
    return {"pay-day": str(day), "pay-month": str(month), "pay-year": str(year)}


def test_a_payroll_run_is_uploaded_and_a_bad_one_refused_by_line(small: Small) -> None:
    client = small.client()
    token = csrf_of(client.get("/holder/payroll").text)
    rows = [("Worker 1", "ISF-0001", "10", "11.44", "", "staff_pay"), ("Worker 2", "ISF-0002", "7.5", "12.00", "5.00", "staff_pay")]
    sent = client.post("/holder/payroll", data={"csrf_token": token, "reference": "PAY-05", **pay_date(28, 5, 2026)},
                       files={"file": ("may.csv", payroll_csv(rows), "text/csv")}, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text[:800]
    summary = text_of(client.get(sent.headers["location"]).text)
    assert "PAY-05" in summary and "£114.40" in summary and "£95.00" in summary and "£209.40 over 2 budgets" in summary
    again = client.post("/holder/payroll", data={"csrf_token": token, "reference": "PAY-05", **pay_date(28, 5, 2026)},
                        files={"file": ("may.csv", payroll_csv(rows), "text/csv")})  # fmt: skip
    assert again.status_code == 200 and "uploaded before" in again.text
    bad = [("Worker 1", "NOPE-1", "10", "11.44", "", "staff_pay"), ("Worker 2", "ISF-0002", "-3", "12.00", "", "staff_pay"),
           ("Worker 3", "ELS-0001", "1", "12.00", "", "staff_pay")]  # fmt: skip
    refused = client.post("/holder/payroll", data={"csrf_token": token, "reference": "PAY-06", **pay_date(28, 6, 2026)},
                          files={"file": ("june.csv", payroll_csv(bad), "text/csv")})  # fmt: skip
    assert refused.status_code == 422
    problems = re.findall(r"<tr class=\"nhsuk-table__row\"><td class=\"nhsuk-table__cell\">(\d+)</td>", refused.text)
    assert problems and set(problems) <= {"2", "3", "4"} and "june.csv line" in text_of(refused.text)
    missing = client.post("/holder/payroll", data={"csrf_token": token, "reference": "", "amount": "12.00", **pay_date(31, 2, 2026)})
    words = text_of(missing.text)
    assert missing.status_code == 422 and "Choose the payroll file" in words and "must be a real date" in words
    assert "Enter the payroll run's reference" in words and "bank statement" in words
    assert small.client(PAT).get(sent.headers["location"]).status_code == 404


# --- flags ----------------------------------------------------------------------------------------


def test_a_flag_is_explained_with_a_receipt(small: Small) -> None:
    card, cash = small.account("card"), small.account("cash")
    with small.db.write() as session:
        post_entry(session, NewEntry(book_id=small.holder_id, entry_date=date(2026, 4, 5), description="Card load", idempotency_key="load-1",
                                     postings=(NewPosting(card, 40_000), NewPosting(cash, -40_000)), kind=EntryKind.DRAWDOWN, created_by="test"))  # fmt: skip
        import_statement(session, account_id=card, data=card_csv(card_lines()), file_name="card.csv", format="csv:prepaid_card", imported_by="test")
        reconcile_accounts(session, [card], actor="test")
        flag = session.scalars(select(Flag).where(Flag.code == "CHECK_VENUE").order_by(Flag.id).limit(1)).one()
    client = small.client()
    listed = client.get("/holder/flags?code=CHECK_VENUE")
    assert listed.status_code == 200 and "Check venue" in listed.text and "THE SHIP INN" in html.unescape(listed.text).upper()
    page = client.get(f"/holder/flags/{flag.id}")
    assert "Explain this flag" in page.text
    token = csrf_of(page.text)
    empty = client.post(f"/holder/flags/{flag.id}/explain", data={"csrf_token": token, "note": "", "kind": "receipt"})
    assert empty.status_code == 422 and "Say what the money was for" in empty.text and 'href="#note"' in empty.text
    receipt = b"%PDF-1.4\n% a receipt from the Ship Inn\n%%EOF\n"
    sent = client.post(f"/holder/flags/{flag.id}/explain", data={"csrf_token": token, "note": "Lunch out with friends: soft drinks only", "kind": "receipt"},
                       files={"file": ("ship-inn.pdf", receipt, "application/pdf")}, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    after = client.get(sent.headers["location"])
    words = text_of(after.text)
    assert "Your explanation is recorded" in words and "Explained" in words and "ship-inn.pdf" in words
    assert "Explain this flag" not in words and "the funder's decision" in words
    with small.db.read() as session:
        view = flag_view(session, flag.id)
    assert view.state == "explained" and (view.events[-1].actor, view.events[-1].actor_role) == ("Sam at Sunrise (sam@sunrise.example)", "holder")
    evidence = view.evidence[0]
    download = client.get(f"/holder/evidence/{evidence.id}")
    assert download.status_code == 200 and download.content == receipt
    twice = client.post(f"/holder/flags/{flag.id}/explain", data={"csrf_token": token, "note": "again", "kind": "receipt"})
    assert twice.status_code == 409 and "There is a problem" in twice.text
    pat = small.client(PAT)
    assert pat.get(f"/holder/flags/{flag.id}").status_code == 404 and pat.get(f"/holder/evidence/{evidence.id}").status_code == 404


# --- quarterly quality reviews ---------------------------------------------------------------------


def review_answers(small: Small, token: str, **changes: str) -> dict[str, str]:
    with small.db.read() as session:
        first, second = session.scalars(select(PlanOutcome.id).order_by(PlanOutcome.position)).all()
    answers = {
        "csrf_token": token, "action_rows": "5", "held-day": "20", "held-month": "7", "held-year": "2026",
        f"outcome-{first}": "achieved", f"outcome-{second}": "partly", f"outcome-{second}-note": "Twice, not three times",
        "working": "Swimming on Tuesdays with Kim", "not_working": "Evening cover", "to_change": "Train a second worker",
        "action-1-who": "Team leader", "action-1-what": "Train a second worker for evenings", "action-1-by-day": "1",
        "action-1-by-month": "9", "action-1-by-year": "2026", "attendee-1-name": "Alex Smith", "attendee-1-role": "The person",
        "attendee-2-name": "Jo Smith", "attendee-2-role": "Mother", "money_decision": "keep", "money_amount": "400",
        "money_note": "Saving for a short break in the spring",
    }  # fmt: skip
    answers.update(changes)
    return answers


def test_a_quality_review_is_recorded_through_the_form_and_read_in_its_document(small: Small) -> None:
    client = small.client()
    budget = small.budget_ids[0]
    path = f"/holder/budgets/{budget}/reviews/2026Q1"
    form = client.get(path)
    assert form.status_code == 200 and "Go swimming every week" in form.text and "Who attended" in form.text
    token = csrf_of(form.text)
    outcome = re.search(r'name="outcome-(\d+)"', form.text).group(1)  # type: ignore[union-attr]
    wrong = review_answers(small, token, **{f"outcome-{outcome}": "", "attendee-1-name": "", "attendee-2-name": "", "attendee-2-role": "",
                                            "action-1-by-month": "13", "money_decision": "return", "money_amount": ""})  # fmt: skip
    refused = client.post(path, data=wrong)
    assert refused.status_code == 422
    words = text_of(refused.text)
    assert "There is a problem" in words and "Swimming on Tuesdays with Kim" in refused.text  # what was typed is kept
    for target in (f"#outcome-{outcome}", "#attendee-1-name", "#action-1-by-day", "#money_amount"):
        assert f'href="{target}"' in refused.text, target
    sent = client.post(path, data=review_answers(small, token), follow_redirects=False)
    assert sent.status_code == 303, text_of(client.post(path, data=review_answers(small, token)).text)[:1500]
    assert "The review is recorded" in client.get(sent.headers["location"]).text
    with small.db.read() as session:
        view = quality_review_of(session, budget, "2026Q1")
    assert view is not None and view.review.recorded_by == "Sam at Sunrise (sam@sunrise.example)" and view.review.money_decision == "keep"
    assert [o.rating for o in view.outcomes] == ["achieved", "partly"] and [a.name for a in view.attendees] == ["Alex Smith", "Jo Smith"]
    document = client.get(f"{path}/document.html")
    assert document.status_code == 200 and "Swimming on Tuesdays with Kim" in html.unescape(document.text) and "Jo Smith" in document.text
    csv_text = client.get(f"{path}/document.csv").text
    assert "Train a second worker for evenings" in csv_text
    # A version of the document kept before a new revision is recorded: the page keeps a new one.
    with small.db.write() as session:
        params = ReportParams(budget_id=budget, period=quarter_period(parse_quarter("2026Q1")))
        generate(session, "quarterly-review", params, now=datetime(2026, 11, 24, 9, 0), trigger=Trigger.SCHEDULED, generated_by="scheduler")
    revised = client.post(path, data=review_answers(small, token, working="Swimming and the gym"), follow_redirects=False)
    assert revised.status_code == 303
    kept = client.get(f"{path}/document.html")
    assert kept.headers["X-Report-Version"] == "2" and "Swimming and the gym" in html.unescape(kept.text)
    with small.db.read() as session:
        assert [d.version for d in list_documents(session, budget_id=budget)] == [2, 1]
    assert "Swimming and the gym" in text_of(client.get(path).text)  # the form holds the latest answers
    assert small.client(PAT).get(path).status_code == 404


def test_the_pages_render_for_a_small_world(small: Small) -> None:
    client = small.client()
    budget = small.budget_ids[0]
    for path in ("/holder", f"/holder/budgets/{budget}", "/holder/statements", "/holder/unmatched", "/holder/flags", "/holder/reviews",
                 "/holder/payroll", f"/holder/reviews?budget={budget}"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    words = text_of(client.get(f"/holder/budgets/{budget}").text)
    assert "Go swimming every week" in words and "Version 2" in words and "Draft" not in words
    assert "Plymouth City Council" in words and "This budget has no prepaid card" not in words
    assert "ELS-0001" not in client.get("/holder").text
    assert small.client(PAT).get(f"/holder/budgets/{budget}").status_code == 404
    anonymous = TestClient(create_app(small.db), base_url="https://testserver")
    assert anonymous.get("/holder", follow_redirects=False).status_code == 303
