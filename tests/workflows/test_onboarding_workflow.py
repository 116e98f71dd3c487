"""EnterpriseOnboardingWorkflow on the time-skipping server with in-memory fake activities."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.onboarding import DocumentKind
from domain.roles import Role
from workflows.contracts import (
    AttachDocument,
    CloseTask,
    ConfirmOtp,
    DocumentRecord,
    EnterpriseRef,
    IdentityCheckResult,
    NotifyEnterprise,
    OnboardingProgress,
    OpenTask,
    OtpChallengeRef,
    OtpCheck,
    Registrant,
    RegistrationAck,
    RegistrationInput,
    RegistryCheckResult,
    ResendOtp,
    Resubmission,
    ResubmissionRecorded,
    ReviewDecision,
    SendOtp,
    StageChange,
    TaskRef,
    UsccClaimResult,
    WorkflowType,
    enterprise_workflow_id,
)
from workflows.registry import ALL_WORKFLOWS

GOOD_CODE = "123456"
WRONG_CODE = "000000"
ENTERPRISE_NAME = "Acme Trading Co., Ltd."
LEGAL_REP = "张三"
MASKED_MOBILE = "138****8000"
REVIEWER = uuid.uuid4()
REGISTRANT_ID = uuid.uuid4()


@cache
def _registrant() -> Registrant:
    """Built on first use, never at import: a module importing this one inside the workflow
    sandbox would hand pydantic the sandbox's proxied UUID."""
    return Registrant(user_id=REGISTRANT_ID, role=Role.APPLICANT.value)


def _registration(enterprise_id: uuid.UUID) -> RegistrationInput:
    return RegistrationInput(
        enterprise_id=enterprise_id,
        user_id=uuid.uuid4(),
        username="acme",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        enterprise_name=ENTERPRISE_NAME,
        uscc="91350100M000100Y43",
        registered_capital=Decimal("1000000"),
        founding_date=date(2020, 1, 1),
        business_scope="trade",
        industry="F",
        region="350100",
        legal_rep_name=LEGAL_REP,
        sealed_id_number="sealed:id-number",
        sealed_mobile="sealed:mobile",
        email="owner@acme.example",
    )


def _active_registry(name: str = ENTERPRISE_NAME) -> RegistryCheckResult:
    return RegistryCheckResult(
        found=True, status="ACTIVE", name=name, legal_representative=LEGAL_REP
    )


