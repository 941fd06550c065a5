"""The funder views (issue 13, item 2): the monthly tracker a funder takes to its joint
health and council meeting, and the summaries per holder and per funder.

- **Funder tracker** (a funder and a month): one row per budget it funds whose plan period
  overlaps the month — money position, contingency use, flags and review status — in the
  funder's share of a jointly funded budget, exceptions first.
- **Holder summary** (a holder and a period): one row per budget, whole-budget figures, and
  each funder's share of the money left in a column of its own.
- **Funder summary** (a funder and a period): every budget it funds, by holder, its share,
  with totals per holder.

Figures are as at the period's last day; "in the period" is what moved within it. Each view
ends with the totals worked out again from the ledger directly (the funder's own accounts, or
the holder's balances), beside the table's totals, so the two can be seen to tie. A budget
needs attention (an *exception*) when its held funds are above the warning level, it has
open flags, a review is overdue, lines of its statements are not matched, or contingency was
used in the period; those come first, then the rest by reference. A budget's row is laid out
over two tables in the same order (who and the money; held money, contingency, flags and
reviews), so that each fits the width of a landscape A4 page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from ledger.budgets.parties import get_funder, get_holder
from ledger.core.balances import FunderKey, holder_balances, totals_by_kind
from ledger.core.periods import parse_quarter
from ledger.core.vocabulary import AccountKind
from ledger.position.figures import SurplusState, tenths_text
from ledger.reviews.due import quarter_words
from ledger.store.tables import Funder
from reports.document import Column, Document, Fact, Facts, Section, Table, Value, ValueKind, table
from reports.formatting import day_text, money_text
from reports.funder_view_reads import BudgetView, Share, budget_views, funder_names, funder_scope, holder_scope, own_account_totals
from reports.params import Period, ReportParams

M, C, W, P = ValueKind.MONEY, ValueKind.COUNT, ValueKind.WEEKS, ValueKind.PERCENT
EXCEPTION = "exception"
NAMED_IN_SUMMARY_MAX = 12
BASIS_POINTS = 10_000
SURPLUS_WORDS = {SurplusState.OK: "OK", SurplusState.WARN: "Warning", SurplusState.ACT: "Act"}
REVIEW_WORDS = {"plan": "plan", "quarterly_quality": "quarterly", "significant_change": "change", "requested": "asked for"}


# --- what every view shares ------------------------------------------------------------------------


def period_words(period: Period) -> str:
    if period.kind == "month":
        return day_text(period.starts_on).split(" ", 1)[1]
    if period.kind == "quarter":
        return quarter_words(parse_quarter(period.label))
    return f"{day_text(period.starts_on)} to {day_text(period.ends_on)}"


def period_in(period: Period) -> str:
    """"in October 2026", "in Q2 2026/27 (July–September)", "from 1 April 2026 to 30 September 2026"."""
    return f"from {period_words(period)}" if period.kind == "dates" else f"in {period_words(period)}"


def review_day(period: Period, now: datetime) -> date:
    """Reviews are looked at as at the period's end, or today while the period is running."""
    return min(period.ends_on, now.date())


def reasons(view: BudgetView) -> list[str]:
    """Why a budget needs attention, in a few words each."""
    found = []
    whole = view.whole
    if whole.surplus_state != SurplusState.OK and whole.weeks_held_tenths is not None:
        level = whole.thresholds.act_weeks_tenths if whole.surplus_state == SurplusState.ACT else whole.thresholds.warn_weeks_tenths
        found.append(f"{tenths_text(whole.weeks_held_tenths)} weeks held (over {tenths_text(level)})")
    if view.open_flags:
        found.append(f"{view.open_flags} open flag{'s' if view.open_flags != 1 else ''}")
    if view.review is not None and view.review.is_overdue:
        found.append(f"{REVIEW_WORDS.get(view.review.kind, view.review.kind)} review overdue since {day_text(view.review.due_on)}")
    if view.unmatched_lines:
        found.append(f"{view.unmatched_lines} statement line{'s' if view.unmatched_lines != 1 else ''} not matched")
    if view.whole_share.contingency_used_in_period_pence:
        found.append(f"{money_text(view.whole_share.contingency_used_in_period_pence)} of contingency used")
    return found


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def exceptions_first(views: Sequence[BudgetView]) -> list[BudgetView]:
    return sorted(views, key=lambda view: (not reasons(view), view.reference))


def marks(views: Sequence[BudgetView]) -> list[str | None]:
    return [EXCEPTION if reasons(view) else None for view in views]


