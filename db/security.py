"""Repositories of login and registration bookkeeping: failures per account and per address,
locks and unlocks; registrations and codes texted per address and per mobile."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import AppUser, LoginAttempt
from db.models_security import AccountLockEvent, RegistrationAttempt


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


class RegistrationGuardRepository:
    """Counts registrations and texted codes per client address and per mobile (never commits)."""

    REGISTRATION = "registration"
    CODE_SENT = "code_sent"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(
        self,
        kind: str,
        window: timedelta,
        *,
        client_ip: str | None = None,
        mobile_hash: str | None = None,
    ) -> int:
        """Attempts of a kind within the window, from one address or to one mobile."""
        stmt = (
            select(func.count())
            .select_from(RegistrationAttempt)
            .where(RegistrationAttempt.kind == kind, RegistrationAttempt.at > utcnow() - window)
        )
        if client_ip is not None:
            stmt = stmt.where(RegistrationAttempt.client_ip == client_ip)
        if mobile_hash is not None:
            stmt = stmt.where(RegistrationAttempt.mobile_hash == mobile_hash)
        return int(await self.session.scalar(stmt) or 0)

    async def record(self, kind: str, client_ip: str, mobile_hash: str) -> None:
        self.session.add(
            RegistrationAttempt(
                kind=kind, client_ip=client_ip, mobile_hash=mobile_hash, at=utcnow()
            )
        )
        await self.session.flush()
