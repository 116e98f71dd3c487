"""Materials as files (issue 22): ``case_material`` holds every material of the checklist an
enterprise uploaded (financial statements, bank statements, business plan …) with its kind,
name, type judged on its bytes, size and SHA-256 (the bytes encrypted in the document store),
attached to one of its demands or applications, and what was read from a financial statement.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_material",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("demand_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column(
            "statement",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_case_material_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_application.id"],
            name=op.f("fk_case_material_application_id_loan_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["financing_demand.id"],
            name=op.f("fk_case_material_demand_id_financing_demand"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["app_user.id"],
            name=op.f("fk_case_material_uploaded_by_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_material")),
    )
    for column in ("enterprise_id", "application_id", "demand_id"):
        op.create_index(op.f(f"ix_case_material_{column}"), "case_material", [column], unique=False)


def downgrade() -> None:
    op.drop_table("case_material")
