"""Registration secret: anonymous reads and code attempts of a registration need it (issue 28/6).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "enterprise", sa.Column("registration_secret_hash", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("enterprise", "registration_secret_hash")
