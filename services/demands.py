"""Financing demands as the parties see them: who may see a demand, an institution's pending
answers and its answer, following, withdrawing and choosing through the demand workflow."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from db.models import DemandResponse, Enterprise, FinancingDemand
from domain.products import MAX_ANNUAL_RATE
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from services.errors import Refusal, not_found
from services.inputs import DecimalInput, Money, Schema
from services.principal import Principal, require_role
from services.workflow_errors import run_query, run_update
from workflows.contracts import (
    DemandProgress,
    DemandWithdrawal,
    InstitutionAnswer,
    ProductSelection,
    demand_workflow_id,
)

CLOSED_STAGES = frozenset({"selected", "withdrawn", "expired", "no_match"})


IndicativeRate = Annotated[
    Decimal,
    DecimalInput(
        places=6,
        whole_digits=1,
        at_most=MAX_ANNUAL_RATE,
        description='An annual rate as a fraction ("0.0435" is 4.35 %), above 0, at most 24 %',
        refusal=(
            "demand.bad_indicative_rate",
            "意向年利率须在 0 至 24% 之间",
            "An indicative annual rate in (0, 24 %] is required",
        ),
    ),
]


class AnswerIn(Schema):
    """Interested with an indicative rate, or declined with a reason (the demand workflow
    checks both: demand.bad_indicative_rate, demand.reason_required)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"interested": {"const": True}}},
            "then": {
                "required": ["indicative_rate"],
                "properties": {"indicative_rate": {"type": "string"}},
            },
            "else": {"required": ["reason"], "properties": {"reason": {"pattern": r"\S"}}},
        }
    )

    interested: bool
    indicative_rate: IndicativeRate | None = None
    indicative_amount: Money | None = None
    reason: str = Field(default="", max_length=1000)


async def demand_for(
    session: AsyncSession, user: Principal, demand_id: uuid.UUID
) -> FinancingDemand:
    """The demand if the caller may see it: its enterprise, an institution it was sent to,
    or a platform-wide role; otherwise 404."""
    demand = await session.get(FinancingDemand, demand_id)
    if demand is None:
        raise not_found()
    if user.role in PLATFORM_WIDE_READERS or user.enterprise_id == demand.enterprise_id:
        return demand
    if user.role in INSTITUTION_ROLES and user.institution_id is not None:
        sent = await session.scalar(
            select(DemandResponse.id).where(
                DemandResponse.demand_id == demand_id,
                DemandResponse.institution_id == user.institution_id,
            )
        )
        if sent is not None:
            return demand
    raise not_found()


def own_answers_only(user: Principal, progress: DemandProgress) -> DemandProgress:
    """What a lender may see of a shared demand: its own institution's state, never a
    competitor's answer (the enterprise and platform-wide readers see them all)."""
    if user.role not in INSTITUTION_ROLES:
        return progress
    own = [s for s in progress.institutions if sees_institution(user, s.institution_id)]
    return progress.model_copy(update={"institutions": own})


def sees_institution(user: Principal, institution_id: uuid.UUID) -> bool:
    """Whether the caller may see what one institution said or was matched."""
    return user.role not in INSTITUTION_ROLES or institution_id == user.institution_id


async def _update(
    temporal: Client,
    demand_id: uuid.UUID,
    name: str,
    *args: object,
    update_id: str | None = None,
) -> DemandProgress:
    return await run_update(
        temporal,
        demand_workflow_id(demand_id),
        name,
        *args,
        result_type=DemandProgress,
        update_id=update_id,
    )


async def progress(
    session: AsyncSession, temporal: Client, user: Principal, demand_id: uuid.UUID
) -> DemandProgress:
    """The demand workflow's live state, as far as the caller may see it."""
    await demand_for(session, user, demand_id)
    progress = await run_query(temporal, demand_workflow_id(demand_id), "progress", DemandProgress)
    return own_answers_only(user, progress)


async def withdraw(
    session: AsyncSession, temporal: Client, user: Principal, demand_id: uuid.UUID
) -> DemandProgress:
    """Withdraw at any time before choosing; open institution tasks are cancelled."""
    require_role(user, Role.APPLICANT)
    demand = await demand_for(session, user, demand_id)
    if demand.status in CLOSED_STAGES:
        raise Refusal(409, "demand.closed", "该融资需求已结束", "The demand is closed")
    withdrawal = DemandWithdrawal(withdrawn_by=user.user_id, withdrawer_role=user.role.value)
    return await _update(temporal, demand_id, "withdraw", withdrawal)


async def answer(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    demand_id: uuid.UUID,
    body: AnswerIn,
) -> DemandProgress:
    """An institution answers: interested with indicative terms, or declined with a reason."""
    require_role(user, *INSTITUTION_ROLES)
    await demand_for(session, user, demand_id)
    assert user.institution_id is not None
    answer = InstitutionAnswer(
        institution_id=user.institution_id,
        responder_id=user.user_id,
        responder_role=user.role.value,
        interested=body.interested,
        indicative_rate=body.indicative_rate,
        indicative_amount=body.indicative_amount,
        reason=body.reason,
    )
    progress = await _update(
        temporal,
        demand_id,
        "respond",
        answer,
        update_id=f"answer-{demand_id}-{user.institution_id}",
    )
    return own_answers_only(user, progress)


async def select_products(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    demand_id: uuid.UUID,
    product_ids: list[uuid.UUID],
) -> DemandProgress:
    """Choose the products to apply for (the application itself is the next stage)."""
    require_role(user, Role.APPLICANT)
    await demand_for(session, user, demand_id)
    selection = ProductSelection(
        product_ids=product_ids, selected_by=user.user_id, selector_role=user.role.value
    )
    return await _update(temporal, demand_id, "select_products", selection)


def _pending(user: Principal) -> Select[DemandResponse, FinancingDemand, Enterprise]:
    return (
        select(DemandResponse, FinancingDemand, Enterprise)
        .join(FinancingDemand, FinancingDemand.id == DemandResponse.demand_id)
        .join(Enterprise, Enterprise.id == FinancingDemand.enterprise_id)
        .where(
            DemandResponse.institution_id == user.institution_id,
            DemandResponse.status == "pending",
        )
    )


async def pending_count(session: AsyncSession, user: Principal) -> int:
    """How many demands sent to the caller's institution still wait for its answer."""
    require_role(user, *INSTITUTION_ROLES)
    stmt = select(func.count()).select_from(_pending(user).subquery())
    return await session.scalar(stmt) or 0


async def pending(
    session: AsyncSession, user: Principal, *, limit: int, offset: int = 0
) -> list[tuple[DemandResponse, FinancingDemand, Enterprise]]:
    """The demands sent to the caller's institution and not yet answered, soonest due first,
    each with its demand and enterprise."""
    require_role(user, *INSTITUTION_ROLES)
    stmt = _pending(user).order_by(DemandResponse.due_at).limit(limit).offset(offset)
    return [(r, d, e) for r, d, e in (await session.execute(stmt)).all()]
