"""LoanServicingWorkflow on the time-skipping server with in-memory fake activities.

The fake ``post_loan_event`` builds the ledger as the real activity does (accrual, repayment
and write-off journals, each once per key), so every test checks the ledger invariants:
every journal balanced, the principal receivable equal to the account's outstanding principal
after every event, interest receivable never negative and equal to the interest recognised
less the interest paid or written off.

Time: the workflow works at 01:00 UTC (``DAY_START``); the tests move the server's clock to
noon UTC of a day (``Loan.until``), when that day's work is done, and act then.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
)
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import servicing
from domain.ledger import (
    Account,
    Journal,
    accrual_journal,
    balances,
    disbursement_journal,
    outstanding_principal,
    write_off_journal,
)
from domain.roles import Role
from domain.schedule import (
    PrepaymentStrategy,
    RepaymentMethod,
    ScheduleRequest,
    build_schedule,
)
from domain.servicing import Component, Due, LoanAccount
from tests.workflows.test_demand_workflow import _eventually, _refused_or_closed
from tests.workflows.test_onboarding_workflow import _refusal
from workflows.contracts import (
    Addendum,
    ClassificationChange,
    CloseTask,
    Collect,
    CollectionResult,
    ExtensionDecision,
    ExtensionRequest,
    LoanEvent,
    LoanProgress,
    LoanRef,
    LoanServicingInput,
    NotifyEnterprise,
    OfferDocument,
    OpenedLoan,
    OpenTask,
    Payment,
    Prepayment,
    TaskRef,
    WorkflowType,
    WriteOff,
    documents_queue,
    loan_workflow_id,
)
from workflows.loan import LoanServicingWorkflow

INSTITUTION_ID = uuid.uuid4()
OTHER_INSTITUTION = uuid.uuid4()
OFFICER = uuid.uuid4()
SUPERVISOR = uuid.uuid4()
BORROWER = uuid.uuid4()
PRINCIPAL = Decimal("10000.00")
RATE = Decimal("0.06")
PENALTY_MULTIPLIER = Decimal("1.5")
FEN = Decimal("0.01")
ZERO = Decimal("0.00")
NOON = time(12, 0)


def _fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _penalty_by_hand(basis: Decimal, days: int) -> Decimal:
    """Penalty interest as the contract states it: basis × rate × 1.5 / 360 a day."""
    return _fen(basis * RATE * PENALTY_MULTIPLIER * days / 360)


def _never(_: Collect) -> bool:
    return False


@dataclass
class FakeLoanActivities:
    """In-memory stand-ins for every activity the workflow calls, recording each call with the
    server's date; ``post_loan_event`` also keeps the ledger and checks it after each event."""

    months: int = 3
    start: date | None = None  # the disbursement date, set from the server's clock
    secured: bool = False
    refuses: Callable[[Collect], bool] = _never  # the bank refuses these debits
    loan_id: uuid.UUID = field(default_factory=uuid.uuid4)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)  # activity name → gate
    account: LoanAccount | None = None
    opened: list[LoanRef] = field(default_factory=list)
    collections: list[tuple[date, Collect, bool]] = field(default_factory=list)
    events: list[LoanEvent] = field(default_factory=list)
    event_dates: list[date] = field(default_factory=list)
    journals: dict[str, Journal] = field(default_factory=dict)
    transactions: dict[str, LoanEvent] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # ledger invariants broken, by event
    classifications: list[ClassificationChange] = field(default_factory=list)
    opened_tasks: list[tuple[date, OpenTask]] = field(default_factory=list)
    closed_tasks: list[CloseTask] = field(default_factory=list)
    notifications: list[tuple[date, NotifyEnterprise]] = field(default_factory=list)
    addenda: list[Addendum] = field(default_factory=list)
    certificates: list[LoanRef] = field(default_factory=list)
    task_ids: list[uuid.UUID] = field(default_factory=list)
    answers: dict[str, CollectionResult] = field(default_factory=dict)  # bank, by key
    tasks_by_wait: dict[tuple[Any, ...], uuid.UUID] = field(default_factory=dict)
    delivered: set[str] = field(default_factory=set)  # notification keys

    @staticmethod
    def _today() -> date:
        return activity.info().current_attempt_scheduled_time.astimezone(UTC).date()

    async def _pass(self, key: str) -> None:
        gate = self.gates.get(key)
        if gate is not None:
            await gate.wait()

    @activity.defn(name="open_loan_account")
    async def open_loan_account(self, ref: LoanRef) -> OpenedLoan:
        assert self.start is not None
        self.opened.append(ref)
        schedule = build_schedule(
            ScheduleRequest(
                principal=PRINCIPAL,
                annual_rate=RATE,
                term_periods=self.months,
                method=RepaymentMethod.EQUAL_INSTALLMENT,
                start_date=self.start,
            )
        )
        self.account = servicing.open_account(str(ref.loan_id), schedule)
        key = f"disb-{ref.loan_id}"
        self.journals[key] = disbursement_journal(key, PRINCIPAL)
        return OpenedLoan(account=self.account, secured=self.secured)

    @activity.defn(name="collect_repayment")
    async def collect_repayment(self, collect: Collect) -> CollectionResult:
        """Once per key, as the bank and the UNIQUE key do: a repeat gets the first answer."""
        first = self.answers.get(collect.key)
        if first is not None:
            return first
        refused = self.refuses(collect)
        self.collections.append((self._today(), collect, not refused))
        answer = (
            CollectionResult(succeeded=False, failure_code="insufficient_funds")
            if refused
            else CollectionResult(succeeded=True)
        )
        self.answers[collect.key] = answer
        return answer

    @activity.defn(name="post_loan_event")
    async def post_loan_event(self, event: LoanEvent) -> None:
        self.events.append(event)
        self.event_dates.append(self._today())
        try:
            self._book(event)
        except ValueError as exc:  # an unbalanced or invalid journal: recorded, not retried
            self.problems.append(f"{event.key}: {exc}")
        self._check(event)

    def _journal(self, journal: Journal) -> None:
        posted = self.journals.setdefault(journal.key, journal)
        if posted != journal:
            self.problems.append(f"{journal.key} posted twice with different lines")

    def _book(self, event: LoanEvent) -> None:
        """What the real activity posts: the accrual, then once per event key the money."""
        if event.accrual > 0:
            self._journal(accrual_journal(event.accrual_key, event.accrual))
        seen = self.transactions.get(event.key)
        if seen is not None:
            if (seen.allocation, seen.written_off) != (event.allocation, event.written_off):
                self.problems.append(f"{event.key} posted twice with different money")
            return
        self.transactions[event.key] = event
        if event.allocation is not None and not event.allocation.is_empty:
            self._journal(
                servicing.journals_for_allocation(f"journal-{event.key}", event.allocation)
            )
        if event.written_off is not None and sum(event.written_off) > 0:
            principal, interest = event.written_off
            self._journal(write_off_journal(f"journal-{event.key}", principal, interest))

    def _check(self, event: LoanEvent) -> None:
        account = event.state.account
        for journal in self.journals.values():
            if not journal.balanced:
                self.problems.append(f"{journal.key} unbalanced")
        book = balances(self.journals.values())
        if outstanding_principal(self.journals.values()) != account.principal_outstanding:
            self.problems.append(
                f"{event.key}: ledger principal {book[Account.LOAN_PRINCIPAL_RECEIVABLE]} "
                f"≠ account {account.principal_outstanding}"
            )
        receivable = book[Account.INTEREST_RECEIVABLE]
        if receivable < 0:
            self.problems.append(f"{event.key}: interest receivable {receivable} < 0")
        settled = sum((d.interest_paid + d.interest_written_off for d in account.dues), ZERO)
        if receivable != event.state.interest_recognised - settled:
            self.problems.append(
                f"{event.key}: interest receivable {receivable} ≠ recognised "
                f"{event.state.interest_recognised} − paid or written off {settled}"
            )

    @activity.defn(name="record_classification")
    async def record_classification(self, change: ClassificationChange) -> None:
        self.classifications.append(change)

    @activity.defn(name="open_task")
    async def open_task(self, task: OpenTask) -> TaskRef:
        """One task per (workflow, kind, occurrence, institution), as the UNIQUE key says."""
        wait = (activity.info().workflow_id, task.kind, task.occurrence, task.institution_id)
        known = self.tasks_by_wait.get(wait)
        if known is not None:
            return TaskRef(task_id=known)
        self.opened_tasks.append((self._today(), task))
        task_id = uuid.uuid4()
        self.task_ids.append(task_id)
        self.tasks_by_wait[wait] = task_id
        return TaskRef(task_id=task_id)

    @activity.defn(name="close_task")
    async def close_task(self, close: CloseTask) -> None:
        self.closed_tasks.append(close)

    @activity.defn(name="notify_enterprise")
    async def notify_enterprise(self, message: NotifyEnterprise) -> None:
        """Delivered once per business key, as the notification table's UNIQUE key says."""
        if message.key in self.delivered:
            return
        self.delivered.add(message.key)
        self.notifications.append((self._today(), message))

    @activity.defn(name="issue_extension_addendum")
    async def issue_extension_addendum(self, addendum: Addendum) -> OfferDocument:
        self.addenda.append(addendum)
        return OfferDocument(sha256="e" * 64, apr=RATE, document_id=f"addendum-{addendum.sequence}")

    @activity.defn(name="issue_settlement_certificate")
    async def issue_settlement_certificate(self, ref: LoanRef) -> OfferDocument:
        self.certificates.append(ref)
        await self._pass("issue_settlement_certificate")
        return OfferDocument(sha256="s" * 64, apr=RATE, document_id="settlement")

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.open_loan_account,
            self.collect_repayment,
            self.post_loan_event,
            self.record_classification,
            self.open_task,
            self.close_task,
            self.notify_enterprise,
            self.issue_extension_addendum,
            self.issue_settlement_certificate,
        ]

    def release(self) -> None:
        for gate in self.gates.values():
            gate.set()

    # ---- what the tests read --------------------------------------------------------------
    @property
    def dues(self) -> tuple[Due, ...]:
        assert self.account is not None
        return self.account.dues

    def sent(self, template: str) -> list[tuple[date, dict[str, Any]]]:
        return [(day, dict(n.context)) for day, n in self.notifications if n.template == template]

    def templates(self) -> list[str]:
        return [n.template for _, n in self.notifications]

    def debits(self) -> list[tuple[date, str, Decimal, bool]]:
        """The auto-debits (``pay-{loan}-{due date}-{attempt}``), not the borrower's own
        payments."""
        prefix = f"pay-{self.loan_id}-"
        return [
            (day, c.key, c.amount, ok)
            for day, c, ok in self.collections
            if c.key.removeprefix(prefix).split("-")[0].isdigit()
        ]

    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]

    def event(self, key: str) -> LoanEvent:
        (found,) = (event for event in self.events if event.key == key)
        return found

    def key(self, number: int, attempt: int = 1) -> str:
        """An auto-debit's key: the installment numbered ``number`` now, by its due date."""
        return f"{self.debit_prefix(number)}{attempt}"

    def due_key(self, due: Due, attempt: int = 1) -> str:
        return f"pay-{self.loan_id}-{due.due_date.isoformat()}-{attempt}"

    def debit_prefix(self, number: int) -> str:
        (due,) = (d for d in self.dues if d.number == number)
        return f"pay-{self.loan_id}-{due.due_date.isoformat()}-"

    def assert_ledger(self, final: LoanProgress | None = None) -> None:
        """The invariants after every event, and the ledger against the final account."""
        assert self.problems == []
        assert all(journal.balanced for journal in self.journals.values())
        last = final.state if final is not None else self.events[-1].state
        assert last is not None
        assert outstanding_principal(self.journals.values()) == last.account.principal_outstanding
        assert balances(self.journals.values())[Account.INTEREST_RECEIVABLE] >= 0


