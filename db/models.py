"""Tables: platform, users, tasks, decision log, enterprises, products, demands, policies,
applications, loans and their servicing, documents, ledger and portfolio snapshots."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from config.crypto import EncryptedText
from db.base import Base, CreatedAt, UuidPrimaryKey
from domain.lifecycle import (
    APPLICATION,
    DEMAND,
    ENTERPRISE,
    INSTRUCTION,
    LOAN,
    OPEN_APPLICATION,
    RESPONSE,
    TASK,
    ApplicationStatus,
    DemandStatus,
    EnterpriseStatus,
    InstructionStatus,
    Lifecycle,
    LoanRecordStatus,
    ResponseStatus,
    TaskState,
)


def _allowed(lifecycle: Lifecycle[Any]) -> CheckConstraint:
    """The column holds one of its lifecycle's statuses (``ck_<table>_<column>``)."""
    return CheckConstraint(lifecycle.check_sql, name=lifecycle.column.split(".")[1])


OPEN_APPLICATION_SQL = "purpose IS NOT NULL AND status IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(OPEN_APPLICATION))
)
"""The rows ``uq_loan_application_open`` covers: open applications with a recorded purpose."""


class Institution(UuidPrimaryKey, CreatedAt, Base):
    """A bank or other lender onboarded to the platform (金融机构)."""

    __tablename__ = "institution"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # bank, microcredit, guarantee, leasing
    status: Mapped[str] = mapped_column(String(16), default="active")
    onboarded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    workflow_id: Mapped[str | None] = mapped_column(String(200))


class AppUser(UuidPrimaryKey, CreatedAt, Base):
    """A login: one role, at most one tenant (enterprise or institution)."""

    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprise.id", use_alter=True, ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("institution.id", use_alter=True), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    locked_until: Mapped[datetime | None]
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    """Carried by every access token (``sv``); logout and the revocation of a refresh family
    raise it, so the access tokens already out die with their session, not 15 min later."""


class RefreshToken(CreatedAt, Base):
    """One refresh token (by its jti); rotation revokes it and links its successor."""

    __tablename__ = "refresh_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """A login try, kept to rate-limit guessing across every API process."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class HumanTask(UuidPrimaryKey, CreatedAt, Base):
    """A decision waiting for a person (verification review, credit approval, ...), our inbox."""

    __tablename__ = "human_task"
    __table_args__ = (
        # One task per wait: a workflow may wait on several institutions at once.
        UniqueConstraint(
            "workflow_id", "kind", "round", "institution_id", postgresql_nulls_not_distinct=True
        ),
        Index("ix_human_task_inbox", "institution_id", "state", "due_at", "created_at"),
        _allowed(TASK),
    )

    kind: Mapped[str] = mapped_column(String(48))
    workflow_id: Mapped[str] = mapped_column(String(200))
    round: Mapped[int] = mapped_column(default=1)
    subject: Mapped[str] = mapped_column(String(200))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institution.id"))
    required_role: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=TaskState.OPEN.value)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DecisionLogEntry(Base):
    """Append-only, hash-chained record of every automatic and human decision."""

    __tablename__ = "decision_log"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))  # "system" or "user:<uuid>"
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), index=True)  # workflow id or record id
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Enterprise(UuidPrimaryKey, CreatedAt, Base):
    """A registered small or micro enterprise (小微企业) and its legal representative."""

    __tablename__ = "enterprise"
    __table_args__ = (_allowed(ENTERPRISE),)

    name: Mapped[str] = mapped_column(String(200))
    # The public registry identifier. Not unique here: registrations of one USCC may run side
    # by side until one is confirmed (UsccClaim), so nobody can lock a company out (issue 28/3).
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    registered_capital: Mapped[Decimal]
    founding_date: Mapped[date]
    business_scope: Mapped[str] = mapped_column(Text, default="")
    industry: Mapped[str] = mapped_column(String(1))  # GB/T 4754 section
    region: Mapped[str] = mapped_column(String(6))  # GB/T 2260 code
    legal_rep_name: Mapped[str] = mapped_column(String(100))
    legal_rep_id_number: Mapped[str] = mapped_column(EncryptedText("enterprise.legal_rep_id"))
    legal_rep_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    mobile: Mapped[str] = mapped_column(EncryptedText("enterprise.mobile"))
    mobile_hash: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default=EnterpriseStatus.AWAITING_OTP.value)
    status_reason: Mapped[str] = mapped_column(String(100), default="")
    workflow_id: Mapped[str] = mapped_column(String(200))
    # Keyed hash of the secret returned only to the registrant: anonymous reads of the
    # registration and its code attempts need it (issue 28/6); None before it existed.
    registration_secret_hash: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None]
    share_profile_with_matched: Mapped[bool] = mapped_column(default=False)


