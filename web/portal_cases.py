"""The applicant portal's origination pages: the enterprise's financing demands (posted with
field-level errors as the owner types, followed through their matches and the institutions'
answers, the offers compared, withdrawn), applying for a matched product with its materials
checklist, and an application's page (its stage on a timeline, answering the officer, the offer
letter, accepting it signed with the one-time code or refusing it, the disbursement,
withdrawing) — each through the same services as the API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from adapters.storage.protocol import DocumentStore
from domain.calendar import business_today
from domain.errors import BusinessRuleError, FieldIssue
from domain.identity_codes import mask_bank_account
from domain.materials import MAX_MATERIAL_BYTES
from domain.origination import Material, required_materials
from domain.product_codec import terms_from_json
from domain.products import FinancingType
from domain.schedule import Installment, RepaymentMethod, ScheduleRequest, build_schedule
from gateway.deps import ContextDep, SessionDep, SettingsDep, TemporalDep
from services import applications, catalog, demands, loans, materials
from services.applications import AcceptanceIn, ApplicationIn, InformationIn, RefusalIn
from services.cases import Application
from services.demands import DemandIn, DemandView
from services.errors import Refusal
from services.inputs import field_issues
from services.materials import MaterialFile
from services.principal import Principal
from web.core import (
    PORTAL,
    Form,
    PageError,
    Web,
    WebContext,
    answer_json,
    parse_uuid,
    record_id,
    redirect,
    render,
    text,
)
from web.portal_common import (
    PAGE_SIZE,
    applicant,
    field_messages,
    page_number,
    pdf_response,
    unread_notices,
)
from workflows.contracts import AcceptanceCodeSent, ApplicationProgress, OfferTerms

router = APIRouter(include_in_schema=False)

DEMAND_FIELDS = ("amount", "term_months", "purpose", "financing_type", "repayment_method")
APPLY_FIELDS = ("amount", "term_months", "repayment_method", "purpose")
ACCEPT_FIELDS = ("signer_name", "account")
# Demands that can no longer lead to an application.
DEMAND_ENDED = frozenset({"withdrawn", "expired", "lapsed", "no_match"})
# An application can be withdrawn until the money moves (the workflow has the last word).
WITHDRAWABLE = frozenset(
    {
        "submitted",
        "assessing",
        "materials_requested",
        "in_review",
        "info_requested",
        "approved",
        "offered",
        "counter_offered",
    }
)
OFFER_STAGES = frozenset({"offered", "counter_offered"})
# The path an application takes, and where on it each stage stands.
PATH = ("submitted", "in_review", "offered", "accepted", "disbursed")
_POSITION = {
    "submitted": 0,
    "assessing": 0,
    "duplicate": 0,
    "materials_requested": 1,
    "in_review": 1,
    "info_requested": 1,
    "approved": 1,
    "declined": 1,
    "lapsed": 1,
    "offered": 2,
    "counter_offered": 2,
    "offer_refused": 2,
    "expired": 2,
    "accepted": 3,
    "disbursing": 3,
    "disbursement_failed": 3,
    "disbursed": 4,
}
# Stages that end the path where they stand (shown in place of the next step).
ENDINGS = frozenset(
    {"declined", "lapsed", "offer_refused", "expired", "withdrawn", "disbursement_failed"}
)


def _form_values(form: FormData, names: Sequence[str]) -> dict[str, str]:
    """The form's fields by name, trimmed; amounts without their thousands separators."""
    values = {name: text(form, name, 1000) for name in names}
    if "amount" in values:
        values["amount"] = values["amount"].replace(",", "").replace("，", "")
    return values


def _present(values: dict[str, str]) -> dict[str, Any]:
    """The fields filled in (an empty one is named as missing by the schema)."""
    return {name: value for name, value in values.items() if value}


def _nonce(form: FormData) -> uuid.UUID:
    """The form's own id (a hidden field): the same form posted twice makes one record."""
    return parse_uuid(text(form, "nonce", 36)) or uuid.uuid4()


# ---- materials: files chosen in the apply and answer forms ---------------------------------


