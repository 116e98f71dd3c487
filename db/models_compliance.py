"""Tables of regulatory reporting and monitoring: the report archive, monitoring alerts, the
payers of repayments (sealed) and the applicants' ratings of their outcomes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from config.crypto import EncryptedText
from db.base import Base, CreatedAt, UuidPrimaryKey


class RegulatoryReport(UuidPrimaryKey, CreatedAt, Base):
    """One archived version of a monthly or quarterly report (监管报表); never updated.

    ``sha256`` is the digest of the canonical JSON figures; the PDF, CSV and JSON renderings
    are in the encrypted document store under their own digests. The database refuses any
    UPDATE or DELETE (trigger), so regenerating a period makes a new ``version``.
    """

    __tablename__ = "regulatory_report"
    __table_args__ = (UniqueConstraint("kind", "period_start", "version"),)

    kind: Mapped[str] = mapped_column(String(16))  # monthly, quarterly
    period_start: Mapped[date]
    period_end: Mapped[date]  # exclusive
    version: Mapped[int]
    figures: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    csv_sha256: Mapped[str] = mapped_column(String(64))
    json_sha256: Mapped[str] = mapped_column(String(64))
    generated_by: Mapped[str] = mapped_column(String(100))  # "schedule" or "user:<uuid>"
    workflow_id: Mapped[str] = mapped_column(String(200))


class MonitoringAlert(UuidPrimaryKey, CreatedAt, Base):
    """A transaction-monitoring finding (反洗钱/反欺诈预警) and its life cycle:
    open → investigating → closed (with a note). ``dedupe_key`` keeps reruns from raising the
    same finding twice; ``details`` holds ids, amounts and counts, never personal data."""

    __tablename__ = "monitoring_alert"

    rule: Mapped[str] = mapped_column(String(32), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    severity: Mapped[str] = mapped_column(String(8))  # low, medium, high
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprise.id"))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institution.id"))
    loan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loan.id"))
    summary_zh: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detected_at: Mapped[datetime]
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class PaymentParty(UuidPrimaryKey, CreatedAt, Base):
    """Who paid a collection: the payer's account sealed, with keyed hashes of the payer's and
    the borrower's accounts so monitoring compares them without decrypting anything."""

    __tablename__ = "payment_party"

    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    payer_account: Mapped[str] = mapped_column(EncryptedText("payment_party.payer_account"))
    payer_account_hash: Mapped[str] = mapped_column(String(64), index=True)
    borrower_account_hash: Mapped[str] = mapped_column(String(64))


class OutcomeRating(UuidPrimaryKey, CreatedAt, Base):
    """The applicant's 1–5 rating of one application's outcome (满意度评价), once per outcome."""

    __tablename__ = "outcome_rating"
    __table_args__ = (
        UniqueConstraint("application_id", "outcome"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
    )

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_application.id"))
    outcome: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprise.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_product.id"))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
