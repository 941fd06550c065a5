"""The pure rules of reviews due: each kind with hand-picked dates, then properties over
random budgets (holding every review on its due date leaves nothing overdue; nothing is
due before the plan starts or after a closed budget ends; one quarterly review per quarter)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.periods import Quarter
from ledger.reviews.due import (
    SHIPPED_INTERVALS,
    AgreedVersion,
    BudgetFacts,
    HeldReview,
    IntervalRule,
    Request,
    ReviewKind,
    ReviewStatus,
    add_months,
    is_significant,
    outstanding_reviews,
    quarter_words,
    review_to_answer,
    reviews_due,
)

START = date(2026, 4, 1)
END = date(2027, 3, 31)
FIRST = AgreedVersion(1, START, date(2026, 3, 20), 5_200_000)


def facts(
    *,
    kind: str = "icb",
    versions: tuple[AgreedVersion, ...] = (FIRST,),
    held: tuple[HeldReview, ...] = (),
    requests: tuple[Request, ...] = (),
    third_party: bool = True,
    closed: bool = False,
    rule: IntervalRule | None = None,
) -> BudgetFacts:
    return BudgetFacts(
        budget_id=1, reference="ISF-0001", holder_id=7, period_start=START, period_end=END, closed=closed, funder_kind=kind,
        rule=rule or SHIPPED_INTERVALS[kind], has_third_party_part=third_party, versions=versions, held=held, requests=requests,
    )  # fmt: skip


def of_kind(items, kind: ReviewKind) -> list:  # type: ignore[no-untyped-def]
    return [item for item in items if item.kind is kind]


# --- plan reviews ---------------------------------------------------------------------------


def test_an_icb_led_budget_has_its_first_plan_review_three_months_in() -> None:
    (review,) = of_kind(reviews_due(facts(), date(2026, 6, 15)), ReviewKind.PLAN)
    assert review.due_on == date(2026, 7, 1) and review.status is ReviewStatus.DUE
    assert review.reason == "Plan review: first review, 3 months after the plan started on 1 April 2026 (the ICB default)"
    (late,) = of_kind(reviews_due(facts(), date(2026, 7, 2)), ReviewKind.PLAN)
    assert late.status is ReviewStatus.OVERDUE and late.is_overdue


def test_a_council_led_budget_has_its_first_plan_review_six_months_in() -> None:
    (review,) = of_kind(outstanding_reviews(facts(kind="council_adult_social_care"), date(2026, 6, 15)), ReviewKind.PLAN)
    assert review.due_on == date(2026, 10, 1)
    assert "(the council adult social care default)" in review.reason
    assert of_kind(reviews_due(facts(kind="council_adult_social_care"), date(2026, 6, 15)), ReviewKind.PLAN) == []


def test_after_a_plan_review_the_next_falls_the_interval_after_it_and_none_beyond_the_period() -> None:
    held = (HeldReview(ReviewKind.PLAN, date(2026, 7, 6)),)
    assert of_kind(outstanding_reviews(facts(held=held), date(2026, 7, 10)), ReviewKind.PLAN) == []  # 6 July 2027 is after the end
    quarterly_plan = (replace(FIRST, review_every_months=3),)
    (review,) = of_kind(outstanding_reviews(facts(versions=quarterly_plan, held=held), date(2026, 7, 10)), ReviewKind.PLAN)
    assert review.due_on == date(2026, 10, 6)
    assert review.reason == "Plan review: 3 months after the last plan review on 6 July 2026 (as plan version 1 says)"


def test_the_plans_own_review_date_wins_until_a_review_is_held() -> None:
    dated = (replace(FIRST, next_review_on=date(2026, 5, 15)),)
    (review,) = of_kind(outstanding_reviews(facts(versions=dated), date(2026, 5, 1)), ReviewKind.PLAN)
    assert (review.due_on, review.reason) == (date(2026, 5, 15), "Plan review: plan version 1 says review by 15 May 2026")
    held = (HeldReview(ReviewKind.PLAN, date(2026, 5, 15)),)
    assert of_kind(outstanding_reviews(facts(versions=dated, held=held), date(2026, 5, 20)), ReviewKind.PLAN) == []  # 15 May 2027: after the end
    every_three = (replace(dated[0], review_every_months=3),)
    (after,) = of_kind(outstanding_reviews(facts(versions=every_three, held=held), date(2026, 5, 20)), ReviewKind.PLAN)
    assert after.due_on == date(2026, 8, 15)


def test_a_revision_in_force_brings_its_own_review_date() -> None:
    revision = AgreedVersion(2, date(2026, 9, 1), date(2026, 8, 25), 5_300_000, next_review_on=date(2026, 12, 1))
    held = (HeldReview(ReviewKind.PLAN, date(2026, 7, 1)),)
    (review,) = of_kind(outstanding_reviews(facts(versions=(FIRST, revision), held=held), date(2026, 9, 2)), ReviewKind.PLAN)
    assert (review.due_on, review.plan_version) == (date(2026, 12, 1), 2)
    # Before the revision takes effect, the first version's rule applies.
    assert of_kind(outstanding_reviews(facts(versions=(FIRST, revision), held=held), date(2026, 8, 26)), ReviewKind.PLAN) == []


# --- quarterly quality reviews --------------------------------------------------------------


def test_quarterly_quality_reviews_one_per_quarter_due_the_month_after() -> None:
    items = of_kind(outstanding_reviews(facts(), date(2026, 8, 1)), ReviewKind.QUARTERLY_QUALITY)
    assert [i.due_on for i in items] == [date(2026, 7, 31), date(2026, 10, 31), date(2027, 1, 31), date(2027, 4, 30)]
    assert items[0].status is ReviewStatus.OVERDUE and items[1].status is ReviewStatus.DUE
    assert items[1].reason == "Quarterly quality review for Q2 2026/27 (July–September)"
    assert [i.kind for i in reviews_due(facts(), date(2026, 8, 1))] == [ReviewKind.PLAN, ReviewKind.QUARTERLY_QUALITY]


def test_a_held_quarterly_review_answers_its_quarter_and_only_isf_budgets_have_them() -> None:
    held = (HeldReview(ReviewKind.QUARTERLY_QUALITY, date(2026, 7, 10)),)
    items = of_kind(outstanding_reviews(facts(held=held), date(2026, 8, 1)), ReviewKind.QUARTERLY_QUALITY)
    assert [i.quarter.label for i in items] == ["2026Q2", "2026Q3", "2026Q4"]
    named = (HeldReview(ReviewKind.QUARTERLY_QUALITY, date(2026, 10, 5), due_on=date(2026, 10, 31)),)
    items = of_kind(outstanding_reviews(facts(held=named), date(2026, 11, 1)), ReviewKind.QUARTERLY_QUALITY)
    assert [i.quarter.label for i in items] == ["2026Q1", "2026Q3", "2026Q4"]
    assert of_kind(outstanding_reviews(facts(third_party=False), date(2026, 8, 1)), ReviewKind.QUARTERLY_QUALITY) == []


def test_a_review_with_no_due_date_answers_the_oldest_outstanding_quarter_begun() -> None:
    budget = facts(held=(HeldReview(ReviewKind.QUARTERLY_QUALITY, date(2026, 7, 10), due_on=date(2026, 7, 31)),))
    answered = review_to_answer(budget, ReviewKind.QUARTERLY_QUALITY, date(2026, 11, 2))
    assert answered is not None and answered.quarter == Quarter(2026, 2)
    assert review_to_answer(facts(), ReviewKind.QUARTERLY_QUALITY, date(2026, 3, 30)) is None  # agreed, but Q1 has not begun


def test_quarter_words() -> None:
    assert quarter_words(Quarter(2026, 4)) == "Q4 2026/27 (January–March)"
    assert quarter_words(Quarter(2099, 1)) == "Q1 2099/00 (April–June)"


# --- significant change ---------------------------------------------------------------------


def revision(total_pence: int, agreed_on: date = date(2026, 9, 1)) -> AgreedVersion:
    return AgreedVersion(2, date(2026, 9, 1), agreed_on, total_pence)


def test_a_revision_of_twelve_percent_is_a_significant_change_and_five_percent_is_not() -> None:
    up = facts(versions=(FIRST, revision(5_824_000)))
    (review,) = of_kind(outstanding_reviews(up, date(2026, 9, 2)), ReviewKind.SIGNIFICANT_CHANGE)
    assert (review.due_on, review.plan_version) == (date(2026, 9, 29), 2)
    assert review.reason == (
        "Significant change: plan version 2, agreed on 1 September 2026, moved the budget from £52,000.00 to £58,240.00 (+12.0%)"
    )
    assert of_kind(outstanding_reviews(up, date(2026, 9, 30)), ReviewKind.SIGNIFICANT_CHANGE)[0].is_overdue
    small = facts(versions=(FIRST, revision(5_460_000)))
    assert of_kind(outstanding_reviews(small, date(2026, 9, 2)), ReviewKind.SIGNIFICANT_CHANGE) == []
    down = facts(versions=(FIRST, revision(4_680_000)))  # exactly -10%
    assert "(-10.0%)" in of_kind(outstanding_reviews(down, date(2026, 9, 2)), ReviewKind.SIGNIFICANT_CHANGE)[0].reason


def test_a_significant_change_is_answered_by_a_plan_review_after_it_but_not_a_quarterly_one() -> None:
    versions = (FIRST, revision(5_824_000))
    plan = facts(versions=versions, held=(HeldReview(ReviewKind.PLAN, date(2026, 9, 10)),))
    assert of_kind(outstanding_reviews(plan, date(2026, 10, 1)), ReviewKind.SIGNIFICANT_CHANGE) == []
    before = facts(versions=versions, held=(HeldReview(ReviewKind.PLAN, date(2026, 8, 31)),))
    assert len(of_kind(outstanding_reviews(before, date(2026, 10, 1)), ReviewKind.SIGNIFICANT_CHANGE)) == 1
    quality = facts(versions=versions, held=(HeldReview(ReviewKind.QUARTERLY_QUALITY, date(2026, 9, 10)),))
    assert len(of_kind(outstanding_reviews(quality, date(2026, 10, 1)), ReviewKind.SIGNIFICANT_CHANGE)) == 1


def test_a_changed_threshold_takes_effect() -> None:
    rule = replace(SHIPPED_INTERVALS["icb"], significant_change_basis_points=400, significant_change_days=14)
    (review,) = of_kind(outstanding_reviews(facts(versions=(FIRST, revision(5_460_000)), rule=rule), date(2026, 9, 2)), ReviewKind.SIGNIFICANT_CHANGE)
    assert review.due_on == date(2026, 9, 15)


# --- requests, closed budgets, before the plan ---------------------------------------------


def test_a_request_is_due_within_28_days_until_answered() -> None:
    request = Request(5, date(2026, 5, 1), "Sam Smith (mum)", "Alex wants to try a music course")
    (review,) = of_kind(outstanding_reviews(facts(requests=(request,)), date(2026, 5, 10)), ReviewKind.REQUESTED)
    assert (review.due_on, review.request_id) == (date(2026, 5, 29), 5)
    assert review.reason == "Review asked for by Sam Smith (mum) on 1 May 2026: Alex wants to try a music course"
    answered = replace(request, answered_on=date(2026, 5, 20))
    assert of_kind(outstanding_reviews(facts(requests=(answered,)), date(2026, 6, 1)), ReviewKind.REQUESTED) == []
    assert len(of_kind(outstanding_reviews(facts(requests=(answered,)), date(2026, 5, 19)), ReviewKind.REQUESTED)) == 1


def test_a_closed_budget_has_nothing_after_its_end() -> None:
    closed = facts(closed=True)
    assert [i.due_on for i in of_kind(outstanding_reviews(closed, date(2026, 8, 1)), ReviewKind.QUARTERLY_QUALITY)][-1] == date(2027, 1, 31)
    assert outstanding_reviews(closed, date(2027, 4, 1)) == []
    assert len(outstanding_reviews(facts(), date(2027, 4, 1))) == 5  # open: the missed plan review and all four quarters
    assert outstanding_reviews(facts(), date(2026, 3, 19)) == []  # before the plan was agreed


# --- properties -----------------------------------------------------------------------------

days = st.integers(min_value=0, max_value=800)


@st.composite
def budgets(draw: st.DrawFn) -> BudgetFacts:
    start = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 1500)))
    end = start + timedelta(days=draw(st.integers(60, 800)))
    effective = [start + timedelta(days=d) for d in sorted(draw(st.lists(st.integers(0, (end - start).days), min_size=1, max_size=4)))]
    versions = tuple(
        AgreedVersion(
            version=number,
            effective_from=when,
            agreed_on=when + timedelta(days=draw(st.integers(-60, 30))),
            total_pence=draw(st.integers(0, 20_000_000)),
            review_every_months=draw(st.none() | st.integers(1, 24)),
            next_review_on=draw(st.none() | st.builds(lambda d: start + timedelta(days=d), st.integers(-30, 800))),
        )
        for number, when in enumerate(effective, start=1)
    )
    requests = tuple(
        Request(n, start + timedelta(days=d), "Sam", "a change") for n, d in enumerate(draw(st.lists(st.integers(-100, 800), max_size=3)), 1)
    )
    rule = IntervalRule(draw(st.integers(1, 24)), draw(st.integers(1, 24)), draw(st.integers(1, 90)), draw(st.integers(1, 10_000)))
    return BudgetFacts(1, "B-1", 1, start, end, draw(st.booleans()), "icb", rule, draw(st.booleans()), versions, (), requests)


def hold_everything_on_its_due_date(budget: BudgetFacts, as_of: date) -> BudgetFacts:
    """What a diligent team does: every review held on the day it falls due; a plan or
    requested review answers every open request asked by then (as the service does)."""
    for _ in range(1000):
        late = [item for item in outstanding_reviews(budget, as_of) if item.due_on <= as_of]
        if not late:
            return budget
        item = late[0]
        held = (*budget.held, HeldReview(item.kind, item.due_on, item.due_on))
        requests = budget.requests
        if item.kind in (ReviewKind.PLAN, ReviewKind.REQUESTED):
            requests = tuple(
                replace(r, answered_on=item.due_on) if r.answered_on is None and r.asked_on <= item.due_on else r for r in requests
            )
        budget = replace(budget, held=held, requests=requests)
    raise AssertionError("holding reviews never caught up")


@settings(max_examples=150, deadline=None)
@given(budgets(), days)
def test_holding_every_review_on_its_due_date_leaves_nothing_overdue(budget: BudgetFacts, offset: int) -> None:
    as_of = budget.period_start + timedelta(days=offset)
    caught_up = hold_everything_on_its_due_date(budget, as_of)
    assert not any(item.is_overdue for item in outstanding_reviews(caught_up, as_of))


@settings(max_examples=200, deadline=None)
@given(budgets(), days)
def test_nothing_is_due_before_the_plan_starts_or_after_a_closed_budget_ends(budget: BudgetFacts, offset: int) -> None:
    as_of = budget.period_start + timedelta(days=offset - 60)
    items = outstanding_reviews(budget, as_of)
    agreed = [v for v in budget.versions if v.agreed_on <= as_of]
    if not agreed:
        assert items == []
        return
    plan_start = min(v.effective_from for v in agreed)
    assert all(item.due_on >= plan_start for item in items)
    if budget.closed:
        assert all(item.due_on <= budget.period_end for item in items)
        assert as_of <= budget.period_end or items == []
    assert all((item.status is ReviewStatus.OVERDUE) == (item.due_on < as_of) for item in items)
    assert len(of_kind(items, ReviewKind.PLAN)) <= 1


def quarters_between(first: date, last: date) -> list[tuple[int, int]]:
    """The oracle: walk the months, naming each one's financial quarter."""
    found: list[tuple[int, int]] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        financial_year = year if month >= 4 else year - 1
        key = (financial_year, (month - 4) % 12 // 3 + 1)
        if key not in found:
            found.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


@settings(max_examples=200, deadline=None)
@given(budgets(), st.lists(st.integers(0, 900), max_size=6))
def test_exactly_one_quarterly_review_per_quarter(budget: BudgetFacts, held_offsets: list[int]) -> None:
    agreed_early = tuple(replace(v, agreed_on=budget.period_start - timedelta(days=90)) for v in budget.versions)
    budget = replace(budget, closed=False, has_third_party_part=True, versions=agreed_early)
    as_of = budget.period_start
    plan_start = min(v.effective_from for v in budget.versions)
    expected = quarters_between(plan_start, budget.period_end)
    items = of_kind(outstanding_reviews(budget, as_of), ReviewKind.QUARTERLY_QUALITY)
    assert [(i.quarter.financial_year, i.quarter.number) for i in items] == expected
    # Reviews held later answer distinct quarters: answered + outstanding = every quarter.
    held = tuple(HeldReview(ReviewKind.QUARTERLY_QUALITY, plan_start + timedelta(days=d)) for d in held_offsets)
    late = max(budget.period_end, plan_start + timedelta(days=900))
    remaining = of_kind(outstanding_reviews(replace(budget, held=held), late), ReviewKind.QUARTERLY_QUALITY)
    remaining_keys = [(i.quarter.financial_year, i.quarter.number) for i in remaining]
    assert len(set(remaining_keys)) == len(remaining_keys) and set(remaining_keys) <= set(expected)
    answered = len(expected) - len(remaining_keys)
    last_quarter_start = remaining[-1].quarter.starts_on if remaining else budget.period_end
    held_once_all_began = sum(1 for review in held if review.held_on >= max(last_quarter_start, budget.period_end))
    assert min(len(expected), held_once_all_began) <= answered <= len(held)


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(1, 10_000))
def test_significance_agrees_with_exact_fractions(previous: int, total: int, points: int) -> None:
    if previous == 0:
        expected = total != 0
    else:
        expected = total != previous and Fraction(abs(total - previous), previous) >= Fraction(points, 10_000)
    assert is_significant(previous, total, points) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 48))
def test_add_months_lands_in_the_right_month_and_never_earlier_than_a_month_end_allows(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or later.day < day.day and (later + timedelta(days=1)).day == 1
