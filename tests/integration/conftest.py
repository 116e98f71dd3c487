"""The platform in-process: a real worker on the dev server and the API over ASGI."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from cli.accounts import create_platform_admin
from config.settings import Settings
from db.session import create_engine, create_session_factory
from worker import build_worker

ADMIN_PASSWORD = "Adm1n-Secret!"


@dataclass
class Platform:
    """Handles a test needs: an HTTP client on the API, DB sessions, settings, the admin."""

    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    admin_username: str

    async def token(self, username: str, password: str) -> str:
        response = await self.http.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(self.admin_username, ADMIN_PASSWORD)}"}


@pytest.fixture(scope="session")
async def platform(
    test_settings: Settings, dev_env: WorkflowEnvironment
) -> AsyncIterator[Platform]:
    engine = create_engine(test_settings.database_url or "")
    sessions = create_session_factory(engine)
    worker = build_worker(dev_env.client, test_settings, sessions)
    app = create_app(test_settings)
    admin = f"admin-{uuid.uuid4().hex[:6]}"
    await create_platform_admin(test_settings.database_url or "", admin, ADMIN_PASSWORD, "admin")
    async with worker, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield Platform(http, sessions, test_settings, admin)
    await engine.dispose()
