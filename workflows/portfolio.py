"""Portfolio sweep: once a day (a Temporal Schedule), snapshot every institution's loans by
five-category classification with overdue figures, for the regulator's reports."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.calendar import business_date
    from workflows.contracts import PortfolioSweep, PortfolioSweepResult, WorkflowType

SWEEP_SCHEDULE_ID = "portfolio-sweep"


@workflow.defn(name=WorkflowType.PORTFOLIO_SWEEP)
class PortfolioSweepWorkflow:
    """One day's snapshot; a rerun of the same day replaces that day's figures."""

    @workflow.run
    async def run(self, sweep: PortfolioSweep) -> PortfolioSweepResult:
        as_of = sweep.as_of or business_date(workflow.now())
        result: PortfolioSweepResult = await workflow.execute_activity(
            "snapshot_portfolio",
            PortfolioSweep(as_of=as_of),
            result_type=PortfolioSweepResult,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return result
