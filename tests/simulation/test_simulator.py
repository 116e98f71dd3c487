"""The lifecycle simulator: a bounded set of seeds runs clean, and its checks do catch what
they look for (a planted violation is reported, so the checker cannot silently pass)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from db.models import JournalEntry, JournalLineRow
from db.session import create_engine, create_session_factory
from simulation.invariants import (
    HistoryChecker,
    HumanDecision,
    Tracked,
    check_decisions,
    check_ledger,
    describe,
    work_pending,
)
from simulation.plan import generate_plan
from simulation.runner import run_seed

pytestmark = pytest.mark.integration

SEEDS = (1, 2, 4, 10)  # about 4 minutes on the 2-core CI machine
LOANS = 3
YEARS = 1.0


def test_a_plan_is_a_function_of_its_seed() -> None:
    assert generate_plan(7, 5, 2) == generate_plan(7, 5, 2)
    assert generate_plan(7, 5, 2) != generate_plan(8, 5, 2)
    shrunk = generate_plan(7, 5, 2).without({0})
    assert all(a.loan != 0 for a in shrunk.actions)  # no origination, no actions on the loan


@asynccontextmanager
async def _session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def test_an_unbalanced_journal_is_reported(database_url: str) -> None:
    key = f"planted-{uuid.uuid4().hex[:8]}"
    async with _session(database_url) as session, session.begin():
        entry = JournalEntry(key=key, kind="repayment", memo="planted by the test")
        session.add(entry)
        await session.flush()
        session.add_all(
            [
                JournalLineRow(
                    journal_id=entry.id, account="cash", debit=Decimal("100.00"), credit=0
                ),
                JournalLineRow(
                    journal_id=entry.id,
                    account="loan_principal_receivable",
                    debit=0,
                    credit=Decimal("90.00"),
                ),
            ]
        )
        await session.flush()
        found = await check_ledger(session)
        await session.rollback()  # the shared session database stays clean
    assert [(v.invariant, v.subject) for v in found if v.subject == key] == [
        ("journal_balances", key)
    ]


async def test_a_human_decision_missing_from_the_log_is_reported(database_url: str) -> None:
    decider = uuid.uuid4()
    async with _session(database_url) as session:
        found = await check_decisions(
            session, [HumanDecision("loan-planted", decider, "extension approval")]
        )
    assert [(v.invariant, v.subject) for v in found] == [("human_decision_logged", "loan-planted")]


@workflow.defn(name="SimulatorProbe")
class ProbeWorkflow:
    """An Update handler that breaks after its validator, as defect 3 does."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done, timeout=timedelta(days=1))

    @workflow.update
    async def decide(self) -> None:
        raise AssertionError("state changed since the validator ran")


async def test_a_failed_workflow_task_is_reported(
    time_skipping_env: WorkflowEnvironment, database_url: str
) -> None:
    client = time_skipping_env.client
    queue = f"probe-{uuid.uuid4().hex[:6]}"
    workflow_id = f"loan-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(ProbeWorkflow.run, id=workflow_id, task_queue=queue)
        update = asyncio.ensure_future(handle.execute_update(ProbeWorkflow.decide))
        checker = HistoryChecker(client)
        deadline = time.monotonic() + 20
        while not await checker.failed_tasks_now(workflow_id):
            assert time.monotonic() < deadline, "the failed workflow task never showed"
            await asyncio.sleep(0.2)
        assert not update.done()  # the Update hangs: the handler failed its workflow task
        update.cancel()
        tracked = Tracked(0, uuid.uuid4(), loan_id=uuid.UUID(workflow_id.removeprefix("loan-")))
        async with _session(database_url) as session:
            found, failed = await checker.check(session, [tracked])
        await handle.terminate()
    assert failed >= 1
    assert "no_failed_workflow_task" in {v.invariant for v in found}


async def test_a_workflow_task_nobody_answers_is_in_flight(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The test server holds its clock for a scheduled workflow task but never reports one in
    a description: the simulator reads it from the history, or it would take the held clock
    for a leaked lock and release it with the task in flight."""
    client = time_skipping_env.client
    queue = f"nobody-{uuid.uuid4().hex[:6]}"
    workflow_id = f"loan-{uuid.uuid4()}"
    handle = await client.start_workflow(ProbeWorkflow.run, id=workflow_id, task_queue=queue)
    _status, raw = await describe(client, workflow_id)
    assert not raw.pending_activities
    assert await work_pending(client, workflow_id) == "workflow task"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        deadline = time.monotonic() + 20
        while await work_pending(client, workflow_id):
            assert time.monotonic() < deadline, "the answered task still shows in flight"
            await asyncio.sleep(0.2)
    await handle.terminate()


async def test_seeds_run_without_violations(postgres_server_url: str) -> None:
    """The CI bound: four seeds of three loans over a year, every invariant after each step.
    Between them they take every kind of action: extension requests (two at once) and
    decisions (two officers at once), prepayments both ways, a lost bank answer, bank outages
    with a payment waiting through one, refused disbursements, worker restarts, payoffs."""
    reports = []
    kinds: set[str] = set()
    for seed in SEEDS:
        result = await run_seed(seed, LOANS, YEARS, postgres_server_url)
        reports.append("\n".join(result.report()))
        assert result.loan_years > 0 and result.actions > 0
        kinds |= {outcome.split(":")[0] for outcome in result.outcomes}
    assert all("verdict=PASS" in report for report in reports), "\n".join(reports)
    assert {"request_extension_twice", "decide_extension", "prepay", "bank_outage"} <= kinds
