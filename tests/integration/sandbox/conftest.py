"""Fixtures running the sandbox in a real uvicorn subprocess on free loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support import SandboxProcess


@pytest.fixture(scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SandboxProcess]:
    """One sandbox process shared by a test module."""
    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"))
    await process.start()
    try:
        yield process
    finally:
        await process.kill()


@pytest.fixture
async def control(sandbox: SandboxProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A raw client of the running sandbox; clears armed faults after each test."""
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5) as client:
        yield client
        await client.delete("/sandbox/v1/faults")
