"""Idempotency keys bind the request they first came with (Stripe's rule): a repeat with the
same body gets the first result, the same key with another body is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.errors import ApiError
from db.base import utcnow
from db.models_security import IdempotencyKey

REPLAYED_HEADER = "Idempotent-Replayed"
"""Set to ``true`` on an answer to a request that repeats one already done (Stripe's name):
the client can tell its user "already done" instead of "done"."""


def mark_replayed(response: Response) -> None:
    """Mark ``response`` as the answer to a repeat of a request already carried out."""
    response.headers[REPLAYED_HEADER] = "true"


def request_digest(request: BaseModel | Mapping[str, Any]) -> str:
    """SHA-256 of the request's canonical JSON (keys sorted, Decimals as strings)."""
    body = request.model_dump(mode="json") if isinstance(request, BaseModel) else dict(request)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def bind_idempotency_key(
    sessions: async_sessionmaker[AsyncSession],
    *,
    scope: str,
    key: str | None,
    request: BaseModel | Mapping[str, Any],
) -> None:
    """Record ``key`` under ``scope`` (the operation and the resource or caller it acts on)
    with the request's digest, or check a repeat against it: another body is 409
    ``idempotency.conflict``. Without a key there is nothing to bind."""
    if not key:
        return
    digest = request_digest(request)
    async with sessions() as session, session.begin():
        await session.execute(
            insert(IdempotencyKey)
            .values(scope=scope, key=key, request_sha256=digest, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
        first = await session.scalar(
            select(IdempotencyKey.request_sha256).where(
                IdempotencyKey.scope == scope, IdempotencyKey.key == key
            )
        )
    if first != digest:
        raise ApiError(
            409,
            "idempotency.conflict",
            "该幂等键已用于另一笔不同内容的请求；请换一个新的键",
            "This Idempotency-Key was used for a different request; use a new key",
        )
