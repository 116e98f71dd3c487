"""Credit model registry over HTTP: list and show models (platform admins, institution admins,
compliance, regulators); promote and roll back (platform admins; one model serves everyone)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from api.errors import ApiError
from api.schemas import Schema
from credit_model.registry import RegistryError, get_version, list_versions, promote, rollback
from db.models_risk import CreditModelVersion
from db.repositories import DecisionLog
from domain.roles import Role
from gateway.deps import SessionDep, require_roles
from services.inputs import ServerRule, server_rules
from services.principal import Principal

router = APIRouter(prefix="/api/v1/models", tags=["models"])
PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN, Role.COMPLIANCE, Role.REGULATOR)
    ),
]
VersionPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class ModelOut(Schema):
    version: str
    status: str
    champion: str
    feature_set: str
    dataset_name: str
    data_fingerprint: str
    scorecard_sha256: str
    challenger_sha256: str
    created_by: str
    created_at: datetime
    promoted_at: datetime | None
    cv_auc: float | None


class ModelDetailOut(ModelOut):
    metrics: dict[str, Any]
    scorecard: dict[str, Any]


def _out(row: CreditModelVersion) -> dict[str, Any]:
    cv = row.metrics.get(row.champion, {}).get("cv", {})
    return {
        "version": row.version,
        "status": row.status,
        "champion": row.champion,
        "feature_set": row.feature_set,
        "dataset_name": row.dataset_name,
        "data_fingerprint": row.data_fingerprint,
        "scorecard_sha256": row.scorecard_sha256,
        "challenger_sha256": row.challenger_sha256,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "promoted_at": row.promoted_at,
        "cv_auc": cv.get("auc"),
    }


def _refused(exc: RegistryError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.zh, exc.en)


@router.get("", operation_id="list_models", response_model=list[ModelOut])
async def list_models(_: Reader, session: SessionDep) -> list[dict[str, Any]]:
    """Every registered model, newest first; at most one is ``promoted``."""
    return [_out(row) for row in await list_versions(session)]


@router.get("/{version}", operation_id="get_model", response_model=ModelDetailOut)
async def get_model(version: VersionPath, _: Reader, session: SessionDep) -> dict[str, Any]:
    """One model with its metrics and its scorecard table."""
    try:
        row = await get_version(session, version)
    except RegistryError as exc:
        raise _refused(exc) from None
    return {**_out(row), "metrics": row.metrics, "scorecard": row.scorecard}


@router.post(
    "/{version}/promote",
    operation_id="promote_model",
    response_model=ModelOut,
    # Whether a version can serve depends on how it was trained (a record the server holds).
    openapi_extra=server_rules(
        ServerRule("version", "model.not_servable", "trained on the platform's own features"),
        ServerRule("version", "model.challenger_champion", "its champion is the scorecard"),
    ),
)
async def promote_model(
    version: VersionPath, admin: PlatformAdmin, session: SessionDep
) -> dict[str, Any]:
    """Make this model score every new application (the previous one is retired)."""
    try:
        row = await promote(session, version, admin.actor)
    except RegistryError as exc:
        raise _refused(exc) from None
    await DecisionLog(session).append(
        actor=admin.actor,
        kind="model.promoted",
        subject=f"model:{version}",
        payload={"version": version, "scorecard_sha256": row.scorecard_sha256},
    )
    await session.commit()
    return _out(row)


@router.post("/rollback", operation_id="rollback_model", response_model=ModelOut)
async def rollback_model(admin: PlatformAdmin, session: SessionDep) -> dict[str, Any]:
    """Put back the model the current one replaced."""
    try:
        row = await rollback(session, admin.actor)
    except RegistryError as exc:
        raise _refused(exc) from None
    await DecisionLog(session).append(
        actor=admin.actor,
        kind="model.rolled_back",
        subject=f"model:{row.version}",
        payload={"version": row.version, "scorecard_sha256": row.scorecard_sha256},
    )
    await session.commit()
    return _out(row)