@dataclass
class Loan:
    """A serviced loan: the environment, its handle, the fakes behind it."""

    env: WorkflowEnvironment
    fake: FakeLoanActivities
    handle: WorkflowHandle[Any, LoanProgress]
    loan: LoanServicingInput

    async def update(self, name: str, arg: Any) -> LoanProgress:
        progress: LoanProgress = await self.handle.execute_update(
            name, arg, result_type=LoanProgress
        )
        return progress

    async def pay(self, key: str, amount: Decimal) -> LoanProgress:
        return await self.update("make_payment", Payment(key=key, amount=amount, paid_by=BORROWER))

    def pay_key(self, name: str) -> str:
        """A borrower's payment key as the API builds it."""
        return f"pay-{self.fake.loan_id}-m-{name}"

    async def progress(self) -> LoanProgress:
        latest = self.env.client.get_workflow_handle(self.handle.id)
        progress: LoanProgress = await latest.query("progress", result_type=LoanProgress)
        return progress

    async def state(self) -> Any:
        progress = await self.progress()
        assert progress.state is not None
        return progress.state

    async def describe(self, run_id: str = "") -> DescribeWorkflowExecutionResponse:
        """The raw description: the SDK's ``describe()`` cannot decode the next-due search
        attribute once it is unset (the test server keeps it as a null payload)."""
        return await self.env.client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=self.env.client.namespace,
                execution=WorkflowExecution(workflow_id=self.handle.id, run_id=run_id),
            )
        )

    async def run_id(self) -> str:
        """The run id of the latest run."""
        return (await self.describe()).workflow_execution_info.execution.run_id

    async def until(self, day: date, at: time = NOON) -> None:
        """Let the server's clock run to ``at`` UTC on ``day``: that day's work is done."""
        target = datetime.combine(day, at, UTC)
        now = await self.env.get_current_time()
        assert target > now, f"{target} is not after {now}"
        await self.env.sleep(target - now)

    async def today(self) -> date:
        return (await self.env.get_current_time()).astimezone(UTC).date()

    async def result(self) -> LoanProgress:
        return await self.handle.result()

    async def stop(self) -> None:
        """Terminate a loan left running once it is idle: a stranded workflow keeps the
        time-skipping server from skipping time in the next test."""
        quiet_since: int | None = None
        for _ in range(200):  # up to ~5 s
            try:
                description = await self.describe()
            except RPCError:
                return
            info = description.workflow_execution_info
            if WorkflowExecutionStatus(info.status) != WorkflowExecutionStatus.RUNNING:
                return
            if description.pending_activities or description.HasField("pending_workflow_task"):
                quiet_since = None
            elif quiet_since == info.history_length:
                break  # idle twice in a row with no new events
            else:
                quiet_since = info.history_length
            await asyncio.sleep(0.05)
        with contextlib.suppress(RPCError):
            await self.env.client.get_workflow_handle(self.handle.id).terminate("test finished")


