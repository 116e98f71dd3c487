"""Activities of loan servicing: open the account from the disbursed loan, collect money
exactly once, post each event (transaction, balanced journals, read model) once, keep the
classification history, and snapshot the portfolio daily."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.decision_log import log_human_decision
from activities.monitoring import record_payment_party
from adapters.payment.protocol import (
    PaymentDirection,
    PaymentGateway,
    PaymentRequest,
    PaymentStatus,
)
from config.crypto import field_cipher
from db.base import utcnow
from db.models import (
    Loan,
    LoanApplication,
    LoanClassification,
    LoanTransaction,
    PortfolioSnapshot,
)
from db.repositories import (
    DecisionLog,
    open_payment_instruction,
    post_journal,
    product_version,
    record_bank_answer,
)
from domain import servicing
from domain.calendar import business_date
from domain.classification import RiskCategory
from domain.ledger import accrual_journal, write_off_journal
from domain.lifecycle import LOAN, LoanRecordStatus
from domain.product_codec import terms_from_json
from domain.schedule import RepaymentMethod, ScheduleRequest, build_schedule
from domain.servicing import Component, LoanStatus, ServicingPolicy
from workflows.contracts import (
    SEALED_PAYER_ACCOUNT,
    ClassificationChange,
    Collect,
    CollectionResult,
    LoanEvent,
    LoanRef,
    LoanState,
    OpenedLoan,
    PortfolioSweep,
    PortfolioSweepResult,
    loan_workflow_id,
)

log = structlog.get_logger("loanbridge.servicing")


class LoanActivities:
    """Side effects of servicing; one activity = one transaction, safe to retry."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        payments: PaymentGateway,
        policy: ServicingPolicy,
    ) -> None:
        self.session_factory = session_factory
        self.payments = payments
        self.policy = policy

    @activity.defn(name="open_loan_account")
    async def open_loan_account(self, ref: LoanRef) -> OpenedLoan:
        """The serviced account: the schedule from the disbursement date, and whether the
        loan is secured (an extension then needs the guarantor's consent)."""
        async with self.session_factory() as session:
            loan = await session.get(Loan, ref.loan_id)
            assert loan is not None and loan.disbursed_at is not None
            application = await session.get(LoanApplication, loan.application_id)
            assert application is not None
            version = await product_version(
                session, application.product_id, application.product_version
            )
            assert version is not None
        terms = terms_from_json(version.terms)
        schedule = build_schedule(
            ScheduleRequest(
                principal=loan.principal,
                annual_rate=loan.annual_rate,
                term_periods=loan.term_months,
                method=RepaymentMethod(loan.repayment_method),
                start_date=business_date(loan.disbursed_at),  # the Beijing day it was paid out
            )
        )
        account = servicing.open_account(str(loan.id), schedule, self.policy)
        return OpenedLoan(
            account=account, secured=terms.collateral_required or terms.guarantee_required
        )

    @activity.defn(name="collect_repayment")
    async def collect_repayment(self, collect: Collect) -> CollectionResult:
        """Debit the borrower once per key: UNIQUE here, and the same key sent to the bank,
        which answers a repeat with its first answer."""
        async with self.session_factory() as session, session.begin():
            loan = await session.get(Loan, collect.loan_id)
            assert loan is not None
            await open_payment_instruction(
                session, collect.key, loan.id, PaymentDirection.COLLECTION.value, collect.amount
            )
            cipher = field_cipher()
            payer = (
                cipher.decrypt(collect.sealed_payer_account, context=SEALED_PAYER_ACCOUNT)
                if collect.sealed_payer_account
                else loan.account
            )
            # Who pays is kept (sealed, with keyed hashes) for transaction monitoring.
            await record_payment_party(
                session,
                cipher,
                idempotency_key=collect.key,
                loan_id=loan.id,
                payer_account=payer,
                borrower_account=loan.account,
            )
        result = await self.payments.submit(
            PaymentRequest(
                idempotency_key=collect.key,
                direction=PaymentDirection.COLLECTION,
                amount=collect.amount,
                account=payer,
                reference=str(collect.loan_id),
            )
        )
        succeeded = result.status is PaymentStatus.SUCCEEDED
        async with self.session_factory() as session, session.begin():
            await record_bank_answer(
                session,
                collect.key,
                provider_reference=result.provider_reference,
                succeeded=succeeded,
                failure_code=result.failure_code,
            )
        log.info("collection", succeeded=succeeded, code=result.failure_code)
        return CollectionResult(succeeded=succeeded, failure_code=result.failure_code)

    @activity.defn(name="post_loan_event")
    async def post_loan_event(self, event: LoanEvent) -> None:
        """Transaction, journals (accrual, repayment, write-off) and the loan's read model,
        all in one database transaction and each once per key."""
        account = event.state.account
        async with self.session_factory() as session, session.begin():
            loan = await session.get(Loan, event.loan_id, with_for_update=True)
            assert loan is not None
            if event.accrual > 0:
                await post_journal(
                    session,
                    accrual_journal(event.accrual_key, event.accrual, memo="interest fallen due"),
                    loan.id,
                )
            allocation = event.allocation
            exists = await session.scalar(
                select(LoanTransaction.id).where(LoanTransaction.key == event.key)
            )
            if exists is None:
                session.add(
                    LoanTransaction(
                        loan_id=loan.id,
                        key=event.key,
                        kind=event.kind,
                        value_date=event.value_date,
                        amount=event.amount,
                        allocation=_allocation_json(allocation),
                        memo=event.memo,
                    )
                )
                if allocation is not None and not allocation.is_empty:
                    await post_journal(
                        session,
                        servicing.journals_for_allocation(
                            f"journal-{event.key}", allocation, memo=event.kind
                        ),
                        loan.id,
                    )
                if event.written_off is not None:
                    principal, interest = event.written_off
                    if principal + interest > 0:
                        await post_journal(
                            session,
                            write_off_journal(
                                f"journal-{event.key}", principal, interest, memo=event.memo
                            ),
                            loan.id,
                        )
                    if event.decision is None:  # histories from before HumanDecision
                        await DecisionLog(session).append(
                            actor="supervisor",
                            kind="loan.written_off",
                            subject=f"loan-{loan.id}",
                            payload={
                                "principal": str(principal),
                                "interest": str(interest),
                                "memo": event.memo,
                            },
                        )
                if event.decision is not None:
                    await log_human_decision(
                        DecisionLog(session), event.decision, loan_workflow_id(loan.id)
                    )
            today = event.value_date
            nxt = account.next_due(today)
            loan.outstanding_principal = account.principal_outstanding
            loan.days_past_due = event.days_past_due
            loan.category = event.state.category
            loan.next_due_date = nxt.due_date if nxt else None
            loan.maturity_date = account.maturity_date
            loan.account_state = event.state.model_dump(mode="json")
            if account.status is not LoanStatus.ACTIVE and loan.status != account.status:
                loan.status = LOAN.check(loan.status, account.status)
                loan.closed_at = utcnow()

    @activity.defn(name="record_classification")
    async def record_classification(self, change: ClassificationChange) -> None:
        """A category change enters the history and the decision log (automatic, by rule)."""
        async with self.session_factory() as session, session.begin():
            inserted = await session.scalar(
                insert(LoanClassification)
                .values(
                    id=uuid.uuid4(),
                    loan_id=change.loan_id,
                    as_of=change.as_of,
                    category=change.category,
                    previous_category=change.previous_category,
                    days_past_due=change.days_past_due,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["loan_id", "as_of", "category"])
                .returning(LoanClassification.id)
            )
            if inserted is not None:
                await DecisionLog(session).append(
                    actor="rule:five-category-2023",
                    kind="loan.classified",
                    subject=f"loan-{change.loan_id}",
                    payload={
                        "from": change.previous_category,
                        "to": change.category,
                        "days_past_due": str(change.days_past_due),
                        "as_of": change.as_of.isoformat(),
                    },
                )


