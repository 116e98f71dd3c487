"""Credit ratings over HTTP (issue 21): a loan's or an enterprise's rating history with reasons
in words and the early-warning task each downgrade raised — for the lending institution's staff
and platform-wide readers."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from gateway.deps import CurrentUser, SessionDep
from services import ratings
from services.ratings import RatingEntry

router = APIRouter(prefix="/api/v1", tags=["ratings"])


@router.get(
    "/loans/{loan_id}/credit-ratings",
    operation_id="loan_credit_ratings",
    response_model=list[RatingEntry],
)
async def loan_credit_ratings(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[RatingEntry]:
    """The monthly re-ratings of this loan's borrower, newest first."""
    return await ratings.loan_ratings(session, user, loan_id)


@router.get(
    "/enterprises/{enterprise_id}/credit-ratings",
    operation_id="enterprise_credit_ratings",
    response_model=list[RatingEntry],
)
async def enterprise_credit_ratings(
    enterprise_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[RatingEntry]:
    """The enterprise's rating history over the loans the caller may read, newest first."""
    return await ratings.enterprise_ratings(session, user, enterprise_id)
