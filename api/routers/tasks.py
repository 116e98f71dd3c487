"""The human-task inbox: list what waits for the caller, and decide it through its workflow."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import ConfigDict, Field
from sqlalchemy import Select, select

from api.early_warning import close_early_warning
from api.errors import ApiError
from api.schemas import Schema, TaskOut
from api.workflow_errors import api_error_from_workflow, run_query
from db.models import HumanTask
from domain.products import MAX_ANNUAL_RATE
from domain.roles import INSTITUTION_ROLES, Role
from gateway.deps import CurrentUser, SessionDep, TemporalDep, release_connection, require_roles
from services.inputs import NO_NUL, DecimalInput, Money, ServerRule, server_rules
from services.principal import Principal
from workflows.contracts import (
    ApplicationProgress,
    CreditAction,
    CreditDecision,
    ExtensionDecision,
    ReviewDecision,
)

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

# Auditors read the inbox; only people who decide cases may claim or decide a task.
Decider = Annotated[
    Principal, Depends(require_roles(Role.OFFICER, Role.SUPERVISOR, Role.PLATFORM_ADMIN))
]


# What a decision must hold depends on the kind of the task it decides (a record the server
# holds) and on the case behind it: the workflow deciding it checks these.
_DECISION_RULES = (
    ("reason", "review.reason_required", "a verification review that rejects gives a reason"),
    ("reason", "credit.reason_required", "a credit decision that declines gives a reason"),
    ("question", "credit.question_required", "request_info asks a question"),
    ("amount", "credit.counter_offer_unchanged", "a counter-offer changes amount, term or rate"),
    ("amount", "credit.bad_amount", "at most the amount the application asked for"),
    ("amount", "credit.amount_below_product", "at least the product's minimum amount"),
    ("term_months", "credit.term_outside_product", "within the product's terms"),
    ("rate", "credit.bad_rate", f"a credit decision's rate is at most {MAX_ANNUAL_RATE:%}"),
    ("rate", "credit.rate_outside_product", "within the product's rate range"),
    ("kind", "task.unsupported_kind", "a task of a kind decided here"),
)


class DecisionIn(Schema):
    """A decision: ``approve`` true/false, or an ``action`` (credit tasks also take
    ``request_info`` with a ``question`` and ``counter_offer`` with new terms)."""

    model_config = ConfigDict(
        json_schema_extra=server_rules(*(ServerRule(*rule) for rule in _DECISION_RULES))
    )

    approve: bool = False
    action: CreditAction | None = None
    reason: str = Field(default="", max_length=500)
    question: str = Field(default="", max_length=500)
    amount: Money | None = None
    rate: (
        Annotated[
            Decimal,
            DecimalInput(
                places=6,
                whole_digits=3,
                below=Decimal(1),
                description='An annual rate as a fraction ("0.0435" is 4.35 %), above 0',
            ),
        ]
        | None
    ) = None
    term_months: int | None = Field(default=None, ge=1, le=600)

    @property
    def approves(self) -> bool:
        """``action`` when given, else ``approve``."""
        return self.approve if self.action is None else self.action is CreditAction.APPROVE


def _visible(stmt: Select[Any], user: Principal) -> Select[Any]:
    """Staff see their institution's tasks; platform admins the platform's; auditors all."""
    if user.role in (Role.COMPLIANCE, Role.REGULATOR):
        return stmt
    if user.role is Role.PLATFORM_ADMIN:
        return stmt.where(HumanTask.institution_id.is_(None))
    if user.role in INSTITUTION_ROLES and user.institution_id is not None:
        return stmt.where(HumanTask.institution_id == user.institution_id)
    raise ApiError(403, "auth.role_not_allowed", "当前角色没有任务收件箱", "Your role has no inbox")


@router.get("", operation_id="list_tasks", response_model=list[TaskOut])
async def list_tasks(
    user: CurrentUser,
    session: SessionDep,
    state: Annotated[str | None, Query(pattern="^(open|claimed|waiting|done|cancelled)$")] = "open",
    kind: Annotated[str | None, Query(max_length=48, pattern=NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[HumanTask]:
    """The caller's inbox, soonest due first."""
    stmt = _visible(select(HumanTask), user)
    if state:
        stmt = stmt.where(HumanTask.state == state)
    if kind:
        stmt = stmt.where(HumanTask.kind == kind)
    stmt = stmt.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at)
    return list(await session.scalars(stmt.limit(limit).offset(offset)))


