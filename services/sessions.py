"""Session helpers the services share: hand the connection back before a long wait; whether a
record is there."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def release_connection(session: AsyncSession) -> None:
    """End the read transaction before waiting on Temporal, so the connection goes back to the
    pool instead of being held for the whole call (the session reconnects if used again;
    objects stay loaded: ``expire_on_commit`` is off)."""
    await session.commit()


async def has_row(session: AsyncSession, key: InstrumentedAttribute[Any], value: uuid.UUID) -> bool:
    """Whether a row whose ``key`` column holds ``value`` is recorded."""
    return await session.scalar(select(key).where(key == value)) is not None
