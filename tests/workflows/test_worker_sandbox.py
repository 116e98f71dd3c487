"""The platform worker's workflow sandbox refuses non-deterministic calls."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from config.settings import Settings
from tests.workflows.sandbox_probe import SandboxProbeWorkflow
from worker import workflow_runner


async def test_a_workflow_cannot_read_the_clock(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    queue = f"probe-{uuid.uuid4().hex[:6]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[SandboxProbeWorkflow],
        workflow_runner=workflow_runner(),
    ):
        answer = await time_skipping_env.client.execute_workflow(
            SandboxProbeWorkflow.run, id=f"probe-{uuid.uuid4()}", task_queue=queue
        )
    assert answer == "restricted"


def test_the_sandbox_is_on_unless_production_turns_it_off() -> None:
    assert Settings().workflow_sandbox is True
    assert isinstance(workflow_runner(), SandboxedWorkflowRunner)
    off = Settings(workflow_sandbox="false")  # type: ignore[arg-type]  # as from WORKFLOW_SANDBOX
    assert isinstance(workflow_runner(off.workflow_sandbox), UnsandboxedWorkflowRunner)
