"""The platform in-process: what its tests get (the session fixture ``platform`` itself lives
in tests/conftest.py, so that every directory shares one worker and one API), the demo
data served over HTTP (``demo_url``) and the command line pointed at it (``cli``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from config.settings import Settings
from tests.integration.cli_support import command_line
from tests.integration.demo_support import served_demo
from tests.support import SandboxProcess

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
async def demo_url(platform: Platform, sandbox: SandboxProcess) -> AsyncIterator[str]:
    """The API over HTTP, seeded with the demo as ``loanbridge up --demo`` does: once per
    session, for every test that reads the demo as people would."""
    async with served_demo(platform, sandbox) as url:
        yield url


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, demo_url: str) -> Iterator[CliRunner]:
    """The command line as a person runs it against the demo's API, with its own session file
    (``login`` writes it) and working folder; an error ends the command, not the test run."""
    yield from command_line(monkeypatch, tmp_path, demo_url)
