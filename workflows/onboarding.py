"""Enterprise onboarding: registration → one-time code → documents → identity and registry
checks → verified, rejected, or decided by a platform reviewer (business id ``enterprise-{id}``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.notices import notify_enterprise

with workflow.unsafe.imports_passed_through():
    from domain.onboarding import (
        USCC_CLAIMED,
        VERIFICATION_DOCUMENTS,
        DocumentKind,
        Verdict,
        verification_verdict,
    )
    from domain.roles import Role
    from workflows import activity_stubs as stub
    from workflows.activity_options import DATABASE, PROVIDER
    from workflows.activity_stubs import Call
    from workflows.contracts import (
        ENTERPRISE,
        MOBILE_REFUSED,
        STAGE,
        STATUS,
        AttachDocument,
        CloseTask,
        ConfirmOtp,
        DocumentRecord,
        EnterpriseRef,
        NotifyEnterprise,
        OnboardingProgress,
        OpenTask,
        OtpChallengeRef,
        OtpCheck,
        Registrant,
        RegistrationAck,
        RegistrationInput,
        ResendOtp,
        ReviewDecision,
        SendOtp,
        StageChange,
        WorkflowType,
    )

OTP_VALIDITY = timedelta(minutes=5)
REGISTRATION_WINDOW = timedelta(minutes=30)  # unconfirmed registrations are removed after this
RESEND_INTERVAL = timedelta(seconds=60)
MAX_OTP_SENDS = 5
MAX_OTP_ATTEMPTS = 5
DOCUMENT_REMINDER_EVERY = timedelta(days=7)
DOCUMENT_REMINDERS = 4  # then the onboarding lapses (about a month)
REVIEW_SLA = timedelta(days=2)
# A new run of enterprise-{id} for corrected facts after a rejection or a lapse (issue 18/8).
RESUBMISSION_PATCH = "onboarding-resubmission-v1"
# The SMS gateway refused the mobile: the registration ends at once and releases its names
# (issue 28/4); before, send_otp retried without end.
SMS_REFUSAL_PATCH = "onboarding-sms-refusal-v1"
# Issue 28/3: an unconfirmed registration ends when its latest code expires (it held its names
# for 30 minutes), and a USCC is claimed only once the registry and the identity bureau confirm
# the legal representative (or a reviewer approves); a registration that finds it claimed by
# another is rejected with the way forward.
OTP_WINDOW_PATCH = "onboarding-otp-window-v1"
USCC_CLAIM_PATCH = "onboarding-uscc-claim-v1"

_R = TypeVar("_R")

# Our own database, where a duplicate registration is a final answer.
DB = DATABASE.variant(refusing=("DuplicateEnterprise", "DuplicateUsername"))
# External providers (the checks and the notices): a few quick tries; then a person decides,
# or the notice is logged undelivered.
QUICK_PROVIDER = PROVIDER.variant(within=timedelta(seconds=20), attempts=5)


def _named(person: Registrant | None) -> Registrant:
    """The person an Update names, for the decision log; an Update naming nobody is refused
    (by its validator only: histories from before the name replay without one)."""
    if person is None:
        raise ApplicationError("the request names no person", type="actor.required")
    return person


def _refusal(exc: ActivityError, failed: str) -> ApplicationError:
    """The activity's own refusal (a duplicate, a conflict …), or ``failed`` when it gave none."""
    if isinstance(exc.cause, ApplicationError):
        return exc.cause
    return ApplicationError(failed, type="RegistrationFailed")


