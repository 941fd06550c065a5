"""The family's pages and API, and the admin's users page, on a copy of the demo: a family
member sees only the budgets linked to them; the balance page's figures are the ledger's;
every view is recorded; a request for a change reaches the holder's and the funder's
reviews-due lists; a direct payment's family sends statements and explains flags; the
family's API answers with what the balance page shows and nothing more."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledger.budgets.budget import budget_by_reference
from ledger.demo.users import DEMO_PASSWORD
from ledger.position.figures import budget_figures
from ledger.reviews.plan_reviews import reviews_due
from ledger.store.database import Database
from ledger.store.tables.access import AccessRecord, UserAccount
from ledger.store.tables.flags import Flag
from ledger.store.tables.reviews import ReviewRequest
from web.app import create_app

CAROL = "carol.pascoe@example.org"  # Beth's mother: ISF-0002, a jointly funded ISF
GRACE = "grace.okafor@example.org"  # Noah's mother: DP-0001, a direct payment in a bank account
DATA = Path(__file__).parent / "data" / "statements"


@pytest.fixture(scope="module")
def demo_copy(report_demo: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    source = report_demo.url.removeprefix("sqlite:///")
    target = tmp_path_factory.mktemp("family-pages") / "demo.db"
    report_demo.dispose()
    shutil.copyfile(source, target)
    database = Database(f"sqlite:///{target}")
    yield database
    database.dispose()


def signed_in(database: Database, username: str) -> TestClient:
    client = TestClient(create_app(database, migrate_on_start=False), base_url="https://testserver")
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/sign-in", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token, "next": ""})
    assert answer.status_code == 200, answer.text[:300]
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_the_balance_page_shows_the_ledgers_figures_and_is_recorded(demo_copy: Database) -> None:
    client = signed_in(demo_copy, CAROL)  # lands on the balance page: one view
    with demo_copy.read() as session:
        beth = budget_by_reference(session, "ISF-0002")
        figures = budget_figures(session, beth)
        before = session.scalar(select(func.count()).select_from(AccessRecord).where(AccessRecord.budget_id == beth.id, AccessRecord.action == "family_balance_page"))
    assert before >= 1
    page = client.get("/family")
    assert page.url.path == f"/family/budgets/{beth.id}"
    text = page.text
    assert "Beth&#39;s money" in text or "Beth's money" in text
    money_left = f"£{figures.money_left_pence // 100:,}.{figures.money_left_pence % 100:02d}"
    assert money_left in text and "Emergency money left" in text and "Who to contact" in text
    assert "Aisha Rahman" in text  # the care coordinator
    with demo_copy.read() as session:
        after = session.scalar(select(func.count()).select_from(AccessRecord).where(AccessRecord.budget_id == beth.id, AccessRecord.action == "family_balance_page"))
    assert after == before + 1


def test_a_family_member_sees_nothing_of_anyone_else(demo_copy: Database) -> None:
    client = signed_in(demo_copy, CAROL)
    with demo_copy.read() as session:
        other = budget_by_reference(session, "ISF-0003").id
        beth = budget_by_reference(session, "ISF-0002").id
    for path in (f"/family/budgets/{other}", f"/family/budgets/{other}/ask", "/holder", "/funder", "/admin/users"):
        assert client.get(path).status_code == 404, path
    for path in (f"/api/v1/family/budgets/{other}", f"/api/v1/budgets/{beth}", f"/api/v1/budgets/{beth}/position", "/api/v1/flags", "/api/v1/budgets"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Bethany" not in answer.text and "Pascoe" not in answer.text


def test_the_family_api_answers_with_what_the_balance_page_shows_only(demo_copy: Database) -> None:
    client = signed_in(demo_copy, CAROL)
    with demo_copy.read() as session:
        beth = budget_by_reference(session, "ISF-0002").id
    body = client.get(f"/api/v1/family/budgets/{beth}").json()
    assert set(body) == {
        "budget_id", "reference", "first_name", "year_starts_on", "year_ends_on", "total", "money_left", "spent", "emergency_left",
        "emergency_planned", "management_fee", "plan_lines", "funders", "next_payment", "month", "month_is_current",
        "spent_this_month", "contacts", "is_direct_payment", "requests", "spent_this_month_total",
    }  # fmt: skip
    assert body["first_name"] == "Beth" and "name" not in body
    assert isinstance(body["money_left"], str) and "." in body["money_left"]
    assert client.get("/api/v1/family/budgets").json() == [{"budget_id": beth, "balance": f"/api/v1/family/budgets/{beth}"}]


def test_asking_for_a_change_reaches_the_holder_and_the_funder(demo_copy: Database) -> None:
    client = signed_in(demo_copy, CAROL)
    with demo_copy.read() as session:
        beth = budget_by_reference(session, "ISF-0002")
    form = client.get(f"/family/budgets/{beth.id}/ask")
    empty = client.post(f"/family/budgets/{beth.id}/ask", data={"reason": "  ", "csrf_token": csrf_of(form.text)})
    assert empty.status_code == 422 and "There is a problem" in empty.text
    no_token = client.post(f"/family/budgets/{beth.id}/ask", data={"reason": "More swimming"})
    assert no_token.status_code == 403
    sent = client.post(f"/family/budgets/{beth.id}/ask", data={"reason": "More swimming, fewer taxis", "csrf_token": csrf_of(form.text)})
    assert sent.status_code == 200 and sent.url.path.endswith("/asked")
    with demo_copy.read() as session:
        request = session.scalars(select(ReviewRequest).where(ReviewRequest.budget_id == beth.id).order_by(ReviewRequest.id.desc())).first()
        assert request is not None and request.reason == "More swimming, fewer taxis" and request.asked_by == "Carol Pascoe"
        due = reviews_due(session, as_of=request.asked_on, holder_id=beth.holder_id)
        assert any(r.kind == "requested" and r.budget_id == beth.id for r in due)
        due = reviews_due(session, as_of=request.asked_on, funder_id=beth.lead_funder_id)
        assert any(r.kind == "requested" and r.budget_id == beth.id for r in due)


def test_a_direct_payments_family_sends_a_statement_and_explains_a_flag(demo_copy: Database) -> None:
    client = signed_in(demo_copy, GRACE)
    with demo_copy.read() as session:
        noah = budget_by_reference(session, "DP-0001")
        flag = session.scalars(select(Flag).where(Flag.budget_id == noah.id, Flag.state == "open")).first()
    form = client.get(f"/family/budgets/{noah.id}/statements")
    assert form.status_code == 200
    account = re.search(r'<option value="(\d+)">Bank account', form.text).group(1)  # type: ignore[union-attr]
    statement = DATA / "csv" / "sample__lloyds.csv"
    files = {"file": (statement.name, statement.read_bytes(), "text/csv")}
    sent = client.post(f"/family/budgets/{noah.id}/statements", data={"account_id": account, "csrf_token": csrf_of(form.text)}, files=files)
    assert sent.status_code in (200, 422)
    assert ("Statement received" in sent.text) or ("There is a problem" in sent.text and "line" in sent.text.lower())
    if flag is not None:
        page = client.get(f"/family/budgets/{noah.id}/flags/{flag.id}")
        explained = client.post(
            f"/family/budgets/{noah.id}/flags/{flag.id}",
            data={"note": "Swimming lessons for Noah", "kind": "receipt", "csrf_token": csrf_of(page.text)},
            files={"evidence": ("receipt.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")},
        )  # fmt: skip
        assert explained.status_code == 200 and "explained" in str(explained.url)
        with demo_copy.read() as session:
            assert session.get(Flag, flag.id).state == "explained"  # type: ignore[union-attr]


def test_an_isf_familys_sign_in_has_no_statement_upload(demo_copy: Database) -> None:
    client = signed_in(demo_copy, CAROL)
    with demo_copy.read() as session:
        beth = budget_by_reference(session, "ISF-0002").id
    assert client.get(f"/family/budgets/{beth}/statements").status_code == 404
    assert client.get(f"/family/budgets/{beth}/flags").status_code == 404


def test_the_admin_adds_a_family_user_and_links_a_budget(demo_copy: Database) -> None:
    client = signed_in(demo_copy, "admin@example.org")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "carol.pascoe@example.org" in page.text
    added = client.post("/admin/users", data={
        "username": "dev.chauhan@example.org", "display_name": "Anjali Chauhan", "role": "family", "password": "a long family password",
        "holder_id": "", "funder_id": "", "csrf_token": csrf_of(page.text),
    })  # fmt: skip
    assert added.status_code == 200 and "dev.chauhan@example.org" in added.text
    with demo_copy.read() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == "dev.chauhan@example.org"))
    assert user is not None and user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    linked = client.post(f"/admin/users/{user.id}/links", data={"budget": "DP-0005", "csrf_token": csrf_of(added.text)})
    assert linked.status_code == 200 and "DP-0005" in linked.text
    weak = client.post("/admin/users", data={"username": "x@example.org", "display_name": "X", "role": "family", "password": "short",
                                             "csrf_token": csrf_of(linked.text)})  # fmt: skip
    assert weak.status_code == 422 and "12" in weak.text


def test_the_demo_start_page_lists_every_role(demo_copy: Database) -> None:
    from ledger.demo.users import DEMO_USERS

    client = TestClient(create_app(demo_copy, migrate_on_start=False, demo_users=DEMO_USERS), base_url="https://testserver")
    text = client.get("/").text
    assert all(user.username in text for user in DEMO_USERS) and DEMO_PASSWORD in text
    plain = TestClient(create_app(demo_copy, migrate_on_start=False), base_url="https://testserver")
    assert DEMO_PASSWORD not in plain.get("/").text




def test_the_cli_adds_the_first_admin_links_a_family_member_and_issues_a_token(tmp_path: Path) -> None:
    import json as json_module

    from typer.testing import CliRunner

    from web.cli import app as cli

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'users.db'}"
    added = runner.invoke(cli, ["users", "add", "admin@example.org", "--name", "Admin", "--role", "system_admin", "--password", "a long admin password", "--db", url, "--json"])
    assert added.exit_code == 0, added.output
    token = json_module.loads(runner.invoke(cli, ["users", "token", "admin@example.org", "--name", "Finance system", "--db", url, "--json"]).stdout)["token"]
    assert token.startswith("phb_")
    client = TestClient(create_app(Database(url), migrate_on_start=False), base_url="https://testserver")
    assert client.get("/api/v1/funders", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/funders", headers={"Authorization": "Bearer phb_not-a-token"}).status_code == 401
    short = runner.invoke(cli, ["users", "add", "x@example.org", "--name", "X", "--role", "family", "--password", "short", "--db", url])
    assert short.exit_code == 1 and "12 to 200 characters" in short.stderr
