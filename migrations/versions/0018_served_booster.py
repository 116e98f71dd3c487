"""A gradient-boosting champion can serve (issue 21): the registry keeps the model's LightGBM
text beside its SHA-256, as it keeps the scorecard's JSON, so every process serves the same
bytes without sharing the artifact directory. Versions registered before keep it empty and
serve only if their champion is the scorecard.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("credit_model_version", sa.Column("challenger_model", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("credit_model_version", "challenger_model")
