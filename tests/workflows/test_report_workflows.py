"""RegulatoryReportWorkflow and TransactionMonitoringWorkflow on the time-skipping server: the
scheduled run reports on the last complete period (Beijing time), a given period is kept, and
a bad period fails without retries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.reports import Period, ReportKind
from workflows.contracts import WorkflowType
from workflows.registry import ALL_WORKFLOWS
from workflows.reporting_contracts import (
    ArchivedReport,
    GenerateReport,
    MonitoringResult,
    MonitoringRun,
)

requests: list[GenerateReport] = []


@activity.defn(name="generate_report")
async def fake_generate(request: GenerateReport) -> ArchivedReport:
    requests.append(request)
    assert request.period_start is not None
    if request.period_start.day != 1:
        raise ApplicationError("not a period start", type="InvalidPeriod", non_retryable=True)
    period = Period.of(ReportKind(request.kind), request.period_start)
    return ArchivedReport(
        report_id=uuid.uuid4(),
        kind=request.kind,
        period_start=period.start,
        period_end=period.end,
        version=1,
        sha256="a" * 64,
        pdf_sha256="b" * 64,
        csv_sha256="c" * 64,
        json_sha256="d" * 64,
    )


@activity.defn(name="run_transaction_monitoring")
async def fake_monitoring(run: MonitoringRun) -> MonitoringResult:
    assert run.as_of is not None
    return MonitoringResult(as_of=run.as_of, findings=2, new_alerts=1, by_rule={"structuring": 1})


async def _run(env: WorkflowEnvironment, workflow: str, arg: object, result_type: type) -> object:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=ALL_WORKFLOWS,
        activities=[fake_generate, fake_monitoring],
    ):
        return await env.client.execute_workflow(
            workflow, arg, id=f"test-{uuid.uuid4()}", task_queue=queue, result_type=result_type
        )


async def test_a_scheduled_quarterly_report_covers_the_last_complete_quarter(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    now = await time_skipping_env.get_current_time()
    result = await _run(
        time_skipping_env,
        WorkflowType.REGULATORY_REPORT,
        GenerateReport(kind="quarterly"),
        ArchivedReport,
    )
    beijing_today = (now.astimezone(UTC) + timedelta(hours=8)).date()
    expected = Period.previous(ReportKind.QUARTERLY, beijing_today)
    assert isinstance(result, ArchivedReport)
    assert (result.period_start, result.period_end) == (expected.start, expected.end)
    assert requests[-1].requested_by == "schedule"


async def test_a_requested_period_is_kept_and_a_bad_one_fails_at_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    result = await _run(
        time_skipping_env,
        WorkflowType.REGULATORY_REPORT,
        GenerateReport(kind="monthly", period_start=date(2026, 3, 1), requested_by="user:x"),
        ArchivedReport,
    )
    assert isinstance(result, ArchivedReport) and result.period_end == date(2026, 4, 1)
    before = len(requests)
    with pytest.raises(WorkflowFailureError):
        await _run(
            time_skipping_env,
            WorkflowType.REGULATORY_REPORT,
            GenerateReport(kind="monthly", period_start=date(2026, 3, 2)),
            ArchivedReport,
        )
    assert len(requests) == before + 1  # non-retryable: one attempt only


async def test_monitoring_runs_as_of_today_in_beijing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    now = await time_skipping_env.get_current_time()
    result = await _run(
        time_skipping_env, WorkflowType.TRANSACTION_MONITORING, MonitoringRun(), MonitoringResult
    )
    assert isinstance(result, MonitoringResult) and result.new_alerts == 1
    assert result.as_of == (now.astimezone(UTC) + timedelta(hours=8)).date()
