"""User administration: platform admins create any user, institution admins their own staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.schemas import UserOut
from gateway.deps import SessionDep, require_roles
from services import users
from services.principal import Principal
from services.users import ACCOUNT_ADMINS, UserCreate

router = APIRouter(prefix="/api/v1/users", tags=["users"])

Admin = Annotated[Principal, Depends(require_roles(*ACCOUNT_ADMINS))]


@router.post("", operation_id="create_user", response_model=UserOut, status_code=201)
async def create_user(body: UserCreate, admin: Admin, session: SessionDep) -> UserOut:
    """Create a staff user; applicants register themselves through onboarding instead."""
    return UserOut.model_validate(await users.create_staff(session, admin, body))
