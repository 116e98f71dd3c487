"""Model registry (模型注册): versioned artifacts on disk with their SHA-256, metrics and
training-data fingerprint in ``credit_model_version``; promotion (at most one model serves)
and rollback to the model promoted before. Functions take a session and never commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from credit_model.compiled import CompiledScorecard, canonical_json, sha256_hex
from db.base import utcnow
from db.models_risk import CreditModelVersion, ModelPromotion

if TYPE_CHECKING:  # the training stack (sklearn, LightGBM, matplotlib) loads only to train:
    # the API and the worker read the registry and would pay seconds of start-up for it
    from credit_model.booster import CompiledBooster
    from credit_model.pipeline import TrainingRun
    from credit_model.report import ReportFiles

SCORECARD_FILE = "scorecard.json"
CHALLENGER_FILE = "challenger.txt"
METRICS_FILE = "metrics.json"


class RegistryError(Exception):
    """A refused registry operation: machine code, messages and the HTTP status it maps to."""

    def __init__(self, status: int, code: str, zh: str, en: str) -> None:
        super().__init__(code)
        self.status, self.code, self.zh, self.en = status, code, zh, en


@dataclass(frozen=True, slots=True)
class Artifacts:
    """What ``write_artifacts`` wrote: directory, SHA-256 of both models, the report files."""

    directory: Path
    scorecard_sha256: str
    challenger_sha256: str
    report: ReportFiles


def new_version(run: TrainingRun, now: datetime | None = None) -> str:
    """``cm-<UTC timestamp>-<first 8 of the scorecard's SHA-256>``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"cm-{stamp}-{sha256_hex(run.scorecard.to_json())[:8]}"


def write_artifacts(run: TrainingRun, root: Path, version: str) -> Artifacts:
    """Write the scorecard JSON, the challenger's native text model and the report."""
    directory = root / version
    directory.mkdir(parents=True, exist_ok=True)
    scorecard_bytes = run.scorecard.to_json()
    challenger_bytes = run.challenger.model_text().encode()
    (directory / SCORECARD_FILE).write_bytes(scorecard_bytes)
    (directory / CHALLENGER_FILE).write_bytes(challenger_bytes)
    from credit_model.report import write_report

    report = write_report(run, directory, version)
    return Artifacts(
        directory=directory,
        scorecard_sha256=sha256_hex(scorecard_bytes),
        challenger_sha256=sha256_hex(challenger_bytes),
        report=report,
    )


async def register(
    session: AsyncSession, run: TrainingRun, artifacts: Artifacts, version: str, created_by: str
) -> CreditModelVersion:
    """Record a trained model (status ``registered``); a version name is used once."""
    return await register_directory(session, artifacts.directory, version, created_by)


async def register_directory(
    session: AsyncSession, directory: Path, version: str, created_by: str
) -> CreditModelVersion:
    """Record the model whose artifacts ``write_artifacts`` left in ``directory``: the hashes
    are taken from the files, the metrics from ``metrics.json``."""
    existing = await session.scalar(
        select(CreditModelVersion).where(CreditModelVersion.version == version)
    )
    if existing is not None:
        raise RegistryError(409, "model.version_exists", "模型版本已存在", "version already exists")
    scorecard_bytes = (directory / SCORECARD_FILE).read_bytes()
    challenger_bytes = (directory / CHALLENGER_FILE).read_bytes()
    metrics = json.loads((directory / METRICS_FILE).read_text())
    scorecard = CompiledScorecard.from_json(scorecard_bytes)
    dataset = metrics["dataset"]
    row = CreditModelVersion(
        version=version,
        champion=metrics["champion"]["kind"],
        feature_set=scorecard.feature_set,
        status="registered",
        dataset_name=dataset["name"],
        data_fingerprint=dataset["fingerprint"],
        scorecard_sha256=sha256_hex(scorecard_bytes),
        challenger_sha256=sha256_hex(challenger_bytes),
        artifact_dir=str(directory),
        scorecard=scorecard.document,
        challenger_model=challenger_bytes.decode(),
        metrics={**metrics, "version": version},
        created_by=created_by,
    )
    session.add(row)
    await session.flush()
    return row


async def list_versions(session: AsyncSession) -> list[CreditModelVersion]:
    """Every registered model, newest first."""
    rows = await session.scalars(
        select(CreditModelVersion).order_by(CreditModelVersion.created_at.desc())
    )
    return list(rows)


