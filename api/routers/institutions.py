"""Institutions: onboarding goes through its workflow; lists are read from PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from api.errors import ApiError
from api.schemas import InstitutionCreate, InstitutionOut
from db.models import Institution
from db.repositories import InstitutionRepository
from domain.roles import Role
from gateway.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep, require_roles
from services.principal import Principal
from workflows.contracts import (
    InstitutionOnboardingInput,
    InstitutionRecord,
    TaskQueue,
    WorkflowType,
    institution_workflow_id,
)

router = APIRouter(prefix="/api/v1/institutions", tags=["institutions"])

PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]

_DUPLICATE = ApiError(
    409,
    "institution.duplicate_code",
    "机构代码已存在",
    "An institution with this code already exists",
)


@router.post("", operation_id="onboard_institution", response_model=InstitutionOut, status_code=201)
async def onboard_institution(
    body: InstitutionCreate,
    admin: PlatformAdmin,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> InstitutionOut:
    """Run the onboarding workflow and answer with the institution it recorded."""
    if await InstitutionRepository(session).by_code(body.code) is not None:
        raise _DUPLICATE
    workflow_id = institution_workflow_id(body.code)
    try:
        record: InstitutionRecord = await temporal.execute_workflow(
            WorkflowType.INSTITUTION_ONBOARDING,
            InstitutionOnboardingInput(
                code=body.code, name=body.name, kind=body.kind, requested_by=admin.user_id
            ),
            result_type=InstitutionRecord,
            id=workflow_id,
            task_queue=settings.task_queue(TaskQueue.PLATFORM),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError as exc:
        raise _DUPLICATE from exc
    except WorkflowFailureError as exc:
        cause = getattr(exc.cause, "cause", None)
        if isinstance(cause, ApplicationError) and cause.type == "DuplicateInstitution":
            raise _DUPLICATE from exc
        raise
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
) -> list[Institution]:
    """Every onboarded institution (public directory information)."""
    return await InstitutionRepository(session).list(limit=limit, offset=offset)


@router.get("/{institution_id}", operation_id="get_institution", response_model=InstitutionOut)
async def get_institution(
    institution_id: uuid.UUID, _: CurrentUser, session: SessionDep
) -> Institution:
    found = await InstitutionRepository(session).get(institution_id)
    if found is None:
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    return found