class UsccClaim(Base):
    """The registration that holds a USCC: the one whose legal representative the registry and
    the identity bureau confirmed (or a reviewer approved). One per USCC, first come wins;
    released when that onboarding is rejected or lapses, gone with its enterprise."""

    __tablename__ = "uscc_claim"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), unique=True
    )
    claimed_at: Mapped[datetime]


class OtpChallenge(UuidPrimaryKey, CreatedAt, Base):
    """A one-time code sent to the legal representative's phone; only its keyed hash is kept."""

    __tablename__ = "otp_challenge"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None]


class SigningChallenge(UuidPrimaryKey, CreatedAt, Base):
    """A one-time code texted to the legal representative to confirm the acceptance of one
    offer letter; only its keyed hash is kept, with its expiry and wrong attempts. Asking for
    another voids it; the right code is consumed once."""

    __tablename__ = "signing_challenge"

    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loan_application.id", ondelete="CASCADE"), index=True
    )
    document_sha256: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    requested_by: Mapped[uuid.UUID | None]  # the user who asked for it (no key: kept for audit)


class EnterpriseDocument(UuidPrimaryKey, CreatedAt, Base):
    """An uploaded material; the bytes live encrypted in the document store under their sha256."""

    __tablename__ = "enterprise_document"
    __table_args__ = (UniqueConstraint("enterprise_id", "kind", "sha256"),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))


class CaseMaterial(UuidPrimaryKey, CreatedAt, Base):
    """A material of the checklist uploaded as a file (财务报表, 银行流水 …): the enterprise's,
    attached to one of its demands or applications (neither yet: uploaded before the
    application it goes with is submitted). The bytes live encrypted in the document store
    under their sha256; a financial statement keeps what was read from it."""

    __tablename__ = "case_material"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("loan_application.id", ondelete="CASCADE"), index=True
    )
    demand_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("financing_demand.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    # domain.statements.StatementReading.as_json(): figures in yuan and problems (statements)
    statement: Mapped[dict[str, Any] | None]


class Consent(UuidPrimaryKey, CreatedAt, Base):
    """Which institution may see which data of an enterprise; revocable by the applicant."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_lookup", "enterprise_id", "institution_id", "scope"),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE")
    )
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"))
    scope: Mapped[str] = mapped_column(String(32))  # profile, financials, credit_report
    granted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    revoked_at: Mapped[datetime | None]


class Notification(UuidPrimaryKey, CreatedAt, Base):
    """An in-app message to an enterprise (the same text also goes by SMS / e-mail), in Chinese
    and in English (the English is NULL on notices sent before both were kept)."""

    __tablename__ = "notification"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    template: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    subject_en: Mapped[str | None] = mapped_column(String(200))
    body_en: Mapped[str | None] = mapped_column(Text)
    channels: Mapped[str] = mapped_column(String(64))
    delivery_key: Mapped[str] = mapped_column(String(300), unique=True)  # one per activity
    read_at: Mapped[datetime | None]


class LprRate(Base):
    """A Loan Prime Rate as published (data with an effective date, never a constant)."""

    __tablename__ = "lpr_rate"
    __table_args__ = (UniqueConstraint("tenor", "effective_date"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenor: Mapped[str] = mapped_column(String(2))  # 1Y, 5Y
    rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    effective_date: Mapped[date]


class LoanProduct(UuidPrimaryKey, CreatedAt, Base):
    """An institution's loan product; its terms live in numbered versions."""

    __tablename__ = "loan_product"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, retired
    current_version: Mapped[int] = mapped_column(default=1)


class LoanProductVersion(UuidPrimaryKey, CreatedAt, Base):
    """Immutable terms of one product version; an application keeps the version it used."""

    __tablename__ = "loan_product_version"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_product.id"), index=True)
    version: Mapped[int]
    terms: Mapped[dict[str, Any]]
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))


