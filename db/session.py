"""Engine and session factory built from settings, never at import time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def sqlalchemy_url(database_url: str) -> str:
    """Normalise any PostgreSQL URL to SQLAlchemy's psycopg 3 dialect."""
    for prefix in (
        "postgresql+psycopg://",
        "postgresql+psycopg2://",
        "postgresql://",
        "postgres://",
    ):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def libpq_url(database_url: str) -> str:
    """The same URL in the plain form psycopg and libpq tools accept."""
    return sqlalchemy_url(database_url).replace("postgresql+psycopg://", "postgresql://", 1)


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine with pre-ping so a restarted PostgreSQL is survived."""
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no lazy reloads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)
