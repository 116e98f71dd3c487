"""Closing an early-warning task (贷后预警任务, issue 7): no workflow waits on it, so the
officer's follow-up is recorded here — the task is done with a note, in the decision log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from db.base import utcnow
from db.models import HumanTask
from db.repositories import DecisionLog
from domain.errors import issue
from services.principal import Principal


async def close_early_warning(
    session: AsyncSession, task: HumanTask, user: Principal, approve: bool, note: str
) -> HumanTask:
    """``approve``: the borrower was checked and the alert is cleared (``acknowledged``);
    otherwise it stays open for the supervisors (``escalated``). A note is required."""
    if not note.strip():
        raise ApiError(
            422,
            "validation.failed",
            "请填写贷后跟进说明",
            "A follow-up note is required",
            [issue("reason", "field.required", "请填写贷后跟进说明", "Write the follow-up note")],
        )
    row = await session.scalar(select(HumanTask).where(HumanTask.id == task.id).with_for_update())
    assert row is not None
    if row.state == "done":
        raise ApiError(409, "task.already_decided", "该任务已处理", "The task is already decided")
    outcome = "acknowledged" if approve else "escalated"
    row.context = {**row.context, "note": note.strip()[:500]}
    if approve:
        row.state, row.outcome = "done", outcome
        row.assignee_id, row.completed_at = user.user_id, utcnow()
    else:  # the alert stays open, for a supervisor
        row.state, row.assignee_id = "open", None
        row.required_role = "supervisor"
        row.context = {**row.context, "escalated": "true"}
    await DecisionLog(session).append(
        actor=user.actor,
        kind=f"early_warning.{outcome}",
        subject=row.subject,
        payload={"task_id": str(row.id), "outcome": outcome},
        note=note.strip()[:500],
    )
    await session.commit()
    return row
