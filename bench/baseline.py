"""The bare-Temporal baseline of the origination benchmark (phase C).

``BaselineApplicationWorkflow`` has the *shape* of the application workflow up to the offer
and nothing else: the same no-op activities as the application runs before its decision
(local where ours are local, regular where ours are regular), then its progress query says
``offered``, then those after it (the letter, the notification), then it waits for an
acceptance like an offer does. It answers the same ``submission`` Update once its first
activity is done (as the real workflow answers once ``record_application`` is), so a client
drives it as the API drives an application: update-with-start, then poll the ``progress`` query.

No search attributes, no payload encryption (the SDK's default converter), no database,
no providers, no PDF: what is left is the cost of Temporal itself for that many steps.

Run as its own worker process (like ``python -m worker``)::

    python -m bench.baseline --address 127.0.0.1:7233 --task-queue bench-baseline
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from config.runtime import run_event_loop, settle_garbage_collector

WORKFLOW_NAME = "BenchBaselineApplication"
OFFER_WAIT = timedelta(days=7)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


@activity.defn(name="bench_noop")
async def noop(step: int) -> None:
    """Does nothing: the activity round trip through Temporal is what is measured."""
    return None


async def _noop(step: int, kind: str) -> None:
    if kind == "L":
        await workflow.execute_local_activity(
            noop, step, start_to_close_timeout=timedelta(seconds=60), retry_policy=RETRY
        )
    else:
        await workflow.execute_activity(
            noop, step, start_to_close_timeout=timedelta(seconds=60), retry_policy=RETRY
        )


@workflow.defn(name=WORKFLOW_NAME)
class BaselineApplicationWorkflow:
    def __init__(self) -> None:
        self.stage = "submitted"
        self.recorded = False
        self.accepted = False

    @workflow.run
    async def run(self, plan: list[str]) -> str:
        """``plan``: one letter per activity before the decision and after, ``L`` for a local
        activity and ``R`` for a regular one, as the application's history has them."""
        before, after = plan
        for step, kind in enumerate(before):
            await _noop(step, kind)
            self.recorded = True
        self.stage = "offered"
        for step, kind in enumerate(after):
            await _noop(len(before) + step, kind)
        try:
            await workflow.wait_condition(lambda: self.accepted, timeout=OFFER_WAIT)
        except TimeoutError:
            self.stage = "expired"
        return self.stage

    @workflow.update
    async def submission(self) -> str:
        await workflow.wait_condition(lambda: self.recorded)
        return self.stage

    @workflow.query
    def progress(self) -> str:
        return self.stage


def build_worker(client: Client, task_queue: str, sandbox: bool = True) -> Worker:
    """Worker options as the platform worker's (the SDK defaults, its workflow runner; its
    event loop and garbage-collector settings in ``serve`` and ``main``), no interceptors."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BaselineApplicationWorkflow],
        activities=[noop],
        workflow_runner=SandboxedWorkflowRunner() if sandbox else UnsandboxedWorkflowRunner(),
    )


async def serve(address: str, task_queue: str, sandbox: bool = True) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_worker(client, task_queue, sandbox):
        settle_garbage_collector()  # as the platform worker does once it is up
        print(f"baseline worker polling {task_queue} on {address}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--unsandboxed", action="store_true", help="as WORKFLOW_SANDBOX=false")
    args = parser.parse_args()
    # On the platform worker's event loop (uvloop), for the same reason.
    run_event_loop(serve(args.address, args.task_queue, sandbox=not args.unsandboxed))


if __name__ == "__main__":
    main()
