"""What must hold after every step, read from PostgreSQL, the sandbox bank and Temporal's
histories; each check returns the violations it found (an empty list when all hold)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
)
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from db.models import (
    DecisionLogEntry,
    HumanTask,
    JournalEntry,
    JournalLineRow,
    Loan,
    LoanApplication,
    LoanTransaction,
    Notification,
    PaymentInstruction,
)
from db.repositories import DecisionLog
from domain.decision_chain import verify_chain
from domain.ledger import Account
from domain.servicing import DueKind
from workflows.contracts import ApplicationProgress, LoanProgress, LoanState

OPEN_TASK_STATES = ("open", "claimed", "waiting")
# Failures the server itself records while all is well (a command raced a new event).
BENIGN_TASK_FAILURES = {
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
}
BAD_ENDINGS = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED,
}
RECEIPTS = {  # the notice each kind of payment owes the borrower
    "auto_debit": "repayment_received",
    "repayment": "repayment_received",
    "payoff": "repayment_received",  # and the settlement notice
    "prepayment": "prepayment_received",
}
T = TypeVar("T")
QUERY_TIMEOUT_S = 5.0
# A deadline of the RPC itself: a query a workflow never answers does not return, and
# cancelling the call (``within``) then waits for it too.
QUERY_RPC_TIMEOUT = timedelta(seconds=QUERY_TIMEOUT_S)
DESCRIBE_TIMEOUT = timedelta(seconds=20)
DESCRIBE_ATTEMPTS = 3


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``awaitable``'s result, or TimeoutError after ``seconds``, run as a task of its own and
    waited for with ``asyncio.wait``: the caller's cancellation (a step's deadline) always
    reaches the caller. Awaited directly it may not: Python 3.11's ``asyncio.wait_for`` can
    swallow a cancellation arriving as its call completes (CPython gh-86296), and the Temporal
    client turns a cancelled Update call into its own error (WorkflowUpdateRPCTimeoutOr
    CancelledError); either way the step's deadline was lost and a run could hang."""
    task = asyncio.ensure_future(awaitable)
    task.add_done_callback(retrieved)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise TimeoutError(f"no answer in {seconds:.0f}s")
    return task.result()


def retrieved(task: asyncio.Future[Any]) -> None:
    """Mark a finished call's outcome as seen (a call given up on ends in an error no one
    reads)."""
    if not task.cancelled():
        task.exception()


@dataclass(frozen=True)
class Violation:
    """An invariant that did not hold, about one subject (a loan, a journal, a workflow)."""

    invariant: str
    subject: str
    detail: str


@dataclass
class Tracked:
    """What the checker knows of one loan of the run."""

    index: int
    enterprise_id: uuid.UUID
    application_id: uuid.UUID | None = None
    loan_id: uuid.UUID | None = None

    def workflow_ids(self) -> list[str]:
        ids = []
        if self.application_id is not None:
            ids.append(f"application-{self.application_id}")
        if self.loan_id is not None:
            ids.append(f"loan-{self.loan_id}")
        return ids


@dataclass(frozen=True)
class HumanDecision:
    """A decision a person made through an Update that Temporal accepted."""

    subject: str  # the workflow id, as the decision log names it
    actor_id: uuid.UUID
    what: str


# ---- PostgreSQL ----------------------------------------------------------------------------
async def check_ledger(session: AsyncSession) -> list[Violation]:
    """Every journal balances; each loan's outstanding principal is the ledger's (disbursed
    minus repaid minus written off)."""
    found = []
    sums = await session.execute(
        select(JournalEntry.key, func.sum(JournalLineRow.debit), func.sum(JournalLineRow.credit))
        .join(JournalLineRow, JournalLineRow.journal_id == JournalEntry.id, isouter=True)
        .group_by(JournalEntry.key)
    )
    for key, debit, credit in sums:
        if debit is None or debit != credit:
            found.append(Violation("journal_balances", key, f"debits {debit} ≠ credits {credit}"))
    receivable = await session.execute(
        select(JournalEntry.loan_id, func.sum(JournalLineRow.debit - JournalLineRow.credit))
        .join(JournalLineRow, JournalLineRow.journal_id == JournalEntry.id)
        .where(JournalLineRow.account == Account.LOAN_PRINCIPAL_RECEIVABLE.value)
        .group_by(JournalEntry.loan_id)
    )
    ledger = {loan_id: balance for loan_id, balance in receivable}
    # The columns the check needs, not the row: the checker decrypts no account number.
    loans = await session.execute(
        select(Loan.id, Loan.outstanding_principal, Loan.status).where(Loan.status != "pending")
    )
    for loan_id, outstanding, status in loans:
        in_ledger = ledger.get(loan_id, 0)
        if in_ledger != outstanding:
            found.append(
                Violation(
                    "outstanding_matches_ledger",
                    f"loan-{loan_id}",
                    f"loan row {outstanding}, ledger {in_ledger} ({status})",
                )
            )
    return found