def _allocation_json(allocation: servicing.Allocation | None) -> dict[str, str]:
    if allocation is None:
        return {}
    return {
        "cash": str(allocation.cash),
        Component.PENALTY.value: str(allocation.penalty),
        Component.INTEREST.value: str(allocation.interest),
        Component.PRINCIPAL.value: str(allocation.principal),
        "from_credit": str(allocation.from_credit),
        "to_credit": str(allocation.to_credit),
    }


def policy_from_settings(
    penalty_multiplier: Decimal, allocation_order: str, reminder_days_before: int
) -> ServicingPolicy:
    """The servicing policy configured for the deployment."""
    return ServicingPolicy(
        penalty_multiplier=penalty_multiplier,
        allocation_order=tuple(Component(part) for part in allocation_order.split(",")),
        reminder_days_before=reminder_days_before,
    )


class PortfolioActivities:
    """The daily portfolio snapshot, computed from each loan's serviced account as of the day."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    @activity.defn(name="snapshot_portfolio")
    async def snapshot_portfolio(self, sweep: PortfolioSweep) -> PortfolioSweepResult:
        as_of = sweep.as_of
        assert as_of is not None
        figures: dict[uuid.UUID, dict[str, Any]] = {}
        loans = 0
        async with self.session_factory() as session, session.begin():
            rows = await session.execute(
                select(Loan.institution_id, Loan.account_state).where(
                    Loan.status == LoanRecordStatus.ACTIVE
                )
            )
            for institution_id, state_json in rows:
                if not state_json:
                    continue
                account = LoanState.model_validate(state_json).account
                if account.status is not LoanStatus.ACTIVE:
                    continue
                loans += 1
                dpd = servicing.days_past_due(account, as_of)
                category = servicing.category(account, as_of).value
                book = figures.setdefault(institution_id, _empty_book())
                by = book["by_category"][category]
                by["loans"] += 1
                by["principal"] += account.principal_outstanding
                book["loans"] += 1
                book["principal"] += account.principal_outstanding
                if dpd > 0:
                    book["overdue_loans"] += 1
                    book["overdue_amount"] += account.amount_due(as_of)
            for institution_id, book in figures.items():
                npl = sum((book["by_category"][c]["principal"] for c in NON_PERFORMING), Decimal(0))
                book["npl_ratio"] = (
                    (npl / book["principal"]).quantize(Decimal("0.0001"))
                    if book["principal"]
                    else Decimal(0)
                )
                payload = _json(book)
                await session.execute(
                    insert(PortfolioSnapshot)
                    .values(
                        id=uuid.uuid4(),
                        as_of=as_of,
                        institution_id=institution_id,
                        figures=payload,
                        created_at=utcnow(),
                    )
                    .on_conflict_do_update(
                        index_elements=["as_of", "institution_id"], set_={"figures": payload}
                    )
                )
        log.info("portfolio snapshot", as_of=as_of.isoformat(), loans=loans)
        return PortfolioSweepResult(as_of=as_of, institutions=len(figures), loans=loans)


NON_PERFORMING = ("substandard", "doubtful", "loss")


def _empty_book() -> dict[str, Any]:
    return {
        "loans": 0,
        "principal": Decimal(0),
        "overdue_loans": 0,
        "overdue_amount": Decimal(0),
        "by_category": {c.value: {"loans": 0, "principal": Decimal(0)} for c in RiskCategory},
    }


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value
