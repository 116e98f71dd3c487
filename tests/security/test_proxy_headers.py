"""The API server believes X-Forwarded-For only from configured proxies (issue 28, finding 8):
the address a login is counted by is the connection's, whatever header a client sends."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest
from sqlalchemy import select

from config.settings import Settings
from db.models import LoginAttempt
from runtime.platform import proxy_header_args
from runtime.processes import free_port, uvicorn_command, wait_for_port
from tests.integration.conftest import Platform

pytestmark = pytest.mark.integration


async def _logins_through_server(platform: Platform, trusted: str) -> list[str]:
    """Two failed logins through a real uvicorn started as ``loanbridge up`` starts the API,
    each claiming another address; the client addresses the API recorded."""
    settings: Settings = platform.settings.model_copy(update={"forwarded_allow_ips": trusted})
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "TEMPORAL_ADDRESS": settings.temporal_address or "",
        "SANDBOX_URL": settings.sandbox_url or "",
        "ENVIRONMENT": "test",
        "FORWARDED_ALLOW_IPS": trusted,
    }
    server = await asyncio.create_subprocess_exec(
        *uvicorn_command("server:create_default_app", port),
        *proxy_header_args(settings),
        env=env,
    )
    username = f"xff-{uuid.uuid4().hex[:8]}"
    try:
        assert await asyncio.to_thread(wait_for_port, port, 30.0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for claimed in ("203.0.113.7", "203.0.113.8"):
                refused = await client.post(
                    "/api/v1/auth/token",
                    json={"username": username, "password": "Wrong#2026"},
                    headers={"X-Forwarded-For": claimed},
                )
                assert refused.status_code == 401
    finally:
        server.terminate()
        await server.wait()
    async with platform.sessions() as session:
        rows = await session.scalars(
            select(LoginAttempt.client_ip).where(LoginAttempt.username == username)
        )
        return list(rows)


async def test_a_client_cannot_choose_its_address_with_x_forwarded_for(
    platform: Platform,
) -> None:
    assert await _logins_through_server(platform, "") == ["127.0.0.1", "127.0.0.1"]


async def test_a_configured_proxy_is_believed(platform: Platform) -> None:
    recorded = await _logins_through_server(platform, "127.0.0.1")
    assert recorded == ["203.0.113.7", "203.0.113.8"]
