"""Institutions: onboarding through its workflow (platform admins), and the public directory
read from PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from config.settings import Settings
from db.models import Institution
from db.repositories import InstitutionRepository
from domain.roles import Role
from services.errors import Refusal, not_found
from services.principal import Principal, require_role
from workflows.contracts import (
    InstitutionOnboardingInput,
    InstitutionRecord,
    TaskQueue,
    WorkflowType,
    institution_workflow_id,
)


def _duplicate() -> Refusal:
    return Refusal(
        409,
        "institution.duplicate_code",
        "机构代码已存在",
        "An institution with this code already exists",
    )


async def onboard(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    admin: Principal,
    *,
    code: str,
    name: str,
    kind: str,
) -> tuple[InstitutionRecord, str]:
    """Run the onboarding workflow; the institution it recorded and the workflow's id."""
    require_role(admin, Role.PLATFORM_ADMIN)
    if await InstitutionRepository(session).by_code(code) is not None:
        raise _duplicate()
    workflow_id = institution_workflow_id(code)
    try:
        record: InstitutionRecord = await temporal.execute_workflow(
            WorkflowType.INSTITUTION_ONBOARDING,
            InstitutionOnboardingInput(code=code, name=name, kind=kind, requested_by=admin.user_id),
            result_type=InstitutionRecord,
            id=workflow_id,
            task_queue=settings.task_queue(TaskQueue.PLATFORM),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError as exc:
        raise _duplicate() from exc
    except WorkflowFailureError as exc:
        cause = getattr(exc.cause, "cause", None)
        if isinstance(cause, ApplicationError) and cause.type == "DuplicateInstitution":
            raise _duplicate() from exc
        raise
    return record, workflow_id


async def directory(session: AsyncSession, *, limit: int, offset: int = 0) -> list[Institution]:
    """Every onboarded institution (public directory information)."""
    return await InstitutionRepository(session).list(limit=limit, offset=offset)


async def institution(session: AsyncSession, institution_id: uuid.UUID) -> Institution:
    """One institution (404 when there is none)."""
    found = await InstitutionRepository(session).get(institution_id)
    if found is None:
        raise not_found()
    return found
