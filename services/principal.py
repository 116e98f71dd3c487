"""The acting principal (who calls, in which role, for which tenant) and the role and tenancy
checks every service makes through it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role, role_names
from services.errors import Refusal, not_found


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, taken from a verified access token."""

    user_id: uuid.UUID
    role: Role
    enterprise_id: uuid.UUID | None
    institution_id: uuid.UUID | None
    session_version: int = 0

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"


def role_refusal(role: Role, allowed: Iterable[Role]) -> Refusal:
    """403 naming the caller's role and the roles that may, in words, the same in both
    languages."""
    return Refusal(
        403,
        "auth.role_not_allowed",
        f"当前角色（{role_names([role], 'zh')}）无权执行此操作，仅限：{role_names(allowed, 'zh')}",
        f"Your role ({role_names([role], 'en')}) may not do this; it is for: "
        f"{role_names(allowed, 'en')}",
    )


def require_role(user: Principal, *roles: Role) -> Principal:
    """The caller, who must hold one of ``roles`` (403 naming them otherwise)."""
    if user.role not in roles:
        raise role_refusal(user.role, roles)
    return user


def own_enterprise_id(user: Principal) -> uuid.UUID:
    """The caller's enterprise (403 for an account without one)."""
    if user.enterprise_id is None:
        raise Refusal(403, "auth.no_enterprise", "账号未关联企业", "No enterprise on this account")
    return user.enterprise_id


def ensure_tenant_access(
    user: Principal,
    *,
    enterprise_id: uuid.UUID | None = None,
    institution_id: uuid.UUID | None = None,
) -> None:
    """Row scoping: applicants see only their enterprise, institution staff only their institution.

    Platform-wide readers (compliance, regulator, platform admin) pass; everyone else must
    own the record through the tenant that the record names.
    """
    if user.role in PLATFORM_WIDE_READERS:
        return
    if enterprise_id is not None and user.enterprise_id == enterprise_id:
        return
    if institution_id is not None and user.institution_id == institution_id:
        return
    # 404, not 403: another tenant's record must not even be confirmed to exist.
    raise not_found()


def sees_case(user: Principal, enterprise_id: uuid.UUID, institution_id: uuid.UUID) -> bool:
    """The caller may see an application or a loan of this enterprise at this institution:
    the enterprise itself, staff of the institution, or a platform-wide reader."""
    return (
        user.role in PLATFORM_WIDE_READERS
        or user.enterprise_id == enterprise_id
        or (user.role in INSTITUTION_ROLES and user.institution_id == institution_id)
    )
