"""Scoring service backed by the model registry: serves the promoted version (its scorecard,
or its gradient-boosting model when that is its champion), re-read when the promotion changes
(checked at most every ``refresh_s`` seconds), and falls back to the rule-based scorecard
(``domain.scorecard``, its own model version) when none is promoted or the promoted artifact
fails its SHA-256 check."""

from __future__ import annotations

import time

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from adapters.scoring.model import BoosterScorer, ModelScorer
from credit_model.registry import RegistryError, load_booster, load_scorecard
from db.models_risk import CreditModelVersion
from domain.scorecard import Scorer, score

log = structlog.get_logger("loanbridge.scoring")


class RegistryScorer:
    """``CreditScorer`` reading ``credit_model_version``; one instance per process."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], refresh_s: float = 30.0
    ) -> None:
        self.session_factory = session_factory
        self.refresh_s = refresh_s
        self._checked_at = float("-inf")
        self._served: tuple[str, ...] | None = None  # version, promotion time, both hashes
        self._scorer: Scorer = score

    async def current(self) -> Scorer:
        """The promoted model's scorer, or the rules."""
        now = time.monotonic()
        if now - self._checked_at < self.refresh_s:
            return self._scorer
        async with self.session_factory() as session:
            head = (
                await session.execute(
                    select(
                        CreditModelVersion.version,
                        CreditModelVersion.promoted_at,
                        CreditModelVersion.scorecard_sha256,
                        CreditModelVersion.challenger_sha256,
                    ).where(CreditModelVersion.status == "promoted")
                )
            ).first()
            if head is None:
                self._served, self._scorer = None, score
            elif tuple(map(str, head)) != self._served:
                row = await session.scalar(
                    select(CreditModelVersion)
                    .where(CreditModelVersion.version == head.version)
                    .options(undefer(CreditModelVersion.challenger_model))
                )
                try:
                    if row is None:
                        raise ValueError(f"{head.version} vanished while it was read")
                    self._scorer = (
                        BoosterScorer(load_booster(row), row.version)
                        if row.champion == "challenger"
                        else ModelScorer(load_scorecard(row), row.version)
                    )
                    self._served = tuple(map(str, head))
                    log.info("scoring model loaded", model_version=row.version, kind=row.champion)
                except (RegistryError, ValueError) as exc:
                    log.error("promoted model refused; scoring with the rules", error=str(exc))
                    self._served, self._scorer = None, score
        self._checked_at = now
        return self._scorer


class StaticScorer:
    """``CreditScorer`` that always hands out one scorer (tests, benchmarks)."""

    def __init__(self, scorer: Scorer = score) -> None:
        self._scorer = scorer

    async def current(self) -> Scorer:
        """The scorer given at construction."""
        return self._scorer
