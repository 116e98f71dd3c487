"""Updates of LoanApplicationWorkflow that race: two are validated against the same state
and only then handled, one after the other. The handler checks again and refuses the one that
lost (ApplicationError, the validator's code); the workflow task never fails.

To make the race certain, the Updates are sent while no worker runs, so the next worker gets
them in one workflow activation; and a workflow interceptor yields once between each
validator and its handler (as a tracing interceptor may): the Python SDK otherwise runs an
Update's handler up to its first ``await`` right after its validator, and the handlers of
today mutate before any await — the window would exist, but not show."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from domain.roles import Role
from tests.workflows.test_application_workflow import (
    APPLICANT,
    INSTITUTION_ID,
    LETTER_SHA,
    OFFICER,
    REQUESTED,
    SUPERVISOR,
    TERM,
    Application,
    FakeApplicationActivities,
    LoanServicingStandIn,
    _assessment,
)
from tests.workflows.test_demand_workflow import _eventually
from workflows.application import LoanApplicationWorkflow
from workflows.contracts import (
    Acceptance,
    ApplicationInput,
    ApplicationProgress,
    CreditDecision,
    Withdrawal,
    WorkflowType,
    application_workflow_id,
    documents_queue,
)


class _YieldBeforeHandler(WorkflowInboundInterceptor):
    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        await asyncio.sleep(0)  # the other Updates of the activation are validated meanwhile
        return await super().handle_update_handler(input)


class YieldBetweenValidatorAndHandler(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _YieldBeforeHandler


class Stack:
    """Workers on one task queue that can be stopped and started again."""

    def __init__(self, env: WorkflowEnvironment, fake: FakeApplicationActivities) -> None:
        self.env, self.fake, self.queue = env, fake, f"tq-{uuid.uuid4()}"
        self.stack: AsyncExitStack | None = None

    async def start(self) -> None:
        if self.stack is not None:
            return  # running
        self.stack = AsyncExitStack()
        # A connection of its own: a client registers one worker per task queue, and a
        # stopped worker's registration may outlive it a moment.
        client = await Client.connect(
            self.env.client.service_client.config.target_host,
            namespace=self.env.client.namespace,
            data_converter=self.env.client.data_converter,
        )
        # No workflow cache: no sticky queue, so a later worker gets the next task at once.
        for worker in (
            Worker(
                client,
                task_queue=self.queue,
                workflows=[LoanApplicationWorkflow, LoanServicingStandIn],
                activities=self.fake.all(),
                max_cached_workflows=0,
                interceptors=[YieldBetweenValidatorAndHandler()],
            ),
            Worker(client, task_queue=documents_queue(self.queue), activities=self.fake.all()),
        ):
            await self.stack.enter_async_context(worker)

    async def stop(self) -> None:
        if self.stack is not None:
            await self.stack.aclose()
            self.stack = None


@asynccontextmanager
async def stopped_worker(
    env: WorkflowEnvironment, fake: FakeApplicationActivities, stage: str
) -> AsyncIterator[tuple[Application, Stack]]:
    """An application brought to ``stage`` (its notices sent), then its worker stopped."""
    stack = Stack(env, fake)
    await stack.start()
    submitted = ApplicationInput(
        application_id=uuid.uuid4(),
        enterprise_id=uuid.uuid4(),
        product_id=uuid.uuid4(),
        product_version=3,
        institution_id=INSTITUTION_ID,
        amount=REQUESTED,
        term_months=TERM,
        repayment_method="equal_installments",
    )
    handle: WorkflowHandle[Any, ApplicationProgress] = await env.client.start_workflow(
        WorkflowType.LOAN_APPLICATION,
        submitted,
        id=application_workflow_id(submitted.application_id),
        task_queue=stack.queue,
        result_type=ApplicationProgress,
    )
    case = Application(env=env, fake=fake, handle=handle, application=submitted)
    try:
        await case.wait_for_stage(stage)
        notice = {"in_review": "application_in_review", "offered": "application_offered"}[stage]
        await _eventually(lambda: notice in fake.templates(), f"{notice} sent")
        await stack.stop()
        yield case, stack
    finally:
        await stack.start()
        try:
            await case.stop()
        finally:
            await stack.stop()


async def _outcome(call: Awaitable[ApplicationProgress]) -> ApplicationProgress | ApplicationError:
    try:
        return await call
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        assert isinstance(cause, ApplicationError), cause
        return cause


async def _at_once(
    stack: Stack, *calls: Awaitable[ApplicationProgress]
) -> list[ApplicationProgress | ApplicationError]:
    """Send the Updates in this order while no worker runs, then start one: one workflow task
    carries them all, so every validator runs before the first handler."""
    pending = []
    for call in calls:
        pending.append(asyncio.ensure_future(_outcome(call)))
        await asyncio.sleep(0.5)  # admitted by the server, waiting for a worker
    await stack.start()
    return list(await asyncio.gather(*pending))


async def _failed_workflow_tasks(handle: WorkflowHandle[Any, Any]) -> int:
    return len(
        [
            event
            async for event in handle.fetch_history_events()
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        ]
    )


def _decision(decider: uuid.UUID, role: Role, *, approve: bool) -> CreditDecision:
    return CreditDecision(
        approve=approve,
        reason="" if approve else "cash flow too thin",
        decider_id=decider,
        decider_role=role.value,
        decider_institution_id=INSTITUTION_ID,
    )


async def test_two_officers_deciding_at_once_one_wins_the_other_is_refused_and_the_case_goes_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("refer"))
    async with stopped_worker(time_skipping_env, fake, "in_review") as (case, stack):
        approve = case.update("decide_credit", _decision(OFFICER, Role.OFFICER, approve=True))
        decline = case.update(
            "decide_credit", _decision(SUPERVISOR, Role.SUPERVISOR, approve=False)
        )
        outcomes = await _at_once(stack, approve, decline)
        won = [o for o in outcomes if isinstance(o, ApplicationProgress)]
        lost = [o for o in outcomes if isinstance(o, ApplicationError)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        # The case goes on with the winner's decision: here the offer, then its acceptance.
        offered = await case.wait_for_stage("offered")
        accepted = await case.accept()
        result = await case.result()
        failed_tasks = await _failed_workflow_tasks(case.handle)
    assert won[0].stage == "offered" and won[0].approvals == 1
    assert lost[0].type == "credit.not_pending"
    assert offered.approvals == 1
    assert (accepted.stage, result.stage) == ("disbursing", "disbursed")
    assert failed_tasks == 0
    # Only the winner's decision is in the log, naming them; the loser decided nothing.
    logged = [d for stage in fake.stages for d in stage.decisions]
    assert [(d.actor, d.kind) for d in logged] == [(f"user:{OFFICER}", "credit.approved")]
    assert fake.closed_tasks[0].outcome == "approved"


async def test_withdrawal_racing_an_acceptance_is_refused_once_the_offer_is_accepted(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("auto_approve"))
    async with stopped_worker(time_skipping_env, fake, "offered") as (case, stack):
        acceptance = Acceptance(
            accepted_by=APPLICANT,
            typed_name="Li Wei",
            sealed_account="sealed:account",
            document_sha256=LETTER_SHA,
            code="123456",
        )
        outcomes = await _at_once(
            stack,
            case.update("accept_offer", acceptance),
            case.update("withdraw", Withdrawal(withdrawn_by=APPLICANT, role="applicant")),
        )
        result = await case.result()
        failed_tasks = await _failed_workflow_tasks(case.handle)
    accepted, withdrawal = outcomes
    assert isinstance(accepted, ApplicationProgress) and accepted.stage == "disbursing"
    assert isinstance(withdrawal, ApplicationError)
    assert withdrawal.type == "application.closed"
    assert result.stage == "disbursed"
    assert fake.disbursements == [fake.loan_id]
    assert "withdrawn" not in fake.stage_names()
    assert failed_tasks == 0
