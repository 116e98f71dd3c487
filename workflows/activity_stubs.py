"""The typed table of every activity the workflows call: its registered name, argument type
and result type, so mypy checks what a workflow sends and gets back without importing the
activities' implementations (tests/unit/platform/test_activity_stubs.py holds it to them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from workflows.contracts import (
    AcceptanceCodeSent,
    Addendum,
    ApplicationInput,
    ApplicationRef,
    ApplicationStage,
    Assessment,
    ClassificationChange,
    CloseTask,
    Collect,
    CollectionResult,
    DemandInput,
    DemandRef,
    DemandStage,
    DisbursementResult,
    DocumentRecord,
    EnterpriseRef,
    HoldTask,
    IdentityCheckResult,
    InstitutionOnboardingInput,
    InstitutionRecord,
    LapseResponse,
    LoanEvent,
    LoanRef,
    MatchSummary,
    NotifyEnterprise,
    OfferDocument,
    OfferTerms,
    OpenedLoan,
    OpenTask,
    OtpChallengeRef,
    OtpCheck,
    PolicyPushResult,
    PolicyRef,
    PortfolioSweep,
    PortfolioSweepResult,
    PublishDemand,
    RecordAcceptance,
    RecordAnswer,
    RecordSelection,
    RegistrationInput,
    RegistryCheckResult,
    ResubmissionRecorded,
    SendAcceptanceCode,
    SendOtp,
    SignerCheck,
    StageChange,
    TaskRef,
    UsccClaimResult,
    VerifySigner,
)
from workflows.reporting_contracts import (
    ArchivedReport,
    GenerateReport,
    MonitoringResult,
    MonitoringRun,
)
from workflows.rerating_contracts import (
    LoanPage,
    LoanPageResult,
    OpenEarlyWarning,
    RerateLoans,
    RerateResult,
)
from workflows.retention_contracts import RetentionInput, RetentionResult

A = TypeVar("A")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True)
class Call(Generic[R_co]):
    """One activity call to make: the name it is registered under, its single argument, and
    the type its result is decoded to (None: it returns nothing)."""

    name: str
    arg: Any
    result_type: type[R_co] | None


@dataclass(frozen=True)
class Stub(Generic[A, R]):
    """An activity as the workflows see it; calling it with the argument gives the ``Call``
    that a retry class of ``workflows.activity_options`` runs."""

    name: str
    arg_type: type[A]
    result_type: type[R] | None

    def __call__(self, arg: A) -> Call[R]:
        return Call(self.name, arg, self.result_type)


@overload
def stub(name: str, arg_type: type[A]) -> Stub[A, None]: ...
@overload
def stub(name: str, arg_type: type[A], result_type: type[R]) -> Stub[A, R]: ...
def stub(name: str, arg_type: type[Any], result_type: type[Any] | None = None) -> Stub[Any, Any]:
    """The activity registered as ``name``: one argument of ``arg_type``, returning
    ``result_type`` (or nothing when it is left out)."""
    return Stub(name, arg_type, result_type)


# ---- origination (activities/applications.py) ----------------------------------------
record_application = stub("record_application", ApplicationInput)
assess_application = stub("assess_application", ApplicationRef, Assessment)
set_application_stage = stub("set_application_stage", ApplicationStage)
record_offer = stub("record_offer", OfferTerms)
record_acceptance = stub("record_acceptance", RecordAcceptance, uuid.UUID)
send_acceptance_code = stub("send_acceptance_code", SendAcceptanceCode, AcceptanceCodeSent)
verify_signer = stub("verify_signer", VerifySigner, SignerCheck)
disburse_loan = stub("disburse_loan", uuid.UUID, DisbursementResult)

# ---- documents (activities/loan_documents.py) -----------------------------------------
issue_offer_letter = stub("issue_offer_letter", OfferTerms, OfferDocument)
prepare_offer = stub("prepare_offer", OfferTerms, OfferDocument)
issue_offer_pdf = stub("issue_offer_pdf", OfferTerms, OfferDocument)
issue_contract = stub("issue_contract", uuid.UUID, OfferDocument)
issue_extension_addendum = stub("issue_extension_addendum", Addendum, OfferDocument)
issue_settlement_certificate = stub("issue_settlement_certificate", LoanRef, OfferDocument)

# ---- servicing and portfolio (activities/loans.py) ------------------------------------
open_loan_account = stub("open_loan_account", LoanRef, OpenedLoan)
collect_repayment = stub("collect_repayment", Collect, CollectionResult)
post_loan_event = stub("post_loan_event", LoanEvent)
record_classification = stub("record_classification", ClassificationChange)
snapshot_portfolio = stub("snapshot_portfolio", PortfolioSweep, PortfolioSweepResult)

# ---- financing demands (activities/demands.py) ----------------------------------------
record_demand = stub("record_demand", DemandInput)
match_demand = stub("match_demand", DemandRef, MatchSummary)
publish_demand = stub("publish_demand", PublishDemand)
record_answer = stub("record_answer", RecordAnswer)
mark_response = stub("mark_response", LapseResponse)
record_selection = stub("record_selection", RecordSelection)
set_demand_stage = stub("set_demand_stage", DemandStage)

# ---- institutions and policies (activities/institutions.py, policies.py) --------------
record_institution = stub("record_institution", InstitutionOnboardingInput, InstitutionRecord)
push_policy = stub("push_policy", PolicyRef, PolicyPushResult)

# ---- officer tasks (activities/tasks.py) ----------------------------------------------
open_task = stub("open_task", OpenTask, TaskRef)
close_task = stub("close_task", CloseTask)
escalate_task = stub("escalate_task", TaskRef)
hold_task = stub("hold_task", HoldTask)

# ---- enterprise onboarding (activities/onboarding.py) ---------------------------------
record_registration = stub("record_registration", RegistrationInput)
record_resubmission = stub("record_resubmission", RegistrationInput, ResubmissionRecorded)
send_otp = stub("send_otp", SendOtp, OtpChallengeRef)
check_otp = stub("check_otp", OtpCheck, bool)
expire_registration = stub("expire_registration", EnterpriseRef)
claim_uscc = stub("claim_uscc", EnterpriseRef, UsccClaimResult)
set_enterprise_stage = stub("set_enterprise_stage", StageChange)
record_document = stub("record_document", DocumentRecord)
check_identity = stub("check_identity", EnterpriseRef, IdentityCheckResult)
check_registry = stub("check_registry", EnterpriseRef, RegistryCheckResult)
notify_enterprise = stub("notify_enterprise", NotifyEnterprise)

# ---- scheduled runs (activities/rerating.py, reports.py, monitoring.py, retention.py) --
list_loans_to_rerate = stub("list_loans_to_rerate", LoanPage, LoanPageResult)
rerate_loans = stub("rerate_loans", RerateLoans, RerateResult)
open_early_warning = stub("open_early_warning", OpenEarlyWarning, TaskRef)
generate_report = stub("generate_report", GenerateReport, ArchivedReport)
run_transaction_monitoring = stub("run_transaction_monitoring", MonitoringRun, MonitoringResult)
apply_retention = stub("apply_retention", RetentionInput, RetentionResult)

# Every activity above, in the order written (the drift test and the timeline labels read it).
STUBS: tuple[Stub[Any, Any], ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Stub)
)