@asynccontextmanager
async def serviced(env: WorkflowEnvironment, fake: FakeLoanActivities) -> AsyncIterator[Loan]:
    """A worker on a fresh task queue and one loan disbursed today (the server's date)."""
    fake.start = (await env.get_current_time()).astimezone(UTC).date()
    queue = f"tq-{uuid.uuid4()}"
    loan = LoanServicingInput(
        loan_id=fake.loan_id,
        application_id=uuid.uuid4(),
        enterprise_id=uuid.uuid4(),
        institution_id=INSTITUTION_ID,
    )
    async with (
        Worker(
            env.client, task_queue=queue, workflows=[LoanServicingWorkflow], activities=fake.all()
        ),
        Worker(env.client, task_queue=documents_queue(queue), activities=fake.all()),
    ):
        handle: WorkflowHandle[Any, LoanProgress] = await env.client.start_workflow(
            WorkflowType.LOAN_SERVICING,
            loan,
            id=loan_workflow_id(fake.loan_id),
            task_queue=queue,
            result_type=LoanProgress,
        )
        case = Loan(env=env, fake=fake, handle=handle, loan=loan)
        try:
            await _eventually(lambda: bool(fake.events), "account opened")
            yield case
        finally:
            fake.release()  # never leave the worker waiting on a blocked activity
            await case.stop()


