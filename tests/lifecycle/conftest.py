"""Lifecycle tests: workflows on the real activities (PostgreSQL, sandbox over HTTP) and a
time-skipping server of each test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from db.session import create_engine, create_session_factory
from tests.lifecycle.servicing import Lender, seed_lender, servicing_platform


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def env(fresh_time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    return fresh_time_skipping_env


@pytest.fixture
async def workers(
    env: WorkflowEnvironment,
    test_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Settings]:
    """The real workers on this test's server; yields the settings they run with."""
    async with servicing_platform(env, test_settings, sessions) as settings:
        yield settings


@pytest.fixture
async def lender(sessions: async_sessionmaker[AsyncSession]) -> Lender:
    return await seed_lender(sessions)