def review_text(view: BudgetView) -> str:
    review = view.review
    if review is None:
        return "None due"
    words = REVIEW_WORDS.get(review.kind, review.kind)
    return f"{'Overdue since' if review.is_overdue else 'Due'} {day_text(review.due_on)} ({words})"


def surplus_text(view: BudgetView) -> str:
    return "Not measured" if view.whole.weeks_held_tenths is None else SURPLUS_WORDS[view.whole.surplus_state]


def attention_table(views: Sequence[BudgetView], *, with_holder: bool, period: Period) -> Table:
    columns = [Column("reference", "Ref"), Column("person", "Person")]
    columns += [Column("holder", "Holder")] if with_holder else []
    columns.append(Column("why", "Why"))
    rows = []
    for view in views:
        why = reasons(view)
        if why:
            rows.append((view.reference, view.person, *((view.holder_name,) if with_holder else ()), sentence("; ".join(why))))
    return table("attention", "Budgets that need attention", columns, rows, empty_text=f"No budget needs attention {period_in(period)}.")


def money_table(views: Sequence[BudgetView], figures: Sequence[Share], *, with_holder: bool, title: str, spent_label: str, note: str, empty_text: str) -> Table:
    """Who, held by whom and how, and the money: one row per budget, in the order given."""
    columns = [Column("reference", "Ref"), Column("person", "Person")]
    columns += [Column("holder", "Holder")] if with_holder else []
    columns += [
        Column("option", "Option"), Column("allocated", "Allocated", M), Column("received", "Received", M),
        Column("spent_in_period", spent_label, M), Column("spent", "Spent to date", M), Column("left", "Money left", M),
    ]  # fmt: skip
    rows = [
        (view.reference, view.person, *((view.holder_name,) if with_holder else ()), view.options,
         share.allocated_pence, share.received_pence, share.spent_in_period_pence, share.spent_pence, share.money_left_pence)
        for view, share in zip(views, figures, strict=True)
    ]  # fmt: skip
    return table("money", title, columns, rows, totals=True, row_marks=marks(views), note=note, empty_text=empty_text)


def held_table(views: Sequence[BudgetView], figures: Sequence[Share], *, title: str, note: str) -> Table:
    """Held money, contingency, weeks held, flags and reviews: one row per budget, in the order given."""
    columns = (
        Column("reference", "Ref"), Column("held", "Held", M), Column("card", "Card", M), Column("committed", "Committed", M),
        Column("contingency_used", "Contingency used", M), Column("contingency_left", "Contingency left", M),
        Column("weeks", "Weeks held", W), Column("surplus", "Surplus"), Column("open_flags", "Open flags", C),
        Column("new_flags", "New flags", C), Column("review", "Review"),
    )  # fmt: skip
    rows = [
        (view.reference, share.held_pence, share.card_pence, share.committed_pence, share.contingency_used_in_period_pence,
         share.contingency_left_pence, view.whole.weeks_held_tenths, surplus_text(view), view.open_flags, view.flags_in_period, review_text(view))
        for view, share in zip(views, figures, strict=True)
    ]  # fmt: skip
    return table("held", title, columns, rows, totals=True, row_marks=marks(views), note=note, empty_text="No budgets.")


def joint_table(views: Sequence[BudgetView], funder: Funder, names: dict[FunderKey, str]) -> Table:
    rows = []
    for view in views:
        if not view.is_joint:
            continue
        whole = view.whole.allocated_pence
        own = view.shares.get(funder.id, Share()).allocated_pence
        others = ", ".join(names.get(key, str(key)) if key is not None else "the person's client contribution" for key in view.funders if key != funder.id)
        rows.append((view.reference, view.person, others, basis_points(own, whole), own, whole))
    return table(
        "joint", "Budgets this funder pays for with others",
        (Column("reference", "Ref"), Column("person", "Person"), Column("others", "Other funders"), Column("share", "Share", P),
         Column("allocated", "Allocated by this funder", M), Column("whole", "Allocated in all", M)),
        rows, totals=True, empty_text="None of these budgets is jointly funded.",
        note="This funder's share of every shared figure (held funds, card, committed, spending, contingency) is in proportion to what it has allocated.",
    )  # fmt: skip


def basis_points(part: int, whole: int) -> int:
    """``part`` of ``whole`` in basis points, rounded half up (0 when there is no whole)."""
    return (2 * part * BASIS_POINTS + whole) // (2 * whole) if whole > 0 else 0


def tied(label: str, ledger_pence: int, table_pence: int | None, note: str) -> Fact:
    if table_pence is None:
        return Fact(label, ledger_pence, M, f"{sentence(note)}.")
    check = "the same as the table's total" if ledger_pence == table_pence else f"the table's total is {money_text(table_pence)}: they differ"
    return Fact(label, ledger_pence, M, f"{sentence(note)}: {check}.")


