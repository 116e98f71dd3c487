"""One run's world: a migrated database, the sandbox process, the time-skipping server and the
real platform and documents workers, with a hand that stops the workers and starts new ones."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client
from temporalio.plugin import SimplePlugin
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkerConfig

from config.codec import data_converter_from_settings
from config.crypto import FieldCipher, configure_field_cipher
from config.settings import Environment, Settings
from db.migrate import upgrade_to_head
from db.session import create_engine, create_session_factory
from simulation.infra import SandboxProcess, fresh_database, start_time_skipping
from worker import build_workers


class _Uncached(SimplePlugin):
    """Workers without a workflow cache (see ``World.start_workers``)."""

    def __init__(self) -> None:
        super().__init__("loanbridge.simulation.uncached")

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        config["max_cached_workflows"] = 0
        return config


class ClockStuck(Exception):
    """The time-skipping server did not reach the moment asked for in time."""


class World:
    """Everything a run needs, started by ``async with`` and torn down after."""

    def __init__(self, server_url: str, database_url: str | None = None) -> None:
        self.server_url = server_url
        self.given_database = database_url
        self._stack = AsyncExitStack()
        self._workdir = Path(tempfile.mkdtemp(prefix="lb-sim-"))
        self.sandbox = SandboxProcess(self._workdir)
        self.database_url = ""
        self.settings: Settings
        self.cipher: FieldCipher
        self.env: WorkflowEnvironment
        self.engine: AsyncEngine
        self.sessions: async_sessionmaker[AsyncSession]
        self.providers: httpx.AsyncClient
        self._worker_client: Client
        self._workers: list[Worker] = []
        self._runs: list[asyncio.Task[None]] = []
        self.worker_restarts = 0
        self.advance_seconds = 0.0  # real time spent letting the clock run

    @property
    def client(self) -> Client:
        return self.env.client

    async def __aenter__(self) -> World:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        await self.sandbox.start()
        self._stack.push_async_callback(self.sandbox.kill)
        if self.given_database:
            self.database_url = self.given_database
        else:
            self.database_url = self._stack.enter_context(
                fresh_database(self.server_url, prefix="lb_sim")
            )
        await asyncio.to_thread(upgrade_to_head, self.database_url)
        base = Settings(_env_file=None)  # type: ignore[call-arg]
        self.env = await start_time_skipping(data_converter_from_settings(base))
        self._stack.push_async_callback(self.env.shutdown)
        self.settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            environment=Environment.TEST,
            database_url=self.database_url,
            temporal_address=self.client.service_client.config.target_host,
            sandbox_url=self.sandbox.base_url,
            smtp_port=self.sandbox.smtp_port,
            document_dir=self._workdir / "documents",
            document_render_processes=0,  # renderer threads: a restarted worker leaves no pool
            provider_timeout_s=2.0,
            task_queue_prefix="sim",
        )
        self.cipher = FieldCipher.from_settings(self.settings)
        configure_field_cipher(self.cipher)
        self.engine = create_engine(self.database_url)
        self._stack.push_async_callback(self.engine.dispose)
        self.sessions = create_session_factory(self.engine)
        self.providers = httpx.AsyncClient(base_url=self.sandbox.base_url, timeout=30)
        self._stack.push_async_callback(self.providers.aclose)
        self._worker_client = Client(
            self.client.service_client,
            namespace=self.client.namespace,
            data_converter=self.client.data_converter,
            plugins=[_Uncached()],
        )
        self._stack.push_async_callback(self.stop_workers)
        self.start_workers()

    # ---- workers -----------------------------------------------------------------------
    def start_workers(self) -> None:
        """The real platform and documents workers, as ``loanbridge worker`` builds them, but
        without a workflow cache: the test server has no sticky-queue timeout (nor
        ResetStickyTaskQueue), so a stopped worker's sticky queue would hold its workflows'
        tasks for ever; uncached, every task goes to the shared queue the next worker polls."""
        self._workers = build_workers(self._worker_client, self.settings, self.sessions)
        self._runs = [asyncio.create_task(w.run()) for w in self._workers]

    async def stop_workers(self) -> None:
        """Stop both workers now: activities in flight are cancelled, their retries wait for
        the next worker."""
        await asyncio.gather(*(w.shutdown() for w in self._workers), return_exceptions=True)
        for run in self._runs:
            with contextlib.suppress(BaseException):
                await run
        self._workers, self._runs = [], []

    async def restart_workers(self) -> None:
        """Stop both workers (mid-activity, when one is running) and start new ones."""
        await self.stop_workers()
        self.start_workers()
        self.worker_restarts += 1

    # ---- the clock -----------------------------------------------------------------------
    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def advance_to(self, moment: datetime, real_timeout_s: float) -> None:
        """Let the server's clock run to ``moment``: every timer on the way fires and the
        workflows do their work on the real activities."""
        gap = moment - await self.now()
        if gap <= timedelta(0):
            return
        request = SleepRequest()
        request.duration.FromTimedelta(gap)
        started = time.monotonic()
        try:
            # env.sleep() with a deadline of our own: the server holds the clock while an
            # activity is in flight (a worker stopped mid-activity: until its timeout).
            await self.client.test_service.unlock_time_skipping_with_sleep(
                request, timeout=timedelta(seconds=real_timeout_s)
            )
        except RPCError as exc:
            raise ClockStuck(
                f"the clock did not reach {moment.isoformat()} in {real_timeout_s:.0f}s"
                f" ({exc.message})"
            ) from exc
        self.advance_seconds += time.monotonic() - started

    # ---- sandbox faults ------------------------------------------------------------------
    async def arm_fault(self, provider: str, mode: str, count: int) -> None:
        response = await self.providers.post(
            "/sandbox/v1/faults", json={"provider": provider, "mode": mode, "count": count}
        )
        response.raise_for_status()

    async def disarm_faults(self) -> None:
        (await self.providers.delete("/sandbox/v1/faults")).raise_for_status()
