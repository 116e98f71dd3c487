"""The officer inbox's index covers its whole sort order (due time, then creation time).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 20:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_human_task_inbox", table_name="human_task")
    op.create_index(
        "ix_human_task_inbox",
        "human_task",
        ["institution_id", "state", "due_at", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_human_task_inbox", table_name="human_task")
    op.create_index(
        "ix_human_task_inbox", "human_task", ["institution_id", "state", "due_at"], unique=False
    )
