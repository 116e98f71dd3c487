"""Consent and privacy: an enterprise grants and revokes institutions' access to a scope of its
data, sets its privacy choice and exports everything held about it; and the one check every
reader of an enterprise's data goes through (``disclosures``: which scopes a caller may read)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import (
    Consent,
    DecisionLogEntry,
    DemandResponse,
    Enterprise,
    EnterpriseDocument,
    FinancingDemand,
    LoanApplication,
    Notification,
)
from db.repositories import EnterpriseRepository, InstitutionRepository
from domain.disclosure import ALL_SCOPES, NO_SCOPES, ConsentScope
from domain.errors import BusinessRuleError, issue
from domain.identity_codes import mask_mobile, mask_resident_id
from domain.lifecycle import ApplicationStatus
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from services.errors import Refusal, not_found
from services.inputs import Schema
from services.principal import Principal, own_enterprise_id, require_role

Scopes = frozenset[ConsentScope]
_Row = TypeVar("_Row")

# An application that ended without a loan no longer authorizes reading the enterprise's
# financials or its bureau report (the institution still knows who applied).
_CLOSED_WITHOUT_LOAN = frozenset(
    s.value
    for s in (
        ApplicationStatus.DECLINED,
        ApplicationStatus.EXPIRED,
        ApplicationStatus.OFFER_REFUSED,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.LAPSED,
        ApplicationStatus.DISBURSEMENT_FAILED,
    )
)
_APPLYING_GRANTS: Scopes = ALL_SCOPES
_PROFILE_ONLY: Scopes = frozenset({ConsentScope.PROFILE})


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


def detached_copy(row: _Row, **changes: Any) -> _Row:
    """A transient copy of a mapped row with ``changes`` (what a reader may see of it): the
    session never writes the withheld version back over the stored one."""
    table = row.__table__  # type: ignore[attr-defined]
    values = {c.key: getattr(row, c.key) for c in table.columns}
    return type(row)(**{**values, **changes})


def consent_required() -> Refusal:
    """403 for a read the enterprise has not authorized the caller's institution to make."""
    return Refusal(
        403,
        "consent.required",
        "需企业授权：企业向本机构申请贷款或授权后方可查看",
        "Consent required: visible once the enterprise applies to or authorizes your institution",
    )


async def disclosures(
    session: AsyncSession, user: Principal, enterprise_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Scopes]:
    """Which consent scopes of each enterprise's data the caller may read: the one consent check
    of the platform (every reader of a profile, financials or a bureau report asks it).

    - The enterprise's own users, and the platform-wide roles (platform admin, compliance,
      regulator: supervision needs the whole record, MISSION.md), read every scope.
    - Institution staff read, for their institution, the union of:

      * the enterprise's unrevoked consents (``POST /enterprises/me/consents``), read on every
        call and never cached, so a revocation holds from the next read;
      * what applying implies: an application to the institution carries the enterprise's
        authorization to identify it and to check its financial statements, tax figures and
        credit report (征信查询授权) for deciding that application and, once it becomes a
        loan, for post-loan monitoring. ``profile`` stays once the enterprise has applied
        (the institution keeps the file of who applied to it); ``financials`` and
        ``credit_report`` end when the application closes without a loan (declined, expired,
        refused, withdrawn, lapsed, disbursement failed);
      * ``share_profile_with_matched``, the enterprise's privacy setting (``PUT
        /enterprises/me/privacy``; a flag on the enterprise, not on each demand): "show my
        profile to the institutions my demands are matched with". It grants ``profile`` only,
        to each institution a demand of the enterprise was published to (the institutions it
        is matched with), and is read on every call, so switching it off holds at once.
    - Anyone else reads nothing.
    """
    wanted = set(enterprise_ids)
    if user.role in PLATFORM_WIDE_READERS:
        return dict.fromkeys(wanted, ALL_SCOPES)
    found: dict[uuid.UUID, set[ConsentScope]] = {e: set() for e in wanted}
    if user.enterprise_id in found:
        found[user.enterprise_id] |= ALL_SCOPES
    institution = user.institution_id
    if user.role in INSTITUTION_ROLES and institution is not None and wanted:
        consents = await session.execute(
            select(Consent.enterprise_id, Consent.scope).where(
                Consent.enterprise_id.in_(wanted),
                Consent.institution_id == institution,
                Consent.revoked_at.is_(None),
            )
        )
        for enterprise_id, scope in consents:
            found[enterprise_id].add(ConsentScope(scope))
        applied = await session.execute(
            select(LoanApplication.enterprise_id, LoanApplication.status).where(
                LoanApplication.enterprise_id.in_(wanted),
                LoanApplication.institution_id == institution,
            )
        )
        for enterprise_id, status in applied:
            live = status not in _CLOSED_WITHOUT_LOAN
            found[enterprise_id] |= _APPLYING_GRANTS if live else _PROFILE_ONLY
        shared = await session.scalars(
            select(FinancingDemand.enterprise_id)
            .join(Enterprise, Enterprise.id == FinancingDemand.enterprise_id)
            .join(DemandResponse, DemandResponse.demand_id == FinancingDemand.id)
            .where(
                FinancingDemand.enterprise_id.in_(wanted),
                Enterprise.share_profile_with_matched.is_(True),
                DemandResponse.institution_id == institution,
            )
            .distinct()
        )
        for enterprise_id in shared:
            found[enterprise_id] |= _PROFILE_ONLY
    return {e: frozenset(scopes) if scopes else NO_SCOPES for e, scopes in found.items()}


