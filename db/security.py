"""Repository of login bookkeeping: failures per account and per address, locks and unlocks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import AppUser, LoginAttempt
from db.models_security import AccountLockEvent


class LoginGuardRepository:
    """Counts failed logins (never commits) and records account locks and unlocks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def last_unlock(self, username: str) -> datetime | None:
        stmt = (
            select(func.max(AccountLockEvent.at))
            .join(AppUser, AppUser.id == AccountLockEvent.user_id)
            .where(AppUser.username == username, AccountLockEvent.kind == "unlocked")
        )
        found: datetime | None = await self.session.scalar(stmt)
        return found

    async def failures_for_username(self, username: str, window: timedelta) -> int:
        """Failed logins of a username within the window and since its latest unlock."""
        since = utcnow() - window
        unlocked = await self.last_unlock(username)
        if unlocked is not None and unlocked > since:
            since = unlocked
        stmt = (
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > since,
            )
        )
        return int(await self.session.scalar(stmt) or 0)

    async def failures_from_address(self, client_ip: str, window: timedelta) -> int:
        """Failed logins from one client address within the window, whatever the username."""
        stmt = (
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.client_ip == client_ip,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > utcnow() - window,
            )
        )
        return int(await self.session.scalar(stmt) or 0)

    async def lock(self, user: AppUser, until: datetime, actor: str) -> None:
        user.locked_until = until
        self.session.add(
            AccountLockEvent(
                user_id=user.id, kind="locked", at=utcnow(), locked_until=until, actor=actor
            )
        )
        await self.session.flush()

    async def unlock(self, user: AppUser, actor: str) -> None:
        """Lift the lock and reset the failure counters (the attempts stay on record)."""
        user.locked_until = None
        self.session.add(
            AccountLockEvent(
                user_id=user.id, kind="unlocked", at=utcnow(), locked_until=None, actor=actor
            )
        )
        await self.session.flush()

    async def events(self, user_id: uuid.UUID) -> list[AccountLockEvent]:
        stmt = (
            select(AccountLockEvent)
            .where(AccountLockEvent.user_id == user_id)
            .order_by(AccountLockEvent.at, AccountLockEvent.id)
        )
        return list(await self.session.scalars(stmt))
