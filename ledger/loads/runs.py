"""Posting the card loads that are due, each exactly once, and reading a budget's schedule.

``post_due_drawdowns(as_of)`` posts every load due up to ``as_of`` that has not been made,
each dated on its due day: after downtime it catches up every missed period. What makes a
load happen exactly once, whoever runs it (the scheduler, cron, the CLI, several at once):

- per holder, the run takes the book's lock *before* it reads which loads were made, so two
  runs over the same holder never act on the same reading (the second waits, then sees the
  first one's loads as made);
- each load's journal entry carries the key ``drawdown:part-<id>:<period start>``, unique per
  book, and each load's ``drawdown`` row is unique per (part, period): even a run that got
  around the lock could not post a period twice — it would get ``exists`` back;
- a key already taken by an entry saying something else holds that one load (reported with
  the entry to look at), never the run: every other load of every holder is still made.
  Entries by hand cannot take the services' keys (``ledger.core.manual_entries``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ledger.core.balances import signed_sums
from ledger.core.entries import NewEntry, NewPosting, PostOutcome
from ledger.core.journal import lock_book, post_entries
from ledger.core.periods import closed_quarter_containing, closed_quarters
from ledger.core.vocabulary import Cadence, EntryKind
from ledger.errors import InvalidInput
from ledger.loads.schedule import (
    CADENCE_WEEKS,
    LoadStatus,
    LoadTime,
    ScheduledLoad,
    due_at,
    schedule,
)
from ledger.loads.terms import HolderSchedules, LoadingPart, Scope, loading_parts, schedules_input
from ledger.store.tables import Drawdown, utcnow
from ledger.store.tables.load_offsets import WithheldLoad

AS_OF_LEEWAY = timedelta(minutes=5)
_CADENCE_WORDS = {1: "Weekly", 2: "Fortnightly", 4: "Four-weekly"}


@dataclass(frozen=True, slots=True)
class PostedLoad:
    budget_reference: str
    part_id: int
    period_starts_on: date
    period_ends_on: date
    due_on: date
    amount_pence: int
    entry_id: int


@dataclass(frozen=True, slots=True)
class HeldLoad:
    """A due load the run could not post, and why (a person must act)."""

    budget_reference: str
    part_id: int
    period_starts_on: date
    due_on: date
    amount_pence: int
    reason: str


@dataclass(frozen=True, slots=True)
class WithheldFromLoad:
    """Money held back from a due load by a surplus offset: the card's surplus pays for it."""

    budget_reference: str
    part_id: int
    period_starts_on: date
    due_on: date
    withheld_pence: int


@dataclass(frozen=True, slots=True)
class LowCash:
    """A budget whose held funds went below zero with this run's loads: its funder's
    payment has not arrived, so the holder's other money is carrying it."""

    budget_reference: str
    cash_pence: int


@dataclass
class DrawdownRun:
    as_of: datetime
    parts_checked: int = 0
    posted: list[PostedLoad] = field(default_factory=list)
    held: list[HeldLoad] = field(default_factory=list)
    low_cash: list[LowCash] = field(default_factory=list)
    withheld: list[WithheldFromLoad] = field(default_factory=list)

    @property
    def total_pence(self) -> int:
        return sum(load.amount_pence for load in self.posted)


@dataclass(frozen=True, slots=True)
class PartSchedule:
    part: LoadingPart
    load_time: LoadTime
    loads: list[ScheduledLoad]

    def next_load(self, now: datetime) -> ScheduledLoad | None:
        """The next load still to come after ``now`` (aware)."""
        for load in self.loads:
            if load.status is LoadStatus.DUE and due_at(load.period.due_on, self.load_time) > now:
                return load
        return None


def post_due_drawdowns(
    session: Session,
    as_of: datetime | None = None,
    *,
    holder_id: int | None = None,
    budget_id: int | None = None,
    now: datetime | None = None,
    created_by: str = "scheduler",
) -> DrawdownRun:
    """Post every load due up to ``as_of`` (aware; default now) not yet made, for every
    open budget, one holder's, or one budget's. Refuses an ``as_of`` in the future: money
    goes onto cards when it is due, never before."""
    now = _aware(now or datetime.now(UTC), "now")
    as_of = _aware(as_of or now, "as_of")
    if as_of > now + AS_OF_LEEWAY:
        raise InvalidInput(f"as_of {as_of.isoformat()} is in the future; loads are made when due", code="as_of_in_future", field="as_of")
    run = DrawdownRun(as_of=as_of)
    scope = Scope(holder_id=holder_id, budget_id=budget_id)
    parts_by_holder: dict[int, list[LoadingPart]] = {}
    for part in loading_parts(session, scope):
        if part.plan_start <= as_of.date() + timedelta(days=1):
            parts_by_holder.setdefault(part.holder_id, []).append(part)
    for book_id in sorted(parts_by_holder):
        lock_book(session, book_id)
        holder_scope = Scope(holder_id=book_id, budget_id=budget_id)
        inputs = schedules_input(session, book_id, parts_by_holder[book_id], holder_scope)
        _post_for_holder(session, book_id, inputs, run, created_by)
    return run


