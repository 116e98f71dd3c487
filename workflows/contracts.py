"""Inputs, outputs, task queues and search attributes shared by workflows and callers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import SearchAttributeKey


class TaskQueue(StrEnum):
    """Task queue names (prefixed per deployment by ``Settings.task_queue``)."""

    PLATFORM = "platform"


class WorkflowType(StrEnum):
    """Registered workflow type names, so callers need not import workflow code."""

    INSTITUTION_ONBOARDING = "InstitutionOnboardingWorkflow"
    ENTERPRISE_ONBOARDING = "EnterpriseOnboardingWorkflow"
    FINANCING_DEMAND = "FinancingDemandWorkflow"
    POLICY_PUSH = "PolicyPushWorkflow"
    LOAN_APPLICATION = "LoanApplicationWorkflow"


class Contract(BaseModel):
    """Base of every workflow/activity payload: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# Custom search attributes: business status only, never personal data.
STAGE = SearchAttributeKey.for_keyword("LoanBridgeStage")
STATUS = SearchAttributeKey.for_keyword("LoanBridgeStatus")
INSTITUTION = SearchAttributeKey.for_keyword("LoanBridgeInstitution")
ENTERPRISE = SearchAttributeKey.for_keyword("LoanBridgeEnterprise")
NEXT_DUE = SearchAttributeKey.for_datetime("LoanBridgeNextDue")

SEARCH_ATTRIBUTES = (STAGE, STATUS, INSTITUTION, ENTERPRISE, NEXT_DUE)


class InstitutionOnboardingInput(Contract):
    """A platform admin's request to onboard a lending institution."""

    code: str
    name: str
    kind: str
    requested_by: uuid.UUID


class InstitutionRecord(Contract):
    """The institution as written to PostgreSQL."""

    id: uuid.UUID
    code: str
    name: str
    kind: str
    status: str
    decision_hash: str


def institution_workflow_id(code: str) -> str:
    """Business id of the onboarding workflow of one institution."""
    return f"institution-{code}"


# ---- enterprise onboarding (registration → OTP → documents → verification) ---------------


# Associated data under which the API seals personal fields for the workflow's input.
SEALED_ID_NUMBER = "registration.id_number"
SEALED_MOBILE = "registration.mobile"


def enterprise_workflow_id(enterprise_id: uuid.UUID) -> str:
    """Business id of one enterprise's onboarding workflow."""
    return f"enterprise-{enterprise_id}"


class RegistrationInput(Contract):
    """A registration form. Personal data arrives sealed (FieldCipher tokens), never in clear,
    and the password only as its argon2id hash."""

    enterprise_id: uuid.UUID
    user_id: uuid.UUID
    username: str
    password_hash: str
    enterprise_name: str
    uscc: str
    registered_capital: Decimal
    founding_date: date
    business_scope: str
    industry: str
    region: str
    legal_rep_name: str
    sealed_id_number: str
    sealed_mobile: str
    email: str | None = None


class RegistrationAck(Contract):
    """Answer of the registration Update: recorded, and where the code went (masked)."""

    enterprise_id: uuid.UUID
    stage: str
    otp_sent_to: str


class OtpChallengeRef(Contract):
    challenge_id: uuid.UUID
    masked_mobile: str


class OtpCheck(Contract):
    challenge_id: uuid.UUID
    code: str


class ConfirmOtp(Contract):
    code: str


class EnterpriseRef(Contract):
    enterprise_id: uuid.UUID


class AttachDocument(Contract):
    """An uploaded material (bytes already in the document store under sha256)."""

    kind: str
    sha256: str
    content_type: str
    size_bytes: int


class DocumentRecord(Contract):
    enterprise_id: uuid.UUID
    kind: str
    sha256: str
    content_type: str
    size_bytes: int


class IdentityCheckResult(Contract):
    result: str  # MATCH, MISMATCH, NOT_FOUND, INCONCLUSIVE


class RegistryCheckResult(Contract):
    found: bool
    status: str | None = None
    name: str | None = None
    legal_representative: str | None = None


class StageChange(Contract):
    enterprise_id: uuid.UUID
    stage: str
    reason: str = ""
    actor: str = "system"
    decision: dict[str, str] | None = None  # logged to the decision log when present


class OpenTask(Contract):
    kind: str
    subject: str
    required_role: str
    due_at: datetime | None
    context: dict[str, str]
    institution_id: uuid.UUID | None = None


class TaskRef(Contract):
    task_id: uuid.UUID


class CloseTask(Contract):
    task_id: uuid.UUID
    outcome: str
    assignee_id: uuid.UUID | None = None


class ReviewDecision(Contract):
    """A platform reviewer's decision on an inconclusive verification (validated Update)."""

    task_id: uuid.UUID
    approve: bool
    reason: str = ""
    reviewer_id: uuid.UUID
    reviewer_role: str


class NotifyEnterprise(Contract):
    enterprise_id: uuid.UUID
    template: str
    context: dict[str, str | list[str]]


class OnboardingProgress(Contract):
    """Live state of an onboarding, answered by the workflow's query."""

    enterprise_id: uuid.UUID | None
    stage: str
    reason: str = ""
    missing_documents: list[str] = Field(default_factory=list)
    otp_expires_at: datetime | None = None
    review_task_id: uuid.UUID | None = None


