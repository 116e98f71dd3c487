"""Loans serviced by the real worker on the time-skipping server: a disbursed loan written
to PostgreSQL as origination leaves it (enterprise, institution, staff, product, accepted
application, loan, balanced disbursement journal), its ``loan-{id}`` workflow run by every
real activity against the sandbox providers over HTTP, and readers of what it left behind."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from audit.chain import verify_decision_log
from config.crypto import field_cipher
from config.settings import Settings
from db.models import (
    AppUser,
    DecisionLogEntry,
    Enterprise,
    HumanTask,
    Institution,
    JournalEntry,
    JournalLineRow,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanProductVersion,
    Notification,
)
from db.repositories import post_journal
from domain.ledger import Account, disbursement_journal
from domain.product_codec import terms_to_json
from domain.products import FinancingType, Pricing, ProductFamily, ProductTerms
from domain.roles import Role
from domain.schedule import RepaymentMethod
from simulation.invariants import work_pending
from worker import build_workers
from workflows.contracts import (
    SEALED_PAYER_ACCOUNT,
    LoanProgress,
    LoanServicingInput,
    Payment,
    TaskQueue,
    WorkflowType,
    loan_workflow_id,
)

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
NOON = time(12, 0)  # the workflow works at 01:00 UTC; tests act at noon UTC, after that
GOOD_ACCOUNT = "6222020200112233445"
BROKE_ACCOUNT = "6222020200112230000"  # the sandbox bank refuses collections from it


@dataclass
class Lender:
    institution_id: uuid.UUID
    officer: uuid.UUID
    second_officer: uuid.UUID
    supervisor: uuid.UUID


@dataclass
class ServicedLoan:
    """One loan under servicing and the handles a test needs."""

    loan_id: uuid.UUID
    enterprise_id: uuid.UUID
    borrower: uuid.UUID
    lender: Lender
    handle: WorkflowHandle[Any, Any]
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    start: date

    @property
    def workflow_id(self) -> str:
        return loan_workflow_id(self.loan_id)

    async def until(self, day: date, at: time = NOON) -> None:
        """Move the server's clock to ``day`` at ``at`` (UTC) and let the workflow catch up."""
        target = datetime.combine(day, at, UTC)
        now = await self.env.get_current_time()
        if target > now:
            await self.env.sleep(target - now)
        await self.settled()

    async def settled(self) -> None:
        """Wait (real time) until no activity nor workflow task of this loan is in flight
        (the test server reports no workflow task in a description: the history shows it)."""
        request = DescribeWorkflowExecutionRequest(
            namespace=self.env.client.namespace,
            execution=WorkflowExecution(workflow_id=self.workflow_id),
        )
        for _ in range(400):
            # The raw call: it does not decode search attributes (see servicing-correctness-v1).
            description = await self.env.client.workflow_service.describe_workflow_execution(
                request
            )
            running = (
                description.workflow_execution_info.status
                == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
            )
            if not description.pending_activities and not (
                running and await work_pending(self.env.client, self.workflow_id)
            ):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.workflow_id}: activities still pending")

    async def progress(self) -> LoanProgress:
        result: LoanProgress = await self.handle.query("progress", result_type=LoanProgress)
        return result

    async def notices(self, template: str) -> list[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Notification.delivery_key)
                .where(
                    Notification.enterprise_id == self.enterprise_id,
                    Notification.template == template,
                )
                .order_by(Notification.created_at)
            )
            return list(rows)

    async def tasks(self, kind: str) -> list[HumanTask]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(HumanTask)
                .where(HumanTask.workflow_id == self.workflow_id, HumanTask.kind == kind)
                .order_by(HumanTask.created_at)
            )
            return list(rows)

    async def decisions(self) -> list[DecisionLogEntry]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(DecisionLogEntry)
                .where(DecisionLogEntry.subject == self.workflow_id)
                .order_by(DecisionLogEntry.seq)
            )
            return list(rows)

    async def chain_verifies(self) -> bool:
        """The whole hash-chained decision log verifies (every entry, every checkpoint)."""
        async with self.sessions() as session:
            report = await verify_decision_log(session)
        return report.intact

    async def assert_consistent(self) -> None:
        """What holds after every test: balanced journals, the ledger's principal equal to the
        loan's, no workflow task ever failed, the decision chain intact."""
        assert await self.unbalanced_journals() == 0
        row = await self.loan_row()
        assert await self.ledger_principal() == row.outstanding_principal
        assert await self.failed_workflow_tasks() == 0
        assert await self.chain_verifies()

    def guarantor_payment(self, key: str, amount: Decimal) -> Payment:
        """A payment from the guarantor's own account, sealed as the API seals it."""
        return Payment(
            key=f"pay-{self.loan_id}-{key}",
            amount=amount,
            paid_by=self.borrower,
            sealed_payer_account=field_cipher().encrypt(GOOD_ACCOUNT, context=SEALED_PAYER_ACCOUNT),
        )

    async def loan_row(self) -> Loan:
        async with self.sessions() as session:
            loan = await session.get(Loan, self.loan_id)
            assert loan is not None
            return loan

    async def histories(self) -> list[WorkflowHistory]:
        """Every run's history, oldest first, following the continue-as-new links (the
        time-skipping server has no visibility listing)."""
        histories: list[WorkflowHistory] = []
        run_id: str | None = self.handle.first_execution_run_id or self.handle.run_id
        while run_id:
            history = await self.env.client.get_workflow_handle(
                self.workflow_id, run_id=run_id
            ).fetch_history()
            histories.append(history)
            last = history.events[-1]
            run_id = (
                last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
                else None
            )
        return histories

    async def record(self, branch: str) -> None:
        """With RECORD_HISTORIES=1, commit every run's history as ``loan_<branch>_run<n>``
        to tests/histories/, which the replay test replays against today's code."""
        if os.environ.get("RECORD_HISTORIES") != "1":
            return
        for n, history in enumerate(await self.histories(), 1):
            (HISTORIES / f"loan_{branch}_run{n}.json").write_text(history.to_json())

    async def failed_workflow_tasks(self) -> int:
        """Workflow tasks that failed in any run of this loan (a handler that raised)."""
        return sum(
            1
            for history in await self.histories()
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        )

    async def ledger_principal(self) -> Decimal:
        """Principal receivable from the journals: debits less credits on the loan account."""
        async with self.sessions() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(JournalLineRow.debit - JournalLineRow.credit), 0))
                .join(JournalEntry, JournalEntry.id == JournalLineRow.journal_id)
                .where(
                    JournalEntry.loan_id == self.loan_id,
                    JournalLineRow.account == Account.LOAN_PRINCIPAL_RECEIVABLE.value,
                )
            )
            return Decimal(total or 0)

    async def unbalanced_journals(self) -> int:
        async with self.sessions() as session:
            rows = await session.execute(
                select(JournalEntry.key)
                .join(JournalLineRow, JournalLineRow.journal_id == JournalEntry.id)
                .where(JournalEntry.loan_id == self.loan_id)
                .group_by(JournalEntry.key)
                .having(func.sum(JournalLineRow.debit) != func.sum(JournalLineRow.credit))
            )
            return len(rows.all())