async def disclosure(session: AsyncSession, user: Principal, enterprise_id: uuid.UUID) -> Scopes:
    """The scopes of one enterprise's data the caller may read (see ``disclosures``)."""
    return (await disclosures(session, user, [enterprise_id]))[enterprise_id]


async def grant(session: AsyncSession, user: Principal, body: ConsentIn) -> Consent:
    """Let an institution see one scope of the enterprise's data (until revoked); granting
    what is already granted answers with the standing consent."""
    require_role(user, Role.APPLICANT)
    enterprise_id = own_enterprise_id(user)
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
    stmt = (
        select(Consent)
        .where(Consent.enterprise_id == own_enterprise_id(user))
        .order_by(Consent.created_at)
    )
    return list(await session.scalars(stmt))


async def revoke(session: AsyncSession, user: Principal, consent_id: uuid.UUID) -> Consent:
    """Withdraw a consent of the enterprise (revoking it again changes nothing)."""
    require_role(user, Role.APPLICANT)
    consent = await session.get(Consent, consent_id)
    if consent is None or consent.enterprise_id != own_enterprise_id(user):
        raise not_found()
    if consent.revoked_at is None:
        consent.revoked_at = utcnow()
        await session.commit()
    return consent


async def privacy(session: AsyncSession, user: Principal) -> PrivacySettings:
    """The enterprise's privacy choice."""
    require_role(user, Role.APPLICANT)
    enterprise = await EnterpriseRepository(session).get(own_enterprise_id(user))
    assert enterprise is not None
    return PrivacySettings(share_profile_with_matched=enterprise.share_profile_with_matched)


async def set_privacy(
    session: AsyncSession, user: Principal, body: PrivacySettings
) -> PrivacySettings:
    """Change the enterprise's privacy choice."""
    require_role(user, Role.APPLICANT)
    enterprise = await EnterpriseRepository(session).get(own_enterprise_id(user), for_update=True)
    assert enterprise is not None
    enterprise.share_profile_with_matched = body.share_profile_with_matched
    await session.commit()
    return body


async def export(session: AsyncSession, user: Principal) -> dict[str, Any]:
    """Everything the platform holds about the caller's enterprise (personal data masked)."""
    require_role(user, Role.APPLICANT)
    enterprise_id = own_enterprise_id(user)
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
    """An enterprise's profile: its own users, platform-wide roles, or institutions the
    enterprise disclosed its profile to (``disclosures``); 404 for anyone else."""
    if ConsentScope.PROFILE not in await disclosure(session, user, enterprise_id):
        raise not_found()
    enterprise = await EnterpriseRepository(session).get(enterprise_id)
    if enterprise is None:
        raise not_found()
    return _profile(enterprise)