def _refuses_installment(fake: FakeLoanActivities, *numbers: int) -> Callable[[Collect], bool]:
    return lambda collect: collect.key.startswith(tuple(fake.debit_prefix(n) for n in numbers))


def _decision(
    *,
    approve: bool,
    reason: str = "",
    decider: uuid.UUID = OFFICER,
    role: Role = Role.OFFICER,
    institution: uuid.UUID | None = INSTITUTION_ID,
) -> ExtensionDecision:
    return ExtensionDecision(
        approve=approve,
        reason=reason,
        decider_id=decider,
        decider_role=role.value,
        decider_institution_id=institution,
    )


def _write_off(
    *,
    role: Role = Role.SUPERVISOR,
    institution: uuid.UUID | None = INSTITUTION_ID,
    reason: str = "borrower insolvent, recovery exhausted",
) -> WriteOff:
    return WriteOff(
        decider_id=SUPERVISOR,
        decider_role=role.value,
        decider_institution_id=institution,
        reason=reason,
    )


def _extension(months: int, reason: str = "seasonal cash flow") -> ExtensionRequest:
    return ExtensionRequest(requested_by=BORROWER, extra_months=months, reason=reason)


# ---- repayment ------------------------------------------------------------------------------


async def test_on_time_auto_debits_close_the_loan_with_reminders_and_a_settlement_certificate(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3)
    async with serviced(time_skipping_env, fake) as case:
        result = await case.result()
    dues = fake.dues
    assert result.status == "closed"
    assert result.principal_outstanding == ZERO
    assert result.category == "normal"
    assert fake.opened == [LoanRef(loan_id=fake.loan_id)]
    assert fake.debits() == [
        (due.due_date, fake.due_key(due), due.principal + due.interest, True) for due in dues
    ]
    assert fake.sent("repayment_reminder") == [
        (
            due.due_date - timedelta(days=3),
            {
                "number": str(due.number),
                "due_date": due.due_date.isoformat(),
                "amount": f"{due.principal + due.interest:,.2f}",
            },
        )
        for due in dues
    ]
    assert fake.templates() == [
        *["repayment_reminder", "repayment_received"] * 3,
        "loan_settled",
    ]
    assert fake.certificates == [LoanRef(loan_id=fake.loan_id)]
    assert fake.classifications == []
    assert fake.opened_tasks == []
    assert result.state is not None
    assert result.state.interest_recognised == sum((due.interest for due in dues), ZERO)
    assert [e.kind for e in fake.events if e.kind in ("due", "auto_debit")] == [
        "due",
        "auto_debit",
    ] * 3
    book = balances(fake.journals.values())
    assert book[Account.INTEREST_RECEIVABLE] == ZERO
    assert book[Account.INTEREST_INCOME] == sum((due.interest for due in dues), ZERO)
    assert book[Account.SETTLEMENT_CASH] == sum((due.interest for due in dues), ZERO)
    fake.assert_ledger(result)


async def test_refused_debits_then_a_partial_and_a_late_payment_pay_penalty_interest_first(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3)
    fake.refuses = _refuses_installment(fake, 1)
    async with serviced(time_skipping_env, fake) as case:
        first = fake.dues[0]
        due = first.due_date
        owed = first.principal + first.interest
        await case.until(due + timedelta(days=1))
        overdue = await case.progress()
        partial = await case.pay(case.pay_key("partial"), Decimal("1000.00"))
        await case.until(due + timedelta(days=10))
        day_one = _penalty_by_hand(owed, 1)  # on the whole installment, the day after its date
        remainder = owed - (Decimal("1000.00") - day_one)  # principal still unpaid
        late_penalty = _penalty_by_hand(remainder, 9)  # nine more days, on that principal
        paid = await case.pay(case.pay_key("late"), remainder + late_penalty)
        result = await case.result()
    # three debits on the due date and the next two days, penalty included, all refused
    third_day_penalty = _penalty_by_hand(remainder, 1)
    assert fake.debits()[:3] == [
        (due, fake.key(1, 1), owed, False),
        (due + timedelta(days=1), fake.key(1, 2), owed + day_one, False),
        (due + timedelta(days=2), fake.key(1, 3), remainder + third_day_penalty, False),
    ]
    assert [d[1] for d in fake.debits()[3:]] == [fake.key(2), fake.key(3)]
    assert all(ok for *_, ok in fake.debits()[3:])
    assert (overdue.days_past_due, overdue.category) == (1, "special_mention")
    # the partial payment: penalty → interest → principal
    allocation = fake.event(case.pay_key("partial")).allocation
    assert allocation is not None
    assert day_one == Decimal("0.84")
    assert allocation.by_installment == (
        (1, Component.PENALTY, day_one),
        (1, Component.INTEREST, first.interest),
        (1, Component.PRINCIPAL, Decimal("1000.00") - day_one - first.interest),
    )
    assert (allocation.cash, allocation.to_credit, allocation.from_credit) == (
        Decimal("1000.00"),
        ZERO,
        ZERO,
    )
    assert partial.days_past_due == 1
    # the late payment: nine more days of penalty on the unpaid principal only
    late_allocation = fake.event(case.pay_key("late")).allocation
    assert late_allocation is not None
    assert late_allocation.by_installment == (
        (1, Component.PENALTY, late_penalty),
        (1, Component.PRINCIPAL, remainder),
    )
    account = fake.events[-1].state.account
    assert account.dues[0].penalty_paid == day_one + late_penalty
    assert paid.days_past_due == 0  # reclassified by the main loop right after (below)
    assert [
        (c.as_of, c.category, c.previous_category, c.days_past_due) for c in fake.classifications
    ] == [
        (due + timedelta(days=1), "special_mention", "normal", 1),
        (due + timedelta(days=10), "normal", "special_mention", 0),
    ]
    assert [(day, ctx["days"]) for day, ctx in fake.sent("repayment_overdue")] == [
        (due + timedelta(days=1), "1"),
        (due + timedelta(days=7), "7"),
    ]
    assert fake.opened_tasks == []  # cured before 30 days past due
    assert result.status == "closed"
    book = balances(fake.journals.values())
    assert book[Account.PENALTY_INCOME] == day_one + late_penalty
    fake.assert_ledger(result)


