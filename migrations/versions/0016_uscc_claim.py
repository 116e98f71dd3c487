"""A USCC is held by a claim, not by every registration of it (issue 28/3).

``enterprise.uscc`` loses its UNIQUE constraint: registrations of one USCC may run side by side
until the registry and the identity bureau confirm one's legal representative, which claims the
USCC in ``uscc_claim`` (one row per USCC). Enterprises verified or being verified before this
revision keep holding theirs.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uscc_claim",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_uscc_claim_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uscc", name=op.f("pk_uscc_claim")),
        sa.UniqueConstraint("enterprise_id", name=op.f("uq_uscc_claim_enterprise_id")),
    )
    op.execute(
        "INSERT INTO uscc_claim (uscc, enterprise_id, claimed_at) "
        "SELECT uscc, id, coalesce(verified_at, now()) FROM enterprise "
        "WHERE status IN ('verified', 'verifying', 'in_review')"
    )
    op.drop_constraint(op.f("uq_enterprise_uscc"), "enterprise", type_="unique")
    op.create_index(op.f("ix_enterprise_uscc"), "enterprise", ["uscc"])


def downgrade() -> None:
    # Fails while two enterprises share a USCC: decide which registrations to remove first.
    op.drop_index(op.f("ix_enterprise_uscc"), table_name="enterprise")
    op.create_unique_constraint(op.f("uq_enterprise_uscc"), "enterprise", ["uscc"])
    op.drop_table("uscc_claim")
