"""Consent to share enterprise data with institutions, privacy settings and the data export."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from domain.roles import Role
from gateway.deps import CurrentUser, SessionDep, require_roles
from services import privacy
from services.inputs import ServerRule, server_rules
from services.principal import Principal
from services.privacy import ConsentIn, ConsentOut, PrivacySettings, ProfileOut

router = APIRouter(prefix="/api/v1/enterprises", tags=["privacy"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]


@router.post(
    "/me/consents",
    operation_id="grant_consent",
    response_model=ConsentOut,
    status_code=201,
    openapi_extra=server_rules(
        ServerRule("institution_id", "institution.unknown", "names an institution of the platform")
    ),
)
async def grant_consent(body: ConsentIn, user: Applicant, session: SessionDep) -> ConsentOut:
    """Let an institution see one scope of the enterprise's data (until revoked)."""
    return ConsentOut.model_validate(await privacy.grant(session, user, body))


@router.get("/me/consents", operation_id="list_consents", response_model=list[ConsentOut])
async def list_consents(user: Applicant, session: SessionDep) -> list[ConsentOut]:
    return [ConsentOut.model_validate(c) for c in await privacy.consents(session, user)]


@router.delete(
    "/me/consents/{consent_id}", operation_id="revoke_consent", response_model=ConsentOut
)
async def revoke_consent(consent_id: uuid.UUID, user: Applicant, session: SessionDep) -> ConsentOut:
    return ConsentOut.model_validate(await privacy.revoke(session, user, consent_id))


@router.get("/me/privacy", operation_id="get_privacy", response_model=PrivacySettings)
async def get_privacy(user: Applicant, session: SessionDep) -> PrivacySettings:
    return await privacy.privacy(session, user)


@router.put("/me/privacy", operation_id="set_privacy", response_model=PrivacySettings)
async def set_privacy(
    body: PrivacySettings, user: Applicant, session: SessionDep
) -> PrivacySettings:
    return await privacy.set_privacy(session, user, body)


@router.get("/me/export", operation_id="export_my_data")
async def export_my_data(user: Applicant, session: SessionDep) -> dict[str, Any]:
    """Everything the platform holds about the caller's enterprise (personal data masked)."""
    return await privacy.export(session, user)


@router.get("/{enterprise_id}", operation_id="get_enterprise_profile", response_model=ProfileOut)
async def get_enterprise_profile(
    enterprise_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> ProfileOut:
    """An enterprise's profile: its own users, platform-wide roles, or institutions with consent."""
    return await privacy.profile(session, user, enterprise_id)
