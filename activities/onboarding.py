"""Activities of enterprise onboarding: records, one-time codes, provider checks, notices."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import EnterpriseNotifier
from adapters.errors import ProviderRejected
from adapters.identity.protocol import IdentityVerificationRequest, IdentityVerifier
from adapters.notification.protocol import OutgoingSms, SmsGateway
from adapters.registry.protocol import EnterpriseRegistry
from config.crypto import FieldCipher
from db.base import utcnow
from db.models import (
    AppUser,
    DecisionLogEntry,
    Enterprise,
    EnterpriseDocument,
    OtpChallenge,
    UsccClaim,
)
from db.repositories import DecisionLog, EnterpriseRepository, UserRepository
from documents.notifications import render_notification
from domain.identity_codes import mask_mobile
from domain.lifecycle import ENTERPRISE, EnterpriseStatus
from domain.onboarding import (
    REJECTION_REASONS_ZH,
    RESUBMITTABLE_STAGES,
    DocumentKind,
    rejection_guidance,
)
from domain.roles import Role
from workflows.contracts import (
    MOBILE_REFUSED,
    SEALED_ID_NUMBER,
    SEALED_MOBILE,
    DocumentRecord,
    EnterpriseRef,
    IdentityCheckResult,
    NotifyEnterprise,
    OtpChallengeRef,
    OtpCheck,
    Registrant,
    RegistrationInput,
    RegistryCheckResult,
    ResubmissionRecorded,
    SendOtp,
    StageChange,
    UsccClaimResult,
    enterprise_workflow_id,
)

log = structlog.get_logger("loanbridge.onboarding")
OTP_MINUTES = 5


async def _log_registrant(
    session: AsyncSession,
    person: Registrant,
    kind: str,
    enterprise_id: uuid.UUID,
    payload: dict[str, str],
    *,
    once_by: str = "",
) -> None:
    """A registrant's step in the decision log, in the transaction that records it: who,
    their role, the enterprise and what they did. With ``once_by``, an entry of the same kind
    with the same value under that key is not entered twice (a retried attempt)."""
    subject = enterprise_workflow_id(enterprise_id)
    if once_by:
        entered = await session.scalar(
            select(DecisionLogEntry.seq).where(
                DecisionLogEntry.subject == subject,
                DecisionLogEntry.kind == kind,
                DecisionLogEntry.payload[once_by].as_string() == payload[once_by],
            )
        )
        if entered is not None:
            return
    await DecisionLog(session).append(
        actor=person.actor,
        kind=kind,
        subject=subject,
        payload={"enterprise_id": str(enterprise_id), "role": person.role, **payload},
    )


class OnboardingActivities:
    """Side effects of onboarding; each activity is one transaction and safe to retry."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        sms: SmsGateway,
        notifier: EnterpriseNotifier,
        identity: IdentityVerifier,
        registry: EnterpriseRegistry,
    ) -> None:
        self.session_factory = session_factory
        self.cipher = cipher
        self.sms = sms
        self.notifier = notifier
        self.identity = identity
        self.registry = registry

    async def _enterprise(self, session: AsyncSession, enterprise_id: uuid.UUID) -> Enterprise:
        enterprise = await EnterpriseRepository(session).get(enterprise_id)
        if enterprise is None:
            raise ApplicationError(
                "enterprise not found", type="EnterpriseMissing", non_retryable=True
            )
        return enterprise

    @activity.defn(name="record_registration")
    async def record_registration(self, registration: RegistrationInput) -> None:
        """Write the enterprise and its (inactive) applicant account together, or nothing."""
        workflow_id = activity.info().workflow_id
        try:
            async with self.session_factory() as session, session.begin():
                enterprises = EnterpriseRepository(session)
                if await enterprises.get(registration.enterprise_id) is not None:
                    return  # our own earlier attempt committed
                # Other registrations of this USCC do not count until one is confirmed.
                if await session.get(UsccClaim, registration.uscc) is not None:
                    raise ApplicationError(
                        "an enterprise with this USCC is registered",
                        type="DuplicateEnterprise",
                        non_retryable=True,
                    )
                if await UserRepository(session).by_username(registration.username) is not None:
                    raise ApplicationError(
                        "the username is taken", type="DuplicateUsername", non_retryable=True
                    )
                id_number = self.cipher.decrypt(
                    registration.sealed_id_number, context=SEALED_ID_NUMBER
                )
                mobile = self.cipher.decrypt(registration.sealed_mobile, context=SEALED_MOBILE)
                await enterprises.add(
                    Enterprise(
                        id=registration.enterprise_id,
                        name=registration.enterprise_name,
                        uscc=registration.uscc,
                        registered_capital=registration.registered_capital,
                        founding_date=registration.founding_date,
                        business_scope=registration.business_scope,
                        industry=registration.industry,
                        region=registration.region,
                        legal_rep_name=registration.legal_rep_name,
                        legal_rep_id_number=id_number,
                        legal_rep_id_hash=self.cipher.lookup_hash(id_number, purpose="id_number"),
                        mobile=mobile,
                        mobile_hash=self.cipher.lookup_hash(mobile, purpose="mobile"),
                        email=registration.email,
                        workflow_id=workflow_id,
                        registration_secret_hash=registration.secret_hash or None,
                    )
                )
                session.add(
                    AppUser(
                        id=registration.user_id,
                        username=registration.username,
                        password_hash=registration.password_hash,
                        role=Role.APPLICANT.value,
                        display_name=registration.legal_rep_name,
                        enterprise_id=registration.enterprise_id,
                        is_active=False,  # until the one-time code is confirmed
                    )
                )
        except IntegrityError as exc:  # a concurrent registration took the username
            raise ApplicationError(
                "the username is taken", type="DuplicateUsername", non_retryable=True
            ) from exc

    @activity.defn(name="record_resubmission")
    async def record_resubmission(self, registration: RegistrationInput) -> ResubmissionRecorded:
        """Store a rejected (or lapsed) enterprise's corrected facts, back to awaiting documents,
        and log who resubmitted what (field names, no values) — one transaction."""
        resubmission = registration.resubmission
        if resubmission is None:
            raise ApplicationError(
                "not a resubmission", type="onboarding.not_resubmittable", non_retryable=True
            )
        workflow_id = enterprise_workflow_id(registration.enterprise_id)
        async with self.session_factory() as session, session.begin():
            enterprise = await EnterpriseRepository(session).get(
                registration.enterprise_id, for_update=True
            )
            if enterprise is None or enterprise.uscc != registration.uscc:
                raise ApplicationError(
                    "enterprise not found", type="EnterpriseMissing", non_retryable=True
                )
            run_id = activity.info().workflow_run_id or ""
            recorded_by_run = await session.scalar(
                select(DecisionLogEntry.payload["run_id"].as_string()).where(
                    DecisionLogEntry.subject == workflow_id,
                    DecisionLogEntry.kind == "onboarding.resubmitted",
                    DecisionLogEntry.payload["round"].as_string() == str(resubmission.round),
                )
            )
            if recorded_by_run is not None and recorded_by_run != run_id:
                # Two resubmissions counted the same round (two tabs): one run per round, or
                # the round's review task and notices would be another run's.
                raise ApplicationError(
                    "this round was resubmitted already",
                    type="onboarding.resubmission_conflict",
                    non_retryable=True,
                )
            if recorded_by_run is None:  # not a retry of this run's resubmission
                if enterprise.status not in RESUBMITTABLE_STAGES:
                    raise ApplicationError(
                        f"an enterprise in stage {enterprise.status} cannot be resubmitted",
                        type="onboarding.not_resubmittable",
                        non_retryable=True,
                    )
                previous = (enterprise.status, enterprise.status_reason)
                id_number = self.cipher.decrypt(
                    registration.sealed_id_number, context=SEALED_ID_NUMBER
                )
                enterprise.name = registration.enterprise_name
                enterprise.legal_rep_name = registration.legal_rep_name
                if id_number != enterprise.legal_rep_id_number:
                    enterprise.legal_rep_id_number = id_number
                    enterprise.legal_rep_id_hash = self.cipher.lookup_hash(
                        id_number, purpose="id_number"
                    )
                enterprise.status = ENTERPRISE.check(
                    enterprise.status, EnterpriseStatus.AWAITING_DOCUMENTS
                )
                enterprise.status_reason = "resubmitted"
                await DecisionLog(session).append(
                    actor=f"user:{resubmission.requested_by}",
                    kind="onboarding.resubmitted",
                    subject=workflow_id,
                    payload={
                        "enterprise_id": str(enterprise.id),
                        "round": str(resubmission.round),
                        "run_id": run_id,
                        "role": resubmission.requested_role,
                        "stage_seen": previous[0],
                        "reason_seen": previous[1],
                        "corrected": ",".join(resubmission.corrected),
                        "reupload": ",".join(resubmission.reupload),
                    },
                )
            documents = await self._latest_documents(session, enterprise.id)
        kept = {k: v for k, v in documents.items() if k not in resubmission.reupload}
        return ResubmissionRecorded(documents=kept)

    @activity.defn(name="send_otp")
    async def send_otp(self, send: SendOtp) -> OtpChallengeRef:
        """Generate a 6-digit code, keep its keyed hash, text it to the legal representative;
        a code a person asked for enters the decision log with them, once per ``send``."""
        challenge_id = uuid.uuid4()
        code = f"{secrets.randbelow(1_000_000):06d}"
        async with self.session_factory() as session, session.begin():
            enterprise = await self._enterprise(session, send.enterprise_id)
            mobile = enterprise.mobile
            session.add(
                OtpChallenge(
                    id=challenge_id,
                    enterprise_id=enterprise.id,
                    code_hash=self._otp_hash(challenge_id, code),
                )
            )
            if send.requested_by is not None:
                await _log_registrant(
                    session,
                    send.requested_by,
                    "onboarding.otp_resent",
                    enterprise.id,
                    {"decision": "otp_resent", "send": str(send.send)},
                    once_by="send",
                )
        message = render_notification("otp_code", "zh", {"code": code, "minutes": OTP_MINUTES})
        try:
            await self.sms.send_sms(OutgoingSms(to=mobile, text=message.text, template="otp_code"))
        except ProviderRejected as exc:
            # A refusal (blocked number, invalid recipient) is final: retrying sends nothing
            # and would hold the registration, its username and its USCC, without an answer.
            raise ApplicationError(
                "the SMS gateway refuses this mobile",
                exc.code,  # the provider's code, never the number
                type=MOBILE_REFUSED,
                non_retryable=True,
            ) from exc
        return OtpChallengeRef(challenge_id=challenge_id, masked_mobile=mask_mobile(mobile))

    def _otp_hash(self, challenge_id: uuid.UUID, code: str) -> str:
        return self.cipher.lookup_hash(f"{challenge_id}:{code}", purpose="otp")

    @activity.defn(name="check_otp")
    async def check_otp(self, check: OtpCheck) -> bool:
        """True once for the right code; wrong tries are counted on the challenge."""
        async with self.session_factory() as session, session.begin():
            challenge = await session.get(OtpChallenge, check.challenge_id, with_for_update=True)
            if challenge is None or challenge.consumed_at is not None:
                return False
            if hmac.compare_digest(challenge.code_hash, self._otp_hash(challenge.id, check.code)):
                challenge.consumed_at = utcnow()
                if check.confirmed_by is not None:
                    await _log_registrant(
                        session,
                        check.confirmed_by,
                        "onboarding.otp_confirmed",
                        challenge.enterprise_id,
                        {"decision": "otp_confirmed", "challenge_id": str(challenge.id)},
                    )
                return True
            challenge.failed_attempts += 1
            return False

    @activity.defn(name="expire_registration")
    async def expire_registration(self, ref: EnterpriseRef) -> None:
        """An unconfirmed registration leaves nothing behind (account, codes, enterprise)."""
        async with self.session_factory() as session, session.begin():
            await session.execute(delete(AppUser).where(AppUser.enterprise_id == ref.enterprise_id))
            await session.execute(delete(Enterprise).where(Enterprise.id == ref.enterprise_id))

    @activity.defn(name="claim_uscc")
    async def claim_uscc(self, ref: EnterpriseRef) -> UsccClaimResult:
        """Hold the enterprise's USCC now that its legal representative is confirmed; the first
        registration of a USCC to get here wins, the others are told (issue 28/3)."""
        async with self.session_factory() as session, session.begin():
            enterprise = await self._enterprise(session, ref.enterprise_id)
            await session.execute(
                insert(UsccClaim)
                .values(uscc=enterprise.uscc, enterprise_id=enterprise.id, claimed_at=utcnow())
                .on_conflict_do_nothing()
            )
            holder = await session.scalar(
                select(UsccClaim.enterprise_id).where(UsccClaim.uscc == enterprise.uscc)
            )
        return UsccClaimResult(claimed=holder == enterprise.id)

    @activity.defn(name="set_enterprise_stage")
    async def set_enterprise_stage(self, change: StageChange) -> None:
        """Move the enterprise to a stage and log the decision behind it, once."""
        async with self.session_factory() as session, session.begin():
            enterprise = await EnterpriseRepository(session).get(
                change.enterprise_id, for_update=True
            )
            if enterprise is None:
                return
            if enterprise.status == change.stage and enterprise.status_reason == change.reason:
                return  # a retry of an applied change
            enterprise.status = ENTERPRISE.check(enterprise.status, change.stage)
            enterprise.status_reason = change.reason
            if change.stage == EnterpriseStatus.AWAITING_DOCUMENTS:
                account = await session.scalar(
                    select(AppUser).where(AppUser.enterprise_id == enterprise.id)
                )
                if account is not None:
                    account.is_active = True
            if change.stage == EnterpriseStatus.VERIFIED:
                enterprise.verified_at = utcnow()
            if change.stage in RESUBMITTABLE_STAGES:  # rejected or lapsed: it holds nothing
                await session.execute(
                    delete(UsccClaim).where(UsccClaim.enterprise_id == enterprise.id)
                )
            if change.decision is not None:
                await DecisionLog(session).append(
                    actor=change.actor,
                    kind=f"onboarding.{change.stage}",
                    subject=enterprise.workflow_id,
                    payload={"enterprise_id": str(enterprise.id), **change.decision},
                )

    @activity.defn(name="record_document")
    async def record_document(self, document: DocumentRecord) -> None:
        async with self.session_factory() as session, session.begin():
            exists = await session.scalar(
                select(EnterpriseDocument.id).where(
                    EnterpriseDocument.enterprise_id == document.enterprise_id,
                    EnterpriseDocument.kind == document.kind,
                    EnterpriseDocument.sha256 == document.sha256,
                )
            )
            if exists is not None:
                return  # a retry, or the same file again
            session.add(EnterpriseDocument(**document.model_dump(exclude={"attached_by"})))
            if document.attached_by is not None:
                await _log_registrant(
                    session,
                    document.attached_by,
                    "onboarding.document_attached",
                    document.enterprise_id,
                    {
                        "decision": "document_attached",
                        "kind": document.kind,
                        "sha256": document.sha256,
                        "size_bytes": str(document.size_bytes),
                    },
                )

    async def _latest_documents(
        self, session: AsyncSession, enterprise_id: uuid.UUID
    ) -> dict[str, str]:
        rows = await session.scalars(
            select(EnterpriseDocument)
            .where(EnterpriseDocument.enterprise_id == enterprise_id)
            .order_by(EnterpriseDocument.created_at)
        )
        return {row.kind: row.sha256 for row in rows}  # the newest of each kind wins

    @activity.defn(name="check_identity")
    async def check_identity(self, ref: EnterpriseRef) -> IdentityCheckResult:
        """Ask the identity bureau about the legal representative (PII loaded here, not passed)."""
        async with self.session_factory() as session:
            enterprise = await self._enterprise(session, ref.enterprise_id)
            docs = await self._latest_documents(session, enterprise.id)
        verdict = await self.identity.verify(
            IdentityVerificationRequest(
                name=enterprise.legal_rep_name,
                id_number=enterprise.legal_rep_id_number,
                id_front_sha256=docs.get(DocumentKind.ID_FRONT.value),
                id_back_sha256=docs.get(DocumentKind.ID_BACK.value),
                portrait_sha256=docs.get(DocumentKind.ID_HANDHELD.value),
            )
        )
        return IdentityCheckResult(result=verdict.result.value)

    @activity.defn(name="check_registry")
    async def check_registry(self, ref: EnterpriseRef) -> RegistryCheckResult:
        async with self.session_factory() as session:
            enterprise = await self._enterprise(session, ref.enterprise_id)
        record = await self.registry.get_enterprise(enterprise.uscc)
        if record is None:
            return RegistryCheckResult(found=False)
        return RegistryCheckResult(
            found=True,
            status=record.status.value,
            name=record.name,
            legal_representative=record.legal_representative,
        )

    @activity.defn(name="notify_enterprise")
    async def notify_enterprise(self, notice: NotifyEnterprise) -> None:
        """SMS (Chinese), e-mail (Chinese and English) when known, and an in-app message."""
        context: dict[str, object] = dict(notice.context)
        if "reason" in context:
            reason = str(context["reason"])
            context["reason"] = REJECTION_REASONS_ZH.get(reason, reason)
            if notice.template == "verification_rejected":  # what to correct, what to do next
                guidance = rejection_guidance(reason)
                context["guidance_zh"], context["guidance_en"] = (
                    guidance.message_zh,
                    guidance.message_en,
                )
        await self.notifier.notify(
            notice.enterprise_id, notice.template, context, notice.key or _content_key(notice)
        )


def _content_key(notice: NotifyEnterprise) -> str:
    """A key for a notice scheduled before workflows chose business keys: the workflow and the
    notice's own content (template and facts), the same in every run and every retry — never
    the activity id, which restarts with continue-as-new."""
    facts = json.dumps(
        {"template": notice.template, "context": notice.context}, sort_keys=True, default=str
    )
    digest = hashlib.sha256(facts.encode()).hexdigest()[:32]
    return f"{activity.info().workflow_id}:{digest}"
