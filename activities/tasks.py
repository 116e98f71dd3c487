"""Activities that open and close human tasks in our own inbox table."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db.base import utcnow
from db.models import HumanTask
from db.repositories import HumanTaskRepository
from domain.lifecycle import TASK, TaskState
from domain.roles import Role
from workflows.contracts import CloseTask, HoldTask, OpenTask, TaskRef


class TaskActivities:
    """The officer inbox is written here when a wait starts and when it ends."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    @activity.defn(name="open_task")
    async def open_task(self, task: OpenTask) -> TaskRef:
        """Create the task once per (workflow, kind, occurrence, institution) — the wait's
        business key, chosen by the workflow; a retry returns the same task."""
        workflow_id = activity.info().workflow_id or task.subject
        async with self.session_factory() as session, session.begin():
            repo = HumanTaskRepository(session)
            existing = await repo.find(workflow_id, task.kind, task.occurrence, task.institution_id)
            if existing is not None:
                return TaskRef(task_id=existing.id)
            row = await repo.add(
                HumanTask(
                    kind=task.kind,
                    workflow_id=workflow_id,
                    round=task.occurrence,
                    subject=task.subject,
                    institution_id=task.institution_id,
                    required_role=task.required_role,
                    due_at=task.due_at,
                    context=dict(task.context),
                )
            )
            return TaskRef(task_id=row.id)

    @activity.defn(name="close_task")
    async def close_task(self, close: CloseTask) -> None:
        async with self.session_factory() as session, session.begin():
            task = await session.get(HumanTask, close.task_id, with_for_update=True)
            if task is None or task.state == TaskState.DONE:
                return
            task.state = TASK.check(task.state, TaskState.DONE)
            task.outcome = close.outcome
            task.assignee_id = close.assignee_id
            task.completed_at = utcnow()

    @activity.defn(name="escalate_task")
    async def escalate_task(self, ref: TaskRef) -> None:
        """An open task past its SLA goes to supervisors and is marked escalated."""
        async with self.session_factory() as session, session.begin():
            task = await session.get(HumanTask, ref.task_id, with_for_update=True)
            if task is None or task.state == TaskState.DONE:
                return
            task.required_role = Role.SUPERVISOR.value
            task.context = {**task.context, "escalated": "true"}

    @activity.defn(name="hold_task")
    async def hold_task(self, hold: HoldTask) -> None:
        """A task waits for the applicant's answer, or comes back to the officer who asked."""
        async with self.session_factory() as session, session.begin():
            task = await session.get(HumanTask, hold.task_id, with_for_update=True)
            if task is None or task.state == TaskState.DONE:
                return
            task.state = TASK.check(task.state, hold.state)
            task.assignee_id = hold.assignee_id
            if hold.due_at is not None:
                task.due_at = hold.due_at
