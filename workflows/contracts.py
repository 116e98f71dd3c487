"""Inputs, outputs, task queues and search attributes shared by workflows and callers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import SearchAttributeKey, SearchAttributePair

from domain.origination import TermBounds, missing_materials
from domain.schedule import PrepaymentStrategy
from domain.servicing import Allocation, LoanAccount


class TaskQueue(StrEnum):
    """Task queue names (prefixed per deployment by ``Settings.task_queue``)."""

    PLATFORM = "platform"
    DOCUMENTS = "documents"
    """PDF documents: their own queue, so letters waiting for a renderer never hold the
    platform worker's activity slots (decisions and notifications would queue behind them)."""


def documents_queue(platform_queue: str) -> str:
    """The documents queue that goes with a platform queue (``<prefix>-platform`` →
    ``<prefix>-platform-documents``): workflows derive it from the queue they run on."""
    return f"{platform_queue}-{TaskQueue.DOCUMENTS.value}"


class WorkflowType(StrEnum):
    """Registered workflow type names, so callers need not import workflow code."""

    INSTITUTION_ONBOARDING = "InstitutionOnboardingWorkflow"
    ENTERPRISE_ONBOARDING = "EnterpriseOnboardingWorkflow"
    FINANCING_DEMAND = "FinancingDemandWorkflow"
    POLICY_PUSH = "PolicyPushWorkflow"
    LOAN_APPLICATION = "LoanApplicationWorkflow"
    LOAN_SERVICING = "LoanServicingWorkflow"
    PORTFOLIO_SWEEP = "PortfolioSweepWorkflow"
    CREDIT_RERATING = "CreditReratingWorkflow"
    DATA_RETENTION = "DataRetentionWorkflow"
    REGULATORY_REPORT = "RegulatoryReportWorkflow"
    TRANSACTION_MONITORING = "TransactionMonitoringWorkflow"


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
# The SMS gateway refuses the registration's mobile (blocked, not a recipient): final.
MOBILE_REFUSED = "mobile.refused"


def enterprise_workflow_id(enterprise_id: uuid.UUID) -> str:
    """Business id of one enterprise's onboarding workflow."""
    return f"enterprise-{enterprise_id}"


class Resubmission(Contract):
    """The applicant corrects a rejected (or lapsed) registration and asks for verification
    again: a new run of ``enterprise-{id}`` whose input carries the corrected facts."""

    round: int  # 1 for the first resubmission, then 2, ...
    requested_by: uuid.UUID
    requested_role: str
    corrected: list[str] = Field(default_factory=list)  # field names only, never values
    reupload: list[str] = Field(default_factory=list)  # document kinds to upload again


class ResubmissionRecorded(Contract):
    """The corrections are stored; the documents on file that still count (kind → sha256)."""

    documents: dict[str, str] = Field(default_factory=dict)


class RegistrationInput(Contract):
    """A registration form. Personal data arrives sealed (FieldCipher tokens), never in clear,
    and the password only as its argon2id hash (empty on a resubmission: the account exists)."""

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
    resubmission: Resubmission | None = None
    # Keyed hash of the registration secret (the secret itself never reaches the workflow).
    secret_hash: str = ""


class RegistrationAck(Contract):
    """Answer of the registration Update: recorded, and where the code went (masked)."""

    enterprise_id: uuid.UUID
    stage: str
    otp_sent_to: str


class UsccClaimResult(Contract):
    """Whether this enterprise holds its USCC now (False: another registration holds it)."""

    claimed: bool


class OtpChallengeRef(Contract):
    challenge_id: uuid.UUID
    masked_mobile: str


class Registrant(Contract):
    """The person acting on a registration, for the decision log: the registration's own
    account (a registrant holding its secret) or the enterprise's signed-in user."""

    user_id: uuid.UUID
    role: str

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"


class OtpCheck(Contract):
    challenge_id: uuid.UUID
    code: str
    confirmed_by: Registrant | None = None  # logged with the confirmation when present


class ConfirmOtp(Contract):
    """The registrant's one-time code; ``confirmed_by`` names them (None only in histories
    from before it: new calls without it are refused)."""

    code: str
    confirmed_by: Registrant | None = None


class ResendOtp(Contract):
    """The registrant asks for another code (payload of ``resend_otp``; histories from
    before it sent none)."""

    requested_by: Registrant


