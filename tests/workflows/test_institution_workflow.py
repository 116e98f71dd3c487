"""InstitutionOnboardingWorkflow on the time-skipping server: result, search attributes, retries."""

from __future__ import annotations

import uuid

from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows.contracts import (
    STATUS,
    InstitutionOnboardingInput,
    InstitutionRecord,
    WorkflowType,
)
from workflows.registry import ALL_WORKFLOWS

REQUEST = InstitutionOnboardingInput(
    code="TS-BANK", name="Time Skipping Bank", kind="bank", requested_by=uuid.uuid4()
)


async def test_onboarding_returns_the_recorded_institution_after_transient_failures(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    attempts: list[int] = []

    @activity.defn(name="record_institution")
    async def flaky_record(request: InstitutionOnboardingInput) -> InstitutionRecord:
        attempts.append(activity.info().attempt)
        if len(attempts) < 3:
            raise RuntimeError("database restarting")
        return InstitutionRecord(
            id=uuid.uuid4(),
            code=request.code,
            name=request.name,
            kind=request.kind,
            status="active",
            decision_hash="ab" * 32,
        )

    queue = f"tq-{uuid.uuid4()}"
    client = time_skipping_env.client
    async with Worker(client, task_queue=queue, workflows=ALL_WORKFLOWS, activities=[flaky_record]):
        handle = await client.start_workflow(
            WorkflowType.INSTITUTION_ONBOARDING,
            REQUEST,
            id=f"institution-{uuid.uuid4()}",
            task_queue=queue,
            result_type=InstitutionRecord,
        )
        record = await handle.result()
        description = await handle.describe()
    assert record.code == "TS-BANK"
    assert attempts == [1, 2, 3]
    assert description.typed_search_attributes.get(STATUS) == "active"


async def test_duplicate_code_fails_without_retrying(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    calls = 0

    @activity.defn(name="record_institution")
    async def duplicate(request: InstitutionOnboardingInput) -> InstitutionRecord:
        nonlocal calls
        calls += 1
        raise ApplicationError("exists", type="DuplicateInstitution", non_retryable=True)

    queue = f"tq-{uuid.uuid4()}"
    client = time_skipping_env.client
    async with Worker(client, task_queue=queue, workflows=ALL_WORKFLOWS, activities=[duplicate]):
        try:
            await client.execute_workflow(
                WorkflowType.INSTITUTION_ONBOARDING,
                REQUEST,
                id=f"institution-{uuid.uuid4()}",
                task_queue=queue,
                result_type=InstitutionRecord,
            )
        except WorkflowFailureError as exc:
            assert isinstance(exc.cause.__cause__ or exc.cause.cause, ApplicationError)  # type: ignore[attr-defined]
        else:
            raise AssertionError("expected the workflow to fail")
    assert calls == 1
