"""Readiness of what the platform depends on: PostgreSQL, Temporal and the providers each
answer, or not."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client


async def database(engine: AsyncEngine) -> str:
    """``ok`` once PostgreSQL answers a query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return "ok"


async def temporal(client: Client) -> str:
    """``ok`` once the Temporal frontend says it is serving."""
    await client.service_client.check_health()
    return "ok"


async def providers(sandbox_url: str) -> str:
    """``ok`` once the providers' service answers its health check."""
    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(f"{sandbox_url}/healthz")
        response.raise_for_status()
    return "ok"
