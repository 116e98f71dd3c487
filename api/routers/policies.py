"""Support policies: platform admins publish (and the push workflow tells enterprises)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.schemas import PolicyOut
from domain.roles import Role
from gateway.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep, require_roles
from services import policies
from services.policies import PolicyIn
from services.principal import Principal

router = APIRouter(prefix="/api/v1/policies", tags=["policies"])
PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]


@router.post("", operation_id="publish_policy", response_model=PolicyOut, status_code=201)
async def publish_policy(
    body: PolicyIn,
    admin: PlatformAdmin,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> PolicyOut:
    """Publish a policy; a workflow then pushes it to every enterprise it fits."""
    return PolicyOut.model_validate(
        await policies.publish(session, temporal, settings, admin, body)
    )


@router.get("", operation_id="list_policies", response_model=list[PolicyOut])
async def list_policies(_: CurrentUser, session: SessionDep) -> list[PolicyOut]:
    return [PolicyOut.model_validate(row) for row in await policies.policies(session)]
