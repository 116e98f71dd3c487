"""The message centre over HTTP: an applicant's notices with the unread count, and read marks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.schemas import NotificationOut, NotificationPageOut, ReadAllOut
from domain.roles import Role
from gateway.deps import SessionDep, require_roles
from services import notifications
from services.notifications import Notice
from services.principal import Principal

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]


def _out(notice: Notice) -> NotificationOut:
    return NotificationOut(
        id=notice.id,
        template=notice.template,
        subject=notice.subject,
        body=notice.body,
        subject_en=notice.subject_en,
        body_en=notice.body_en,
        channels=list(notice.channels),
        created_at=notice.created_at,
        read_at=notice.read_at,
        case_kind=notice.case.kind.value if notice.case else None,
        case_id=notice.case.id if notice.case else None,
    )


@router.get("", operation_id="list_notifications", response_model=NotificationPageOut)
async def list_notifications(
    user: Applicant,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> NotificationPageOut:
    """The enterprise's notices, newest first, with how many there are and how many unread."""
    page = await notifications.notices(session, user, limit=limit, offset=offset)
    return NotificationPageOut(
        items=[_out(n) for n in page.items], total=page.total, unread=page.unread
    )


@router.post(
    "/{notification_id}/read", operation_id="mark_notification_read", response_model=NotificationOut
)
async def mark_notification_read(
    notification_id: uuid.UUID, user: Applicant, session: SessionDep
) -> NotificationOut:
    """Mark one notice read (it keeps its first read time); another enterprise's: 404."""
    return _out(await notifications.mark_read(session, user, notification_id))


@router.post("/read-all", operation_id="mark_all_notifications_read", response_model=ReadAllOut)
async def mark_all_notifications_read(user: Applicant, session: SessionDep) -> ReadAllOut:
    """Mark every unread notice of the enterprise read."""
    return ReadAllOut(marked_read=await notifications.mark_all_read(session, user))
