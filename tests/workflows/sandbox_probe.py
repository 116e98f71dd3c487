"""A workflow that tries a non-deterministic call, to check what the worker's sandbox allows."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError


@workflow.defn(name="SandboxProbe")
class SandboxProbeWorkflow:
    @workflow.run
    async def run(self) -> str:
        try:
            datetime.now()
        except RestrictedWorkflowAccessError:
            return "restricted"
        return "allowed"