def own_totals_facts(session: Session, funder: Funder, scope, period: Period, shares: Sequence[Share]) -> Facts:  # type: ignore[no-untyped-def]
    own = own_account_totals(session, funder.id, scope, period.ends_on)
    return Facts("ledger_totals", None, (
        tied("Allocated", own.allocated_pence, sum(s.allocated_pence for s in shares), "the sum of this funder's allocation accounts"),
        tied("Received", own.received_pence, sum(s.received_pence for s in shares), "paid into this funder's receivable accounts"),
        tied("Still to come", own.receivable_pence, None, "the sum of this funder's receivable accounts"),
        tied("Returned to this funder", own.returned_pence, None, "the sum of this funder's returned accounts"),
    ))  # fmt: skip


def summary_lines(views: Sequence[BudgetView], shares: Sequence[Share], period: Period, *, whose: str) -> list[str]:
    people = len({view.person_id for view in views})
    attention = [view.reference for view in views if reasons(view)]
    named = ", ".join(attention[:NAMED_IN_SUMMARY_MAX]) + (f" and {len(attention) - NAMED_IN_SUMMARY_MAX} more" if len(attention) > NAMED_IN_SUMMARY_MAX else "")
    head = f"{people} {'person' if people == 1 else 'people'}; "
    head += f"{len(attention)} need{'s' if len(attention) == 1 else ''} attention: {named}." if attention else "none needs attention."
    allocated = sum(s.allocated_pence for s in shares)
    left = sum(s.money_left_pence for s in shares)
    spent = sum(s.spent_in_period_pence for s in shares)
    used = sum(s.contingency_used_in_period_pence for s in shares)
    return [
        head,
        f"{whose}: {money_text(allocated)} allocated, {money_text(left)} left on {day_text(period.ends_on)}.",
        f"Spent in {period_words(period)}: {money_text(spent)}. Contingency used: {money_text(used)}.",
    ]


def _document(kind: str, title: str, subject: str, organisation: str, period: Period, now: datetime, summary: list[str], sections: list[Section]) -> Document:
    return Document(
        kind=kind, title=title, subtitle=f"{organisation} · {period_words(period)}", subject=subject, period=period.label,
        period_start=period.starts_on, period_end=period.ends_on, generated_at=now, summary=tuple(summary),
        sections=tuple(sections), organisation=organisation,
    )  # fmt: skip


# --- the monthly funder tracker --------------------------------------------------------------------


def build_tracker(session: Session, params: ReportParams, *, now: datetime, cache: dict) -> Document:
    assert params.funder_id is not None and params.period is not None
    funder, period = get_funder(session, params.funder_id), params.period
    scope = funder_scope(funder.id, period.starts_on, period.ends_on)
    views = exceptions_first(budget_views(session, scope, period.starts_on, period.ends_on, review_day=review_day(period, now), funder_id=funder.id))
    shares = [view.shares.get(funder.id, Share()) for view in views]
    month = period_words(period)
    nothing = f"{funder.name} funds no budget whose plan runs {period_in(period)}."
    summary = summary_lines(views, shares, period, whose=f"{funder.name}'s share") if views else [nothing]
    joint = sum(1 for view in views if view.is_joint)
    if joint:
        summary.append(f"{joint} {'budget is' if joint == 1 else 'budgets are'} jointly funded: the figures are this funder's share.")
    sections = [
        Section("attention", "Needs attention", (attention_table(views, with_holder=True, period=period),)),
        Section("money", "Money position", (money_table(
            views, shares, with_holder=True, title=f"Money position {period_in(period)}, this funder's share", spent_label="Spent in month",
            empty_text=nothing, note=f"At {day_text(period.ends_on)}. Money left = allocated − spent − fees − top-slice − returned. Spending includes wages and invoices approved but not yet paid.",
        ),)),
        Section("held", "Held money, contingency, flags and reviews", (held_table(
            views, shares, title=f"Held money, contingency, flags and reviews {period_in(period)}",
            note=f"Money is this funder's share; weeks held and surplus are the whole budget's, against the lead funder's warning and action levels. "
                 f"Contingency used and new flags: in {month}. Open flags: not yet settled. Reviews as at {day_text(review_day(period, now))}.",
        ),)),
        Section("joint", "Jointly funded budgets", (joint_table(views, funder, _names(session, views, cache)),)),
        Section("ledger", "Totals from the ledger", (own_totals_facts(session, funder, scope, period, shares),),
                intro="Worked out again from this funder's own accounts in the ledger, for the budgets above."),
    ]  # fmt: skip
    return _document("funder-tracker", "Monthly funder tracker", funder.code, funder.name, period, now, summary, sections)


