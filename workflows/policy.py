"""Support-policy push: a published policy is matched to enterprises and each one is told."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import STAGE, PolicyPushResult, PolicyRef, WorkflowType


@workflow.defn(name=WorkflowType.POLICY_PUSH)
class PolicyPushWorkflow:
    """Business id ``policy-{id}``; the activity is idempotent per (policy, enterprise)."""

    @workflow.run
    async def run(self, policy: PolicyRef) -> PolicyPushResult:
        workflow.upsert_search_attributes([STAGE.value_set("policy_push")])
        result: PolicyPushResult = await workflow.execute_activity(
            "push_policy",
            policy,
            result_type=PolicyPushResult,
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return result