@router.post("/{task_id}/decision", operation_id="decide_task", response_model=TaskOut)
async def decide_task(
    task_id: uuid.UUID,
    body: DecisionIn,
    user: Decider,
    session: SessionDep,
    temporal: TemporalDep,
) -> HumanTask:
    """Decide a task; the workflow's Update validator has the last word on who may decide what."""
    task = await session.scalar(_visible(select(HumanTask), user).where(HumanTask.id == task_id))
    if task is None:
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    if task.state == "done":
        raise ApiError(409, "task.already_decided", "该任务已处理", "The task is already decided")
    if task.kind == "early_warning":  # issue 7: a post-loan alert, no workflow waits on it
        return await close_early_warning(session, task, user, body.approves, body.reason)
    await release_connection(session)
    handle = temporal.get_workflow_handle(task.workflow_id)
    update: tuple[str, Any]
    round_ = 0
    if task.kind == "verification_review":
        update = (
            "decide_review",
            ReviewDecision(
                task_id=task.id,
                approve=body.approve,
                reason=body.reason,
                reviewer_id=user.user_id,
                reviewer_role=user.role.value,
            ),
        )
    elif task.kind == "credit_approval":
        update = (
            "decide_credit",
            CreditDecision(
                approve=body.approves,
                action=body.action,
                reason=body.reason,
                question=body.question,
                decider_id=user.user_id,
                decider_role=user.role.value,
                decider_institution_id=user.institution_id,
                amount=body.amount,
                rate=body.rate,
                term_months=body.term_months,
            ),
        )
        # The same officer decides again after the applicant answers: one id per round.
        progress = await run_query(temporal, task.workflow_id, "progress", ApplicationProgress)
        round_ = progress.review_round
    elif task.kind == "extension_approval":
        update = (
            "decide_extension",
            ExtensionDecision(
                approve=body.approves,
                reason=body.reason,
                decider_id=user.user_id,
                decider_role=user.role.value,
                decider_institution_id=user.institution_id,
            ),
        )
    else:
        raise ApiError(
            422,
            "task.unsupported_kind",
            "该类任务不在此处理",
            "This kind of task is not decided here",
        )
    try:
        # One decision per person per task: a retried request is deduplicated by Temporal.
        await handle.execute_update(
            update[0], update[1], id=f"decide-{task.id}-{user.user_id}-{round_}"
        )
    except Exception as exc:
        raise api_error_from_workflow(exc) from exc
    await session.refresh(task)
    decided: HumanTask = task
    return decided


@router.post("/{task_id}/claim", operation_id="claim_task", response_model=TaskOut)
async def claim_task(task_id: uuid.UUID, user: Decider, session: SessionDep) -> HumanTask:
    """Take an open task: it shows as yours in the inbox (bookkeeping only: the workflow's
    validators still decide who may decide). Claiming a task someone else holds is refused."""
    task: HumanTask | None = await session.scalar(
        _visible(select(HumanTask), user).where(HumanTask.id == task_id).with_for_update()
    )
    if task is None:
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    if task.state not in ("open", "claimed"):
        raise ApiError(409, "task.not_open", "该任务当前不可认领", "The task cannot be claimed now")
    if task.assignee_id not in (None, user.user_id):
        raise ApiError(409, "task.claimed_by_other", "该任务已被他人认领", "Someone else holds it")
    task.state, task.assignee_id = "claimed", user.user_id
    await session.commit()
    return task
