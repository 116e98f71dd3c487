"""LoanApplicationWorkflow on the time-skipping server with in-memory fake activities."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio import activity, workflow
from temporalio.client import WithStartWorkflowOperation, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.origination import missing_materials
from domain.roles import Role
from tests.workflows.test_demand_workflow import _eventually, _refused_or_closed
from tests.workflows.test_onboarding_workflow import _refusal
from workflows.application import LoanApplicationWorkflow
from workflows.contracts import (
    APPLICATION_ALREADY_OPEN,
    Acceptance,
    AcceptanceCodeRequest,
    AcceptanceCodeSent,
    ApplicationInput,
    ApplicationProgress,
    ApplicationRef,
    ApplicationStage,
    Assessment,
    CloseTask,
    CreditDecision,
    DisbursementResult,
    HoldTask,
    LoanServicingInput,
    NotifyEnterprise,
    OfferDocument,
    OfferTerms,
    OpenTask,
    RecordAcceptance,
    SendAcceptanceCode,
    SignerCheck,
    TaskRef,
    VerifySigner,
    WorkflowType,
    application_workflow_id,
    documents_queue,
    loan_workflow_id,
)

INSTITUTION_ID = uuid.uuid4()
OTHER_INSTITUTION = uuid.uuid4()
OFFICER = uuid.uuid4()
SUPERVISOR = uuid.uuid4()
SECOND_SUPERVISOR = uuid.uuid4()
APPLICANT = uuid.uuid4()
REQUESTED = Decimal("300000")
TERM = 12
PROPOSED_AMOUNT = Decimal("250000")
PROPOSED_RATE = Decimal("0.055")
PROPOSED_TERM = 24
OFFICER_RATE = Decimal("0.072")
DECLINE_REASONS = ["bureau.overdue_90d", "tax.arrears"]
OFFER_VALIDITY = timedelta(days=7)
LETTER_SHA = "a" * 64
SERVICED: list[LoanServicingInput] = []


@workflow.defn(name=WorkflowType.LOAN_SERVICING)
class LoanServicingStandIn:
    """Stands in for the loan workflow (tested on its own): records the loan it was given."""

    @workflow.run
    async def run(self, loan: LoanServicingInput) -> None:
        SERVICED.append(loan)
        await workflow.wait_condition(lambda: False)  # a loan runs on; the test terminates it


def _assessment(
    decision: str,
    authority: str = "officer",
    *,
    rate: Decimal | None = PROPOSED_RATE,
    reasons: list[str] | None = None,
) -> Assessment:
    return Assessment(
        decision=decision,
        reasons=reasons if reasons is not None else ["score.borderline"],
        score=612,
        pd=Decimal("0.031"),
        grade="B",
        reason_codes=["R01"],
        model_version="scorecard-2024.1",
        proposed_amount=PROPOSED_AMOUNT,
        proposed_rate=rate,
        proposed_term_months=PROPOSED_TERM,
        authority=authority,
    )


@dataclass
class FakeApplicationActivities:
    """In-memory stand-ins for every activity the workflow calls, recording each call."""

    assessment: Assessment | None = None  # None: the assessment fails permanently
    refuse_disbursement: bool = False
    disbursement_failure: str = "DisbursementRefused"  # the error type when it fails
    task_id: uuid.UUID = field(default_factory=uuid.uuid4)
    loan_id: uuid.UUID = field(default_factory=uuid.uuid4)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)  # activity or stage:<name>
    applications: list[ApplicationInput] = field(default_factory=list)
    assessed: list[ApplicationRef] = field(default_factory=list)
    stages: list[ApplicationStage] = field(default_factory=list)
    attempted_stages: list[str] = field(default_factory=list)
    opened_tasks: list[OpenTask] = field(default_factory=list)
    closed_tasks: list[CloseTask] = field(default_factory=list)
    escalated: list[uuid.UUID] = field(default_factory=list)
    holds: list[HoldTask] = field(default_factory=list)
    letters: list[OfferTerms] = field(default_factory=list)
    contracts: list[uuid.UUID] = field(default_factory=list)
    offers: list[OfferTerms] = field(default_factory=list)
    acceptances: list[RecordAcceptance] = field(default_factory=list)
    disbursements: list[uuid.UUID] = field(default_factory=list)
    notifications: list[NotifyEnterprise] = field(default_factory=list)
    duplicate_of: uuid.UUID | None = None  # another open application refuses recording this one
    signer_refusal: str = ""  # verify_signer's verdict ("" = the signer is confirmed)
    codes: list[SendAcceptanceCode] = field(default_factory=list)
    signatures: list[VerifySigner] = field(default_factory=list)

    async def _pass(self, key: str) -> None:
        gate = self.gates.get(key)
        if gate is not None:
            await gate.wait()

    @activity.defn(name="record_application")
    async def record_application(self, application: ApplicationInput) -> None:
        if self.duplicate_of is not None:
            raise ApplicationError(
                "open", str(self.duplicate_of), type=APPLICATION_ALREADY_OPEN, non_retryable=True
            )
        self.applications.append(application)
        if not missing_materials(
            tuple(application.required_materials), tuple(application.materials)
        ):
            # As the real activity: a complete application is recorded as being assessed.
            self.stages.append(
                ApplicationStage(application_id=application.application_id, stage="assessing")
            )

    @activity.defn(name="assess_application")
    async def assess_application(self, ref: ApplicationRef) -> Assessment:
        self.assessed.append(ref)
        if self.assessment is None:
            raise ApplicationError("bureau unavailable", type="ProviderDown", non_retryable=True)
        # As the real activity: an automatic decision is recorded with the assessment.
        amount = self.applications[-1].amount if self.applications else Decimal(0)
        change = self.assessment.automatic_stage(ref.application_id, amount)
        if change is not None:
            self.stages.append(change)
        return self.assessment

    @activity.defn(name="set_application_stage")
    async def set_application_stage(self, stage: ApplicationStage) -> None:
        self.attempted_stages.append(stage.stage)
        await self._pass(f"stage:{stage.stage}")
        self.stages.append(stage)

    @activity.defn(name="open_task")
    async def open_task(self, task: OpenTask) -> TaskRef:
        self.opened_tasks.append(task)
        return TaskRef(task_id=self.task_id)

    @activity.defn(name="close_task")
    async def close_task(self, close: CloseTask) -> None:
        self.closed_tasks.append(close)

    @activity.defn(name="escalate_task")
    async def escalate_task(self, ref: TaskRef) -> None:
        self.escalated.append(ref.task_id)

    @activity.defn(name="hold_task")
    async def hold_task(self, hold: HoldTask) -> None:
        self.holds.append(hold)

    @activity.defn(name="record_offer")
    async def record_offer(self, offer: OfferTerms) -> None:
        self.offers.append(offer)

    @activity.defn(name="issue_offer_letter")
    async def issue_offer_letter(self, offer: OfferTerms) -> OfferDocument:
        self.letters.append(offer)
        self.offers.append(offer)  # as the real activity: the letter records its offer
        return OfferDocument(sha256=LETTER_SHA, apr=offer.rate + Decimal("0.004"), document_id="d1")

    @activity.defn(name="prepare_offer")
    async def prepare_offer(self, offer: OfferTerms) -> OfferDocument:
        self.offers.append(offer)  # as the real activity: the terms are recorded with the offer
        return OfferDocument(
            sha256=LETTER_SHA, apr=offer.rate + Decimal("0.004"), document_id="", bound_to="terms"
        )

    @activity.defn(name="issue_offer_pdf")
    async def issue_offer_pdf(self, offer: OfferTerms) -> OfferDocument:
        await self._pass("issue_offer_pdf")
        self.letters.append(offer)
        return OfferDocument(
            sha256=LETTER_SHA, apr=offer.rate + Decimal("0.004"), document_id="d1", bound_to="terms"
        )

    @activity.defn(name="issue_contract")
    async def issue_contract(self, loan_id: uuid.UUID) -> OfferDocument:
        self.contracts.append(loan_id)
        return OfferDocument(sha256="c" * 64, apr=Decimal("0.06"), document_id="d2")

    @activity.defn(name="record_acceptance")
    async def record_acceptance(self, record: RecordAcceptance) -> uuid.UUID:
        self.acceptances.append(record)
        await self._pass("record_acceptance")
        return self.loan_id

    @activity.defn(name="send_acceptance_code")
    async def send_acceptance_code(self, send: SendAcceptanceCode) -> AcceptanceCodeSent:
        self.codes.append(send)
        return AcceptanceCodeSent(
            masked_mobile="138****0000",
            expires_at=activity.info().started_time + timedelta(minutes=10),
            attempts=5,
            document_sha256=send.document_sha256,
        )

    @activity.defn(name="verify_signer")
    async def verify_signer(self, check: VerifySigner) -> SignerCheck:
        self.signatures.append(check)
        return SignerCheck(refusal=self.signer_refusal, signer="L*", attempts_left=4)

    @activity.defn(name="disburse_loan")
    async def disburse_loan(self, loan_id: uuid.UUID) -> DisbursementResult:
        self.disbursements.append(loan_id)
        if self.refuse_disbursement:
            # As the real activity: the refusal is recorded, then raised with the bank's code.
            raise ApplicationError(
                "the bank refused the disbursement: ACCOUNT_FROZEN",
                "ACCOUNT_FROZEN",
                type=self.disbursement_failure,
                non_retryable=True,
            )
        return DisbursementResult(
            loan_id=loan_id, idempotency_key=f"disburse-{loan_id}", status="SUCCEEDED"
        )

    @activity.defn(name="notify_enterprise")
    async def notify_enterprise(self, message: NotifyEnterprise) -> None:
        self.notifications.append(message)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_application,
            self.assess_application,
            self.set_application_stage,
            self.open_task,
            self.close_task,
            self.escalate_task,
            self.hold_task,
            self.record_offer,
            self.issue_offer_letter,
            self.prepare_offer,
            self.issue_offer_pdf,
            self.issue_contract,
            self.record_acceptance,
            self.disburse_loan,
            self.notify_enterprise,
            self.send_acceptance_code,
            self.verify_signer,
        ]

    def stage_names(self) -> list[str]:
        return [stage.stage for stage in self.stages]

    def templates(self) -> list[str]:
        return [message.template for message in self.notifications]

    def release(self) -> None:
        for gate in self.gates.values():
            gate.set()


@dataclass
class Application:
    """A running application: the environment, its handle and the fakes behind it."""

    env: WorkflowEnvironment
    fake: FakeApplicationActivities
    handle: WorkflowHandle[Any, ApplicationProgress]
    application: ApplicationInput

    async def update(self, name: str, arg: Any = None) -> ApplicationProgress:
        if arg is None:
            progress: ApplicationProgress = await self.handle.execute_update(
                name, result_type=ApplicationProgress
            )
        else:
            progress = await self.handle.execute_update(name, arg, result_type=ApplicationProgress)
        return progress

    async def decide(
        self,
        *,
        approve: bool,
        decider: uuid.UUID = OFFICER,
        role: Role = Role.OFFICER,
        institution: uuid.UUID | None = INSTITUTION_ID,
        reason: str = "",
        amount: Decimal | None = None,
        rate: Decimal | None = None,
    ) -> ApplicationProgress:
        decision = CreditDecision(
            approve=approve,
            reason=reason,
            decider_id=decider,
            decider_role=role.value,
            decider_institution_id=institution,
            amount=amount,
            rate=rate,
        )
        return await self.update("decide_credit", decision)

    async def accept(
        self, typed_name: str = "Li Wei", document_sha256: str = LETTER_SHA, code: str = "123456"
    ) -> ApplicationProgress:
        acceptance = Acceptance(
            accepted_by=APPLICANT,
            typed_name=typed_name,
            sealed_account="sealed:account",
            document_sha256=document_sha256,
            code=code,
        )
        return await self.update("accept_offer", acceptance)

    async def withdraw(self) -> ApplicationProgress:
        return await self.update("withdraw")

    async def progress(self) -> ApplicationProgress:
        progress: ApplicationProgress = await self.handle.query(
            "progress", result_type=ApplicationProgress
        )
        return progress

    async def wait_for_stage(self, stage: str) -> ApplicationProgress:
        """Poll the query (wall clock, time skipping locked) until the stage is shown."""
        progress: ApplicationProgress | None = None
        for _ in range(400):  # up to ~10 s
            try:
                progress = await self.progress()
            except RPCError:
                progress = None  # the first workflow task has not completed yet
            if progress is not None and progress.stage == stage:
                return progress
            await asyncio.sleep(0.025)
        raise AssertionError(f"stage {stage!r} not reached; last progress {progress!r}")

    async def result(self) -> ApplicationProgress:
        """The outcome; a handle from ``start_workflow`` unlocks time skipping while waiting."""
        return await self.handle.result()

    async def stop(self) -> None:
        """Terminate a workflow left waiting: a stranded one stops the server skipping time.

        Its activities are let finish first: the test server keeps time locked for an
        activity that was still scheduled when its workflow was terminated.
        """
        if self.fake.disbursements and not self.fake.refuse_disbursement:
            # The loan child must have run before the worker goes (a stranded workflow task
            # stops the test server skipping time), and is terminated while its parent is
            # closed: the test server then keeps skipping (a child *completing* after its
            # parent closed leaves it stuck).
            child = self.env.client.get_workflow_handle(loan_workflow_id(self.fake.loan_id))
            for _ in range(200):
                with contextlib.suppress(RPCError):
                    raw = (await child.describe()).raw_description
                    if not raw.HasField("pending_workflow_task"):
                        break
                await asyncio.sleep(0.025)
            with contextlib.suppress(RPCError):
                await child.terminate("test finished")

        quiet_since: int | None = None
        for _ in range(200):  # up to ~5 s
            try:
                description = await self.handle.describe()
            except RPCError:
                return
            if description.status != WorkflowExecutionStatus.RUNNING:
                return
            raw = description.raw_description
            if raw.pending_activities or raw.HasField("pending_workflow_task"):
                quiet_since = None
            elif quiet_since == description.history_length:
                break  # idle twice in a row with no new events
            else:
                quiet_since = description.history_length
            await asyncio.sleep(0.05)
        await self.handle.terminate("test finished")


@asynccontextmanager
async def application(
    env: WorkflowEnvironment, fake: FakeApplicationActivities
) -> AsyncIterator[Application]:
    """A worker on a fresh task queue running the real workflows, and one application started."""
    queue = f"tq-{uuid.uuid4()}"
    submitted = ApplicationInput(
        application_id=uuid.uuid4(),
        enterprise_id=uuid.uuid4(),
        product_id=uuid.uuid4(),
        product_version=3,
        institution_id=INSTITUTION_ID,
        amount=REQUESTED,
        term_months=TERM,
        repayment_method="equal_installments",
    )
    workflows = [LoanApplicationWorkflow, LoanServicingStandIn]
    async with (
        Worker(env.client, task_queue=queue, workflows=workflows, activities=fake.all()),
        Worker(env.client, task_queue=documents_queue(queue), activities=fake.all()),
    ):
        handle: WorkflowHandle[Any, ApplicationProgress] = await env.client.start_workflow(
            WorkflowType.LOAN_APPLICATION,
            submitted,
            id=application_workflow_id(submitted.application_id),
            task_queue=queue,
            result_type=ApplicationProgress,
        )
        case = Application(env=env, fake=fake, handle=handle, application=submitted)
        try:
            yield case
        finally:
            fake.release()  # never leave the worker waiting on a blocked activity
            await case.stop()


@asynccontextmanager
async def in_review(
    env: WorkflowEnvironment, assessment: Assessment | None
) -> AsyncIterator[Application]:
    """A referred application whose credit task is open and awaits a decision."""
    async with application(env, FakeApplicationActivities(assessment=assessment)) as case:
        await case.wait_for_stage("in_review")
        yield case


@asynccontextmanager
async def offered(
    env: WorkflowEnvironment, fake: FakeApplicationActivities | None = None
) -> AsyncIterator[Application]:
    """An auto-approved application whose offer awaits acceptance."""
    fake = fake or FakeApplicationActivities(assessment=_assessment("auto_approve"))
    async with application(env, fake) as case:
        await case.wait_for_stage("offered")
        yield case


# ---- automatic decisions ------------------------------------------------------------------


async def test_auto_decline_ends_declined_with_the_reasons_and_a_notice_without_a_task(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(
        assessment=_assessment("auto_decline", reasons=DECLINE_REASONS)
    )
    async with application(time_skipping_env, fake) as case:
        result = await case.result()
    reason = "bureau.overdue_90d,tax.arrears"
    assert result.stage == "declined"
    assert result.reason == reason
    assert result.offer is None
    assert fake.applications == [case.application]
    assert fake.assessed == [ApplicationRef(application_id=case.application.application_id)]
    assert fake.stage_names() == ["assessing", "declined"]
    assert fake.stages[-1].decision == {"decision": "auto_decline", "reasons": reason}
    assert fake.templates() == ["application_declined"]
    assert fake.notifications[0].context == {"reason": reason}
    assert fake.notifications[0].enterprise_id == case.application.enterprise_id
    assert fake.opened_tasks == []
    assert fake.offers == []
    assert fake.disbursements == []


async def test_auto_approved_offer_accepted_is_disbursed_once_with_stages_in_order(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with offered(time_skipping_env) as case:
        shown = await case.progress()
        accepted = await case.accept()
        result = await case.result()
    fake = case.fake
    assert shown.offer is not None
    assert (shown.offer.amount, shown.offer.rate, shown.offer.term_months) == (
        PROPOSED_AMOUNT,
        PROPOSED_RATE,
        PROPOSED_TERM,
    )
    assert shown.offer.repayment_method == "equal_installments"
    assert fake.offers == [shown.offer]
    assert accepted.stage == "disbursing"
    assert accepted.loan_id == fake.loan_id
    assert result.stage == "disbursed"
    assert result.loan_id == fake.loan_id
    assert fake.disbursements == [fake.loan_id]
    assert [a.acceptance.typed_name for a in fake.acceptances] == ["Li Wei"]
    assert fake.stage_names() == ["assessing", "approved", "offered", "disbursing", "disbursed"]
    assert fake.stages[1].reason == "auto.small_clean_case"
    assert fake.stages[-1].decision == {
        "loan_id": str(fake.loan_id),
        "key": f"disburse-{fake.loan_id}",
    }
    assert fake.templates() == ["application_offered", "loan_disbursed"]
    # Every notice carries its business key: the application and what happened to it.
    app_id = case.application.application_id
    assert [n.key for n in fake.notifications] == [
        f"application-{app_id}-offered",
        f"application-{app_id}-disbursed",
    ]
    assert fake.notifications[0].context["amount"] == "250,000.00"
    assert fake.notifications[0].context["rate"] == "5.50%"
    assert fake.opened_tasks == []


# ---- credit review ------------------------------------------------------------------------


async def test_the_offer_is_acceptable_by_its_terms_before_its_letter_is_rendered(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(
        assessment=_assessment("auto_approve"), gates={"issue_offer_pdf": asyncio.Event()}
    )
    try:
        async with offered(time_skipping_env, fake) as case:
            shown = await case.progress()
            stale = await _refusal(case.accept(document_sha256="b" * 64))
            accepted = await case.accept()  # the letter still rendering
            assert fake.letters == []
            fake.release()
            result = await case.result()
    finally:
        fake.release()
    assert shown.stage == "offered" and shown.offer_document is not None
    assert shown.offer_document.bound_to == "terms"
    assert shown.offer_document.sha256 == LETTER_SHA
    assert stale.type == "offer.document_mismatch"
    assert accepted.stage == "disbursing" and result.stage == "disbursed"
    assert fake.offers == [shown.offer]
    assert [a.acceptance.document_sha256 for a in fake.acceptances] == [LETTER_SHA]


async def test_referred_case_approved_by_an_officer_with_a_rate_is_offered_on_that_rate(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        decided = await case.decide(approve=True, rate=OFFICER_RATE)
    fake = case.fake
    task = fake.opened_tasks[0]
    assert (task.kind, task.required_role) == ("credit_approval", Role.OFFICER.value)
    assert task.subject == f"application-{case.application.application_id}"
    assert task.institution_id == INSTITUTION_ID
    assert task.context["authority"] == "officer"
    assert decided.stage == "offered"
    assert decided.approvals == 1
    assert decided.offer is not None
    assert (decided.offer.amount, decided.offer.rate) == (PROPOSED_AMOUNT, OFFICER_RATE)
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="approved", assignee_id=OFFICER)
    ]
    assert fake.stage_names() == ["assessing", "in_review", "offered"]
    assert fake.templates() == ["application_in_review", "application_offered"]


async def test_review_past_its_sla_is_escalated_and_can_still_be_decided(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        await time_skipping_env.sleep(timedelta(hours=49))
        await _eventually(lambda: case.fake.escalated == [case.fake.task_id], "escalated")
        decided = await case.decide(approve=True, rate=OFFICER_RATE)
    assert decided.stage == "offered"
    assert case.fake.escalated == [case.fake.task_id]  # escalated once, not on every wake


async def test_referred_case_declined_with_a_reason_ends_declined_and_closes_the_task(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    reason = "cash flow does not cover the instalments"
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        decided = await case.decide(approve=False, reason=reason)
        result = await case.result()
    fake = case.fake
    assert decided.stage == "declined"
    assert result.stage == "declined"
    assert result.reason == reason
    assert result.offer is None
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="declined", assignee_id=OFFICER)
    ]
    assert fake.stage_names() == ["assessing", "in_review", "declined"]
    # The stage that records the decline logs the officer's decision, naming them.
    [entry] = fake.stages[-1].decisions
    assert (entry.actor, entry.kind) == (f"user:{OFFICER}", "application.declined")
    assert (entry.payload["decision"], entry.payload["reason"]) == ("declined", reason)
    assert entry.payload["role"] == Role.OFFICER.value
    assert entry.payload["institution_id"] == str(INSTITUTION_ID)
    assert entry.payload["seen"]["assessment"]["score"] == 612
    assert fake.templates() == ["application_in_review", "application_declined"]
    assert fake.notifications[-1].context == {"reason": reason}
    assert fake.offers == []


async def test_four_eyes_case_needs_two_different_supervisors_to_approve(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer", "four_eyes")) as case:
        first = await case.decide(approve=True, decider=SUPERVISOR, role=Role.SUPERVISOR)
        again = await _refusal(case.decide(approve=True, decider=SUPERVISOR, role=Role.SUPERVISOR))
        waiting = await case.progress()
        closed_after_first = list(case.fake.closed_tasks)
        second = await case.decide(approve=True, decider=SECOND_SUPERVISOR, role=Role.SUPERVISOR)
    fake = case.fake
    assert fake.opened_tasks[0].required_role == Role.SUPERVISOR.value
    assert (first.stage, first.approvals) == ("in_review", 1)
    assert again.type == "credit.same_approver"
    assert (waiting.stage, waiting.approvals) == ("in_review", 1)
    assert closed_after_first == []
    assert (second.stage, second.approvals) == ("offered", 2)
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="approved", assignee_id=SECOND_SUPERVISOR)
    ]
    assert len(fake.offers) == 1


async def test_invalid_credit_decisions_are_refused_and_leave_the_case_in_review(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer", "supervisor")) as case:
        officer = await _refusal(case.decide(approve=True))
        foreign = await _refusal(
            case.decide(approve=True, role=Role.SUPERVISOR, institution=OTHER_INSTITUTION)
        )
        stateless = await _refusal(
            case.decide(approve=True, role=Role.SUPERVISOR, institution=None)
        )
        no_reason = await _refusal(case.decide(approve=False, role=Role.SUPERVISOR, reason=" "))
        usury = await _refusal(
            case.decide(approve=True, role=Role.SUPERVISOR, rate=Decimal("0.30"))
        )
        free = await _refusal(case.decide(approve=True, role=Role.SUPERVISOR, rate=Decimal(0)))
        too_much = await _refusal(
            case.decide(approve=True, role=Role.SUPERVISOR, amount=REQUESTED + 1)
        )
        nothing = await _refusal(case.decide(approve=True, role=Role.SUPERVISOR, amount=Decimal(0)))
        untouched = await case.progress()
    assert officer.type == "credit.beyond_authority"
    assert foreign.type == "credit.wrong_institution"
    assert stateless.type == "credit.wrong_institution"
    assert no_reason.type == "credit.reason_required"
    assert usury.type == "credit.bad_rate"
    assert free.type == "credit.bad_rate"
    assert too_much.type == "credit.bad_amount"
    assert nothing.type == "credit.bad_amount"
    assert (untouched.stage, untouched.approvals) == ("in_review", 0)
    assert case.fake.closed_tasks == []
    assert case.fake.stage_names() == ["assessing", "in_review"]


async def test_decision_after_the_case_is_decided_is_refused_as_not_pending(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        await case.decide(approve=True, amount=Decimal("200000"))
        late = await _refusal(case.decide(approve=False, decider=SUPERVISOR, reason="changed"))
        progress = await case.progress()
    assert late.type == "credit.not_pending"
    assert progress.stage == "offered"
    assert progress.offer is not None
    assert (progress.offer.amount, progress.offer.rate) == (Decimal("200000"), PROPOSED_RATE)
    assert len(case.fake.closed_tasks) == 1


async def test_failed_assessment_goes_to_supervisor_review_and_approval_needs_a_rate(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, None) as case:
        shown = await case.progress()
        officer = await _refusal(case.decide(approve=True, rate=OFFICER_RATE))
        no_rate = await _refusal(case.decide(approve=True, role=Role.SUPERVISOR))
        decided = await case.decide(approve=True, role=Role.SUPERVISOR, rate=OFFICER_RATE)
    fake = case.fake
    assert len(fake.assessed) == 1  # a non-retryable failure is not retried
    assert shown.assessment is None
    assert shown.reason == "assessment.unavailable"
    task = fake.opened_tasks[0]
    assert task.required_role == Role.SUPERVISOR.value
    assert task.context["reasons"] == "assessment.unavailable"
    assert task.context["authority"] == "supervisor"
    assert officer.type == "credit.beyond_authority"
    assert no_rate.type == "credit.bad_rate"
    assert decided.stage == "offered"
    assert decided.offer is not None
    assert (decided.offer.amount, decided.offer.rate, decided.offer.term_months) == (
        REQUESTED,
        OFFICER_RATE,
        TERM,
    )


# ---- offer --------------------------------------------------------------------------------


async def test_offer_expires_after_seven_days_and_late_acceptance_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(
        assessment=_assessment("auto_approve"), gates={"stage:expired": asyncio.Event()}
    )
    async with offered(time_skipping_env, fake) as case:
        shown = await case.progress()
        started = (await case.handle.describe()).start_time
        assert shown.offer is not None
        now = await time_skipping_env.get_current_time()
        await time_skipping_env.sleep(shown.offer.expires_at - now - timedelta(seconds=1))
        before_expiry = await case.progress()
        # the last second passes on the (real) clock: no activity may run while time skips
        await _eventually(lambda: "expired" in fake.attempted_stages, "expiry recorded")
        # the expiry is being recorded: the offer still shows, but its time is up
        past_expiry = await _refusal(case.accept())
        fake.release()
        result = await case.result()
        after_end = await _refused_or_closed(case.accept())
        description = await case.handle.describe()
    assert shown.offer is not None
    assert timedelta(days=7) <= shown.offer.expires_at - started < timedelta(days=7, minutes=1)
    assert before_expiry.stage == "offered"
    assert past_expiry.type == "offer.expired"
    assert after_end in {"offer.expired", "offer.not_pending", "closed"}
    assert result.stage == "expired"
    assert result.reason == "offer.expired"
    assert fake.stage_names() == ["assessing", "approved", "offered", "expired"]
    assert fake.acceptances == []
    assert fake.disbursements == []
    assert description.close_time is not None
    assert timedelta(days=7) <= description.close_time - started < timedelta(days=7, hours=1)


async def test_acceptance_without_a_typed_name_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with offered(time_skipping_env) as case:
        blank = await _refusal(case.accept("  "))
        initial = await _refusal(case.accept("L"))
        progress = await case.progress()
    assert blank.type == "offer.name_required"
    assert initial.type == "offer.name_required"
    assert progress.stage == "offered"
    assert case.fake.acceptances == []


async def test_a_refused_signer_accepts_nothing_and_a_confirmed_one_is_paid(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """verified-signer-v1: the code goes to the signer on request; an acceptance without a
    code is refused by the validator, one verify_signer refuses changes nothing (refused with
    its code), and the confirmed signer's acceptance is disbursed."""
    fake = FakeApplicationActivities(
        assessment=_assessment("auto_approve"), signer_refusal="signer.name_mismatch"
    )
    async with offered(time_skipping_env, fake) as case:
        sent: AcceptanceCodeSent = await case.handle.execute_update(
            "request_acceptance_code",
            AcceptanceCodeRequest(requested_by=APPLICANT),
            result_type=AcceptanceCodeSent,
        )
        missing = await _refusal(case.accept(code=""))
        wrong = await _refusal(case.accept("Zhang San"))
        refused_stage = (await case.progress()).stage
        fake.signer_refusal = ""
        await case.accept()
        result = await case.result()
    assert sent.masked_mobile == "138****0000" and sent.document_sha256 == LETTER_SHA
    assert [c.document_sha256 for c in fake.codes] == [LETTER_SHA]
    assert missing.type == "signer.code_missing"
    assert wrong.type == "signer.name_mismatch"
    assert refused_stage == "offered"
    assert [v.signer_name for v in fake.signatures] == ["Zhang San", "Li Wei"]
    assert len(fake.acceptances) == 1 and fake.acceptances[0].acceptance.code == "123456"
    assert result.stage == "disbursed" and len(fake.disbursements) == 1


