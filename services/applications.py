"""Loan applications as the parties see them: who may read one, submitting one within the
product's current terms (verified enterprises), following it, and accepting, refusing,
withdrawing and answering for information through the application workflow's Updates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from config.crypto import FieldCipher
from config.settings import Settings
from db.models import (
    CaseMaterial,
    DemandResponse,
    Enterprise,
    FinancingDemand,
    Institution,
    Loan,
    LoanApplication,
    LoanDocument,
    LoanProduct,
)
from db.repositories import (
    EnterpriseRepository,
    latest_lpr,
    open_application,
    product_version,
)
from domain.calendar import business_today
from domain.errors import BusinessRuleError, issue
from domain.identity_codes import mask_bank_account
from domain.labels import Vocabulary, label
from domain.origination import (
    TermBounds,
    check_requested_terms,
    purpose_key,
    required_materials,
    term_bounds,
)
from domain.product_codec import terms_from_json
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from domain.schedule import RepaymentMethod
from services import materials
from services.cases import latest_issued
from services.errors import Refusal, not_found
from services.inputs import TWO_VISIBLE, Money, Schema
from services.materials import MAX_MATERIALS
from services.principal import Principal, require_role, sees_case
from services.sessions import has_row, release_connection
from services.workflow_errors import refusal, run_query, run_update, submit_once
from workflows.contracts import (
    APPLICATION_ALREADY_OPEN,
    SEALED_ACCOUNT,
    Acceptance,
    AcceptanceCodeRequest,
    AcceptanceCodeSent,
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


class ApplicationIn(Schema):
    product_id: uuid.UUID
    amount: Money
    term_months: int = Field(ge=1, le=600)
    repayment_method: RepaymentMethod
    demand_id: uuid.UUID | None = None
    material_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MATERIALS)
    """Material files uploaded ahead (``POST /api/v1/materials``): the checklist counts their
    kinds, and those of the files on the answered demand."""
    purpose: str = Field(
        default="",
        max_length=200,
        description="The financing purpose (融资用途); omitted, the answered demand's purpose. "
        "One application per enterprise, product and purpose is open at a time "
        "(application.already_open)",
    )


class InformationIn(Schema):
    """Missing materials, or the answer to the credit officer's question."""

    answer: str = Field(default="", max_length=2000)
    material_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MATERIALS)
    """Files uploaded to the application (``POST .../materials``) or ahead: the materials
    provided are their kinds."""


class RefusalIn(Schema):
    reason: str = Field(default="", max_length=500)


class AcceptanceIn(Schema):
    """The signature of an offer: the legal representative's name as typed, the code texted
    to their registered mobile (``POST .../acceptance-code``), the letter read and the account
    to pay into."""

    signer_name: str = Field(
        min_length=2,
        max_length=100,
        json_schema_extra={"pattern": TWO_VISIBLE},
        description="The legal representative's name as registered (spaces and full-width "
        "characters do not matter; checked: signer.name_mismatch)",
    )
    code: str = Field(
        pattern=r"^[0-9]{6}$",
        description="The 6-digit code texted to the legal representative's registered mobile "
        "(signer.code_wrong, signer.code_expired, signer.code_void)",
        repr=False,
    )
    account: str = Field(min_length=8, max_length=34, pattern=r"^[0-9]+$", repr=False)
    document_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    """SHA-256 of the offer letter read; omitted, the letter issued last is the one accepted."""


# An application with the names people know it by: enterprise, institution, product.
NamedApplication = tuple[LoanApplication, str, str, str]


async def application_for(
    session: AsyncSession, user: Principal, application_id: uuid.UUID
) -> LoanApplication:
    """The application if the caller may see it (404 otherwise); the connection is released,
    as a workflow call usually follows."""
    row = await session.get(LoanApplication, application_id)
    if row is None or not sees_case(user, row.enterprise_id, row.institution_id):
        raise not_found()
    await release_connection(session)
    return row


def _named() -> Select[LoanApplication, str, str, str]:
    """Applications with the names people know them by: enterprise, institution, product."""
    return (
        select(LoanApplication, Enterprise.name, Institution.name, LoanProduct.name)
        .join(Enterprise, Enterprise.id == LoanApplication.enterprise_id)
        .join(Institution, Institution.id == LoanApplication.institution_id)
        .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
    )


async def _named_rows(
    session: AsyncSession, stmt: Select[LoanApplication, str, str, str]
) -> list[NamedApplication]:
    return [(row, e, i, p) for row, e, i, p in await session.execute(stmt)]


