"""Bootstrap accounts straight in the database (the first platform admin has nobody to ask): used
by `loanbridge admin create`, the demo, the benchmark and the tests."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError

from db.models import AppUser
from db.repositories import UserRepository
from db.session import create_engine, create_session_factory
from domain.passwords import check_password_strength
from domain.roles import Role
from services.credentials import hash_password


class AccountError(Exception):
    """The account cannot be created as asked; the message says why."""


async def create_platform_admin(
    database_url: str, username: str, password: str, display_name: str, *, exist_ok: bool = False
) -> uuid.UUID:
    """Create a platform admin; with exist_ok an existing admin of that name is returned."""
    problems = check_password_strength(password, username)
    if problems:
        raise AccountError("; ".join(f"{p.message_en} ({p.message_zh})" for p in problems))
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            repo = UserRepository(session)
            existing = await repo.by_username(username)
            if existing is not None:
                if exist_ok and existing.role == Role.PLATFORM_ADMIN:
                    return existing.id
                raise AccountError(f"the username {username} is taken")
            user = await repo.add(
                AppUser(
                    username=username,
                    password_hash=hash_password(password),
                    role=Role.PLATFORM_ADMIN.value,
                    display_name=display_name,
                )
            )
            return user.id
    except IntegrityError as exc:
        raise AccountError(f"the username {username} is taken") from exc
    finally:
        await engine.dispose()
