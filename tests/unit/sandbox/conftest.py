"""Fixtures: a fresh in-memory sandbox per test, reached through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from tests.unit.sandbox.helpers import BASE_URL


@pytest.fixture
def settings() -> SandboxSettings:
    """Short fault durations so no test sleeps for long."""
    return SandboxSettings(state_path=":memory:", timeout_fault_s=0.3, slow_fault_ms=100)


@pytest.fixture
async def app(settings: SandboxSettings) -> AsyncIterator[FastAPI]:
    """The sandbox application with its lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def transport(app: FastAPI) -> httpx.ASGITransport:
    """An httpx transport that calls the app in process."""
    return httpx.ASGITransport(app=app)


@pytest.fixture
async def client(transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client of the sandbox."""
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http
