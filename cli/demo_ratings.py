"""Demo data for post-loan credit ratings (issue 21): one re-rating run over the demo's active
loans (scored by the model the worker serves then: it reads a new promotion within
``MODEL_REFRESH_S``), so the officer's loan and case pages show a rating history and any early
warning it raised."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from config.settings import Settings
from config.temporal import connect_temporal
from domain.calendar import business_today
from workflows.contracts import TaskQueue, WorkflowType
from workflows.rerating_contracts import RerateRun, RerateSummary


async def _rerate(settings: Settings) -> RerateSummary:
    client = await connect_temporal(settings)
    today = business_today()
    summary: RerateSummary = await client.execute_workflow(
        WorkflowType.CREDIT_RERATING,
        RerateRun(as_of=today),
        id=f"credit-rerating-demo-{today.isoformat()}",
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
        result_type=RerateSummary,
    )
    return summary


def seed_ratings(settings: Settings, temporal_address: str) -> Iterator[str]:
    """Run this month's re-rating now (the Schedule runs it on the 2nd of each month)."""
    summary = asyncio.run(
        _rerate(settings.model_copy(update={"temporal_address": temporal_address}))
    )
    yield f"re-rating: {summary.rated} loan(s) rated, {summary.alerts} early warning(s)"
