"""Consent to share enterprise data with institutions, privacy settings and the data export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from sqlalchemy import select

from api.errors import ApiError
from api.schemas import Schema
from db.base import utcnow
from db.models import Consent, DecisionLogEntry, EnterpriseDocument, Notification
from db.repositories import EnterpriseRepository, InstitutionRepository
from domain.errors import BusinessRuleError, issue
from domain.identity_codes import mask_mobile, mask_resident_id
from domain.roles import INSTITUTION_ROLES, Role
from gateway.deps import CurrentUser, SessionDep, require_roles
from services.inputs import ServerRule, server_rules
from services.principal import Principal, ensure_tenant_access

router = APIRouter(prefix="/api/v1/enterprises", tags=["privacy"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
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
    if user.enterprise_id is None:
        raise ApiError(403, "auth.no_enterprise", "账号未关联企业", "No enterprise on this account")
    return user.enterprise_id


async def has_consent(
    session: SessionDep, enterprise_id: uuid.UUID, institution_id: uuid.UUID, scope: str
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


@router.post(
    "/me/consents",
    operation_id="grant_consent",
    response_model=ConsentOut,
    status_code=201,
    openapi_extra=server_rules(
        ServerRule("institution_id", "institution.unknown", "names an institution of the platform")
    ),
)
async def grant_consent(body: ConsentIn, user: Applicant, session: SessionDep) -> Consent:
    """Let an institution see one scope of the enterprise's data (until revoked)."""
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


@router.get("/me/consents", operation_id="list_consents", response_model=list[ConsentOut])
async def list_consents(user: Applicant, session: SessionDep) -> list[Consent]:
    stmt = select(Consent).where(Consent.enterprise_id == _own(user)).order_by(Consent.created_at)
    return list(await session.scalars(stmt))


@router.delete(
    "/me/consents/{consent_id}", operation_id="revoke_consent", response_model=ConsentOut
)
async def revoke_consent(consent_id: uuid.UUID, user: Applicant, session: SessionDep) -> Consent:
    consent = await session.get(Consent, consent_id)
    if consent is None or consent.enterprise_id != _own(user):
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    if consent.revoked_at is None:
        consent.revoked_at = utcnow()
        await session.commit()
    return consent


@router.get("/me/privacy", operation_id="get_privacy", response_model=PrivacySettings)
async def get_privacy(user: Applicant, session: SessionDep) -> PrivacySettings:
    enterprise = await EnterpriseRepository(session).get(_own(user))
    assert enterprise is not None
    return PrivacySettings(share_profile_with_matched=enterprise.share_profile_with_matched)


@router.put("/me/privacy", operation_id="set_privacy", response_model=PrivacySettings)
async def set_privacy(
    body: PrivacySettings, user: Applicant, session: SessionDep
) -> PrivacySettings:
    enterprise = await EnterpriseRepository(session).get(_own(user), for_update=True)
    assert enterprise is not None
    enterprise.share_profile_with_matched = body.share_profile_with_matched
    await session.commit()
    return body


@router.get("/me/export", operation_id="export_my_data")
async def export_my_data(user: Applicant, session: SessionDep) -> dict[str, Any]:
    """Everything the platform holds about the caller's enterprise (personal data masked)."""
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


@router.get("/{enterprise_id}", operation_id="get_enterprise_profile", response_model=ProfileOut)
async def get_enterprise_profile(
    enterprise_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> ProfileOut:
    """An enterprise's profile: its own users, platform-wide roles, or institutions with consent."""
    if user.role in INSTITUTION_ROLES:
        if user.institution_id is None or not await has_consent(
            session, enterprise_id, user.institution_id, "profile"
        ):
            raise ApiError(404, "not_found", "资源不存在", "Not found")
    else:
        ensure_tenant_access(user, enterprise_id=enterprise_id)
    enterprise = await EnterpriseRepository(session).get(enterprise_id)
    if enterprise is None:
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    return _profile(enterprise)
