"""The demo data as ``loanbridge up --demo`` seeds it, through the real API and workflows, served
over HTTP for the tests that read it as people would (the workbench crawl, the CLI run)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import uvicorn
from sqlalchemy import select

from cli.demo import seed_applications, seed_catalog, seed_demo, seed_enterprises
from db.models import AppUser
from runtime.processes import free_port
from server import create_app
from tests.support import SandboxProcess

if TYPE_CHECKING:  # the conftest registers the fixture built from this module
    from tests.integration.conftest import Platform


@asynccontextmanager
async def served_demo(platform: Platform, sandbox: SandboxProcess) -> AsyncIterator[str]:
    """The API on a free local port, seeded with the demo (accounts, enterprises at every
    onboarding stage, products, a policy, a demand, applications and loans at every stage, the
    audit checkpoint, alerts and reports); yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(platform.settings), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        await seed_served(url, platform, sandbox)
        yield url
    finally:
        server.should_exit = True
        await serving


async def seed_served(url: str, platform: Platform, sandbox: SandboxProcess) -> None:
    """Seed the demo through the API served at ``url`` (each step skips what is there already,
    so a second seed in one session is harmless)."""
    database_url = platform.settings.database_url or ""

    def seed() -> None:
        for step in (
            seed_demo(url, database_url),
            seed_enterprises(url, sandbox.base_url),
            seed_catalog(url),
            seed_applications(url, sandbox.base_url),
        ):
            for _ in step:
                pass

    # The seed is synchronous HTTP: off the loop, which serves the API meanwhile.
    await asyncio.to_thread(seed)


async def people_names(platform: Platform) -> frozenset[str]:
    """People's usernames and display names: names, not codes, whatever they look like."""
    async with platform.sessions() as session:
        rows = await session.execute(select(AppUser.username, AppUser.display_name))
        return frozenset(name for row in rows for name in row if name)
