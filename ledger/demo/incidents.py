"""Decisions taken during the year: contingency used (with the reason and who agreed it,
through ``ledger.set_asides.contingency.use_contingency``), plan revisions agreed at a review, and card
loads paused while the person is in hospital.

The other incidents live where they happen: a wrong category and odd purchases on the card
(``ledger.demo.card``), a duplicate invoice in the bank (``ledger.demo.bank``), money that
arrives unidentified with the payments (``ledger.demo.money_in``).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from sqlalchemy.orm import Session

from ledger.budgets.budget import budget_by_reference
from ledger.core.money import format_gbp
from ledger.core.vocabulary import EntryKind
from ledger.demo.book import CREATED_BY, ServiceEntry
from ledger.demo.dates import working_day_on_or_before
from ledger.demo.recipes import ContingencyUse
from ledger.demo.story import BudgetStory, Priority
from ledger.demo.world import World
from ledger.set_asides.contingency import use_contingency


def schedule_incidents(story: BudgetStory, world: World) -> None:
    for use in story.incidents(ContingencyUse):
        assert isinstance(use, ContingencyUse)
        day = working_day_on_or_before(use.on)
        story.timetable.at(day, Priority.TRANSFER, partial(_use_contingency, story, day, use))
    for index, version in enumerate(story.recipe.versions[1:], 1):
        agree = partial(world.agree_later, reference=story.reference, index=index)
        story.timetable.at(version.agreed_on, Priority.AGREEMENT, partial(story.book.act, agree))
    for stay in story.behaviour.hospital_stays:
        pause = partial(world.pause_loads, reference=story.reference, stay=stay)
        resume = partial(world.resume_loads, reference=story.reference, stay=stay)
        story.timetable.at(stay.starts_on, Priority.AGREEMENT, partial(story.book.act, pause))
        story.timetable.at(stay.ends_on + timedelta(days=1), Priority.AGREEMENT, partial(story.book.act, resume))


def _use_contingency(story: BudgetStory, day: date, use: ContingencyUse) -> None:
    """The decision, recorded by the contingency service (``use_contingency``) with its
    reason and who agreed it, moves the money; paid from the card, it is then spent."""
    amount = use.amount_pence
    debit = story.card if use.onto_card else story.spend(use.category)
    run = partial(_record_use, story.reference, day, use)
    story.book.act(
        run, entries=[ServiceEntry(f"the contingency use of {story.reference} on {day}", ((debit, amount), (story.contingency, -amount)))]
    )
    if not use.onto_card:
        return
    key = f"demo:contingency-use:{story.reference}:{use.on.isoformat()}"
    story.book.post(
        day, EntryKind.CARD_PURCHASE,
        f"Bank transfer from the card account: {format_gbp(amount)} for {use.reason[0].lower()}{use.reason[1:]}",
        f"{key}:paid", [(story.spend(use.category), amount), (story.card, -amount)],
    )  # fmt: skip
    story.count_card_use(day, transfer=True)


def _record_use(reference: str, day: date, use: ContingencyUse, session: Session) -> None:
    name, role = use.agreed_by.split(", ", 1)
    recorded = use_contingency(
        session, budget_by_reference(session, reference).id, amount_pence=use.amount_pence, reason=use.reason,
        agreed_by_name=name, agreed_by_role=role, agreed_on=day, used_on=day, to="card" if use.onto_card else "spend",
        category_code=None if use.onto_card else use.category, recorded_by=CREATED_BY, today=day,
    )  # fmt: skip
    assert recorded.created and recorded.use.amount_pence == use.amount_pence, f"{reference}: {use.reason}"
