"""Security hardening: account lock/unlock events, failed logins countable per client address.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_lock_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "user_id",
            sa.Uuid(),
            sa.ForeignKey(
                "app_user.id", ondelete="CASCADE", name="fk_account_lock_event_user_id_app_user"
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("locked_until", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_lock_event"),
    )
    op.create_index("ix_account_lock_event_user_at", "account_lock_event", ["user_id", "at"])
    op.create_index("ix_login_attempt_client_ip_at", "login_attempt", ["client_ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempt_client_ip_at", table_name="login_attempt")
    op.drop_index("ix_account_lock_event_user_at", table_name="account_lock_event")
    op.drop_table("account_lock_event")
