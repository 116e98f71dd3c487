"""Regulatory reports: monthly and quarterly (Temporal Schedules) or on demand, each run
archives a new immutable version of its period's report."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import business_date
    from domain.reports import Period, ReportKind
    from workflows import activity_stubs as stub
    from workflows.activity_options import BATCH
    from workflows.contracts import WorkflowType
    from workflows.reporting_contracts import ArchivedReport, GenerateReport


@workflow.defn(name=WorkflowType.REGULATORY_REPORT)
class RegulatoryReportWorkflow:
    """Resolve the period (the last complete one when none is given) and archive the report."""

    @workflow.run
    async def run(self, request: GenerateReport) -> ArchivedReport:
        kind = ReportKind(request.kind)
        start = request.period_start
        if start is None:
            start = Period.previous(kind, business_date(workflow.now())).start
        return await BATCH.variant(refusing=("InvalidPeriod",)).run(
            stub.generate_report(
                GenerateReport(
                    kind=kind.value, period_start=start, requested_by=request.requested_by
                )
            )
        )
