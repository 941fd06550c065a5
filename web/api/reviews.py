"""Reviews: what is due and overdue (for a holder, a funder or everyone), a budget's reviews
held and due, recording a review held, a family's request for a review, and each funding
stream's default review intervals."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from ledger.access import visibility as access
from ledger.budgets import budget as budgets
from ledger.budgets import parties
from ledger.reviews.due import ReviewDue, ReviewKind
from ledger.reviews.plan_reviews import (
    record_review_held,
    request_review,
    review_interval,
    review_intervals,
    review_requests,
    reviews_due,
    reviews_held,
    set_review_interval,
)
from ledger.store.tables.reviews import BudgetReview, ReviewInterval, ReviewRequest
from web.api.common import ERROR_RESPONSES, Int, IsoDate, RecordId, Schema, UtcTimestamp, database, signed_in
from web.auth import principal
from web.clock import today_in_england

router = APIRouter(tags=["reviews"], responses=ERROR_RESPONSES)

ID_QUERY = {"ge": 1, "le": 2_147_483_647}
AS_OF = Query(default=None, description="As at this day (default today in England)")
FunderKindPath = PathParam(max_length=40, description="A funder kind: icb, council_adult_social_care, council_children_education")


class ReviewDueOut(BaseModel):
    budget_id: int
    budget: str = Field(description="The budget's reference")
    holder_id: int
    kind: str = Field(description="plan, quarterly_quality, significant_change or requested")
    due_on: date
    status: str = Field(description="overdue (due before as_of and not held) or due")
    reason: str
    quarter: str | None = Field(description="For a quarterly quality review, its quarter, e.g. 2026Q2")
    request_id: int | None
    plan_version: int | None

    @classmethod
    def of(cls, review: ReviewDue) -> ReviewDueOut:
        return cls(
            budget_id=review.budget_id, budget=review.reference, holder_id=review.holder_id, kind=review.kind.value,
            due_on=review.due_on, status=review.status.value, reason=review.reason,
            quarter=review.quarter.label if review.quarter else None, request_id=review.request_id, plan_version=review.plan_version,
        )  # fmt: skip


class HeldIn(Schema):
    kind: ReviewKind
    held_on: IsoDate
    note: str | None = Field(default=None, max_length=1000, description="A short note; the full quarterly record comes later")
    due_on: IsoDate | None = Field(
        default=None, description="Which due review this answers (a quarterly review: its quarter's due date); default the oldest outstanding"
    )


class HeldOut(BaseModel):
    id: int
    budget_id: int
    kind: str
    due_on: date | None
    held_on: date
    recorded_by: str
    note: str | None
    recorded_at: UtcTimestamp
    answered_request_ids: list[int] = Field(description="The family's requests this review answered")

    @classmethod
    def of(cls, review: BudgetReview, requests: list[ReviewRequest]) -> HeldOut:
        return cls(
            id=review.id, budget_id=review.budget_id, kind=str(review.kind), due_on=review.due_on, held_on=review.held_on,
            recorded_by=review.recorded_by, note=review.note, recorded_at=review.recorded_at,
            answered_request_ids=[r.id for r in requests if r.answered_review_id == review.id],
        )  # fmt: skip


class RequestIn(Schema):
    asked_by: str | None = Field(
        default=None, max_length=200,
        description="Who asked (the person, a representative), where the signed-in user records it for them; default the signed-in user",
    )  # fmt: skip
    reason: str = Field(max_length=1000, description="What they asked for, in their words")
    asked_on: IsoDate | None = Field(default=None, description="Default today")


class RequestOut(BaseModel):
    id: int
    budget_id: int
    asked_by: str
    recorded_by: str
    asked_on: date
    reason: str
    answered_review_id: int | None
    recorded_at: UtcTimestamp

    @classmethod
    def of(cls, request: ReviewRequest) -> RequestOut:
        return cls.model_validate(request, from_attributes=True)


class BudgetReviewsOut(BaseModel):
    budget_id: int
    as_of: date
    held: list[HeldOut]
    due: list[ReviewDueOut] = Field(description="Overdue, and due within upcoming_days")
    requests: list[RequestOut]


class IntervalIn(Schema):
    first_after_months: Int = Field(ge=1, le=24, description="The first plan review, this many months after the plan starts")
    then_every_months: Int = Field(ge=1, le=24, description="Later plan reviews, this many months after the last one held")
    significant_change_days: Int = Field(default=28, ge=1, le=365, description="A significant change is reviewed within this many days")
    significant_change_basis_points: Int = Field(
        default=1000, ge=1, le=10_000, description="A revision moving the total by this much is significant (1000 = 10%)"
    )


class IntervalOut(BaseModel):
    funder_kind: str
    first_after_months: int
    then_every_months: int
    significant_change_days: int
    significant_change_basis_points: int
    updated_by: str
    updated_at: UtcTimestamp | None

    @classmethod
    def of(cls, interval: ReviewInterval) -> IntervalOut:
        return cls.model_validate(interval, from_attributes=True)


@router.get("/reviews/due", response_model=list[ReviewDueOut])
def list_reviews_due(
    request: Request,
    as_of: IsoDate | None = AS_OF,
    holder_id: int | None = Query(default=None, **ID_QUERY),
    funder_id: int | None = Query(default=None, **ID_QUERY, description="Budgets this funder leads or pays towards"),
    overdue_only: bool = Query(default=False),
    upcoming_days: int = Query(default=30, ge=0, le=366, description="Also list reviews due within this many days"),
) -> list[ReviewDueOut]:
    """Reviews overdue and due soon, overdue first."""
    with database(request).read() as session:
        if holder_id is not None:
            parties.get_holder(session, holder_id)
        if funder_id is not None:
            parties.get_funder(session, funder_id)
        found = reviews_due(
            session, as_of=as_of or today_in_england(), holder_id=holder_id, funder_id=funder_id, include_upcoming_days=upcoming_days
        )
        scope = access.visible_budget_ids(principal(request))
        visible = None if scope is None else set(session.scalars(scope))
    return [ReviewDueOut.of(review) for review in found if (review.is_overdue or not overdue_only) and (visible is None or review.budget_id in visible)]


@router.get("/budgets/{budget_id}/reviews", response_model=BudgetReviewsOut)
def budget_reviews(
    budget_id: RecordId,
    request: Request,
    as_of: IsoDate | None = AS_OF,
    upcoming_days: int = Query(default=30, ge=0, le=366),
) -> BudgetReviewsOut:
    """A budget's reviews held, the requests its family made, and what is due."""
    day = as_of or today_in_england()
    with database(request).read() as session:
        budgets.get_budget(session, budget_id)
        requests = review_requests(session, budget_id)
        return BudgetReviewsOut(
            budget_id=budget_id,
            as_of=day,
            held=[HeldOut.of(review, requests) for review in reviews_held(session, budget_id)],
            due=[ReviewDueOut.of(r) for r in reviews_due(session, as_of=day, budget_id=budget_id, include_upcoming_days=upcoming_days)],
            requests=[RequestOut.of(r) for r in requests],
        )


