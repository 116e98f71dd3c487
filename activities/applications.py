"""Activities of loan origination: record, assess (bureau, tax, registry, score, decide),
offer, acceptance, and the exactly-once disbursement with its ledger journal."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from decimal import Decimal

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.bureau.protocol import CreditBureau
from adapters.payment.protocol import (
    PaymentDirection,
    PaymentGateway,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
)
from adapters.registry.protocol import EnterpriseRegistry
from adapters.scoring.protocol import CreditScorer
from adapters.scoring.registry import StaticScorer
from adapters.tax.protocol import TaxDataProvider
from config.crypto import FieldCipher
from db.base import utcnow
from db.models import (
    Loan,
    LoanApplication,
)
from db.repositories import (
    DecisionLog,
    EnterpriseRepository,
    enterprise_exposure,
    latest_lpr,
    lock_enterprise_exposure,
    open_application,
    open_payment_instruction,
    post_journal,
    product_version,
    record_bank_answer,
)
from domain.calendar import business_today
from domain.credit_decision import (
    DEFAULT_RISK_POLICY,
    DecisionInput,
    RiskPolicy,
    approval_authority_required,
    decide,
)
from domain.exposure import DEFAULT_EXPOSURE_POLICY, ExposurePolicy
from domain.ledger import disbursement_journal
from domain.lifecycle import APPLICATION, LOAN, ApplicationStatus, LoanRecordStatus
from domain.origination import missing_materials
from domain.product_codec import terms_from_json
from domain.scoring_input import scoring_input
from workflows.contracts import (
    APPLICATION_ALREADY_OPEN,
    DISBURSEMENT_REFUSED,
    SEALED_ACCOUNT,
    ApplicationInput,
    ApplicationRef,
    ApplicationStage,
    Assessment,
    DisbursementResult,
    OfferTerms,
    RecordAcceptance,
    application_workflow_id,
)

log = structlog.get_logger("loanbridge.origination")

STATUS_REASON_LENGTH = 200
"""``loan_application.status_reason`` is a VARCHAR(200) (db/models.py)."""


def disbursement_key(loan_id: uuid.UUID) -> str:
    """The business idempotency key of a loan's disbursement (DESIGN.md)."""
    return f"disb-{loan_id}"


async def _log_stage(chain: DecisionLog, change: ApplicationStage, workflow_id: str) -> None:
    """The decision-log entry of a stage that carries a decision."""
    await chain.append(
        actor=change.actor,
        kind=f"application.{change.stage}",
        subject=workflow_id,
        payload=change.decision or {},
    )