async def test_overpayment_is_kept_as_credit_and_used_on_the_next_due_date(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3)
    async with serviced(time_skipping_env, fake) as case:
        first, second, third = fake.dues
        await case.until(first.due_date)
        extra = await case.pay(case.pay_key("extra"), Decimal("1000.00"))
        await case.until(second.due_date - timedelta(days=1))
        before = await case.progress()
        await case.until(second.due_date)
        after = await case.progress()
        result = await case.result()
    assert extra.credit == Decimal("1000.00")
    assert extra.principal_outstanding == PRINCIPAL - first.principal  # nothing not yet due paid
    allocation = fake.event(case.pay_key("extra")).allocation
    assert allocation is not None
    assert (allocation.cash, allocation.to_credit, allocation.total) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        ZERO,
    )
    assert before.credit == Decimal("1000.00")
    assert after.credit == ZERO
    used = fake.event(f"credit-{fake.loan_id}-{second.due_date.isoformat()}").allocation
    assert used is not None
    assert (used.cash, used.from_credit) == (ZERO, Decimal("1000.00"))
    assert used.by_installment == (
        (2, Component.INTEREST, second.interest),
        (2, Component.PRINCIPAL, Decimal("1000.00") - second.interest),
    )
    owed = second.principal + second.interest
    assert fake.debits() == [
        (first.due_date, fake.key(1), first.principal + first.interest, True),
        (second.due_date, fake.key(2), owed - Decimal("1000.00"), True),
        (third.due_date, fake.key(3), third.principal + third.interest, True),
    ]
    assert result.status == "closed"
    assert result.credit == ZERO
    assert balances(fake.journals.values())[Account.BORROWER_CREDIT] == ZERO
    fake.assert_ledger(result)


async def test_the_same_payment_key_twice_is_applied_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3)
    async with serviced(time_skipping_env, fake) as case:
        await case.until(fake.dues[0].due_date)
        key = case.pay_key("once")
        once = await case.pay(key, Decimal("500.00"))
        twice = await case.pay(key, Decimal("500.00"))  # a retry: another Update, same key
        result = await case.result()
    assert once.credit == twice.credit == Decimal("500.00")
    assert [c.key for _, c, _ in fake.collections].count(key) == 1
    assert [e.key for e in fake.events].count(key) == 1
    assert result.status == "closed"
    second = fake.dues[1]
    assert fake.debits()[1][2] == second.principal + second.interest - Decimal("500.00")
    assert balances(fake.journals.values())[Account.SETTLEMENT_CASH] == sum(
        (due.interest for due in fake.dues), ZERO
    )
    fake.assert_ledger(result)


async def test_a_payment_the_bank_refuses_is_not_applied_and_a_cure_closes_the_follow_up(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3)
    bounced = f"pay-{fake.loan_id}-m-bounced"
    debits_refused = _refuses_installment(fake, 1, 2)
    fake.refuses = lambda c: c.key == bounced or debits_refused(c)
    async with serviced(time_skipping_env, fake) as case:
        due = fake.dues[0].due_date
        on = due + timedelta(days=30)
        await case.until(on)
        refused = await _refusal(case.pay(bounced, Decimal("100.00")))
        state = await case.state()
        owed = servicing.accrue_penalty(state.account, on)[0].amount_due(on)
        cure = case.pay_key("cure")
        cured = await case.pay(cure, owed)
        fake.refuses = _never  # the borrower's account is funded again
        await _eventually(lambda: bool(fake.closed_tasks), "follow-up closed")
        result = await case.result()
    assert refused.type == "payment.refused"
    assert bounced not in [e.key for e in fake.events]
    assert cured.days_past_due == 0
    ((opened_on, task),) = fake.opened_tasks
    assert (opened_on, task.kind) == (on, "overdue_followup")
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_ids[0], outcome="cured", assignee_id=None)
    ]
    assert [(c.as_of, c.category) for c in fake.classifications] == [
        (due + timedelta(days=1), "special_mention"),
        (on, "normal"),
    ]
    allocation = fake.event(cure).allocation
    assert allocation is not None
    first = fake.dues[0]
    assert (1, Component.PENALTY, _penalty_by_hand(first.principal + first.interest, 30)) in (
        allocation.by_installment
    )
    assert result.status == "closed"
    fake.assert_ledger(result)


