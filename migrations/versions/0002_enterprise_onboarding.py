"""Enterprise onboarding: enterprises (personal data encrypted), OTPs, documents, consents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:11:45.963401
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enterprise",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("registered_capital", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("founding_date", sa.Date(), nullable=False),
        sa.Column("business_scope", sa.Text(), nullable=False),
        sa.Column("industry", sa.String(length=1), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("legal_rep_name", sa.String(length=100), nullable=False),
        sa.Column("legal_rep_id_number", sa.Text(), nullable=False),
        sa.Column("legal_rep_id_hash", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.Text(), nullable=False),
        sa.Column("mobile_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.String(length=100), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("share_profile_with_matched", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprise_uscc")),
    )
    op.create_index(
        op.f("ix_enterprise_legal_rep_id_hash"), "enterprise", ["legal_rep_id_hash"], unique=False
    )
    op.create_index(op.f("ix_enterprise_mobile_hash"), "enterprise", ["mobile_hash"], unique=False)
    op.create_table(
        "enterprise_document",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_enterprise_document_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_document")),
        sa.UniqueConstraint(
            "enterprise_id",
            "kind",
            "sha256",
            name=op.f("uq_enterprise_document_enterprise_id_kind_sha256"),
        ),
    )
    op.create_index(
        op.f("ix_enterprise_document_enterprise_id"),
        "enterprise_document",
        ["enterprise_id"],
        unique=False,
    )
    op.create_table(
        "notification",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("channels", sa.String(length=64), nullable=False),
        sa.Column("delivery_key", sa.String(length=300), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_notification_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("delivery_key", name=op.f("uq_notification_delivery_key")),
    )
    op.create_index(
        op.f("ix_notification_enterprise_id"), "notification", ["enterprise_id"], unique=False
    )
    op.create_table(
        "otp_challenge",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_otp_challenge_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_challenge")),
    )
    op.create_index(
        op.f("ix_otp_challenge_enterprise_id"), "otp_challenge", ["enterprise_id"], unique=False
    )
    op.create_table(
        "consent",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_consent_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["app_user.id"], name=op.f("fk_consent_granted_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_consent_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index(
        "ix_consent_lookup", "consent", ["enterprise_id", "institution_id", "scope"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_app_user_enterprise_id_enterprise"),
        "app_user",
        "enterprise",
        ["enterprise_id"],
        ["id"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_app_user_enterprise_id_enterprise"), "app_user", type_="foreignkey")
    op.drop_index("ix_consent_lookup", table_name="consent")
    op.drop_table("consent")
    op.drop_index(op.f("ix_otp_challenge_enterprise_id"), table_name="otp_challenge")
    op.drop_table("otp_challenge")
    op.drop_index(op.f("ix_notification_enterprise_id"), table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_enterprise_document_enterprise_id"), table_name="enterprise_document")
    op.drop_table("enterprise_document")
    op.drop_index(op.f("ix_enterprise_mobile_hash"), table_name="enterprise")
    op.drop_index(op.f("ix_enterprise_legal_rep_id_hash"), table_name="enterprise")
    op.drop_table("enterprise")
