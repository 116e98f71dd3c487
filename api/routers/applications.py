"""Loan applications: submit, follow, accept the offer, withdraw; officers decide via tasks."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import Field
from sqlalchemy import Select, select
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import ApiError, not_issued
from api.idempotency import bind_idempotency_key, mark_replayed
from api.schemas import AcceptanceOut, ApplicationOut, Schema, from_row
from config.crypto import FieldCipher
from db.models import (
    DemandResponse,
    Enterprise,
    Institution,
    Loan,
    LoanApplication,
    LoanDocument,
    LoanProduct,
)
from db.repositories import EnterpriseRepository, latest_lpr, product_version
from domain.calendar import business_today
from domain.errors import BusinessRuleError, issue
from domain.identity_codes import mask_bank_account
from domain.labels import Vocabulary, label
from domain.origination import Material, check_requested_terms, required_materials, term_bounds
from domain.product_codec import terms_from_json
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from domain.schedule import RepaymentMethod
from gateway.deps import (
    ContextDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    release_connection,
    require_roles,
)
from services.inputs import TWO_VISIBLE, Money, ServerRule, server_rules
from services.principal import Principal
from services.workflow_errors import refusal_from_workflow, run_query, run_update, settle_start
from workflows.contracts import (
    SEALED_ACCOUNT,
    Acceptance,
    ApplicationInput,
    ApplicationProgress,
    InformationAnswer,
    OfferRefusal,
    TaskQueue,
    Withdrawal,
    WorkflowType,
    application_workflow_id,
    opening_search_attributes,
)

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]


class ApplicationIn(Schema):
    product_id: uuid.UUID
    amount: Money
    term_months: int = Field(ge=1, le=600)
    repayment_method: RepaymentMethod
    demand_id: uuid.UUID | None = None
    materials: list[Material] = Field(default_factory=list, max_length=10)
    """Kinds of documents already provided (financial statements, bank statements …)."""


class InformationIn(Schema):
    """Missing materials, or the answer to the credit officer's question."""

    answer: str = Field(default="", max_length=2000)
    materials: list[Material] = Field(default_factory=list, max_length=10)


class RefusalIn(Schema):
    reason: str = Field(default="", max_length=500)


class AcceptanceIn(Schema):
    typed_name: str = Field(
        min_length=2,
        max_length=100,
        json_schema_extra={"pattern": TWO_VISIBLE},
        description="The signer's name, at least two characters (checked by the application "
        "workflow: offer.name_required)",
    )
    account: str = Field(min_length=8, max_length=34, pattern=r"^[0-9]+$", repr=False)
    document_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    """SHA-256 of the offer letter read; omitted, the letter issued last is the one accepted."""


async def _application_for(
    session: SessionDep, user: Principal, application_id: uuid.UUID
) -> LoanApplication:
    row = await session.get(LoanApplication, application_id)
    if row is None or not _sees(user, row.enterprise_id, row.institution_id):
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    await release_connection(session)  # a workflow call usually follows
    return row


def _sees(user: Principal, enterprise_id: uuid.UUID, institution_id: uuid.UUID) -> bool:
    """The caller may see an application of this enterprise at this institution."""
    return (
        user.role in PLATFORM_WIDE_READERS
        or user.enterprise_id == enterprise_id
        or (user.role in INSTITUTION_ROLES and user.institution_id == institution_id)
    )


def _named() -> Select[LoanApplication, str, str, str]:
    """Applications with the names people know them by: enterprise, institution, product."""
    return (
        select(LoanApplication, Enterprise.name, Institution.name, LoanProduct.name)
        .join(Enterprise, Enterprise.id == LoanApplication.enterprise_id)
        .join(Institution, Institution.id == LoanApplication.institution_id)
        .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
    )


async def _named_out(
    session: SessionDep, stmt: Select[LoanApplication, str, str, str]
) -> list[ApplicationOut]:
    return [
        from_row(
            ApplicationOut,
            row,
            enterprise_name=enterprise,
            institution_name=institution,
            product_name=product,
        )
        for row, enterprise, institution, product in await session.execute(stmt)
    ]