# ---- classification and write-off ------------------------------------------------------------


async def test_an_unpaid_loan_moves_through_the_five_categories_with_a_follow_up_task(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=24, refuses=lambda _: True)
    async with serviced(time_skipping_env, fake) as case:
        first = fake.dues[0].due_date
        await case.until(first + timedelta(days=361))
        progress = await case.progress()
        last_run = await case.run_id()
    day = timedelta(days=1)
    assert [
        (c.as_of, c.category, c.previous_category, c.days_past_due) for c in fake.classifications
    ] == [
        (first + day, "special_mention", "normal", 1),
        (first + 91 * day, "substandard", "special_mention", 91),
        (first + 271 * day, "doubtful", "substandard", 271),
        (first + 361 * day, "loss", "doubtful", 361),
    ]
    assert (progress.category, progress.days_past_due) == ("loss", 361)
    assert last_run != case.handle.first_execution_run_id  # twelve dues fell in the first run
    ((opened_on, task),) = fake.opened_tasks
    assert opened_on == first + 30 * day
    assert (task.kind, task.required_role, task.institution_id) == (
        "overdue_followup",
        Role.OFFICER.value,
        INSTITUTION_ID,
    )
    assert task.context == {"days_past_due": "30", "episode": "1"}
    assert task.occurrence == 1  # the first overdue episode
    assert task.subject == f"loan-{fake.loan_id}"
    assert fake.closed_tasks == []
    assert [(d, ctx["days"]) for d, ctx in fake.sent("repayment_overdue")] == [
        (first + day, "1"),
        (first + 7 * day, "7"),
        (first + 30 * day, "30"),
    ]
    # each installment fallen due is debited on its due date and the next two days
    fallen = [due for due in fake.dues if due.due_date <= first + 361 * day]
    expected = [
        (due.due_date + attempt * day, fake.due_key(due, attempt + 1))
        for due in fallen
        for attempt in range(3)
        if due.due_date + attempt * day <= first + 361 * day
    ]
    assert [(d, key) for d, key, _, _ in fake.debits()] == expected
    assert not any(ok for *_, ok in fake.debits())
    fake.assert_ledger()


async def test_a_supervisor_writes_off_a_loss_loan_after_refusals(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3, refuses=lambda _: True)
    async with serviced(time_skipping_env, fake) as case:
        first = fake.dues[0].due_date
        await case.until(first + timedelta(days=100))
        substandard = await case.progress()
        not_yet = await _refusal(case.update("write_off", _write_off()))
        await case.until(first + timedelta(days=361))
        by_officer = await _refusal(case.update("write_off", _write_off(role=Role.OFFICER)))
        elsewhere = await _refusal(
            case.update("write_off", _write_off(institution=OTHER_INSTITUTION))
        )
        no_reason = await _refusal(case.update("write_off", _write_off(reason=" ")))
        written = await case.update("write_off", _write_off())
        result = await case.result()
    assert substandard.category == "substandard"
    assert not_yet.type == "loan.not_written_off_category"
    assert by_officer.type == "credit.beyond_authority"
    assert elsewhere.type == "credit.wrong_institution"
    assert no_reason.type == "credit.reason_required"
    assert written.status == "written_off"
    assert result.status == "written_off"
    assert result.principal_outstanding == ZERO
    interest = sum((due.interest for due in fake.dues), ZERO)
    event = fake.events[-1]
    assert event.kind == "write_off"
    assert event.written_off == (PRINCIPAL, interest)
    assert str(SUPERVISOR) in event.memo
    ((_, task),) = fake.opened_tasks
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_ids[0], outcome="written_off", assignee_id=None)
    ]
    assert task.kind == "overdue_followup"
    assert fake.certificates == []
    assert "loan_settled" not in fake.templates()
    book = balances(fake.journals.values())
    assert book[Account.WRITE_OFF_EXPENSE] == PRINCIPAL + interest
    assert book[Account.INTEREST_RECEIVABLE] == ZERO
    fake.assert_ledger(result)


# ---- prepayment and payoff -------------------------------------------------------------------


