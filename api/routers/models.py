"""Credit model registry over HTTP: list and show models (platform admins, institution admins,
compliance, regulators); promote and roll back (platform admins; one model serves everyone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from domain.roles import Role
from gateway.deps import SessionDep, require_roles
from services import models
from services.inputs import ServerRule, server_rules
from services.models import MODEL_READERS, ModelDetailOut, ModelOut
from services.principal import Principal

router = APIRouter(prefix="/api/v1/models", tags=["models"])
PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(*MODEL_READERS))]
VersionPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


@router.get("", operation_id="list_models", response_model=list[ModelOut])
async def list_models(user: Reader, session: SessionDep) -> list[ModelOut]:
    """Every registered model, newest first; at most one is ``promoted``."""
    return await models.models(session, user)


@router.get("/{version}", operation_id="get_model", response_model=ModelDetailOut)
async def get_model(version: VersionPath, user: Reader, session: SessionDep) -> ModelDetailOut:
    """One model with its metrics and its scorecard table."""
    return await models.model(session, user, version)


@router.post(
    "/{version}/promote",
    operation_id="promote_model",
    response_model=ModelOut,
    # Whether a version can serve depends on how it was trained (a record the server holds).
    openapi_extra=server_rules(
        ServerRule("version", "model.not_servable", "trained on the platform's own features"),
        ServerRule(
            "version",
            "model.artifact_missing",
            "a boosting champion registered before the registry kept its model cannot serve",
        ),
    ),
)
async def promote_model(
    version: VersionPath, admin: PlatformAdmin, session: SessionDep
) -> ModelOut:
    """Make this model score every new application (the previous one is retired)."""
    return await models.promote_model(session, admin, version)


@router.post("/rollback", operation_id="rollback_model", response_model=ModelOut)
async def rollback_model(admin: PlatformAdmin, session: SessionDep) -> ModelOut:
    """Put back the model the current one replaced."""
    return await models.rollback_model(session, admin)
