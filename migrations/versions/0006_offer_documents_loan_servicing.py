"""Offer documents, loan servicing read model, transactions, classification history and
portfolio snapshots.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:57:06.752800
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portfolio_snapshot",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column(
            "figures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_portfolio_snapshot_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_snapshot")),
        sa.UniqueConstraint(
            "as_of", "institution_id", name=op.f("uq_portfolio_snapshot_as_of_institution_id")
        ),
    )
    op.create_index(
        op.f("ix_portfolio_snapshot_institution_id"),
        "portfolio_snapshot",
        ["institution_id"],
        unique=False,
    )
    op.create_table(
        "loan_classification",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False, server_default="normal"),
        sa.Column("previous_category", sa.String(length=24), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_loan_classification_loan_id_loan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_classification")),
        sa.UniqueConstraint(
            "loan_id",
            "as_of",
            "category",
            name=op.f("uq_loan_classification_loan_id_as_of_category"),
        ),
    )
    op.create_index(
        op.f("ix_loan_classification_loan_id"), "loan_classification", ["loan_id"], unique=False
    )
    op.create_table(
        "loan_document",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_application.id"],
            name=op.f("fk_loan_document_application_id_loan_application"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_loan_document_loan_id_loan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_document")),
        sa.UniqueConstraint(
            "application_id",
            "kind",
            "reference",
            name=op.f("uq_loan_document_application_id_kind_reference"),
        ),
    )
    op.create_index(
        op.f("ix_loan_document_application_id"), "loan_document", ["application_id"], unique=False
    )
    op.create_index(op.f("ix_loan_document_loan_id"), "loan_document", ["loan_id"], unique=False)
    op.create_table(
        "loan_transaction",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column(
            "allocation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_loan_transaction_loan_id_loan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_transaction")),
        sa.UniqueConstraint("key", name=op.f("uq_loan_transaction_key")),
    )
    op.create_index(
        op.f("ix_loan_transaction_loan_id"), "loan_transaction", ["loan_id"], unique=False
    )
    op.add_column("loan", sa.Column("signed_name", sa.Text(), nullable=True))
    op.add_column("loan", sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "loan", sa.Column("offer_sha256", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column(
        "loan",
        sa.Column(
            "outstanding_principal",
            sa.Numeric(precision=18, scale=2),
            nullable=False,
            server_default="0",
        ),
    )
    op.add_column(
        "loan", sa.Column("days_past_due", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "loan", sa.Column("category", sa.String(length=24), nullable=False, server_default="normal")
    )
    op.add_column("loan", sa.Column("next_due_date", sa.Date(), nullable=True))
    op.add_column("loan", sa.Column("maturity_date", sa.Date(), nullable=True))
    op.add_column("loan", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "loan",
        sa.Column(
            "account_state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default="{}",
        ),
    )


def downgrade() -> None:
    op.drop_column("loan", "account_state")
    op.drop_column("loan", "closed_at")
    op.drop_column("loan", "maturity_date")
    op.drop_column("loan", "next_due_date")
    op.drop_column("loan", "category")
    op.drop_column("loan", "days_past_due")
    op.drop_column("loan", "outstanding_principal")
    op.drop_column("loan", "offer_sha256")
    op.drop_column("loan", "accepted_at")
    op.drop_column("loan", "signed_name")
    op.drop_index(op.f("ix_loan_transaction_loan_id"), table_name="loan_transaction")
    op.drop_table("loan_transaction")
    op.drop_index(op.f("ix_loan_document_loan_id"), table_name="loan_document")
    op.drop_index(op.f("ix_loan_document_application_id"), table_name="loan_document")
    op.drop_table("loan_document")
    op.drop_index(op.f("ix_loan_classification_loan_id"), table_name="loan_classification")
    op.drop_table("loan_classification")
    op.drop_index(op.f("ix_portfolio_snapshot_institution_id"), table_name="portfolio_snapshot")
    op.drop_table("portfolio_snapshot")