class EnterpriseRef(Contract):
    enterprise_id: uuid.UUID


class SendOtp(Contract):
    """Text a code (``send_otp``; an ``EnterpriseRef`` from before it reads as one): the
    registration's first, or the n-th one a person asked for, logged once per ``send``."""

    enterprise_id: uuid.UUID
    requested_by: Registrant | None = None
    send: int = 0


class AttachDocument(Contract):
    """An uploaded material (bytes already in the document store under sha256);
    ``attached_by`` names who uploaded it (None only in histories from before it)."""

    kind: str
    sha256: str
    content_type: str
    size_bytes: int
    attached_by: Registrant | None = None


class DocumentRecord(Contract):
    enterprise_id: uuid.UUID
    kind: str
    sha256: str
    content_type: str
    size_bytes: int
    attached_by: Registrant | None = None  # logged with the new document when present


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
    occurrence: int = 1
    """Which wait of this kind in the workflow's life (the n-th extension request, the n-th
    overdue episode): a business fact chosen by the workflow, so a second wait of the same
    kind gets a task of its own and a retried activity finds its own task again."""


class TaskRef(Contract):
    task_id: uuid.UUID


class CloseTask(Contract):
    task_id: uuid.UUID
    outcome: str
    assignee_id: uuid.UUID | None = None


class HoldTask(Contract):
    """A task waits for the applicant (``waiting``) or is back with its officer (``claimed``)."""

    task_id: uuid.UUID
    state: str  # waiting, claimed
    assignee_id: uuid.UUID | None
    due_at: datetime | None = None


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
    key: str = ""
    """The notice's business key, built by the workflow from business facts
    (``reminder-{loan}-{installment}``): a notice is delivered once per key, across retries
    and continue-as-new. Empty only in histories from before the key existed."""


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
    # Who posts it (the ``submission`` Update's person, logged as demand.submitted); None
    # only in histories and from callers before it.
    submitted_by: uuid.UUID | None = None
    submitter_role: str = ""


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
    selected_by: uuid.UUID | None = None  # None only from callers before the decision log
    selector_role: str = ""


class DemandWithdrawal(Contract):
    """The applicant withdraws the demand (optional payload of ``withdraw``: callers from
    before it send nothing)."""

    withdrawn_by: uuid.UUID
    withdrawer_role: str
    reason: str = ""


class RecordSelection(Contract):
    demand_id: uuid.UUID
    product_ids: list[uuid.UUID]
    selected_by: uuid.UUID | None = None
    selector_role: str = ""


class DemandStage(Contract):
    demand_id: uuid.UUID
    stage: str
    actor: str = "system"
    decision: dict[str, str] | None = None  # logged to the decision log when present


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
SEALED_PAYER_ACCOUNT = "payment.payer_account"


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
    bounds: TermBounds | None = None  # the product version's limits at the day's LPR
    required_materials: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)  # kinds the applicant has provided
    maker_id: uuid.UUID | None = None  # the officer who prepared the case (quoted the demand)
    # Who applies (the ``submission`` Update's person, logged as application.submitted);
    # None only in histories and from callers before it.
    submitted_by: uuid.UUID | None = None
    submitter_role: str = ""
    # The financing purpose as compared (``domain.origination.purpose_key``): one open
    # application per enterprise, product and purpose. Empty in histories from before.
    purpose: str = ""


def opening_search_attributes(application: ApplicationInput) -> list[SearchAttributePair[str]]:
    """What an application's workflow starts with in Temporal's visibility: the API starts
    it with these (no upsert needed), and the workflow upserts whatever its start lacked."""
    complete = not missing_materials(
        tuple(application.required_materials), tuple(application.materials)
    )
    pairs = [
        SearchAttributePair(STAGE, "origination"),
        SearchAttributePair(INSTITUTION, str(application.institution_id)),
    ]
    return [*pairs, SearchAttributePair(STATUS, "assessing")] if complete else pairs


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

    def automatic_stage(
        self, application_id: uuid.UUID, requested_amount: Decimal
    ) -> ApplicationStage | None:
        """What an automatic decision records — stage, reason and decision-log payload — or
        None when people decide. The assessment activity writes it with the assessment; the
        workflow follows it (and wrote it itself before ``lean-records-v1``)."""
        if self.decision == "auto_decline":
            reason = ",".join(self.reasons)
            return ApplicationStage(
                application_id=application_id,
                stage="declined",
                reason=reason,
                decision={"decision": self.decision, "reasons": reason},
            )
        if self.decision == "auto_approve":
            amount = self.proposed_amount or requested_amount
            rate = self.proposed_rate or Decimal(0)
            return ApplicationStage(
                application_id=application_id,
                stage="approved",
                reason="auto.small_clean_case",
                decision={"decision": self.decision, "amount": str(amount), "rate": str(rate)},
            )
        return None