async def check_instructions(
    session: AsyncSession, bank: httpx.AsyncClient | None
) -> list[Violation]:
    """Once nothing is in flight, every payment instruction records the bank's answer (or,
    when the bank never took it, is not left pending for ever), and a loan whose
    disbursement failed is not left waiting for it. ``bank`` is None during an outage: its
    faults would answer (and be used up by) the checker's own requests."""
    found = []
    pending = await session.scalars(
        select(PaymentInstruction).where(PaymentInstruction.status == "pending")
    )
    for row in pending:
        if bank is None:
            break
        reply = await bank.get(f"/bank/v1/payments/{row.idempotency_key}")
        if reply.status_code == 200:
            answer = reply.json()["status"]
            found.append(
                Violation(
                    "instruction_answered",
                    row.idempotency_key,
                    f"{row.direction} pending, the bank answered {answer}",
                )
            )
        else:
            found.append(
                Violation(
                    "instruction_settled",
                    row.idempotency_key,
                    f"{row.direction} pending, never reached the bank, nothing retries it",
                )
            )
    stranded = await session.execute(
        select(Loan.id, LoanApplication.status)
        .join(LoanApplication, LoanApplication.id == Loan.application_id)
        .where(Loan.status == "pending", LoanApplication.status == "disbursement_failed")
    )
    for loan_id, status in stranded:
        found.append(
            Violation(
                "refused_loan_closed", f"loan-{loan_id}", f"loan pending, application {status}"
            )
        )
    return found


async def check_notices(
    session: AsyncSession,
    today: date,
    terminated: AbstractSet[str] = frozenset(),
) -> list[Violation]:
    """Every installment that fell due got exactly one reminder, every payment one receipt
    (one enterprise borrows once, so its notices are its loan's). A loan whose workflow the
    simulator ended (a hung Update, reported as such) is left out: it stopped reminding."""
    found = []
    for loan in await session.scalars(select(Loan).where(Loan.status != "pending")):
        if not loan.account_state or f"loan-{loan.id}" in terminated:
            continue
        account = LoanState.model_validate(loan.account_state).account
        notices = Counter(
            (
                await session.scalars(
                    select(Notification.template).where(
                        Notification.enterprise_id == loan.enterprise_id
                    )
                )
            ).all()
        )
        kinds = (
            await session.execute(
                select(LoanTransaction.kind, LoanTransaction.value_date).where(
                    LoanTransaction.loan_id == loan.id
                )
            )
        ).all()
        end = today
        if loan.status != "active" and kinds:
            end = max(day for _, day in kinds)
        before = account.policy.reminder_days_before
        installments = [d for d in account.dues if d.kind is DueKind.SCHEDULED]
        fell_due = sum(1 for d in installments if d.due_date <= end)
        remindable = sum(1 for d in installments if d.due_date - timedelta(days=before) <= end)
        reminders = notices["repayment_reminder"]
        if not fell_due <= reminders <= remindable:
            found.append(
                Violation(
                    "one_reminder_per_installment",
                    f"loan-{loan.id}",
                    f"{reminders} reminders for {fell_due} installments due "
                    f"({remindable} remindable) by {end}",
                )
            )
        paid = Counter(RECEIPTS[kind] for kind, _ in kinds if kind in RECEIPTS)
        if loan.status == "closed":
            paid["loan_settled"] += 1
        for template in ("repayment_received", "prepayment_received", "loan_settled"):
            if notices[template] != paid[template]:
                found.append(
                    Violation(
                        "one_receipt_per_payment",
                        f"loan-{loan.id}",
                        f"{notices[template]} × {template} for {paid[template]} payments "
                        f"({', '.join(sorted({k for k, _ in kinds if k in RECEIPTS}))})",
                    )
                )
    return found