class SupportPolicy(UuidPrimaryKey, CreatedAt, Base):
    """A national or local support policy (贴息, guarantee-fee subsidy) for enterprises."""

    __tablename__ = "support_policy"

    title: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(200))
    terms: Mapped[dict[str, Any]]
    published_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    workflow_id: Mapped[str] = mapped_column(String(200), default="")


class FinancingDemand(UuidPrimaryKey, CreatedAt, Base):
    """An enterprise's posted financing need (融资需求)."""

    __tablename__ = "financing_demand"
    __table_args__ = (_allowed(DEMAND),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprise.id"), index=True)
    amount: Mapped[Decimal]
    term_months: Mapped[int]
    purpose: Mapped[str] = mapped_column(Text)
    financing_type: Mapped[str] = mapped_column(String(32))
    repayment_method: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default=DemandStatus.MATCHING.value)
    workflow_id: Mapped[str] = mapped_column(String(200))
    selected_product_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Support policies that applied when matched (id → title): shown and priced in comparisons.
    applicable_policies: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DemandMatch(UuidPrimaryKey, Base):
    """One product's matching result for a demand, with its explanation."""

    __tablename__ = "demand_match"
    __table_args__ = (UniqueConstraint("demand_id", "product_id"),)

    demand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("financing_demand.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_product.id"))
    product_version: Mapped[int]
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"))
    eligible: Mapped[bool]
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    indicative_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    rank: Mapped[int]
    explanation: Mapped[dict[str, Any]]


class DemandResponse(UuidPrimaryKey, Base):
    """An institution's answer to a published demand, within its service-level time."""

    __tablename__ = "demand_response"
    __table_args__ = (UniqueConstraint("demand_id", "institution_id"), _allowed(RESPONSE))

    demand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("financing_demand.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"))
    status: Mapped[str] = mapped_column(String(16), default=ResponseStatus.PENDING.value)
    indicative_rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    indicative_amount: Mapped[Decimal | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    responded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    due_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]


class LoanApplication(UuidPrimaryKey, CreatedAt, Base):
    """An application for one product version (贷款申请), decided by rules or officers."""

    __tablename__ = "loan_application"
    __table_args__ = (
        _allowed(APPLICATION),
        # One open application per enterprise, product and purpose (issue 21): a second
        # submission, however concurrent, cannot be recorded while the first is open.
        Index(
            "uq_loan_application_open",
            "enterprise_id",
            "product_id",
            "purpose",
            unique=True,
            postgresql_where=OPEN_APPLICATION_SQL,
        ),
    )

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprise.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_product.id"))
    product_version: Mapped[int]
    demand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("financing_demand.id"))
    amount: Mapped[Decimal]
    term_months: Mapped[int]
    repayment_method: Mapped[str] = mapped_column(String(32))
    # The financing purpose as compared (``domain.origination.purpose_key``): the one stated,
    # else the answered demand's, else empty. NULL only on duplicates recorded before 0019.
    purpose: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default=ApplicationStatus.SUBMITTED.value)
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    assessment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    offer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    workflow_id: Mapped[str] = mapped_column(String(200))