async def visible_applications(
    session: AsyncSession, user: Principal, *, limit: int, offset: int = 0
) -> list[NamedApplication]:
    """Applicants: their applications. Staff: their institution's. Platform-wide readers:
    all. Newest first, named."""
    stmt = _named().order_by(LoanApplication.created_at.desc())
    if user.role is Role.APPLICANT:
        stmt = stmt.where(LoanApplication.enterprise_id == user.enterprise_id)
    elif user.role in INSTITUTION_ROLES:
        stmt = stmt.where(LoanApplication.institution_id == user.institution_id)
    elif user.role not in PLATFORM_WIDE_READERS:
        raise Refusal(403, "auth.role_not_allowed", "当前角色无权查看", "Not allowed")
    return await _named_rows(session, stmt.limit(limit).offset(offset))


async def _named_application(session: AsyncSession, application_id: uuid.UUID) -> NamedApplication:
    found = await _named_rows(session, _named().where(LoanApplication.id == application_id))
    if not found:
        raise not_found()
    return found[0]


async def named_application(
    session: AsyncSession, user: Principal, application_id: uuid.UUID
) -> NamedApplication:
    """One application the caller may see, named (404 otherwise)."""
    found = await _named_application(session, application_id)
    if not sees_case(user, found[0].enterprise_id, found[0].institution_id):
        raise not_found()
    return found


@dataclass(frozen=True, slots=True)
class Submittable:
    """What an application is checked against before it is submitted: the verified
    enterprise, the active product at its current version, the bounds its terms allow today,
    the materials required and the lender's staff member who answered the demand (if any)."""

    enterprise_id: uuid.UUID
    product: LoanProduct
    bounds: TermBounds
    required_materials: list[str]
    maker_id: uuid.UUID | None
    purpose: str = ""
    """The financing purpose as compared (``domain.origination.purpose_key``)."""


