"""Support-policy push: a published policy is matched to enterprises and each one is told."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import activity_stubs as stub
    from workflows.activity_options import BATCH
    from workflows.contracts import STAGE, PolicyPushResult, PolicyRef, WorkflowType


@workflow.defn(name=WorkflowType.POLICY_PUSH)
class PolicyPushWorkflow:
    """Business id ``policy-{id}``; the activity is idempotent per (policy, enterprise)."""

    @workflow.run
    async def run(self, policy: PolicyRef) -> PolicyPushResult:
        workflow.upsert_search_attributes([STAGE.value_set("policy_push")])
        # The activity heartbeats at every enterprise it considers.
        return await BATCH.variant(heartbeat=timedelta(minutes=1)).run(stub.push_policy(policy))
