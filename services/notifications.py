"""The message centre: an enterprise's notices (every SMS, e-mail and in-app message the
platform sent it) newest first with the unread count, each linked to its case, and the read
marks; an applicant sees only their own enterprise's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Notification
from domain.notices import NoticeCase, notice_case
from domain.roles import Role
from services.errors import not_found
from services.principal import Principal, own_enterprise_id, require_role


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice as its enterprise reads it."""

    id: uuid.UUID
    template: str
    subject: str
    body: str
    subject_en: str | None  # None: sent before the English text was kept
    body_en: str | None
    channels: tuple[str, ...]
    created_at: datetime
    read_at: datetime | None
    case: NoticeCase | None

    def body_in(self, lang: str) -> str:
        """The text in the reader's language (Chinese when no English was kept)."""
        return self.body_en if lang == "en" and self.body_en else self.body


@dataclass(frozen=True, slots=True)
class NoticePage:
    """A page of notices, how many there are in all and how many are unread."""

    items: list[Notice]
    total: int
    unread: int


def _enterprise(user: Principal) -> uuid.UUID:
    return own_enterprise_id(require_role(user, Role.APPLICANT))


def _notice(row: Notification) -> Notice:
    return Notice(
        id=row.id,
        template=row.template,
        subject=row.subject,
        body=row.body,
        subject_en=row.subject_en,
        body_en=row.body_en,
        channels=tuple(c for c in row.channels.split(",") if c),
        created_at=row.created_at,
        read_at=row.read_at,
        case=notice_case(row.delivery_key),
    )


async def _counts(session: AsyncSession, enterprise_id: uuid.UUID) -> tuple[int, int]:
    """How many notices the enterprise has, and how many of them are unread: one query."""
    row = (
        await session.execute(
            select(func.count(), func.count().filter(Notification.read_at.is_(None))).where(
                Notification.enterprise_id == enterprise_id
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def unread_count(session: AsyncSession, user: Principal) -> int:
    """How many of the enterprise's notices are unread (the badge)."""
    return (await _counts(session, _enterprise(user)))[1]


async def notices(
    session: AsyncSession, user: Principal, *, limit: int, offset: int = 0
) -> NoticePage:
    """The enterprise's notices, newest first, a page at a time."""
    enterprise_id = _enterprise(user)
    total, unread = await _counts(session, enterprise_id)
    rows = await session.scalars(
        select(Notification)
        .where(Notification.enterprise_id == enterprise_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return NoticePage(items=[_notice(row) for row in rows], total=total, unread=unread)


async def mark_read(session: AsyncSession, user: Principal, notice_id: uuid.UUID) -> Notice:
    """Mark one notice of the enterprise read (again: it keeps its first read time); another
    enterprise's notice is not found."""
    row = await session.get(Notification, notice_id)
    if row is None or row.enterprise_id != _enterprise(user):
        raise not_found()
    if row.read_at is None:
        row.read_at = utcnow()
        await session.commit()
    return _notice(row)


async def mark_all_read(session: AsyncSession, user: Principal) -> int:
    """Mark every unread notice of the enterprise read; how many were."""
    result = await session.execute(
        update(Notification)
        .where(Notification.enterprise_id == _enterprise(user), Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