# ---- financing demand (post → match → institutions respond → applicant selects) -----------


def demand_workflow_id(demand_id: uuid.UUID) -> str:
    """Business id of one financing demand's workflow."""
    return f"demand-{demand_id}"


class DemandInput(Contract):
    """A posted financing demand (融资需求)."""

    demand_id: uuid.UUID
    enterprise_id: uuid.UUID
    amount: Decimal
    term_months: int
    purpose: str
    financing_type: str
    repayment_method: str | None = None


class DemandRef(Contract):
    demand_id: uuid.UUID


class InstitutionSlot(Contract):
    """An institution the demand is published to, with its answer deadline."""

    institution_id: uuid.UUID
    sla_hours: int
    product_ids: list[uuid.UUID]


class MatchSummary(Contract):
    eligible_products: int
    institutions: list[InstitutionSlot]


class PublishDemand(Contract):
    demand_id: uuid.UUID
    institution_id: uuid.UUID
    due_at: datetime


class InstitutionAnswer(Contract):
    """An officer's answer to a published demand (validated Update)."""

    institution_id: uuid.UUID
    responder_id: uuid.UUID
    responder_role: str
    interested: bool
    indicative_rate: Decimal | None = None
    indicative_amount: Decimal | None = None
    reason: str = ""


class RecordAnswer(Contract):
    demand_id: uuid.UUID
    answer: InstitutionAnswer


class LapseResponse(Contract):
    demand_id: uuid.UUID
    institution_id: uuid.UUID
    status: str  # reminded, lapsed, cancelled


class ProductSelection(Contract):
    product_ids: list[uuid.UUID]


class RecordSelection(Contract):
    demand_id: uuid.UUID
    product_ids: list[uuid.UUID]


class DemandStage(Contract):
    demand_id: uuid.UUID
    stage: str


class InstitutionState(Contract):
    institution_id: uuid.UUID
    status: str  # pending, reminded, interested, declined, lapsed, cancelled
    due_at: datetime


class DemandProgress(Contract):
    """Live state of a demand, answered by the workflow's query."""

    demand_id: uuid.UUID | None
    stage: str
    eligible_products: int = 0
    institutions: list[InstitutionState] = Field(default_factory=list)
    selected_product_ids: list[uuid.UUID] = Field(default_factory=list)


# ---- support policy push ---------------------------------------------------------------


class PolicyRef(Contract):
    policy_id: uuid.UUID


class PolicyPushResult(Contract):
    enterprises_checked: int
    enterprises_notified: int


# ---- loan application (submit → assess → decide → offer → accept → disburse) ---------------


def application_workflow_id(application_id: uuid.UUID) -> str:
    """Business id of one loan application's workflow."""
    return f"application-{application_id}"


SEALED_ACCOUNT = "acceptance.account"


class ApplicationInput(Contract):
    """An applicant's application for one product version (贷款申请)."""

    application_id: uuid.UUID
    enterprise_id: uuid.UUID
    product_id: uuid.UUID
    product_version: int
    institution_id: uuid.UUID
    amount: Decimal
    term_months: int
    repayment_method: str
    demand_id: uuid.UUID | None = None


class ApplicationRef(Contract):
    application_id: uuid.UUID


class Assessment(Contract):
    """Bureau, tax and registry data scored and decided (recorded by the activity)."""

    decision: str  # auto_decline, auto_approve, refer
    reasons: list[str]
    score: int
    pd: Decimal
    grade: str
    reason_codes: list[str]
    model_version: str
    proposed_amount: Decimal | None
    proposed_rate: Decimal | None
    proposed_term_months: int | None
    authority: str  # officer, supervisor, four_eyes


class CreditDecision(Contract):
    """An officer's decision on a referred application (validated Update)."""

    approve: bool
    reason: str = ""
    decider_id: uuid.UUID
    decider_role: str
    decider_institution_id: uuid.UUID | None
    amount: Decimal | None = None
    rate: Decimal | None = None


class OfferTerms(Contract):
    application_id: uuid.UUID
    amount: Decimal
    rate: Decimal
    term_months: int
    repayment_method: str
    expires_at: datetime


class Acceptance(Contract):
    """The applicant accepts the offer: typed name, and the account to pay into (sealed)."""

    accepted_by: uuid.UUID
    typed_name: str
    sealed_account: str


class RecordAcceptance(Contract):
    application_id: uuid.UUID
    acceptance: Acceptance


class DisbursementResult(Contract):
    loan_id: uuid.UUID
    idempotency_key: str
    status: str  # SUCCEEDED, FAILED
    failure_code: str | None = None
    journal_key: str | None = None


class ApplicationStage(Contract):
    application_id: uuid.UUID
    stage: str
    reason: str = ""
    actor: str = "system"
    decision: dict[str, str] | None = None


class ApplicationProgress(Contract):
    application_id: uuid.UUID | None
    stage: str
    reason: str = ""
    assessment: Assessment | None = None
    offer: OfferTerms | None = None
    approvals: int = 0
    loan_id: uuid.UUID | None = None
