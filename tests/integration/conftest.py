"""The platform in-process: what its tests get (the session fixture ``platform`` itself lives
in tests/conftest.py, so that every directory shares one worker and one API)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings

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
