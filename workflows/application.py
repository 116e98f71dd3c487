"""Loan application: submit → assess (bureau, tax, registry, score, rules) → auto-decline,
auto-approve, or officers decide (authority limits, four-eyes) → offer → acceptance before
expiry → disbursement exactly once (business id ``application-{id}``)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.roles import Role
    from workflows.contracts import (
        INSTITUTION,
        STAGE,
        STATUS,
        Acceptance,
        ApplicationInput,
        ApplicationProgress,
        ApplicationRef,
        ApplicationStage,
        Assessment,
        CloseTask,
        CreditDecision,
        DisbursementResult,
        NotifyEnterprise,
        OfferTerms,
        OpenTask,
        RecordAcceptance,
        TaskRef,
        WorkflowType,
    )

REVIEW_SLA = timedelta(hours=48)
OFFER_VALIDITY = timedelta(days=7)
MAX_RATE = Decimal("0.24")
# Who may decide a referred case, by the authority its amount needs.
DECIDERS = {
    "officer": {Role.OFFICER.value, Role.SUPERVISOR.value},
    "supervisor": {Role.SUPERVISOR.value},
    "four_eyes": {Role.SUPERVISOR.value},
}

DB_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
    non_retryable_error_types=["ProviderRejected", "DisbursementRefused", "IdempotencyConflict"],
)


async def _db(name: str, arg: Any, result_type: type[Any] | None = None) -> Any:
    return await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=60),
        retry_policy=DB_RETRY,
    )


async def _external(name: str, arg: Any, result_type: type[Any] | None = None) -> Any:
    return await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=60),
        retry_policy=PROVIDER_RETRY,
    )


@workflow.defn(name=WorkflowType.LOAN_APPLICATION)
class LoanApplicationWorkflow:
    """One application from submission to money in the borrower's account."""

    def __init__(self) -> None:
        self.application: ApplicationInput | None = None
        self.stage = "submitted"
        self.reason = ""
        self.recorded = False
        self.assessment: Assessment | None = None
        self.task_id: Any = None
        self.approvals: list[CreditDecision] = []
        self.decline: CreditDecision | None = None
        self.offer: OfferTerms | None = None
        self.acceptance: Acceptance | None = None
        self.withdrawn = False
        self.loan_id: Any = None

    @workflow.run
    async def run(self, application: ApplicationInput) -> ApplicationProgress:
        self.application = application
        ref = ApplicationRef(application_id=application.application_id)
        workflow.upsert_search_attributes(
            [
                STAGE.value_set("origination"),
                INSTITUTION.value_set(str(application.institution_id)),
            ]
        )
        await _db("record_application", application)
        self.recorded = True
        await self._stage("assessing")
        try:
            self.assessment = await _external("assess_application", ref, Assessment)
        except ActivityError:
            self.assessment = None  # providers still failing: people decide without the model
        assessment = self.assessment
        decision = assessment.decision if assessment else "refer"
        if self.withdrawn:
            return await self._finish("withdrawn", "applicant.withdrew")

        if decision == "auto_decline":
            assert assessment is not None
            reason = ",".join(assessment.reasons)
            await self._stage(
                "declined", reason, decision={"decision": decision, "reasons": reason}
            )
            await self._notify("application_declined", {"reason": reason})
            return await self._finish("declined", reason)

        amount, rate, term = self._proposal()
        if decision == "refer":
            outcome = await self._human_decision()
            if outcome is None:
                return await self._finish("withdrawn", "applicant.withdrew")
            if not outcome.approve:
                reason = outcome.reason
                await self._stage(
                    "declined",
                    reason,
                    actor=f"user:{outcome.decider_id}",
                    decision={"decision": "declined", "reason": reason},
                )
                await self._notify("application_declined", {"reason": reason})
                return await self._finish("declined", reason)
            amount = outcome.amount or amount
            rate = outcome.rate or rate
        else:
            await self._stage(
                "approved",
                "auto.small_clean_case",
                decision={"decision": "auto_approve", "amount": str(amount), "rate": str(rate)},
            )

        self.offer = OfferTerms(
            application_id=application.application_id,
            amount=amount,
            rate=rate,
            term_months=term,
            repayment_method=application.repayment_method,
            expires_at=workflow.now() + OFFER_VALIDITY,
        )
        await _db("record_offer", self.offer)
        await self._stage("offered")
        await self._notify(
            "application_offered",
            {
                "amount": f"{amount:,.2f}",
                "rate": f"{rate * 100:.2f}%",
                "expires": self.offer.expires_at.date().isoformat(),
            },
        )
        try:
            await workflow.wait_condition(
                lambda: self.acceptance is not None or self.withdrawn, timeout=OFFER_VALIDITY
            )
        except TimeoutError:
            await self._stage("expired", "offer.expired")
            return await self._finish("expired", "offer.expired")
        if self.withdrawn or self.acceptance is None:
            return await self._finish("withdrawn", "applicant.withdrew")

        self.loan_id = await _db(
            "record_acceptance",
            RecordAcceptance(application_id=application.application_id, acceptance=self.acceptance),
            uuid.UUID,
        )
        await self._stage("disbursing")
        try:
            # A short timeout: if the worker dies mid-payment, another retries soon with the
            # same key, and the bank answers with the first payment instead of a second one.
            result: DisbursementResult = await workflow.execute_activity(
                "disburse_loan",
                self.loan_id,
                result_type=DisbursementResult,
                start_to_close_timeout=timedelta(seconds=20),
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError as exc:
            reason = getattr(exc.cause, "type", None) or "disbursement.failed"
            await self._stage("disbursement_failed", reason)
            return await self._finish("disbursement_failed", reason)
        await self._stage(
            "disbursed", decision={"loan_id": str(result.loan_id), "key": result.idempotency_key}
        )
        await self._notify("loan_disbursed", {"amount": f"{amount:,.2f}", "account_tail": "****"})
        return await self._finish("disbursed")

    # ---- steps -------------------------------------------------------------------------
    def _proposal(self) -> tuple[Decimal, Decimal, int]:
        assert self.application is not None
        a = self.assessment
        amount = a.proposed_amount if a and a.proposed_amount else self.application.amount
        rate = a.proposed_rate if a and a.proposed_rate else Decimal(0)
        term = (
            a.proposed_term_months if a and a.proposed_term_months else self.application.term_months
        )
        return amount, rate, term

    def _authority(self) -> str:
        return self.assessment.authority if self.assessment else "supervisor"

    def _approved(self) -> bool:
        needed = 2 if self._authority() == "four_eyes" else 1
        return len(self.approvals) >= needed

    async def _human_decision(self) -> CreditDecision | None:
        assert self.application is not None
        reasons = ",".join(self.assessment.reasons) if self.assessment else "assessment.unavailable"
        task = OpenTask(
            kind="credit_approval",
            subject=f"application-{self.application.application_id}",
            required_role=Role.SUPERVISOR.value
            if self._authority() != "officer"
            else Role.OFFICER.value,
            due_at=workflow.now() + REVIEW_SLA,
            context={
                "reasons": reasons,
                "authority": self._authority(),
                "amount": str(self.application.amount),
            },
            institution_id=self.application.institution_id,
        )
        ref: TaskRef = await _db("open_task", task, TaskRef)
        self.task_id = ref.task_id
        await self._stage("in_review", reasons)
        await self._notify("application_in_review", {})
        done = lambda: self._approved() or self.decline is not None or self.withdrawn  # noqa: E731
        try:
            await workflow.wait_condition(done, timeout=REVIEW_SLA)
        except TimeoutError:
            # Past the SLA: the task moves up to the institution's supervisors and shows it.
            workflow.logger.warning("credit review past its SLA; escalated to supervisors")
            await _db("escalate_task", ref)
            await workflow.wait_condition(done)
        outcome = self.decline or (self.approvals[-1] if self._approved() else None)
        await _db(
            "close_task",
            CloseTask(
                task_id=ref.task_id,
                outcome="approved"
                if self._approved()
                else ("declined" if self.decline else "cancelled"),
                assignee_id=outcome.decider_id if outcome else None,
            ),
        )
        return outcome

    async def _stage(
        self,
        stage: str,
        reason: str = "",
        *,
        actor: str = "system",
        decision: dict[str, str] | None = None,
    ) -> None:
        assert self.application is not None
        await _db(
            "set_application_stage",
            ApplicationStage(
                application_id=self.application.application_id,
                stage=stage,
                reason=reason,
                actor=actor,
                decision=decision,
            ),
        )
        self.stage, self.reason = stage, reason
        workflow.upsert_search_attributes([STATUS.value_set(stage)])

    async def _notify(self, template: str, context: dict[str, Any]) -> None:
        assert self.application is not None
        try:
            await _external(
                "notify_enterprise",
                NotifyEnterprise(
                    enterprise_id=self.application.enterprise_id, template=template, context=context
                ),
            )
        except ActivityError:
            workflow.logger.warning("notification not delivered", extra={"template": template})

    async def _finish(self, stage: str, reason: str = "") -> ApplicationProgress:
        if self.stage != stage:
            await self._stage(stage, reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    # ---- updates and query -------------------------------------------------------------
    @workflow.update
    async def submission(self) -> ApplicationProgress:
        """Used with update-with-start: answers once the application is recorded."""
        await workflow.wait_condition(lambda: self.recorded)
        return self.progress()

    @workflow.update
    async def decide_credit(self, decision: CreditDecision) -> ApplicationProgress:
        if decision.approve:
            self.approvals.append(decision)
        else:
            self.decline = decision
        await workflow.wait_condition(
            lambda: self.stage != "in_review" or (not self._approved() and self.decline is None)
        )
        return self.progress()

    @decide_credit.validator
    def _validate_decide_credit(self, decision: CreditDecision) -> None:
        assert self.application is not None
        if self.stage != "in_review" or self.decline is not None or self._approved():
            raise ApplicationError("nothing awaits a credit decision", type="credit.not_pending")
        if decision.decider_institution_id != self.application.institution_id:
            raise ApplicationError(
                "the case belongs to another institution", type="credit.wrong_institution"
            )
        if decision.decider_role not in DECIDERS[self._authority()]:
            raise ApplicationError(
                f"this amount needs {self._authority()} authority", type="credit.beyond_authority"
            )
        if any(a.decider_id == decision.decider_id for a in self.approvals):
            raise ApplicationError(
                "four eyes: a second, different supervisor must approve",
                type="credit.same_approver",
            )
        if not decision.approve and not decision.reason.strip():
            raise ApplicationError("a decline needs a reason", type="credit.reason_required")
        if decision.approve:
            if decision.amount is not None and not (0 < decision.amount <= self.application.amount):
                raise ApplicationError(
                    "the approved amount must be within the request", type="credit.bad_amount"
                )
            rate = decision.rate if decision.rate is not None else self._proposal()[1]
            if not (0 < rate <= MAX_RATE):
                raise ApplicationError(
                    "an annual rate in (0, 24 %] is required", type="credit.bad_rate"
                )

    @workflow.update
    async def accept_offer(self, acceptance: Acceptance) -> ApplicationProgress:
        self.acceptance = acceptance
        await workflow.wait_condition(lambda: self.stage != "offered")
        return self.progress()

    @accept_offer.validator
    def _validate_accept(self, acceptance: Acceptance) -> None:
        if self.stage != "offered" or self.offer is None or self.acceptance is not None:
            raise ApplicationError("no offer awaits acceptance", type="offer.not_pending")
        if workflow.now() > self.offer.expires_at:
            raise ApplicationError("the offer has expired", type="offer.expired")
        if len(acceptance.typed_name.strip()) < 2:
            raise ApplicationError("type your name to accept", type="offer.name_required")

    @workflow.update
    async def withdraw(self) -> ApplicationProgress:
        self.withdrawn = True
        await workflow.wait_condition(lambda: self.stage == "withdrawn")
        return self.progress()

    @withdraw.validator
    def _validate_withdraw(self) -> None:
        if (
            self.stage
            in (
                "disbursing",
                "disbursed",
                "declined",
                "expired",
                "withdrawn",
                "disbursement_failed",
            )
            or self.acceptance is not None
        ):
            raise ApplicationError("too late to withdraw", type="application.closed")

    @workflow.query
    def progress(self) -> ApplicationProgress:
        return ApplicationProgress(
            application_id=self.application.application_id if self.application else None,
            stage=self.stage,
            reason=self.reason,
            assessment=self.assessment,
            offer=self.offer,
            approvals=len(self.approvals),
            loan_id=self.loan_id,
        )
