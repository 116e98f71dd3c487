"""Credit ratings as people read them (issue 21): an enterprise's rating history from the monthly
re-ratings — score, grade, PD, master-scale rating, model version and reasons in words — with
each downgrade linked to the early-warning alert and task it raised. Institution staff see the
ratings of their own institution's loans; platform-wide readers see every one."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Loan
from db.models_risk import CreditAlert, CreditRating
from domain.early_warning import notches_down
from domain.labels import Vocabulary, bilingual
from domain.roles import INSTITUTION_ROLES
from domain.scorecard import RATINGS
from services.cases import CASE_READERS, loan
from services.errors import not_found
from services.inputs import Schema
from services.principal import Principal, require_role


class Reason(Schema):
    """One reason code with its words."""

    code: str
    label: str


class EarlyWarning(Schema):
    """The alert a re-rating raised and the post-loan task it became (the signals in words,
    with what was seen)."""

    alert_id: uuid.UUID
    task_id: uuid.UUID | None
    signals: list[str]


class RatingEntry(Schema):
    """One re-rating of one loan's borrower; ``downgrade_notches`` > 0 is a downgrade."""

    loan_id: uuid.UUID
    as_of: date
    score: int
    pd: Decimal
    grade: str
    rating: str
    previous_rating: str | None
    downgrade_notches: int
    model_version: str
    reasons: list[Reason]
    early_warning: EarlyWarning | None


def _notches(previous: str | None, rating: str) -> int:
    """``notches_down`` where both ratings are on the master scale (0 for a first rating)."""
    if previous not in RATINGS or rating not in RATINGS:
        return 0
    return notches_down(previous, rating)


async def _entries(session: AsyncSession, loan_ids: list[uuid.UUID]) -> list[RatingEntry]:
    if not loan_ids:
        return []
    ratings = (
        await session.scalars(
            select(CreditRating)
            .where(CreditRating.loan_id.in_(loan_ids))
            .order_by(CreditRating.as_of.desc(), CreditRating.created_at.desc())
        )
    ).all()
    alerts = {
        (a.loan_id, a.as_of): a
        for a in await session.scalars(select(CreditAlert).where(CreditAlert.loan_id.in_(loan_ids)))
    }
    out = []
    for row in ratings:
        alert = alerts.get((row.loan_id, row.as_of))
        codes = row.reason_codes.get("codes", []) if isinstance(row.reason_codes, dict) else []
        out.append(
            RatingEntry(
                loan_id=row.loan_id,
                as_of=row.as_of,
                score=row.score,
                pd=row.pd,
                grade=row.grade,
                rating=row.rating,
                previous_rating=row.previous_rating,
                downgrade_notches=_notches(row.previous_rating, row.rating),
                model_version=row.model_version,
                reasons=[Reason(code=c, label=bilingual(Vocabulary.REASON, c)) for c in codes],
                early_warning=None
                if alert is None
                else EarlyWarning(
                    alert_id=alert.id,
                    task_id=alert.task_id,
                    signals=[
                        f"{bilingual(Vocabulary.EARLY_WARNING, key)}: {seen}"
                        for key, seen in sorted(alert.signals.items())
                    ],
                ),
            )
        )
    return out


async def loan_ratings(
    session: AsyncSession, user: Principal, loan_id: uuid.UUID
) -> list[RatingEntry]:
    """The re-ratings of one loan's borrower, newest first (404 outside the caller's cases)."""
    require_role(user, *CASE_READERS)
    case = await loan(session, user, loan_id)
    return await _entries(session, [case.loan.id])


async def _readable_loans(
    session: AsyncSession, user: Principal, enterprise_id: uuid.UUID
) -> list[uuid.UUID]:
    require_role(user, *CASE_READERS)
    query = select(Loan.id).where(Loan.enterprise_id == enterprise_id)
    if user.role in INSTITUTION_ROLES:  # platform-wide readers, the only others, read all
        query = query.where(Loan.institution_id == user.institution_id)
    return list((await session.scalars(query)).all())


async def enterprise_ratings(
    session: AsyncSession, user: Principal, enterprise_id: uuid.UUID
) -> list[RatingEntry]:
    """An enterprise's rating history over the loans the caller may read, newest first; 404
    for an institution that has never lent to it."""
    loan_ids = await _readable_loans(session, user, enterprise_id)
    if not loan_ids:
        raise not_found()
    return await _entries(session, loan_ids)


async def case_ratings(
    session: AsyncSession, user: Principal, enterprise_id: uuid.UUID
) -> list[RatingEntry]:
    """For an application's case the caller already reads: the applicant's rating history on
    the caller's loans (empty for a first-time borrower)."""
    return await _entries(session, await _readable_loans(session, user, enterprise_id))
