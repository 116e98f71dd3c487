"""Loan applications, loans, payment instructions (unique key) and the double-entry journal.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 15:10:31.775121
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loan_application",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("repayment_method", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=False),
        sa.Column(
            "assessment",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "offer",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["financing_demand.id"],
            name=op.f("fk_loan_application_demand_id_financing_demand"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_loan_application_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_loan_application_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_product.id"],
            name=op.f("fk_loan_application_product_id_loan_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_application")),
    )
    op.create_index(
        op.f("ix_loan_application_enterprise_id"),
        "loan_application",
        ["enterprise_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_loan_application_institution_id"),
        "loan_application",
        ["institution_id"],
        unique=False,
    )
    op.create_table(
        "loan",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("principal", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("repayment_method", sa.String(length=32), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("disbursed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_application.id"],
            name=op.f("fk_loan_application_id_loan_application"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_loan_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institution.id"], name=op.f("fk_loan_institution_id_institution")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan")),
        sa.UniqueConstraint("application_id", name=op.f("uq_loan_application_id")),
    )
    op.create_index(op.f("ix_loan_enterprise_id"), "loan", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_loan_institution_id"), "loan", ["institution_id"], unique=False)
    op.create_table(
        "journal",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=True),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"], name=op.f("fk_journal_loan_id_loan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
        sa.UniqueConstraint("key", name=op.f("uq_journal_key")),
    )
    op.create_index(op.f("ix_journal_loan_id"), "journal", ["loan_id"], unique=False)
    op.create_table(
        "payment_instruction",
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_reference", sa.String(length=128), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_payment_instruction_loan_id_loan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_instruction")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_instruction_idempotency_key")),
    )
    op.create_index(
        op.f("ix_payment_instruction_loan_id"), "payment_instruction", ["loan_id"], unique=False
    )
    op.create_table(
        "journal_line",
        sa.Column("journal_id", sa.Uuid(), nullable=False),
        sa.Column("account", sa.String(length=48), nullable=False),
        sa.Column("debit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("credit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["journal.id"],
            name=op.f("fk_journal_line_journal_id_journal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_line")),
    )
    op.create_index(
        op.f("ix_journal_line_journal_id"), "journal_line", ["journal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_journal_line_journal_id"), table_name="journal_line")
    op.drop_table("journal_line")
    op.drop_index(op.f("ix_payment_instruction_loan_id"), table_name="payment_instruction")
    op.drop_table("payment_instruction")
    op.drop_index(op.f("ix_journal_loan_id"), table_name="journal")
    op.drop_table("journal")
    op.drop_index(op.f("ix_loan_institution_id"), table_name="loan")
    op.drop_index(op.f("ix_loan_enterprise_id"), table_name="loan")
    op.drop_table("loan")
    op.drop_index(op.f("ix_loan_application_institution_id"), table_name="loan_application")
    op.drop_index(op.f("ix_loan_application_enterprise_id"), table_name="loan_application")
    op.drop_table("loan_application")