@pytest.mark.parametrize(
    "strategy",
    [PrepaymentStrategy.REDUCE_INSTALLMENT_COUNT, PrepaymentStrategy.REDUCE_INSTALLMENT_AMOUNT],
)
async def test_prepayment_shortens_the_loan_or_lowers_the_installment(
    time_skipping_env: WorkflowEnvironment, strategy: PrepaymentStrategy
) -> None:
    fake = FakeLoanActivities(months=6)
    async with serviced(time_skipping_env, fake) as case:
        first = fake.dues[0]
        on = first.due_date + timedelta(days=10)
        await case.until(on)
        key = f"pay-{fake.loan_id}-p-1"
        amount = Decimal("3000.00")
        prepaid = await case.update(
            "prepay", Prepayment(key=key, amount=amount, strategy=strategy, paid_by=BORROWER)
        )
        result = await case.result()
    original = fake.dues
    outstanding = PRINCIPAL - first.principal
    broken = _fen(outstanding * RATE * 10 / 360)
    allocation = fake.event(key).allocation
    assert allocation is not None
    assert allocation.by_installment == (
        (2, Component.INTEREST, broken),
        (2, Component.PRINCIPAL, amount - broken),
    )
    assert prepaid.principal_outstanding == outstanding - (amount - broken)
    assert prepaid.state is not None
    rebuilt = [due for due in prepaid.state.account.dues if due.due_date > on]
    installment = original[1].principal + original[1].interest
    if strategy is PrepaymentStrategy.REDUCE_INSTALLMENT_COUNT:
        assert len(rebuilt) < len(original) - 1
        assert rebuilt[-1].due_date < original[-1].due_date
    else:
        assert len(rebuilt) == len(original) - 1
        assert rebuilt[-1].due_date == original[-1].due_date
        assert all(due.principal + due.interest < installment for due in rebuilt)
    # the later debits follow the rebuilt schedule
    assert fake.debits()[1:] == [
        (due.due_date, fake.due_key(due), due.principal + due.interest, True) for due in rebuilt
    ]
    assert ("prepayment_received" in fake.templates()) is True
    assert result.status == "closed"
    fake.assert_ledger(result)


async def test_payoff_at_the_quote_closes_the_loan_and_later_payments_are_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3, gates={"issue_settlement_certificate": asyncio.Event()})
    async with serviced(time_skipping_env, fake) as case:
        first = fake.dues[0]
        on = first.due_date + timedelta(days=15)
        await case.until(on)
        state = await case.state()
        quote = servicing.payoff_quote(state.account, on, on)
        short = await _refusal(
            case.update(
                "pay_off",
                Payment(key=case.pay_key("short"), amount=quote.total - FEN, paid_by=BORROWER),
            )
        )
        key = f"pay-{fake.loan_id}-o-1"
        paid = await case.update("pay_off", Payment(key=key, amount=quote.total, paid_by=BORROWER))
        await _eventually(lambda: bool(fake.certificates), "certificate requested")
        closed = await _refusal(case.pay(case.pay_key("after"), Decimal("100.00")))
        fake.release()
        result = await case.result()
        after = await _refused_or_closed(case.pay(case.pay_key("later"), Decimal("100.00")))
    outstanding = PRINCIPAL - first.principal
    broken = _fen(outstanding * RATE * 15 / 360)
    assert (quote.principal, quote.interest, quote.penalty) == (outstanding, broken, ZERO)
    assert quote.total == outstanding + broken
    assert short.type == "payoff.insufficient"
    assert paid.status == "closed"
    assert closed.type == "loan.not_active"
    assert after in ("closed", "loan.not_active")
    assert result.status == "closed"
    assert [c.key for _, c, _ in fake.collections] == [fake.key(1), key]
    allocation = fake.event(key).allocation
    assert allocation is not None
    assert (allocation.interest, allocation.principal, allocation.to_credit) == (
        broken,
        outstanding,
        ZERO,
    )
    assert fake.certificates == [LoanRef(loan_id=fake.loan_id)]
    assert fake.templates()[-1] == "loan_settled"
    assert balances(fake.journals.values())[Account.INTEREST_RECEIVABLE] == ZERO
    fake.assert_ledger(result)


# ---- extension -----------------------------------------------------------------------------------


async def test_an_approved_extension_issues_an_addendum_and_moves_the_due_dates(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3)
    async with serviced(time_skipping_env, fake) as case:
        first_run = case.handle.first_execution_run_id
        original_maturity = fake.dues[-1].due_date
        await case.until(fake.dues[0].due_date + timedelta(days=5))
        requested = await case.update("request_extension", _extension(3))
        again = await _refusal(case.update("request_extension", _extension(1)))
        approved = await case.update("decide_extension", _decision(approve=True))
        await _eventually(lambda: bool(fake.addenda), "addendum issued")
        result = await case.result()
        last_run = await case.run_id()
    assert requested.extension_pending is True
    assert again.type == "extension.pending"
    ((_, task),) = fake.opened_tasks
    assert (task.kind, task.required_role, task.institution_id) == (
        "extension_approval",
        Role.OFFICER.value,
        INSTITUTION_ID,
    )
    assert task.context["extra_months"] == "3"
    assert approved.extension_pending is False
    assert approved.state is not None
    extended = approved.state.account
    ((addendum),) = fake.addenda
    assert (addendum.sequence, addendum.original_maturity, addendum.extra_months) == (
        1,
        original_maturity,
        3,
    )
    assert addendum.account == extended
    assert len(extended.dues) == 6
    assert extended.maturity_date > original_maturity
    assert extended.extended_months == 3
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_ids[0], outcome="approved", assignee_id=OFFICER)
    ]
    assert fake.sent("extension_approved") == [
        (
            fake.dues[0].due_date + timedelta(days=5),
            {"maturity": extended.maturity_date.isoformat()},
        )
    ]
    assert last_run != first_run  # continued as new on the new schedule
    # the due-date timers follow the new schedule, to its maturity
    assert fake.debits() == [
        (due.due_date, fake.due_key(due), due.principal + due.interest, True)
        for due in (fake.dues[0], *extended.dues[1:])
    ]
    reminders = [day for day, _ in fake.sent("repayment_reminder")]
    assert reminders[1:] == [due.due_date - timedelta(days=3) for due in extended.dues[1:]]
    assert result.status == "closed"
    fake.assert_ledger(result)