@dataclass
class FakeOnboardingActivities:
    """In-memory stand-ins for every activity the workflow calls, recording each call."""

    duplicate: bool = False
    refuse_mobile: bool = False  # the SMS gateway refuses the mobile (final)
    identity_failures: int = 0  # how many attempts fail before the answer; -1 = always fail
    identity_result: str = "MATCH"
    registry: RegistryCheckResult = field(default_factory=_active_registry)
    task_id: uuid.UUID = field(default_factory=uuid.uuid4)
    registrations: list[RegistrationInput] = field(default_factory=list)
    otp_sends: list[SendOtp] = field(default_factory=list)
    otp_checks: list[OtpCheck] = field(default_factory=list)
    expired: list[EnterpriseRef] = field(default_factory=list)
    stages: list[StageChange] = field(default_factory=list)
    documents: list[DocumentRecord] = field(default_factory=list)
    identity_attempts: list[int] = field(default_factory=list)
    registry_calls: list[EnterpriseRef] = field(default_factory=list)
    notifications: list[NotifyEnterprise] = field(default_factory=list)
    opened_tasks: list[OpenTask] = field(default_factory=list)
    closed_tasks: list[CloseTask] = field(default_factory=list)
    resubmissions: list[RegistrationInput] = field(default_factory=list)
    refuse_resubmission: bool = False
    uscc_free: bool = True  # False: another registration holds the USCC
    claims: list[EnterpriseRef] = field(default_factory=list)

    @activity.defn(name="record_registration")
    async def record_registration(self, registration: RegistrationInput) -> None:
        self.registrations.append(registration)
        if self.duplicate:
            raise ApplicationError(
                "enterprise already registered", type="DuplicateEnterprise", non_retryable=True
            )

    @activity.defn(name="record_resubmission")
    async def record_resubmission(self, registration: RegistrationInput) -> ResubmissionRecorded:
        self.resubmissions.append(registration)
        if self.refuse_resubmission:
            raise ApplicationError(
                "not resubmittable", type="onboarding.not_resubmittable", non_retryable=True
            )
        on_file = {d.kind: d.sha256 for d in self.documents}
        reupload = registration.resubmission.reupload if registration.resubmission else []
        return ResubmissionRecorded(
            documents={k: v for k, v in on_file.items() if k not in reupload}
        )

    @activity.defn(name="send_otp")
    async def send_otp(self, ref: SendOtp) -> OtpChallengeRef:
        self.otp_sends.append(ref)
        if self.refuse_mobile:
            raise ApplicationError(
                "the SMS gateway refuses this mobile",
                "RECIPIENT_BLOCKED",
                type="mobile.refused",
                non_retryable=True,
            )
        return OtpChallengeRef(challenge_id=uuid.uuid4(), masked_mobile=MASKED_MOBILE)

    @activity.defn(name="check_otp")
    async def check_otp(self, check: OtpCheck) -> bool:
        self.otp_checks.append(check)
        return check.code == GOOD_CODE

    @activity.defn(name="expire_registration")
    async def expire_registration(self, ref: EnterpriseRef) -> None:
        self.expired.append(ref)

    @activity.defn(name="claim_uscc")
    async def claim_uscc(self, ref: EnterpriseRef) -> UsccClaimResult:
        self.claims.append(ref)
        return UsccClaimResult(claimed=self.uscc_free)

    @activity.defn(name="set_enterprise_stage")
    async def set_enterprise_stage(self, change: StageChange) -> None:
        self.stages.append(change)

    @activity.defn(name="record_document")
    async def record_document(self, record: DocumentRecord) -> None:
        self.documents.append(record)

    @activity.defn(name="check_identity")
    async def check_identity(self, ref: EnterpriseRef) -> IdentityCheckResult:
        attempt = activity.info().attempt
        self.identity_attempts.append(attempt)
        if self.identity_failures < 0 or attempt <= self.identity_failures:
            raise RuntimeError("identity bureau timed out")
        return IdentityCheckResult(result=self.identity_result)

    @activity.defn(name="check_registry")
    async def check_registry(self, ref: EnterpriseRef) -> RegistryCheckResult:
        self.registry_calls.append(ref)
        return self.registry

    @activity.defn(name="notify_enterprise")
    async def notify_enterprise(self, message: NotifyEnterprise) -> None:
        self.notifications.append(message)

    @activity.defn(name="open_task")
    async def open_task(self, task: OpenTask) -> TaskRef:
        self.opened_tasks.append(task)
        return TaskRef(task_id=self.task_id)

    @activity.defn(name="close_task")
    async def close_task(self, close: CloseTask) -> None:
        self.closed_tasks.append(close)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_registration,
            self.record_resubmission,
            self.send_otp,
            self.check_otp,
            self.expire_registration,
            self.claim_uscc,
            self.set_enterprise_stage,
            self.record_document,
            self.check_identity,
            self.check_registry,
            self.notify_enterprise,
            self.open_task,
            self.close_task,
        ]

    def stage_names(self) -> list[str]:
        return [change.stage for change in self.stages]

    def templates(self) -> list[str]:
        return [message.template for message in self.notifications]


