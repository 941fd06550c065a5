"""The flag review workflow on both databases: every legal path, every illegal step and
wrong role refused without changing anything, the regulation 15 notice, recovery by
repayment and by offset, evidence, idempotent retries — and random step sequences checked
against an independent model of the lifecycle."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.budgets.plans import latest_agreed
from ledger.core import balances
from ledger.core.entries import NewEntry, NewPosting
from ledger.core.journal import post_entry
from ledger.core.verify import verify
from ledger.core.vocabulary import EntryKind
from ledger.errors import Conflict, InvalidInput, LedgerError, NotFound
from ledger.flags import raising as flags
from ledger.flags import states, workflow
from ledger.flags.evidence import attach_evidence, evidence_content
from ledger.flags.recovery import record_recovery, request_recovery
from ledger.flags.states import allowed_actions
from ledger.flags.views import FlagView, flag_view, notice_view, view_as_dict
from ledger.flags.workflow import accept, ask_reconsideration, challenge, close, close_by_system, explain, reallocate
from ledger.loads.runs import post_due_drawdowns
from ledger.store.database import Database
from ledger.store.tables import JournalEntry, Posting
from ledger.store.tables.flags import Evidence, Flag, FlagEvent, RepaymentNotice
from ledger.store.tables.load_offsets import LoadOffset
from tests.support.builders import World, make_budget, make_person, make_plan, make_world

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
SPENT = 4_500
FUNDER = {"actor": "Priya (ICB PHB team)", "actor_role": "funder"}
HOLDER = {"actor": "Sam (ISF lead)", "actor_role": "holder"}
FAMILY = {"actor": "Chris (Alex's dad)", "actor_role": "family"}
PDF = b"%PDF-1.7\n receipt for swimming lessons \n%%EOF"
_keys = itertools.count(1)


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        return make_world(session)


def purchase(db: Database, world: World, *, pence: int = SPENT, category: str = "activities", budget: Any = None) -> int:
    """A card purchase as reconciliation posts it: spend up, card down."""
    budget = budget or world.budget
    with db.write() as session:
        result = post_entry(
            session,
            NewEntry(
                book_id=world.holder.id, entry_date=date(2026, 5, 3), description="Card purchase: BETFRED 1234",
                idempotency_key=f"purchase-{next(_keys)}",
                postings=(
                    NewPosting(world.account_id(session, f"spend:{category}", budget), pence),
                    NewPosting(world.account_id(session, "card", budget), -pence),
                ),
                kind=EntryKind.CARD_PURCHASE, created_by="test",
            ),
        )  # fmt: skip
        return result.entry.id


def add_flag(db: Database, world: World, *, code: str = "EXCLUDED_MCC", entry_id: int | None = None, budget: Any = None,
             amount_pence: int | None = SPENT) -> int:  # fmt: skip
    """A flag as ``ledger.flags.raising`` raises it: state open, with its "raised" event."""
    budget = budget or world.budget
    with db.write() as session:
        flag = Flag(
            cause_key=f"test:{next(_keys)}", holder_id=world.holder.id, budget_id=budget.id, funder_id=world.icb.id,
            code=code, severity="high", rule_id="test", rule_version="1", reason="Betting shop (MCC 7995)",
            amount_pence=amount_pence, occurred_on=date(2026, 5, 3), entry_id=entry_id,
        )  # fmt: skip
        session.add(flag)
        session.flush()
        session.add(FlagEvent(flag_id=flag.id, action="raised", to_state="open", actor="system", actor_role="system"))
        return flag.id


def spend_flag(db: Database, world: World) -> int:
    return add_flag(db, world, entry_id=purchase(db, world))


def step(db: Database, action: Callable[..., FlagView], *args: Any, **kwargs: Any) -> FlagView:
    with db.write() as session:
        return action(session, *args, **kwargs)


def view(db: Database, flag_id: int) -> FlagView:
    with db.read() as session:
        return flag_view(session, flag_id)


def refused(db: Database, error: type[LedgerError], code: str, action: Callable[..., FlagView], *args: Any, **kwargs: Any) -> None:
    """The step is refused with ``code`` and leaves the flag, its history, its notices and
    the journal exactly as they were."""
    flag_id = args[0]
    before = (view(db, flag_id), _count(db, JournalEntry), _count(db, RepaymentNotice), _count(db, LoadOffset))
    with pytest.raises(error) as caught:
        step(db, action, *args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert (view(db, flag_id), _count(db, JournalEntry), _count(db, RepaymentNotice), _count(db, LoadOffset)) == before


def _count(db: Database, table: Any) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def recovery_terms(**overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "amount_pence": SPENT,
        "reasons": "The money was spent at a betting shop, which the support plan does not cover.",
        "repay_by": date(2026, 12, 31),
        "repayer": "Sunrise Support (the budget holder)",
        "issued_on": date(2026, 12, 1),
        **FUNDER,
    }
    terms.update(overrides)
    return terms


def balance(db: Database, world: World, suffix: str, budget: Any = None) -> int:
    with db.read() as session:
        account_id = world.account_id(session, suffix, budget)
        return balances.signed_sums(session, [account_id]).get(account_id, 0)


def direct_payment_budget(db: Database, world: World) -> Any:
    with db.write() as session:
        person = make_person(session, "Robin Jones")
        budget = make_budget(
            session, world.holder, person, world.icb, reference="DP-0001",
            parts=(budgets.PartSpec("direct_payment", "prepaid_card"),),
        )  # fmt: skip
        make_plan(session, budget, [(world.icb, 1_000_000, 0)], total_pence=1_000_000)
        return budget


# --- the legal paths ---------------------------------------------------------------------------


def test_explained_accepted_closed_with_its_history_in_order(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    raised = view(db, flag_id)
    assert raised.state == "open" and raised.allowed_actions == ("explain", "reallocate", "request_recovery")
    explained = step(db, explain, flag_id, "Dad's birthday meal at the bookmaker's café: food only, receipt attached", **HOLDER)
    assert explained.state == "explained" and explained.state_changed_at >= raised.state_changed_at
    step(db, accept, flag_id, "Receipt shows food only", **FUNDER)
    closed = step(db, close, flag_id, "Nothing more to do", **FUNDER)
    assert closed.state == "closed" and closed.allowed_actions == ()
    assert [(e.action, e.from_state, e.to_state, e.actor_role) for e in closed.events] == [
        ("raised", None, "open", "system"),
        ("explained", "open", "explained", "holder"),
        ("accepted", "explained", "accepted", "funder"),
        ("closed", "accepted", "closed", "funder"),
    ]
    assert closed.events[1].actor == "Sam (ISF lead)" and closed.events[2].note == "Receipt shows food only"
    assert [e.id for e in closed.events] == sorted(e.id for e in closed.events)
    assert [e.at for e in closed.events] == sorted(e.at for e in closed.events)
    # the history is only ever added to: earlier events are unchanged by later steps
    assert closed.events[:2] == explained.events


def test_challenged_then_explained_again_then_accepted(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    step(db, explain, flag_id, "It was a café", **HOLDER)
    challenged = step(db, challenge, flag_id, "Please send the receipt", **FUNDER)
    assert challenged.state == "challenged" and challenged.allowed_actions == ("explain", "reallocate", "request_recovery")
    step(db, explain, flag_id, "Receipt attached", **HOLDER)
    accepted = step(db, accept, flag_id, "Thank you", **FUNDER)
    assert [e.action for e in accepted.events] == ["raised", "explained", "challenged", "explained", "accepted"]
    assert [e.from_state for e in accepted.events[1:]] == ["open", "explained", "challenged", "explained"]


def test_recovery_requested_then_reconsideration_opens_it_again(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    requested = step(db, request_recovery, flag_id, **recovery_terms())
    assert requested.state == "recovery_requested"
    (notice,) = requested.notices
    assert requested.events[-1].notice_id == notice.id
    assert (notice.amount_pence, notice.repay_by, notice.issued_by, notice.funder_id) == (SPENT, date(2026, 12, 31), FUNDER["actor"], world.icb.id)
    reopened = step(db, ask_reconsideration, flag_id, "The receipt shows it was food for the party", **HOLDER)
    assert reopened.state == "open"
    assert reopened.events[-1].action == "reconsideration_asked"
    assert (reopened.events[-1].from_state, reopened.events[-1].to_state) == ("recovery_requested", "open")
    # after reconsidering, the funder may ask again (a new notice) or accept an explanation
    again = step(db, request_recovery, flag_id, **recovery_terms(amount_pence=2_000, reasons="Only the drinks: £20.00"))
    assert [n.amount_pence for n in again.notices] == [SPENT, 2_000]


def test_the_notice_says_what_regulation_15_requires_without_naming_the_person(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    (notice,) = step(db, request_recovery, flag_id, **recovery_terms(amount_pence=123_456)).notices
    words = notice.text
    assert "regulation 15 of the National Health Service (Direct Payments) Regulations 2013" in words
    assert recovery_terms()["reasons"] in words  # the reasons
    assert "£1,234.56" in words  # the amount, in pounds and pence
    assert "Repay by: 31 December 2026" in words  # the time to repay
    assert "Who must repay: Sunrise Support (the budget holder)" in words
    assert "reconsider this decision" in words and "before 31 December 2026" in words and "reply to this notice" in words
    assert "ISF-0001" in words and "NHS Devon ICB" in words and "EXCLUDED_MCC" in words and "Betting shop (MCC 7995)" in words
    assert "1 December 2026" in words
    assert "Alex Smith" not in words
    with db.read() as session:
        assert notice_view(session, notice.id) == notice
        with pytest.raises(NotFound):
            notice_view(session, notice.id + 1000)


def test_recovery_by_repayment_puts_the_money_back_on_the_card_and_undoes_the_spend(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    step(db, request_recovery, flag_id, **recovery_terms(amount_pence=SPENT - 500))
    card, spend = balance(db, world, "card"), balance(db, world, "spend:activities")
    recovered = step(db, record_recovery, flag_id, method="repayment", on=date(2026, 12, 10), **FUNDER)
    assert recovered.state == "recovered" and recovered.allowed_actions == ("close",)
    assert balance(db, world, "card") == card + SPENT - 500
    assert balance(db, world, "spend:activities") == spend - (SPENT - 500)
    event = recovered.events[-1]
    assert event.notice_id == recovered.notices[0].id and event.load_offset_id is None
    with db.read() as session:
        entry = session.get(JournalEntry, event.entry_id)
        assert (entry.kind, entry.entry_date, entry.idempotency_key) == ("recovery", date(2026, 12, 10), f"flag-recovery:{flag_id}")
        postings = {p.account_id: p.amount_pence for p in session.scalars(select(Posting).where(Posting.entry_id == entry.id))}
        assert postings == {world.account_id(session, "card"): SPENT - 500, world.account_id(session, "spend:activities"): -(SPENT - 500)}
        assert verify(session) == []
    assert step(db, close, flag_id, "Repaid in full", **FUNDER).state == "closed"


def test_repayment_into_the_account_and_refused_without_a_spend_entry(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    step(db, request_recovery, flag_id, **recovery_terms())
    cash = balance(db, world, "cash")
    step(db, record_recovery, flag_id, method="repayment", on=date(2026, 12, 10), into="cash", **FUNDER)
    assert balance(db, world, "cash") == cash + SPENT
    no_entry = add_flag(db, world, code="LARGE_SPEND")
    step(db, request_recovery, no_entry, **recovery_terms())
    refused(db, InvalidInput, "recovery_needs_spend", record_recovery, no_entry, method="repayment", on=date(2026, 12, 10), **FUNDER)
    refused(db, InvalidInput, "recovery_before_notice", record_recovery, no_entry, method="offset", on=date(2026, 11, 30), **FUNDER)
    refused(db, InvalidInput, "field_not_allowed", record_recovery, no_entry, method="gift", on=date(2026, 12, 10), **FUNDER)
    refused(db, InvalidInput, "field_not_allowed", record_recovery, no_entry, method="repayment", on=date(2026, 12, 10), into="bank", **FUNDER)


def test_recovery_by_offset_against_the_next_loads(db: Database, world: World) -> None:
    with db.write() as session:
        post_due_drawdowns(session, datetime.combine(date(2026, 6, 29), time(12), tzinfo=LONDON), now=NOW)
    flag_id = add_flag(db, world, code="SURPLUS_HELD", amount_pence=300_000)
    step(db, request_recovery, flag_id, **recovery_terms(amount_pence=150_000, issued_on=date(2026, 6, 30), repay_by=date(2026, 7, 31)))
    recovered = step(db, record_recovery, flag_id, method="offset", on=date(2026, 7, 6), **FUNDER)
    assert recovered.state == "recovered"
    event = recovered.events[-1]
    assert event.entry_id is None and event.note == "Recovered by offset against the card loads from 6 July 2026"
    with db.read() as session:
        offset = session.get(LoadOffset, event.load_offset_id)
        assert (offset.amount_pence, offset.starts_on, offset.decided_by) == (150_000, date(2026, 7, 6), FUNDER["actor"])
        assert offset.reason.startswith(f"Recovery for flag {flag_id}: ")


def test_a_surplus_held_is_reallocated_by_an_agreed_plan_revision(db: Database, world: World) -> None:
    flag_id = add_flag(db, world, code="SURPLUS_HELD", amount_pence=300_000)
    with db.write() as session:
        draft = make_plan(session, world.budget, [(world.icb, 3_200_000, 0), (world.council, 2_000_000, 0)], total_pence=5_200_000,
                          effective_from=date(2026, 10, 1), agree=False)  # fmt: skip
    refused(db, InvalidInput, "plan_version_not_agreed", reallocate, flag_id, draft.id, "Extra swimming", **FUNDER)
    other = direct_payment_budget(db, world)
    with db.read() as session:
        other_version = latest_agreed(session, other.id)
    refused(db, InvalidInput, "plan_version_of_other_budget", reallocate, flag_id, other_version.id, "Extra swimming", **FUNDER)
    refused(db, NotFound, "plan_version_not_found", reallocate, flag_id, 999_999, "Extra swimming", **FUNDER)
    step(db, explain, flag_id, "Staff were off sick in the summer", **HOLDER)
    reallocated = step(db, reallocate, flag_id, world.version.id, "Money left goes to extra swimming, agreed at the review", **FUNDER)
    assert reallocated.state == "reallocated" and reallocated.events[-1].plan_version_id == world.version.id
    assert step(db, close, flag_id, "Done", **FUNDER).state == "closed"
    spend = spend_flag(db, world)
    refused(db, Conflict, "reallocation_only_for_surplus", reallocate, spend, world.version.id, "Extra swimming", **FUNDER)


@pytest.mark.parametrize("path", ["open", "explained", "challenged", "accepted", "reallocated", "recovery_requested", "recovered"])
def test_the_system_closes_a_flag_from_any_open_state_and_leaves_a_closed_one_alone(db: Database, world: World, path: str) -> None:
    flag_id = flag_in_state(db, world, path)
    closed = step(db, close_by_system, flag_id, "re-categorised as activities")
    assert closed.state == "closed"
    last = closed.events[-1]
    assert (last.action, last.from_state, last.actor, last.actor_role) == ("closed_by_system", path, "system", "system")
    again = step(db, close_by_system, flag_id, "balances agree")
    assert again.events == closed.events


# --- what is refused ---------------------------------------------------------------------------

PATHS: dict[str, list[tuple[Callable[..., FlagView], tuple[Any, ...], dict[str, Any]]]] = {
    "open": [],
    "explained": [(explain, ("Why",), HOLDER)],
    "challenged": [(explain, ("Why",), HOLDER), (challenge, ("Receipt?",), FUNDER)],
    "accepted": [(explain, ("Why",), HOLDER), (accept, ("Fine",), FUNDER)],
    "reallocated": [(reallocate, ("<version>", "Swimming"), FUNDER)],
    "recovery_requested": [(request_recovery, (), recovery_terms())],
    "recovered": [(request_recovery, (), recovery_terms()), (record_recovery, (), {"method": "repayment", "on": date(2026, 12, 10), **FUNDER})],
    "closed": [(explain, ("Why",), HOLDER), (accept, ("Fine",), FUNDER), (close, ("Done",), FUNDER)],
}


def flag_in_state(db: Database, world: World, state: str) -> int:
    flag_id = add_flag(db, world, code="SURPLUS_HELD", entry_id=purchase(db, world))
    for action, args, kwargs in PATHS[state]:
        args = tuple(world.version.id if a == "<version>" else a for a in args)
        step(db, action, flag_id, *args, **kwargs)
    assert view(db, flag_id).state == state
    return flag_id


ATTEMPTS: dict[str, tuple[Callable[..., FlagView], tuple[Any, ...], dict[str, Any]]] = {
    "explain": (explain, ("Another go",), HOLDER),
    "accept": (accept, ("Another go",), FUNDER),
    "challenge": (challenge, ("Another go",), FUNDER),
    "reallocate": (reallocate, ("<version>", "Another go"), FUNDER),
    "request_recovery": (request_recovery, (), recovery_terms(reasons="Another go")),
    "ask_reconsideration": (ask_reconsideration, ("Another go",), HOLDER),
    "record_recovery": (record_recovery, (), {"method": "repayment", "on": date(2026, 12, 11), **FUNDER}),
    "close": (close, ("Another go",), FUNDER),
}
ALLOWED_FROM = {  # written out by hand from the brief: the oracle for the module's table
    "open": {"explain", "reallocate", "request_recovery"},
    "explained": {"accept", "challenge", "reallocate", "request_recovery"},
    "challenged": {"explain", "reallocate", "request_recovery"},
    "accepted": {"close"},
    "reallocated": {"close"},
    "recovery_requested": {"ask_reconsideration", "record_recovery"},
    "recovered": {"close"},
    "closed": set(),
}


@pytest.mark.parametrize("state", list(PATHS))
def test_every_step_the_state_does_not_allow_is_refused_and_changes_nothing(db: Database, world: World, state: str) -> None:
    flag_id = flag_in_state(db, world, state)
    assert set(allowed_actions(state)) == ALLOWED_FROM[state]
    for name, (action, args, kwargs) in ATTEMPTS.items():
        if name in ALLOWED_FROM[state]:
            continue
        args = tuple(world.version.id if a == "<version>" else a for a in args)
        before = view(db, flag_id)
        with pytest.raises(Conflict) as caught:
            step(db, action, flag_id, *args, **kwargs)
        assert caught.value.code == "flag_transition_not_allowed", name
        assert state in caught.value.message
        assert caught.value.details == {"state": state, "allowed_actions": list(allowed_actions(state))}
        assert view(db, flag_id) == before


def test_wrong_roles_are_refused_and_change_nothing(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    refused(db, Conflict, "flag_role_not_allowed", explain, flag_id, "I approve of this", **FUNDER)
    refused(db, Conflict, "flag_role_not_allowed", explain, flag_id, "It was fine", **FAMILY)  # no direct payment here
    refused(db, Conflict, "flag_role_not_allowed", request_recovery, flag_id, **recovery_terms(actor_role="holder"))
    refused(db, Conflict, "flag_role_not_allowed", reallocate, flag_id, world.version.id, "x", actor="Sam", actor_role="holder")
    refused(db, Conflict, "flag_role_not_allowed", explain, flag_id, "x", actor="cron", actor_role="system")
    refused(db, InvalidInput, "field_not_allowed", explain, flag_id, "x", actor="Sam", actor_role="auditor")
    refused(db, InvalidInput, "field_required", explain, flag_id, "x", actor="  ", actor_role="holder")
    step(db, explain, flag_id, "Food only", **HOLDER)
    for action in (accept, challenge):
        refused(db, Conflict, "flag_role_not_allowed", action, flag_id, "Looks fine to me", **HOLDER)
        refused(db, Conflict, "flag_role_not_allowed", action, flag_id, "Looks fine to me", **FAMILY)
    step(db, accept, flag_id, "Fine", **FUNDER)
    refused(db, Conflict, "flag_role_not_allowed", close, flag_id, "Done", **HOLDER)
    other = spend_flag(db, world)
    step(db, request_recovery, other, **recovery_terms())
    refused(db, Conflict, "flag_role_not_allowed", ask_reconsideration, other, "Please", **FUNDER)
    refused(db, Conflict, "flag_role_not_allowed", record_recovery, other, method="repayment", on=date(2026, 12, 10), actor="Sam", actor_role="holder")


def test_the_family_answers_flags_on_a_direct_payment(db: Database, world: World) -> None:
    budget = direct_payment_budget(db, world)
    flag_id = add_flag(db, world, entry_id=purchase(db, world, budget=budget), budget=budget)
    assert step(db, explain, flag_id, "Birthday meal", **FAMILY).state == "explained"
    step(db, request_recovery, flag_id, **recovery_terms(repayer="Chris Jones (nominated family member)"))
    assert step(db, ask_reconsideration, flag_id, "It was food", **FAMILY).state == "open"


def test_bad_input_is_refused_before_anything_changes(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    refused(db, InvalidInput, "field_required", explain, flag_id, "   ", **HOLDER)
    refused(db, InvalidInput, "field_too_long", explain, flag_id, "x" * 4001, **HOLDER)
    refused(db, InvalidInput, "recovery_amount_not_positive", request_recovery, flag_id, **recovery_terms(amount_pence=0))
    refused(db, InvalidInput, "recovery_amount_not_positive", request_recovery, flag_id, **recovery_terms(amount_pence=-1))
    refused(db, InvalidInput, "repay_by_not_after_issue", request_recovery, flag_id, **recovery_terms(repay_by=date(2026, 12, 1)))
    refused(db, InvalidInput, "field_required", request_recovery, flag_id, **recovery_terms(reasons=""))
    refused(db, InvalidInput, "field_required", request_recovery, flag_id, **recovery_terms(repayer=" "))
    refused(db, InvalidInput, "evidence_ids_invalid", explain, flag_id, "x", ["1"], **HOLDER)
    refused(db, InvalidInput, "evidence_not_found", explain, flag_id, "x", [999_999], **HOLDER)
    with pytest.raises(NotFound) as missing:
        step(db, explain, 999_999, "x", **HOLDER)
    assert missing.value.code == "flag_not_found"


def test_the_view_as_json_has_amounts_as_decimal_strings_and_no_file_bytes(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    receipt = upload(db, world, flag_id=flag_id)
    step(db, explain, flag_id, "Food only", [receipt.id], **HOLDER)
    as_dict = view_as_dict(step(db, request_recovery, flag_id, **recovery_terms()))
    assert json.loads(json.dumps(as_dict)) == as_dict  # plain JSON values only
    assert as_dict["amount"] == "45.00" and as_dict["notices"][0]["amount"] == "45.00" and "amount_pence" not in as_dict
    assert as_dict["occurred_on"] == "2026-05-03" and as_dict["raised_at"].endswith("Z")
    assert as_dict["allowed_actions"] == ["ask_reconsideration", "record_recovery"]
    assert [e["action"] for e in as_dict["events"]] == ["raised", "explained", "recovery_requested"]
    assert as_dict["events"][1]["evidence_ids"] == [receipt.id]
    assert "content" not in as_dict["evidence"][0] and as_dict["evidence"][0]["sha256"] == receipt.sha256
    assert not any(isinstance(v, float) for v in _leaves(as_dict))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def test_the_states_and_codes_are_those_the_rules_raise_flags_with() -> None:
    assert [s.value for s in states.FlagState] == [s.value for s in flags.FlagState]
    assert workflow.SURPLUS_HELD == flags.FlagCode.SURPLUS_HELD


# --- retries -----------------------------------------------------------------------------------


def test_the_same_step_sent_again_is_recorded_once(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    first = step(db, explain, flag_id, "Food only", **HOLDER)
    assert step(db, explain, flag_id, "Food only", **HOLDER) == first
    assert step(db, explain, flag_id, "  Food only  ", **HOLDER) == first  # the same words, trimmed
    # other words, or another person, is not a retry: explained → explained is not a step
    refused(db, Conflict, "flag_transition_not_allowed", explain, flag_id, "Food and a drink", **HOLDER)
    refused(db, Conflict, "flag_transition_not_allowed", explain, flag_id, "Food only", actor="Kim", actor_role="holder")
    step(db, challenge, flag_id, "Receipt please", **FUNDER)
    # once something else happened, the same explanation again is a new step
    assert len(step(db, explain, flag_id, "Food only", **HOLDER).events) == 4
    requested = step(db, request_recovery, flag_id, **recovery_terms())
    assert step(db, request_recovery, flag_id, **recovery_terms()) == requested
    refused(db, Conflict, "flag_transition_not_allowed", request_recovery, flag_id, **recovery_terms(amount_pence=1))
    entries = _count(db, JournalEntry)
    recovered = step(db, record_recovery, flag_id, method="repayment", on=date(2026, 12, 10), **FUNDER)
    assert step(db, record_recovery, flag_id, method="repayment", on=date(2026, 12, 10), **FUNDER) == recovered
    assert _count(db, JournalEntry) == entries + 1
    refused(db, Conflict, "flag_transition_not_allowed", record_recovery, flag_id, method="repayment", on=date(2026, 12, 11), **FUNDER)


@pytest.mark.postgres_only
def test_the_application_cannot_rewrite_a_flags_history(pg: Database) -> None:
    with pg.write() as session:
        world = make_world(session)
    flag_id = add_flag(pg, world)
    step(pg, explain, flag_id, "Food only", **HOLDER)
    before = view(pg, flag_id)
    for statement in ("UPDATE flag_event SET note = 'changed'", "DELETE FROM flag_event"):
        with pytest.raises(DBAPIError) as caught:
            with pg.write() as session:
                session.execute(text(statement))
        assert "permission denied" in str(caught.value.orig)
    assert view(pg, flag_id) == before


# --- evidence ----------------------------------------------------------------------------------


def upload(db: Database, world: World, **overrides: Any) -> Evidence:
    arguments: dict[str, Any] = {
        "kind": "receipt", "file_name": "C:\\fakepath\\receipt.pdf", "content_type": "application/pdf",
        "content": PDF, "uploaded_by": "Sam (ISF lead)",
    }  # fmt: skip
    arguments.update(overrides)
    holder_id = arguments.pop("holder_id", world.holder.id)
    with db.write() as session:
        return attach_evidence(session, holder_id, **arguments)


def test_evidence_is_stored_with_its_hash_and_goes_with_an_explanation(db: Database, world: World) -> None:
    flag_id = spend_flag(db, world)
    receipt = upload(db, world, flag_id=flag_id, note="Café receipt")
    assert (receipt.file_name, receipt.size_bytes, receipt.budget_id) == ("receipt.pdf", len(PDF), world.budget.id)
    assert receipt.sha256 == hashlib.sha256(PDF).hexdigest()
    assert upload(db, world, flag_id=flag_id, note="Café receipt").id == receipt.id  # a retried upload
    loose = upload(db, world, kind="invoice", file_name="invoice.png", content_type="image/png; charset=binary",
                   content=b"\x89PNG\r\n\x1a\n....")  # fmt: skip
    explained = step(db, explain, flag_id, "Food only: see the receipt and invoice", [loose.id, receipt.id, loose.id], **HOLDER)
    assert explained.events[-1].evidence_ids == (loose.id, receipt.id)
    assert [(e.id, e.kind) for e in explained.evidence] == [(receipt.id, "receipt"), (loose.id, "invoice")]
    assert not hasattr(explained.evidence[0], "content")
    with db.read() as session:
        assert evidence_content(session, receipt.id).content == PDF
        with pytest.raises(NotFound):
            evidence_content(session, 999_999)
        stored = session.scalar(select(FlagEvent.evidence_ids).where(FlagEvent.flag_id == flag_id, FlagEvent.action == "explained"))
        assert json.loads(stored) == [loose.id, receipt.id]


def test_evidence_refused_when_too_large_empty_of_another_type_or_another_holders(db: Database, world: World) -> None:
    cases = [
        ({"content": b"%PDF-" + b"x" * (10 * 1024 * 1024)}, "evidence_too_large"),
        ({"content": b""}, "evidence_empty"),
        ({"content_type": "text/html", "content": b"<script>"}, "evidence_type_not_allowed"),
        ({"content_type": "application/pdf", "content": b"<html>not a pdf"}, "evidence_content_mismatch"),
        ({"content_type": "text/csv", "content": b"a,b\x00"}, "evidence_content_mismatch"),
        ({"kind": "selfie"}, "field_not_allowed"),
        ({"file_name": "  "}, "field_required"),
    ]
    for overrides, code in cases:
        with pytest.raises(InvalidInput) as caught:
            upload(db, world, **overrides)
        assert caught.value.code == code
    assert upload(db, world, content=b"%PDF-" + b"x" * (10 * 1024 * 1024 - 5)).size_bytes == 10 * 1024 * 1024
    # another holder's flag, budget or evidence is answered as not found
    with db.write() as session:
        other = parties.create_holder(session, parties.HolderSpec("dawn", "Dawn Care", "isf_provider"))
    flag_id = spend_flag(db, world)
    for overrides, code in (({"flag_id": flag_id}, "flag_not_found"), ({"budget_id": world.budget.id}, "budget_not_found"),
                            ({"statement_line_id": 999_999}, "statement_line_not_found")):  # fmt: skip
        with pytest.raises(NotFound) as caught:
            upload(db, world, holder_id=other.id, **overrides)
        assert caught.value.code == code
    theirs = upload(db, world, holder_id=other.id)
    refused(db, InvalidInput, "evidence_not_found", explain, flag_id, "See their receipt", [theirs.id], **HOLDER)


def test_evidence_of_another_budget_of_the_same_holder_goes_with_no_explanation(db: Database, world: World) -> None:
    """A family on one budget cannot hand in another budget's evidence (the holder is the same,
    the budget is not), and neither can the holder; the holder may give evidence about no one
    budget (an invoice several share), a family may not."""
    dp_budget = direct_payment_budget(db, world)
    other_flag = add_flag(db, world, budget=dp_budget)
    theirs = upload(db, world, flag_id=spend_flag(db, world))
    assert theirs.budget_id == world.budget.id
    shared = upload(db, world, kind="invoice", file_name="shared.pdf", content=PDF + b" shared")
    assert shared.budget_id is None
    refused(db, InvalidInput, "evidence_not_found", explain, other_flag, "Here is the receipt", [theirs.id], **FAMILY)
    refused(db, InvalidInput, "evidence_not_found", explain, other_flag, "Here is the receipt", [shared.id], **FAMILY)
    refused(db, InvalidInput, "evidence_not_found", explain, other_flag, "Here is the receipt", [theirs.id], **HOLDER)
    own = upload(db, world, flag_id=other_flag, content=PDF + b" own")
    assert step(db, explain, other_flag, "Here is the receipt", [own.id], **FAMILY).events[-1].evidence_ids == (own.id,)
    assert step(db, explain, add_flag(db, world, budget=dp_budget), "The shared invoice", [shared.id], **HOLDER).state == "explained"


# --- random step sequences against a model of the lifecycle ----------------------------------


@dataclass
class Model:
    """The lifecycle as the brief states it, written independently of the module."""

    surplus: bool
    state: str = "open"
    history: list[tuple[str, str, str, str]] = field(default_factory=list)

    EDGES = {  # (state, step) → next state
        ("open", "explain"): "explained", ("challenged", "explain"): "explained",
        ("explained", "accept"): "accepted", ("explained", "challenge"): "challenged",
        ("open", "reallocate"): "reallocated", ("explained", "reallocate"): "reallocated",
        ("challenged", "reallocate"): "reallocated",
        ("open", "request_recovery"): "recovery_requested", ("explained", "request_recovery"): "recovery_requested",
        ("challenged", "request_recovery"): "recovery_requested",
        ("recovery_requested", "ask_reconsideration"): "open",
        ("recovery_requested", "record_recovery"): "recovered",
        ("accepted", "close"): "closed", ("reallocated", "close"): "closed", ("recovered", "close"): "closed",
    }  # fmt: skip
    ROLES = {
        "explain": {"holder", "family"}, "ask_reconsideration": {"holder", "family"}, "accept": {"funder"},
        "challenge": {"funder"}, "reallocate": {"funder"}, "request_recovery": {"funder"},
        "record_recovery": {"funder"}, "close": {"funder"},
    }  # fmt: skip

    def expect(self, name: str, role: str, note: str) -> str | None:
        """Apply a step; return the error code expected, or None when it is taken."""
        if name == "close_by_system":
            if self.state != "closed":
                self.history.append((name, "system", "system", note))
                self.state = "closed"
            return None
        target = next((to for (_, step_name), to in self.EDGES.items() if step_name == name), None)
        if self.state == target and self.history and self.history[-1] == (name, role, role, note):
            return None  # a retry
        if role not in self.ROLES[name]:
            return "flag_role_not_allowed"
        if (self.state, name) not in self.EDGES:
            return "flag_transition_not_allowed"
        if name == "reallocate" and not self.surplus:
            return "reallocation_only_for_surplus"
        if name == "record_recovery" and self.surplus:
            return "recovery_needs_spend"  # a surplus flag names no spend entry
        self.history.append((name, role, role, note))
        self.state = self.EDGES[(self.state, name)]
        return None


STEP_NAMES = ["explain", "accept", "challenge", "reallocate", "request_recovery", "ask_reconsideration", "record_recovery",
              "close", "close_by_system"]  # fmt: skip


def draw_step(data: st.DataObject, model: Model) -> tuple[str, str, str]:
    """Mostly a step the model allows, taken by a role it is for (so sequences get deep into
    the lifecycle); otherwise any step by any role."""
    legal = sorted(name for state, name in Model.EDGES if state == model.state)
    if legal and data.draw(st.integers(0, 3)) > 0:
        name = data.draw(st.sampled_from(legal))
        role = data.draw(st.sampled_from(sorted(Model.ROLES[name])))
    else:
        name = data.draw(st.sampled_from(STEP_NAMES))
        role = data.draw(st.sampled_from(["holder", "family", "funder"]))
    note = "Repayment received onto the card on 10 December 2026" if name == "record_recovery" else data.draw(st.sampled_from(["a", "b"]))
    return name, role, note


def _run_step(db: Database, flag_id: int, version_id: int, name: str, role: str, note: str) -> FlagView:
    who = {"actor": role, "actor_role": role}
    with db.write() as session:
        if name == "close_by_system":
            return close_by_system(session, flag_id, note)
        if name == "reallocate":
            return reallocate(session, flag_id, version_id, note, **who)
        if name == "request_recovery":
            return request_recovery(session, flag_id, **recovery_terms(reasons=note, **who))
        if name == "record_recovery":
            return record_recovery(session, flag_id, method="repayment", on=date(2026, 12, 10), **who)
        return {"explain": explain, "accept": accept, "challenge": challenge, "close": close,
                "ask_reconsideration": ask_reconsideration}[name](session, flag_id, note, **who)  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(surplus=st.booleans(), data=st.data())
def test_random_steps_follow_the_model(db: Database, dp_world: World, surplus: bool, data: st.DataObject) -> None:
    world, budget = dp_world, dp_world.budget
    flag_id = add_flag(db, world, code="SURPLUS_HELD" if surplus else "EXCLUDED_MCC", budget=budget,
                       entry_id=None if surplus else purchase(db, world, budget=budget))  # fmt: skip
    model = Model(surplus)
    for _ in range(data.draw(st.integers(0, 14), label="steps")):
        name, role, note = draw_step(data, model)
        expected = model.expect(name, role, note)
        before = view(db, flag_id)
        try:
            after = _run_step(db, flag_id, world.version.id, name, role, note)
        except LedgerError as error:
            assert error.code == expected, (name, role, before.state, error.message)
            assert view(db, flag_id) == before
            continue
        assert expected is None, (name, role, before.state, "was taken")
        assert after.state == model.state
        assert [(e.action, e.actor_role) for e in after.events[1:]] == [
            (_action_word(n), r) for n, _, r, _ in model.history
        ]
        assert after.events[: len(before.events)] == before.events  # only ever appended to


def _action_word(name: str) -> str:
    return {"explain": "explained", "accept": "accepted", "challenge": "challenged", "reallocate": "reallocated",
            "request_recovery": "recovery_requested", "ask_reconsideration": "reconsideration_asked",
            "record_recovery": "recovered", "close": "closed", "close_by_system": "closed_by_system"}[name]  # fmt: skip


@pytest.fixture
def dp_world(db: Database) -> World:
    """A budget with a direct payment (so the family may act), shared by hypothesis's
    examples: each example raises its own flag on it."""
    with db.write() as session:
        world = make_world(session, reference="DP-0009")
        budgets.add_part(session, world.budget, budgets.PartSpec("direct_payment", "bank_account"))
        return world
