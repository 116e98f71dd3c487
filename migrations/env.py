"""Alembic environment: async engine on the URL from LoanBridge settings or the caller."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import db.all_models  # noqa: F401 - registers every table on the metadata
from config.settings import get_settings
from db.base import Base
from db.session import create_engine, sqlalchemy_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return sqlalchemy_url(url)
    settings_url = get_settings().database_url
    if not settings_url:
        raise SystemExit("DATABASE_URL is not set: alembic needs a database to migrate")
    return sqlalchemy_url(settings_url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(_url(), pool_size=1)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
