"""Account security administration: lift a lock placed after repeated failed logins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends

from api.errors import ApiError
from api.schemas import Schema
from db.models import AppUser
from db.security import LoginGuardRepository
from domain.roles import Role
from gateway.deps import SessionDep, SettingsDep, require_roles
from services.principal import Principal

router = APIRouter(prefix="/api/v1/users", tags=["users"])

Admin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN))]


class AccountLockOut(Schema):
    """Whether an account is locked, and the failed logins counted against it."""

    user_id: uuid.UUID
    username: str
    locked: bool
    locked_until: datetime | None
    recent_failures: int


async def _managed_user(session: SessionDep, admin: Principal, user_id: uuid.UUID) -> AppUser:
    """Platform admins manage every account, institution admins their own staff (else 404)."""
    user = await session.get(AppUser, user_id, with_for_update=True)
    if user is None or (
        admin.role is Role.INSTITUTION_ADMIN and user.institution_id != admin.institution_id
    ):
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    return user


async def _status(
    guard: LoginGuardRepository, user: AppUser, settings: SettingsDep
) -> AccountLockOut:
    window = timedelta(seconds=settings.login_lockout_window_s)
    until = user.locked_until
    return AccountLockOut(
        user_id=user.id,
        username=user.username,
        locked=until is not None and until > datetime.now(UTC),
        locked_until=until,
        recent_failures=await guard.failures_for_username(user.username, window),
    )


@router.get("/{user_id}/lock", operation_id="account_lock_status", response_model=AccountLockOut)
async def account_lock_status(
    user_id: uuid.UUID, admin: Admin, session: SessionDep, settings: SettingsDep
) -> AccountLockOut:
    """Is the account locked, and how many failed logins count against it."""
    user = await _managed_user(session, admin, user_id)
    return await _status(LoginGuardRepository(session), user, settings)


@router.post("/{user_id}/unlock", operation_id="unlock_user", response_model=AccountLockOut)
async def unlock_user(
    user_id: uuid.UUID, admin: Admin, session: SessionDep, settings: SettingsDep
) -> AccountLockOut:
    """Lift the lock and reset the failed-login counters (every attempt stays on record)."""
    user = await _managed_user(session, admin, user_id)
    guard = LoginGuardRepository(session)
    await guard.unlock(user, actor=admin.actor)
    status = await _status(guard, user, settings)
    await session.commit()
    return status
