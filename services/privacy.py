"""Consent and privacy: an enterprise grants and revokes institutions' access to a scope of its
data, sets its privacy choice and exports everything held about it; who may read an
enterprise's profile (its own users, platform-wide roles, institutions with consent)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Consent, DecisionLogEntry, EnterpriseDocument, Notification
from db.repositories import EnterpriseRepository, InstitutionRepository
from domain.errors import BusinessRuleError, issue
from domain.identity_codes import mask_mobile, mask_resident_id
from domain.roles import INSTITUTION_ROLES, Role
from services.errors import Refusal, not_found
from services.inputs import Schema
from services.principal import Principal, ensure_tenant_access, require_role

ConsentScope = Literal["profile", "financials", "credit_report"]


class ConsentIn(Schema):
    institution_id: uuid.UUID
    scope: ConsentScope


class ConsentOut(Schema):
    id: uuid.UUID
    institution_id: uuid.UUID
    scope: str
    created_at: datetime
    revoked_at: datetime | None


class PrivacySettings(Schema):
    share_profile_with_matched: bool


class ProfileOut(Schema):
    """What an institution with consent (or a platform-wide role) sees; personal data masked."""

    id: uuid.UUID
    name: str
    uscc: str
    industry: str
    region: str
    registered_capital: str
    founding_date: str
    legal_rep_name: str
    legal_rep_id_number: str
    mobile: str
    status: str


def _own(user: Principal) -> uuid.UUID:
    """The caller's enterprise (403 for an account without one)."""
    if user.enterprise_id is None:
        raise Refusal(403, "auth.no_enterprise", "账号未关联企业", "No enterprise on this account")
    return user.enterprise_id


async def has_consent(
    session: AsyncSession, enterprise_id: uuid.UUID, institution_id: uuid.UUID, scope: str
) -> bool:
    """True while an unrevoked consent lets this institution read this scope."""
    found = await session.scalar(
        select(Consent.id).where(
            Consent.enterprise_id == enterprise_id,
            Consent.institution_id == institution_id,
            Consent.scope == scope,
            Consent.revoked_at.is_(None),
        )
    )
    return found is not None


async def grant(session: AsyncSession, user: Principal, body: ConsentIn) -> Consent:
    """Let an institution see one scope of the enterprise's data (until revoked); granting
    what is already granted answers with the standing consent."""
    require_role(user, Role.APPLICANT)
    enterprise_id = _own(user)
    if await InstitutionRepository(session).get(body.institution_id) is None:
        raise BusinessRuleError(
            [issue("institution_id", "institution.unknown", "机构不存在", "No such institution")]
        )
    existing = await session.scalar(
        select(Consent).where(
            Consent.enterprise_id == enterprise_id,
            Consent.institution_id == body.institution_id,
            Consent.scope == body.scope,
            Consent.revoked_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    consent = Consent(
        enterprise_id=enterprise_id,
        institution_id=body.institution_id,
        scope=body.scope,
        granted_by=user.user_id,
    )
    session.add(consent)
    await session.commit()
    return consent


async def consents(session: AsyncSession, user: Principal) -> list[Consent]:
    """The enterprise's consents, oldest first (revoked ones included)."""
    require_role(user, Role.APPLICANT)
    stmt = select(Consent).where(Consent.enterprise_id == _own(user)).order_by(Consent.created_at)
    return list(await session.scalars(stmt))


async def revoke(session: AsyncSession, user: Principal, consent_id: uuid.UUID) -> Consent:
    """Withdraw a consent of the enterprise (revoking it again changes nothing)."""
    require_role(user, Role.APPLICANT)
    consent = await session.get(Consent, consent_id)
    if consent is None or consent.enterprise_id != _own(user):
        raise not_found()
    if consent.revoked_at is None:
        consent.revoked_at = utcnow()
        await session.commit()
    return consent


async def privacy(session: AsyncSession, user: Principal) -> PrivacySettings:
    """The enterprise's privacy choice."""
    require_role(user, Role.APPLICANT)
    enterprise = await EnterpriseRepository(session).get(_own(user))
    assert enterprise is not None
    return PrivacySettings(share_profile_with_matched=enterprise.share_profile_with_matched)


async def set_privacy(
    session: AsyncSession, user: Principal, body: PrivacySettings
) -> PrivacySettings:
    """Change the enterprise's privacy choice."""
    require_role(user, Role.APPLICANT)
    enterprise = await EnterpriseRepository(session).get(_own(user), for_update=True)
    assert enterprise is not None
    enterprise.share_profile_with_matched = body.share_profile_with_matched
    await session.commit()
    return body


async def export(session: AsyncSession, user: Principal) -> dict[str, Any]:
    """Everything the platform holds about the caller's enterprise (personal data masked)."""
    require_role(user, Role.APPLICANT)
    enterprise_id = _own(user)
    enterprise = await EnterpriseRepository(session).get(enterprise_id)
    assert enterprise is not None
    docs = await session.scalars(
        select(EnterpriseDocument).where(EnterpriseDocument.enterprise_id == enterprise_id)
    )
    notes = await session.scalars(
        select(Notification).where(Notification.enterprise_id == enterprise_id)
    )
    consents = await session.scalars(select(Consent).where(Consent.enterprise_id == enterprise_id))
    decisions = await session.scalars(
        select(DecisionLogEntry)
        .where(DecisionLogEntry.subject == enterprise.workflow_id)
        .order_by(DecisionLogEntry.seq)
    )
    return {
        "enterprise": _profile(enterprise).model_dump(mode="json"),
        "documents": [
            {
                "kind": d.kind,
                "sha256": d.sha256,
                "content_type": d.content_type,
                "size_bytes": d.size_bytes,
                "uploaded_at": d.created_at.isoformat(),
            }
            for d in docs
        ],
        "consents": [ConsentOut.model_validate(c).model_dump(mode="json") for c in consents],
        "notifications": [
            {
                "template": n.template,
                "subject": n.subject,
                "body": n.body,
                "sent_at": n.created_at.isoformat(),
            }
            for n in notes
        ],
        "decisions": [
            {"at": d.at.isoformat(), "kind": d.kind, "actor": d.actor, "payload": d.payload}
            for d in decisions
        ],
    }


def _profile(enterprise: Any) -> ProfileOut:
    return ProfileOut(
        id=enterprise.id,
        name=enterprise.name,
        uscc=enterprise.uscc,
        industry=enterprise.industry,
        region=enterprise.region,
        registered_capital=str(enterprise.registered_capital),
        founding_date=enterprise.founding_date.isoformat(),
        legal_rep_name=enterprise.legal_rep_name,
        legal_rep_id_number=mask_resident_id(enterprise.legal_rep_id_number),
        mobile=mask_mobile(enterprise.mobile),
        status=enterprise.status,
    )


async def profile(session: AsyncSession, user: Principal, enterprise_id: uuid.UUID) -> ProfileOut:
    """An enterprise's profile: its own users, platform-wide roles, or institutions with consent
    (404 for anyone else)."""
    if user.role in INSTITUTION_ROLES:
        if user.institution_id is None or not await has_consent(
            session, enterprise_id, user.institution_id, "profile"
        ):
            raise not_found()
    else:
        ensure_tenant_access(user, enterprise_id=enterprise_id)
    enterprise = await EnterpriseRepository(session).get(enterprise_id)
    if enterprise is None:
        raise not_found()
    return _profile(enterprise)
