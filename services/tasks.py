"""The human-task inbox: which tasks a caller sees, claiming one, and deciding it through the
workflow that waits on it (or, for an early-warning alert, by recording the follow-up)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from db.base import utcnow
from db.models import FinancingDemand, HumanTask
from db.repositories import DecisionLog
from domain.disclosure import ConsentScope, amount_band
from domain.errors import issue
from domain.lifecycle import TASK, TaskState
from domain.products import MAX_ANNUAL_RATE
from domain.roles import INSTITUTION_ROLES, Role
from services.errors import Refusal, not_found
from services.inputs import DecimalInput, Money, Schema, ServerRule, server_rules
from services.principal import Principal, require_role
from services.privacy import detached_copy, disclosures
from services.workflow_errors import refusal_from_workflow, run_query
from workflows.contracts import (
    ApplicationProgress,
    CreditAction,
    CreditDecision,
    ExtensionDecision,
    ReviewDecision,
)

# The inbox answers with the task rows themselves (front ends read, never write, them).
Task = HumanTask

# Auditors read the inbox; only people who decide cases may claim or decide a task.
DECIDERS = (Role.OFFICER, Role.SUPERVISOR, Role.PLATFORM_ADMIN)
OPEN_STATES = (TaskState.OPEN, TaskState.CLAIMED)


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
    raise Refusal(403, "auth.role_not_allowed", "当前角色没有任务收件箱", "Your role has no inbox")


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """Which of the caller's tasks: of these states (all when empty), of a kind (any when
    empty), and by SLA — ``overdue``, ``due24h``, ``later`` (any when empty)."""

    states: tuple[str, ...] = ("open",)
    kind: str = ""
    sla: str = ""


def _inbox(user: Principal, query: InboxQuery, now: datetime) -> Select[Any]:
    stmt = _visible(select(HumanTask), user)
    if query.states:
        stmt = stmt.where(HumanTask.state.in_(query.states))
    if query.kind:
        stmt = stmt.where(HumanTask.kind == query.kind)
    if query.sla == "overdue":
        stmt = stmt.where(HumanTask.due_at < now)
    elif query.sla == "due24h":
        stmt = stmt.where(HumanTask.due_at >= now, HumanTask.due_at < now + timedelta(hours=24))
    elif query.sla == "later":
        stmt = stmt.where(HumanTask.due_at >= now + timedelta(hours=24))
    return stmt


async def inbox(
    session: AsyncSession,
    user: Principal,
    query: InboxQuery,
    *,
    limit: int,
    offset: int = 0,
    now: datetime | None = None,
) -> list[HumanTask]:
    """The caller's tasks, soonest due first (403 for a role without an inbox)."""
    stmt = _inbox(user, query, now or utcnow())
    stmt = stmt.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at)
    return await disclosed(
        session, user, list(await session.scalars(stmt.limit(limit).offset(offset)))
    )


def _demand_of(task: HumanTask) -> uuid.UUID | None:
    """The demand an institution's answer task is about (None for any other task)."""
    kind, _, ident = task.subject.partition("-")
    if task.kind != "demand_response" or kind != "demand":
        return None
    try:
        return uuid.UUID(ident)
    except ValueError:
        return None


async def disclosed(
    session: AsyncSession, user: Principal, rows: list[HumanTask]
) -> list[HumanTask]:
    """The tasks as the caller may read them: an answer task carries its demand's exact amount
    and purpose, which stay withheld (the amount band in their place) while the demand is
    anonymous to the caller (``services.demands.DemandCard``, ``services.privacy.disclosures``)."""
    demands = {d for task in rows if (d := _demand_of(task))}
    if not demands:
        return rows
    found = await session.execute(
        select(FinancingDemand.id, FinancingDemand.enterprise_id).where(
            FinancingDemand.id.in_(demands)
        )
    )
    owners = {demand_id: enterprise_id for demand_id, enterprise_id in found}
    scopes = await disclosures(session, user, set(owners.values()))
    shown: list[HumanTask] = []
    for task in rows:
        demand = _demand_of(task)
        owner = owners.get(demand) if demand is not None else None
        if owner is None or ConsentScope.PROFILE in scopes[owner]:
            shown.append(task)
            continue
        context = {k: v for k, v in task.context.items() if k not in ("amount", "purpose")}
        if "amount" in task.context:
            context["amount_band"] = amount_band(Decimal(str(task.context["amount"])))
        shown.append(detached_copy(task, context=context))
    return shown


