"""Institutions: onboarding goes through its workflow; lists are read from PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.schemas import InstitutionCreate, InstitutionOut
from domain.roles import Role
from gateway.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep, require_roles
from services import institutions
from services.principal import Principal

router = APIRouter(prefix="/api/v1/institutions", tags=["institutions"])

PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]


@router.post("", operation_id="onboard_institution", response_model=InstitutionOut, status_code=201)
async def onboard_institution(
    body: InstitutionCreate,
    admin: PlatformAdmin,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> InstitutionOut:
    """Run the onboarding workflow and answer with the institution it recorded."""
    record, workflow_id = await institutions.onboard(
        session, temporal, settings, admin, code=body.code, name=body.name, kind=body.kind
    )
    return InstitutionOut(
        id=record.id,
        code=record.code,
        name=record.name,
        kind=record.kind,
        status=record.status,
        workflow_id=workflow_id,
    )


@router.get("", operation_id="list_institutions", response_model=list[InstitutionOut])
async def list_institutions(
    _: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[InstitutionOut]:
    """Every onboarded institution (public directory information)."""
    rows = await institutions.directory(session, limit=limit, offset=offset)
    return [InstitutionOut.model_validate(row) for row in rows]


@router.get("/{institution_id}", operation_id="get_institution", response_model=InstitutionOut)
async def get_institution(
    institution_id: uuid.UUID, _: CurrentUser, session: SessionDep
) -> InstitutionOut:
    return InstitutionOut.model_validate(await institutions.institution(session, institution_id))
