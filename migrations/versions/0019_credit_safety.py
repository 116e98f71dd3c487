"""Credit safety (issue 21). One open application per enterprise, product and purpose:
``loan_application``
records the financing purpose it was made for (normalised; empty when none was stated) and a
partial unique index over the open ones makes a second, however concurrent, impossible to
record. Rows from before keep an empty purpose, except the later of duplicates already open
side by side: those keep NULL (outside the index) and close as their workflows decide.

A verified signer: ``signing_challenge`` keeps the keyed hash of each one-time code texted to
the legal representative to confirm an offer's acceptance, with the letter's SHA-256, its
expiry, its wrong attempts and when it was consumed or voided.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The application statuses that are not final (domain.lifecycle.OPEN_APPLICATION) as of 0019.
_OPEN = (
    "status IN ('approved', 'assessing', 'counter_offered', 'disbursing', 'in_review', "
    "'info_requested', 'materials_requested', 'offered', 'submitted')"
)
_BACKFILL = """
UPDATE loan_application AS a SET purpose = ''
WHERE a.status NOT IN ('approved', 'assessing', 'counter_offered', 'disbursing', 'in_review',
                       'info_requested', 'materials_requested', 'offered', 'submitted')
   OR NOT EXISTS (
       SELECT 1 FROM loan_application AS b
       WHERE b.enterprise_id = a.enterprise_id AND b.product_id = a.product_id
         AND b.status IN ('approved', 'assessing', 'counter_offered', 'disbursing',
                          'in_review', 'info_requested', 'materials_requested', 'offered',
                          'submitted')
         AND (b.created_at, b.id) < (a.created_at, a.id)
   )
"""


def upgrade() -> None:
    op.add_column("loan_application", sa.Column("purpose", sa.String(200), nullable=True))
    # Every row gets the empty purpose, but an open one with an older open sibling for the
    # same enterprise and product: the first keeps the place, the later ones stay NULL.
    op.execute(_BACKFILL)
    op.create_index(
        "uq_loan_application_open",
        "loan_application",
        ["enterprise_id", "product_id", "purpose"],
        unique=True,
        postgresql_where=sa.text(f"purpose IS NOT NULL AND {_OPEN}"),
    )
    op.create_table(
        "signing_challenge",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_application.id"],
            name=op.f("fk_signing_challenge_application_id_loan_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_challenge")),
    )
    op.create_index(
        op.f("ix_signing_challenge_application_id"),
        "signing_challenge",
        ["application_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("signing_challenge")
    op.drop_index("uq_loan_application_open", table_name="loan_application")
    op.drop_column("loan_application", "purpose")
