"""Enterprise registration, one-time code, documents and the applicant's own profile."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field

from api.schemas import (
    EnterpriseOut,
    GuidanceOut,
    ProgressOut,
    RegistrationOut,
    Schema,
)
from domain.onboarding import (
    MAX_UPLOAD_BYTES,
    RESUBMITTABLE_STAGES,
    DocumentKind,
    NextStep,
    rejection_guidance,
)
from domain.roles import Role
from gateway.deps import (
    ContextDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    bearer_credentials,
    current_principal,
    require_roles,
)
from services import onboarding
from services.inputs import ServerRule, server_rules
from services.onboarding import RegistrationIn, ResubmissionIn
from services.principal import Principal
from workflows.contracts import OnboardingProgress

router = APIRouter(tags=["onboarding"])

Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]

# Registration ids are random (issue 28/6: they derived from the USCC, so anyone could read a
# company's stage and burn its code attempts). Anonymous calls on a registration present the
# secret its registrant alone was given; only its SHA-256 is stored.
REGISTRATION_SECRET_HEADER = "X-Registration-Secret"
RegistrationSecret = Annotated[
    str | None,
    Header(
        alias=REGISTRATION_SECRET_HEADER,
        max_length=128,
        description="The registration_secret of the registration response (anonymous callers)",
    ),
]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def _caller(ctx: ContextDep, credentials: Bearer) -> Principal | None:
    """Who a bearer token names while its session is current (None without one, or for any
    other token: the registration secret may still serve)."""
    if credentials is None:
        return None
    return await current_principal(ctx, credentials.credentials)


class OtpIn(Schema):
    code: str = Field(
        min_length=1,
        max_length=12,
        json_schema_extra={"pattern": "^[0-9]{6}$"},
        description="The six digits sent by SMS (checked by the onboarding workflow)",
    )


def _progress(progress: OnboardingProgress) -> ProgressOut:
    out = ProgressOut(**progress.model_dump(exclude={"review_task_id"}))
    if progress.stage not in RESUBMITTABLE_STAGES:
        return out
    guidance = rejection_guidance(progress.reason)
    return out.model_copy(
        update={
            "guidance": GuidanceOut(
                code=guidance.code,
                message_zh=guidance.message_zh,
                message_en=guidance.message_en,
                fields=list(guidance.fields),
                next_step=guidance.next_step.value,
                can_resubmit=guidance.next_step is not NextStep.CONTACT_SUPPORT,
            )
        }
    )


@router.post(
    "/api/v1/registrations",
    operation_id="register_enterprise",
    response_model=RegistrationOut,
    status_code=201,
)
async def register(
    body: RegistrationIn,
    request: Request,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> RegistrationOut:
    """Register an enterprise and its applicant account; a one-time code goes to the mobile.
    The answer carries the registration secret that later anonymous calls present."""
    ack, secret = await onboarding.register(session, temporal, settings, _client_ip(request), body)
    return RegistrationOut(**ack.model_dump(), registration_secret=secret)


@router.post(
    "/api/v1/registrations/{enterprise_id}/otp",
    operation_id="confirm_registration_code",
    response_model=ProgressOut,
    openapi_extra=server_rules(
        ServerRule("code", "otp.wrong_code", "the code last sent to the registration's mobile")
    ),
)
async def confirm_code(
    enterprise_id: uuid.UUID,
    body: OtpIn,
    ctx: ContextDep,
    session: SessionDep,
    temporal: TemporalDep,
    secret: RegistrationSecret = None,
    credentials: Bearer = None,
) -> ProgressOut:
    """Confirm the one-time code; the account becomes usable and documents are expected."""
    caller = await _caller(ctx, credentials)
    return _progress(
        await onboarding.confirm_code(session, temporal, caller, enterprise_id, secret, body.code)
    )


@router.post(
    "/api/v1/registrations/{enterprise_id}/otp/resend",
    operation_id="resend_registration_code",
    response_model=ProgressOut,
)
async def resend_code(
    enterprise_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    temporal: TemporalDep,
    secret: RegistrationSecret = None,
    credentials: Bearer = None,
) -> ProgressOut:
    """Send a new code (at most 5, one a minute); the previous one stops working."""
    caller = await _caller(ctx, credentials)
    progress = await onboarding.resend_code(
        session, temporal, ctx.settings, caller, enterprise_id, secret, _client_ip(request)
    )
    return _progress(progress)


@router.get(
    "/api/v1/registrations/{enterprise_id}",
    operation_id="registration_progress",
    response_model=ProgressOut,
)
async def registration_progress(
    enterprise_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    temporal: TemporalDep,
    secret: RegistrationSecret = None,
    credentials: Bearer = None,
) -> ProgressOut:
    """Where the onboarding stands (no personal data): for the registrant's secret or the
    enterprise's own account."""
    caller = await _caller(ctx, credentials)
    return _progress(await onboarding.progress(session, temporal, caller, enterprise_id, secret))


@router.post(
    "/api/v1/enterprises/me/documents",
    operation_id="upload_document",
    response_model=ProgressOut,
    status_code=201,
    openapi_extra=server_rules(
        ServerRule("file", "upload.empty", "not empty"),
        ServerRule("file", "upload.too_large", "at most 10 MB"),
        ServerRule(
            "file",
            "upload.unsupported_type",
            "a PDF, JPEG or PNG by its content (its first bytes), whatever type it declares",
        ),
    ),
)
async def upload_document(
    user: Applicant,
    ctx: ContextDep,
    temporal: TemporalDep,
    kind: Annotated[DocumentKind, Form()],
    file: Annotated[UploadFile, File()],
) -> ProgressOut:
    """Upload a verification material (PDF/JPEG/PNG by content, at most 10 MB)."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    store = ctx.document_store()
    return _progress(await onboarding.attach_document(temporal, store, user, kind, data))


@router.get("/api/v1/enterprises/me", operation_id="my_enterprise", response_model=EnterpriseOut)
async def my_enterprise(user: Applicant, session: SessionDep) -> EnterpriseOut:
    """The applicant's enterprise with ID number and phone masked."""
    own = await onboarding.own_enterprise(session, user)
    return EnterpriseOut.model_validate(own.enterprise).model_copy(
        update={"legal_rep_id_number": own.legal_rep_id_number, "mobile": own.mobile}
    )


@router.post(
    "/api/v1/enterprises/me/resubmission",
    operation_id="resubmit_registration",
    response_model=ProgressOut,
    status_code=201,
)
async def resubmit_registration(
    body: ResubmissionIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ProgressOut:
    """Correct a rejected (or lapsed) registration and verify again: a new run of
    ``enterprise-{id}``. Documents on file still count unless named in ``reupload_documents``."""
    return _progress(await onboarding.resubmit(session, temporal, settings, user, body))
