"""Account security administration: lift a lock placed after repeated failed logins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from gateway.deps import SessionDep, SettingsDep, require_roles
from services import users
from services.principal import Principal
from services.users import ACCOUNT_ADMINS, AccountLockOut

router = APIRouter(prefix="/api/v1/users", tags=["users"])

Admin = Annotated[Principal, Depends(require_roles(*ACCOUNT_ADMINS))]


@router.get("/{user_id}/lock", operation_id="account_lock_status", response_model=AccountLockOut)
async def account_lock_status(
    user_id: uuid.UUID, admin: Admin, session: SessionDep, settings: SettingsDep
) -> AccountLockOut:
    """Is the account locked, and how many failed logins count against it."""
    return await users.lock_status(session, settings, admin, user_id)


@router.post("/{user_id}/unlock", operation_id="unlock_user", response_model=AccountLockOut)
async def unlock_user(
    user_id: uuid.UUID, admin: Admin, session: SessionDep, settings: SettingsDep
) -> AccountLockOut:
    """Lift the lock and reset the failed-login counters (every attempt stays on record)."""
    return await users.unlock(session, settings, admin, user_id)
