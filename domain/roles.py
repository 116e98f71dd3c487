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


def role_names(roles: Iterable[Role], lang: str) -> str:
    """The roles in words (the label catalogue's), in a stable order, to be read inside a
    sentence: ``信贷审批员、信贷主管`` or ``credit officer or credit supervisor``."""
    from domain.labels import label  # the catalogue is read on first use

    wanted = set(roles)
    names = [label("role", r.value, lang) for r in Role if r in wanted]
    if lang == "zh":
        return "、".join(names)
    names = [name[:1].lower() + name[1:] for name in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def tenancy_required(role: Role) -> str | None:
    """Which tenant a user of this role must belong to: 'enterprise', 'institution' or None."""
    if role is Role.APPLICANT:
        return "enterprise"
    if role in INSTITUTION_ROLES:
        return "institution"
    return None