class CreditAction(StrEnum):
    """What an officer does with a referred case."""

    APPROVE = "approve"
    DECLINE = "decline"
    REQUEST_INFO = "request_info"  # ask the applicant; the case comes back to the same officer
    COUNTER_OFFER = "counter_offer"  # other amount/term/rate; the applicant accepts or refuses


class CreditDecision(Contract):
    """An officer's decision on a referred application (validated Update)."""

    approve: bool
    reason: str = ""
    decider_id: uuid.UUID
    decider_role: str
    decider_institution_id: uuid.UUID | None
    amount: Decimal | None = None
    rate: Decimal | None = None
    action: CreditAction | None = None  # None: approve or decline as ``approve`` says
    term_months: int | None = None
    question: str = ""  # what the applicant is asked (request_info)

    @property
    def kind(self) -> CreditAction:
        if self.action is not None:
            return self.action
        return CreditAction.APPROVE if self.approve else CreditAction.DECLINE


class InformationAnswer(Contract):
    """The applicant's answer to an officer's question, or the materials asked for."""

    answered_by: uuid.UUID
    role: str = "applicant"  # the answering user's role, for the decision log
    answer: str = ""
    materials: list[str] = Field(default_factory=list)


class OfferRefusal(Contract):
    """The applicant turns an offer or counter-offer down."""

    refused_by: uuid.UUID
    reason: str = ""
    role: str = "applicant"


class Withdrawal(Contract):
    """The applicant withdraws the application (optional payload of the ``withdraw`` Update:
    callers and histories from before it send none); names the person in the decision log."""

    withdrawn_by: uuid.UUID
    role: str = "applicant"


class OfferTerms(Contract):
    application_id: uuid.UUID
    amount: Decimal
    rate: Decimal
    term_months: int
    repayment_method: str
    expires_at: datetime
    counter_offer: bool = False  # terms changed by the officer: the applicant must agree first


class OfferDocument(Contract):
    """The offer as the applicant accepts it. Before offer-terms-v1 the letter as issued
    (``bound_to`` ``letter``): ``sha256`` the hash of its bytes, ``document_id`` its record.
    Since (``bound_to`` ``terms``): ``sha256`` the digest of the canonical offer terms
    (``documents.loan_documents.offer_terms``), known with the decision, which the letter —
    rendered afterwards, deterministically from those terms — prints; ``document_id`` empty
    and the schedule's summary given."""

    sha256: str
    apr: Decimal
    document_id: str
    bound_to: str = "letter"
    total_interest: Decimal | None = None
    total_repayment: Decimal | None = None
    upfront_fee: Decimal | None = None
    first_payment: Decimal | None = None
    first_due_date: date | None = None
    maturity_date: date | None = None
    installments: int = 0


class Acceptance(Contract):
    """The applicant accepts the offer: the signer's typed name, the one-time code texted to
    the legal representative, and the account to pay into (sealed)."""

    accepted_by: uuid.UUID
    typed_name: str
    sealed_account: str
    document_sha256: str = ""  # the hash of the offer letter the applicant read and accepts
    role: str = "applicant"
    # The code of ``request_acceptance_code`` (verified-signer-v1); empty in histories before.
    code: str = ""


class AcceptanceCodeRequest(Contract):
    """The applicant asks for a one-time code to sign the offer letter issued last."""

    requested_by: uuid.UUID
    role: str = "applicant"


class AcceptanceCodeSent(Contract):
    """Where the code went (masked) and until when it is valid."""

    masked_mobile: str
    expires_at: datetime
    attempts: int
    document_sha256: str


