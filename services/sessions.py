"""Session helpers the services share: hand the connection back before a long wait."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def release_connection(session: AsyncSession) -> None:
    """End the read transaction before waiting on Temporal, so the connection goes back to the
    pool instead of being held for the whole call (the session reconnects if used again;
    objects stay loaded: ``expire_on_commit`` is off)."""
    await session.commit()