async def test_an_extension_refused_with_a_reason_keeps_the_schedule(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=3)
    async with serviced(time_skipping_env, fake) as case:
        on = fake.dues[0].due_date + timedelta(days=5)
        await case.until(on)
        await case.update("request_extension", _extension(2))
        elsewhere = await _refusal(
            case.update("decide_extension", _decision(approve=True, institution=OTHER_INSTITUTION))
        )
        by_requester = await _refusal(
            case.update("decide_extension", _decision(approve=True, decider=BORROWER))
        )
        wrong_role = await _refusal(
            case.update("decide_extension", _decision(approve=True, role=Role.INSTITUTION_ADMIN))
        )
        no_reason = await _refusal(case.update("decide_extension", _decision(approve=False)))
        refused = await case.update(
            "decide_extension", _decision(approve=False, reason="cash flow covers the schedule")
        )
        result = await case.result()
    assert elsewhere.type == "credit.wrong_institution"
    assert by_requester.type == "credit.maker_checker"
    assert wrong_role.type == "credit.beyond_authority"
    assert no_reason.type == "credit.reason_required"
    assert refused.extension_pending is False
    assert fake.addenda == []
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_ids[0], outcome="declined", assignee_id=OFFICER)
    ]
    assert fake.sent("extension_declined") == [(on, {"reason": "cash flow covers the schedule"})]
    assert fake.events[-1].kind != "extended"
    assert "extended" not in fake.kinds()
    assert fake.debits() == [
        (due.due_date, fake.due_key(due), due.principal + due.interest, True) for due in fake.dues
    ]
    assert result.state is not None
    assert result.state.account.maturity_date == fake.dues[-1].due_date
    assert result.status == "closed"
    fake.assert_ledger(result)


# ---- validation ------------------------------------------------------------------------------


async def test_updates_that_break_the_rules_are_rejected_without_side_effects(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=12)
    async with serviced(time_skipping_env, fake) as case:
        zero = await _refusal(case.pay(case.pay_key("zero"), ZERO))
        negative = await _refusal(case.pay(case.pay_key("negative"), Decimal("-5.00")))
        too_much = await _refusal(case.pay(case.pay_key("big"), PRINCIPAL * 2))
        beyond = await _refusal(case.update("request_extension", _extension(13)))
        no_reason = await _refusal(case.update("request_extension", _extension(3, reason=" ")))
        nothing_pending = await _refusal(case.update("decide_extension", _decision(approve=True)))
        normal_loan = await _refusal(case.update("write_off", _write_off()))
        officer = await _refusal(case.update("write_off", _write_off(role=Role.OFFICER)))
        progress = await case.progress()
    assert zero.type == "payment.not_positive"
    assert negative.type == "payment.not_positive"
    assert too_much.type == "payment.exceeds_payoff"
    assert beyond.type == "extension.limit_exceeded"
    assert no_reason.type == "extension.reason_required"
    assert nothing_pending.type == "extension.not_pending"
    assert normal_loan.type == "loan.not_written_off_category"
    assert officer.type == "credit.beyond_authority"
    assert progress.status == "active"
    assert progress.extension_pending is False
    assert fake.collections == []
    assert fake.opened_tasks == []
    assert fake.kinds() == ["opened"]
    fake.assert_ledger()


# ---- continue-as-new -------------------------------------------------------------------------


async def test_a_long_loan_continues_as_new_each_year_keeping_its_state(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeLoanActivities(months=36)
    async with serviced(time_skipping_env, fake) as case:
        first_run = case.handle.first_execution_run_id
        twelfth = fake.dues[11]
        await case.until(twelfth.due_date - timedelta(days=1))
        assert await case.run_id() == first_run
        await case.until(twelfth.due_date)
        second_run = await case.run_id()
        state = await case.state()
        assert first_run is not None
        earlier = (await case.describe(first_run)).workflow_execution_info
        result = await case.result()
        final_run = await case.run_id()
    assert second_run != first_run
    assert WorkflowExecutionStatus(earlier.status) == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert final_run not in (first_run, second_run)
    paid = [due for due in state.account.dues if due.settled]
    assert [due.number for due in paid] == list(range(1, 13))
    assert state.interest_recognised == sum((due.interest for due in fake.dues[:12]), ZERO)
    assert state.dues_processed == 0
    assert state.due_through == twelfth.due_date
    assert twelfth.due_date in state.reminded_dates
    assert result.status == "closed"
    assert result.state is not None
    assert result.state.interest_recognised == sum((due.interest for due in fake.dues), ZERO)
    assert [key for _, key, _, _ in fake.debits()] == [fake.key(n) for n in range(1, 37)]
    assert fake.certificates == [LoanRef(loan_id=fake.loan_id)]
    assert len(fake.sent("repayment_reminder")) == 36
    assert fake.kinds().count("opened") == 1
    fake.assert_ledger(result)