class SendAcceptanceCode(Contract):
    """Text a new code for this offer letter to the legal representative (voiding any other);
    ``send`` counts the codes the offer asked for (the decision log's key)."""

    application_id: uuid.UUID
    document_sha256: str
    requested_by: uuid.UUID
    role: str
    send: int


class VerifySigner(Contract):
    """Check an acceptance's signer: the typed name against the legal representative's, and
    the code against the live one for this letter (a wrong one counted, the right consumed)."""

    application_id: uuid.UUID
    document_sha256: str
    signer_name: str
    code: str
    accepted_by: uuid.UUID
    role: str


class SignerCheck(Contract):
    """The verdict: ``refusal`` empty when the signer is confirmed, else its code
    (``domain.signing``); the signer's name masked; wrong attempts the code has left."""

    refusal: str = ""
    signer: str = ""
    attempts_left: int = 0


class RecordAcceptance(Contract):
    application_id: uuid.UUID
    acceptance: Acceptance
    accepted_at: datetime | None = None


# disburse_loan's error type when the bank refuses the payment for good (frozen or closed
# account …): nothing was paid; not retried, and the application ends disbursement_failed.
DISBURSEMENT_REFUSED = "DisbursementRefused"
# record_application's error type when the enterprise has another application open for the
# product and purpose (its id the first detail): not retried, nothing recorded, the workflow
# ends and its ``submission`` Update is refused with the same type.
APPLICATION_ALREADY_OPEN = "application.already_open"


class DisbursementResult(Contract):
    loan_id: uuid.UUID
    idempotency_key: str
    status: str  # SUCCEEDED, FAILED
    failure_code: str | None = None
    journal_key: str | None = None


class DecisionEntry(Contract):
    """A person's decision for the hash-chained decision log: who (``user:<id>``), what, and
    in the payload their role, institution, what they saw and the outcome."""

    actor: str
    kind: str
    payload: dict[str, Any]


class ApplicationStage(Contract):
    application_id: uuid.UUID
    stage: str
    reason: str = ""
    actor: str = "system"
    decision: dict[str, Any] | None = None  # the stage's own (automatic) decision-log entry
    decisions: list[DecisionEntry] = Field(default_factory=list)
    """People's decisions this stage records: logged in the same transaction as the stage,
    before its own entry."""


class ApplicationProgress(Contract):
    application_id: uuid.UUID | None
    stage: str
    reason: str = ""
    assessment: Assessment | None = None
    offer: OfferTerms | None = None
    approvals: int = 0
    loan_id: uuid.UUID | None = None
    review_round: int = 0
    question: str = ""
    missing_materials: list[str] = Field(default_factory=list)
    offer_document: OfferDocument | None = None
    # Stage ``duplicate``: the enterprise's open application for the same product and purpose
    # that refused recording this one (nothing of this one is recorded).
    open_application_id: uuid.UUID | None = None


# ---- loan servicing -------------------------------------------------------------------------


class LoanState(Contract):
    """What the loan workflow knows, carried whole across continue-as-new."""

    account: LoanAccount
    secured: bool = False
    category: str = "normal"
    interest_recognised: Decimal = Decimal("0.00")  # posted to interest receivable so far
    journal_seq: int = 0
    reminded: list[int] = Field(default_factory=list)  # installments reminded before due
    debit_attempts: dict[int, int] = Field(default_factory=dict)  # installment → auto-debits
    # Since servicing-due-date-keys-v1 an installment is known by its due date (a prepayment
    # renumbers the installments after it); the two fields above serve runs from before it.
    reminded_dates: list[date] = Field(default_factory=list)
    debit_attempts_on: dict[date, int] = Field(default_factory=dict)
    overdue_notices: list[int] = Field(default_factory=list)  # dpd thresholds already noticed
    followup_task: uuid.UUID | None = None
    pending_extension: ExtensionRequest | None = None
    extension_task: uuid.UUID | None = None
    recent_keys: list[str] = Field(default_factory=list)  # payments already applied
    dues_processed: int = 0  # installments that fell due in this run (continue-as-new)
    due_through: date | None = None  # due dates up to this day have been processed
    extensions: int = 0  # extension requests so far (numbers their events and addenda)
    overdue_episodes: int = 0  # overdue episodes so far (numbers their notices and tasks)


class LoanRef(Contract):
    loan_id: uuid.UUID


class OpenedLoan(Contract):
    """The account opened from the disbursed loan, with what servicing needs to know."""

    account: LoanAccount
    secured: bool


