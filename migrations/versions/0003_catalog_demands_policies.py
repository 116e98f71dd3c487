"""Product catalog with versions, LPR data, support policies, financing demands and matches.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:33:31.618114
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("uq_human_task_workflow_id_kind_round", "human_task", type_="unique")
    op.create_unique_constraint(
        "uq_human_task_workflow_id_kind_round_institution_id",
        "human_task",
        ["workflow_id", "kind", "round", "institution_id"],
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "lpr_rate",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenor", sa.String(length=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lpr_rate")),
        sa.UniqueConstraint(
            "tenor", "effective_date", name=op.f("uq_lpr_rate_tenor_effective_date")
        ),
    )
    op.create_table(
        "financing_demand",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("financing_type", sa.String(length=32), nullable=False),
        sa.Column("repayment_method", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column(
            "selected_product_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_financing_demand_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_financing_demand")),
    )
    op.create_index(
        op.f("ix_financing_demand_enterprise_id"),
        "financing_demand",
        ["enterprise_id"],
        unique=False,
    )
    op.create_table(
        "support_policy",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column(
            "terms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published_by", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by"], ["app_user.id"], name=op.f("fk_support_policy_published_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_policy")),
    )
    op.create_table(
        "demand_response",
        sa.Column("demand_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("indicative_rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("indicative_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("responded_by", sa.Uuid(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["financing_demand.id"],
            name=op.f("fk_demand_response_demand_id_financing_demand"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_demand_response_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["responded_by"], ["app_user.id"], name=op.f("fk_demand_response_responded_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_response")),
        sa.UniqueConstraint(
            "demand_id", "institution_id", name=op.f("uq_demand_response_demand_id_institution_id")
        ),
    )
    op.create_index(
        op.f("ix_demand_response_demand_id"), "demand_response", ["demand_id"], unique=False
    )
    op.create_table(
        "loan_product",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_loan_product_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_product")),
        sa.UniqueConstraint(
            "institution_id", "code", name=op.f("uq_loan_product_institution_id_code")
        ),
    )
    op.create_index(
        op.f("ix_loan_product_institution_id"), "loan_product", ["institution_id"], unique=False
    )
    op.create_table(
        "demand_match",
        sa.Column("demand_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("indicative_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column(
            "explanation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["financing_demand.id"],
            name=op.f("fk_demand_match_demand_id_financing_demand"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_demand_match_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_product.id"],
            name=op.f("fk_demand_match_product_id_loan_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_match")),
        sa.UniqueConstraint(
            "demand_id", "product_id", name=op.f("uq_demand_match_demand_id_product_id")
        ),
    )
    op.create_index(op.f("ix_demand_match_demand_id"), "demand_match", ["demand_id"], unique=False)
    op.create_table(
        "loan_product_version",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "terms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_loan_product_version_created_by_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_product.id"],
            name=op.f("fk_loan_product_version_product_id_loan_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_product_version")),
        sa.UniqueConstraint(
            "product_id", "version", name=op.f("uq_loan_product_version_product_id_version")
        ),
    )
    op.create_index(
        op.f("ix_loan_product_version_product_id"),
        "loan_product_version",
        ["product_id"],
        unique=False,
    )
    # Published LPR history as reference data (PBoC/NIFC, 20th of the month); admins add newer
    # publications through POST /api/v1/lpr.
    lpr = sa.table(
        "lpr_rate",
        sa.column("tenor", sa.String),
        sa.column("rate", sa.Numeric),
        sa.column("effective_date", sa.Date),
    )
    op.bulk_insert(
        lpr,
        [
            {"tenor": "1Y", "rate": Decimal("0.0310"), "effective_date": date(2024, 10, 21)},
            {"tenor": "5Y", "rate": Decimal("0.0360"), "effective_date": date(2024, 10, 21)},
            {"tenor": "1Y", "rate": Decimal("0.0300"), "effective_date": date(2025, 5, 20)},
            {"tenor": "5Y", "rate": Decimal("0.0350"), "effective_date": date(2025, 5, 20)},
        ],
    )


def downgrade() -> None:
    op.drop_constraint(
        "uq_human_task_workflow_id_kind_round_institution_id", "human_task", type_="unique"
    )
    op.create_unique_constraint(
        "uq_human_task_workflow_id_kind_round", "human_task", ["workflow_id", "kind", "round"]
    )
    op.drop_index(op.f("ix_loan_product_version_product_id"), table_name="loan_product_version")
    op.drop_table("loan_product_version")
    op.drop_index(op.f("ix_demand_match_demand_id"), table_name="demand_match")
    op.drop_table("demand_match")
    op.drop_index(op.f("ix_loan_product_institution_id"), table_name="loan_product")
    op.drop_table("loan_product")
    op.drop_index(op.f("ix_demand_response_demand_id"), table_name="demand_response")
    op.drop_table("demand_response")
    op.drop_table("support_policy")
    op.drop_index(op.f("ix_financing_demand_enterprise_id"), table_name="financing_demand")
    op.drop_table("financing_demand")
    op.drop_table("lpr_rate")