async def _named_application(session: SessionDep, application_id: uuid.UUID) -> ApplicationOut:
    found = await _named_out(session, _named().where(LoanApplication.id == application_id))
    if not found:
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    return found[0]


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
    assert user.enterprise_id is not None
    enterprise = await EnterpriseRepository(session).get(user.enterprise_id)
    if enterprise is None or enterprise.status != "verified":
        raise ApiError(
            409,
            "enterprise.not_verified",
            "企业认证通过后才能申请贷款",
            "Only verified enterprises can apply",
        )
    product = await session.get(LoanProduct, body.product_id)
    if product is None or product.status != "active":
        raise BusinessRuleError(
            [
                issue(
                    "product_id",
                    "product.unavailable",
                    "产品不存在或已下架",
                    "No such active product",
                )
            ]
        )
    version = await product_version(session, product.id, product.current_version)
    assert version is not None
    terms = terms_from_json(version.terms)
    try:
        bounds = term_bounds(terms, await latest_lpr(session, business_today()))
    except LookupError as exc:
        raise ApiError(503, "lpr.missing", "尚未发布 LPR", "No LPR has been published") from exc
    issues = check_requested_terms(
        bounds, body.amount, body.term_months, body.repayment_method.value
    )
    if issues:
        raise ApiError(
            422, "validation_failed", "申请条件超出产品范围", "Outside the product", issues
        )
    maker_id = None
    if body.demand_id is not None:
        maker_id = await session.scalar(
            select(DemandResponse.responded_by).where(
                DemandResponse.demand_id == body.demand_id,
                DemandResponse.institution_id == product.institution_id,
            )
        )
    await bind_idempotency_key(
        ctx.session_factory,
        scope=f"enterprise:{enterprise.id}:application",
        key=idempotency_key,
        request=body,
    )
    application_id = (
        uuid.uuid5(enterprise.id, f"application:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    application = ApplicationInput(
        application_id=application_id,
        enterprise_id=enterprise.id,
        product_id=product.id,
        product_version=product.current_version,
        institution_id=product.institution_id,
        amount=body.amount,
        term_months=body.term_months,
        repayment_method=body.repayment_method.value,
        demand_id=body.demand_id,
        bounds=bounds,
        required_materials=[m.value for m in required_materials(terms, body.amount)],
        materials=[m.value for m in body.materials],
        maker_id=maker_id,
        submitted_by=user.user_id,
        submitter_role=user.role.value,
    )
    if idempotency_key and await session.scalar(
        select(LoanApplication.id).where(LoanApplication.id == application_id)
    ):
        mark_replayed(response)
    await release_connection(session)
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WorkflowType.LOAN_APPLICATION,
        application,
        id=application_workflow_id(application_id),
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(opening_search_attributes(application)),
    )
    try:
        await temporal.execute_update_with_start_workflow(
            "submission", start_workflow_operation=start, result_type=ApplicationProgress
        )
    except WorkflowAlreadyStartedError:
        await settle_start(start)  # the same key after the application closed
    except Exception as exc:
        raise refusal_from_workflow(exc) from exc
    return await _named_application(session, application_id)


@router.get("", operation_id="list_applications", response_model=list[ApplicationOut])
async def list_applications(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ApplicationOut]:
    """Applicants: their applications. Staff: their institution's. Newest first, named."""
    stmt = _named().order_by(LoanApplication.created_at.desc())
    if user.role is Role.APPLICANT:
        stmt = stmt.where(LoanApplication.enterprise_id == user.enterprise_id)
    elif user.role in INSTITUTION_ROLES:
        stmt = stmt.where(LoanApplication.institution_id == user.institution_id)
    elif user.role not in PLATFORM_WIDE_READERS:
        raise ApiError(403, "auth.role_not_allowed", "当前角色无权查看", "Not allowed")
    return await _named_out(session, stmt.limit(limit).offset(offset))


