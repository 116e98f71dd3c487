"""The message centre in English: ``notification`` keeps the English subject and body beside the
Chinese ones (an applicant reading the portal in English reads the notice in English). Notices
sent before keep NULL there and are shown in Chinese.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notification", sa.Column("subject_en", sa.String(200), nullable=True))
    op.add_column("notification", sa.Column("body_en", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("notification", "body_en")
    op.drop_column("notification", "subject_en")