class ApplicationActivities:
    """Side effects of an application; one activity = one transaction, safe to retry."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        bureau: CreditBureau,
        tax: TaxDataProvider,
        registry: EnterpriseRegistry,
        payments: PaymentGateway,
        scoring: CreditScorer | None = None,
        risk_policy: RiskPolicy = DEFAULT_RISK_POLICY,
        exposure_policy: ExposurePolicy = DEFAULT_EXPOSURE_POLICY,
    ) -> None:
        self.session_factory = session_factory
        self.cipher = cipher
        self.bureau = bureau
        self.tax = tax
        self.registry = registry
        self.payments = payments
        # The promoted credit model (issue 7); the rule-based scorecard when none is given.
        self.scoring: CreditScorer = scoring or StaticScorer()
        self.risk_policy = risk_policy  # price spread and limit by grade, from configuration
        self.exposure_policy = exposure_policy  # the aggregate cap and 多头借贷 window

    @activity.defn(name="record_application")
    async def record_application(self, application: ApplicationInput) -> None:
        """The application row and, naming who applied, its decision-log entry, at once.
        Another open application of the enterprise for the product and purpose refuses it
        (``application.already_open``, its id as the detail): the unique index decides, so
        two concurrent submissions cannot both be recorded."""
        # One statement: a retry finds the row there and inserts nothing (and logs nothing);
        # the open application's row makes it insert nothing too.
        async with self.session_factory() as session, session.begin():
            inserted = await session.scalar(
                insert(LoanApplication)
                .values(
                    id=application.application_id,
                    enterprise_id=application.enterprise_id,
                    institution_id=application.institution_id,
                    product_id=application.product_id,
                    product_version=application.product_version,
                    demand_id=application.demand_id,
                    amount=application.amount,
                    term_months=application.term_months,
                    repayment_method=application.repayment_method,
                    purpose=application.purpose,
                    workflow_id=activity.info().workflow_id,
                    # Complete from the start: the workflow goes straight to the assessment.
                    status=ApplicationStatus.SUBMITTED
                    if missing_materials(
                        tuple(application.required_materials), tuple(application.materials)
                    )
                    else ApplicationStatus.ASSESSING,
                )
                .on_conflict_do_nothing()
                .returning(LoanApplication.id)
            )
            if (
                inserted is None
                and await session.get(LoanApplication, application.application_id) is None
            ):
                await self._refuse_duplicate(session, application)
            if inserted is not None and application.submitted_by is not None:
                await DecisionLog(session).append(
                    actor=f"user:{application.submitted_by}",
                    kind="application.submitted",
                    subject=application_workflow_id(application.application_id),
                    payload={
                        "decision": "submitted",
                        "role": application.submitter_role,
                        "enterprise_id": str(application.enterprise_id),
                        "product_id": str(application.product_id),
                        "product_version": application.product_version,
                        "amount": str(application.amount),
                        "term_months": application.term_months,
                        "repayment_method": application.repayment_method,
                        "materials": ",".join(application.materials),
                    },
                )

    @staticmethod
    async def _refuse_duplicate(session: AsyncSession, application: ApplicationInput) -> None:
        """Refuse an application whose enterprise has another open for the product and purpose."""
        open_id = await open_application(
            session,
            application.enterprise_id,
            application.product_id,
            application.purpose,
            besides=application.application_id,
        )
        if open_id is None:  # it closed meanwhile: the retry records this one
            raise ApplicationError("the open application just closed", type="application.retry")
        raise ApplicationError(
            "another application for this product and purpose is open",
            str(open_id),
            type=APPLICATION_ALREADY_OPEN,
            non_retryable=True,
        )

    @activity.defn(name="assess_application")
    async def assess_application(self, ref: ApplicationRef) -> Assessment:
        """Pull bureau, tax and registry data, then — in one transaction under the enterprise's
        exposure lock — read its platform exposure, score, apply the decision rules and record
        the assessment: concurrent applications of one enterprise are decided one after the
        other, each seeing the offers the ones before it made (``domain.exposure``)."""
        async with self.session_factory() as session:
            application = await session.get(LoanApplication, ref.application_id)
            assert application is not None
            enterprise = await EnterpriseRepository(session).get(application.enterprise_id)
            assert enterprise is not None
            version = await product_version(
                session, application.product_id, application.product_version
            )
            assert version is not None
            lpr = await latest_lpr(session, business_today())
        terms = terms_from_json(version.terms)
        # The three providers answer independently: ask them at once, holding no lock.
        report, tax, record = await asyncio.gather(
            self.bureau.get_report(enterprise.uscc),
            self.tax.get_filings(enterprise.uscc),
            self.registry.get_enterprise(enterprise.uscc),
        )
        scorer = await self.scoring.current()
        async with self.session_factory() as session, session.begin():
            await lock_enterprise_exposure(session, application.enterprise_id)
            # A retry after commit finds the assessment there and keeps the first, logged one
            # (a concurrent attempt waits for the lock and then finds it too).
            row = await session.get(LoanApplication, ref.application_id, with_for_update=True)
            assert row is not None, f"application {ref.application_id} is not recorded"
            if row.assessment:
                assessment = Assessment.model_validate(row.assessment)
                log.info("application already assessed", decision=assessment.decision)
                return assessment
            exposure = await enterprise_exposure(
                session,
                row.enterprise_id,
                excluding=row.id,
                bureau_debt=report.outstanding_loans_amount if report else Decimal(0),
                window_days=self.exposure_policy.window_days,
                applying_at=row.institution_id,
            )
            facts = scoring_input(
                founded=enterprise.founding_date,
                as_of=business_today(),
                industry=enterprise.industry,
                requested_amount=application.amount,
                report=report,
                tax=tax,
                region=enterprise.region,  # scored as the re-rating scores it
                platform_exposure=exposure.platform_total,
            )
            result = scorer(facts)
            outcome = decide(
                DecisionInput(
                    amount=application.amount,
                    term_months=application.term_months,
                    product=terms,
                    score=result,
                    registry_status=record.status.value if record else "CANCELLED",
                    bureau_current_overdue=report.current_overdue if report else False,
                    sanctions_hit=report.sanctions_hit if report else False,
                    annual_revenue=facts.annual_revenue or None,
                    policy=self.risk_policy,
                    exposure=exposure,
                    exposure_policy=self.exposure_policy,
                ),
                lpr,
            )
            assessment = Assessment(
                decision=outcome.decision.value,
                reasons=list(outcome.reasons),
                score=result.score,
                pd=result.pd,
                grade=result.grade.value,
                reason_codes=list(result.reason_codes),
                model_version=result.model_version,
                proposed_amount=outcome.proposed_amount,
                proposed_rate=outcome.proposed_rate,
                proposed_term_months=outcome.proposed_term_months,
                authority=approval_authority_required(application.amount).value,
            )
            recorded = assessment.model_dump(mode="json")
            change = assessment.automatic_stage(ref.application_id, application.amount)
            workflow_id = row.workflow_id
            row.assessment = recorded
            if change is not None:
                # An automatic decision is recorded with the assessment it follows from.
                row.status = APPLICATION.check(row.status, change.stage)
                row.status_reason = change.reason
            chain = DecisionLog(session)
            await chain.append(
                actor=f"model:{result.model_version}",
                kind="credit.assessed",
                subject=workflow_id,
                payload=recorded,
            )
            if change is not None:
                await _log_stage(chain, change, workflow_id)
        log.info(
            "application assessed",
            decision=assessment.decision,
            grade=assessment.grade,
            platform_exposure=str(exposure.platform_total),
        )
        return assessment

    @activity.defn(name="set_application_stage")
    async def set_application_stage(self, change: ApplicationStage) -> None:
        # Read under the row's lock, then written: a retry (same stage and reason) changes
        # nothing and logs nothing, a step the lifecycle lacks is refused (IllegalTransition)
        # with nothing written. The column keeps the reason's first characters (an
        # applicant's reason for refusing may be longer); the decision log keeps it whole.
        reason = change.reason[:STATUS_REASON_LENGTH]
        async with self.session_factory() as session, session.begin():
            row = await session.get(LoanApplication, change.application_id, with_for_update=True)
            assert row is not None, f"application {change.application_id} is not recorded"
            if (row.status, row.status_reason) == (change.stage, reason):
                return  # a retry: the stage, and whatever it logged, is already committed
            row.status = APPLICATION.check(row.status, change.stage)
            row.status_reason = reason
            workflow_id = row.workflow_id
            chain = DecisionLog(session)
            # The people's decisions this stage records, in the order they were taken, in
            # the transaction that records their outcome.
            for entry in change.decisions:
                await chain.append(
                    actor=entry.actor, kind=entry.kind, subject=workflow_id, payload=entry.payload
                )
            if change.decision is not None:
                await _log_stage(chain, change, workflow_id)

    @activity.defn(name="record_offer")
    async def record_offer(self, offer: OfferTerms) -> None:
        """The offer's terms (workflows from before ``lean-records-v1``; since then the offer
        letter records them)."""
        async with self.session_factory() as session, session.begin():
            recorded = await session.scalar(
                update(LoanApplication)
                .where(LoanApplication.id == offer.application_id)
                .values(offer=offer.model_dump(mode="json"))
                .returning(LoanApplication.id)
                .execution_options(synchronize_session=False)
            )
            assert recorded is not None

    @activity.defn(name="record_acceptance")
    async def record_acceptance(self, record: RecordAcceptance) -> uuid.UUID:
        """The accepted offer becomes a (not yet disbursed) loan; the account is kept encrypted."""
        async with self.session_factory() as session, session.begin():
            existing = await session.scalar(
                select(Loan).where(Loan.application_id == record.application_id)
            )
            if existing is not None:
                return existing.id
            row = await session.get(LoanApplication, record.application_id, with_for_update=True)
            assert row is not None and row.offer
            account = self.cipher.decrypt(record.acceptance.sealed_account, context=SEALED_ACCOUNT)
            loan = Loan(
                application_id=row.id,
                enterprise_id=row.enterprise_id,
                institution_id=row.institution_id,
                principal=Decimal(row.offer["amount"]),
                annual_rate=Decimal(row.offer["rate"]),
                term_months=int(row.offer["term_months"]),
                repayment_method=row.offer["repayment_method"],
                account=account,
                signed_name=record.acceptance.typed_name,
                accepted_at=record.accepted_at or utcnow(),
                offer_sha256=record.acceptance.document_sha256,
            )
            session.add(loan)
            await session.flush()
            # The log is plain text: the typed name enters it as a digest, the name itself
            # stays encrypted on the loan.
            await DecisionLog(session).append(
                actor=f"user:{record.acceptance.accepted_by}",
                kind="offer.accepted",
                subject=row.workflow_id,
                payload={
                    "decision": "accepted",
                    "role": record.acceptance.role,
                    "enterprise_id": str(row.enterprise_id),
                    "loan_id": str(loan.id),
                    "typed_name_sha256": hashlib.sha256(
                        record.acceptance.typed_name.encode()
                    ).hexdigest(),
                    "document_sha256": record.acceptance.document_sha256,
                    "accepted_at": (record.accepted_at or utcnow()).isoformat(),
                    # its figures and the digest that binds its terms: the canonical terms
                    # themselves (the parties' names among them) stay on the application
                    "offer": {k: v for k, v in row.offer.items() if k != "terms"},
                },
            )
            return loan.id

    @activity.defn(name="disburse_loan")
    async def disburse_loan(self, loan_id: uuid.UUID) -> DisbursementResult:
        """Pay out exactly once: the key is UNIQUE here and sent to the bank, which replays it.

        A crash anywhere in between is harmless: the retry finds the instruction, sends the
        same key, gets the bank's first answer back, and posts the journal only if absent.
        """
        key = disbursement_key(loan_id)
        async with self.session_factory() as session, session.begin():
            loan = await session.get(Loan, loan_id)
            assert loan is not None
            row = await session.get(LoanApplication, loan.application_id)
            assert row is not None
            version = await product_version(session, row.product_id, row.product_version)
            assert version is not None
            fee = (loan.principal * terms_from_json(version.terms).upfront_fee_rate).quantize(
                Decimal("0.01")
            )
            net = loan.principal - fee
            await open_payment_instruction(
                session, key, loan.id, PaymentDirection.DISBURSEMENT.value, net
            )
            account, reference, principal = loan.account, str(row.id), loan.principal
        result = await self.payments.submit(
            PaymentRequest(
                idempotency_key=key,
                direction=PaymentDirection.DISBURSEMENT,
                amount=net,
                account=account,
                reference=reference,
            )
        )
        journal_key = f"journal-{key}"
        if result.status is not PaymentStatus.SUCCEEDED:
            # The refusal is a business fact: it commits first, and only then fails the
            # activity (raised inside the transaction, it would be rolled back with it and
            # leave the instruction and the loan pending for ever).
            code = await self._record_refusal(loan_id, key, result)
            raise ApplicationError(
                f"the bank refused the disbursement: {code}",
                code,
                type=DISBURSEMENT_REFUSED,
                non_retryable=True,
            )
        async with self.session_factory() as session, session.begin():
            await record_bank_answer(
                session, key, provider_reference=result.provider_reference, succeeded=True
            )
            await post_journal(
                session,
                disbursement_journal(
                    journal_key, principal, fee, memo=f"disbursement of loan {loan_id}"
                ),
                loan_id,
            )
            loan = await session.get(Loan, loan_id, with_for_update=True)
            assert loan is not None
            if loan.status != LoanRecordStatus.ACTIVE:
                loan.status = LOAN.check(loan.status, LoanRecordStatus.ACTIVE)
                loan.disbursed_at = utcnow()
        return DisbursementResult(
            loan_id=loan_id, idempotency_key=key, status="SUCCEEDED", journal_key=journal_key
        )

    async def _record_refusal(self, loan_id: uuid.UUID, key: str, result: PaymentResult) -> str:
        """The instruction ``failed`` with the bank's code and the loan ``not_disbursed``
        (terminal: nothing was paid, nothing is owed), in one committed transaction. A retry
        gets the bank's first answer again (same key) and finds both already recorded."""
        code = result.failure_code or "UNKNOWN"
        async with self.session_factory() as session, session.begin():
            await record_bank_answer(
                session,
                key,
                provider_reference=result.provider_reference,
                succeeded=False,
                failure_code=code,
            )
            loan = await session.get(Loan, loan_id, with_for_update=True)
            assert loan is not None
            if loan.status != LoanRecordStatus.NOT_DISBURSED:
                loan.status = LOAN.check(loan.status, LoanRecordStatus.NOT_DISBURSED)
                loan.closed_at = utcnow()
        log.warning("disbursement refused by the bank", loan_id=str(loan_id), failure_code=code)
        return code
