"""Transaction monitoring: daily (a Temporal Schedule) or on demand, every rule runs over the
recent disbursements and repayments and raises the alerts not raised before."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import business_date
    from workflows import activity_stubs as stub
    from workflows.activity_options import BATCH
    from workflows.contracts import WorkflowType
    from workflows.reporting_contracts import MonitoringResult, MonitoringRun


@workflow.defn(name=WorkflowType.TRANSACTION_MONITORING)
class TransactionMonitoringWorkflow:
    """One monitoring pass; rerunning it raises nothing twice (alerts are keyed)."""

    @workflow.run
    async def run(self, run: MonitoringRun) -> MonitoringResult:
        as_of = run.as_of or business_date(workflow.now())
        return await BATCH.run(
            stub.run_transaction_monitoring(
                MonitoringRun(
                    as_of=as_of, lookback_days=run.lookback_days, requested_by=run.requested_by
                )
            )
        )
