"""The holder's pages on a copy of the demo, signed in as Tamar Valley's admin: the budgets
page's figures are the ledger's, each account's reconciliation is what ``account_status``
says, a budget's page shows its plan, shares, schedule, contingency, payables and history;
another holder's budget, account, import, flag, payable, evidence or document is the same
404 page as one that does not exist; a form without its CSRF token is refused; a quarterly
review's document reads the same as the API's. (The forms themselves, on both databases:
``test_pages_holder_forms.py``.)"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ledger.budgets.budget import budget_by_reference
from ledger.budgets.parties import holder_by_code
from ledger.core.money import format_gbp
from ledger.demo.users import DEMO_PASSWORD
from ledger.position.figures import budget_figures, budget_position, tenths_text
from ledger.reconcile.status import account_status
from ledger.store.database import Database
from ledger.store.tables import Account, Holder
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementImport
from web.app import create_app
from web.pages.holder_accounts import account_states
from web.pages.holder_common import statement_accounts

SAM = "sam.reed@tamarvalley.example"  # Tamar Valley ISF's admin
MOORVIEW = "accounts@moorview.example"


@pytest.fixture(scope="module")
def demo_copy(report_demo: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    source = report_demo.url.removeprefix("sqlite:///")
    target = tmp_path_factory.mktemp("holder-pages") / "demo.db"
    report_demo.dispose()
    shutil.copyfile(source, target)
    database = Database(f"sqlite:///{target}")
    yield database
    database.dispose()


def csrf_of(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def signed_in(database: Database, username: str, password: str = DEMO_PASSWORD) -> TestClient:
    client = TestClient(create_app(database, migrate_on_start=False), base_url="https://testserver")
    answer = client.post("/sign-in", data={"username": username, "password": password, "csrf_token": csrf_of(client.get("/sign-in").text)})
    assert answer.status_code == 200, answer.text[:300]
    return client


@pytest.fixture(scope="module")
def sam(demo_copy: Database) -> TestClient:
    return signed_in(demo_copy, SAM)


def text_of(page: str) -> str:
    """The page's words, without tags, with entities read."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def row_of(page: str, reference: str) -> str:
    rows = [row for row in page.split("<tr") if f">{reference}<" in row]
    assert rows, f"no row for {reference}"
    return text_of(rows[0])


def test_the_budgets_page_shows_each_budgets_money_as_the_ledger_has_it(sam: TestClient, demo_copy: Database) -> None:
    page = sam.get("/holder")
    assert page.status_code == 200
    with demo_copy.read() as session:
        holder = holder_by_code(session, "tamar-valley-isf")
        budgets = [budget_by_reference(session, f"ISF-{n:04d}") for n in range(1, 13)]
        figures = {b.reference: budget_figures(session, b) for b in budgets}
    for reference, f in figures.items():
        row = row_of(page.text, reference)
        for pence in (f.held_pence, f.card_pence, f.committed_pence, f.contingency_left_pence, f.money_left_pence):
            assert format_gbp(pence) in row, (reference, pence, row)
        assert f"{tenths_text(f.weeks_held_tenths)} weeks" in row
        assert {"ok": "Within limits", "warn": "Over 4 weeks", "act": "Over 8 weeks: act"}[f.surplus_state] in row
    assert "Over 8 weeks: act" in row_of(page.text, "ISF-0006")  # the demo's surplus held
    assert "flag to explain" in row_of(page.text, "ISF-0006")
    assert format_gbp(sum(f.money_left_pence for f in figures.values())) in text_of(page.text)
    assert holder.id is not None and "MA-0001" not in page.text  # nothing of Moorview's
    only = sam.get("/holder?show=exceptions")
    assert "ISF-0006" in only.text and ">ISF-0001<" not in only.text


