"""Loan applications: submit, follow, accept the offer, withdraw; officers decide via tasks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from api.idempotency import bind_idempotency_key, mark_replayed
from api.schemas import AcceptanceOut, ApplicationOut, ExposureOut, from_row
from domain.roles import Role
from gateway.deps import (
    ContextDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require_roles,
)
from services import applications, materials
from services.applications import (
    AcceptanceIn,
    ApplicationIn,
    InformationIn,
    NamedApplication,
    RefusalIn,
)
from services.exposure import exposure_for_reader
from services.inputs import ServerRule, server_rules
from services.principal import Principal
from workflows.contracts import AcceptanceCodeSent, ApplicationProgress

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]


def _out(named: NamedApplication, exposure: ExposureOut | None = None) -> ApplicationOut:
    row, enterprise, institution, product = named
    return from_row(
        ApplicationOut,
        row,
        enterprise_name=enterprise,
        institution_name=institution,
        product_name=product,
        exposure=exposure,
    )


@router.post(
    "",
    operation_id="submit_application",
    response_model=ApplicationOut,
    status_code=201,
    openapi_extra=server_rules(
        ServerRule("product_id", "product.unavailable", "names an active product"),
        *(
            ServerRule(field, code, f"within what the product's current version offers: {what}")
            for field, code, what in (
                ("amount", "application.amount_outside_product", "its amount range"),
                ("term_months", "application.term_outside_product", "its term range"),
                ("repayment_method", "application.method_not_offered", "its methods"),
            )
        ),
    ),
)
async def submit_application(
    body: ApplicationIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    ctx: ContextDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> ApplicationOut:
    """Apply for a product at its current version; a double submit never makes two (and is
    answered with the first application, marked ``Idempotent-Replayed: true``)."""
    checked = await applications.submittable(session, user, body)
    enterprise_id = checked.enterprise_id
    # Files are compared by kind and content: uploading the same files again (new ids) and
    # repeating the request is the same application.
    files = await materials.fingerprint(session, user, body.material_ids)
    await bind_idempotency_key(
        ctx.session_factory,
        scope=f"enterprise:{enterprise_id}:application",
        key=idempotency_key,
        request={**body.model_dump(mode="json", exclude={"material_ids"}), "materials": files},
    )
    application_id = (
        uuid.uuid5(enterprise_id, f"application:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    if idempotency_key and await applications.exists(session, application_id):
        mark_replayed(response)
    named = await applications.submit(
        session, temporal, settings, user, checked, application_id, body
    )
    return _out(named)


@router.get("", operation_id="list_applications", response_model=list[ApplicationOut])
async def list_applications(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ApplicationOut]:
    """Applicants: their applications. Staff: their institution's. Newest first, named."""
    rows = await applications.visible_applications(session, user, limit=limit, offset=offset)
    return [_out(named) for named in rows]


@router.get("/{application_id}", operation_id="get_application", response_model=ApplicationOut)
async def get_application(
    application_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ApplicationOut:
    """One application, with its enterprise's exposure elsewhere on the platform."""
    named = await applications.named_application(session, user, application_id)
    exposure = await exposure_for_reader(session, user, named[0], settings.exposure_window_days)
    return _out(named, exposure)


@router.get(
    "/{application_id}/progress",
    operation_id="application_progress",
    response_model=ApplicationProgress,
)
async def application_progress(
    application_id: uuid.UUID, user: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> ApplicationProgress:
    return await applications.progress(session, temporal, user, application_id)


@router.post(
    "/{application_id}/acceptance",
    operation_id="accept_offer",
    response_model=AcceptanceOut,
    openapi_extra=server_rules(
        ServerRule("signer_name", "signer.name_mismatch", "the registered legal representative"),
        ServerRule("code", "signer.code_wrong", "the live code texted by acceptance-code"),
    ),
)
async def accept_offer(
    application_id: uuid.UUID,
    body: AcceptanceIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> AcceptanceOut:
    """Accept the offer, signed by the legal representative: their name as registered and the
    code texted by ``acceptance-code``; name the account to pay into; disbursement follows. A
    wrong name or code is refused on its field (nothing is paid). Accepting again with the
    same letter and account answers the first acceptance, marked ``Idempotent-Replayed:
    true``; with another letter or account it is refused."""
    accepted = await applications.accept_offer(
        session, temporal, settings, user, application_id, body
    )
    if accepted.replayed:
        mark_replayed(response)
    return AcceptanceOut(stage=accepted.stage, loan_id=accepted.loan_id, account=accepted.account)


@router.post(
    "/{application_id}/acceptance-code",
    operation_id="request_acceptance_code",
    response_model=AcceptanceCodeSent,
)
async def request_acceptance_code(
    application_id: uuid.UUID, user: Applicant, session: SessionDep, temporal: TemporalDep
) -> AcceptanceCodeSent:
    """Text a one-time code to the legal representative's registered mobile to sign the offer
    letter issued last (the code before is void); the number masked, the code's expiry and
    the wrong attempts it allows."""
    return await applications.request_acceptance_code(session, temporal, user, application_id)


@router.post(
    "/{application_id}/withdraw",
    operation_id="withdraw_application",
    response_model=ApplicationProgress,
)
async def withdraw_application(
    application_id: uuid.UUID, user: Applicant, session: SessionDep, temporal: TemporalDep
) -> ApplicationProgress:
    """Withdraw before the money moves; open tasks are cancelled. The decision log names who."""
    return await applications.withdraw(session, temporal, user, application_id)


@router.post(
    "/{application_id}/information",
    operation_id="provide_information",
    response_model=ApplicationProgress,
    # What is asked depends on the case: the materials missing, or the officer's question.
    openapi_extra=server_rules(
        ServerRule("material_ids", "information.still_missing", "files of the materials asked for"),
        ServerRule("answer", "information.answer_required", "an answer or material files"),
    ),
)
async def provide_information(
    application_id: uuid.UUID,
    body: InformationIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
) -> ApplicationProgress:
    """Provide the materials asked for, or answer the credit officer's question."""
    return await applications.provide_information(session, temporal, user, application_id, body)


@router.post(
    "/{application_id}/refusal", operation_id="refuse_offer", response_model=ApplicationProgress
)
async def refuse_offer(
    application_id: uuid.UUID,
    body: RefusalIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
) -> ApplicationProgress:
    """Turn the offer or counter-offer down; the application ends."""
    return await applications.refuse_offer(session, temporal, user, application_id, body)


@router.get(
    "/{application_id}/documents/{kind}",
    operation_id="application_document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def application_document(
    application_id: uuid.UUID,
    kind: Annotated[str, Path(pattern="^(offer_letter|contract)$")],
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    """The latest offer letter or the contract as issued (PDF); its SHA-256 in a header and,
    for the offer letter, the hash the acceptance takes (X-Offer-SHA256: the digest of the
    offer's terms the letter prints, or the letter's own hash for letters issued before)."""
    document = await applications.document(session, user, application_id, kind)
    pdf = ctx.document_store().get(document.sha256)
    headers = {
        "X-Document-SHA256": document.sha256,
        "Content-Disposition": f'inline; filename="{kind}-{application_id}.pdf"',
    }
    if kind == "offer_letter":
        headers["X-Offer-SHA256"] = await applications.offer_sha256(session, user, application_id)
    return Response(pdf, media_type="application/pdf", headers=headers)