@dataclass(frozen=True, slots=True)
class MaterialItem:
    """One line of a materials checklist: the material, whether it is required or asked for,
    and the files of that kind already provided."""

    kind: str
    required: bool
    files: tuple[MaterialFile, ...]


def materials_checklist(
    required: Sequence[str], provided: Sequence[MaterialFile] = (), only: Sequence[str] = ()
) -> list[MaterialItem]:
    """The checklist the forms show (``templates/portal/_materials.html``): every material, or
    ``only`` those, the required ones first, each with its files."""
    kinds = list(only) or [m.value for m in Material]
    kinds.sort(key=lambda kind: kind not in required)
    return [
        MaterialItem(kind, kind in required, tuple(f for f in provided if f.kind == kind))
        for kind in kinds
    ]


@dataclass(frozen=True, slots=True)
class PostedMaterials:
    """The files a form carried (kept from an earlier try and chosen now) and each refused
    file's problem on its field (``material.<kind>``)."""

    files: list[MaterialFile]
    errors: dict[str, str]

    @property
    def ids(self) -> list[str]:
        return [str(row.id) for row in self.files]


async def posted_materials(
    ctx: WebContext,
    session: SessionDep,
    store: DocumentStore,
    form: FormData,
    application_id: uuid.UUID | None = None,
) -> PostedMaterials:
    """The files of the form: those uploaded by an earlier try of it that was refused (hidden
    ``material_id`` fields; only the enterprise's own files not yet attached count) and each
    file chosen now under ``material.<kind>``, stored through the materials service (checked
    on its bytes) — attached to ``application_id`` when given. A refused file is named on its
    field; the others are kept."""
    user = applicant(ctx)
    wanted = {parse_uuid(v) for v in form.getlist("material_id") if isinstance(v, str)}
    files = (
        [row for row in await materials.staged(session, user) if row.id in wanted] if wanted else []
    )
    errors: dict[str, str] = {}
    for kind in (m.value for m in Material):
        for upload in form.getlist(f"material.{kind}"):
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue  # a file input left empty
            data = await upload.read(MAX_MATERIAL_BYTES + 1)
            try:
                row = await materials.upload(
                    session,
                    store,
                    user,
                    kind,
                    upload.filename,
                    data,
                    application_id=application_id,
                )
            except Refusal as exc:
                errors.setdefault(f"material.{kind}", ctx.refused(exc))
            else:
                files.append(row)
    return PostedMaterials(files, errors)


def _material_errors(errors: dict[str, str]) -> dict[str, str]:
    """The service names the materials as a whole ``material_ids``; the form calls them
    ``materials``."""
    if "material_ids" in errors:
        errors.setdefault("materials", errors.pop("material_ids"))
    return errors


# ---- demands ------------------------------------------------------------------------------


