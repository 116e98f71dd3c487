"""Activities of a verified signature: text a one-time code to the legal representative to sign
an offer letter, and check an acceptance's signer (typed name and code), recording each
outcome in the decision log."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.errors import ProviderRejected
from adapters.notification.protocol import OutgoingSms, SmsGateway
from config.crypto import FieldCipher
from db.base import utcnow
from db.models import Enterprise, LoanApplication, SigningChallenge
from db.repositories import DecisionLog
from documents.notifications import render_notification
from domain.identity_codes import mask_mobile
from domain.signing import (
    CODE_EXPIRED,
    CODE_MISSING,
    CODE_VOID,
    CODE_WRONG,
    DOCUMENT_CHANGED,
    NAME_MISMATCH,
    SIGNING_CODE_ATTEMPTS,
    SIGNING_CODE_LIFETIME,
    mask_name,
    signer_matches,
)
from workflows.contracts import (
    MOBILE_REFUSED,
    AcceptanceCodeSent,
    SendAcceptanceCode,
    SignerCheck,
    VerifySigner,
    application_workflow_id,
)

SIGNER_ROLE = "legal_representative"
"""Who signs: the legal representative recorded at onboarding (no other signer is recorded)."""


class SigningActivities:
    """Codes for signing offers and the check of who signs; each activity one transaction."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        sms: SmsGateway,
    ) -> None:
        self.session_factory = session_factory
        self.cipher = cipher
        self.sms = sms

    def _hash(self, challenge_id: uuid.UUID, code: str) -> str:
        return self.cipher.lookup_hash(f"{challenge_id}:{code}", purpose="signing")

    async def _signer(self, session: AsyncSession, application_id: uuid.UUID) -> Enterprise:
        row = await session.get(LoanApplication, application_id, with_for_update=True)
        enterprise = await session.get(Enterprise, row.enterprise_id) if row else None
        if enterprise is None:
            raise ApplicationError("no such application", type="workflow.invariant")
        return enterprise

    @activity.defn(name="send_acceptance_code")
    async def send_acceptance_code(self, send: SendAcceptanceCode) -> AcceptanceCodeSent:
        """A new 6-digit code for this letter, its keyed hash kept (the one before voided),
        texted to the legal representative's registered mobile."""
        challenge_id = uuid.uuid4()
        code = f"{secrets.randbelow(1_000_000):06d}"
        now = utcnow()
        expires_at = now + SIGNING_CODE_LIFETIME
        async with self.session_factory() as session, session.begin():
            enterprise = await self._signer(session, send.application_id)
            mobile = enterprise.mobile
            await session.execute(
                update(SigningChallenge)
                .where(
                    SigningChallenge.application_id == send.application_id,
                    SigningChallenge.consumed_at.is_(None),
                    SigningChallenge.voided_at.is_(None),
                )
                .values(voided_at=now)
            )
            session.add(
                SigningChallenge(
                    id=challenge_id,
                    application_id=send.application_id,
                    document_sha256=send.document_sha256,
                    code_hash=self._hash(challenge_id, code),
                    expires_at=expires_at,
                    requested_by=send.requested_by,
                )
            )
        minutes = int(SIGNING_CODE_LIFETIME.total_seconds() // 60)
        context = {"code": code, "minutes": minutes, "document_tail": send.document_sha256[-6:]}
        message = render_notification("signing_code", "zh", context)
        try:
            await self.sms.send_sms(
                OutgoingSms(to=mobile, text=message.text, template="signing_code")
            )
        except ProviderRejected as exc:
            raise ApplicationError(
                "the SMS gateway refuses the legal representative's mobile",
                exc.code,
                type=MOBILE_REFUSED,
                non_retryable=True,
            ) from exc
        return AcceptanceCodeSent(
            masked_mobile=mask_mobile(mobile),
            expires_at=expires_at,
            attempts=SIGNING_CODE_ATTEMPTS,
            document_sha256=send.document_sha256,
        )

    @activity.defn(name="verify_signer")
    async def verify_signer(self, check: VerifySigner) -> SignerCheck:
        """The signer is the legal representative (typed name, normalised) and the code is the
        live one for this letter: consumed when right, a wrong one counted (the last allowed
        voids it). Every outcome enters the decision log with the signer masked and the
        letter's hash; a retry after the code was consumed answers the same."""
        async with self.session_factory() as session, session.begin():
            enterprise = await self._signer(session, check.application_id)
            challenge = await session.scalar(
                select(SigningChallenge)
                .where(SigningChallenge.application_id == check.application_id)
                .order_by(SigningChallenge.created_at.desc())
                .limit(1)
                .with_for_update()
            )
            now = utcnow()
            verdict = self._verdict(challenge, check, enterprise.legal_rep_name, now)
            if verdict.refusal or challenge is None or challenge.consumed_at is None:
                await self._log(session, check, enterprise, verdict, now)
            if challenge is not None and not verdict.refusal:
                challenge.consumed_at = challenge.consumed_at or now
            return verdict

    def _verdict(
        self,
        challenge: SigningChallenge | None,
        check: VerifySigner,
        registered: str,
        now: datetime,
    ) -> SignerCheck:
        """The check's outcome; counts a wrong code on the challenge (and voids it at last)."""
        signer = mask_name(registered)
        if challenge is None:
            return SignerCheck(refusal=CODE_MISSING, signer=signer)
        right = hmac.compare_digest(challenge.code_hash, self._hash(challenge.id, check.code))
        if challenge.consumed_at is not None:
            ok = right and challenge.document_sha256 == check.document_sha256
            return SignerCheck(refusal="" if ok else CODE_MISSING, signer=signer)
        if challenge.voided_at is not None:
            return SignerCheck(refusal=CODE_VOID, signer=signer)
        if challenge.expires_at <= now:
            return SignerCheck(refusal=CODE_EXPIRED, signer=signer)
        if challenge.document_sha256 != check.document_sha256:
            return SignerCheck(refusal=DOCUMENT_CHANGED, signer=signer)
        left = SIGNING_CODE_ATTEMPTS - challenge.failed_attempts
        if not signer_matches(check.signer_name, registered):
            return SignerCheck(refusal=NAME_MISMATCH, signer=signer, attempts_left=left)
        if not right:
            challenge.failed_attempts += 1
            if challenge.failed_attempts >= SIGNING_CODE_ATTEMPTS:
                challenge.voided_at = now
                return SignerCheck(refusal=CODE_VOID, signer=signer)
            return SignerCheck(refusal=CODE_WRONG, signer=signer, attempts_left=left - 1)
        return SignerCheck(signer=signer, attempts_left=left)

    async def _log(
        self,
        session: AsyncSession,
        check: VerifySigner,
        enterprise: Enterprise,
        verdict: SignerCheck,
        now: datetime,
    ) -> None:
        """The signature's outcome: who signed (masked), as whom, which letter, and why not."""
        await DecisionLog(session).append(
            actor=f"user:{check.accepted_by}",
            kind="offer.signature_refused" if verdict.refusal else "offer.signed",
            subject=application_workflow_id(check.application_id),
            payload={
                "decision": "signature_refused" if verdict.refusal else "signed",
                "reason": verdict.refusal,
                "role": check.role,
                "enterprise_id": str(enterprise.id),
                "signer": verdict.signer,
                "signer_role": SIGNER_ROLE,
                "typed_name": mask_name(check.signer_name),
                "document_sha256": check.document_sha256,
                "attempts_left": verdict.attempts_left,
                "decided_at": now.isoformat(),
            },
        )
