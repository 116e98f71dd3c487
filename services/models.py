"""The credit model registry: list and show models (platform admins, institution admins,
compliance, regulators); promote and roll back (platform admins; one model serves everyone),
each recorded in the decision log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from credit_model.registry import RegistryError, get_version, list_versions, promote, rollback
from db.models_risk import CreditModelVersion
from db.repositories import DecisionLog
from domain.roles import Role
from services.errors import Refusal
from services.inputs import Schema
from services.principal import Principal, require_role

MODEL_READERS = (Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN, Role.COMPLIANCE, Role.REGULATOR)


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


def _refused(exc: RegistryError) -> Refusal:
    return Refusal(exc.status, exc.code, exc.zh, exc.en)


async def models(session: AsyncSession, user: Principal) -> list[ModelOut]:
    """Every registered model, newest first; at most one is ``promoted``."""
    require_role(user, *MODEL_READERS)
    return [ModelOut.model_validate(_out(row)) for row in await list_versions(session)]


async def model(session: AsyncSession, user: Principal, version: str) -> ModelDetailOut:
    """One model with its metrics and its scorecard table."""
    require_role(user, *MODEL_READERS)
    try:
        row = await get_version(session, version)
    except RegistryError as exc:
        raise _refused(exc) from None
    return ModelDetailOut.model_validate(
        {**_out(row), "metrics": row.metrics, "scorecard": row.scorecard}
    )


async def promote_model(session: AsyncSession, admin: Principal, version: str) -> ModelOut:
    """Make this model score every new application (the previous one is retired)."""
    require_role(admin, Role.PLATFORM_ADMIN)
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
    return ModelOut.model_validate(_out(row))


async def rollback_model(session: AsyncSession, admin: Principal) -> ModelOut:
    """Put back the model the current one replaced."""
    require_role(admin, Role.PLATFORM_ADMIN)
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
    return ModelOut.model_validate(_out(row))
