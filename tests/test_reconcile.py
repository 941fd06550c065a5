"""Reconciliation end to end on both databases: card statements with planted purchases,
funder payments over many budgets, a payroll run, manual work, locks; and the property that
reconciling twice, or lines imported in another order, gives the same matches and flags."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.budgets import plans
from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.errors import Conflict
from ledger.flags.raising import raise_flags
from ledger.money_in.expected_payments import add_expected_payment
from ledger.money_out.payroll_runs import import_payroll_run
from ledger.reconcile.automatic import reconcile_accounts
from ledger.reconcile.manual import SplitPart, recategorise, split_line, unmatch_line
from ledger.reconcile.status import account_status, lock_reconciled, reopen_reconciled, unmatched_queue
from ledger.statements.storing import ledger_balance
from ledger.store.database import Database
from ledger.store.tables import Account, Category, Posting
from ledger.store.tables.flags import Flag
from ledger.store.tables.reconciliation import (
    Categorisation,
    CategoryRule,
    ReconciliationEvent,
    ReconciliationMatch,
    ReconciliationMatchPart,
    RemittanceAdvice,
)
from ledger.store.tables.statements import StatementLineRecord
from tests.support.builders import AGREED_AT, make_budget, make_person, make_world
from tests.support.card_statements import CardLine, card_csv, import_card, post_drawdown
from tests.support.payables_world import payroll_csv, world_with_budgets
from web.statement_import import import_statement

APRIL = date(2026, 4, 6)
ACTOR = "Sam Finance"

# Planted purchases: every excluded one must be flagged EXCLUDED_*, every venue CHECK_VENUE,
# and nothing else flagged as excluded.
ORDINARY = [
    ("TESCO STORES 3297", "5411", -1234),
    ("STAGECOACH SOUTH WEST", "4131", -450),
    ("PUREGYM PLYMOUTH", "7997", -1999),
    ("ODEON CINEMAS", "7832", -1100),
    ("BOOTS 1123", "5912", -675),
    ("TRAINLINE", "4112", -2350),
]
EXCLUDED = [
    ("WILLIAM HILL 0123", "7995", -2000),
    ("BARGAIN BOOZE", "5921", -1599),
    ("CIGAR & PIPE CO", "5993", -900),
    ("WESTERN UNION", "4829", -5000),
    ("CASH CONVERTERS", "5933", -2500),
]
VENUES = [("THE SHIP INN", "5813", -1840), ("SERENITY SPA", "7298", -4500)]
NO_MCC_EXCLUDED = [("PADDYPOWER.COM", "", -1000), ("BET365", "", -500)]


def card_lines(start: date = APRIL) -> list[CardLine]:
    lines = [CardLine("L1", start, "LOAD", "", "LOAD", 40_000)]
    day = start
    number = 0
    for merchant, mcc, pence in ORDINARY + EXCLUDED + VENUES + NO_MCC_EXCLUDED:
        number += 1
        day = start + timedelta(days=1 + number // 3)
        lines.append(CardLine(f"P{number}", day, merchant, mcc, "PURCHASE", pence, fee_pence=3))
    lines.append(CardLine("R1", day, "BOOTS 1123", "5912", "REFUND", 675))
    return lines


@pytest.fixture
def card_world(db: Database):  # type: ignore[no-untyped-def]
    with db.write() as session:
        world = make_world(session)
        post_drawdown(session, world, world.budget, APRIL - timedelta(days=1), 40_000, "load-1")
        import_card(session, world, world.budget, card_lines())
        return world


def _reconcile_card(db: Database, world) -> dict:  # type: ignore[no-untyped-def]
    with db.write() as session:
        card = world.account_id(session, "card")
        return reconcile_accounts(session, [card], actor=ACTOR).as_dict()


def _flags(session) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = session.execute(
        select(Flag.code, StatementLineRecord.payee).outerjoin(StatementLineRecord, StatementLineRecord.id == Flag.statement_line_id)
    ).all()
    return sorted((code, payee or "") for code, payee in rows)


def test_a_card_statement_reconciles_to_the_penny_and_flags_exactly_the_planted_purchases(db: Database, card_world) -> None:  # type: ignore[no-untyped-def]
    first = _reconcile_card(db, card_world)
    purchases = len(ORDINARY + EXCLUDED + VENUES + NO_MCC_EXCLUDED)
    assert first["matched_existing"] == 1  # the load ↔ its drawdown, a day apart
    assert first["posted_spend"] == purchases and first["posted_fees"] == purchases and first["posted_refunds"] == 1
    assert first["unmatched"] == 0
    with db.read() as session:
        card = session.get(Account, card_world.account_id(session, "card"))
        last_day = session.scalar(select(func.max(StatementLineRecord.posted_on)))
        statement_balance = 40_000 + sum(p for _, _, p in ORDINARY + EXCLUDED + VENUES + NO_MCC_EXCLUDED) - 3 * purchases + 675
        assert ledger_balance(session, card, as_of=last_day) == statement_balance
        flags = _flags(session)
    excluded = sorted(p for code, p in flags if code.startswith("EXCLUDED_"))
    assert excluded == sorted(m for m, _, _ in EXCLUDED + NO_MCC_EXCLUDED)
    assert sorted(p for code, p in flags if code == "CHECK_VENUE") == sorted(m for m, _, _ in VENUES)
    assert ("EXCLUDED_MERCHANT", "PADDYPOWER.COM") in flags and ("EXCLUDED_MCC", "WILLIAM HILL 0123") in flags
    assert not [f for f in flags if f[0] == "BALANCE_MISMATCH"]
    again = _reconcile_card(db, card_world)
    assert again["matched"] == 0 and again["flags_raised"] == 0
    with db.read() as session:
        assert _flags(session) == flags


def test_every_categorisation_names_its_rule_and_the_refund_goes_back_where_the_purchase_went(db: Database, card_world) -> None:  # type: ignore[no-untyped-def]
    _reconcile_card(db, card_world)
    with db.read() as session:
        rows = session.execute(
            select(StatementLineRecord.payee, StatementLineRecord.amount_pence, Category.code, Categorisation.rule_id, Categorisation.rule_version)
            .join(ReconciliationMatch, ReconciliationMatch.active_line_id == StatementLineRecord.id)
            .join(ReconciliationMatchPart, ReconciliationMatchPart.match_id == ReconciliationMatch.id)
            .join(Categorisation, Categorisation.match_part_id == ReconciliationMatchPart.id)
            .join(Category, Category.id == Categorisation.category_id)
        ).all()
    assert all(rule_id and version for _, _, _, rule_id, version in rows)
    by_payee = {(payee, pence): code for payee, pence, code, _, _ in rows}
    assert by_payee[("STAGECOACH SOUTH WEST", -450)] == "transport"
    assert by_payee[("TESCO STORES 3297", -1234)] == "uncategorised"
    assert by_payee[("BOOTS 1123", 675)] == by_payee[("BOOTS 1123", -675)]


def test_unmatch_reverses_what_was_posted_and_reconciling_again_puts_it_back(db: Database, card_world) -> None:  # type: ignore[no-untyped-def]
    _reconcile_card(db, card_world)
    with db.write() as session:
        line_id = session.scalar(select(StatementLineRecord.id).where(StatementLineRecord.payee == "ODEON CINEMAS"))
        card = session.get(Account, card_world.account_id(session, "card"))
        before = ledger_balance(session, card, as_of=date(2027, 1, 1))
        unmatch_line(session, line_id, actor=ACTOR, reason="wrong card")
        assert ledger_balance(session, card, as_of=date(2027, 1, 1)) == before + 1100
        with pytest.raises(Conflict):
            unmatch_line(session, line_id, actor=ACTOR, reason="again")
    result = _reconcile_card(db, card_world)
    assert result["matched"] == 1 and result["posted_spend"] == 1
    with db.read() as session:
        card = session.get(Account, card_world.account_id(session, "card"))
        assert ledger_balance(session, card, as_of=date(2027, 1, 1)) == before
        assert session.scalar(select(func.count()).select_from(ReconciliationEvent).where(ReconciliationEvent.action == "unmatch")) == 1


def test_recategorising_a_merchant_twice_teaches_a_rule_that_places_the_next_one(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        lines = [CardLine(f"T{n}", APRIL + timedelta(days=7 * n), "TESCO STORES 3297", "5411", "PURCHASE", -1000 - n) for n in range(3)]
        import_card(session, world, world.budget, lines[:2], name="first.csv")
        card = world.account_id(session, "card")
        reconcile_accounts(session, [card], actor=ACTOR)
        for line_id in session.scalars(select(StatementLineRecord.id).order_by(StatementLineRecord.id)):
            recategorise(session, line_id, "activities", actor=ACTOR, reason="cooking group ingredients")
        rule = session.scalars(select(CategoryRule)).one()
        assert (rule.origin, rule.pattern, rule.version) == ("learned", "tesco stores", 1)
        assert not session.scalars(select(Flag).where(Flag.code == "UNCATEGORISED", Flag.state != "closed")).all()
        import_card(session, world, world.budget, lines, name="second.csv")
        reconcile_accounts(session, [card], actor=ACTOR)
        third = session.execute(
            select(Categorisation.rule_id, Category.code).join(Category, Category.id == Categorisation.category_id).order_by(Categorisation.id.desc()).limit(1)
        ).one()
        assert third == (f"learned:{rule.rule_key}", "activities")


def test_reconciled_through_never_passes_the_statements_end(db: Database, card_world) -> None:  # type: ignore[no-untyped-def]
    """A load made after the last statement line is not yet on any statement: it waits for the
    next one, and does not make the account "reconciled" to the day before it."""
    _reconcile_card(db, card_world)
    with db.write() as session:
        card = card_world.account_id(session, "card")
        covered = account_status(session, card).statements_cover_to
        post_drawdown(session, card_world, card_world.budget, covered + timedelta(days=7), 40_000, "load-after-the-statement")
        status = account_status(session, card)
    assert status.unmatched_line_count == 0 and status.unmatched_entry_count == 0
    assert status.reconciled_through == status.statements_cover_to == covered


def test_a_split_line_posts_each_part_and_a_locked_period_refuses_changes_until_reopened(db: Database, card_world) -> None:  # type: ignore[no-untyped-def]
    _reconcile_card(db, card_world)
    with db.write() as session:
        line_id = session.scalar(select(StatementLineRecord.id).where(StatementLineRecord.payee == "TESCO STORES 3297"))
        split_line(session, line_id, [SplitPart(1000, "activities"), SplitPart(234, "equipment")], actor=ACTOR, reason="two things")
        card = world_card = card_world.account_id(session, "card")
        status = account_status(session, world_card)
        assert status.unmatched_line_count == 0 and status.reconciled_through == status.statements_cover_to
        assert status.difference_pence == 0
        lock_reconciled(session, card, status.reconciled_through, actor=ACTOR, reason="April checked")
        with pytest.raises(Conflict):
            unmatch_line(session, line_id, actor=ACTOR, reason="too late")
        reopen_reconciled(session, card, actor="Auditor", reason="audit of April")
        unmatch_line(session, line_id, actor=ACTOR, reason="now allowed")
        assert account_status(session, card).unmatched_line_count == 1


# --- the client bank account --------------------------------------------------------------


def bank_csv(lines: list[tuple[date, str, int]]) -> bytes:
    """A Starling-layout statement of the client bank account."""
    rows = ["Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category"]
    balance = 0
    for day, words, pence in lines:
        balance += pence
        rows.append(f"{day:%d/%m/%Y},{words},{words},FASTER PAYMENT,{pence / 100:.2f},{balance / 100:.2f},INCOME")
    return ("\n".join(rows) + "\n").encode()


def _import_bank(session, holder, lines, name="bank.csv"):  # type: ignore[no-untyped-def]
    account = session.scalar(select(Account.id).where(Account.code == f"holder:{holder.code}:unallocated"))
    import_statement(session, account_id=account, data=bank_csv(lines), file_name=name, format="csv:starling", imported_by="test")
    return account


def test_one_funder_payment_for_twelve_budgets_is_matched_to_their_twelve_receivables(db: Database) -> None:
    with db.write() as session:
        world, budgets = world_with_budgets(session, 12)
        for number, budget in enumerate(budgets, 1):
            add_expected_payment(session, budget.id, world.icb.id, due_on=date(2026, 4, 1), amount_pence=10_000 + number, description="April", created_by="t")
        total = sum(10_000 + n for n in range(1, 13))
        account = _import_bank(session, world.holder, [(date(2026, 4, 2), "NHS DEVON ICB BACS", total)])
        result = reconcile_accounts(session, [account], actor=ACTOR)
        assert result.funder_receipts == 1 and result.unmatched == 0
        for number, budget in enumerate(budgets, 1):
            cash = world.account_id(session, "cash", budget)
            assert ledger_balance(session, session.get(Account, cash), as_of=date(2026, 4, 30)) == 10_000 + number


def test_a_payment_two_combinations_fit_is_asked_about_not_guessed(db: Database) -> None:
    with db.write() as session:
        world, budgets = world_with_budgets(session, 2)
        for budget in budgets:
            add_expected_payment(session, budget.id, world.icb.id, due_on=date(2026, 4, 1), amount_pence=25_000, description="April", created_by="t")
        account = _import_bank(session, world.holder, [(date(2026, 4, 2), "BACS CREDIT", 25_000)])
        result = reconcile_accounts(session, [account], actor=ACTOR)
        assert (result.funder_receipts, result.unmatched, result.ambiguous) == (0, 1, 1)
        queue = unmatched_queue(session, holder_id=world.holder.id)
        assert [s.kind for s in queue[0].suggestions] == ["receivables", "receivables"]


def test_one_payroll_bank_line_pays_its_run_over_twelve_budgets(db: Database) -> None:
    with db.write() as session:
        world, budgets = world_with_budgets(session, 12)
        rows = [(f"Worker {n}", f"ISF-{n:04d}", "10", "11.44", "", "staff_pay") for n in range(1, 13)]
        run = import_payroll_run(session, world.holder.id, payroll_csv(rows), "may.csv", pay_date=date(2026, 5, 28), reference="PAY-05", approved_by="t")
        account = _import_bank(session, world.holder, [(date(2026, 5, 29), "PAYROLL SUNRISE", -run.total_pence)])
        result = reconcile_accounts(session, [account], actor=ACTOR)
        assert result.payments == 1 and result.unmatched == 0
        part = session.scalars(select(ReconciliationMatchPart)).one()
        postings = session.scalars(select(Posting).where(Posting.entry_id == part.entry_id)).all()
        assert part.amount_pence == -run.total_pence and len(postings) == 24  # a (payable, cash) pair for each of 12 budgets
        for budget in budgets:
            assert signed_sums(session, [world.account_id(session, "payable", budget)]).get(world.account_id(session, "payable", budget), 0) == 0


# --- plans ------------------------------------------------------------------------------


def test_a_lumpy_year_within_plan_raises_no_over_plan_line_and_beyond_it_does(db: Database) -> None:
    with db.write() as session:
        world = make_world(session, agree=False)
        person = make_person(session, "Lumpy Year")
        budget = make_budget(session, world.holder, person, world.icb, reference="ISF-0100")
        version = plans.create_draft(
            session, budget.id,
            plans.PlanVersionSpec(
                effective_from=budget.period_start, total_pence=1_000_000,
                funding_lines=[plans.FundingLineSpec(world.icb.id, 1_000_000, 0)],
                lines=[
                    plans.PlanLineSpec("staff_pay", "PAs", "recurring", annual_amount_pence=750_000),
                    plans.PlanLineSpec("equipment", "Sensory lamp", "one_off", amount_pence=150_000, starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 31)),
                ],
                contingency_pence=100_000,
            ),
        )  # fmt: skip
        plans.agree(session, version.id, agreed_by_name="Jo", agreed_by_role="ICB", agreed_at=AGREED_AT)
        post_drawdown(session, world, budget, date(2026, 5, 1), 200_000, "lumpy-load")
        import_card(session, world, budget, [
            CardLine("L", date(2026, 5, 1), "LOAD", "", "LOAD", 200_000),
            CardLine("E1", date(2026, 5, 20), "SENSORY SHOP LTD", "5999", "PURCHASE", -150_000),
        ])  # fmt: skip
        reconcile_accounts(session, [world.account_id(session, "card", budget)], actor=ACTOR)
        line = session.scalar(select(StatementLineRecord.id).where(StatementLineRecord.payee == "SENSORY SHOP LTD"))
        recategorise(session, line, "equipment", actor=ACTOR, reason="the lamp in the plan")
        raise_flags(session, world.holder.id, budget_ids=[budget.id], as_of=date(2026, 6, 1))
        assert not session.scalars(select(Flag).where(Flag.code == "OVER_PLAN_LINE")).all()
        import_card(session, world, budget, [
            CardLine("L", date(2026, 5, 1), "LOAD", "", "LOAD", 200_000),
            CardLine("E1", date(2026, 5, 20), "SENSORY SHOP LTD", "5999", "PURCHASE", -150_000),
            CardLine("E2", date(2026, 6, 20), "SENSORY SHOP LTD", "5999", "PURCHASE", -20_000),
        ], name="june.csv")  # fmt: skip
        reconcile_accounts(session, [world.account_id(session, "card", budget)], actor=ACTOR)
        june = session.scalar(select(StatementLineRecord.id).where(StatementLineRecord.amount_pence == -20_000))
        recategorise(session, june, "equipment", actor=ACTOR, reason="a second lamp")
        raise_flags(session, world.holder.id, budget_ids=[budget.id], as_of=date(2026, 7, 1))
        flags = session.scalars(select(Flag).where(Flag.code == "OVER_PLAN_LINE")).all()
        assert [f.amount_pence for f in flags] == [20_000]


# --- order and repetition -----------------------------------------------------------------

_MERCHANTS = [("TESCO STORES", "5411"), ("WILLIAM HILL", "7995"), ("THE SHIP INN", "5813"), ("STAGECOACH", "4131"), ("BET365", "")]


@st.composite
def card_histories(draw) -> list[CardLine]:  # type: ignore[no-untyped-def]
    count = draw(st.integers(1, 14))
    lines = []
    for n in range(count):
        merchant, mcc = draw(st.sampled_from(_MERCHANTS))
        day = APRIL + timedelta(days=draw(st.integers(0, 20)))
        if draw(st.integers(0, 5)) == 0:
            lines.append(CardLine(f"X{n}", day, "LOAD", "", "LOAD", 5_000))
        else:
            lines.append(CardLine(f"X{n}", day, merchant, mcc, "PURCHASE", -draw(st.sampled_from([150, 999, 2000, 60_000])), draw(st.sampled_from([0, 3]))))
    return lines


def _outcome(session, world, budget) -> tuple:  # type: ignore[no-untyped-def]
    card = world.account_id(session, "card", budget)
    matches = session.execute(
        select(StatementLineRecord.dedupe_key, ReconciliationMatch.method, func.coalesce(Category.code, ""))
        .join(ReconciliationMatch, ReconciliationMatch.active_line_id == StatementLineRecord.id)
        .join(ReconciliationMatchPart, ReconciliationMatchPart.match_id == ReconciliationMatch.id)
        .outerjoin(Categorisation, Categorisation.match_part_id == ReconciliationMatchPart.id)
        .outerjoin(Category, Category.id == Categorisation.category_id)
        .where(StatementLineRecord.account_id == card)
    ).all()
    flags = session.execute(
        select(Flag.code, StatementLineRecord.dedupe_key).join(StatementLineRecord, StatementLineRecord.id == Flag.statement_line_id).where(StatementLineRecord.account_id == card)
    ).all()
    return sorted(map(tuple, matches)), sorted(map(tuple, flags))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=card_histories(), data=st.data())
def test_reconciling_twice_or_in_another_order_gives_the_same_matches_and_flags(db: Database, history, data) -> None:  # type: ignore[no-untyped-def]
    shuffled = data.draw(st.permutations(history))
    cut = data.draw(st.integers(0, len(history)))
    with db.write() as session:
        world = make_world(session)
        outcomes = []
        # The same lines into two budgets' cards: in one file, and shuffled over two files.
        for n, (first_file, second_file) in enumerate([(history, []), (shuffled[:cut], shuffled[cut:])]):
            budget = make_budget(session, world.holder, make_person(session, f"P {n}"), world.icb, reference=f"{world.budget.reference}-{n}")
            plans.agree(session, plans.create_draft(session, budget.id, _plain_plan(world)).id, agreed_by_name="Jo", agreed_by_role="ICB", agreed_at=AGREED_AT)
            post_drawdown(session, world, budget, APRIL, 5_000, f"{budget.reference}-load")
            card = world.account_id(session, "card", budget)
            for part, lines in enumerate((first_file, second_file)):
                if lines:
                    import_statement(session, account_id=card, data=card_csv(list(lines)), file_name=f"{part}.csv", format="csv:prepaid_card", imported_by="t")
            reconcile_accounts(session, [card], actor=ACTOR)
            once = _outcome(session, world, budget)
            reconcile_accounts(session, [card], actor=ACTOR)
            assert _outcome(session, world, budget) == once
            outcomes.append(once)
        session.rollback()
    first, second = outcomes
    assert first == second


def _plain_plan(world) -> plans.PlanVersionSpec:  # type: ignore[no-untyped-def]
    return plans.PlanVersionSpec(
        effective_from=date(2026, 4, 1), total_pence=1_000_000, funding_lines=[plans.FundingLineSpec(world.icb.id, 1_000_000, 0)],
        lines=[plans.PlanLineSpec("staff_pay", "PAs", "recurring", annual_amount_pence=900_000)], contingency_pence=100_000,
    )  # fmt: skip



def test_a_remittance_advice_splits_its_payment_and_a_day_of_loads_is_one_transfer(db: Database) -> None:
    with db.write() as session:
        world, budgets = world_with_budgets(session, 3)
        advice = RemittanceAdvice(
            holder_id=world.holder.id, funder_id=world.icb.id, reference="REM-2026-04-77", total_pence=90_000,
            lines=json.dumps([["ISF-0001", 50_000], ["ISF-0003", 40_000]]), created_by="t",
        )  # fmt: skip
        session.add(advice)
        for number, budget in enumerate(budgets):
            post_drawdown(session, world, budget, date(2026, 4, 6), 10_000 + number, f"bulk-{number}")
        account = _import_bank(session, world.holder, [
            (date(2026, 4, 2), "NHS DEVON ICB REM-2026-04-77", 90_000),
            (date(2026, 4, 6), "ALLPAY BULK LOAD", -30_003),
        ])  # fmt: skip
        result = reconcile_accounts(session, [account], actor=ACTOR)
        assert (result.funder_receipts, result.bulk_loads, result.unmatched) == (1, 1, 0)
        assert advice.receipt_id is not None
        cash = {b.reference: ledger_balance(session, session.get(Account, world.account_id(session, "cash", b)), as_of=date(2026, 4, 30)) for b in budgets}
        assert cash == {"ISF-0001": 50_000 - 10_000, "ISF-0002": -10_001, "ISF-0003": 40_000 - 10_002}
        parts = session.scalars(select(ReconciliationMatchPart).join(ReconciliationMatch).where(ReconciliationMatch.method == "bulk_loads")).all()
        assert sorted(p.amount_pence for p in parts) == [-10_002, -10_001, -10_000]


def test_a_statement_the_ledger_disagrees_with_is_flagged_once_and_the_flag_closes_when_they_agree(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        card = world.account_id(session, "card")
        import_card(session, world, world.budget, [
            CardLine("L1", APRIL, "LOAD", "", "LOAD", 10_000),
            CardLine("P1", APRIL + timedelta(days=1), "STAGECOACH SOUTH WEST", "4131", "PURCHASE", -450),
        ])  # fmt: skip
        first = reconcile_accounts(session, [card], actor=ACTOR)
        assert (first.unmatched, first.posted_spend) == (1, 1)  # a load the ledger has no drawdown for
        flag = session.scalars(select(Flag).where(Flag.code == "BALANCE_MISMATCH")).one()
        assert flag.amount_pence == 10_000 and "£95.50" in flag.reason and "-£4.50" in flag.reason
        reconcile_accounts(session, [card], actor=ACTOR)
        assert session.scalar(select(func.count()).select_from(Flag).where(Flag.code == "BALANCE_MISMATCH")) == 1
        post_drawdown(session, world, world.budget, APRIL, 10_000, "late-load")
        reconcile_accounts(session, [card], actor=ACTOR)
        assert flag.state == "closed"


def test_a_purchase_already_in_the_ledger_keeps_its_category_recorded_as_posted(db: Database) -> None:
    with db.write() as session:
        world = make_world(session)
        card = world.account_id(session, "card")
        posted = post_entry(
            session,
            NewEntry(
                book_id=world.holder.id, entry_date=APRIL, description="Swimming", idempotency_key="swim-1",
                postings=(NewPosting(world.account_id(session, "spend:activities"), 450), NewPosting(card, -450)),
                kind="card_purchase", created_by="Sam",
            ),  # fmt: skip
        )
        import_card(session, world, world.budget, [CardLine("S1", APRIL + timedelta(days=1), "PLYMOUTH LIFE CENTRE", "7997", "PURCHASE", -450)])
        result = reconcile_accounts(session, [card], actor=ACTOR)
        assert (result.matched_existing, result.posted_spend) == (1, 0)
        row = session.execute(
            select(Category.code, Categorisation.rule_id, Categorisation.rule_version, Categorisation.entry_id)
            .join(Category, Category.id == Categorisation.category_id)
        ).one()
        assert tuple(row) == ("activities", "as-posted", "entry", posted.entry.id)
