"""Row-scoping for list queries: the WHERE clause that keeps each tenant to its own rows."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, false

from domain.roles import PLATFORM_WIDE_READERS, Role
from services.principal import Principal

SelectT = TypeVar("SelectT", bound=Select[Any])


def scope_to_tenant(
    stmt: SelectT,
    user: Principal,
    *,
    enterprise_column: Any = None,
    institution_column: Any = None,
) -> SelectT:
    """Restrict a SELECT to the caller's enterprise or institution (platform-wide roles see all)."""
    if user.role in PLATFORM_WIDE_READERS:
        return stmt
    if user.role is Role.APPLICANT and enterprise_column is not None and user.enterprise_id:
        return stmt.where(enterprise_column == user.enterprise_id)
    if institution_column is not None and user.institution_id and user.role is not Role.APPLICANT:
        return stmt.where(institution_column == user.institution_id)
    return stmt.where(false())
