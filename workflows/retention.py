"""Data retention: once a day (a Temporal Schedule) or on demand, apply the documented rules
of ``domain/retention.py`` in one activity; the decision log is verified afterwards."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import business_date
    from workflows import activity_stubs as stub
    from workflows.activity_options import BATCH
    from workflows.contracts import WorkflowType
    from workflows.retention_contracts import RetentionInput, RetentionResult


@workflow.defn(name=WorkflowType.DATA_RETENTION)
class DataRetentionWorkflow:
    """One application of the rules; the run key makes a retried activity idempotent."""

    @workflow.run
    async def run(self, request: RetentionInput) -> RetentionResult:
        as_of = request.as_of or business_date(workflow.now())
        key = request.run_key or workflow.info().workflow_id
        return await BATCH.run(stub.apply_retention(RetentionInput(as_of=as_of, run_key=key)))
