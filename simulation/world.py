"""One run's world: a migrated database, the sandbox process, the time-skipping server and the
real platform and documents workers, with a hand that stops the workers and starts new ones."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.api.testservice.v1 import SleepRequest, UnlockTimeSkippingRequest
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


class _Side(SimplePlugin):
    """One side of the platform worker: its workflows (with their local activities), or its
    activities."""

    def __init__(self, workflows: bool) -> None:
        super().__init__(f"loanbridge.simulation.{'workflows' if workflows else 'activities'}")
        self.keep_workflows = workflows

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        if not config.get("workflows"):
            return config  # the documents worker
        if self.keep_workflows:
            config["no_remote_activities"] = True
        else:
            config["workflows"] = []
        return config


ATTEMPTS = 8  # sleeps tried before the clock counts as stuck
STOP_TIMEOUT_S = 30.0  # real seconds a worker may take to shut down


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
        self._activity_client: Client
        self._workers: list[Worker] = []
        self._runs: list[asyncio.Task[None]] = []
        self.worker_restarts = 0
        self.advance_seconds = 0.0  # real time spent letting the clock run
        self.leaked_locks = 0  # time-skipping locks the server kept with nothing in flight

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
        # The platform worker's two sides. Workers register per connection, task queue and
        # kind of task: the workflow side (built once; its documents worker never runs) has a
        # connection of its own; the activity side and the documents worker are built anew
        # at every (re)start.
        workflow_client = await Client.connect(
            self.client.service_client.config.target_host,
            namespace=self.client.namespace,
            data_converter=self.client.data_converter,
            plugins=[_Side(workflows=True)],
        )
        self._activity_client = Client(
            self.client.service_client,
            namespace=self.client.namespace,
            data_converter=self.client.data_converter,
            plugins=[_Side(workflows=False)],
        )
        self._workflow_worker = build_workers(workflow_client, self.settings, self.sessions)[0]
        self._workflow_run = asyncio.create_task(self._workflow_worker.run())
        self._stack.push_async_callback(self._stop_workflow_worker)
        self._stack.push_async_callback(self.stop_workers)
        self.start_workers()

    # ---- workers -----------------------------------------------------------------------
    def start_workers(self) -> None:
        """The real platform worker's activities and the documents worker, as ``loanbridge
        worker`` builds them.

        Restarts stop these; the workflow side runs on: the test server has no sticky-queue
        timeout (nor ResetStickyTaskQueue), so the workflows cached by a stopped workflow
        worker would wait on its sticky queue for ever, and without a cache the workflows'
        local activities stall the worker. What a restart tests is the activity in flight,
        retried on the next worker with the same business key."""
        self._workers = build_workers(self._activity_client, self.settings, self.sessions)
        self._runs = [asyncio.create_task(w.run()) for w in self._workers]

    async def _stop_workflow_worker(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self._workflow_worker.shutdown()
        self._workflow_run.cancel()
        with contextlib.suppress(BaseException):
            await self._workflow_run

    async def stop_workers(self) -> None:
        """Stop both workers now: activities in flight are cancelled, their retries wait for
        the next worker. A shutdown that does not finish in ``STOP_TIMEOUT_S`` (an activity
        deaf to cancellation) is abandoned: its runs are cancelled, and a retry of that
        activity goes to the next worker once its start-to-close timeout has passed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await asyncio.gather(*(w.shutdown() for w in self._workers), return_exceptions=True)
        for run in self._runs:
            run.cancel()
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

    async def advance_to(
        self, moment: datetime, real_timeout_s: float, idle: Callable[[], Awaitable[bool]]
    ) -> None:
        """Let the server's clock run to ``moment``: every timer on the way fires and the
        workflows do their work on the real activities.

        The server holds the clock while anything is in flight: a slow moment is waited out
        (``ATTEMPTS`` times ``real_timeout_s``). When it holds it with nothing in flight (``idle``:
        it keeps a lock when a workflow completes in the task that completes an Update, as a
        payoff does, or after a worker stopped mid-activity), one lock is released and the
        sleep tried again; the lock may also be the one an abandoned sleep still holds, and
        the server then refuses the release, which is harmless.
        """
        why = ""
        for _ in range(ATTEMPTS):
            gap = moment - await self.now()
            if gap <= timedelta(0):
                return
            try:
                await self._sleep(gap, real_timeout_s)
                return
            except RPCError as exc:
                why = exc.message
            if await idle():
                try:
                    await self.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
                    self.leaked_locks += 1
                except RPCError:
                    pass
        raise ClockStuck(
            f"the clock did not reach {moment.isoformat()} "
            f"in {ATTEMPTS} × {real_timeout_s:.0f}s ({why})"
        )

    async def nudge(self, by: timedelta) -> None:
        """Let the clock run ``by`` (a retry's backoff timer fires); a clock held by work in
        flight is left as it is."""
        with contextlib.suppress(RPCError):
            await self._sleep(by, 2.0)

    async def _sleep(self, by: timedelta, real_timeout_s: float) -> None:
        """One time-skipping sleep of ``by``, waited for at most ``real_timeout_s`` (an
        ``RPCError`` when the server did not get there in time)."""
        request = SleepRequest()
        request.duration.FromTimedelta(by)
        started = time.monotonic()
        try:
            await self.client.test_service.unlock_time_skipping_with_sleep(
                request, timeout=timedelta(seconds=real_timeout_s)
            )
        finally:
            self.advance_seconds += time.monotonic() - started

    # ---- sandbox faults ------------------------------------------------------------------
    async def arm_fault(self, provider: str, mode: str, count: int) -> None:
        response = await self.providers.post(
            "/sandbox/v1/faults", json={"provider": provider, "mode": mode, "count": count}
        )
        response.raise_for_status()

    async def disarm_faults(self) -> None:
        (await self.providers.delete("/sandbox/v1/faults")).raise_for_status()
