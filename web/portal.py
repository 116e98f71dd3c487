"""The applicant portal's pages: registration with its one-time code, home, verification with
document uploads and resubmission, the message centre and the privacy page — each parses the
form, calls the same service as the API and renders."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from domain.disclosure import ConsentScope
from domain.errors import BusinessRuleError
from domain.onboarding import (
    INDUSTRY_SECTIONS,
    MAX_UPLOAD_BYTES,
    RESUBMITTABLE_STAGES,
    DocumentKind,
    NextStep,
    rejection_guidance,
)
from domain.passwords import PASSWORD_RULES
from domain.roles import Role
from gateway.deps import ContextDep, SessionDep, SettingsDep, TemporalDep
from services import applications, demands, institutions, loans, notifications, onboarding, privacy
from services.errors import Refusal
from services.inputs import field_issues
from services.onboarding import RegistrationIn, ResubmissionIn
from services.privacy import ConsentIn
from web.core import (
    PORTAL,
    WORKBENCH,
    Form,
    PageError,
    Web,
    WebContext,
    answer_json,
    client_ip,
    parse_uuid,
    record_id,
    redirect,
    render,
    text,
)
from web.portal_common import PAGE_SIZE, applicant, field_messages, page_number, unread_notices

router = APIRouter(include_in_schema=False)

REGISTRATION_COOKIE = "lb_registration"  # the registration's id and secret, until confirmed
REGISTRATION_TTL_S = 3600
REGISTRATION_FIELDS = (
    "enterprise.name",
    "enterprise.uscc",
    "enterprise.registered_capital",
    "enterprise.founding_date",
    "enterprise.industry",
    "enterprise.region",
    "enterprise.business_scope",
    "legal_representative.name",
    "legal_representative.id_number",
    "legal_representative.mobile",
    "account.username",
    "account.password",
    "account.password_confirmation",
    "email",
)
_SECRET_FIELDS = frozenset({"account.password", "account.password_confirmation"})


# ---- home ---------------------------------------------------------------------------------


@router.get("/")
async def root(ctx: Web) -> Response:
    """Applicants to their home, staff to the workbench, strangers to the login."""
    if ctx.principal is None:
        return redirect(ctx, f"{PORTAL.prefix}/login")
    if ctx.principal.role is not Role.APPLICANT:
        return redirect(ctx, f"{WORKBENCH.prefix}/")
    return redirect(ctx, f"{PORTAL.prefix}/home")


@router.get("/home")
async def home(ctx: Web, session: SessionDep) -> Response:
    """Verification status in words, the enterprise's demands, applications and loans."""
    user = applicant(ctx)
    own = await onboarding.own_enterprise(session, user)
    return render(
        ctx,
        "home.html",
        enterprise=own.enterprise,
        demands=await demands.visible_demands(session, user, limit=PAGE_SIZE),
        applications=await applications.visible_applications(session, user, limit=PAGE_SIZE),
        loans=await loans.visible_loans(session, user, None, limit=PAGE_SIZE),
        unread=await unread_notices(ctx, session),
    )


# ---- registration -------------------------------------------------------------------------


def registration_body(form: FormData) -> dict[str, Any]:
    """The registration form's dotted fields as the API's nested body (empty ones left out,
    so they are named as missing)."""
    body: dict[str, Any] = {}
    for name in REGISTRATION_FIELDS:
        value = form.get(name, "")
        if not isinstance(value, str):
            continue
        value = value if name in _SECRET_FIELDS else value.strip()
        if not value:
            continue
        part, _, field = name.rpartition(".")
        (body.setdefault(part, {}) if part else body)[field] = value[:2000]
    return body


def _register_page(
    ctx: WebContext, status: int = 200, values: dict[str, str] | None = None, **data: Any
) -> Response:
    return render(
        ctx,
        "register.html",
        status,
        values=values or {},
        errors=data.pop("errors", {}),
        error=data.pop("error", ""),
        industries=sorted(INDUSTRY_SECTIONS),
        password_rules=PASSWORD_RULES[0] if ctx.lang == "zh" else PASSWORD_RULES[1],
        **data,
    )


@router.get("/register")
async def register_page(ctx: Web) -> Response:
    return _register_page(ctx)


@router.post("/register/check")
async def check_registration(ctx: Web, form: Form) -> Response:
    """The problems the registration would be refused for, as the owner types (the page
    shows those of the fields already touched)."""
    return answer_json(
        ctx,
        {
            "fields": field_messages(
                ctx, onboarding.check_registration_form(registration_body(form))
            )
        },
    )