async def get_version(
    session: AsyncSession, version: str, *, with_booster: bool = False
) -> CreditModelVersion:
    """One model by version name (with its boosting model's text when asked), or
    ``model.not_found``."""
    query = select(CreditModelVersion).where(CreditModelVersion.version == version)
    if with_booster:
        query = query.options(undefer(CreditModelVersion.challenger_model))
    row = await session.scalar(query)
    if row is None:
        raise RegistryError(
            404, "model.not_found", f"模型版本 {version} 不存在", f"no model version {version!r}"
        )
    return row


async def promoted(session: AsyncSession) -> CreditModelVersion | None:
    """The model that scores now, if any."""
    row: CreditModelVersion | None = await session.scalar(
        select(CreditModelVersion).where(CreditModelVersion.status == "promoted")
    )
    return row


def load_scorecard(row: CreditModelVersion) -> CompiledScorecard:
    """The stored scorecard, refused unless its bytes still hash to the registered SHA-256."""
    data = canonical_json(row.scorecard)
    if sha256_hex(data) != row.scorecard_sha256:
        raise RegistryError(
            409,
            "model.artifact_tampered",
            f"模型 {row.version} 的评分卡与登记的 SHA-256 不符",
            f"the scorecard of {row.version} does not match its registered SHA-256",
        )
    return CompiledScorecard(row.scorecard)


def load_booster(row: CreditModelVersion) -> CompiledBooster:
    """The stored boosting model, refused when it was not kept (registered before it was) or
    its text no longer hashes to the registered SHA-256."""
    from credit_model.booster import CompiledBooster  # LightGBM loads only where it serves

    if not row.challenger_model:
        raise RegistryError(
            409,
            "model.artifact_missing",
            f"模型 {row.version} 登记时未保存梯度提升模型；请用 loanbridge model train 在同一数据上"
            "重新训练并登记新版本后上线",
            f"{row.version} was registered without its boosting model; train it again on the "
            "same data (loanbridge model train) and promote the new version",
        )
    if sha256_hex(row.challenger_model.encode()) != row.challenger_sha256:
        raise RegistryError(
            409,
            "model.artifact_tampered",
            f"模型 {row.version} 的梯度提升模型与登记的 SHA-256 不符",
            f"the boosting model of {row.version} does not match its registered SHA-256",
        )
    return CompiledBooster(row.challenger_model)


def _check_servable(row: CreditModelVersion) -> None:
    if row.feature_set != "sme":
        raise RegistryError(
            422,
            "model.not_servable",
            "该模型基于自定义字段训练，平台申请无法提供这些字段，不能上线",
            "the model was trained on custom columns the platform's applications do not have; "
            "it cannot be promoted",
        )
    if row.champion == "challenger":
        load_booster(row)
    else:
        load_scorecard(row)


async def promote(session: AsyncSession, version: str, actor: str) -> CreditModelVersion:
    """Make ``version`` the scoring model; the one it replaces is retired."""
    row = await get_version(session, version, with_booster=True)
    if row.status == "promoted":
        raise RegistryError(
            409, "model.already_promoted", "该版本已在使用", f"{version} is already promoted"
        )
    _check_servable(row)
    current = await promoted(session)
    if current is not None:
        current.status = "retired"
        await session.flush()
    row.status, row.promoted_at = "promoted", utcnow()
    session.add(
        ModelPromotion(
            action="promote",
            version=version,
            replaced_version=current.version if current else None,
            actor=actor,
        )
    )
    await session.flush()
    return row


async def rollback(session: AsyncSession, actor: str) -> CreditModelVersion:
    """Put back the model that the current one replaced when it was promoted; repeated
    rollbacks walk further back (``model.nothing_to_roll_back`` at the first model)."""
    current = await promoted(session)
    last = None
    if current is not None:
        last = await session.scalar(
            select(ModelPromotion)
            .where(ModelPromotion.action == "promote", ModelPromotion.version == current.version)
            .order_by(ModelPromotion.created_at.desc())
            .limit(1)
        )
    if current is None or last is None or not last.replaced_version:
        raise RegistryError(
            409,
            "model.nothing_to_roll_back",
            "没有可回滚的上一个版本",
            "there is no previously promoted version to roll back to",
        )
    previous = await get_version(session, last.replaced_version, with_booster=True)
    _check_servable(previous)
    current.status = "retired"
    await session.flush()
    previous.status, previous.promoted_at = "promoted", utcnow()
    session.add(
        ModelPromotion(
            action="rollback",
            version=previous.version,
            replaced_version=current.version,
            actor=actor,
        )
    )
    await session.flush()
    return previous