def test_each_accounts_reconciliation_is_what_account_status_says(demo_copy: Database) -> None:
    with demo_copy.read() as session:
        for holder_id in session.scalars(select(Holder.id)):
            accounts = statement_accounts(session, holder_id)
            states = account_states(session, holder_id, accounts)
            for account in accounts:
                status, state = account_status(session, account.id), states[account.id]
                assert (state.unmatched_lines, state.unmatched_line_pence, state.unmatched_entries) == (
                    status.unmatched_line_count, status.unmatched_line_pence, status.unmatched_entry_count)  # fmt: skip
                assert (state.statements_cover_to, state.reconciled_through, state.locked_through) == (
                    status.statements_cover_to, status.reconciled_through, status.locked_through)  # fmt: skip


def test_a_budgets_page_shows_its_plan_shares_schedule_contingency_payables_and_history(sam: TestClient, demo_copy: Database) -> None:
    with demo_copy.read() as session:
        budget = budget_by_reference(session, "ISF-0002")  # jointly funded by the ICB and the council
        position = budget_position(session, budget.id)
    page = sam.get(f"/holder/budgets/{budget.id}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Budget ISF-0002" in words and "Agreed by" in words
    for share in position.shares:
        assert share.funder_name in words and format_gbp(share.figures.money_left_pence) in words
    assert len(position.shares) >= 2  # the ICB, the council and the person's contribution
    assert format_gbp(position.figures.money_left_pence) in words and format_gbp(position.figures.committed_pence) in words
    assert "Weekly loads:" in words and "Contingency" in words and "Payroll and invoices" in words
    assert "Wages and invoices approved and paid" in words
    assert "Older entries" in words
    older = sam.get(re.search(r'href="(/holder/budgets/\d+\?before=[^"#]+)', page.text).group(1))  # type: ignore[union-attr]
    assert older.status_code == 200 and "Newest entries" in older.text
    newest = [int(n) for n in re.findall(r"entry (\d+)", text_of(page.text.split('id="history"')[1]))]
    following = [int(n) for n in re.findall(r"entry (\d+)", text_of(older.text.split('id="history"')[1]))]
    assert len(newest) == 25 and following and max(following) < min(newest)
    for anchor in ("statements?budget=", "flags?budget=", "reviews?budget=", "unmatched?budget="):
        assert f"/holder/{anchor}{budget.id}" in page.text


def test_the_other_pages_render_for_the_demo(sam: TestClient, demo_copy: Database) -> None:
    with demo_copy.read() as session:
        flag = session.scalars(select(Flag).join(Holder, Holder.id == Flag.holder_id).where(Holder.code == "tamar-valley-isf").limit(1)).one()
        imported = session.scalars(select(StatementImport).join(Holder, Holder.id == StatementImport.holder_id)
                                   .where(Holder.code == "tamar-valley-isf").limit(1)).one()  # fmt: skip
    for path, expected in (
        ("/holder/statements", "Upload a statement"), ("/holder/payroll", "Upload a payroll run"), ("/holder/unmatched", "Nothing is waiting"),
        ("/holder/flags", "wait for you to explain"), (f"/holder/flags/{flag.id}", flag.reason[:40]), ("/holder/reviews", "Overdue"),
        (f"/holder/statements/{imported.id}", imported.file_name), ("/holder/flags?state=open&code=SURPLUS_HELD", "Surplus held"),
    ):  # fmt: skip
        page = sam.get(path)
        assert page.status_code == 200, path
        assert expected in html.unescape(page.text), path


def test_another_holders_records_are_the_same_404_as_nothing(demo_copy: Database) -> None:
    client = signed_in(demo_copy, SAM)
    token = csrf_of(client.get("/holder").text)
    with demo_copy.read() as session:
        moorview = holder_by_code(session, "moorview-accounts").id
        budget = budget_by_reference(session, "MA-0001").id
        account = session.scalar(select(Account.id).where(Account.holder_id == moorview, Account.kind == "card"))
        imported = session.scalar(select(StatementImport.id).where(StatementImport.holder_id == moorview))
        flag = session.scalar(select(Flag.id).where(Flag.holder_id == moorview))
    missing = client.get("/holder/budgets/999999")
    for path in (
        f"/holder/budgets/{budget}", f"/holder/statements/{imported}", f"/holder/flags/{flag}", f"/holder/budgets/{budget}/reviews/2026Q2",
        f"/holder/budgets/{budget}/reviews/2026Q2/document.pdf", f"/holder/statements?account={account}", f"/holder/unmatched?account={account}",
        f"/holder/flags?budget={budget}", f"/holder/reviews?budget={budget}", f"/holder/statements?budget={budget}",
    ):  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert text_of(answer.text).split("Page not found")[1:] == text_of(missing.text).split("Page not found")[1:], path
    for path in (f"/holder/accounts/{account}/reconcile", f"/holder/flags/{flag}/explain", f"/holder/budgets/{budget}/reviews/2026Q2"):
        assert client.post(path, data={"csrf_token": token, "note": "mine"}).status_code == 404, path
    upload = client.post("/holder/statements", data={"csrf_token": token, "account": str(account), "format": "auto"},
                         files={"file": ("x.csv", b"a,b\n", "text/csv")})  # fmt: skip
    assert upload.status_code == 404


def test_forms_without_their_csrf_token_are_refused(demo_copy: Database) -> None:
    client = signed_in(demo_copy, SAM)
    with demo_copy.read() as session:
        budget = budget_by_reference(session, "ISF-0003").id
        flag = session.scalar(select(Flag.id).where(Flag.budget_id == budget))
        account = session.scalar(select(Account.id).where(Account.budget_id == budget, Account.kind == "card"))
    for path in ("/holder/statements", "/holder/payroll", f"/holder/flags/{flag}/explain", f"/holder/budgets/{budget}/reviews/2026Q2",
                 f"/holder/accounts/{account}/reconcile", "/holder/unmatched/1/match"):  # fmt: skip
        answer = client.post(path, data={"note": "x", "account": str(account)})
        assert answer.status_code == 403, path
        wrong = client.post(path, data={"csrf_token": "not-the-token", "note": "x"})
        assert wrong.status_code == 403, path


def test_only_a_holders_users_have_these_pages(demo_copy: Database) -> None:
    anonymous = TestClient(create_app(demo_copy, migrate_on_start=False), base_url="https://testserver")
    answer = anonymous.get("/holder/flags", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=/holder/flags")
    for username in ("finance@devon-icb.example", "carol.pascoe@example.org"):
        assert signed_in(demo_copy, username).get("/holder").status_code == 404
    moorview = signed_in(demo_copy, MOORVIEW).get("/holder")
    assert moorview.status_code == 200 and "MA-0001" in moorview.text and "ISF-0001" not in moorview.text


def test_the_review_document_reads_as_the_apis(sam: TestClient, demo_copy: Database) -> None:
    with demo_copy.read() as session:
        budget = budget_by_reference(session, "ISF-0006").id
    for format in ("csv", "html"):
        page = sam.get(f"/holder/budgets/{budget}/reviews/2026Q2/document.{format}")
        api = sam.get(f"/api/v1/reports/quarterly-review?budget_id={budget}&quarter=2026Q2&format={format}")
        assert page.status_code == 200 and api.status_code == 200
        assert page.headers["content-type"] == api.headers["content-type"]
        if format == "csv":
            assert page.content == api.content  # the same figures, to the byte
    pdf = sam.get(f"/holder/budgets/{budget}/reviews/2026Q2/document.pdf")
    xlsx = sam.get(f"/holder/budgets/{budget}/reviews/2026Q2/document.xlsx")
    assert pdf.content.startswith(b"%PDF-") and xlsx.content.startswith(b"PK")
    assert sam.get(f"/holder/budgets/{budget}/reviews/2026Q2/document.zip").status_code == 404
    form = sam.get(f"/holder/budgets/{budget}/reviews/2026Q2")
    assert form.status_code == 200 and "Stay well at home" in html.unescape(form.text)
    assert sam.get(f"/holder/budgets/{budget}/reviews/2030Q1").status_code == 404  # outside the plan period
