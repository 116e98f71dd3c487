"""Every lifecycle column holds only its statuses (issue 20): CHECK constraints.

The values are those of ``domain.lifecycle`` on the day of this revision, written out here so
the revision never changes with the code; the strings are the ones the rows hold already, so
no data changes. A later status is added by a revision of its own.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) → the statuses it may hold.
STATUSES: dict[tuple[str, str], tuple[str, ...]] = {
    ("loan_application", "status"): (
        "submitted",
        "materials_requested",
        "assessing",
        "in_review",
        "info_requested",
        "approved",
        "offered",
        "counter_offered",
        "disbursing",
        "disbursed",
        "declined",
        "expired",
        "offer_refused",
        "withdrawn",
        "lapsed",
        "disbursement_failed",
    ),
    ("loan", "status"): ("pending", "active", "not_disbursed", "closed", "written_off"),
    ("enterprise", "status"): (
        "awaiting_otp",
        "awaiting_documents",
        "verifying",
        "in_review",
        "verified",
        "rejected",
        "lapsed",
        "expired",
    ),
    ("financing_demand", "status"): (
        "matching",
        "awaiting_responses",
        "awaiting_selection",
        "selected",
        "no_match",
        "withdrawn",
        "expired",
    ),
    ("demand_response", "status"): (
        "pending",
        "reminded",
        "interested",
        "declined",
        "lapsed",
        "cancelled",
    ),
    ("human_task", "state"): ("open", "claimed", "waiting", "done", "cancelled"),
    ("payment_instruction", "status"): ("pending", "succeeded", "failed"),
}


def upgrade() -> None:
    for (table, column), statuses in STATUSES.items():
        listed = ", ".join(f"'{status}'" for status in statuses)
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, f"{column} IN ({listed})")


def downgrade() -> None:
    for table, column in reversed(STATUSES):
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
