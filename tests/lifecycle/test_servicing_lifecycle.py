"""Loan servicing on the real activities (PostgreSQL, sandbox bank and SMS over HTTP, the
time-skipping server): each test is a regression test of a defect issue 18 found, and each
checks the ledger and the workflow's histories as well as its own point."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from db.models import LoanTransaction
from domain import servicing
from domain.calendar import business_date
from domain.roles import Role
from domain.schedule import PrepaymentStrategy
from domain.servicing import DueKind
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
    LoanServicingInput,
    Payment,
    Prepayment,
    TaskQueue,
    WorkflowType,
    WriteOff,
)

pytestmark = pytest.mark.integration


async def test_a_fourteen_installment_loan_keeps_every_notice_across_continue_as_new(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Defect 1: notices were deduplicated on the activity id, which restarts with every run;
    the second run's settlement notice collided with the first run's and was lost."""
    loan = await start_servicing(env, workers, sessions, lender, months=14)
    closed: LoanProgress = await loan.handle.result()
    assert closed.status == "closed"
    reminders = await loan.notices("repayment_reminder")
    receipts = await loan.notices("repayment_received")
    assert len(reminders) == len(set(reminders)) == 14
    assert len(receipts) == len(set(receipts)) == 14
    assert await loan.notices("loan_settled") == [f"settled-{loan.loan_id}"]
    assert len(await loan.histories()) == 2  # continued as new after the first year
    # Defect 5: describe() of the closed loan read an unset datetime attribute (TypeError).
    description = await loan.handle.describe()
    assert description.status is not None
    row = await loan.loan_row()
    assert row.status == "closed" and row.outstanding_principal == 0
    await loan.assert_consistent()


def _decision(officer: object, lender: Lender, approve: bool) -> ExtensionDecision:
    return ExtensionDecision(
        approve=approve,
        reason="" if approve else "经营数据不足以支持展期",
        decider_id=officer,  # type: ignore[arg-type]
        decider_role=Role.OFFICER.value,
        decider_institution_id=lender.institution_id,
    )


