"""`loanbridge admin unlock`: lift a login lock straight in the database (the admin may be the
one locked out; the API's ``POST /api/v1/users/{id}/unlock`` serves everyone else)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from db.repositories import UserRepository
from db.security import LoginGuardRepository
from db.session import create_engine, create_session_factory


async def unlock_account(database_url: str, username: str) -> bool:
    """Unlock an account and reset its failure counters; False when there is no such user."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            user = await UserRepository(session).by_username(username)
            if user is None:
                return False
            await LoginGuardRepository(session).unlock(user, actor="cli")
            return True
    finally:
        await engine.dispose()


def register(admin_app: typer.Typer) -> None:
    """Add the unlock command to the `admin` group."""

    @admin_app.command("unlock")
    def admin_unlock(username: Annotated[str, typer.Argument(help="account to unlock")]) -> None:
        """Unlock an account locked after failed logins and reset its counters."""
        from cli.preflight import ConfigurationError, check_database
        from cli.refusals import fail
        from cli.session import database_url, settings

        url = database_url(settings())
        try:
            check_database(url)
        except ConfigurationError as exc:
            fail(str(exc))
        if not asyncio.run(unlock_account(url, username)):
            typer.secho(f"error: no account named {username}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2)
        typer.echo(f"{username} is unlocked; failed logins are counted afresh")
