"""Tables of the credit model (issue 7): the model registry and its promotion history, the
monthly re-ratings of borrowers and the early-warning alerts they raise."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAt, UuidPrimaryKey


class CreditModelVersion(UuidPrimaryKey, CreatedAt, Base):
    """One trained model: its artifacts' SHA-256, metrics and training-data fingerprint.

    ``status``: registered → promoted (at most one at a time) → retired. The compiled scorecard
    document is kept here too, so every scoring process reads the same bytes (checked against
    ``scorecard_sha256`` on load).
    """

    __tablename__ = "credit_model_version"
    __table_args__ = (
        Index(
            "uq_credit_model_version_one_promoted",
            "status",
            unique=True,
            postgresql_where="status = 'promoted'",
        ),
    )

    version: Mapped[str] = mapped_column(String(64), unique=True)
    champion: Mapped[str] = mapped_column(String(16))  # scorecard, challenger
    feature_set: Mapped[str] = mapped_column(String(16))  # sme, custom
    status: Mapped[str] = mapped_column(String(16), default="registered")
    dataset_name: Mapped[str] = mapped_column(String(200))
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    scorecard_sha256: Mapped[str] = mapped_column(String(64))
    challenger_sha256: Mapped[str] = mapped_column(String(64))
    artifact_dir: Mapped[str] = mapped_column(String(500))
    scorecard: Mapped[dict[str, Any]]
    challenger_model: Mapped[str | None] = mapped_column(Text, deferred=True)
    """The boosting model's LightGBM text (empty for versions registered before it was kept)."""
    metrics: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(100))
    promoted_at: Mapped[datetime | None]


class ModelPromotion(UuidPrimaryKey, CreatedAt, Base):
    """Each promotion or rollback, in order: who, which version, which it replaced."""

    __tablename__ = "model_promotion"

    action: Mapped[str] = mapped_column(String(16))  # promote, rollback
    version: Mapped[str] = mapped_column(String(64))
    replaced_version: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))


class CreditRating(UuidPrimaryKey, CreatedAt, Base):
    """A borrower's rating at a re-rating run (one per loan and day)."""

    __tablename__ = "credit_rating"
    __table_args__ = (UniqueConstraint("loan_id", "as_of"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprise.id"), index=True)
    as_of: Mapped[date]
    score: Mapped[int]
    pd: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    grade: Mapped[str] = mapped_column(String(2))
    rating: Mapped[str] = mapped_column(String(4))
    previous_rating: Mapped[str | None] = mapped_column(String(4))
    model_version: Mapped[str] = mapped_column(String(64))
    reason_codes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    workflow_id: Mapped[str] = mapped_column(String(200))


class CreditAlert(UuidPrimaryKey, CreatedAt, Base):
    """An early-warning alert (预警) on a loan, and the post-loan task it became."""

    __tablename__ = "credit_alert"
    __table_args__ = (UniqueConstraint("loan_id", "as_of"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprise.id"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"), index=True)
    as_of: Mapped[date]
    signals: Mapped[dict[str, Any]]  # {"downgrade": "...", "new_overdue": "...", ...}
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("human_task.id"))