def _names(session: Session, views: Sequence[BudgetView], cache: dict) -> dict[FunderKey, str]:
    keys = {key for view in views for key in view.shares}
    names = cache.setdefault("funder_names", {})
    missing = [key for key in keys if key not in names]
    if missing:
        names.update(funder_names(session, missing))
    return names


# --- the holder summary ---------------------------------------------------------------------------


def build_holder_summary(session: Session, params: ReportParams, *, now: datetime, cache: dict) -> Document:
    assert params.holder_id is not None and params.period is not None
    holder, period = get_holder(session, params.holder_id), params.period
    scope = holder_scope(holder.id, period.starts_on, period.ends_on)
    views = exceptions_first(budget_views(session, scope, period.starts_on, period.ends_on, review_day=review_day(period, now), holder_id=holder.id))
    wholes = [view.whole_share for view in views]
    nothing = f"{holder.name} holds no budget whose plan runs {period_in(period)}."
    summary = summary_lines(views, wholes, period, whose="Across its budgets") if views else [nothing]
    sections = [
        Section("attention", "Needs attention", (attention_table(views, with_holder=False, period=period),)),
        Section("money", "Money position", (money_table(
            views, wholes, with_holder=False, title=f"Money position {period_in(period)}, whole budgets", spent_label="Spent in period",
            empty_text=nothing, note=f"At {day_text(period.ends_on)}. Money left = allocated − spent − fees − top-slice − returned. Spending includes wages and invoices approved but not yet paid.",
        ),)),
        Section("held", "Held money, contingency, flags and reviews", (held_table(
            views, wholes, title=f"Held money, contingency, flags and reviews {period_in(period)}, whole budgets",
            note=f"Contingency used and new flags: within the period. Open flags: not yet settled. Reviews as at {day_text(review_day(period, now))}.",
        ),)),
        Section("shares", "Each funder's share of the money left", (shares_table(session, views, cache),)),
        Section("ledger", "Totals from the ledger", (holder_totals_facts(session, holder.id, views, period, wholes),),
                intro="Worked out again from the holder's balances in the ledger, for the budgets above."),
    ]  # fmt: skip
    return _document("holder-summary", "Holder summary", holder.code, holder.name, period, now, summary, sections)


def shares_table(session: Session, views: Sequence[BudgetView], cache: dict) -> Table:
    names = _names(session, views, cache)
    keys = sorted({key for view in views for key in view.shares}, key=lambda key: (key is None, names.get(key, "")))
    columns = [Column("reference", "Ref"), Column("left", "Money left", M)]
    columns += [Column(f"funder_{key if key is not None else 'person'}", names.get(key, str(key)), M) for key in keys]
    rows: list[tuple[Value, ...]] = []
    for view in views:
        cells = [view.shares[key].money_left_pence if key in view.shares else None for key in keys]
        rows.append((view.reference, view.whole.money_left_pence, *cells))
    return table(
        "shares", "Money left, each funder's share apart", columns, rows, totals=True, row_marks=marks(views), empty_text="No budgets.",
        note="Each funder's own allocation less what was returned to it, less its share of spending, fees and top-slice (in proportion to what it allocated). The shares of a row add up to its money left.",
    )  # fmt: skip


def holder_totals_facts(session: Session, holder_id: int, views: Sequence[BudgetView], period: Period, wholes: Sequence[Share]) -> Facts:
    in_table = {view.budget_id for view in views}
    balances = holder_balances(session, holder_id, as_of=period.ends_on)
    by_kind = totals_by_kind([b for b in balances if b.budget_id in in_table])
    unallocated = sum(b.balance_pence for b in balances if b.kind == AccountKind.UNALLOCATED)
    kind = lambda name: by_kind.get(name, 0)  # noqa: E731
    left = kind(AccountKind.ALLOCATION) - kind(AccountKind.SPEND) - kind(AccountKind.FEES) - kind(AccountKind.TOP_SLICE) - kind(AccountKind.RETURNED)
    total = lambda name: sum(getattr(w, name) for w in wholes)  # noqa: E731
    return Facts("ledger_totals", None, (
        tied("Allocated", kind(AccountKind.ALLOCATION), total("allocated_pence"), "allocation accounts"),
        tied("Spent to date", kind(AccountKind.SPEND), total("spent_pence"), "spend accounts"),
        tied("Money left", left, total("money_left_pence"), "allocation − spend − fees − top-slice − returned accounts"),
        tied("Held", kind(AccountKind.CASH), total("held_pence"), "cash accounts"),
        tied("Card", kind(AccountKind.CARD), total("card_pence"), "card accounts"),
        tied("Committed", kind(AccountKind.PAYABLE), total("committed_pence"), "payable accounts"),
        tied("Contingency left", kind(AccountKind.CONTINGENCY), total("contingency_left_pence"), "contingency accounts"),
        tied("Client account money not yet attributed to a budget", unallocated, None, "the holder's unallocated account, in no budget's figures"),
    ))  # fmt: skip


