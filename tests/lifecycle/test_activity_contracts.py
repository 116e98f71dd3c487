"""The fakes of tests/workflows keep the real activities' contract: one contract, run against
both. A notice is delivered once per business key, a task opened once per wait (workflow,
kind, occurrence, institution), money collected once per key with the first answer repeated —
so a workflow test on the fakes cannot pass where the real activities would fail."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from config.settings import Settings
from db.models import Notification, PaymentInstruction
from tests.lifecycle.servicing import BROKE_ACCOUNT, seed_disbursed_loan, seed_lender
from tests.workflows.test_loan_workflow import FakeLoanActivities
from worker import build_activities
from workflows.contracts import (
    Collect,
    CollectionResult,
    NotifyEnterprise,
    OpenTask,
    TaskRef,
)

pytestmark = pytest.mark.integration

Activity = Callable[[Any], Awaitable[Any]]


@dataclasses.dataclass
class Side:
    """One implementation of the three activities and a way to count what they did."""

    notify: Activity
    open_task: Activity
    collect: Activity
    delivered: Callable[[str], Awaitable[int]]  # notices delivered under a key
    payments: Callable[[str], Awaitable[int]]  # payments made under a key


def _by_name(activities: Any) -> dict[str, Activity]:
    named = {}
    for fn in activities:
        definition = activity._Definition.from_callable(fn)
        assert definition is not None and definition.name is not None
        named[definition.name] = fn
    return named


async def _real(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Side:
    named = _by_name(build_activities(settings, sessions))

    async def delivered(key: str) -> int:
        async with sessions() as session:
            return int(
                await session.scalar(select(func.count()).where(Notification.delivery_key == key))
                or 0
            )

    async def payments(key: str) -> int:
        async with sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).where(PaymentInstruction.idempotency_key == key)
                )
                or 0
            )

    return Side(
        named["notify_enterprise"],
        named["open_task"],
        named["collect_repayment"],
        delivered,
        payments,
    )


def _fake() -> Side:
    fake = FakeLoanActivities(refuses=lambda collect: collect.amount > Decimal("500"))

    async def delivered(key: str) -> int:
        return sum(1 for _, n in fake.notifications if n.key == key)

    async def payments(key: str) -> int:
        return sum(1 for _, c, _ in fake.collections if c.key == key)

    return Side(fake.notify_enterprise, fake.open_task, fake.collect_repayment, delivered, payments)


@pytest.fixture(params=["real", "fake"])
async def side(
    request: pytest.FixtureRequest,
    test_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> Side:
    return await _real(test_settings, sessions) if request.param == "real" else _fake()


def _in(workflow_id: str) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        workflow_id=workflow_id,
        current_attempt_scheduled_time=datetime.now(UTC),
    )
    return env


async def test_a_notice_is_delivered_once_per_business_key_whatever_the_activity_id(
    side: Side, sessions: async_sessionmaker[AsyncSession]
) -> None:
    lender = await seed_lender(sessions)
    _, enterprise_id, _ = await seed_disbursed_loan(sessions, lender, datetime.now(UTC))
    key = f"reminder-{uuid.uuid4()}-1-2027-01-07"
    notice = NotifyEnterprise(
        enterprise_id=enterprise_id,
        template="repayment_reminder",
        context={"number": "1", "due_date": "2027-01-07", "amount": "860.66"},
        key=key,
    )
    first_run = _in("loan-x")
    later_run = _in("loan-x")
    later_run.info = dataclasses.replace(later_run.info, activity_id="1", workflow_run_id="r2")
    await first_run.run(side.notify, notice)
    await later_run.run(side.notify, notice)  # same activity id in a later run: same key
    assert await side.delivered(key) == 1
    other = notice.model_copy(update={"key": f"{key}-other"})
    await later_run.run(side.notify, other)
    assert await side.delivered(other.key) == 1


async def test_a_task_is_opened_once_per_wait_and_each_occurrence_gets_its_own(
    side: Side, sessions: async_sessionmaker[AsyncSession]
) -> None:
    lender = await seed_lender(sessions)
    env = _in(f"loan-{uuid.uuid4()}")
    task = OpenTask(
        kind="extension_approval",
        subject="loan",
        required_role="officer",
        due_at=None,
        context={},
        institution_id=lender.institution_id,
    )
    first: TaskRef = await env.run(side.open_task, task)
    again: TaskRef = await env.run(side.open_task, task)  # a retry
    second: TaskRef = await env.run(side.open_task, task.model_copy(update={"occurrence": 2}))
    assert first.task_id == again.task_id != second.task_id


async def test_money_is_collected_once_per_key_and_a_repeat_gets_the_first_answer(
    side: Side, sessions: async_sessionmaker[AsyncSession]
) -> None:
    lender = await seed_lender(sessions)
    loan_id, _, _ = await seed_disbursed_loan(
        sessions, lender, datetime.now(UTC), account=BROKE_ACCOUNT
    )
    env = _in(f"loan-{loan_id}")
    refused = Collect(loan_id=loan_id, key=f"pay-{loan_id}-1-1", amount=Decimal("860.66"))
    first: CollectionResult = await env.run(side.collect, refused)
    again: CollectionResult = await env.run(side.collect, refused)
    assert first == again and not first.succeeded
    assert await side.payments(refused.key) == 1
