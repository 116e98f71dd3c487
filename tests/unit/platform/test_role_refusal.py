"""A refusal for the wrong role names the caller's role and the roles that may, in words, and
says the same thing in Chinese and English."""

from __future__ import annotations

import uuid

import pytest

from api.errors import ApiError
from domain.labels import known
from domain.roles import Role, role_names
from gateway.deps import require_roles
from services.principal import Principal


def test_every_role_has_a_name_in_both_languages() -> None:
    assert all(known("role", role.value) for role in Role)


def test_role_names_list_roles_in_a_stable_order() -> None:
    roles = [Role.PLATFORM_ADMIN, Role.SUPERVISOR, Role.OFFICER]
    assert role_names(roles, "zh") == "信贷审批员、信贷主管、平台管理员"
    assert role_names(iter(roles), "en") == "credit officer, credit supervisor or platform admin"
    assert role_names([Role.APPLICANT], "en") == "applicant"


async def test_require_roles_refuses_naming_the_roles_in_words() -> None:
    checker = require_roles(Role.OFFICER, Role.SUPERVISOR)
    applicant = Principal(uuid.uuid4(), Role.APPLICANT, uuid.uuid4(), None)
    with pytest.raises(ApiError) as refused:
        await checker(applicant)
    error = refused.value
    assert (error.status, error.code) == (403, "auth.role_not_allowed")
    assert error.zh == "当前角色（企业用户）无权执行此操作，仅限：信贷审批员、信贷主管"
    assert error.en == (
        "Your role (applicant) may not do this; it is for: credit officer or credit supervisor"
    )


async def test_require_roles_lets_an_allowed_role_through() -> None:
    officer = Principal(uuid.uuid4(), Role.OFFICER, None, uuid.uuid4())
    assert await require_roles(Role.OFFICER, Role.SUPERVISOR)(officer) is officer