async def inbox_count(
    session: AsyncSession, user: Principal, query: InboxQuery, *, now: datetime | None = None
) -> int:
    """How many tasks ``inbox`` would list without a limit."""
    stmt = _inbox(user, query, now or utcnow())
    return await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


async def task_for(
    session: AsyncSession, user: Principal, task_id: uuid.UUID, *, for_update: bool = False
) -> HumanTask:
    """One task the caller sees (404 for any other)."""
    stmt = _visible(select(HumanTask), user).where(HumanTask.id == task_id)
    task: HumanTask | None = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if task is None:
        raise not_found()
    if for_update:  # to be changed and written back: whole (the caller answers with it read anew)
        return task
    (shown,) = await disclosed(session, user, [task])
    return shown


async def claim(session: AsyncSession, user: Principal, task_id: uuid.UUID) -> HumanTask:
    """Take an open task: it shows as the caller's in the inbox (bookkeeping only: the
    workflow's validators still decide who may decide). Someone else's is refused."""
    require_role(user, *DECIDERS)
    task = await task_for(session, user, task_id, for_update=True)
    if task.state not in OPEN_STATES:
        raise Refusal(409, "task.not_open", "该任务当前不可认领", "The task cannot be claimed now")
    if task.assignee_id not in (None, user.user_id):
        raise Refusal(409, "task.claimed_by_other", "该任务已被他人认领", "Someone else holds it")
    task.state, task.assignee_id = TASK.check(task.state, TaskState.CLAIMED), user.user_id
    await session.commit()
    (shown,) = await disclosed(session, user, [task])
    return shown


async def decide(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    task_id: uuid.UUID,
    body: DecisionIn,
) -> HumanTask:
    """Decide a task; the workflow's Update validator has the last word on who may decide
    what. The read transaction ends before the workflow is called."""
    require_role(user, *DECIDERS)
    task = await task_for(session, user, task_id)
    if task.state == TaskState.DONE:
        raise Refusal(409, "task.already_decided", "该任务已处理", "The task is already decided")
    if task.kind == "early_warning":  # issue 7: a post-loan alert, no workflow waits on it
        return await close_early_warning(session, task, user, body.approves, body.reason)
    await session.commit()  # the connection goes back to the pool while Temporal decides
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
        raise Refusal(
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
        raise refusal_from_workflow(exc) from exc
    await session.refresh(task)
    decided: HumanTask = task
    return decided


async def tasks_of_workflow(session: AsyncSession, workflow_id: str) -> list[HumanTask]:
    """Every task of one workflow, newest first (the caller has checked it may see the case)."""
    stmt = (
        select(HumanTask)
        .where(HumanTask.workflow_id == workflow_id)
        .order_by(HumanTask.created_at.desc())
    )
    return list(await session.scalars(stmt))


async def close_early_warning(
    session: AsyncSession, task: HumanTask, user: Principal, approve: bool, note: str
) -> HumanTask:
    """Close an early-warning task (贷后预警任务, issue 7): no workflow waits on it, so the
    officer's follow-up is recorded here, in the decision log. ``approve``: the borrower was
    checked and the alert is cleared (``acknowledged``); otherwise it stays open for the
    supervisors (``escalated``). A note is required."""
    if not note.strip():
        raise Refusal(
            422,
            "validation.failed",
            "请填写贷后跟进说明",
            "A follow-up note is required",
            [issue("reason", "field.required", "请填写贷后跟进说明", "Write the follow-up note")],
        )
    row = await session.scalar(select(HumanTask).where(HumanTask.id == task.id).with_for_update())
    assert row is not None
    if row.state == TaskState.DONE:
        raise Refusal(409, "task.already_decided", "该任务已处理", "The task is already decided")
    outcome = "acknowledged" if approve else "escalated"
    row.context = {**row.context, "note": note.strip()[:500]}
    if approve:
        row.state, row.outcome = TASK.check(row.state, TaskState.DONE), outcome
        row.assignee_id, row.completed_at = user.user_id, utcnow()
    else:  # the alert stays open, for a supervisor
        row.state, row.assignee_id = TASK.check(row.state, TaskState.OPEN), None
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
