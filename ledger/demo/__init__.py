"""The demo data set that ``phb-ledger demo`` and ``make run`` load: a year of personal
health budgets in Devon and Cornwall, written through the ledger's own services.

The cast
--------
Funders (4): NHS Devon ICB and NHS Cornwall and Isles of Scilly ICB; Plymouth City Council's
adult social care, which co-funds two budgets (with a client contribution on its share), and
its children's services, which fund the education part of one child's budget (an EHCP).

Holders (9). The issue's "three holders" are three *kinds* of holder; each family that holds
its own direct payment is a holder of its own (one book each), and the ICB holds its
notional budgets as a commissioner:

==================================================  ==================================  =====================================
holder                                              budgets                             management options / holdings
==================================================  ==================================  =====================================
Tamar Valley Supported Living CIC (ISF provider)    ISF-0001 … ISF-0012 (12)            third party: bank account + prepaid
                                                                                        card; ISF-0005 "start small" adds a
                                                                                        direct payment on the card
Moorview Direct Payment Support (managed accounts)  MA-0001 … MA-0018 (18)              direct payment: managed account,
                                                                                        seven with a prepaid card, one with a
                                                                                        notional part (MA-0006)
six families (self-managed)                         DP-0001 … DP-0006 (one each)        direct payment: bank account (4) or
                                                                                        prepaid card (2)
NHS Devon ICB commissioned care (commissioner)      NOT-0001 … NOT-0004 (4)             notional, held by no one
==================================================  ==================================  =====================================

Forty people (three of them children), with representatives on each legal basis (a parent
as nominated family member, lasting power of attorney for health and welfare, a Court of
Protection deputy, an appointee) and, where the plan says so, the one who speaks for them.

The story
---------
Plans run twelve months from the first of a month between eleven and seven months before
``today``'s month (a fast-track budget at the end of life runs three months, from two months
before), each agreed a few weeks before it starts (ISF-0009 four months before). Then, book by book, the year plays out: funders pay in advance (one remittance
covering many budgets), contingency is ring-fenced and the top-slice taken, cards are loaded
weekly, fortnightly or four-weekly and spent at real-sounding merchants, with the scheme's 3p
and 20p fees; wages go through one payroll a month per holder, approved then paid; invoices
are approved then paid; the ICB's own costs are recorded against the notional budgets.

The card loads are the drawdown service's own (``ledger.loads.runs``), run for each holder
on each load day as the story reaches it: periods aligned to Monday (the holders' load day)
after a short first period, amounts spread by days, a load due on a bank holiday on the
working day before, floats (DP-0003, DP-0004) paying for the last periods up front. So every
load has its ``drawdown`` row and the service's key, and a later ``phb-ledger drawdown run``
(or the scheduler) finds nothing left to load before ``today``.

Along the way: transition costs spent before a plan starts (ISF-0009, with its previous
placement's cost), two mid-year revisions (ISF-0005 moving money to the direct payment,
ISF-0011 adding waking nights), a fortnight in hospital after a fall (ISF-0011: the card
loads paused, then resumed, the paused ones never made up), contingency used twice with the
reason and who agreed it, a purchase and a duplicate invoice corrected by reversal, a payment
that arrives unidentified and is attributed, a few refunds, a surplus building (ISF-0006,
MA-0004), a transport line overspent (ISF-0004), a pub visit to explain and an off-licence
purchase to refuse.

Every quarter that has ended, the ISF provider holds a quarterly quality review with each
person and their family (``ledger.demo.quality_reviews``): outcomes rated, actions agreed and
carried, who attended, and for ISF-0006 a decision to keep part of its surplus for a short
break; the latest reviews of ISF-0003 and ISF-0010 are still to be held (overdue). Plan
reviews are held a few days after they fall due, except for MA-0003, DP-0002 and NOT-0003.

Everything is deterministic: dates follow ``today``, random choices come from a generator
seeded per budget, and nothing reads the clock except ``plans.agree``'s own check that an
agreement is not in the future (the drawdown service is told the story's own now: each load
day's load time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from ledger.budgets import parties
from ledger.demo.family_stories import family_stories, notional_stories
from ledger.demo.history import play_history
from ledger.demo.isf_stories import isf_stories
from ledger.demo.managed_stories import managed_stories
from ledger.demo.quality_reviews import record_demo_plan_reviews, record_demo_reviews
from ledger.demo.recipes import BudgetRecipe
from ledger.demo.statements import import_and_reconcile
from ledger.demo.timeline import Timeline
from ledger.demo.users import create_demo_users
from ledger.demo.world import AGREED_AT, Progress, build_world
from ledger.errors import Conflict, InvalidInput
from ledger.store.database import Database
from ledger.store.tables import utcnow

DEFAULT_TODAY = date(2026, 11, 24)
"""The ``today`` the demo was written for; any other date works the same way."""


@dataclass(frozen=True)
class DemoSummary:
    """What the demo loaded (entries and postings include the allocations agreeing posted)."""

    funders: int
    holders: int
    people: int
    budgets: int
    entries: int
    postings: int
    statement_lines: int = 0
    flags: int = 0
    reviews_held: int = 0
    users: int = 0
    """Demo sign-ins, one in each role (``ledger.demo.users``)."""
    """Quarterly quality reviews and plan reviews held."""


def demo_recipes(today: date) -> list[BudgetRecipe]:
    """Every budget of the demo, for ``today``: ISFs, managed accounts, families, notional."""
    timeline = Timeline(today)
    return [*isf_stories(timeline), *managed_stories(timeline), *family_stories(timeline), *notional_stories(timeline)]


def load_demo(database: Database, *, today: date, progress: Progress | None = None) -> DemoSummary:
    """Fill an empty, migrated database with the demo, in one transaction: all or nothing.

    ``progress(stage, done, total)`` is called as budgets are created ("budgets") and as
    each holder's year is posted ("history").
    """
    report = progress or _quietly
    recipes = demo_recipes(today)
    _refuse_future_agreements(recipes)
    with database.write() as session:
        _refuse_non_empty(session)
        world = build_world(session, recipes, today=today, progress=report)
        posted = play_history(session, world, recipes, today=today, progress=report)
        reviews = record_demo_reviews(session, world, today=today) + record_demo_plan_reviews(session, world, today=today)
        report("statements", 0, 1)
        statements = import_and_reconcile(session, world.holder_ids.values(), today=today)
        report("statements", 1, 1)
        users = create_demo_users(session, world, today=today)
    return DemoSummary(
        funders=len(world.funder_ids),
        holders=len(world.holder_ids),
        people=world.people,
        budgets=len(world.budget_ids),
        entries=posted.entries + world.allocation_entries,
        postings=posted.postings + world.allocation_postings,
        statement_lines=statements.lines,
        flags=statements.flags,
        reviews_held=reviews,
        users=users,
    )


def _quietly(_stage: str, _done: int, _total: int) -> None:
    return None


def _refuse_non_empty(session: Session) -> None:
    if parties.list_funders(session) or parties.list_holders(session):
        raise Conflict(
            "the demo loads into an empty database, and this one already holds funders or holders;"
            " use a new database (e.g. --db sqlite:///var/demo.db)",
            code="demo_needs_empty_database",
        )


def _refuse_future_agreements(recipes: list[BudgetRecipe]) -> None:
    """Plans cannot be agreed in the future, so the demo's ``today`` cannot be much later
    than the real one."""
    latest = max(version.agreed_on for recipe in recipes for version in recipe.versions)
    if datetime.combine(latest, AGREED_AT) > utcnow():
        raise InvalidInput(
            f"the demo for that date agrees a plan on {latest}, which is still in the future; give an earlier today",
            code="demo_today_in_future",
            field="today",
        )
