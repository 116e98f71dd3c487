"""The retry and timeout classes every workflow runs its activities with (database, provider,
money, document, batch), and the one place a typed activity call is handed to Temporal."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.activity_stubs import Call

R = TypeVar("R")

# The providers' final answers (adapters/errors.py): retrying them changes nothing.
PROVIDER_FINAL_ANSWERS = ("ProviderRejected", "IdempotencyConflict")


@dataclass(frozen=True)
class ActivityOptions:
    """How long one attempt may take and how it is retried; ``run`` schedules a typed call."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
    heartbeat_timeout: timedelta | None = None

    def variant(
        self,
        *,
        within: timedelta | None = None,
        heartbeat: timedelta | None = None,
        attempts: int | None = None,
        refusing: tuple[str, ...] = (),
    ) -> ActivityOptions:
        """This class with another timeout, heartbeat or number of attempts, or more error
        types that are final (not retried)."""
        policy = self.retry_policy
        final = (*(policy.non_retryable_error_types or ()), *refusing)
        return ActivityOptions(
            start_to_close_timeout=within or self.start_to_close_timeout,
            retry_policy=dataclasses.replace(
                policy,
                maximum_attempts=policy.maximum_attempts if attempts is None else attempts,
                non_retryable_error_types=list(final) if final else None,
            ),
            heartbeat_timeout=heartbeat or self.heartbeat_timeout,
        )

    async def run(self, call: Call[R], *, local: bool = False, task_queue: str | None = None) -> R:
        """Run ``call`` (a stub of ``workflows.activity_stubs`` given its argument) and return
        its decoded result; ``local``: as a local activity of this worker (one marker in the
        history, no round trip through the server)."""
        if local:
            result = await workflow.execute_local_activity(
                call.name,
                call.arg,
                result_type=call.result_type,
                start_to_close_timeout=self.start_to_close_timeout,
                retry_policy=self.retry_policy,
            )
        else:
            result = await workflow.execute_activity(
                call.name, call.arg, result_type=call.result_type, **self._scheduled(task_queue)
            )
        return cast(R, result)

    def _scheduled(self, task_queue: str | None) -> dict[str, Any]:
        """The options of a (non-local) activity scheduled through the server."""
        return {
            "task_queue": task_queue,
            "start_to_close_timeout": self.start_to_close_timeout,
            "heartbeat_timeout": self.heartbeat_timeout,
            "retry_policy": self.retry_policy,
        }

    def start(self, call: Call[R], *, task_queue: str | None = None) -> workflow.ActivityHandle[R]:
        """Schedule ``call`` now (the command is in this very activation, whatever the
        workflow does next) and return its handle, for a step the workflow does not wait on."""
        handle = workflow.start_activity(
            call.name, call.arg, result_type=call.result_type, **self._scheduled(task_queue)
        )
        return cast("workflow.ActivityHandle[R]", handle)


# Our own database: retry for as long as it takes (a restart of PostgreSQL must not lose work).
DATABASE = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
)
# An external provider (bureau, registry, SMS and mail): a few tries, then the workflow goes on
# without the answer (a person decides, a notice is logged as undelivered).
PROVIDER = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=6,
        non_retryable_error_types=list(PROVIDER_FINAL_ANSWERS),
    ),
)
# Money moving at the bank: retried until the bank answers. While it cannot be reached nobody
# knows whether money moved, and giving up would leave the payment's fate unknown; the
# business key (``disb-{loan}``, ``pay-…``) makes every retry the same payment. A short
# timeout: if the worker dies mid-payment, another retries soon with the same key.
MONEY = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(minutes=5),
        non_retryable_error_types=list(PROVIDER_FINAL_ANSWERS),
    ),
)
# Documents render in the worker's low-priority renderer processes: on a busy worker a letter
# waits there behind decisions, so its activity gets minutes, not the 60 s of a database step
# (a timeout would only start a second rendering of the same document). The activity
# heartbeats while it waits, so a worker killed mid-render is noticed after the heartbeat
# timeout, not after ten minutes (found by the chaos run: an application sat 10 minutes behind
# a dead worker's letter).
DOCUMENT = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=10),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
    heartbeat_timeout=timedelta(seconds=30),
)
# A scheduled run's bulk step (a sweep, a report, a re-rating page): minutes per attempt,
# retried for as long as it takes; each is idempotent by its run's key or day.
BATCH = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=10),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
)
