"""Who may act on the platform: the roles of MISSION.md and what scope each one reads."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's single role; tenancy comes from the enterprise or institution it belongs to."""

    APPLICANT = "applicant"  # enterprise user
    OFFICER = "officer"  # credit officer of an institution
    SUPERVISOR = "supervisor"  # senior officer: four-eyes, write-off
    INSTITUTION_ADMIN = "institution_admin"
    COMPLIANCE = "compliance"
    REGULATOR = "regulator"
    PLATFORM_ADMIN = "platform_admin"


INSTITUTION_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.INSTITUTION_ADMIN})
PLATFORM_WIDE_READERS = frozenset({Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN})


def tenancy_required(role: Role) -> str | None:
    """Which tenant a user of this role must belong to: 'enterprise', 'institution' or None."""
    if role is Role.APPLICANT:
        return "enterprise"
    if role in INSTITUTION_ROLES:
        return "institution"
    return None