@router.post("/register")
async def register(
    request: Request,
    ctx: Web,
    form: Form,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Register through the onboarding service; the code step follows."""
    values = {name: text(form, name) for name in REGISTRATION_FIELDS if name not in _SECRET_FIELDS}
    body = registration_body(form)
    problems = onboarding.check_registration_form(body)
    if problems:
        errors = field_messages(ctx, problems)
        return _register_page(ctx, 422, values, errors=errors, error=ctx.t("error.fields"))
    try:
        ack, secret = await onboarding.register(
            session, temporal, settings, client_ip(request), RegistrationIn.model_validate(body)
        )
    except Refusal as exc:
        errors = field_messages(ctx, exc.fields)
        return _register_page(ctx, exc.status, values, errors=errors, error=ctx.refused(exc))
    except BusinessRuleError as exc:
        errors = field_messages(ctx, exc.issues)
        return _register_page(ctx, 422, values, errors=errors, error=ctx.t("error.fields"))
    ctx.cookies[REGISTRATION_COOKIE] = (f"{ack.enterprise_id}:{secret}", REGISTRATION_TTL_S)
    return redirect(ctx, f"{PORTAL.prefix}/register/code")


def _registration(ctx: WebContext) -> tuple[uuid.UUID, str]:
    """The registration this browser started (its id and secret, from the cookie)."""
    raw = ctx.request.cookies.get(REGISTRATION_COOKIE, "")
    ident, _, secret = raw.partition(":")
    enterprise_id = parse_uuid(ident)
    if enterprise_id is None or not secret:
        raise PageError(404, "portal.no_registration")
    return enterprise_id, secret


@router.get("/register/code")
async def code_page(ctx: Web, session: SessionDep, temporal: TemporalDep) -> Response:
    enterprise_id, secret = _registration(ctx)
    progress = await onboarding.progress(session, temporal, None, enterprise_id, secret)
    return render(ctx, "code.html", progress=progress, error="", sent=False)


@router.post("/register/code")
async def confirm_code(
    ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Confirm the SMS code; the owner then logs in and uploads the documents."""
    enterprise_id, secret = _registration(ctx)
    code = text(form, "code", 12)
    try:
        await onboarding.confirm_code(session, temporal, None, enterprise_id, secret, code)
    except Refusal as exc:
        progress = await onboarding.progress(session, temporal, None, enterprise_id, secret)
        return render(
            ctx, "code.html", exc.status, progress=progress, error=ctx.refused(exc), sent=False
        )
    ctx.cookies[REGISTRATION_COOKIE] = ("", 0)
    return redirect(ctx, f"{PORTAL.prefix}/login?registered=1")


@router.post("/register/code/resend")
async def resend_code(
    request: Request,
    ctx: Web,
    form: Form,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    enterprise_id, secret = _registration(ctx)
    try:
        progress = await onboarding.resend_code(
            session, temporal, settings, None, enterprise_id, secret, client_ip(request)
        )
    except Refusal as exc:
        progress = await onboarding.progress(session, temporal, None, enterprise_id, secret)
        return render(
            ctx, "code.html", exc.status, progress=progress, error=ctx.refused(exc), sent=False
        )
    return render(ctx, "code.html", progress=progress, error="", sent=True)


# ---- verification -------------------------------------------------------------------------


async def _verification_page(
    ctx: WebContext,
    session: SessionDep,
    temporal: TemporalDep,
    status: int = 200,
    error: str = "",
    errors: dict[str, str] | None = None,
) -> Response:
    user = applicant(ctx)
    own = await onboarding.own_enterprise(session, user)
    enterprise = own.enterprise
    progress = await onboarding.progress(session, temporal, user, enterprise.id, None)
    resubmittable = progress.stage in RESUBMITTABLE_STAGES
    guidance = rejection_guidance(progress.reason) if resubmittable else None
    return render(
        ctx,
        "verification.html",
        status,
        enterprise=enterprise,
        id_number=own.legal_rep_id_number,
        progress=progress,
        kinds=list(DocumentKind),
        guidance=guidance,
        can_resubmit=guidance is not None and guidance.next_step is not NextStep.CONTACT_SUPPORT,
        max_upload_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        unread=await unread_notices(ctx, session),
        error=error,
        errors=errors or {},
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/verification")
async def verification(ctx: Web, session: SessionDep, temporal: TemporalDep) -> Response:
    """Where the verification stands in words; the documents; why a no, and the way forward."""
    return await _verification_page(ctx, session, temporal)


@router.post("/verification/documents")
async def upload_document(
    ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep, app: ContextDep
) -> Response:
    """One verification material (PDF/JPEG/PNG by content, at most 10 MB)."""
    user = applicant(ctx)
    kind = text(form, "kind", 32)
    upload = form.get("file")
    if kind not in set(DocumentKind) or not isinstance(upload, UploadFile):
        errors = {"file": ctx.t("portal.choose_file")}
        return await _verification_page(ctx, session, temporal, 422, ctx.t("error.fields"), errors)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    try:
        await onboarding.attach_document(
            temporal, app.document_store(), user, DocumentKind(kind), data
        )
    except Refusal as exc:
        errors = {"file": ctx.refused(exc)}
        return await _verification_page(
            ctx, session, temporal, exc.status, ctx.refused(exc), errors
        )
    return redirect(ctx, f"{PORTAL.prefix}/verification?done=uploaded")


@router.post("/verification/resubmission")
async def resubmit(
    ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> Response:
    """Correct what the rejection named and verify again (a new run of the onboarding)."""
    user = applicant(ctx)
    corrections: dict[str, dict[str, str]] = {"enterprise": {}, "legal_representative": {}}
    for name in ("enterprise.name", "legal_representative.name", "legal_representative.id_number"):
        value = text(form, name, 200)
        if value:
            part, _, field = name.partition(".")
            corrections[part][field] = value
    reupload = [k for k in form.getlist("reupload") if isinstance(k, str)]
    try:
        body = ResubmissionIn.model_validate({**corrections, "reupload_documents": reupload})
        await onboarding.resubmit(session, temporal, settings, user, body)
    except (BusinessRuleError, ValidationError) as exc:
        issues = exc.issues if isinstance(exc, BusinessRuleError) else field_issues(exc.errors())
        errors = field_messages(ctx, issues)
        return await _verification_page(ctx, session, temporal, 422, ctx.t("error.fields"), errors)
    except Refusal as exc:
        return await _verification_page(ctx, session, temporal, exc.status, ctx.refused(exc))
    return redirect(ctx, f"{PORTAL.prefix}/verification?done=resubmitted")


# ---- message centre -----------------------------------------------------------------------


@router.get("/messages")
async def messages(ctx: Web, session: SessionDep, page: str = "1") -> Response:
    """The enterprise's notices, newest first, unread marked, each linked to its case."""
    user = applicant(ctx)
    number = page_number(page)
    found = await notifications.notices(
        session, user, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render(
        ctx,
        "messages.html",
        notices=found.items,
        total=found.total,
        unread=found.unread,
        page=number,
        pages=pages,
    )


@router.post("/messages/read-all")
async def read_all(ctx: Web, form: Form, session: SessionDep) -> Response:
    await notifications.mark_all_read(session, applicant(ctx))
    return redirect(ctx, f"{PORTAL.prefix}/messages")


@router.post("/messages/{notice_id}/read")
async def read_one(notice_id: str, ctx: Web, form: Form, session: SessionDep) -> Response:
    """Mark a notice read, then open its case when asked to (``open=1``)."""
    notice = await notifications.mark_read(session, applicant(ctx), record_id(notice_id))
    if text(form, "open", 1) == "1" and notice.case is not None:
        return redirect(ctx, case_url(notice.case.kind.value, notice.case.id))
    return redirect(ctx, f"{PORTAL.prefix}/messages")


def case_url(kind: str, ident: uuid.UUID) -> str:
    """The portal page of a notice's case."""
    if kind == "verification":
        return f"{PORTAL.prefix}/verification"
    if kind == "application":
        return f"{PORTAL.prefix}/applications/{ident}"
    if kind == "loan":
        return f"{PORTAL.prefix}/loans/{ident}"
    return f"{PORTAL.prefix}/home#{kind}-{ident}"


# ---- privacy ------------------------------------------------------------------------------


async def _privacy_page(
    ctx: WebContext, session: SessionDep, status: int = 200, error: str = ""
) -> Response:
    user = applicant(ctx)
    directory = await institutions.directory(session, limit=500)
    return render(
        ctx,
        "privacy.html",
        status,
        consents=await privacy.consents(session, user),
        institutions=directory,
        names={i.id: i.name for i in directory},
        scopes=list(ConsentScope),
        settings_=await privacy.privacy(session, user),
        unread=await unread_notices(ctx, session),
        error=error,
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/privacy")
async def privacy_page(ctx: Web, session: SessionDep) -> Response:
    """The consents per institution and scope (granted, revoked), and the data export."""
    return await _privacy_page(ctx, session)


@router.post("/privacy/consents")
async def grant_consent(ctx: Web, form: Form, session: SessionDep) -> Response:
    user = applicant(ctx)
    try:
        body = ConsentIn.model_validate(
            {"institution_id": text(form, "institution_id", 64), "scope": text(form, "scope", 32)}
        )
    except ValueError:
        return await _privacy_page(ctx, session, 422, ctx.t("error.fields"))
    try:
        await privacy.grant(session, user, body)
    except BusinessRuleError:
        return await _privacy_page(ctx, session, 422, ctx.t("error.fields"))
    return redirect(ctx, f"{PORTAL.prefix}/privacy?done=granted")


@router.post("/privacy/consents/{consent_id}/revoke")
async def revoke_consent(consent_id: str, ctx: Web, form: Form, session: SessionDep) -> Response:
    await privacy.revoke(session, applicant(ctx), record_id(consent_id))
    return redirect(ctx, f"{PORTAL.prefix}/privacy?done=revoked")


@router.get("/privacy/export")
async def export(ctx: Web, session: SessionDep) -> Response:
    """Everything the platform holds about the enterprise (personal data masked), as a file."""
    data = await privacy.export(session, applicant(ctx))
    response = answer_json(ctx, data)
    response.headers["Content-Disposition"] = 'attachment; filename="loanbridge-export.json"'
    return response