async def test_a_second_extension_gets_its_own_task_and_two_deciders_at_once_hang_nothing(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Defect 2: the second extension request pointed at the first, finished task (deciding
    it answered task.already_decided for ever). Defect 3: two officers validated at once; the
    loser's handler asserted and failed the workflow task, hanging both Updates. Defect 6:
    requests and decisions enter the decision log naming the person."""
    loan = await start_servicing(env, workers, sessions, lender, months=12)
    request = ExtensionRequest(requested_by=loan.borrower, extra_months=3, reason="旺季备货回款慢")
    await loan.handle.execute_update("request_extension", request, result_type=LoanProgress)
    await loan.handle.execute_update(
        "decide_extension", _decision(lender.officer, lender, False), result_type=LoanProgress
    )
    await loan.handle.execute_update("request_extension", request, result_type=LoanProgress)
    first, second = await loan.tasks("extension_approval")
    assert first.state == "done" and first.outcome == "declined"
    assert second.state == "open" and second.id != first.id and second.round == 2

    # Two officers decide the second request at once: one wins, the other is refused.
    outcomes = await asyncio.gather(
        loan.handle.execute_update(
            "decide_extension", _decision(lender.officer, lender, True), result_type=LoanProgress
        ),
        loan.handle.execute_update(
            "decide_extension",
            _decision(lender.second_officer, lender, False),
            result_type=LoanProgress,
        ),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    answered = [o for o in outcomes if isinstance(o, LoanProgress)]
    assert len(refused) == len(answered) == 1
    assert isinstance(refused[0], WorkflowUpdateFailedError)
    cause = refused[0].cause
    assert isinstance(cause, ApplicationError) and cause.type == "extension.not_pending"
    (second,) = [t for t in await loan.tasks("extension_approval") if t.id == second.id]
    assert second.state == "done"
    await loan.settled()
    progress = await loan.progress()
    assert not progress.extension_pending

    entries = await loan.decisions()
    human = [(e.kind, e.actor) for e in entries if e.actor.startswith("user:")]
    winner = lender.officer if second.outcome == "approved" else lender.second_officer
    assert human == [
        ("loan.extension_requested", f"user:{loan.borrower}"),
        ("loan.extension_declined", f"user:{lender.officer}"),
        ("loan.extension_requested", f"user:{loan.borrower}"),
        (f"loan.extension_{second.outcome}", f"user:{winner}"),
    ]
    decided = entries[-1] if entries[-1].actor.startswith("user:") else None
    assert decided is not None and decided.payload["role"] == Role.OFFICER.value
    assert decided.payload["inputs"]["extra_months"] == "3"
    await loan.assert_consistent()


def _guarantor_payoff(loan: ServicedLoan, progress: LoanProgress, today: date) -> Payment:
    """A payoff at today's quote from the guarantor's own account."""
    assert progress.state is not None
    total = servicing.payoff_quote(progress.state.account, today, today).total
    return loan.guarantor_payment("o-guarantor", total)


async def test_a_guarantor_pays_off_from_their_own_account(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Defect 5: the payoff dropped the payer's account, so the borrower's (empty) account was
    debited and the bank refused; now the payer given is debited and the loan closes."""
    loan = await start_servicing(env, workers, sessions, lender, months=6, account=BROKE_ACCOUNT)
    await loan.until(loan.start + timedelta(days=40))  # one installment refused: overdue
    progress = await loan.progress()
    assert progress.days_past_due > 0
    today = (await env.get_current_time()).date()
    paid = await loan.handle.execute_update(
        "pay_off", _guarantor_payoff(loan, progress, today), result_type=LoanProgress
    )
    assert paid.status == "closed"
    await loan.handle.result()
    assert len(await loan.notices("repayment_received")) == 1  # the payoff's receipt
    row = await loan.loan_row()
    assert row.status == "closed" and row.outstanding_principal == 0
    await loan.assert_consistent()


async def test_a_write_off_racing_a_payoff_refuses_the_loser_and_hangs_nothing(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Defect 3: a write-off validated while a guarantor's payoff closed the loan raised in its
    handler and failed the workflow task, hanging both Updates. Now whichever comes second is
    refused (loan.not_active), and a write-off names its supervisor in the decision log."""
    loan = await start_servicing(env, workers, sessions, lender, months=6, account=BROKE_ACCOUNT)
    await loan.until(loan.start + timedelta(days=330))  # refused debits: > 270 days past due
    progress = await loan.progress()
    assert progress.category in ("doubtful", "loss"), progress
    assert len(await loan.tasks("overdue_followup")) == 1
    today = (await env.get_current_time()).date()
    write_off = WriteOff(
        decider_id=lender.supervisor,
        decider_role=Role.SUPERVISOR.value,
        decider_institution_id=lender.institution_id,
        reason="无法收回",
    )
    outcomes = await asyncio.gather(
        loan.handle.execute_update(
            "pay_off", _guarantor_payoff(loan, progress, today), result_type=LoanProgress
        ),
        loan.handle.execute_update("write_off", write_off, result_type=LoanProgress),
        return_exceptions=True,
    )
    answered = [o for o in outcomes if isinstance(o, LoanProgress)]
    refused = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
    assert len(answered) == len(refused) == 1, outcomes
    assert isinstance(refused[0].cause, ApplicationError)
    assert refused[0].cause.type == "loan.not_active"
    await loan.handle.result()
    row = await loan.loan_row()
    assert row.status == answered[0].status in ("closed", "written_off")
    (followup,) = await loan.tasks("overdue_followup")
    assert followup.state == "done"
    if row.status == "written_off":
        (entry,) = [e for e in await loan.decisions() if e.kind == "loan.written_off"]
        assert entry.actor == f"user:{lender.supervisor}"
        assert entry.payload["role"] == Role.SUPERVISOR.value
        assert entry.payload["inputs"]["category"] in ("doubtful", "loss")
    await loan.assert_consistent()


async def test_the_loan_counts_days_in_beijing(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Defect 7: the workflow counted UTC days while the API quoted Beijing days, so a quote
    and the payment could disagree about the day. At 16:30 UTC on a due date it is already
    the next day in Beijing: a payment then is booked on that day, one day past due."""
    loan = await start_servicing(env, workers, sessions, lender, months=3, account=BROKE_ACCOUNT)
    progress = await loan.progress()
    assert progress.next_due_date is not None
    due = progress.next_due_date
    await loan.until(due, time(16, 30))  # the auto-debit at 09:00 Beijing was refused
    now = await env.get_current_time()
    assert business_date(now) == due + timedelta(days=1)
    paid = await loan.handle.execute_update(
        "make_payment",
        loan.guarantor_payment("m-late", Decimal("100.00")),
        result_type=LoanProgress,
    )
    assert paid.days_past_due == 1
    async with sessions() as session:
        booked = await session.scalar(
            select(LoanTransaction.value_date).where(
                LoanTransaction.key == f"pay-{loan.loan_id}-m-late"
            )
        )
    assert booked == due + timedelta(days=1)
    await loan.assert_consistent()


async def test_two_extension_requests_at_once_make_one_request_and_one_task(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Defect 3: both requests passed the validator before either ran; the second handler
    overwrote the first's pending request and opened nothing. Now it is refused."""
    loan = await start_servicing(env, workers, sessions, lender, months=12)
    request = ExtensionRequest(requested_by=loan.borrower, extra_months=2, reason="设备检修停产")
    outcomes = await asyncio.gather(
        *(
            loan.handle.execute_update("request_extension", request, result_type=LoanProgress)
            for _ in range(2)
        ),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
    assert len(refused) == 1 and isinstance(refused[0].cause, ApplicationError)
    assert refused[0].cause.type == "extension.pending"
    (task,) = await loan.tasks("extension_approval")
    assert task.state == "open"
    progress = await loan.progress()
    assert progress.state is not None and progress.state.extensions == 1
    await loan.assert_consistent()


async def test_a_prepayment_after_a_reminder_sends_no_second_reminder_for_that_installment(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Found by the simulator (seed 4): a partial prepayment inserts a row and renumbers the
    installments after it, so installment 2, reminded, was reminded again as installment 3
    (the reminder was known by its number). An installment is known by its due date now."""
    loan = await start_servicing(env, workers, sessions, lender, months=6)
    opened = await loan.progress()
    assert opened.state is not None
    policy = opened.state.account.policy
    second = opened.state.account.dues[1]
    await loan.until(second.due_date - timedelta(days=policy.reminder_days_before))
    assert len(await loan.notices("repayment_reminder")) == 2  # installments 1 and 2
    prepaid = await loan.handle.execute_update(
        "prepay",
        Prepayment(
            key=f"pay-{loan.loan_id}-p-1",
            amount=Decimal("3000.00"),
            strategy=PrepaymentStrategy.REDUCE_INSTALLMENT_COUNT,
            paid_by=loan.borrower,
        ),
        result_type=LoanProgress,
    )
    assert prepaid.state is not None
    renumbered = next(d for d in prepaid.state.account.dues if d.due_date == second.due_date)
    assert renumbered.number == second.number + 1  # the prepayment row took its number
    closed: LoanProgress = await loan.handle.result()
    assert closed.status == "closed" and closed.state is not None
    await loan.record("prepaid_after_reminder")
    scheduled = [d for d in closed.state.account.dues if d.kind is DueKind.SCHEDULED]
    reminders = await loan.notices("repayment_reminder")
    assert len(reminders) == len(set(reminders)) == len(scheduled)
    assert [key.rsplit("-", 3)[-3:] for key in reminders] == [
        d.due_date.isoformat().split("-") for d in scheduled
    ]
    await loan.assert_consistent()


async def test_a_run_waking_on_a_due_date_it_never_reminded_sends_that_reminder(
    env: WorkflowEnvironment,
    workers: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
) -> None:
    """Found by the simulator (CI, seed 10): a run that wakes on an installment's due date
    without having reminded it (its workers were down through the reminder day) looked only
    at installments falling due after today, so that reminder was never sent. The run is
    ended before the reminder day and a run with its state starts on the due date, as one
    does when the workers come back: it reminds the installment, then debits it."""
    loan = await start_servicing(env, workers, sessions, lender, months=3)
    opened = await loan.progress()
    assert opened.state is not None and not opened.state.reminded_dates
    first = opened.state.account.dues[0]
    # Ended with nothing in flight: the test server keeps the clock locked for good for an
    # activity or a workflow task a terminated run leaves behind, and the sleep below hangs.
    await loan.settled()
    await loan.handle.terminate("its workers are down through the reminder day")
    await loan.until(first.due_date)  # no run: the reminder day passes unseen
    assert await loan.notices("repayment_reminder") == []
    loan.handle = await env.client.start_workflow(
        WorkflowType.LOAN_SERVICING,
        LoanServicingInput(
            loan_id=loan.loan_id,
            application_id=(await loan.loan_row()).application_id,
            enterprise_id=loan.enterprise_id,
            institution_id=lender.institution_id,
            state=opened.state,
        ),
        id=loan.workflow_id,
        task_queue=workers.task_queue(TaskQueue.PLATFORM),
        result_type=LoanProgress,
    )
    await asyncio.sleep(0.2)
    await loan.settled()
    reminders = await loan.notices("repayment_reminder")
    assert [key.rsplit("-", 3)[-3:] for key in reminders] == [first.due_date.isoformat().split("-")]
    assert len(await loan.notices("repayment_received")) == 1  # then the auto-debit
    await loan.record("reminder_on_its_due_date")
    await loan.assert_consistent()
