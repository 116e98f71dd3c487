"""The human-task inbox: list what waits for the caller, and decide it through its workflow."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.schemas import TaskOut
from gateway.deps import CurrentUser, SessionDep, TemporalDep, require_roles
from services import tasks
from services.inputs import NO_NUL
from services.principal import Principal
from services.tasks import DECIDERS, DecisionIn, InboxQuery

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

# Auditors read the inbox; only people who decide cases may claim or decide a task.
Decider = Annotated[Principal, Depends(require_roles(*DECIDERS))]


@router.get("", operation_id="list_tasks", response_model=list[TaskOut])
async def list_tasks(
    user: CurrentUser,
    session: SessionDep,
    state: Annotated[str | None, Query(pattern="^(open|claimed|waiting|done|cancelled)$")] = "open",
    kind: Annotated[str | None, Query(max_length=48, pattern=NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TaskOut]:
    """The caller's inbox, soonest due first."""
    query = InboxQuery(states=(state,) if state else (), kind=kind or "")
    rows = await tasks.inbox(session, user, query, limit=limit, offset=offset)
    return [TaskOut.model_validate(row) for row in rows]


@router.post("/{task_id}/decision", operation_id="decide_task", response_model=TaskOut)
async def decide_task(
    task_id: uuid.UUID,
    body: DecisionIn,
    user: Decider,
    session: SessionDep,
    temporal: TemporalDep,
) -> TaskOut:
    """Decide a task; the workflow's Update validator has the last word on who may decide what."""
    return TaskOut.model_validate(await tasks.decide(session, temporal, user, task_id, body))


@router.post("/{task_id}/claim", operation_id="claim_task", response_model=TaskOut)
async def claim_task(task_id: uuid.UUID, user: Decider, session: SessionDep) -> TaskOut:
    """Take an open task: it shows as yours in the inbox (bookkeeping only: the workflow's
    validators still decide who may decide). Claiming a task someone else holds is refused."""
    return TaskOut.model_validate(await tasks.claim(session, user, task_id))
