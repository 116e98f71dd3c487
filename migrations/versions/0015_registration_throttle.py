"""Registration throttle: registrations and codes texted per address and per mobile (issue 28/5).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("mobile_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_attempt")),
    )
    op.create_index(
        "ix_registration_attempt_ip", "registration_attempt", ["kind", "client_ip", "at"]
    )
    op.create_index(
        "ix_registration_attempt_mobile", "registration_attempt", ["kind", "mobile_hash", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_registration_attempt_mobile", table_name="registration_attempt")
    op.drop_index("ix_registration_attempt_ip", table_name="registration_attempt")
    op.drop_table("registration_attempt")
