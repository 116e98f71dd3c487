"""Row scoping: applicants see their enterprise, staff their institution, others nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql

from api.errors import ApiError
from api.scoping import scope_to_tenant
from db.models import AppUser, HumanTask
from domain.roles import Role
from services.principal import Principal, ensure_tenant_access

ENT, INST = uuid.uuid4(), uuid.uuid4()


def _sql(user: Principal) -> str:
    stmt = scope_to_tenant(select(HumanTask), user, institution_column=HumanTask.institution_id)
    return _compile(stmt)


def _compile(stmt: Select[Any]) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_staff_are_scoped_to_their_institution() -> None:
    sql = _sql(Principal(uuid.uuid4(), Role.OFFICER, None, INST))
    assert f"human_task.institution_id = '{INST}'" in sql


def test_platform_wide_readers_see_all_and_applicants_without_column_see_nothing() -> None:
    assert "WHERE" not in _sql(Principal(uuid.uuid4(), Role.REGULATOR, None, None))
    assert "false" in _sql(Principal(uuid.uuid4(), Role.APPLICANT, ENT, None)).lower()


def test_applicants_are_scoped_to_their_enterprise() -> None:
    user = Principal(uuid.uuid4(), Role.APPLICANT, ENT, None)
    stmt = scope_to_tenant(select(AppUser), user, enterprise_column=AppUser.enterprise_id)
    assert f"app_user.enterprise_id = '{ENT}'" in _compile(stmt)


def test_other_tenants_records_answer_not_found() -> None:
    officer = Principal(uuid.uuid4(), Role.OFFICER, None, INST)
    ensure_tenant_access(officer, institution_id=INST)
    with pytest.raises(ApiError) as caught:
        ensure_tenant_access(officer, institution_id=uuid.uuid4())
    assert caught.value.status == 404
    applicant = Principal(uuid.uuid4(), Role.APPLICANT, ENT, None)
    with pytest.raises(ApiError):
        ensure_tenant_access(applicant, enterprise_id=uuid.uuid4(), institution_id=INST)
    ensure_tenant_access(Principal(uuid.uuid4(), Role.COMPLIANCE, None, None), enterprise_id=ENT)
