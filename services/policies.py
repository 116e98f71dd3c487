"""Support policies: platform admins publish them (and the push workflow tells every enterprise
a policy fits); everyone reads them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from config.settings import Settings
from db.models import SupportPolicy as PolicyRow
from domain.errors import BusinessRuleError
from domain.policies import EnterpriseSize, SupportPolicy, validate_policy
from domain.product_codec import policy_to_json
from domain.roles import Role
from services.inputs import (
    INDUSTRY_CODES,
    REGION_OR_PROVINCE,
    Day,
    DecimalInput,
    Schema,
    ServerRule,
    server_rules,
)
from services.principal import Principal, require_role
from workflows.contracts import PolicyRef, TaskQueue, WorkflowType

# The policy is checked as a whole by validate_policy (every problem at once, each with its
# own code); its schema states the same bounds.
SubsidyRate = Annotated[
    Decimal,
    DecimalInput(
        places=4,
        whole_digits=3,
        positive=False,
        at_most=Decimal(1),
        description='A share as a fraction ("0.5" is 50 %), from 0 to 1',
        checked_by="validate_policy: policy.rate_out_of_range",
    ),
]


class PolicyIn(Schema):
    model_config = ConfigDict(
        json_schema_extra=server_rules(
            ServerRule(
                "valid_until",
                "policy.validity_inverted",
                "not before valid_from: JSON Schema cannot compare two fields",
            )
        )
    )

    title: str = Field(min_length=2, max_length=200)
    issuer: str = Field(min_length=2, max_length=200)
    regions: list[str] = Field(
        default_factory=list,
        json_schema_extra={"items": {"type": "string", "pattern": REGION_OR_PROVINCE}},
    )
    industries: list[str] = Field(
        default_factory=list, json_schema_extra={"items": {"enum": INDUSTRY_CODES}}
    )
    sizes: list[EnterpriseSize] = Field(default_factory=list)
    interest_subsidy_rate: SubsidyRate = Decimal(0)
    subsidy_cap_per_year: (
        Annotated[
            Decimal,
            DecimalInput(
                places=2,
                description='Yuan a year: "1234.56" or a whole number, above zero',
                checked_by="validate_policy: policy.cap_not_positive",
            ),
        ]
        | None
    ) = None
    guarantee_fee_subsidy_rate: SubsidyRate = Decimal(0)
    valid_from: Day
    valid_until: Day | None = None


async def publish(
    session: AsyncSession, temporal: Client, settings: Settings, admin: Principal, body: PolicyIn
) -> PolicyRow:
    """Publish a policy; a workflow then pushes it to every enterprise it fits."""
    require_role(admin, Role.PLATFORM_ADMIN)
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


async def policies(session: AsyncSession) -> list[PolicyRow]:
    """The latest policies (at most 200), newest first."""
    stmt = select(PolicyRow).order_by(PolicyRow.created_at.desc()).limit(200)
    return list(await session.scalars(stmt))