async def check_decisions(session: AsyncSession, decisions: list[HumanDecision]) -> list[Violation]:
    """Every human decision is in the decision log naming its person, and the chain verifies."""
    found = []
    rows = await session.execute(select(DecisionLogEntry.subject, DecisionLogEntry.actor))
    logged = {(subject, actor) for subject, actor in rows}
    for decision in decisions:
        if (decision.subject, f"user:{decision.actor_id}") not in logged:
            found.append(
                Violation(
                    "human_decision_logged",
                    decision.subject,
                    f"{decision.what} by user:{decision.actor_id} is not in the decision log",
                )
            )
    broken = verify_chain(await DecisionLog(session).chain())
    if broken is not None:
        found.append(Violation("decision_chain_verifies", f"seq {broken.seq}", str(broken)))
    return found


# ---- the sandbox bank ----------------------------------------------------------------------
async def check_bank(session: AsyncSession, bank: httpx.AsyncClient) -> list[Violation]:
    """Money moved once per key: one bank payment per instruction key, none unrecorded, and
    the instruction says what the bank did."""
    found = []
    for loan in await session.scalars(select(Loan)):
        instructions = {
            row.idempotency_key: row
            for row in await session.scalars(
                select(PaymentInstruction).where(PaymentInstruction.loan_id == loan.id)
            )
        }
        at_bank: list[dict[str, Any]] = []
        for reference in (str(loan.application_id), str(loan.id)):
            reply = await bank.get(
                "/bank/v1/payments", params={"reference": reference, "limit": 1000}
            )
            reply.raise_for_status()
            at_bank.extend(reply.json()["payments"])
        counts = Counter(p["idempotency_key"] for p in at_bank)
        for key, count in counts.items():
            if count > 1:
                found.append(Violation("money_once_per_key", key, f"{count} bank payments"))
            if key not in instructions:
                found.append(
                    Violation("money_once_per_key", key, "bank payment without instruction")
                )
        for payment in at_bank:
            row = instructions.get(payment["idempotency_key"])
            if row is None or row.status == "pending":
                continue  # reported above / by instruction_answered
            if (row.status == "succeeded") != (payment["status"] == "SUCCEEDED"):
                found.append(
                    Violation(
                        "instruction_matches_bank",
                        row.idempotency_key,
                        f"instruction {row.status}, bank {payment['status']}",
                    )
                )
        for key, row in instructions.items():
            if counts[key] == 0 and row.status != "pending":
                found.append(
                    Violation("money_once_per_key", key, f"instruction {row.status}, no payment")
                )
    return found