class Loan(UuidPrimaryKey, CreatedAt, Base):
    """A disbursed loan (借据); servicing is the loan workflow's job."""

    __tablename__ = "loan"
    __table_args__ = (_allowed(LOAN),)

    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loan_application.id"), unique=True
    )
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprise.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"), index=True)
    principal: Mapped[Decimal]
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    term_months: Mapped[int]
    repayment_method: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(EncryptedText("loan.account"))
    status: Mapped[str] = mapped_column(String(16), default=LoanRecordStatus.PENDING.value)
    """pending → active → closed (paid off) or written_off; pending → not_disbursed when the
    bank refuses the disbursement (terminal): ``domain.lifecycle.LOAN``."""
    disbursed_at: Mapped[datetime | None]
    signed_name: Mapped[str | None] = mapped_column(EncryptedText("loan.signed_name"))
    accepted_at: Mapped[datetime | None]
    offer_sha256: Mapped[str] = mapped_column(String(64), default="")
    # Servicing read model, written by the loan workflow's activities after every event.
    outstanding_principal: Mapped[Decimal] = mapped_column(default=Decimal(0))
    days_past_due: Mapped[int] = mapped_column(default=0)
    category: Mapped[str] = mapped_column(String(24), default="normal")
    next_due_date: Mapped[date | None]
    maturity_date: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    account_state: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LoanDocument(UuidPrimaryKey, CreatedAt, Base):
    """A document issued for an application or loan (offer letter, contract, extension
    addendum, settlement certificate); its bytes are in the encrypted document store."""

    __tablename__ = "loan_document"
    __table_args__ = (UniqueConstraint("application_id", "kind", "reference"),)

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_application.id"), index=True)
    loan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loan.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))  # what makes it unique within its kind
    sha256: Mapped[str] = mapped_column(String(64))


class LoanTransaction(UuidPrimaryKey, CreatedAt, Base):
    """A servicing event that moves money or balances (repayment, prepayment, payoff,
    write-off), posted once per business key with its allocation."""

    __tablename__ = "loan_transaction"

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    value_date: Mapped[date]
    amount: Mapped[Decimal]
    allocation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    memo: Mapped[str] = mapped_column(Text, default="")


class LoanClassification(UuidPrimaryKey, CreatedAt, Base):
    """One change of a loan's five-category classification (五级分类) and why."""

    __tablename__ = "loan_classification"
    __table_args__ = (UniqueConstraint("loan_id", "as_of", "category"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    as_of: Mapped[date]
    category: Mapped[str] = mapped_column(String(24))
    previous_category: Mapped[str] = mapped_column(String(24))
    days_past_due: Mapped[int]


class PortfolioSnapshot(UuidPrimaryKey, CreatedAt, Base):
    """An institution's portfolio on one day: loans and balances by category, overdue figures."""

    __tablename__ = "portfolio_snapshot"
    __table_args__ = (UniqueConstraint("as_of", "institution_id"),)

    as_of: Mapped[date]
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"), index=True)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PaymentInstruction(UuidPrimaryKey, CreatedAt, Base):
    """Money sent to or taken from the core bank; the key makes a second payment impossible."""

    __tablename__ = "payment_instruction"
    __table_args__ = (_allowed(INSTRUCTION),)

    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16), default=InstructionStatus.PENDING.value)
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    failure_code: Mapped[str | None] = mapped_column(String(64))


class JournalEntry(UuidPrimaryKey, CreatedAt, Base):
    """A balanced double-entry journal; one per business key (posted once)."""

    __tablename__ = "journal"

    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    loan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loan.id"), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")


class JournalLineRow(UuidPrimaryKey, Base):
    """One debit or credit of a journal."""

    __tablename__ = "journal_line"

    journal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("journal.id", ondelete="CASCADE"), index=True
    )
    account: Mapped[str] = mapped_column(String(48))
    debit: Mapped[Decimal]
    credit: Mapped[Decimal]