@router.post("/budgets/{budget_id}/reviews", status_code=201, response_model=HeldOut)
def record_held(budget_id: RecordId, body: HeldIn, request: Request) -> HeldOut:
    """Record that a review was held. A plan or requested review answers the family's open
    requests."""
    with database(request).write() as session:
        review = record_review_held(
            session, budget_id, kind=body.kind, held_on=body.held_on, recorded_by=signed_in(request), note=body.note,
            due_on=body.due_on, today=today_in_england(),
        )  # fmt: skip
        requests = review_requests(session, budget_id)
    return HeldOut.of(review, requests)


@router.post("/budgets/{budget_id}/review-requests", status_code=201, response_model=RequestOut)
def ask_for_review(budget_id: RecordId, body: RequestIn, request: Request) -> RequestOut:
    """A family asks for a change or a review between reviews: due within 28 days."""
    today = today_in_england()
    with database(request).write() as session:
        who = principal(request)
        made = request_review(
            session, budget_id, asked_by=body.asked_by or who.display_name, reason=body.reason, asked_on=body.asked_on or today, today=today,
            recorded_by=who.signature,
        )  # fmt: skip
    return RequestOut.of(made)


@router.get("/review-intervals", response_model=list[IntervalOut])
def list_intervals(request: Request) -> list[IntervalOut]:
    """Each funding stream's default review intervals."""
    with database(request).read() as session:
        return [IntervalOut.of(interval) for interval in review_intervals(session)]


@router.get("/review-intervals/{funder_kind}", response_model=IntervalOut)
def read_interval(request: Request, funder_kind: str = FunderKindPath) -> IntervalOut:
    with database(request).read() as session:
        return IntervalOut.of(review_interval(session, funder_kind))


@router.put("/review-intervals/{funder_kind}", response_model=IntervalOut)
def replace_interval(body: IntervalIn, request: Request, funder_kind: str = FunderKindPath) -> IntervalOut:
    """Replace a funding stream's defaults; budgets led by a funder of this kind follow them
    from now on, unless their plan states its own review date or interval."""
    with database(request).write() as session:
        interval = set_review_interval(
            session, funder_kind, first_after_months=body.first_after_months, then_every_months=body.then_every_months,
            significant_change_days=body.significant_change_days,
            significant_change_basis_points=body.significant_change_basis_points, updated_by=signed_in(request),
        )  # fmt: skip
    return IntervalOut.of(interval)
