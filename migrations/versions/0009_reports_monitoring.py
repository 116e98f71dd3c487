"""Regulatory report archive (immutable), transaction-monitoring alerts, payers of
collections and outcome ratings (issue 8, reports part).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONB = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

IMMUTABLE_FUNCTION = """
CREATE OR REPLACE FUNCTION regulatory_report_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'regulatory_report is immutable: generate a new version instead';
END;
$$ LANGUAGE plpgsql
"""


def _id_and_created() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "regulatory_report",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("figures", JSONB, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("csv_sha256", sa.String(length=64), nullable=False),
        sa.Column("json_sha256", sa.String(length=64), nullable=False),
        sa.Column("generated_by", sa.String(length=100), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        *_id_and_created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulatory_report")),
        sa.UniqueConstraint(
            "kind",
            "period_start",
            "version",
            name=op.f("uq_regulatory_report_kind_period_start_version"),
        ),
    )
    op.execute(IMMUTABLE_FUNCTION)
    op.execute(
        "CREATE TRIGGER regulatory_report_immutable BEFORE UPDATE OR DELETE ON regulatory_report "
        "FOR EACH ROW EXECUTE FUNCTION regulatory_report_refuse_change()"
    )
    op.create_table(
        "monitoring_alert",
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("institution_id", sa.Uuid(), nullable=True),
        sa.Column("loan_id", sa.Uuid(), nullable=True),
        sa.Column("summary_zh", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("details", JSONB, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        *_id_and_created(),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_monitoring_alert_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_monitoring_alert_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_monitoring_alert_loan_id_loan")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["app_user.id"], name=op.f("fk_monitoring_alert_assignee_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_alert")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_monitoring_alert_dedupe_key")),
    )
    op.create_index(op.f("ix_monitoring_alert_rule"), "monitoring_alert", ["rule"])
    op.create_index(op.f("ix_monitoring_alert_state"), "monitoring_alert", ["state"])
    op.create_table(
        "payment_party",
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("payer_account", sa.Text(), nullable=False),
        sa.Column("payer_account_hash", sa.String(length=64), nullable=False),
        sa.Column("borrower_account_hash", sa.String(length=64), nullable=False),
        *_id_and_created(),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_payment_party_loan_id_loan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_party")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_party_idempotency_key")),
    )
    op.create_index(op.f("ix_payment_party_loan_id"), "payment_party", ["loan_id"])
    op.create_index(
        op.f("ix_payment_party_payer_account_hash"), "payment_party", ["payer_account_hash"]
    )
    op.create_table(
        "outcome_rating",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_by", sa.Uuid(), nullable=False),
        *_id_and_created(),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_outcome_rating_score_range")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_application.id"],
            name=op.f("fk_outcome_rating_application_id_loan_application"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_outcome_rating_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_outcome_rating_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_product.id"],
            name=op.f("fk_outcome_rating_product_id_loan_product"),
        ),
        sa.ForeignKeyConstraint(
            ["rated_by"], ["app_user.id"], name=op.f("fk_outcome_rating_rated_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_rating")),
        sa.UniqueConstraint(
            "application_id", "outcome", name=op.f("uq_outcome_rating_application_id_outcome")
        ),
    )
    op.create_index(op.f("ix_outcome_rating_enterprise_id"), "outcome_rating", ["enterprise_id"])
    op.create_index(op.f("ix_outcome_rating_institution_id"), "outcome_rating", ["institution_id"])


def downgrade() -> None:
    op.drop_table("outcome_rating")
    op.drop_table("payment_party")
    op.drop_table("monitoring_alert")
    op.execute("DROP TRIGGER IF EXISTS regulatory_report_immutable ON regulatory_report")
    op.execute("DROP FUNCTION IF EXISTS regulatory_report_refuse_change()")
    op.drop_table("regulatory_report")