@dataclass
class Onboarding:
    """A running onboarding: the client, its task queue, ids and the fakes behind it."""

    env: WorkflowEnvironment
    fake: FakeOnboardingActivities
    queue: str
    enterprise_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def workflow_id(self) -> str:
        return enterprise_workflow_id(self.enterprise_id)

    @property
    def handle(self) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(self.workflow_id, result_type=OnboardingProgress)

    async def register(self) -> RegistrationAck:
        """Start (or join) the workflow and wait for the registration Update, like the API."""
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            WorkflowType.ENTERPRISE_ONBOARDING,
            _registration(self.enterprise_id),
            id=self.workflow_id,
            task_queue=self.queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        ack: RegistrationAck = await self.client.execute_update_with_start_workflow(
            "registration", start_workflow_operation=start, result_type=RegistrationAck
        )
        return ack

    async def resubmit(self, round_: int, reupload: list[str]) -> RegistrationAck:
        """A new run of the same id, like the API's resubmission (an open run is refused)."""
        registration = _registration(self.enterprise_id).model_copy(
            update={
                "password_hash": "",
                "resubmission": Resubmission(
                    round=round_,
                    requested_by=self.fake.registrations[0].user_id,
                    requested_role=Role.APPLICANT.value,
                    corrected=["enterprise.name"],
                    reupload=reupload,
                ),
            }
        )
        handle = await self.client.start_workflow(
            WorkflowType.ENTERPRISE_ONBOARDING,
            registration,
            id=self.workflow_id,
            task_queue=self.queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        ack: RegistrationAck = await handle.execute_update(
            "registration", result_type=RegistrationAck
        )
        return ack

    async def update(self, name: str, arg: Any = None) -> OnboardingProgress:
        if arg is None:
            progress: OnboardingProgress = await self.handle.execute_update(
                name, result_type=OnboardingProgress
            )
        else:
            progress = await self.handle.execute_update(name, arg, result_type=OnboardingProgress)
        return progress

    async def confirm(self, code: str = GOOD_CODE) -> OnboardingProgress:
        return await self.update("confirm_otp", ConfirmOtp(code=code, confirmed_by=_registrant()))

    async def resend(self) -> OnboardingProgress:
        return await self.update("resend_otp", ResendOtp(requested_by=_registrant()))

    async def attach(self, kind: DocumentKind) -> OnboardingProgress:
        document = AttachDocument(
            kind=kind.value,
            sha256=f"{kind.value:0<64}"[:64],
            content_type="image/png",
            size_bytes=1,
            attached_by=_registrant(),
        )
        return await self.update("attach_document", document)

    async def attach_all(self) -> OnboardingProgress:
        progress = None
        for kind in DocumentKind:
            progress = await self.attach(kind)
        assert progress is not None
        return progress

    async def decide(
        self, *, approve: bool, reason: str = "", role: str = Role.PLATFORM_ADMIN.value
    ) -> OnboardingProgress:
        decision = ReviewDecision(
            task_id=self.fake.task_id,
            approve=approve,
            reason=reason,
            reviewer_id=REVIEWER,
            reviewer_role=role,
        )
        return await self.update("decide_review", decision)

    async def progress(self) -> OnboardingProgress:
        progress: OnboardingProgress = await self.handle.query(
            "progress", result_type=OnboardingProgress
        )
        return progress

    async def wait_for_stage(self, stage: str) -> OnboardingProgress:
        """Poll the query until the stage is shown (and, in review, the task is known).

        ``in_review`` is shown before ``open_task`` returns; until then the workflow has no
        task id and refuses decisions with ``review.not_pending``. Waiting for it, time
        stays held: skipping, the server jumped past the review's own timers before the
        test's decision arrived, and then refused that Update ("update … not found"; about
        one run in two since 2026-12-07, the code of before included).
        """
        async with _time_skipping(self.env) if stage != "in_review" else _held_time():
            for _ in range(2400):  # retry backoffs run on the wall clock here: up to ~30 s
                progress = await self.progress()
                if progress.stage == stage and (
                    stage != "in_review" or progress.review_task_id is not None
                ):
                    return progress
                await asyncio.sleep(0.025)
        raise AssertionError(f"stage {stage!r} not reached; last {progress.stage!r}")

    async def stop(self) -> None:
        """Terminate a workflow left waiting: a stranded one stops the server skipping time."""
        try:
            description = await self.handle.describe()
        except RPCError:
            return  # never started
        if description.status == WorkflowExecutionStatus.RUNNING:
            await self.handle.terminate("test finished")

    async def result(self) -> OnboardingProgress:
        async with _time_skipping(self.env):
            result: OnboardingProgress = await self.handle.result()
        return result


@asynccontextmanager
async def _held_time() -> AsyncIterator[None]:
    yield


@asynccontextmanager
async def _time_skipping(env: WorkflowEnvironment) -> AsyncIterator[None]:
    """Let the server skip time while we wait. Handles from ``start_workflow`` do this in
    ``result()``; handles of an update-with-start (and ``get_workflow_handle``) do not."""
    service = env.client.test_service
    await service.unlock_time_skipping(UnlockTimeSkippingRequest())
    try:
        yield
    finally:
        await service.lock_time_skipping(LockTimeSkippingRequest())


@asynccontextmanager
async def onboarding(
    env: WorkflowEnvironment, fake: FakeOnboardingActivities | None = None
) -> AsyncIterator[Onboarding]:
    """A worker on a fresh task queue running the real workflows with the given fakes."""
    fakes = fake or FakeOnboardingActivities()
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=ALL_WORKFLOWS, activities=fakes.all()
    ):
        case = Onboarding(env=env, fake=fakes, queue=queue)
        try:
            yield case
        finally:
            await case.stop()