# ---- Temporal ------------------------------------------------------------------------------
@dataclass
class HistoryChecker:
    """Reads the histories of the run's workflows, every run of each (continue-as-new); a
    closed run is read once."""

    client: Client
    closed_runs: dict[str, list[str]] = field(default_factory=dict)  # run id → failures
    continued: dict[str, str] = field(default_factory=dict)  # run id → the run it continued
    terminated: set[str] = field(default_factory=set)  # workflows the simulator ended (hung)

    async def _events(self, workflow_id: str, run_id: str | None) -> list[HistoryEvent]:
        handle = self.client.get_workflow_handle(workflow_id, run_id=run_id)
        return [event async for event in handle.fetch_history_events()]

    @staticmethod
    def _failures(events: list[HistoryEvent]) -> list[str]:
        failures = []
        for event in events:
            if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                continue
            attributes = event.workflow_task_failed_event_attributes
            if attributes.cause in BENIGN_TASK_FAILURES:
                continue
            cause = WorkflowTaskFailedCause.Name(attributes.cause)
            failures.append(f"event {event.event_id}: {cause} {attributes.failure.message[:120]}")
        return failures

    async def task_failures(self, workflow_id: str) -> tuple[list[str], list[HistoryEvent]]:
        """Failed workflow tasks of every run, and the current run's events."""
        current = await self._events(workflow_id, None)
        failures = self._failures(current)
        previous = _continued_from(current)
        while previous:
            if previous not in self.closed_runs:
                events = await self._events(workflow_id, previous)
                self.closed_runs[previous] = self._failures(events)
                self.continued[previous] = _continued_from(events)
            failures = self.closed_runs[previous] + failures
            previous = self.continued[previous]
        return failures, current

    async def failed_tasks_now(self, workflow_id: str) -> list[str]:
        """Failed workflow tasks of the current run (a handler blew up: Updates hang)."""
        return (await self.progress_now(workflow_id))[0]

    async def progress_now(self, workflow_id: str) -> tuple[list[str], int]:
        """The current run's failed workflow tasks and its history's length (it grows while
        the workflow makes progress)."""
        events = await self._events(workflow_id, None)
        return self._failures(events), len(events)

    async def check(
        self, session: AsyncSession, tracked: list[Tracked]
    ) -> tuple[list[Violation], int]:
        """No workflow task ever failed; every open workflow waits on a timer, an activity, a
        child or an open task a person can decide; every wait for a person has its open task."""
        found: list[Violation] = []
        failed_tasks = 0
        for loan in tracked:
            for workflow_id in loan.workflow_ids():
                failures, events = await self.task_failures(workflow_id)
                failed_tasks += len(failures)
                for failure in failures:
                    found.append(Violation("no_failed_workflow_task", workflow_id, failure))
                if workflow_id in self.terminated:
                    continue
                status, raw = await describe(self.client, workflow_id)
                if status in BAD_ENDINGS:
                    found.append(Violation("no_failed_workflow", workflow_id, str(status)))
                if status is not WorkflowExecutionStatus.RUNNING:
                    continue
                tasks = list(
                    await session.scalars(
                        select(HumanTask).where(
                            HumanTask.workflow_id == workflow_id,
                            HumanTask.state.in_(OPEN_TASK_STATES),
                        )
                    )
                )
                stuck = await self._stuck(workflow_id, events, raw, bool(tasks))
                if stuck:
                    found.append(Violation("workflow_not_stuck", workflow_id, stuck))
                if not failures:
                    found.extend(await self._waits(session, workflow_id))
        return found, failed_tasks

    async def check_waits(self, session: AsyncSession, tracked: list[Tracked]) -> list[Violation]:
        """Only the waits for a person (cheap enough for every step): each has its open task."""
        found: list[Violation] = []
        for loan in tracked:
            for workflow_id in loan.workflow_ids():
                if workflow_id in self.terminated:
                    continue
                status, _ = await describe(self.client, workflow_id)
                if status is WorkflowExecutionStatus.RUNNING:
                    found.extend(await self._waits(session, workflow_id))
        return found

    async def _stuck(
        self,
        workflow_id: str,
        events: list[HistoryEvent],
        raw: DescribeWorkflowExecutionResponse,
        open_task: bool,
    ) -> str:
        """Why the workflow is stuck ("" when it waits on something). Looked at again a few
        times a moment apart: a workflow between two tasks has nothing pending for an instant."""
        for attempt in range(4):
            if (
                open_task
                or _pending_timers(events)
                or raw.pending_activities
                or raw.pending_children
                or raw.HasField("pending_workflow_task")
            ):
                return ""
            if attempt < 3:
                await asyncio.sleep(0.5)
                _, raw = await describe(self.client, workflow_id)
                events = await self._events(workflow_id, None)
        last = ", ".join(
            EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events[-4:]
        )
        return f"running with no timer, activity, child or open task; last events: {last}"

    async def _waits(self, session: AsyncSession, workflow_id: str) -> list[Violation]:
        """A wait for a person has that person's open task in the inbox."""
        handle = self.client.get_workflow_handle(workflow_id)
        waits: list[tuple[str, uuid.UUID | None, str]] = []  # (what, task id, kind)
        try:
            if workflow_id.startswith("loan-"):
                progress = await within(
                    handle.query(
                        "progress", result_type=LoanProgress, rpc_timeout=QUERY_RPC_TIMEOUT
                    ),
                    QUERY_TIMEOUT_S + 5,
                )
                state = progress.state
                if state is not None and state.pending_extension is not None:
                    waits.append(("extension decision", state.extension_task, "extension_approval"))
                if state is not None and state.followup_task is not None:
                    waits.append(("overdue follow-up", state.followup_task, "overdue_followup"))
            else:
                application = await within(
                    handle.query(
                        "progress", result_type=ApplicationProgress, rpc_timeout=QUERY_RPC_TIMEOUT
                    ),
                    QUERY_TIMEOUT_S + 5,
                )
                if application.stage == "in_review":
                    waits.append(("credit decision", None, "credit_approval"))
        except (TimeoutError, RPCError):
            return [Violation("workflow_answers_queries", workflow_id, "query timed out")]
        except WorkflowQueryFailedError:
            return []  # its workflow task fails: reported as such
        found = []
        for what, task_id, kind in waits:
            stmt = select(HumanTask).where(
                HumanTask.workflow_id == workflow_id,
                HumanTask.kind == kind,
                HumanTask.state.in_(OPEN_TASK_STATES),
            )
            if task_id is not None:
                stmt = stmt.where(HumanTask.id == task_id)
            if (await session.scalars(stmt)).first() is None:
                found.append(
                    Violation(
                        "wait_has_open_task",
                        workflow_id,
                        f"waits for an {what}, but task {task_id or kind} is not open",
                    )
                )
        return found


