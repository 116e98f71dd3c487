"""User administration: platform admins create any user, institution admins their own staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.exc import IntegrityError

from api.errors import ApiError
from api.schemas import UserCreate, UserOut
from db.models import AppUser
from db.repositories import InstitutionRepository, UserRepository
from domain.errors import BusinessRuleError, issue
from domain.passwords import check_password_strength
from domain.roles import INSTITUTION_ROLES, Role, tenancy_required
from gateway.deps import SessionDep, require_roles
from services.credentials import hash_password
from services.principal import Principal

router = APIRouter(prefix="/api/v1/users", tags=["users"])

Admin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN))]


@router.post("", operation_id="create_user", response_model=UserOut, status_code=201)
async def create_user(body: UserCreate, admin: Admin, session: SessionDep) -> AppUser:
    """Create a staff user; applicants register themselves through onboarding instead."""
    if body.role is Role.APPLICANT:
        raise BusinessRuleError(
            [
                issue(
                    "role",
                    "user.applicant_self_registers",
                    "企业用户须通过注册流程创建",
                    "Applicants register through enterprise onboarding",
                )
            ]
        )
    if admin.role is Role.INSTITUTION_ADMIN and (
        body.role not in INSTITUTION_ROLES or body.institution_id != admin.institution_id
    ):
        raise ApiError(
            403,
            "auth.role_not_allowed",
            "机构管理员只能为本机构创建员工",
            "Institution admins create staff of their own institution only",
        )
    problems = check_password_strength(body.password, body.username)
    if tenancy_required(body.role) == "institution":
        if body.institution_id is None:
            problems.append(
                issue(
                    "institution_id",
                    "field.required",
                    "此角色必须属于某个机构",
                    "This role belongs to an institution",
                )
            )
        elif await InstitutionRepository(session).get(body.institution_id) is None:
            problems.append(
                issue("institution_id", "institution.unknown", "机构不存在", "No such institution")
            )
    elif body.institution_id is not None:
        problems.append(
            issue(
                "institution_id",
                "field.not_allowed",
                "此角色不属于机构",
                "This role does not belong to an institution",
            )
        )
    if problems:
        raise BusinessRuleError(problems)
    repo = UserRepository(session)
    user = AppUser(
        username=body.username,
        password_hash=hash_password(body.password),
        role=body.role.value,
        display_name=body.display_name,
        institution_id=body.institution_id,
    )
    try:
        await repo.add(user)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(
            409, "user.username_taken", "用户名已被使用", "The username is taken"
        ) from exc
    return user