async def test_a_submission_refused_as_a_duplicate_names_the_open_application(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """record_application finds another open application for the product and purpose: the
    update-with-start's Update answers with its id, nothing more happens and the run ends."""
    open_id = uuid.uuid4()
    fake = FakeApplicationActivities(assessment=_assessment("auto_approve"), duplicate_of=open_id)
    queue = f"tq-{uuid.uuid4()}"
    submitted = ApplicationInput(
        application_id=uuid.uuid4(),
        enterprise_id=uuid.uuid4(),
        product_id=uuid.uuid4(),
        product_version=1,
        institution_id=INSTITUTION_ID,
        amount=REQUESTED,
        term_months=TERM,
        repayment_method="equal_installments",
    )
    workflow_id = application_workflow_id(submitted.application_id)
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[LoanApplicationWorkflow],
        activities=fake.all(),
    ):
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            WorkflowType.LOAN_APPLICATION,
            submitted,
            id=workflow_id,
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        answer = await time_skipping_env.client.execute_update_with_start_workflow(
            "submission", start_workflow_operation=start, result_type=ApplicationProgress
        )
        handle = time_skipping_env.client.get_workflow_handle(
            workflow_id, result_type=ApplicationProgress
        )
        result = await handle.result()
    assert (answer.stage, answer.open_application_id) == ("duplicate", open_id)
    assert (result.stage, result.reason) == ("duplicate", APPLICATION_ALREADY_OPEN)
    assert fake.assessed == [] and fake.stages == []