async def _list_page(
    ctx: WebContext,
    session: SessionDep,
    page: str,
    template: str,
    fetch: Callable[[Principal, int, int], Awaitable[Sequence[Any]]],
) -> Response:
    """A page of one of the enterprise's lists (``fetch`` given the applicant, a limit and an
    offset), with whether another page follows."""
    number = page_number(page)
    found = await fetch(applicant(ctx), PAGE_SIZE + 1, (number - 1) * PAGE_SIZE)
    return render(
        ctx,
        template,
        rows=found[:PAGE_SIZE],
        page=number,
        more=len(found) > PAGE_SIZE,
        unread=await unread_notices(ctx, session),
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/demands")
async def demand_list(ctx: Web, session: SessionDep, page: str = "1") -> Response:
    """The enterprise's demands, newest first."""

    async def fetch(user: Principal, limit: int, offset: int) -> Sequence[Any]:
        return await demands.visible_demands(session, user, limit=limit, offset=offset)

    return await _list_page(ctx, session, page, "demands.html", fetch)


def _demand_form(
    ctx: WebContext,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
) -> Response:
    return render(
        ctx,
        "demand_form.html",
        status,
        values=values or {},
        errors=errors or {},
        error=error,
        financing_types=list(FinancingType),
        methods=list(RepaymentMethod),
        nonce=uuid.uuid4(),
    )


@router.get("/demands/new")
async def new_demand(ctx: Web) -> Response:
    """The form to post a financing demand."""
    applicant(ctx)
    return _demand_form(ctx)


# Well-formed stand-ins for the fields the schema refused, so that the service's own rules can
# still name the problems of the other fields (every problem at once, as the API answers).
_DEMAND_STAND_INS = {
    "amount": "1",
    "term_months": "1",
    "purpose": "stand-in",
    "financing_type": FinancingType.CREDIT.value,
}


async def _checked_demand(
    session: SessionDep, user: Principal, values: dict[str, str]
) -> tuple[DemandIn | None, uuid.UUID | None, list[FieldIssue]]:
    """The demand as the service would take it, the enterprise posting it and every problem
    on a field (an enterprise not yet verified is refused as a whole: ``Refusal``)."""
    given = _present(values)
    try:
        body = DemandIn.model_validate(given)
        issues: list[FieldIssue] = []
    except ValidationError as exc:
        issues = field_issues(exc.errors())
        refused = {problem.field for problem in issues}
        stand_ins = {k: v for k, v in _DEMAND_STAND_INS.items() if k in refused}
        kept = {k: v for k, v in given.items() if k not in refused}
        try:
            body = DemandIn.model_validate({**kept, **stand_ins})
        except ValidationError:
            return None, None, issues
    try:
        enterprise_id = await demands.postable(session, user, body)
    except BusinessRuleError as exc:
        refused = {problem.field for problem in issues}
        return None, None, issues + [i for i in exc.issues if i.field not in refused]
    return (None, None, issues) if issues else (body, enterprise_id, [])


@router.post("/demands/check")
async def check_demand(ctx: Web, form: Form, session: SessionDep) -> Response:
    """The problems the demand would be refused for, as the owner types."""
    user = applicant(ctx)
    try:
        _, _, problems = await _checked_demand(session, user, _form_values(form, DEMAND_FIELDS))
    except Refusal:
        problems = []  # the page says why the enterprise may not post yet
    return answer_json(ctx, {"fields": field_messages(ctx, problems)})


@router.post("/demands")
async def post_demand(
    ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> Response:
    """Post the demand through the demands service; its page follows."""
    user = applicant(ctx)
    values = _form_values(form, DEMAND_FIELDS)
    try:
        body, enterprise_id, problems = await _checked_demand(session, user, values)
    except Refusal as exc:
        return _demand_form(ctx, exc.status, values, error=ctx.refused(exc))
    if body is None or enterprise_id is None:
        errors = field_messages(ctx, problems)
        return _demand_form(ctx, 422, values, errors, ctx.t("error.fields"))
    demand_id = uuid.uuid5(enterprise_id, f"portal-demand:{_nonce(form)}")
    await demands.submit(session, temporal, settings, user, enterprise_id, demand_id, body)
    return redirect(ctx, f"{PORTAL.prefix}/demands/{demand_id}?done=posted")


async def _demand_page(
    ctx: WebContext, session: SessionDep, demand_id: uuid.UUID, status: int = 200, error: str = ""
) -> Response:
    user = applicant(ctx)
    view = await demands.detail(session, user, demand_id)
    demand = view.card.demand
    return render(
        ctx,
        "demand.html",
        status,
        demand=demand,
        matches=view.matches,
        responses=view.responses,
        eligible=sum(1 for match, _, _ in view.matches if match.eligible),
        may_withdraw=demand.status not in demands.CLOSED_STAGES,
        may_apply=demand.status not in DEMAND_ENDED,
        unread=await unread_notices(ctx, session),
        error=error,
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/demands/{demand_id}")
async def demand_page(demand_id: str, ctx: Web, session: SessionDep) -> Response:
    """The demand: its status in words, its matches with their reasons, each answer."""
    return await _demand_page(ctx, session, record_id(demand_id))


@router.post("/demands/{demand_id}/withdraw")
async def withdraw_demand(
    demand_id: str, ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Withdraw the demand before a product is chosen (the institutions' tasks close)."""
    user = applicant(ctx)
    ident = record_id(demand_id)
    try:
        await demands.withdraw(session, temporal, user, ident)
    except Refusal as exc:
        if exc.status == 404:
            raise
        return await _demand_page(ctx, session, ident, exc.status, ctx.refused(exc))
    return redirect(ctx, f"{PORTAL.prefix}/demands/{ident}?done=withdrawn")


@router.get("/demands/{demand_id}/comparison")
async def comparison(demand_id: str, ctx: Web, session: SessionDep) -> Response:
    """The matched offers side by side: APR, total and net cost, installment, term."""
    user = applicant(ctx)
    ident = record_id(demand_id)
    view = await demands.detail(session, user, ident)
    return render(
        ctx,
        "comparison.html",
        demand=view.card.demand,
        quotes=await demands.comparison(session, user, ident),
        may_apply=view.card.demand.status not in DEMAND_ENDED,
        unread=await unread_notices(ctx, session),
    )


@router.get("/demands/{demand_id}/comparison.pdf")
async def comparison_pdf(demand_id: str, ctx: Web, session: SessionDep) -> Response:
    """The comparison sheet as a PDF download."""
    pdf = await demands.comparison_pdf(session, applicant(ctx), record_id(demand_id))
    return pdf_response(pdf, "offer-comparison.pdf", download=True)


# ---- applying -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """The matched product applied for, with what its current version allows."""

    product_id: uuid.UUID
    product_name: str
    institution_name: str
    amount_min: Decimal
    amount_max: Decimal
    term_min: int
    term_max: int
    methods: tuple[str, ...]
    required: tuple[str, ...]


async def _choice(
    session: SessionDep, view: DemandView, product_id: uuid.UUID | None, amount: Decimal
) -> Choice:
    """The product, if the demand matched it as eligible (404 otherwise), and what its current
    terms allow and require for ``amount``."""
    found = next((m for m in view.matches if m[0].product_id == product_id and m[0].eligible), None)
    if found is None or product_id is None:
        raise PageError(404, "error.not_found")
    _, product_name, institution_name = found
    product = await catalog.product(session, product_id)
    terms = terms_from_json(product.terms)
    return Choice(
        product_id=product_id,
        product_name=product_name,
        institution_name=institution_name,
        amount_min=terms.amount_min,
        amount_max=terms.amount_max,
        term_min=terms.term_min_months,
        term_max=terms.term_max_months,
        methods=tuple(sorted(m.value for m in terms.repayment_methods)),
        required=tuple(m.value for m in required_materials(terms, amount)),
    )


def _apply_page(
    ctx: WebContext,
    view: DemandView,
    choice: Choice,
    values: dict[str, str],
    provided: Sequence[MaterialFile],
    status: int = 200,
    errors: dict[str, str] | None = None,
    error: str = "",
    open_application: str = "",
) -> Response:
    return render(
        ctx,
        "apply.html",
        status,
        demand=view.card.demand,
        choice=choice,
        values=values,
        checklist=materials_checklist(choice.required, provided),
        max_material_mb=MAX_MATERIAL_BYTES // (1024 * 1024),
        errors=errors or {},
        error=error,
        open_application=open_application,
        nonce=uuid.uuid4(),
    )


@router.get("/demands/{demand_id}/apply")
async def apply_page(demand_id: str, ctx: Web, session: SessionDep, product: str = "") -> Response:
    """Apply for a product the demand matched: amount, term, method, purpose, materials."""
    user = applicant(ctx)
    view = await demands.detail(session, user, record_id(demand_id))
    demand = view.card.demand
    choice = await _choice(session, view, parse_uuid(product), demand.amount)
    method = demand.repayment_method or ""
    values = {
        "amount": f"{demand.amount:.2f}",
        "term_months": str(demand.term_months),
        "repayment_method": method if method in choice.methods else choice.methods[0],
        "purpose": demand.purpose[:200],
    }
    return _apply_page(ctx, view, choice, values, await materials.demand_materials(session, demand))


@router.post("/demands/{demand_id}/apply")
async def apply(
    demand_id: str,
    ctx: Web,
    form: Form,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    app: ContextDep,
) -> Response:
    """Submit the application (its files first, through the materials service) through the
    applications service; its page follows."""
    user = applicant(ctx)
    view = await demands.detail(session, user, record_id(demand_id))
    demand = view.card.demand
    choice = await _choice(session, view, parse_uuid(text(form, "product", 36)), demand.amount)
    values = _form_values(form, APPLY_FIELDS)
    posted = await posted_materials(ctx, session, app.document_store(), form)
    provided = [*await materials.demand_materials(session, demand), *posted.files]
    body = {
        **_present(values),
        "product_id": str(choice.product_id),
        "demand_id": str(demand.id),
        "material_ids": posted.ids,
    }

    def refused(
        status: int, issues: Sequence[FieldIssue], message: str, open_id: str = ""
    ) -> Response:
        errors = _material_errors(field_messages(ctx, issues)) | posted.errors
        return _apply_page(ctx, view, choice, values, provided, status, errors, message, open_id)

    if posted.errors:
        return refused(422, [], ctx.t("error.fields"))
    try:
        parsed = ApplicationIn.model_validate(body)
        checked = await applications.submittable(session, user, parsed)
        application_id = uuid.uuid5(checked.enterprise_id, f"portal-application:{_nonce(form)}")
        await applications.submit(
            session, temporal, settings, user, checked, application_id, parsed
        )
    except ValidationError as exc:
        return refused(422, field_issues(exc.errors()), ctx.t("error.fields"))
    except BusinessRuleError as exc:
        return refused(422, exc.issues, ctx.t("error.fields"))
    except Refusal as exc:
        open_id = (exc.details or {}).get("application_id", "")
        return refused(exc.status, exc.fields, ctx.refused(exc), open_id)
    return redirect(ctx, f"{PORTAL.prefix}/applications/{application_id}?done=submitted")


# ---- applications -------------------------------------------------------------------------


@router.get("/applications")
async def application_list(ctx: Web, session: SessionDep, page: str = "1") -> Response:
    """The enterprise's applications, newest first, with their lender and product."""

    async def fetch(user: Principal, limit: int, offset: int) -> Sequence[Any]:
        return await applications.visible_applications(session, user, limit=limit, offset=offset)

    return await _list_page(ctx, session, page, "applications.html", fetch)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the application's path: its stage, how it stands, and when (if known)."""

    stage: str
    state: str  # done, current, ended, todo
    at: datetime | None = None


def timeline(stage: str, offered: bool, known: dict[str, datetime | None]) -> list[Step]:
    """The path submitted → in review → offered → accepted → disbursed, each step done, current
    or still to come, with the time of those ``known``; a stage that ends the application (a
    withdrawal: after the offer if one was made) stands in place of the step after it."""
    position = _POSITION.get(stage, 2 if offered else 1)
    steps = []
    for index, step in enumerate(PATH):
        if index < position or (index == position and step == stage == "disbursed"):
            steps.append(Step(step, "done", known.get(step)))
        elif index == position and stage not in ENDINGS:
            steps.append(Step(stage, "current", known.get(step)))
        elif index == position:
            steps.append(Step(step, "done", known.get(step)))
            steps.append(Step(stage, "ended"))
            break
        else:
            steps.append(Step(step, "todo"))
    return steps


@dataclass(frozen=True, slots=True)
class SchedulePreview:
    """The offer's first installments and its last, were it paid out today (the letter and the
    contract have the schedule itself)."""

    rows: tuple[Installment, ...]
    omitted: int


PREVIEW_HEAD = 3


def schedule_preview(offer: OfferTerms | None) -> SchedulePreview | None:
    """The schedule of the offer's terms from today: the first installments, then the last."""
    if offer is None:
        return None
    schedule = build_schedule(
        ScheduleRequest(
            principal=offer.amount,
            annual_rate=offer.rate,
            term_periods=offer.term_months,
            method=RepaymentMethod(offer.repayment_method),
            start_date=business_today(),
        )
    )
    rows = schedule.installments
    if len(rows) <= PREVIEW_HEAD + 1:
        return SchedulePreview(rows, 0)
    return SchedulePreview((*rows[:PREVIEW_HEAD], rows[-1]), len(rows) - PREVIEW_HEAD - 1)


@dataclass(frozen=True, slots=True)
class Disbursement:
    """The money paid out: how much, into which account (masked) and when."""

    amount: Decimal
    account: str
    at: datetime


async def _progress(
    session: SessionDep, temporal: TemporalDep, user: Principal, row: Application
) -> ApplicationProgress:
    """The application's live state; its record's once its process is no longer there."""
    try:
        return await applications.progress(session, temporal, user, row.id)
    except Refusal:
        return ApplicationProgress(
            application_id=row.id, stage=row.status, reason=row.status_reason
        )


async def _letter_ready(session: SessionDep, user: Principal, application_id: uuid.UUID) -> bool:
    """Whether the offer letter's PDF is issued: an offer bound to its terms is readable and
    acceptable at once, its letter follows from the documents queue a moment later."""
    try:
        await applications.document(session, user, application_id, "offer_letter")
    except Refusal:
        return False
    return True


async def _application_page(
    ctx: WebContext,
    session: SessionDep,
    temporal: TemporalDep,
    application_id: uuid.UUID,
    status: int = 200,
    error: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    code_sent: AcceptanceCodeSent | None = None,
) -> Response:
    user = applicant(ctx)
    row, _, institution, product = await applications.named_application(
        session, user, application_id
    )
    progress = await _progress(session, temporal, user, row)
    loan = await loans.loan_for(session, user, progress.loan_id) if progress.loan_id else None
    paid = (
        Disbursement(loan.principal, mask_bank_account(loan.account), loan.disbursed_at)
        if loan is not None and loan.disbursed_at is not None
        else None
    )
    stage = progress.stage
    asked = progress.missing_materials if stage == "materials_requested" else []
    return render(
        ctx,
        "application.html",
        status,
        app=row,
        institution=institution,
        product=product,
        progress=progress,
        stage=stage,
        steps=timeline(
            stage,
            bool(row.offer),
            {
                "submitted": row.created_at,
                "accepted": loan.accepted_at if loan else None,
                "disbursed": loan.disbursed_at if loan else None,
            },
        ),
        loan=loan,
        paid=paid,
        preview=schedule_preview(progress.offer) if stage in OFFER_STAGES else None,
        files=(files := await materials.application_materials(session, user, application_id)),
        checklist=materials_checklist(asked, files, only=asked),
        max_material_mb=MAX_MATERIAL_BYTES // (1024 * 1024),
        offer_pending=stage in OFFER_STAGES,
        letter_ready=await _letter_ready(session, user, application_id),
        may_withdraw=stage in WITHDRAWABLE,
        code_sent=code_sent,
        unread=await unread_notices(ctx, session),
        error=error,
        errors=errors or {},
        values=values or {},
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/applications/{application_id}")
async def application_page(
    application_id: str, ctx: Web, session: SessionDep, temporal: TemporalDep
) -> Response:
    """The application: its stage on a timeline, what to do next and the forms to do it."""
    return await _application_page(ctx, session, temporal, record_id(application_id))


async def _own_application(ctx: WebContext, session: SessionDep, application_id: str) -> uuid.UUID:
    """The id of an application of the caller's enterprise (404 for anything else), checked
    before its form is read."""
    ident = record_id(application_id)
    await applications.named_application(session, applicant(ctx), ident)
    return ident


async def _act(
    ctx: WebContext,
    session: SessionDep,
    temporal: TemporalDep,
    application_id: str,
    done: str,
    action: Callable[[uuid.UUID], Awaitable[object]],
    kept: dict[str, str] | None = None,
    refused_files: dict[str, str] | None = None,
) -> Response:
    """One of the owner's actions on an application of their enterprise (checked before its
    form is used): back to the application's page saying it is ``done``, or the page again
    with the refusal and each field's problem beside it (``kept``: the values typed that are
    shown again — never a code or an account; ``refused_files``: the files refused on upload,
    which stop the action)."""
    ident = await _own_application(ctx, session, application_id)
    errors, message, status = dict(refused_files or {}), ctx.t("error.fields"), 422
    if not errors:
        try:
            await action(ident)
        except ValidationError as exc:
            errors = field_messages(ctx, field_issues(exc.errors()))
        except Refusal as exc:
            errors = field_messages(ctx, exc.fields)
            message, status = ctx.refused(exc), exc.status
        else:
            return redirect(ctx, f"{PORTAL.prefix}/applications/{ident}?done={done}")
    return await _application_page(
        ctx, session, temporal, ident, status, message, _material_errors(errors), kept
    )


@router.post("/applications/{application_id}/information")
async def provide_information(
    application_id: str,
    ctx: Web,
    form: Form,
    session: SessionDep,
    temporal: TemporalDep,
    app: ContextDep,
) -> Response:
    """Answer the officer's question and/or provide the materials asked for (the files stored
    on the application first, then named in the answer)."""
    ident = await _own_application(ctx, session, application_id)
    answer = text(form, "answer", 4000)
    posted = await posted_materials(ctx, session, app.document_store(), form, ident)

    async def provide(ident: uuid.UUID) -> object:
        body = InformationIn.model_validate({"answer": answer, "material_ids": posted.ids})
        return await applications.provide_information(
            session, temporal, applicant(ctx), ident, body
        )

    kept = {"answer": answer}
    return await _act(
        ctx, session, temporal, application_id, "answered", provide, kept, posted.errors
    )


@router.post("/applications/{application_id}/acceptance-code")
async def acceptance_code(
    application_id: str, ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Have the signing code texted to the legal representative; the page says where to."""
    ident = await _own_application(ctx, session, application_id)
    try:
        sent = await applications.request_acceptance_code(session, temporal, applicant(ctx), ident)
    except Refusal as exc:
        return await _application_page(ctx, session, temporal, ident, exc.status, ctx.refused(exc))
    return await _application_page(ctx, session, temporal, ident, code_sent=sent)


@router.post("/applications/{application_id}/acceptance")
async def accept_offer(
    application_id: str,
    ctx: Web,
    form: Form,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Accept the offer letter shown, signed with the legal representative's name and code."""
    values = _form_values(form, ACCEPT_FIELDS)
    body = {
        "signer_name": values["signer_name"],
        "code": text(form, "code", 12),
        "account": "".join(values["account"].split()),
        "document_sha256": text(form, "document_sha256", 64) or None,
    }

    async def accept(ident: uuid.UUID) -> object:
        parsed = AcceptanceIn.model_validate(body)
        return await applications.accept_offer(
            session, temporal, settings, applicant(ctx), ident, parsed
        )

    kept = {"signer_name": values["signer_name"]}
    return await _act(ctx, session, temporal, application_id, "accepted", accept, kept)


@router.post("/applications/{application_id}/refusal")
async def refuse_offer(
    application_id: str, ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Turn the offer or counter-offer down; the application ends."""
    reason = text(form, "reason", 1000)

    async def refuse(ident: uuid.UUID) -> object:
        body = RefusalIn.model_validate({"reason": reason})
        return await applications.refuse_offer(session, temporal, applicant(ctx), ident, body)

    kept = {"reason": reason}
    return await _act(ctx, session, temporal, application_id, "refused", refuse, kept)


@router.post("/applications/{application_id}/withdraw")
async def withdraw_application(
    application_id: str, ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Withdraw the application before the money moves."""

    async def withdraw(ident: uuid.UUID) -> object:
        return await applications.withdraw(session, temporal, applicant(ctx), ident)

    return await _act(ctx, session, temporal, application_id, "withdrawn", withdraw)


@router.get("/materials/{material_id}")
async def material_file(
    material_id: str, ctx: Web, session: SessionDep, app: ContextDep
) -> Response:
    """One of the enterprise's material files, downloaded as it was uploaded (another's: 404).
    Never shown inline here: the file is the owner's own upload, kept away from our pages."""
    try:
        row = await materials.readable(session, applicant(ctx), record_id(material_id))
    except Refusal as exc:
        raise PageError(404, "error.not_found") from exc
    return Response(
        app.document_store().get(row.sha256),
        media_type=row.content_type,
        headers={
            "Content-Disposition": materials.content_disposition(row, inline=False),
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.get("/applications/{application_id}/offer-letter.pdf")
async def offer_letter(
    application_id: str, ctx: Web, session: SessionDep, app: ContextDep, download: str = ""
) -> Response:
    """The offer letter issued last, shown in the page or downloaded (``download=1``)."""
    user = applicant(ctx)
    document = await applications.document(session, user, record_id(application_id), "offer_letter")
    content = app.document_store().get(document.sha256)
    return pdf_response(content, "offer-letter.pdf", download=download == "1")
