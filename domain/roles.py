"""Who may act on the platform: the roles of MISSION.md and what scope each one reads."""

from __future__ import annotations

from collections.abc import Iterable
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

# What people call each role (MISSION.md's names), Chinese and English.
ROLE_NAMES: dict[Role, tuple[str, str]] = {
    Role.APPLICANT: ("企业用户", "enterprise user"),
    Role.OFFICER: ("信贷员", "credit officer"),
    Role.SUPERVISOR: ("信贷主管", "credit supervisor"),
    Role.INSTITUTION_ADMIN: ("机构管理员", "institution admin"),
    Role.COMPLIANCE: ("合规审计员", "compliance auditor"),
    Role.REGULATOR: ("监管人员", "regulator"),
    Role.PLATFORM_ADMIN: ("平台管理员", "platform admin"),
}


def role_names(roles: Iterable[Role], lang: str) -> str:
    """The roles in words, in a stable order: ``信贷员、信贷主管`` or ``credit officer or
    credit supervisor``."""
    index = 0 if lang == "zh" else 1
    wanted = set(roles)
    names = [ROLE_NAMES[r][index] for r in Role if r in wanted]
    if index == 0:
        return "、".join(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def tenancy_required(role: Role) -> str | None:
    """Which tenant a user of this role must belong to: 'enterprise', 'institution' or None."""
    if role is Role.APPLICANT:
        return "enterprise"
    if role in INSTITUTION_ROLES:
        return "institution"
    return None
