"""Credit model registry and promotion history, borrowers' re-ratings and early-warning alerts
(issue 7).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 18:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _key() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "credit_model_version",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("champion", sa.String(length=16), nullable=False),
        sa.Column("feature_set", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dataset_name", sa.String(length=200), nullable=False),
        sa.Column("data_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("scorecard_sha256", sa.String(length=64), nullable=False),
        sa.Column("challenger_sha256", sa.String(length=64), nullable=False),
        sa.Column("artifact_dir", sa.String(length=500), nullable=False),
        sa.Column("scorecard", _json(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        *_key(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_model_version")),
        sa.UniqueConstraint("version", name=op.f("uq_credit_model_version_version")),
    )
    op.create_index(
        "uq_credit_model_version_one_promoted",
        "credit_model_version",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status = 'promoted'"),
    )
    op.create_table(
        "model_promotion",
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("replaced_version", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        *_key(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_promotion")),
    )
    op.create_table(
        "credit_rating",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("pd", sa.Numeric(7, 4), nullable=False),
        sa.Column("grade", sa.String(length=2), nullable=False),
        sa.Column("rating", sa.String(length=4), nullable=False),
        sa.Column("previous_rating", sa.String(length=4), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("reason_codes", _json(), nullable=False),
        sa.Column("signals", _json(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        *_key(),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_credit_rating_loan_id_loan")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_credit_rating_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_rating")),
        sa.UniqueConstraint("loan_id", "as_of", name=op.f("uq_credit_rating_loan_id_as_of")),
    )
    op.create_index(op.f("ix_credit_rating_loan_id"), "credit_rating", ["loan_id"])
    op.create_index(op.f("ix_credit_rating_enterprise_id"), "credit_rating", ["enterprise_id"])
    op.create_table(
        "credit_alert",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("signals", _json(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        *_key(),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_credit_alert_loan_id_loan")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_credit_alert_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_credit_alert_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_credit_alert_task_id_human_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_alert")),
        sa.UniqueConstraint("loan_id", "as_of", name=op.f("uq_credit_alert_loan_id_as_of")),
    )
    op.create_index(op.f("ix_credit_alert_loan_id"), "credit_alert", ["loan_id"])
    op.create_index(op.f("ix_credit_alert_institution_id"), "credit_alert", ["institution_id"])


def downgrade() -> None:
    op.drop_table("credit_alert")
    op.drop_table("credit_rating")
    op.drop_table("model_promotion")
    op.drop_index("uq_credit_model_version_one_promoted", table_name="credit_model_version")
    op.drop_table("credit_model_version")