async def describe(
    client: Client, workflow_id: str
) -> tuple[WorkflowExecutionStatus, DescribeWorkflowExecutionResponse]:
    """The current run's status and raw description (the SDK's ``describe()`` cannot decode a
    datetime search attribute the workflow unset, as a closed loan's next due date)."""
    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    for attempt in range(DESCRIBE_ATTEMPTS):
        try:  # a test server under load can miss a call's deadline: asked again
            raw = await client.workflow_service.describe_workflow_execution(
                request, timeout=DESCRIBE_TIMEOUT
            )
            break
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND or attempt == DESCRIBE_ATTEMPTS - 1:
                raise
    return WorkflowExecutionStatus(raw.workflow_execution_info.status), raw


# The test server holds its clock for a workflow task from the moment it is scheduled until
# it is answered, but never reports one in a description (``pending_workflow_task`` stays
# empty): only the history shows it, as a task scheduled or started and not yet answered, or
# a child started and not yet acknowledged.
_TASK_OPEN = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}


# The event that answers a child workflow's start or an external signal, and the attributes
# naming the initiating event.
_ACKNOWLEDGEMENTS = {
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: (
        "child_workflow_execution_started_event_attributes"
    ),
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: (
        "start_child_workflow_execution_failed_event_attributes"
    ),
    EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: (
        "external_workflow_execution_signaled_event_attributes"
    ),
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: (
        "signal_external_workflow_execution_failed_event_attributes"
    ),
}


async def work_pending(client: Client, workflow_id: str) -> str:
    """What the current run's history shows in flight that a description does not: a
    workflow task not yet answered, a child or an external signal not yet acknowledged."""
    events = [e async for e in client.get_workflow_handle(workflow_id).fetch_history_events()]
    if events and events[-1].event_type in _TASK_OPEN:
        return "workflow task"
    initiated = {
        e.event_id
        for e in events
        if e.event_type
        in (
            EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
            EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        )
    }
    for e in events:
        answer = _ACKNOWLEDGEMENTS.get(e.event_type)
        if answer is not None:
            initiated.discard(getattr(e, answer).initiated_event_id)
    return "child or signal unacknowledged" if initiated else ""


def _continued_from(events: list[HistoryEvent]) -> str:
    if not events or events[0].event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return ""
    return events[0].workflow_execution_started_event_attributes.continued_execution_run_id


def _pending_timers(events: list[HistoryEvent]) -> int:
    started: set[str] = set()
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started.add(event.timer_started_event_attributes.timer_id)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            started.discard(event.timer_fired_event_attributes.timer_id)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            started.discard(event.timer_canceled_event_attributes.timer_id)
    return len(started)