async def submittable(session: AsyncSession, user: Principal, body: ApplicationIn) -> Submittable:
    """The caller's enterprise, once it is verified and the application keeps within what the
    product's current version offers."""
    require_role(user, Role.APPLICANT)
    assert user.enterprise_id is not None
    enterprise = await EnterpriseRepository(session).get(user.enterprise_id)
    if enterprise is None or enterprise.status != "verified":
        raise Refusal(
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
        raise Refusal(503, "lpr.missing", "尚未发布 LPR", "No LPR has been published") from exc
    issues = check_requested_terms(
        bounds, body.amount, body.term_months, body.repayment_method.value
    )
    if issues:
        raise Refusal(
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
    return Submittable(
        enterprise.id,
        product,
        bounds,
        [m.value for m in required_materials(terms, body.amount)],
        maker_id,
        await _purpose(session, enterprise.id, body),
    )


async def _purpose(session: AsyncSession, enterprise_id: uuid.UUID, body: ApplicationIn) -> str:
    """The purpose the application is for: the one stated, else that of the enterprise's
    demand it answers, else none (the product's general use); normalised for comparison."""
    stated = body.purpose
    if not stated.strip() and body.demand_id is not None:
        stated = (
            await session.scalar(
                select(FinancingDemand.purpose).where(
                    FinancingDemand.id == body.demand_id,
                    FinancingDemand.enterprise_id == enterprise_id,
                )
            )
            or ""
        )
    return purpose_key(stated)


async def exists(session: AsyncSession, application_id: uuid.UUID) -> bool:
    """Whether an application with this id is recorded."""
    return await has_row(session, LoanApplication.id, application_id)


async def submit(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    checked: Submittable,
    application_id: uuid.UUID,
    body: ApplicationIn,
) -> NamedApplication:
    """Start the application workflow (once per id: the same id again finds the first),
    naming ``user`` as its submitter; the application as recorded, named. Another open
    application of the enterprise for the product and purpose refuses it: 409
    ``application.already_open`` with that one's id in the details."""
    require_role(user, Role.APPLICANT)
    product = checked.product
    # One open application per enterprise, product and purpose: checked here for a quick
    # answer, enforced by record_application's unique index for concurrent submissions. A
    # repeat of a recorded submission (same idempotency key) is answered as before.
    repeated = await exists(session, application_id)
    if not repeated:
        open_id = await open_application(
            session, checked.enterprise_id, product.id, checked.purpose, besides=application_id
        )
        if open_id is not None:
            raise refusal(APPLICATION_ALREADY_OPEN, open_id)
    files = await materials.to_attach(
        session, user, body.material_ids, application_id=application_id
    )
    demand_files = await _demand_files(session, checked.enterprise_id, body.demand_id)
    application = ApplicationInput(
        application_id=application_id,
        enterprise_id=checked.enterprise_id,
        product_id=product.id,
        product_version=product.current_version,
        institution_id=product.institution_id,
        amount=body.amount,
        term_months=body.term_months,
        repayment_method=body.repayment_method.value,
        demand_id=body.demand_id,
        bounds=checked.bounds,
        required_materials=checked.required_materials,
        # The checklist counts files only: the kinds of those attached.
        materials=materials.kinds([*demand_files, *files]),
        maker_id=checked.maker_id,
        submitted_by=user.user_id,
        submitter_role=user.role.value,
        purpose=checked.purpose,
    )
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
    submitted = await submit_once(temporal, start, "submission", ApplicationProgress)
    if submitted is not None and submitted.open_application_id is not None:
        # Recorded meanwhile by a concurrent submission: the unique index refused this one.
        raise refusal(APPLICATION_ALREADY_OPEN, submitted.open_application_id)
    if not repeated:  # a repeat's files (the same, uploaded again) stay unattached
        await materials.attach(session, files, application_id)
    return await _named_application(session, application_id)


async def _demand_files(
    session: AsyncSession, enterprise_id: uuid.UUID, demand_id: uuid.UUID | None
) -> list[CaseMaterial]:
    """The files on the enterprise's demand an application answers (none without one)."""
    if demand_id is None:
        return []
    demand = await session.get(FinancingDemand, demand_id)
    if demand is None or demand.enterprise_id != enterprise_id:
        return []
    return await materials.demand_materials(session, demand)


async def _update(
    temporal: Client,
    row: LoanApplication,
    name: str,
    *args: object,
    update_id: str | None = None,
) -> ApplicationProgress:
    """Run one of the application workflow's Updates; an application whose process has ended
    says where it ended."""
    return await run_update(
        temporal,
        application_workflow_id(row.id),
        name,
        *args,
        result_type=ApplicationProgress,
        update_id=update_id,
        ended=_ended(row),
    )


def _ended(row: LoanApplication) -> Refusal:
    """The refusal of an Update on an application whose process has ended: where it ended."""
    zh, en = (label(Vocabulary.APPLICATION_STAGE, row.status, lang) for lang in ("zh", "en"))
    return Refusal(
        409,
        "process.finished",
        f"该申请已结束（{zh}），不能再办理此操作",
        f"The application is over ({en}): nothing more can be done on it",
    )


async def progress(
    session: AsyncSession, temporal: Client, user: Principal, application_id: uuid.UUID
) -> ApplicationProgress:
    """The application workflow's live state."""
    await application_for(session, user, application_id)
    return await run_query(
        temporal, application_workflow_id(application_id), "progress", ApplicationProgress
    )


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted offer: the application's stage, the loan made, the account paid into
    (masked) and whether this answers an acceptance made before."""

    stage: str
    loan_id: uuid.UUID | None
    account: str
    replayed: bool = False


async def request_acceptance_code(
    session: AsyncSession, temporal: Client, user: Principal, application_id: uuid.UUID
) -> AcceptanceCodeSent:
    """Text a one-time code to the legal representative's registered mobile to sign the offer
    letter issued last (any code before is void); where it went (masked) and until when."""
    require_role(user, Role.APPLICANT)
    row = await application_for(session, user, application_id)
    return await run_update(
        temporal,
        application_workflow_id(row.id),
        "request_acceptance_code",
        AcceptanceCodeRequest(requested_by=user.user_id, role=user.role.value),
        result_type=AcceptanceCodeSent,
        ended=_ended(row),
    )


async def accept_offer(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    application_id: uuid.UUID,
    body: AcceptanceIn,
) -> Accepted:
    """Accept the offer, signed by the legal representative (typed name and the code texted
    to them), and name the account to pay into; disbursement follows. A wrong name or code is
    refused on its field and nothing is paid. Accepting again with the same letter and account
    answers the first acceptance; with another letter or account it is refused."""
    require_role(user, Role.APPLICANT)
    row = await application_for(session, user, application_id)
    accepted = await session.scalar(select(Loan).where(Loan.application_id == application_id))
    if accepted is not None:
        return _accepted_before(accepted, row, body)
    cipher = FieldCipher.from_settings(settings)
    sealed = cipher.encrypt(body.account, context=SEALED_ACCOUNT)
    document = body.document_sha256 or str(row.offer.get("document_sha256", ""))
    # One Update id per signature: the same one repeated is answered once, another (a
    # corrected name or code after a refusal) is a new attempt.
    signature = cipher.lookup_hash(
        f"{document}:{body.signer_name}:{body.code}:{body.account}", purpose="acceptance"
    )
    progress = await _update(
        temporal,
        row,
        "accept_offer",
        Acceptance(
            accepted_by=user.user_id,
            typed_name=body.signer_name,
            sealed_account=sealed,
            document_sha256=document,
            role=user.role.value,
            code=body.code,
        ),
        update_id=f"accept-{application_id}-{signature[:16]}",
    )
    return Accepted(progress.stage, progress.loan_id, mask_bank_account(body.account))


def _accepted_before(loan: Loan, row: LoanApplication, body: AcceptanceIn) -> Accepted:
    """The answer to an acceptance repeated after the loan was made: the first one's."""
    same_letter = body.document_sha256 in (None, loan.offer_sha256)
    if not same_letter or "".join(body.account.split()) != "".join(loan.account.split()):
        masked = mask_bank_account(loan.account)
        raise Refusal(
            409,
            "offer.already_accepted",
            f"该要约已被接受（收款账号 {masked}），不能再以其他要约函或账号接受",
            f"This offer was already accepted (paying into {masked}); it cannot be accepted "
            "again with another letter or account",
        )
    return Accepted(row.status, loan.id, mask_bank_account(loan.account), replayed=True)


async def _applicant_update(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    application_id: uuid.UUID,
    name: str,
    arg: object,
    update_id: str | None = None,
) -> ApplicationProgress:
    """Run one of the Updates an applicant makes on an application of their enterprise."""
    require_role(user, Role.APPLICANT)
    row = await application_for(session, user, application_id)
    return await _update(temporal, row, name, arg, update_id=update_id)


async def withdraw(
    session: AsyncSession, temporal: Client, user: Principal, application_id: uuid.UUID
) -> ApplicationProgress:
    """Withdraw before the money moves; open tasks are cancelled. The decision log names who."""
    withdrawal = Withdrawal(withdrawn_by=user.user_id, role=user.role.value)
    return await _applicant_update(
        session,
        temporal,
        user,
        application_id,
        "withdraw",
        withdrawal,
        update_id=f"withdraw-{application_id}",
    )


async def provide_information(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    application_id: uuid.UUID,
    body: InformationIn,
) -> ApplicationProgress:
    """Provide the materials asked for (files uploaded to the application or ahead: the
    workflow is told their kinds), or answer the credit officer's question."""
    require_role(user, Role.APPLICANT)
    row = await application_for(session, user, application_id)
    files = await materials.to_attach(session, user, body.material_ids, application_id=row.id)
    await release_connection(session)
    answer = InformationAnswer(
        answered_by=user.user_id,
        role=user.role.value,
        answer=body.answer,
        materials=materials.kinds(files),
    )
    progress = await _update(temporal, row, "provide_information", answer)
    await materials.attach(session, files, row.id)
    return progress


async def refuse_offer(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    application_id: uuid.UUID,
    body: RefusalIn,
) -> ApplicationProgress:
    """Turn the offer or counter-offer down; the application ends."""
    refusal = OfferRefusal(refused_by=user.user_id, reason=body.reason, role=user.role.value)
    return await _applicant_update(
        session,
        temporal,
        user,
        application_id,
        "refuse_offer",
        refusal,
        update_id=f"refuse-{application_id}",
    )


async def document(
    session: AsyncSession, user: Principal, application_id: uuid.UUID, kind: str
) -> LoanDocument:
    """The latest offer letter or the contract as issued; 404 saying when it comes while it
    is not issued."""
    await application_for(session, user, application_id)
    return await latest_issued(session, kind, LoanDocument.application_id == application_id)


async def offer_sha256(session: AsyncSession, user: Principal, application_id: uuid.UUID) -> str:
    """The hash an acceptance of the current offer binds to: the digest of its terms (which
    its letter prints) since offer-terms-v1, the hash of the letter's bytes before; empty
    while there is no offer."""
    row = await application_for(session, user, application_id)
    return str((row.offer or {}).get("document_sha256", ""))
