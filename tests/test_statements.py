"""Storing imported statements: each real transaction once, all of a file or none of it,
every line traceable to its file, balances checked — on both databases. The parsers are
tested on their own (tests/test_import_*.py); here statements are built directly."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money
from sqlalchemy import func, select

from importers import ImportRejected
from importers.statement import AccountIdentifiers, ParsedStatement, StatementLine
from ledger.errors import InvalidInput
from ledger.statements.keys import LineKeys
from ledger.statements.storing import SourceFile, imports_of, lines_of_import, store_statement
from ledger.store.database import Database
from ledger.store.tables.statements import StatementImport, StatementLineRecord
from tests.support.builders import World, make_world

START = date(2026, 5, 1)


def line(day: int, pence: int, description: str = "TESCO STORES 2031", *, line_no: int = 1, **more: object) -> StatementLine:
    return StatementLine(
        line_no=line_no,
        posted_on=START + timedelta(days=day),
        amount=Money(_pounds(pence), "GBP"),
        description=description,
        raw=f"{day},{pence},{description}",
        **more,  # type: ignore[arg-type]
    )


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def numbered(lines: list[StatementLine]) -> list[StatementLine]:
    """Line numbers as a file with a header row would give them."""
    return [replace(item, line_no=number) for number, item in enumerate(lines, start=2)]


def statement(lines: list[StatementLine], **facts: object) -> ParsedStatement:
    return ParsedStatement(
        format=str(facts.pop("format", "csv")),
        currency=str(facts.pop("currency", "GBP")),
        lines=iter(numbered(lines)),
        account=AccountIdentifiers(sort_code="309634", account_number="12345678"),
        layout=facts.pop("layout", "prepaid_card"),  # type: ignore[arg-type]
        **facts,  # type: ignore[arg-type]
    )


def source(name: str = "may.csv") -> SourceFile:
    return SourceFile(name=name, sha256="ab" * 32, size_bytes=1234)


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        return make_world(session)


def card(db: Database, world: World) -> int:
    with db.read() as session:
        return world.account_id(session, "card")


def store(db: Database, account_id: int, parsed: ParsedStatement, name: str = "may.csv"):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return store_statement(session, account_id=account_id, statement=parsed, source=source(name), imported_by="test")


def stored_lines(db: Database, account_id: int) -> list[StatementLineRecord]:
    with db.read() as session:
        return list(
            session.scalars(select(StatementLineRecord).where(StatementLineRecord.account_id == account_id).order_by(StatementLineRecord.id))
        )


def test_an_import_stores_every_line_with_its_provenance(db: Database, world: World) -> None:
    account = card(db, world)
    result = store(db, account, statement([line(0, -250, "COSTA"), line(1, 5000, "LOAD", bank_id="L-1"), line(2, -1999, "ARGOS", mcc="5311")]))
    assert (result.lines, result.new, result.duplicates) == (3, 3, 0)
    assert result.lines_total_pence == result.new_total_pence == 2751
    assert (result.period_start, result.period_end) == (START, START + timedelta(days=2))
    rows = stored_lines(db, account)
    assert [(r.line_no, r.amount_pence, r.description, r.mcc, r.bank_id) for r in rows] == [
        (2, -250, "COSTA", None, None),
        (3, 5000, "LOAD", None, "L-1"),
        (4, -1999, "ARGOS", "5311", None),
    ]
    assert rows[0].raw == "0,-250,COSTA"
    with db.read() as session:
        imported = session.get(StatementImport, result.import_id)
        assert imported is not None
        assert (imported.file_name, imported.file_sha256, imported.format, imported.layout) == ("may.csv", "ab" * 32, "csv", "prepaid_card")
        assert imported.account_in_file == "sort code 30-96-34, account 12345678"
        assert [r.line_no for r in lines_of_import(session, result.import_id)] == [2, 3, 4]


def test_importing_the_same_file_again_stores_nothing_new(db: Database, world: World) -> None:
    account = card(db, world)
    lines = [line(0, -250, "COSTA"), line(0, -250, "COSTA"), line(1, 5000, "LOAD", bank_id="L-1")]
    store(db, account, statement(lines))
    again = store(db, account, statement(lines))
    assert (again.lines, again.new, again.duplicates, again.new_total_pence) == (3, 0, 3, 0)
    assert len(stored_lines(db, account)) == 3
    with db.read() as session:
        assert [r.new for r in imports_of(session, account)] == [0, 3], "both imports are listed, newest first"


def test_an_overlapping_statement_adds_only_what_is_new_and_keeps_identical_purchases_apart(db: Database, world: World) -> None:
    account = card(db, world)
    coffee = line(7, -250, "COSTA COFFEE")
    april = [line(0, -1000, "ARGOS"), line(5, -500, "BOOTS"), coffee, coffee]
    may = [coffee, coffee, line(8, -1200, "TESCO"), line(8, -250, "COSTA COFFEE")]
    store(db, account, statement(april))
    second = store(db, account, statement(may), name="june.csv")
    assert (second.new, second.duplicates) == (2, 2), "two coffees of day 7 were in both files; day 8's coffee is not"
    amounts = Counter((r.posted_on, r.amount_pence) for r in stored_lines(db, account))
    assert amounts[(START + timedelta(days=7), -250)] == 2
    assert amounts[(START + timedelta(days=8), -250)] == 1


def test_the_banks_own_id_decides_even_when_the_description_changes(db: Database, world: World) -> None:
    account = card(db, world)
    store(db, account, statement([line(0, -250, "COSTA", bank_id="tx_1")]))
    again = store(db, account, statement([line(0, -250, "COSTA COFFEE LONDON", bank_id="tx_1")]))
    assert again.new == 0


def test_a_file_that_fails_on_its_last_line_stores_nothing(db: Database, world: World) -> None:
    account = card(db, world)

    def lines() -> Iterator[StatementLine]:
        yield from numbered([line(day % 20, -100 - day) for day in range(4999)])
        raise ImportRejected("'31/02/2026' is not a date", code="date_invalid", line=5001, field="Date")

    parsed = ParsedStatement(format="csv", currency="GBP", lines=lines())
    with pytest.raises(ImportRejected) as raised:
        store(db, account, parsed)
    assert raised.value.line == 5001
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(StatementLineRecord)) == 0
        assert session.scalar(select(func.count()).select_from(StatementImport)) == 0


def test_a_statement_in_another_currency_is_refused(db: Database, world: World) -> None:
    with pytest.raises(InvalidInput) as raised:
        store(db, card(db, world), statement([line(0, -250)], currency="EUR"))
    assert raised.value.code == "currency_not_gbp"


def test_statements_go_only_into_card_cash_or_unallocated_accounts(db: Database, world: World) -> None:
    with db.read() as session:
        spend = world.account_id(session, "top_slice")
    with pytest.raises(InvalidInput) as raised:
        store(db, spend, statement([line(0, -250)]))
    assert raised.value.code == "account_not_for_statements"


def test_stated_balances_that_do_not_add_up_are_reported(db: Database, world: World) -> None:
    result = store(
        db,
        card(db, world),
        statement([line(0, -250), line(1, -750)], opening_balance=Money("100.00", "GBP"), closing_balance=Money("89.00", "GBP")),
    )
    assert result.balances_stated
    assert any("opening balance £100.00 plus its lines (-£10.00) is £90.00, not its closing balance £89.00" in w for w in result.warnings)


@pytest.mark.parametrize("newest_first", [False, True])
def test_running_balances_give_the_opening_and_closing_in_either_order(db: Database, world: World, newest_first: bool) -> None:
    oldest_first = [
        line(0, -250, "A", balance=Money("97.50", "GBP")),
        line(1, 5000, "B", balance=Money("147.50", "GBP")),
        line(2, -1000, "C", balance=Money("137.50", "GBP")),
    ]
    lines = list(reversed(oldest_first)) if newest_first else oldest_first
    result = store(db, card(db, world), statement(lines))
    assert (result.opening_pence, result.closing_pence, result.balances_stated) == (10_000, 13_750, False)
    assert result.closing_on == START + timedelta(days=2)
    assert not [w for w in result.warnings if "running balance" in w]


def test_a_running_balance_that_breaks_is_reported_with_its_line(db: Database, world: World) -> None:
    lines = [
        line(0, -250, "A", balance=Money("97.50", "GBP")),
        line(1, 5000, "B", balance=Money("147.50", "GBP")),
        line(2, -1000, "C", balance=Money("130.00", "GBP")),
    ]
    result = store(db, card(db, world), statement(lines))
    assert any(w.startswith("line 4: the running balance £130.00 does not follow from line 3's £147.50") for w in result.warnings)


def test_the_closing_balance_is_checked_against_the_ledger(db: Database, world: World) -> None:
    result = store(db, card(db, world), statement([line(0, -250)], closing_balance=Money("12.00", "GBP"), closing_balance_on=START))
    assert result.ledger_closing_pence == 0
    assert any("the ledger's balance of ISF-0001:card that day is £0.00 (a difference of £12.00)" in w for w in result.warnings)
    with db.read() as session:
        assert json.loads(session.scalars(select(StatementImport.warnings)).one()) == list(result.warnings)


def test_a_fee_in_its_own_column_is_its_own_line(db: Database, world: World) -> None:
    account = card(db, world)
    purchase = StatementLine(3, START, Money("-20.00", "GBP"), "FX PURCHASE", part=0, raw="row")
    fee = StatementLine(3, START, Money("-0.55", "GBP"), "FX PURCHASE fee", part=1, is_fee=True, raw="row")
    parsed = ParsedStatement(format="csv", currency="GBP", lines=iter([purchase, fee]))
    store(db, account, parsed)
    rows = stored_lines(db, account)
    assert [(r.line_no, r.part, r.is_fee, r.amount_pence) for r in rows] == [(3, 0, False, -2000), (3, 1, True, -55)]


# --- The key rule, as a property: any whole-day windows of one account's true history,
# imported in any order, store each true transaction exactly once.

_descriptions = st.sampled_from(["COSTA", "TESCO", "BOOTS", "LOAD"])
_transaction = st.tuples(st.integers(0, 9), st.sampled_from([-250, -999, 5000]), _descriptions, st.booleans())


@settings(max_examples=200, deadline=None)
@given(
    history=st.lists(_transaction, max_size=40),
    windows=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=5),
    newest_first=st.booleans(),
)
def test_whole_day_windows_store_each_transaction_once(
    history: list[tuple[int, int, str, bool]], windows: list[tuple[int, int]], newest_first: bool
) -> None:
    ordered = sorted(enumerate(history), key=lambda item: item[1][0])
    stored: set[str] = set()
    stored_model: set[int] = set()
    for first, last in windows:
        low, high = min(first, last), max(first, last)
        window = [(index, t) for index, t in ordered if low <= t[0] <= high]
        if newest_first:
            window.reverse()
        keys = LineKeys()
        for index, (day, pence, description, has_id) in window:
            key = keys.key(
                posted_on=START + timedelta(days=day), amount_pence=pence, description=description, payee=None, part=0,
                bank_id=f"tx-{index}" if has_id else None,
            )  # fmt: skip
            stored.add(key)
            stored_model.add(index)
    assert len(stored) == len(stored_model)
