"""Support policies: platform admins publish (and the push workflow tells enterprises)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy import select

from api.deps import CurrentUser, Principal, SessionDep, SettingsDep, TemporalDep, require_roles
from api.schemas import PolicyOut, Schema
from db.models import SupportPolicy as PolicyRow
from domain.errors import BusinessRuleError
from domain.policies import EnterpriseSize, SupportPolicy, validate_policy
from domain.product_codec import policy_to_json
from domain.roles import Role
from workflows.contracts import PolicyRef, TaskQueue, WorkflowType

router = APIRouter(prefix="/api/v1/policies", tags=["policies"])
PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]


class PolicyIn(Schema):
    title: str = Field(min_length=2, max_length=200)
    issuer: str = Field(min_length=2, max_length=200)
    regions: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    sizes: list[EnterpriseSize] = Field(default_factory=list)
    interest_subsidy_rate: Decimal = Field(default=Decimal(0), max_digits=7, decimal_places=4)
    subsidy_cap_per_year: Decimal | None = Field(default=None, max_digits=18, decimal_places=2)
    guarantee_fee_subsidy_rate: Decimal = Field(default=Decimal(0), max_digits=7, decimal_places=4)
    valid_from: date
    valid_until: date | None = None


@router.post("", operation_id="publish_policy", response_model=PolicyOut, status_code=201)
async def publish_policy(
    body: PolicyIn,
    admin: PlatformAdmin,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> PolicyRow:
    """Publish a policy; a workflow then pushes it to every enterprise it fits."""
    policy_id = uuid.uuid4()
    policy = SupportPolicy(
        policy_id=str(policy_id),
        title=body.title,
        issuer=body.issuer,
        regions=frozenset(body.regions),
        industries=frozenset(body.industries),
        sizes=frozenset(body.sizes),
        interest_subsidy_rate=body.interest_subsidy_rate,
        subsidy_cap_per_year=body.subsidy_cap_per_year,
        guarantee_fee_subsidy_rate=body.guarantee_fee_subsidy_rate,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    problems = validate_policy(policy)
    if problems:
        raise BusinessRuleError(problems)
    row = PolicyRow(
        id=policy_id,
        title=body.title,
        issuer=body.issuer,
        terms=policy_to_json(policy),
        published_by=admin.user_id,
        workflow_id=f"policy-{policy_id}",
    )
    session.add(row)
    await session.commit()
    await temporal.start_workflow(
        WorkflowType.POLICY_PUSH,
        PolicyRef(policy_id=policy_id),
        id=row.workflow_id,
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
    )
    return row


@router.get("", operation_id="list_policies", response_model=list[PolicyOut])
async def list_policies(_: CurrentUser, session: SessionDep) -> list[PolicyRow]:
    stmt = select(PolicyRow).order_by(PolicyRow.created_at.desc()).limit(200)
    return list(await session.scalars(stmt))