@router.get("/{application_id}", operation_id="get_application", response_model=ApplicationOut)
async def get_application(
    application_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> ApplicationOut:
    found = await _named_application(session, application_id)
    if not _sees(user, found.enterprise_id, found.institution_id):
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    return found


async def _update(
    temporal: TemporalDep,
    row: LoanApplication,
    name: str,
    *args: object,
    update_id: str | None = None,
) -> ApplicationProgress:
    """Run one of the application workflow's Updates; refusals come back as API errors, an
    application whose process has ended says where it ended."""
    zh, en = (label(Vocabulary.APPLICATION_STAGE, row.status, lang) for lang in ("zh", "en"))
    return await run_update(
        temporal,
        application_workflow_id(row.id),
        name,
        *args,
        result_type=ApplicationProgress,
        update_id=update_id,
        ended=ApiError(
            409,
            "process.finished",
            f"该申请已结束（{zh}），不能再办理此操作",
            f"The application is over ({en}): nothing more can be done on it",
        ),
    )


@router.get(
    "/{application_id}/progress",
    operation_id="application_progress",
    response_model=ApplicationProgress,
)
async def application_progress(
    application_id: uuid.UUID, user: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> ApplicationProgress:
    await _application_for(session, user, application_id)
    return await run_query(
        temporal, application_workflow_id(application_id), "progress", ApplicationProgress
    )


@router.post(
    "/{application_id}/acceptance", operation_id="accept_offer", response_model=AcceptanceOut
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
    """Accept the offer (typed name) and name the account to pay into; disbursement follows.
    Accepting again with the same letter and account answers the first acceptance, marked
    ``Idempotent-Replayed: true``; with another letter or account it is refused."""
    row = await _application_for(session, user, application_id)
    accepted = await session.scalar(select(Loan).where(Loan.application_id == application_id))
    if accepted is not None:
        return _accepted_before(accepted, row, body, response)
    sealed = FieldCipher.from_settings(settings).encrypt(body.account, context=SEALED_ACCOUNT)
    document = body.document_sha256 or str(row.offer.get("document_sha256", ""))
    progress = await _update(
        temporal,
        row,
        "accept_offer",
        Acceptance(
            accepted_by=user.user_id,
            typed_name=body.typed_name,
            sealed_account=sealed,
            document_sha256=document,
            role=user.role.value,
        ),
        update_id=f"accept-{application_id}",
    )
    return AcceptanceOut(
        stage=progress.stage, loan_id=progress.loan_id, account=mask_bank_account(body.account)
    )


def _accepted_before(
    loan: Loan, row: LoanApplication, body: AcceptanceIn, response: Response
) -> AcceptanceOut:
    """The answer to an acceptance repeated after the loan was made: the first one's."""
    same_letter = body.document_sha256 in (None, loan.offer_sha256)
    if not same_letter or "".join(body.account.split()) != "".join(loan.account.split()):
        masked = mask_bank_account(loan.account)
        raise ApiError(
            409,
            "offer.already_accepted",
            f"该要约已被接受（收款账号 {masked}），不能再以其他要约函或账号接受",
            f"This offer was already accepted (paying into {masked}); it cannot be accepted "
            "again with another letter or account",
        )
    mark_replayed(response)
    return AcceptanceOut(stage=row.status, loan_id=loan.id, account=mask_bank_account(loan.account))


@router.post(
    "/{application_id}/withdraw",
    operation_id="withdraw_application",
    response_model=ApplicationProgress,
)
async def withdraw_application(
    application_id: uuid.UUID, user: Applicant, session: SessionDep, temporal: TemporalDep
) -> ApplicationProgress:
    """Withdraw before the money moves; open tasks are cancelled. The decision log names who."""
    row = await _application_for(session, user, application_id)
    return await _update(
        temporal,
        row,
        "withdraw",
        Withdrawal(withdrawn_by=user.user_id, role=user.role.value),
        update_id=f"withdraw-{application_id}",
    )


@router.post(
    "/{application_id}/information",
    operation_id="provide_information",
    response_model=ApplicationProgress,
    # What is asked depends on the case: the materials missing, or the officer's question.
    openapi_extra=server_rules(
        ServerRule("materials", "information.still_missing", "one of the materials asked for"),
        ServerRule("answer", "information.answer_required", "an answer or materials"),
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
    row = await _application_for(session, user, application_id)
    return await _update(
        temporal,
        row,
        "provide_information",
        InformationAnswer(
            answered_by=user.user_id,
            role=user.role.value,
            answer=body.answer,
            materials=[m.value for m in body.materials],
        ),
    )


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
    row = await _application_for(session, user, application_id)
    return await _update(
        temporal,
        row,
        "refuse_offer",
        OfferRefusal(refused_by=user.user_id, reason=body.reason, role=user.role.value),
        update_id=f"refuse-{application_id}",
    )


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
    """The latest offer letter or the contract as issued (PDF); its SHA-256 in a header."""
    await _application_for(session, user, application_id)
    document = await session.scalar(
        select(LoanDocument)
        .where(LoanDocument.application_id == application_id, LoanDocument.kind == kind)
        .order_by(LoanDocument.created_at.desc())
        .limit(1)
    )
    if document is None:
        raise not_issued(kind)
    pdf = ctx.document_store().get(document.sha256)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "X-Document-SHA256": document.sha256,
            "Content-Disposition": f'inline; filename="{kind}-{application_id}.pdf"',
        },
    )
