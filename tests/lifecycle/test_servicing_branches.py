"""Every branch of loan servicing, driven on the real activities: two continue-as-new, an
overdue episode with its follow-up task, a cure and a relapse, each category change, a
write-off, an extension refused then a second approved, prepayment both ways, a payoff. Each
ends with the ledger checked and no failed workflow task; with RECORD_HISTORIES=1 each
commits its histories, which tests/workflows/test_replay.py replays against today's code."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from db.models import LoanClassification
from domain import servicing
from domain.roles import Role
from domain.schedule import PrepaymentStrategy
from tests.lifecycle.servicing import (
    BROKE_ACCOUNT,
    Lender,
    ServicedLoan,
    start_servicing,
)
from workflows.contracts import (
    ExtensionDecision,
    ExtensionRequest,
    LoanProgress,
    Prepayment,
    WriteOff,
)

pytestmark = pytest.mark.integration


async def _finished(loan: ServicedLoan, branch: str) -> LoanProgress:
    """The loan's end: histories recorded when asked, ledger and histories checked."""
    progress: LoanProgress = await loan.handle.result()
    await loan.record(branch)
    await loan.assert_consistent()
    assert (await loan.loan_row()).status == progress.status
    return progress


async def test_a_26_installment_loan_continues_as_new_twice_and_misses_no_notice(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """The reminders of installments 25–26 were lost in the third run (defect 1)."""
    loan = await start_servicing(env, workers, sessions, lender, months=26)
    assert (await _finished(loan, "on_time_three_runs")).status == "closed"
    assert len(await loan.histories()) == 3
    reminders = await loan.notices("repayment_reminder")
    assert len(set(reminders)) == len(reminders) == 26
    assert len(set(await loan.notices("repayment_received"))) == 26
    assert len(await loan.notices("loan_settled")) == 1


async def test_an_overdue_episode_is_cured_and_a_relapse_gets_its_own_follow_up(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Defect 2: the second 30-days-past-due episode after a cure pointed at the first,
    finished follow-up task; now each episode has its task, its notices and its categories."""
    loan = await start_servicing(env, workers, sessions, lender, months=6, account=BROKE_ACCOUNT)
    await loan.until(loan.start + timedelta(days=70))  # installment 1 is 39 days past due
    (first,) = await loan.tasks("overdue_followup")
    assert first.state == "open" and first.round == 1
    due = await loan.progress()
    assert due.state is not None
    today = (await env.get_current_time()).date()
    accrued, _ = servicing.accrue_penalty(due.state.account, today)
    arrears = accrued.amount_due(today) - accrued.credit
    cured = await loan.handle.execute_update(
        "make_payment", loan.guarantor_payment("m-cure", arrears), result_type=LoanProgress
    )
    assert cured.days_past_due == 0
    await loan.until(loan.start + timedelta(days=140))  # installments 3– refused: relapse
    relapsed = await loan.tasks("overdue_followup")
    overdue = await loan.notices("repayment_overdue")
    quote = await loan.progress()
    assert quote.state is not None
    today = (await env.get_current_time()).date()
    total = servicing.payoff_quote(quote.state.account, today, today).total
    await loan.handle.execute_update(
        "pay_off", loan.guarantor_payment("m-payoff", total), result_type=LoanProgress
    )
    assert (await _finished(loan, "overdue_cure_relapse")).status == "closed"
    first, second = relapsed
    assert first.state == "done" and first.outcome == "cured"
    assert second.state == "open" and second.round == 2
    assert len(overdue) == len(set(overdue)) == 6  # days 1, 7 and 30 of each episode
    (second,) = [t for t in await loan.tasks("overdue_followup") if t.round == 2]
    assert second.state == "done"


async def test_an_unpaid_loan_moves_through_the_categories_and_is_written_off(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    loan = await start_servicing(env, workers, sessions, lender, months=3, account=BROKE_ACCOUNT)
    await loan.until(loan.start + timedelta(days=31 + 275))
    progress = await loan.handle.execute_update(
        "write_off",
        WriteOff(
            decider_id=lender.supervisor,
            decider_role=Role.SUPERVISOR.value,
            decider_institution_id=lender.institution_id,
            reason="借款人失联，无法收回",
        ),
        result_type=LoanProgress,
    )
    assert progress.status == "written_off"
    assert (await _finished(loan, "categories_written_off")).status == "written_off"
    async with sessions() as session:
        path = list(
            await session.scalars(
                select(LoanClassification.category)
                .where(LoanClassification.loan_id == loan.loan_id)
                .order_by(LoanClassification.as_of)
            )
        )
    assert path == ["special_mention", "substandard", "doubtful"]
    (entry,) = [e for e in await loan.decisions() if e.kind == "loan.written_off"]
    assert entry.actor == f"user:{lender.supervisor}"
    assert entry.payload["inputs"]["category"] == "doubtful"
    (followup,) = await loan.tasks("overdue_followup")
    assert followup.state == "done" and followup.outcome == "written_off"


async def test_an_extension_refused_then_a_second_one_approved(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    loan = await start_servicing(env, workers, sessions, lender, months=6)
    await loan.until(loan.start + timedelta(days=45))
    request = ExtensionRequest(requested_by=loan.borrower, extra_months=3, reason="订单回款延迟")
    decision = {
        "decider_role": Role.OFFICER.value,
        "decider_institution_id": lender.institution_id,
    }
    await loan.handle.execute_update("request_extension", request, result_type=LoanProgress)
    await loan.handle.execute_update(
        "decide_extension",
        ExtensionDecision(
            approve=False, reason="请补充订单合同", decider_id=lender.officer, **decision
        ),
        result_type=LoanProgress,
    )
    before = (await loan.progress()).state
    assert before is not None
    await loan.handle.execute_update("request_extension", request, result_type=LoanProgress)
    await loan.handle.execute_update(
        "decide_extension",
        ExtensionDecision(approve=True, decider_id=lender.second_officer, **decision),
        result_type=LoanProgress,
    )
    after = (await loan.progress()).state
    assert after is not None
    assert after.account.maturity_date > before.account.maturity_date
    assert (await _finished(loan, "extension_refused_then_approved")).status == "closed"
    assert len(await loan.histories()) >= 2  # the approval is a safe point
    tasks = await loan.tasks("extension_approval")
    assert [(t.round, t.outcome) for t in tasks] == [(1, "declined"), (2, "approved")]
    assert len(await loan.notices("repayment_reminder")) == 9
    human = [(e.kind, e.actor) for e in await loan.decisions() if e.actor.startswith("user:")]
    assert human == [
        ("loan.extension_requested", f"user:{loan.borrower}"),
        ("loan.extension_declined", f"user:{lender.officer}"),
        ("loan.extension_requested", f"user:{loan.borrower}"),
        ("loan.extension_approved", f"user:{lender.second_officer}"),
    ]


@pytest.mark.parametrize("strategy", list(PrepaymentStrategy))
async def test_a_prepayment_shortens_the_loan_or_lowers_the_installment(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
    strategy: PrepaymentStrategy,
) -> None:
    loan = await start_servicing(env, workers, sessions, lender, months=6)
    await loan.until(loan.start + timedelta(days=40))
    before = (await loan.progress()).state
    assert before is not None
    prepaid = await loan.handle.execute_update(
        "prepay",
        Prepayment(
            key=f"pay-{loan.loan_id}-p-1",
            amount=Decimal("3000.00"),
            strategy=strategy,
            paid_by=loan.borrower,
        ),
        result_type=LoanProgress,
    )
    assert prepaid.state is not None
    remaining = [d for d in prepaid.state.account.dues if not d.settled]
    was = [d for d in before.account.dues if not d.settled]
    if strategy is PrepaymentStrategy.REDUCE_INSTALLMENT_COUNT:
        assert len(remaining) < len(was)
    else:
        assert len(remaining) == len(was)
        assert remaining[0].principal + remaining[0].interest < was[0].principal + was[0].interest
    assert (await _finished(loan, f"prepaid_{strategy.value}")).status == "closed"
    assert len(await loan.notices("prepayment_received")) == 1
