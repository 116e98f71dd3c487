"""Staff accounts: platform admins create any staff user, institution admins their own
institution's staff (applicants register through onboarding instead), and lift the lock placed
on an account after repeated failed logins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import ConfigDict, Field, WithJsonSchema
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from db.models import AppUser
from db.repositories import InstitutionRepository, UserRepository
from db.security import LoginGuardRepository
from domain.errors import BusinessRuleError, issue
from domain.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from domain.passwords import check_password_strength
from domain.roles import INSTITUTION_ROLES, Role, tenancy_required
from services.credentials import hash_password
from services.errors import Refusal, not_found
from services.inputs import Schema, ServerRule, password_rules, server_rules
from services.principal import Principal, require_role

# Who administers staff accounts (each institution admin only their own institution's).
ACCOUNT_ADMINS = (Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN)
STAFF_ROLES = sorted(role.value for role in Role if role is not Role.APPLICANT)
_INSTITUTION_ROLES = sorted(role.value for role in INSTITUTION_ROLES)


class UserCreate(Schema):
    """A staff account: institution roles belong to an institution, the others to none
    (applicants register through enterprise onboarding)."""

    model_config = ConfigDict(
        json_schema_extra=server_rules(
            *password_rules("password"),
            ServerRule("institution_id", "institution.unknown", "names an existing institution"),
            **{
                "if": {"properties": {"role": {"enum": _INSTITUTION_ROLES}}},
                "then": {
                    "required": ["institution_id"],
                    "properties": {"institution_id": {"type": "string"}},
                },
                "else": {"properties": {"institution_id": {"type": "null"}}},
            },
        )
    )

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(
        min_length=1, max_length=128, json_schema_extra={"minLength": MIN_PASSWORD_LENGTH}
    )
    role: Annotated[Role, WithJsonSchema({"type": "string", "enum": STAFF_ROLES})]
    display_name: str = Field(default="", max_length=100)
    institution_id: uuid.UUID | None = None


async def create_staff(session: AsyncSession, admin: Principal, body: UserCreate) -> AppUser:
    """Create a staff user; an institution admin only for their own institution."""
    require_role(admin, *ACCOUNT_ADMINS)
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
        raise Refusal(
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
    user = AppUser(
        username=body.username,
        password_hash=hash_password(body.password),
        role=body.role.value,
        display_name=body.display_name,
        institution_id=body.institution_id,
    )
    try:
        await UserRepository(session).add(user)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Refusal(
            409, "user.username_taken", "用户名已被使用", "The username is taken"
        ) from exc
    return user


async def institution_staff(session: AsyncSession, admin: Principal) -> list[AppUser]:
    """The staff of the admin's institution, by role and username (at most 500)."""
    require_role(admin, Role.INSTITUTION_ADMIN)
    return await UserRepository(session).of_institution(admin.institution_id, limit=500)


class AccountLockOut(Schema):
    """Whether an account is locked, and the failed logins counted against it."""

    user_id: uuid.UUID
    username: str
    locked: bool
    locked_until: datetime | None
    recent_failures: int


async def _managed_user(session: AsyncSession, admin: Principal, user_id: uuid.UUID) -> AppUser:
    """Platform admins manage every account, institution admins their own staff (else 404)."""
    require_role(admin, *ACCOUNT_ADMINS)
    user = await session.get(AppUser, user_id, with_for_update=True)
    if user is None or (
        admin.role is Role.INSTITUTION_ADMIN and user.institution_id != admin.institution_id
    ):
        raise not_found()
    return user


async def _status(guard: LoginGuardRepository, user: AppUser, settings: Settings) -> AccountLockOut:
    window = timedelta(seconds=settings.login_lockout_window_s)
    until = user.locked_until
    return AccountLockOut(
        user_id=user.id,
        username=user.username,
        locked=until is not None and until > datetime.now(UTC),
        locked_until=until,
        recent_failures=await guard.failures_for_username(user.username, window),
    )


async def lock_status(
    session: AsyncSession, settings: Settings, admin: Principal, user_id: uuid.UUID
) -> AccountLockOut:
    """Is the account locked, and how many failed logins count against it."""
    user = await _managed_user(session, admin, user_id)
    return await _status(LoginGuardRepository(session), user, settings)


async def unlock(
    session: AsyncSession, settings: Settings, admin: Principal, user_id: uuid.UUID
) -> AccountLockOut:
    """Lift the lock and reset the failed-login counters (every attempt stays on record)."""
    user = await _managed_user(session, admin, user_id)
    guard = LoginGuardRepository(session)
    await guard.unlock(user, actor=admin.actor)
    status = await _status(guard, user, settings)
    await session.commit()
    return status