def product_terms(*, secured: bool = False) -> ProductTerms:
    return ProductTerms(
        family=ProductFamily.WORKING_CAPITAL,
        financing_type=FinancingType.GUARANTEED if secured else FinancingType.CREDIT,
        amount_min=Decimal("1000"),
        amount_max=Decimal("5000000"),
        term_min_months=1,
        term_max_months=60,
        pricing=Pricing.fixed(Decimal("0.03"), Decimal("0.12")),
        repayment_methods=frozenset(RepaymentMethod),
        active_from=date(2024, 1, 1),
        guarantee_required=secured,
    )


async def seed_lender(sessions: async_sessionmaker[AsyncSession]) -> Lender:
    tag = uuid.uuid4().hex[:8]
    async with sessions() as session, session.begin():
        institution = Institution(code=f"LC-{tag}".upper(), name=f"生命周期银行{tag}", kind="bank")
        session.add(institution)
        await session.flush()
        staff = [
            AppUser(
                username=f"lc-{role}-{n}-{tag}",
                password_hash="x",
                role=role,
                display_name=f"{role} {n}",
                institution_id=institution.id,
            )
            for role, n in (
                (Role.OFFICER.value, 1),
                (Role.OFFICER.value, 2),
                (Role.SUPERVISOR.value, 1),
            )
        ]
        session.add_all(staff)
        await session.flush()
        return Lender(institution.id, staff[0].id, staff[1].id, staff[2].id)


