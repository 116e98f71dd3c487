"""Deny by default: a route without a declared access policy, or one that disagrees with its
dependencies, is reported by name (what the authorization matrix asserts on the real app)."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI

from api import access
from api.access import Tenancy, grant, policy_problems
from config.settings import Settings
from domain.roles import Role
from gateway.deps import CurrentUser, require_roles
from server import create_app
from services.principal import Principal

Officer = Annotated[Principal, Depends(require_roles(Role.OFFICER))]


def _app() -> FastAPI:
    router = APIRouter(prefix="/api/v1/things")

    @router.get("/open", operation_id="thing_open")
    async def thing_open() -> dict[str, str]:
        return {}

    @router.get("/mine", operation_id="thing_mine")
    async def thing_mine(_: CurrentUser) -> dict[str, str]:
        return {}

    @router.post("/decide", operation_id="thing_decide")
    async def thing_decide(_: Officer) -> dict[str, str]:
        return {}

    @router.get("/new", operation_id="thing_new")
    async def thing_new(_: CurrentUser) -> dict[str, str]:
        return {}

    app = FastAPI()
    app.include_router(router)
    return app


def test_the_real_app_declares_a_policy_for_every_route() -> None:
    assert policy_problems(create_app(Settings(_env_file=None))) == []  # type: ignore[call-arg]


def test_undeclared_mismatched_and_stale_policies_are_reported_by_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        access,
        "ROUTE_ACCESS",
        {
            "thing_open": grant(Role.APPLICANT, tenancy=Tenancy.SELF),  # but asks for no token
            "thing_mine": access.PUBLIC,  # but requires a token
            "thing_decide": grant(Role.OFFICER, Role.SUPERVISOR, tenancy=Tenancy.TENANT),
            "thing_gone": access.PUBLIC,
        },
    )
    problems = policy_problems(_app())
    assert len(problems) == 5, problems
    joined = "\n".join(problems)
    assert "GET /api/v1/things/new (operation_id=thing_new) declares no access policy" in joined
    assert "GET /api/v1/things/open (operation_id=thing_open) is declared for" in joined
    assert "GET /api/v1/things/mine (operation_id=thing_mine) is declared public" in joined
    assert "grants ['supervisor']" in joined and "thing_decide" in joined
    assert "ROUTE_ACCESS names 'thing_gone', which is no route" in joined
