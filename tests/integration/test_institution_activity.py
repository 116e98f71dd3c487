"""record_institution against PostgreSQL: a retry after a crash writes nothing twice."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.institutions import InstitutionActivities
from activities.tasks import TaskActivities
from db.models import DecisionLogEntry, HumanTask, Institution
from db.repositories import UserRepository
from tests.integration.conftest import Platform
from workflows.contracts import InstitutionOnboardingInput, OpenTask


def _env(workflow_id: str) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = env.info.__class__(**{**env.info.__dict__, "workflow_id": workflow_id})
    return env


async def test_retry_of_record_institution_is_idempotent(platform: Platform) -> None:
    code = f"IDEM-{uuid.uuid4().hex[:6].upper()}"
    async with platform.sessions() as session:
        admin = await UserRepository(session).by_username(platform.admin_username)
    assert admin is not None
    request = InstitutionOnboardingInput(code=code, name="Idem", kind="bank", requested_by=admin.id)
    activities = InstitutionActivities(platform.sessions)
    env = _env(f"institution-{code}")

    first = await env.run(activities.record_institution, request)
    second = await env.run(activities.record_institution, request)  # the worker died, retried

    assert first.id == second.id and first.decision_hash == second.decision_hash
    async with platform.sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(Institution).where(Institution.code == code)
        )
        entries = await session.scalar(
            select(func.count())
            .select_from(DecisionLogEntry)
            .where(DecisionLogEntry.subject == f"institution-{code}")
        )
    assert (rows, entries) == (1, 1)

    with pytest.raises(ApplicationError) as caught:
        await _env("institution-someone-else").run(activities.record_institution, request)
    assert caught.value.type == "DuplicateInstitution" and caught.value.non_retryable


async def test_escalating_a_task_hands_it_to_supervisors(platform: Platform) -> None:
    tasks = TaskActivities(platform.sessions)
    env = _env(f"application-{uuid.uuid4()}")
    ref = await env.run(
        tasks.open_task,
        OpenTask(
            kind="credit_approval",
            subject="application-x",
            required_role="officer",
            due_at=None,
            context={"authority": "officer"},
        ),
    )
    await env.run(tasks.escalate_task, ref)
    async with platform.sessions() as session:
        task = await session.get(HumanTask, ref.task_id)
    assert task is not None
    assert (task.required_role, task.context["escalated"], task.state) == (
        "supervisor",
        "true",
        "open",
    )
