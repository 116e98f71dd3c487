"""One run's world: a migrated database, the sandbox process, the time-skipping server and the
real platform and documents workers, with a hand that stops the workers and starts new ones."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.api.testservice.v1 import (
    SleepRequest,
    UnlockTimeSkippingRequest,
)
from temporalio.client import Client
from temporalio.plugin import SimplePlugin
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkerConfig

from adapters._http import POOL_LIMITS
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


ATTEMPTS = 8  # times a step's real timeout the clock may be held before it counts as stuck
LOOK_AFTER_S = 3.0  # real seconds the clock is held before a look at what holds it
IDLE_POLL_S = 0.5  # real seconds between looks
ABANDON_SLEEP_S = 5.0  # real seconds a run's teardown waits for a sleep it gives up
REFUSED_SLEEP_S = 60.0  # real seconds a refused sleep's timer may take to fire
SLEEP_RPC_TIMEOUT = timedelta(hours=1)  # a sleep's call waits this long for its moment
# real seconds after a restart the clock may be held: an activity cut off mid-flight holds it
# until its start-to-close timeout (60 s for database and money activities) has passed
AFTER_RESTART_S = 90.0
STABLE_IDLE_POLLS = 5  # looks in a row finding nothing in flight before a lock is released
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
        self.relocks = 0  # sleeps refused because the test's own lock had been released
        self.refusals: list[str] = []  # each refused sleep: the clock then, and the answer
        self.abandoned_workers = 0  # worker runs that did not end when stopped
        self._sleeping: asyncio.Task[object] | None = None  # the one outstanding sleep
        self._sleep_until = datetime.min.replace(tzinfo=UTC)  # the moment it sleeps to
        self._restarted = -AFTER_RESTART_S  # when the workers were last restarted (monotonic)

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
        self._stack.push_async_callback(self._abandon_sleep)
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
        self.providers = httpx.AsyncClient(
            base_url=self.sandbox.base_url, timeout=30, limits=POOL_LIMITS
        )
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
        await asyncio.wait({self._workflow_run}, timeout=STOP_TIMEOUT_S)

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
        # Waited for with a deadline, never awaited one by one under a blanket suppress: that
        # swallowed the step's own cancellation, and a run deaf to its cancel held the
        # simulation for ever (seed 507: the new workers never started, a payment's posting
        # never ran). A run still going is left behind and counted.
        if self._runs:
            _, still = await asyncio.wait(self._runs, timeout=STOP_TIMEOUT_S)
            self.abandoned_workers += len(still)
        self._workers, self._runs = [], []

    async def restart_workers(self) -> None:
        """Stop both workers (mid-activity, when one is running) and start new ones."""
        await self.stop_workers()
        self.start_workers()
        self.worker_restarts += 1
        self._restarted = time.monotonic()

    # ---- the clock -----------------------------------------------------------------------
    # The server keeps a count of locks: the test's own (taken as it starts) and one per piece
    # of work in flight; its clock runs ahead only at zero. A sleep gives up the test's lock
    # until the clock has passed its moment, and a sleep the client stops waiting for still
    # holds it given up on the server: a second sleep then took the count below the work in
    # flight, and the clock ran over activities (timed out) and workflows (woken days late).
    # So at most one sleep is outstanding, waited for to its end.
    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def advance_to(
        self,
        moment: datetime,
        real_timeout_s: float,
        leaks_when_idle: Callable[[], Awaitable[int | None]],
    ) -> None:
        """Let the server's clock run to ``moment``: every timer on the way fires and the
        workflows do their work on the real activities.

        The server holds the clock while anything is in flight: a slow moment is waited out
        (up to ``ATTEMPTS`` times ``real_timeout_s``). When it holds it with nothing in flight
        for ``STABLE_IDLE_POLLS`` looks in a row and ``leaks_when_idle`` (None while work is in
        flight) counts more locks the server leaked than were released, one is released, and
        the next looks wait ``LOOK_AFTER_S`` again. A held clock nothing explains is waited
        out: releasing a lock that work in flight holds lets the clock run over that work.
        """
        await self._sleep_out(real_timeout_s, leaks_when_idle, moment)  # a nudge outstanding
        gap = moment - await self.now()
        if gap <= timedelta(0):
            return
        await self._start_sleep(gap)
        await self._sleep_out(real_timeout_s, leaks_when_idle, moment)

    async def nudge(self, by: timedelta) -> None:
        """Let the clock run ``by`` once nothing holds it (a retry's backoff timer fires); not
        waited for, and nothing when a sleep is already outstanding."""
        if self._sleeping is not None and self._sleeping.done():
            await self._ended_sleep()  # its answer, and a refusal mended
        if self._sleeping is None:
            await self._start_sleep(by)

    async def _start_sleep(self, by: timedelta) -> None:
        self._sleep_until = await self.now() + by
        request = SleepRequest()
        request.duration.FromTimedelta(by)
        self._sleeping = asyncio.create_task(
            # Without a deadline of its own the call ends with "Timeout expired" while the
            # server still sleeps: its timer takes the lock back when it fires all the same.
            self.client.test_service.unlock_time_skipping_with_sleep(
                request, timeout=SLEEP_RPC_TIMEOUT
            )
        )

    async def _sleep_out(
        self,
        real_timeout_s: float,
        leaks_when_idle: Callable[[], Awaitable[int | None]],
        moment: datetime,
    ) -> None:
        """Wait for the outstanding sleep to end, releasing a lock held with nothing in flight.

        A sleep the server refuses (its count was already zero: a lock released that was not
        leaked, whose work then ended) gives the test its lock back with a fresh lock, and the
        caller's next sleep starts from a clock that holds again."""
        sleeping = self._sleeping
        if sleeping is None:
            return
        started = held_since = time.monotonic()
        stable = 0
        try:
            while not sleeping.done():
                await asyncio.wait({sleeping}, timeout=IDLE_POLL_S)
                if sleeping.done():
                    break
                now = time.monotonic()
                # An activity a restart cut off holds the clock until its start-to-close
                # timeout has passed in real time (the server never heard it end).
                bound = max(
                    ATTEMPTS * max(real_timeout_s, IDLE_POLL_S),
                    self._restarted + AFTER_RESTART_S - started,
                )
                if now - started > bound:
                    raise ClockStuck(
                        f"the clock did not reach {moment.isoformat()} "
                        f"in {ATTEMPTS} × {real_timeout_s:.0f}s"
                    )
                if now - held_since < LOOK_AFTER_S:
                    continue
                leaked = await leaks_when_idle()
                stable = stable + 1 if leaked is not None and leaked > self.leaked_locks else 0
                if stable >= STABLE_IDLE_POLLS:
                    with contextlib.suppress(RPCError):  # nothing was held after all
                        await self.client.test_service.unlock_time_skipping(
                            UnlockTimeSkippingRequest()
                        )
                        self.leaked_locks += 1
                    stable, held_since = 0, time.monotonic()
        finally:
            self.advance_seconds += time.monotonic() - started
        await self._ended_sleep()

    async def _ended_sleep(self) -> None:
        """Take the ended sleep's answer. A refused sleep (the count was already zero), like
        one whose call timed out, has still set its timer, whose firing takes the test's lock
        back: that moment is waited for (a lock taken here as well would hold the clock for
        good, and the run would crawl at wall-clock speed). Only a refusal is reported."""
        assert self._sleeping is not None and self._sleeping.done()
        sleeping, self._sleeping = self._sleeping, None
        try:
            sleeping.result()
        except RPCError as exc:
            if exc.status not in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
                self.relocks += 1  # refused: the count was already zero
                self.refusals.append(
                    f"at {self._sleep_until:%Y-%m-%d %H:%M}: {exc.status.name} {exc}"
                )
            deadline = time.monotonic() + REFUSED_SLEEP_S
            while time.monotonic() < deadline:
                if await self.now() >= self._sleep_until:
                    break
                await asyncio.sleep(IDLE_POLL_S)

    async def _abandon_sleep(self) -> None:
        """Give up the outstanding sleep. A sleep the server never ends (its clock held) is
        not waited for beyond a few seconds: the server is shut down next anyway, and a run
        must end with its report, never hang in its teardown."""
        if self._sleeping is not None:
            self._sleeping.cancel()
            # its outcome is taken whenever it comes: a refused sleep is no error here
            self._sleeping.add_done_callback(lambda sleep: sleep.cancelled() or sleep.exception())
            await asyncio.wait({self._sleeping}, timeout=ABANDON_SLEEP_S)
            self._sleeping = None

    # ---- sandbox faults ------------------------------------------------------------------
    async def arm_fault(self, provider: str, mode: str, count: int) -> None:
        response = await self.providers.post(
            "/sandbox/v1/faults", json={"provider": provider, "mode": mode, "count": count}
        )
        response.raise_for_status()

    async def disarm_faults(self) -> None:
        (await self.providers.delete("/sandbox/v1/faults")).raise_for_status()