async def _refusal(call: Awaitable[Any]) -> ApplicationError:
    """The ApplicationError behind a failed Update (validator rejection or handler failure)."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await call
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause


async def _verified_path(case: Onboarding) -> OnboardingProgress:
    await case.register()
    await case.confirm()
    await case.attach_all()
    return await case.result()


# ---- happy path and registration ----------------------------------------------------------


async def test_complete_onboarding_ends_verified_with_stages_in_order(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        ack = await case.register()
        assert ack == RegistrationAck(
            enterprise_id=case.enterprise_id, stage="awaiting_otp", otp_sent_to=MASKED_MOBILE
        )
        confirmed = await case.confirm()
        assert confirmed.stage == "awaiting_documents"
        assert confirmed.missing_documents == sorted(k.value for k in DocumentKind)
        after_first = await case.attach(DocumentKind.ID_FRONT)
        assert DocumentKind.ID_FRONT.value not in after_first.missing_documents
        for kind in list(DocumentKind)[1:]:
            await case.attach(kind)
        result = await case.result()
    fake = case.fake
    assert result.stage == "verified"
    assert result.reason == "all_checks_passed"
    assert fake.stage_names() == ["awaiting_documents", "verifying", "verified"]
    assert fake.stages[-1].decision == {
        "identity": "MATCH",
        "registry": "ACTIVE",
        "verdict": "verified",
        "reason": "all_checks_passed",
    }
    assert fake.templates() == ["registration_received", "verification_approved"]
    assert {d.kind for d in fake.documents} == {k.value for k in DocumentKind}
    assert fake.opened_tasks == []


async def test_second_registration_with_same_id_returns_same_ack_and_records_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        first = await case.register()
        second = await case.register()
        progress = await case.progress()
    assert second == first
    assert len(case.fake.registrations) == 1
    assert len(case.fake.otp_sends) == 1
    assert progress.stage == "awaiting_otp"


async def test_duplicate_enterprise_fails_registration_update_and_ends_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env, FakeOnboardingActivities(duplicate=True)) as case:
        refusal = await _refusal(case.register())
        result = await case.result()
    assert refusal.type == "DuplicateEnterprise"
    assert result.stage == "refused"
    assert result.reason == "DuplicateEnterprise"
    assert len(case.fake.registrations) == 1
    assert case.fake.otp_sends == []


async def test_a_refused_mobile_ends_the_registration_at_once_and_releases_its_names(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeOnboardingActivities(refuse_mobile=True)
    async with onboarding(time_skipping_env, fake) as case:
        refusal = await _refusal(case.register())
        result = await case.result()
    assert refusal.type == "mobile.refused"
    assert (result.stage, result.reason) == ("refused", "mobile.refused")
    assert len(fake.otp_sends) == 1  # final: not retried
    assert fake.expired == [EnterpriseRef(enterprise_id=case.enterprise_id)]  # names released
    assert fake.stages == []


# ---- one-time code ------------------------------------------------------------------------


async def test_unconfirmed_registration_holds_nothing_once_its_code_expires(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        await case.register()
        result = await case.result()  # the code's five minutes pass on the server's clock
        described = await case.handle.describe()
    assert result.stage == "expired"
    assert result.reason == "otp.not_confirmed"
    assert case.fake.expired == [EnterpriseRef(enterprise_id=case.enterprise_id)]
    assert case.fake.stages == []
    assert described.close_time is not None
    # It ended with its code (it held its username and USCC for 30 minutes before 28/3).
    assert described.close_time - described.start_time < timedelta(minutes=6)


async def test_a_resent_code_keeps_the_registration_for_its_own_five_minutes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        await case.register()
        await time_skipping_env.sleep(timedelta(minutes=4))
        await case.resend()
        await time_skipping_env.sleep(timedelta(minutes=4))  # past the first code's validity
        confirmed = await case.confirm()
    assert confirmed.stage == "awaiting_documents"
    assert case.fake.expired == []


async def test_code_confirmed_after_five_minutes_finds_the_registration_ended(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        await case.register()
        await time_skipping_env.sleep(timedelta(minutes=6))
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await case.confirm()
        progress = await case.progress()
    assert case.fake.otp_checks == []  # refused before any activity
    assert (progress.stage, progress.reason) == ("expired", "otp.not_confirmed")


async def test_wrong_codes_are_refused_then_locked_until_a_new_code_is_sent(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        await case.register()
        wrong = [await _refusal(case.confirm(WRONG_CODE)) for _ in range(5)]
        locked = await _refusal(case.confirm(GOOD_CODE))
        too_soon = await _refusal(case.resend())
        await time_skipping_env.sleep(timedelta(seconds=61))
        resent = await case.resend()
        confirmed = await case.confirm(GOOD_CODE)
    assert [r.type for r in wrong] == ["otp.wrong_code"] * 5
    assert locked.type == "otp.too_many_attempts"
    assert too_soon.type == "otp.too_soon"
    assert resent.stage == "awaiting_otp"
    assert len(case.fake.otp_sends) == 2
    assert confirmed.stage == "awaiting_documents"  # the failure counter was reset
    assert [c.code for c in case.fake.otp_checks] == [WRONG_CODE] * 5 + [GOOD_CODE]


# ---- who holds the USCC (issue 28/3) ------------------------------------------------------


async def test_a_confirmed_legal_representative_claims_the_uscc_and_is_verified(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeOnboardingActivities()
    async with onboarding(time_skipping_env, fake) as case:
        result = await _verified_path(case)
    assert result.stage == "verified"
    assert fake.claims == [EnterpriseRef(enterprise_id=case.enterprise_id)]


async def test_the_uscc_claimed_by_another_registration_rejects_with_the_way_forward(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeOnboardingActivities(uscc_free=False)
    async with onboarding(time_skipping_env, fake) as case:
        result = await _verified_path(case)
    assert (result.stage, result.reason) == ("rejected", "uscc.claimed_by_another")
    assert fake.stages[-1].decision is not None
    assert fake.stages[-1].decision["reason"] == "uscc.claimed_by_another"
    assert fake.opened_tasks == []


async def test_a_reviewer_s_approval_claims_the_uscc_when_no_check_could(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeOnboardingActivities(identity_failures=-1, uscc_free=False)
    async with onboarding(time_skipping_env, fake) as case:
        await _in_review(case)
        assert fake.claims == []  # the identity bureau never answered: nothing confirmed
        await case.decide(approve=True, reason="证照核对无误")
        result = await case.result()
    assert fake.claims == [EnterpriseRef(enterprise_id=case.enterprise_id)]
    assert (result.stage, result.reason) == ("rejected", "uscc.claimed_by_another")


async def test_a_legal_representative_the_registry_does_not_know_claims_nothing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    registry = RegistryCheckResult(
        found=True, status="ACTIVE", name=ENTERPRISE_NAME, legal_representative="李四"
    )
    fake = FakeOnboardingActivities(registry=registry)
    async with onboarding(time_skipping_env, fake) as case:
        result = await _verified_path(case)
    assert (result.stage, result.reason) == ("rejected", "registry.legal_rep_mismatch")
    assert fake.claims == []


# ---- providers ----------------------------------------------------------------------------


async def test_identity_timeouts_are_retried_until_the_provider_answers(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeOnboardingActivities(identity_failures=2)
    async with onboarding(time_skipping_env, fake) as case:
        await case.register()
        await case.confirm()
        await case.attach_all()
        await case.wait_for_stage("verified")
        result = await case.result()
    assert result.stage == "verified"
    assert fake.identity_attempts == [1, 2, 3]
    assert fake.opened_tasks == []


async def test_identity_provider_down_after_all_retries_goes_to_review(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeOnboardingActivities(identity_failures=-1)
    async with onboarding(time_skipping_env, fake) as case:
        await case.register()
        await case.confirm()
        await case.attach_all()
        progress = await case.wait_for_stage("in_review")
    assert progress.reason == "provider.unavailable"
    assert progress.review_task_id == fake.task_id
    assert fake.identity_attempts == [1, 2, 3, 4, 5]
    assert fake.stages[-1].decision == {
        "identity": "unavailable",
        "registry": "ACTIVE",
        "verdict": "review",
        "reason": "provider.unavailable",
    }
    (task,) = fake.opened_tasks
    assert task.kind == "verification_review"
    assert task.required_role == Role.PLATFORM_ADMIN.value
    assert task.context["reason"] == "provider.unavailable"


async def test_revoked_licence_is_rejected_without_review(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    registry = RegistryCheckResult(
        found=True, status="REVOKED", name=ENTERPRISE_NAME, legal_representative=LEGAL_REP
    )
    fake = FakeOnboardingActivities(registry=registry)
    async with onboarding(time_skipping_env, fake) as case:
        result = await _verified_path(case)
    assert result.stage == "rejected"
    assert result.reason == "registry.revoked"
    assert fake.stage_names() == ["awaiting_documents", "verifying", "rejected"]
    assert fake.opened_tasks == []
    assert fake.notifications[-1].template == "verification_rejected"
    assert fake.notifications[-1].context == {"reason": "registry.revoked"}


# ---- manual review ------------------------------------------------------------------------


def _minor_mismatch() -> FakeOnboardingActivities:
    return FakeOnboardingActivities(registry=_active_registry("Acme Trading Co.,Ltd."))


async def _in_review(case: Onboarding) -> OnboardingProgress:
    await case.register()
    await case.confirm()
    await case.attach_all()
    return await case.wait_for_stage("in_review")


async def test_minor_name_mismatch_approved_by_platform_admin_ends_verified(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env, _minor_mismatch()) as case:
        review = await _in_review(case)
        decided = await case.decide(approve=True)
        result = await case.result()
    fake = case.fake
    assert review.reason == "registry.name_minor_mismatch"
    assert decided.stage == "verified"
    assert result.stage == "verified"
    assert result.reason == "review.approved"
    assert fake.stage_names() == ["awaiting_documents", "verifying", "in_review", "verified"]
    assert fake.stages[-1].actor == f"user:{REVIEWER}"
    # The reviewer's entry names their role, the task and what they saw.
    assert fake.stages[-1].decision == {
        "verdict": "verified",
        "reason": "review.approved",
        "review_of": "registry.name_minor_mismatch",
        "reviewer_role": Role.PLATFORM_ADMIN.value,
        "task_id": str(fake.task_id),
        "identity": "MATCH",
        "registry": "ACTIVE",
        "round": "0",
    }
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="approved", assignee_id=REVIEWER)
    ]
    assert fake.templates() == [
        "registration_received",
        "verification_in_review",
        "verification_approved",
    ]


async def test_review_rejection_with_reason_ends_rejected_and_tells_the_enterprise(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env, _minor_mismatch()) as case:
        await _in_review(case)
        decided = await case.decide(approve=False, reason="licence photo unreadable")
        result = await case.result()
    fake = case.fake
    assert decided.stage == "rejected"
    assert result.stage == "rejected"
    assert result.reason == "licence photo unreadable"
    assert fake.closed_tasks[0].outcome == "rejected"
    assert fake.notifications[-1].template == "verification_rejected"
    assert fake.notifications[-1].context == {"reason": "licence photo unreadable"}


async def test_review_validator_refuses_wrong_role_missing_reason_wrong_task_and_repeats(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env, _minor_mismatch()) as case:
        await _in_review(case)
        wrong_role = await _refusal(case.decide(approve=True, role=Role.OFFICER.value))
        no_reason = await _refusal(case.decide(approve=False, reason="  "))
        wrong_task = await _refusal(
            case.update(
                "decide_review",
                ReviewDecision(
                    task_id=uuid.uuid4(),
                    approve=True,
                    reviewer_id=REVIEWER,
                    reviewer_role=Role.PLATFORM_ADMIN.value,
                ),
            )
        )
        still = await case.progress()
        await case.decide(approve=True)
        again = await _refusal(case.decide(approve=False, reason="changed my mind"))
        result = await case.result()
    assert wrong_role.type == "review.role_not_allowed"
    assert no_reason.type == "review.reason_required"
    assert wrong_task.type == "review.wrong_task"
    assert still.stage == "in_review"
    assert again.type in {"review.already_decided", "review.not_pending"}
    assert result.stage == "verified"
    assert len(case.fake.closed_tasks) == 1


async def test_document_before_code_confirmation_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        await case.register()
        refusal = await _refusal(case.attach(DocumentKind.ID_FRONT))
        progress = await case.progress()
    assert refusal.type == "documents.not_expected"
    assert case.fake.documents == []
    assert progress.stage == "awaiting_otp"


# ---- correct and resubmit (issue 18, defect 8) ----------------------------------------------


async def test_rejected_onboarding_resubmitted_gets_a_review_task_and_notices_of_its_own(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env, _minor_mismatch()) as case:
        await _in_review(case)
        await case.decide(approve=False, reason="licence photo unreadable")
        assert (await case.result()).stage == "rejected"

        ack = await case.resubmit(1, reupload=[DocumentKind.BUSINESS_LICENCE.value])
        assert (ack.stage, ack.otp_sent_to) == ("awaiting_documents", "")
        waiting = await case.progress()
        assert waiting.missing_documents == [DocumentKind.BUSINESS_LICENCE.value]
        await case.attach(DocumentKind.BUSINESS_LICENCE)
        await case.wait_for_stage("in_review")
        await case.decide(approve=True)
        result = await case.result()
    fake = case.fake
    assert result.stage == "verified"
    # No second account, code or registration row: the resubmission corrects the first.
    assert (len(fake.registrations), len(fake.otp_sends), len(fake.resubmissions)) == (1, 1, 1)
    # The second review is a task of its own (occurrence 2), each notice has its own key.
    assert [t.occurrence for t in fake.opened_tasks] == [1, 2]
    prefix = f"enterprise-{case.enterprise_id}-"
    assert [n.key.removeprefix(prefix) for n in fake.notifications] == [
        "registered",
        "in-review-0",
        "rejected-0",
        "in-review-1",
        "verified",
    ]
    assert fake.stages[-1].decision is not None and fake.stages[-1].decision["round"] == "1"


async def test_resubmission_while_the_onboarding_runs_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with onboarding(time_skipping_env) as case:
        await case.register()
        with pytest.raises(WorkflowAlreadyStartedError):
            await case.resubmit(1, reupload=[])
        assert (await case.progress()).stage == "awaiting_otp"
        assert case.fake.resubmissions == []


async def test_resubmission_refused_by_its_record_fails_the_registration_update(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = _minor_mismatch()
    fake.refuse_resubmission = True
    async with onboarding(time_skipping_env, fake) as case:
        await _in_review(case)
        await case.decide(approve=False, reason="licence photo unreadable")
        await case.result()
        refusal = await _refusal(case.resubmit(1, reupload=[]))
        assert refusal.type == "onboarding.not_resubmittable"
        assert (await case.result()).stage == "refused"


async def test_the_registrants_updates_name_them_and_pass_them_on_to_be_logged(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A code, a resend and a document each name the person (refused without one), and the
    activity that records the step gets them, to enter in the decision log."""
    async with onboarding(time_skipping_env) as case:
        await case.register()
        nameless = [
            await _refusal(case.update("confirm_otp", ConfirmOtp(code=GOOD_CODE))),
            await _refusal(case.update("resend_otp")),
        ]
        await time_skipping_env.sleep(timedelta(seconds=61))
        await case.resend()
        await case.confirm()
        document = AttachDocument(
            kind=DocumentKind.BUSINESS_LICENCE.value,
            sha256="b" * 64,
            content_type="image/png",
            size_bytes=1,
        )
        nameless.append(await _refusal(case.update("attach_document", document)))
        await case.attach(DocumentKind.BUSINESS_LICENCE)
    assert [r.type for r in nameless] == ["actor.required"] * 3
    assert [(s.requested_by, s.send) for s in case.fake.otp_sends] == [
        (None, 1),  # the registration's own code: nobody asked for it
        (_registrant(), 2),
    ]
    assert [c.confirmed_by for c in case.fake.otp_checks] == [_registrant()]
    assert [d.attached_by for d in case.fake.documents] == [_registrant()]