def _post_for_holder(session: Session, book_id: int, inputs: HolderSchedules, run: DrawdownRun, created_by: str) -> None:
    closed = [(q.quarter, q.starts_on, q.ends_on) for q in closed_quarters(session, book_id)]
    entries: list[NewEntry] = []
    pending: list[tuple[LoadingPart, ScheduledLoad]] = []
    withheld_rows: list[dict[str, object]] = []
    last_due_day = run.as_of.astimezone(UTC).date() + timedelta(days=1)  # cheap filter before the exact time test
    for part in inputs.parts:
        run.parts_checked += 1
        for load in _schedule_of(part, inputs):
            if load.status is not LoadStatus.DUE or load.period.due_on > last_due_day:
                continue
            if due_at(load.period.due_on, inputs.load_time) > run.as_of:
                continue
            quarter = closed_quarter_containing(closed, load.period.due_on)
            if quarter is not None:
                run.held.append(
                    HeldLoad(part.reference, part.terms.part_id, load.period.starts_on, load.period.due_on, load.amount_pence,
                             f"due in {quarter}, which is closed: post it by hand in an open period")
                )  # fmt: skip
                continue
            if load.withheld_pence:
                withheld_rows.append(_withheld_row(part, load))
                run.withheld.append(
                    WithheldFromLoad(part.reference, part.terms.part_id, load.period.starts_on, load.period.due_on, load.withheld_pence)
                )
            if load.amount_pence:
                entries.append(_load_entry(book_id, part, load, created_by))
                pending.append((part, load))
    if withheld_rows:
        session.execute(insert(WithheldLoad), withheld_rows)
    if not entries:
        return
    results = post_entries(session, entries)
    rows = []
    for (part, load), result in zip(pending, results):
        if result.outcome.is_conflict:
            # Held, not raised: one entry in the way stops this load alone, never the others.
            run.held.append(
                HeldLoad(part.reference, part.terms.part_id, load.period.starts_on, load.period.due_on, load.amount_pence,
                         f"entry {result.entry.id} already has this load's key ({result.entry.idempotency_key}) with other content"
                         f" ({result.outcome.value.replace('_', ' ')}): look at it, and reverse it if it is wrong; this period's"
                         " money goes to the loads still to come")
            )  # fmt: skip
            continue
        if result.outcome is PostOutcome.EXISTS:
            continue
        rows.append(
            {
                "budget_part_id": part.terms.part_id,
                "period_starts_on": load.period.starts_on,
                "period_ends_on": load.period.ends_on,
                "due_on": load.period.due_on,
                "amount_pence": load.amount_pence,
                "plan_version_id": load.version_id,
                "entry_id": result.entry.id,
                "posted_at": utcnow(),
            }
        )
        run.posted.append(
            PostedLoad(part.reference, part.terms.part_id, load.period.starts_on, load.period.ends_on, load.period.due_on,
                       load.amount_pence, result.entry.id)
        )  # fmt: skip
    if rows:
        session.execute(insert(Drawdown), rows)
    _note_low_cash(session, inputs, {part.budget_id for part, _ in pending}, run)


def _schedule_of(part: LoadingPart, inputs: HolderSchedules) -> list[ScheduledLoad]:
    return schedule(
        part.plan_start,
        part.plan_end,
        part.terms,
        inputs.versions.get(part.terms.part_id, []),
        load_weekday=inputs.load_time.weekday,
        pauses=inputs.pauses.get(part.budget_id, []),
        posted=inputs.posted.get(part.terms.part_id),
        offsets=inputs.offsets.get(part.terms.part_id, ()),
        withheld=inputs.withheld.get(part.terms.part_id),
    )


def _withheld_row(part: LoadingPart, load: ScheduledLoad) -> dict[str, object]:
    return {
        "budget_part_id": part.terms.part_id,
        "period_starts_on": load.period.starts_on,
        "due_on": load.period.due_on,
        "withheld_pence": load.withheld_pence,
        "recorded_at": utcnow(),
    }


def _load_entry(book_id: int, part: LoadingPart, load: ScheduledLoad, created_by: str) -> NewEntry:
    period = load.period
    words = _CADENCE_WORDS[CADENCE_WEEKS[Cadence(part.terms.cadence)]]
    description = f"{words} load onto the card of {part.reference} for {period.starts_on:%d %b %Y} to {period.ends_on:%d %b %Y}"
    return NewEntry(
        book_id=book_id,
        entry_date=period.due_on,
        description=description,
        idempotency_key=f"drawdown:part-{part.terms.part_id}:{period.starts_on.isoformat()}",
        postings=(NewPosting(part.card_account_id, load.amount_pence), NewPosting(part.cash_account_id, -load.amount_pence)),
        kind=EntryKind.DRAWDOWN,
        created_by=created_by,
    )


def _note_low_cash(session: Session, inputs: HolderSchedules, budget_ids: set[int], run: DrawdownRun) -> None:
    cash_accounts = {part.cash_account_id: part.reference for part in inputs.parts if part.budget_id in budget_ids}
    for account_id, pence in signed_sums(session, sorted(cash_accounts)).items():
        if pence < 0:
            run.low_cash.append(LowCash(cash_accounts[account_id], pence))


def budget_schedule(session: Session, budget_id: int) -> list[PartSchedule]:
    """The schedule of each card part of one budget: loads made, due, paused, covered by
    the float. Empty for a budget with no card part."""
    scope = Scope(budget_id=budget_id)
    parts = loading_parts(session, scope, open_only=False)
    if not parts:
        return []
    inputs = schedules_input(session, parts[0].holder_id, parts, scope)
    return [PartSchedule(part, inputs.load_time, _schedule_of(part, inputs)) for part in parts]


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone", code="timestamp_without_zone", field=name)
    return moment
