"""A year of history, book by book: every budget of a holder plays out on one timetable
(money in, set aside, loaded, spent, paid, corrected), the holder's payroll, remittances and
card loads tie its budgets together, and the book is then posted through the journal (and
the services: the loads through the drawdown service) in that order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from ledger.demo.bank import schedule_invoices, schedule_notional_costs, schedule_payroll
from ledger.demo.book import DemoBook, Posted, post_book
from ledger.demo.card import CardLoads, schedule_card
from ledger.demo.incidents import schedule_incidents
from ledger.demo.money_in import Remittances, schedule_money_in
from ledger.demo.recipes import BudgetRecipe
from ledger.demo.set_asides import TopSlices, schedule_ring_fences
from ledger.demo.story import BudgetStory, Timetable
from ledger.demo.world import Progress, World


def play_history(session: Session, world: World, recipes: Sequence[BudgetRecipe], *, today: date, progress: Progress) -> Posted:
    """Write each holder's year up to the day before ``today``; return what was posted."""
    holders = [code for code in world.holder_ids if any(recipe.holder == code for recipe in recipes)]
    entries = postings = 0
    for done, holder in enumerate(holders, 1):
        book = write_book(world, holder, [recipe for recipe in recipes if recipe.holder == holder], today)
        posted = post_book(session, book)
        entries, postings = entries + posted.entries, postings + posted.postings
        progress("history", done, len(holders))
    return Posted(entries, postings)


def write_book(world: World, holder: str, recipes: Sequence[BudgetRecipe], today: date) -> DemoBook:
    """Play out the year of every budget ``holder`` holds, into one book (nothing posted)."""
    book = DemoBook(holder, world.holder_ids[holder])
    timetable = Timetable(until=today)
    remittances = Remittances(book, timetable, world.funder_names)
    card_loads = CardLoads(book, timetable)
    top_slices = TopSlices(book, timetable)
    stories = [BudgetStory(recipe, book, timetable) for recipe in recipes]
    for story in stories:
        schedule_money_in(story, remittances)
        schedule_ring_fences(story)
        top_slices.add(story)
        schedule_card(story, card_loads)
        schedule_invoices(story)
        schedule_notional_costs(story)
        schedule_incidents(story, world)
    schedule_payroll(stories, book, timetable)
    remittances.schedule()
    card_loads.schedule()
    top_slices.schedule()
    timetable.run()
    return book
