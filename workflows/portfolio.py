"""Portfolio sweep: once a day (a Temporal Schedule), snapshot every institution's loans by
five-category classification with overdue figures, for the regulator's reports."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import business_date
    from workflows import activity_stubs as stub
    from workflows.activity_options import BATCH
    from workflows.contracts import PortfolioSweep, PortfolioSweepResult, WorkflowType

SWEEP_SCHEDULE_ID = "portfolio-sweep"


@workflow.defn(name=WorkflowType.PORTFOLIO_SWEEP)
class PortfolioSweepWorkflow:
    """One day's snapshot; a rerun of the same day replaces that day's figures."""

    @workflow.run
    async def run(self, sweep: PortfolioSweep) -> PortfolioSweepResult:
        as_of = sweep.as_of or business_date(workflow.now())
        return await BATCH.run(stub.snapshot_portfolio(PortfolioSweep(as_of=as_of)))