# --- the funder summary ------------------------------------------------------------------------------


def build_funder_summary(session: Session, params: ReportParams, *, now: datetime, cache: dict) -> Document:
    assert params.funder_id is not None and params.period is not None
    funder, period = get_funder(session, params.funder_id), params.period
    scope = funder_scope(funder.id, period.starts_on, period.ends_on)
    found = budget_views(session, scope, period.starts_on, period.ends_on, review_day=review_day(period, now), funder_id=funder.id)
    views = sorted(exceptions_first(found), key=lambda view: (view.holder_name, view.holder_id))  # stable: exceptions first within each holder
    shares = [view.shares.get(funder.id, Share()) for view in views]
    nothing = f"{funder.name} funds no budget whose plan runs {period_in(period)}."
    budgets = table(
        "budgets", f"Every budget by holder {period_in(period)}, this funder's share",
        (Column("reference", "Ref"), Column("person", "Person"), Column("holder", "Holder"), Column("allocated", "Allocated", M),
         Column("received", "Received", M), Column("spent_in_period", "Spent in period", M), Column("spent", "Spent to date", M),
         Column("left", "Money left", M), Column("weeks", "Weeks held", W)),
        [(v.reference, v.person, v.holder_name, s.allocated_pence, s.received_pence, s.spent_in_period_pence, s.spent_pence, s.money_left_pence,
          v.whole.weeks_held_tenths) for v, s in zip(views, shares, strict=True)],
        totals=True, row_marks=marks(views), empty_text=nothing,
        note=f"At {day_text(period.ends_on)}. By holder; within each holder, budgets that need attention come first. Weeks held are the whole budget's.",
    )  # fmt: skip
    summary = summary_lines(views, shares, period, whose=f"{funder.name}'s share") if views else [nothing]
    holders = len({view.holder_id for view in views})
    if views:
        summary.insert(1, f"{len(views)} budget{'s' if len(views) != 1 else ''} at {holders} holder{'s' if holders != 1 else ''}.")
    sections = [
        Section("attention", "Needs attention", (attention_table(views, with_holder=True, period=period),)),
        Section("holders", "Totals per holder", (holder_totals_table(views, shares, period),)),
        Section("budgets", "Every budget", (budgets,)),
        Section("joint", "Jointly funded budgets", (joint_table(views, funder, _names(session, views, cache)),)),
        Section("ledger", "Totals from the ledger", (own_totals_facts(session, funder, scope, period, shares),),
                intro="Worked out again from this funder's own accounts in the ledger, for the budgets above."),
    ]  # fmt: skip
    return _document("funder-summary", "Funder summary", funder.code, funder.name, period, now, summary, sections)


def holder_totals_table(views: Sequence[BudgetView], shares: Sequence[Share], period: Period) -> Table:
    by_holder: dict[tuple[str, int], list[tuple[BudgetView, Share]]] = {}
    for view, share in zip(views, shares, strict=True):
        by_holder.setdefault((view.holder_name, view.holder_id), []).append((view, share))
    rows = []
    for (name, _holder_id), pairs in sorted(by_holder.items()):
        total = lambda field: sum(getattr(share, field) for _view, share in pairs)  # noqa: E731
        rows.append((
            name, len(pairs), sum(1 for view, _share in pairs if reasons(view)), total("allocated_pence"), total("received_pence"),
            total("spent_in_period_pence"), total("spent_pence"), total("money_left_pence"),
        ))  # fmt: skip
    return table(
        "holders", f"Totals per holder {period_in(period)}, this funder's share",
        (Column("holder", "Holder"), Column("budgets", "Budgets", C), Column("attention", "Need attention", C), Column("allocated", "Allocated", M),
         Column("received", "Received", M), Column("spent_in_period", "Spent in period", M), Column("spent", "Spent to date", M), Column("left", "Money left", M)),
        rows, totals=True, row_marks=[EXCEPTION if row[2] else None for row in rows], empty_text="No budgets.",
    )  # fmt: skip


__all__ = ["build_funder_summary", "build_holder_summary", "build_tracker", "reasons"]