async def seed_disbursed_loan(
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
    disbursed_at: datetime,
    *,
    principal: Decimal = Decimal("10000.00"),
    rate: Decimal = Decimal("0.06"),
    months: int = 3,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
    account: str = GOOD_ACCOUNT,
    secured: bool = False,
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A loan as origination leaves it at disbursement: (loan, enterprise, borrower user)."""
    tag = uuid.uuid4().hex[:10]
    cipher = field_cipher()
    async with sessions() as session, session.begin():
        enterprise = Enterprise(
            name=f"生命周期企业{tag}",
            uscc=f"91440300{tag[:9].upper()}X"[:18],
            registered_capital=Decimal("1000000"),
            founding_date=date(2018, 1, 1),
            industry="C",
            region="440305",
            legal_rep_name="测试",
            legal_rep_id_number=f"ID-{tag}",
            legal_rep_id_hash=cipher.lookup_hash(f"ID-{tag}", purpose="id_number"),
            mobile="13800138000",
            mobile_hash=cipher.lookup_hash(f"13800138000-{tag}", purpose="mobile"),
            status="verified",
            workflow_id=f"enterprise-lc-{tag}",
        )
        session.add(enterprise)
        await session.flush()
        borrower = AppUser(
            username=f"lc-applicant-{tag}",
            password_hash="x",
            role=Role.APPLICANT.value,
            enterprise_id=enterprise.id,
        )
        product = LoanProduct(
            institution_id=lender.institution_id,
            code=f"LC-{tag}",
            name=f"周转贷 {tag}",
            status="retired",  # out of other tests' matching
        )
        session.add_all([borrower, product])
        await session.flush()
        session.add(
            LoanProductVersion(
                product_id=product.id,
                version=1,
                terms=terms_to_json(product_terms(secured=secured)),
                created_by=lender.supervisor,
            )
        )
        application = LoanApplication(
            enterprise_id=enterprise.id,
            institution_id=lender.institution_id,
            product_id=product.id,
            product_version=1,
            amount=principal,
            term_months=months,
            repayment_method=method.value,
            status="disbursed",
            workflow_id=f"application-lc-{tag}",
        )
        session.add(application)
        await session.flush()
        loan = Loan(
            application_id=application.id,
            enterprise_id=enterprise.id,
            institution_id=lender.institution_id,
            principal=principal,
            annual_rate=rate,
            term_months=months,
            repayment_method=method.value,
            account=account,
            status="active",
            disbursed_at=disbursed_at,
            outstanding_principal=principal,
        )
        session.add(loan)
        await session.flush()
        await post_journal(
            session,
            disbursement_journal(f"journal-disb-{loan.id}", principal, Decimal("0.00"), memo=""),
            loan.id,
        )
        return loan.id, enterprise.id, borrower.id


@asynccontextmanager
async def servicing_platform(
    env: WorkflowEnvironment, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Settings]:
    """The real platform and documents workers on ``env``, on task queues of their own."""
    own = settings.model_copy(update={"task_queue_prefix": f"lc-{uuid.uuid4().hex[:8]}"})
    workers = build_workers(env.client, own, sessions)
    async with workers[0], workers[1]:
        yield own


async def start_servicing(
    env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lender: Lender,
    **loan: Any,
) -> ServicedLoan:
    """A loan disbursed now (server time) and its ``loan-{id}`` workflow, account opened."""
    now = await env.get_current_time()
    loan_id, enterprise_id, borrower = await seed_disbursed_loan(sessions, lender, now, **loan)
    async with sessions() as session:
        row = await session.get(Loan, loan_id)
        assert row is not None
        application_id = row.application_id
    handle = await env.client.start_workflow(
        WorkflowType.LOAN_SERVICING,
        LoanServicingInput(
            loan_id=loan_id,
            application_id=application_id,
            enterprise_id=enterprise_id,
            institution_id=lender.institution_id,
        ),
        id=loan_workflow_id(loan_id),
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
        result_type=LoanProgress,
    )
    serviced = ServicedLoan(
        loan_id, enterprise_id, borrower, lender, handle, env, sessions, now.date()
    )
    for _ in range(200):
        if (await serviced.progress()).status != "opening":
            return serviced
        await asyncio.sleep(0.05)
    raise AssertionError("the loan account never opened")