class Collect(Contract):
    """Take money from the borrower's account (auto-debit or a payment they asked for)."""

    loan_id: uuid.UUID
    key: str  # pay-{loan_id}-{due date}-{attempt} (auto-debit) or pay-{loan_id}-{request key}
    amount: Decimal
    # The payer's account when not the borrower's own, sealed (SEALED_PAYER_ACCOUNT).
    sealed_payer_account: str = ""


class CollectionResult(Contract):
    succeeded: bool
    failure_code: str | None = None


class HumanDecision(Contract):
    """A person's decision, entered in the hash-chained decision log by the activity that
    records its outcome, in the same transaction: who (id, role, institution), what they saw,
    what they decided."""

    kind: str  # e.g. loan.extension_approved
    actor_id: uuid.UUID
    role: str
    institution_id: uuid.UUID | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    outcome: str

    @property
    def actor(self) -> str:
        return f"user:{self.actor_id}"


class LoanEvent(Contract):
    """One servicing event to post: its transaction, balanced journals and the read model."""

    loan_id: uuid.UUID
    key: str
    kind: str  # repayment, auto_debit, prepayment, payoff, write_off, due, extension, ...
    value_date: date
    amount: Decimal = Decimal("0.00")
    allocation: Allocation | None = None
    accrual: Decimal = Decimal("0.00")  # interest newly receivable, posted before the rest
    accrual_key: str = ""
    written_off: tuple[Decimal, Decimal] | None = None  # principal, interest
    state: LoanState
    days_past_due: int = 0
    memo: str = ""
    decision: HumanDecision | None = None  # the person's decision this event records


class ClassificationChange(Contract):
    loan_id: uuid.UUID
    as_of: date
    category: str
    previous_category: str
    days_past_due: int


class Payment(Contract):
    """A repayment the borrower makes now (validated Update); ``key`` makes it once-only."""

    key: str
    amount: Decimal
    paid_by: uuid.UUID
    sealed_payer_account: str = ""  # another payer's account, sealed; "" = the loan's account


class Prepayment(Contract):
    key: str
    amount: Decimal
    strategy: PrepaymentStrategy
    paid_by: uuid.UUID


class ExtensionRequest(Contract):
    """The borrower asks to extend (展期) before maturity."""

    requested_by: uuid.UUID
    extra_months: int
    reason: str
    financial_difficulty: bool = False  # counts as restructuring, with an observation period
    guarantor_consent: str = ""  # reference of the guarantor's written consent (secured loans)


class ExtensionDecision(Contract):
    approve: bool
    reason: str = ""
    decider_id: uuid.UUID
    decider_role: str
    decider_institution_id: uuid.UUID | None


class WriteOff(Contract):
    decider_id: uuid.UUID
    decider_role: str
    decider_institution_id: uuid.UUID | None
    reason: str


class Addendum(Contract):
    """What the extension addendum PDF shows."""

    loan_id: uuid.UUID
    sequence: int
    original_maturity: date
    extra_months: int
    guarantor_consent: str
    account: LoanAccount


class LoanProgress(Contract):
    loan_id: uuid.UUID | None
    status: str
    category: str
    days_past_due: int
    principal_outstanding: Decimal
    next_due_date: date | None
    next_due_amount: Decimal
    credit: Decimal
    extension_pending: bool
    state: LoanState | None = None


def loan_workflow_id(loan_id: uuid.UUID) -> str:
    """Business id of one loan's servicing workflow."""
    return f"loan-{loan_id}"


class LoanServicingInput(Contract):
    """A disbursed loan to service; ``state`` carries the account across continue-as-new."""

    loan_id: uuid.UUID
    application_id: uuid.UUID
    enterprise_id: uuid.UUID
    institution_id: uuid.UUID
    state: LoanState | None = None


class PortfolioSweep(Contract):
    as_of: date | None = None  # None: the day the sweep runs


class PortfolioSweepResult(Contract):
    as_of: date
    institutions: int
    loans: int


# Resolve forward references now (a model may name one defined below it): inside the workflow
# sandbox a lazy rebuild would not find the module's names.
for _model in list(globals().values()):
    if isinstance(_model, type) and issubclass(_model, Contract) and _model is not Contract:
        _model.model_rebuild()