@workflow.defn(name=WorkflowType.ENTERPRISE_ONBOARDING)
class EnterpriseOnboardingWorkflow:
    """One enterprise's way from registration to verified."""

    def __init__(self) -> None:
        self.enterprise_id: Any = None
        self.stage = "registering"
        self.reason = ""
        self.refusal: ApplicationError | None = None
        self.ack: RegistrationAck | None = None
        self.challenge: OtpChallengeRef | None = None
        self.challenge_sent_at: datetime | None = None
        self.otp_sends = 0
        self.otp_failures = 0
        self.otp_confirmed = False
        self.otp_in_flight = 0  # codes being checked or sent right now
        self.code_window = False  # the registration ends with its latest code (patched)
        self.code_window_closed = False
        self.documents: dict[str, str] = {}
        self.review_task: Any = None
        self.review: ReviewDecision | None = None
        self.round = 0  # 0: the registration; n: the n-th resubmission

    # ---- main line ---------------------------------------------------------------------
    @workflow.run
    async def run(self, registration: RegistrationInput) -> OnboardingProgress:
        self.enterprise_id = registration.enterprise_id
        ref = EnterpriseRef(enterprise_id=registration.enterprise_id)
        workflow.upsert_search_attributes(
            [STAGE.value_set("onboarding"), ENTERPRISE.value_set(str(self.enterprise_id))]
        )
        resubmission = registration.resubmission
        if resubmission is not None and workflow.patched(RESUBMISSION_PATCH):
            self.round = resubmission.round
            ended = await self._record_resubmission(registration)
        else:
            ended = await self._register(registration, ref)
        if ended is not None:
            return ended

        for reminder in range(1, DOCUMENT_REMINDERS + 1):
            if await self._wait(self._documents_complete, DOCUMENT_REMINDER_EVERY):
                break
            await self._notify(
                ref,
                "documents_missing",
                {"missing": self._missing()},
                f"documents-missing-{self.round}-{reminder}",
            )
        if not self._documents_complete():
            await self._set_stage(ref, "lapsed", "documents.not_provided")
            return await self._finish("lapsed", "documents.not_provided")

        await self._set_stage(ref, "verifying")
        identity, registry = await asyncio.gather(
            self._provider(stub.check_identity(ref)),
            self._provider(stub.check_registry(ref)),
        )
        outcome = verification_verdict(
            identity_result=identity.result if identity else None,
            registry_found=registry.found if registry else None,
            registry_status=registry.status if registry else None,
            registry_name=registry.name if registry else None,
            registry_legal_rep=registry.legal_representative if registry else None,
            enterprise_name=registration.enterprise_name,
            legal_rep_name=registration.legal_rep_name,
        )
        decision = {
            "identity": identity.result if identity else "unavailable",
            "registry": (registry.status or "not_found") if registry else "unavailable",
            "verdict": outcome.verdict.value,
            "reason": outcome.reason,
        }
        verdict, reason, actor = outcome.verdict, outcome.reason, "system"
        claimed = False
        confirmed = (
            verdict is not Verdict.REJECTED
            and identity is not None
            and identity.result == "MATCH"
            and registry is not None
            and registry.found
            and registry.legal_representative == registration.legal_rep_name
        )
        if confirmed and workflow.patched(USCC_CLAIM_PATCH):
            # Name and ID of the legal representative confirmed: this registration may hold
            # the USCC now, unless another one got there first.
            claimed = await self._claim_uscc(ref)
            if not claimed:
                verdict, reason = Verdict.REJECTED, USCC_CLAIMED
                decision = {**decision, "verdict": verdict.value, "reason": reason}
        if verdict is Verdict.REVIEW:
            review = await self._human_review(ref, registration, reason, decision)
            verdict = Verdict.VERIFIED if review.approve else Verdict.REJECTED
            reason = review.reason or ("review.approved" if review.approve else "review.rejected")
            actor = f"user:{review.reviewer_id}"
            if (
                verdict is Verdict.VERIFIED
                and not claimed
                and workflow.patched(USCC_CLAIM_PATCH)
                and not await self._claim_uscc(ref)
            ):
                verdict, reason = Verdict.REJECTED, USCC_CLAIMED
            # The reviewer's decision with what they saw: the providers' answers and the
            # automatic verdict that sent the case to them.
            decision = {
                "verdict": verdict.value,
                "reason": reason,
                "review_of": outcome.reason,
                "reviewer_role": review.reviewer_role,
                "task_id": str(review.task_id),
                "identity": decision["identity"],
                "registry": decision["registry"],
                "round": str(self.round),
            }

        await self._set_stage(ref, verdict.value, reason, actor=actor, decision=decision)
        if verdict is Verdict.VERIFIED:
            await self._notify(ref, "verification_approved", {}, "verified")
        else:
            await self._notify(
                ref, "verification_rejected", {"reason": reason}, f"rejected-{self.round}"
            )
        return await self._finish(verdict.value, reason)

    async def _register(
        self, registration: RegistrationInput, ref: EnterpriseRef
    ) -> OnboardingProgress | None:
        """Record the form, confirm the mobile by a one-time code, then expect documents; the
        workflow's end when the registration is refused or never confirmed."""
        try:
            await DB.run(stub.record_registration(registration))
        except ActivityError as exc:
            return await self._refused(_refusal(exc, "registration failed"))

        try:
            await self._send_otp()
        except ApplicationError as refused:
            if not workflow.patched(SMS_REFUSAL_PATCH):
                raise
            # Nothing is kept: the username and the USCC are free for a corrected form.
            await DB.run(stub.expire_registration(ref))
            return await self._refused(refused)
        self.stage = "awaiting_otp"  # the row was written in this stage
        workflow.upsert_search_attributes([STATUS.value_set(self.stage)])
        self.ack = RegistrationAck(
            enterprise_id=registration.enterprise_id,
            stage=self.stage,
            otp_sent_to=self.challenge.masked_mobile if self.challenge else "",
        )
        if workflow.patched(OTP_WINDOW_PATCH):
            self.code_window = True
            confirmed = await self._await_code()
        else:
            confirmed = await self._wait(lambda: self.otp_confirmed, REGISTRATION_WINDOW)
        if not confirmed:
            # Nothing is left behind: the username and the USCC are free again.
            await DB.run(stub.expire_registration(ref))
            return await self._finish("expired", "otp.not_confirmed")

        await self._set_stage(ref, "awaiting_documents")
        await self._notify(ref, "registration_received", {}, "registered")
        return None

    async def _await_code(self) -> bool:
        """True once a code is confirmed; False when the latest code expired unconfirmed. A
        resend gives the new code its own validity; a code being checked or sent when the
        time runs out is decided first."""
        while True:
            sent = self.challenge_sent_at
            if sent is None:  # cannot happen after _send_otp; treated as expired
                return False
            remaining = sent + OTP_VALIDITY - workflow.now()
            if remaining > timedelta(0):
                await self._wait(
                    lambda sent=sent: self.otp_confirmed or self.challenge_sent_at != sent,
                    remaining,
                )
            await workflow.wait_condition(lambda: self.otp_in_flight == 0)
            if self.otp_confirmed:
                return True
            if self.challenge_sent_at == sent and workflow.now() >= sent + OTP_VALIDITY:
                self.code_window_closed = True
                return False

    async def _claim_uscc(self, ref: EnterpriseRef) -> bool:
        result = await DB.run(stub.claim_uscc(ref))
        return result.claimed

    async def _record_resubmission(
        self, registration: RegistrationInput
    ) -> OnboardingProgress | None:
        """Store the corrected facts (the mobile is unchanged: no new code is needed) and
        expect the documents asked to be uploaded again; the others on file still count. The
        workflow's end when the resubmission is refused."""
        try:
            recorded = await DB.run(stub.record_resubmission(registration))
        except ActivityError as exc:
            return await self._refused(_refusal(exc, "resubmission failed"))
        self.documents = dict(recorded.documents)
        self.stage = "awaiting_documents"  # the activity stored it with the corrections
        workflow.upsert_search_attributes([STATUS.value_set(self.stage)])
        self.ack = RegistrationAck(
            enterprise_id=registration.enterprise_id, stage=self.stage, otp_sent_to=""
        )
        return None

    # ---- steps -------------------------------------------------------------------------
    async def _wait(self, condition: Any, within: timedelta) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=within)
        except TimeoutError:
            return False
        return True

    async def _refused(self, refusal: ApplicationError) -> OnboardingProgress:
        """The registration (or resubmission) is refused: the ``registration`` Update raises
        ``refusal`` and the workflow ends with its type."""
        self.refusal = refusal
        return await self._finish("refused", refusal.type or "")

    async def _finish(self, stage: str, reason: str) -> OnboardingProgress:
        self.stage, self.reason = stage, reason
        workflow.upsert_search_attributes([STATUS.value_set(stage)])
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    async def _set_stage(
        self,
        ref: EnterpriseRef,
        stage: str,
        reason: str = "",
        *,
        actor: str = "system",
        decision: dict[str, str] | None = None,
    ) -> None:
        """Record the stage first; the workflow (and its query) shows it once it is stored."""
        change = StageChange(
            enterprise_id=ref.enterprise_id,
            stage=stage,
            reason=reason,
            actor=actor,
            decision=decision,
        )
        await DB.run(stub.set_enterprise_stage(change))
        self.stage, self.reason = stage, reason
        workflow.upsert_search_attributes([STATUS.value_set(stage)])

    async def _notify(
        self, ref: EnterpriseRef, template: str, context: dict[str, Any], occasion: str
    ) -> None:
        """Send once per business key ``enterprise-{id}-{occasion}``, across retries and runs;
        a notification that cannot be sent does not block onboarding."""
        await notify_enterprise(
            NotifyEnterprise(
                enterprise_id=ref.enterprise_id,
                template=template,
                context=context,
                key=f"enterprise-{ref.enterprise_id}-{occasion}",
            ),
            QUICK_PROVIDER,
        )

    async def _provider(self, check: Call[_R]) -> _R | None:
        """The provider's answer to ``check``; None when it still fails after the retries."""
        try:
            return await QUICK_PROVIDER.run(check)
        except ActivityError:
            return None  # still failing after retries: a person decides

    async def _send_otp(self, requested_by: Registrant | None = None) -> None:
        """Text a new code (``requested_by``: the person who asked for another, logged with
        it); the gateway's final refusal of the mobile is raised as it came."""
        send = SendOtp(
            enterprise_id=self.enterprise_id, requested_by=requested_by, send=self.otp_sends + 1
        )
        try:
            self.challenge = await DB.run(stub.send_otp(send))
        except ActivityError as exc:
            if isinstance(exc.cause, ApplicationError) and exc.cause.type == MOBILE_REFUSED:
                raise ApplicationError(
                    "the SMS gateway refuses this mobile", type=MOBILE_REFUSED
                ) from exc
            raise
        self.challenge_sent_at = workflow.now()
        self.otp_sends += 1
        self.otp_failures = 0

    def _missing(self) -> list[str]:
        return sorted(k.value for k in VERIFICATION_DOCUMENTS if k.value not in self.documents)

    def _documents_complete(self) -> bool:
        return not self._missing()

    async def _human_review(
        self,
        ref: EnterpriseRef,
        registration: RegistrationInput,
        reason: str,
        decision: dict[str, str],
    ) -> ReviewDecision:
        """Open the task, then show "in_review": a reviewer never sees a task the workflow
        cannot yet accept a decision for."""
        task = OpenTask(
            kind="verification_review",
            subject=f"enterprise-{registration.enterprise_id}",
            required_role=Role.PLATFORM_ADMIN.value,
            due_at=workflow.now() + REVIEW_SLA,
            context={"reason": reason, "enterprise_name": registration.enterprise_name},
            occurrence=self.round + 1,  # a resubmission's review is a task of its own
        )
        task_ref = await DB.run(stub.open_task(task))
        self.review_task = task_ref.task_id
        await self._set_stage(ref, "in_review", reason, decision=decision)
        await self._notify(ref, "verification_in_review", {}, f"in-review-{self.round}")
        await workflow.wait_condition(lambda: self.review is not None)
        review = cast(ReviewDecision, self.review)  # the condition above holds
        await DB.run(
            stub.close_task(
                CloseTask(
                    task_id=task_ref.task_id,
                    outcome="approved" if review.approve else "rejected",
                    assignee_id=review.reviewer_id,
                )
            )
        )
        return review

    # ---- updates and query -------------------------------------------------------------
    @workflow.update
    async def registration(self) -> RegistrationAck:
        """Used with update-with-start: answers once the registration is recorded."""
        await workflow.wait_condition(lambda: self.ack is not None or self.refusal is not None)
        if self.refusal is not None:
            raise self.refusal
        if self.ack is None:  # cannot happen after the wait; refused rather than asserted
            raise ApplicationError("the registration is not recorded", type="RegistrationFailed")
        return self.ack

    @workflow.update
    async def confirm_otp(self, request: ConfirmOtp) -> OnboardingProgress:
        # Re-checked here: another Update (a resend, a confirmation) may have run since the
        # validator accepted this one.
        self._validate_confirm_otp(request)
        if self.challenge is None or self.otp_confirmed:
            raise ApplicationError("no code is awaited now", type="otp.not_awaited")
        self.otp_in_flight += 1
        try:
            matched = await DB.run(
                stub.check_otp(
                    OtpCheck(
                        challenge_id=self.challenge.challenge_id,
                        code=request.code,
                        confirmed_by=request.confirmed_by,
                    )
                )
            )
        finally:
            self.otp_in_flight -= 1
        if not matched:
            self.otp_failures += 1
            raise ApplicationError("the code is wrong", type="otp.wrong_code")
        self.otp_confirmed = True
        await workflow.wait_condition(lambda: self.stage != "awaiting_otp")
        return self.progress()

    @confirm_otp.validator
    def _validate_confirm_otp_call(self, request: ConfirmOtp) -> None:
        _named(request.confirmed_by)
        self._validate_confirm_otp(request)

    def _validate_confirm_otp(self, request: ConfirmOtp) -> None:
        if self.stage != "awaiting_otp" or self.challenge_sent_at is None:
            raise ApplicationError("no code is awaited now", type="otp.not_awaited")
        if self.code_window_closed:
            raise ApplicationError(
                "the registration expired unconfirmed; register again", type="registration.expired"
            )
        if not (request.code.isdigit() and len(request.code) == 6):
            raise ApplicationError("the code has 6 digits", type="otp.bad_format")
        if workflow.now() > self.challenge_sent_at + OTP_VALIDITY:
            raise ApplicationError("the code has expired; ask for a new one", type="otp.expired")
        if self.otp_failures >= MAX_OTP_ATTEMPTS:
            raise ApplicationError(
                "too many wrong codes; ask for a new one", type="otp.too_many_attempts"
            )

    @workflow.update
    async def resend_otp(self, request: ResendOtp | None = None) -> OnboardingProgress:
        """Another code; ``request`` names who asked (histories from before it sent none)."""
        self._validate_resend_otp()
        self.otp_in_flight += 1
        try:
            await self._send_otp(request.requested_by if request else None)
        finally:
            self.otp_in_flight -= 1
        return self.progress()

    @resend_otp.validator
    def _validate_resend_otp_call(self, request: ResendOtp | None = None) -> None:
        _named(request.requested_by if request else None)
        self._validate_resend_otp()

    def _validate_resend_otp(self) -> None:
        if self.stage != "awaiting_otp" or self.challenge_sent_at is None:
            raise ApplicationError("no code is awaited now", type="otp.not_awaited")
        if self.code_window_closed or (
            self.code_window and workflow.now() >= self.challenge_sent_at + OTP_VALIDITY
        ):
            # The registration ends with its latest code: nothing to renew any more.
            raise ApplicationError(
                "the registration expired unconfirmed; register again", type="registration.expired"
            )
        if self.otp_sends >= MAX_OTP_SENDS:
            raise ApplicationError("no more codes can be sent", type="otp.too_many_sends")
        if workflow.now() < self.challenge_sent_at + RESEND_INTERVAL:
            raise ApplicationError("wait a minute before asking again", type="otp.too_soon")

    @workflow.update
    async def attach_document(self, document: AttachDocument) -> OnboardingProgress:
        self._validate_attach_document(document)
        record = DocumentRecord(
            enterprise_id=self.enterprise_id,
            kind=document.kind,
            sha256=document.sha256,
            content_type=document.content_type,
            size_bytes=document.size_bytes,
            attached_by=document.attached_by,
        )
        await DB.run(stub.record_document(record))
        self.documents[document.kind] = document.sha256
        return self.progress()

    @attach_document.validator
    def _validate_attach_document_call(self, document: AttachDocument) -> None:
        _named(document.attached_by)
        self._validate_attach_document(document)

    def _validate_attach_document(self, document: AttachDocument) -> None:
        if self.stage != "awaiting_documents":
            raise ApplicationError("documents are not expected now", type="documents.not_expected")
        if document.kind not in {k.value for k in DocumentKind}:
            raise ApplicationError("unknown document kind", type="documents.unknown_kind")

    @workflow.update
    async def decide_review(self, decision: ReviewDecision) -> OnboardingProgress:
        self._validate_decide_review(decision)  # another decision may have come first
        self.review = decision
        await workflow.wait_condition(lambda: self.stage != "in_review")
        return self.progress()

    @decide_review.validator
    def _validate_decide_review(self, decision: ReviewDecision) -> None:
        if self.stage != "in_review" or self.review_task is None:
            raise ApplicationError("nothing awaits review", type="review.not_pending")
        if self.review is not None:
            raise ApplicationError("the review is already decided", type="review.already_decided")
        if decision.task_id != self.review_task:
            raise ApplicationError("this task is not the open review", type="review.wrong_task")
        if decision.reviewer_role != Role.PLATFORM_ADMIN.value:
            raise ApplicationError(
                "only platform administrators review verifications", type="review.role_not_allowed"
            )
        if not decision.approve and not decision.reason.strip():
            raise ApplicationError("a rejection needs a reason", type="review.reason_required")

    @workflow.query
    def progress(self) -> OnboardingProgress:
        expires = (
            self.challenge_sent_at + OTP_VALIDITY
            if self.challenge_sent_at and self.stage == "awaiting_otp"
            else None
        )
        return OnboardingProgress(
            enterprise_id=self.enterprise_id,
            stage=self.stage,
            reason=self.reason,
            missing_documents=self._missing() if self.stage == "awaiting_documents" else [],
            otp_expires_at=expires,
            review_task_id=self.review_task,
        )