async def test_acceptance_before_any_offer_is_refused_as_not_pending(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        early = await _refusal(case.accept())
        progress = await case.progress()
    assert early.type == "offer.not_pending"
    assert progress.stage == "in_review"
    assert case.fake.acceptances == []


# ---- withdrawal ---------------------------------------------------------------------------


async def test_withdrawal_in_review_cancels_the_task_and_ends_withdrawn(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        withdrawn = await case.withdraw()
        late = await _refused_or_closed(case.decide(approve=True))
        result = await case.result()
    fake = case.fake
    assert withdrawn.stage == "withdrawn"
    assert result.stage == "withdrawn"
    assert result.reason == "applicant.withdrew"
    assert fake.closed_tasks == [CloseTask(task_id=fake.task_id, outcome="cancelled")]
    assert late in {"credit.not_pending", "closed"}
    assert fake.stage_names() == ["assessing", "in_review", "withdrawn"]
    assert fake.offers == []


async def test_withdrawal_of_an_offer_ends_withdrawn_without_disbursement(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with offered(time_skipping_env) as case:
        withdrawn = await case.withdraw()
        late = await _refused_or_closed(case.accept())
        result = await case.result()
    fake = case.fake
    assert withdrawn.stage == "withdrawn"
    assert result.stage == "withdrawn"
    assert late in {"offer.not_pending", "closed"}
    assert fake.stage_names() == ["assessing", "approved", "offered", "withdrawn"]
    assert fake.acceptances == []
    assert fake.disbursements == []


async def test_withdrawal_after_acceptance_is_refused_and_the_loan_is_disbursed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(
        assessment=_assessment("auto_approve"), gates={"record_acceptance": asyncio.Event()}
    )
    async with offered(time_skipping_env, fake) as case:
        accepting = asyncio.create_task(case.accept())
        try:
            await _eventually(lambda: len(fake.acceptances) == 1, "record_acceptance started")
            while_recording = await _refusal(case.withdraw())
        finally:
            fake.release()
        accepted = await accepting
        result = await case.result()
    assert while_recording.type == "application.closed"
    assert accepted.stage == "disbursing"
    assert result.stage == "disbursed"
    assert fake.disbursements == [fake.loan_id]
    assert "withdrawn" not in fake.stage_names()


# ---- disbursement -------------------------------------------------------------------------


async def test_refused_disbursement_ends_disbursement_failed_without_retrying(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(
        assessment=_assessment("auto_approve"), refuse_disbursement=True
    )
    async with offered(time_skipping_env, fake) as case:
        await case.accept()
        result = await case.result()
    assert result.stage == "disbursement_failed"
    assert result.reason == "DisbursementRefused"
    assert fake.disbursements == [fake.loan_id]  # DisbursementRefused is not retried
    assert fake.stage_names() == [
        "assessing",
        "approved",
        "offered",
        "disbursing",
        "disbursement_failed",
    ]
    assert "loan_disbursed" not in fake.templates()
    assert fake.stages[-1].decision == {
        "decision": "disbursement_failed",
        "loan_id": str(fake.loan_id),
        "failure_code": "ACCOUNT_FROZEN",
    }
    # The applicant is told what happened and what to do next, once (a business key).
    notice = fake.notifications[-1]
    assert notice.template == "application_disbursement_failed"
    assert notice.context == {"failure_code": "ACCOUNT_FROZEN"}
    assert notice.key == f"application-{case.application.application_id}-disbursement-failed"


async def test_disbursement_failing_otherwise_than_refused_sends_no_nothing_was_paid_notice(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(
        assessment=_assessment("auto_approve"),
        refuse_disbursement=True,
        disbursement_failure="ProviderRejected",  # not the bank's refusal: fate unknown
    )
    async with offered(time_skipping_env, fake) as case:
        await case.accept()
        result = await case.result()
    assert (result.stage, result.reason) == ("disbursement_failed", "ProviderRejected")
    assert fake.templates() == ["application_offered"]
