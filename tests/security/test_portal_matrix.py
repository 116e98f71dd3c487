"""Every applicant portal route, generated from the portal app's routes, × who asks: a stranger
is sent to the login (or refused a form), staff are refused, a form without its token is
refused, and an applicant never reads or changes another enterprise's record (404).

A route added later is covered without touching this file; one with a path parameter this file
cannot fill fails with a message naming it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from api.access import api_routes
from domain.roles import Role
from gateway.deps import SESSION_COOKIE
from tests.integration.conftest import Platform
from tests.security.conftest import Headers, World
from web import create_portal

PORTAL = "/portal"
ROUTES = sorted((route.method, route.path) for route in api_routes(create_portal()))
# Open to anyone: the login, the registration and the language switch; the registration's code
# step needs the registration cookie (404 without it); the root sends each caller on.
PUBLIC = {"/login", "/logout", "/register", "/register/check", "/lang/{code}", "/"}
NEEDS_REGISTRATION = {"/register/code", "/register/code/resend"}
# Path parameters naming another enterprise's record, by the tenant id that fills them.
RECORDS = {
    "notice_id": "notification_id",
    "consent_id": "consent_id",
    "demand_id": "demand_id",
    "application_id": "application_id",
    "loan_id": "loan_id",
    "payment_key": "payment_key",
    "material_id": "material_id",
}
# Path parameters that name a kind rather than a record.
KINDS = {"code": "en", "kind": "contract"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _url(path: str, world: World) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in KINDS:
            return KINDS[name]
        if name not in RECORDS:
            pytest.fail(f"{path}: no value for '{name}': add it to RECORDS in this file")
        return world.b.ids[RECORDS[name]]  # always the other tenant's

    return PORTAL + re.sub(r"\{([^}]+)\}", fill, path)


@dataclass
class Visitor:
    """A client carrying a session cookie (none: a stranger) and the portal's form token."""

    client: httpx.AsyncClient
    token: str

    async def send(self, method: str, url: str, with_token: bool = True) -> httpx.Response:
        if method == "GET":
            return await self.client.get(url)
        form = {"csrf_token": self.token} if with_token else {}
        origin = {"Origin": str(self.client.base_url).rstrip("/")}
        return await self.client.post(url, data=form, headers=origin)


@asynccontextmanager
async def _visitor(platform: Platform, headers: Headers | None) -> AsyncIterator[Visitor]:
    async with httpx.AsyncClient(
        transport=platform.http._transport, base_url=platform.http.base_url
    ) as client:
        if headers:
            client.cookies.set(SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))
        found = _CSRF.search((await client.get(f"{PORTAL}/login")).text)
        assert found is not None
        yield Visitor(client, found.group(1))


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_portal_route_needs_a_login_a_token_the_role_and_the_tenant(
    method: str, path: str, platform: Platform, world: World
) -> None:
    url = _url(path, world)
    async with _visitor(platform, None) as stranger:
        anonymous = await stranger.send(method, url)
        if method == "POST":
            assert (await stranger.send(method, url, with_token=False)).status_code == 400, url
    assert anonymous.status_code < 500, url
    if path in NEEDS_REGISTRATION:
        assert anonymous.status_code == 404, url
    elif path not in PUBLIC:
        assert anonymous.status_code == 303, url
        assert anonymous.headers["location"].startswith(f"{PORTAL}/login"), url
    if path in PUBLIC | NEEDS_REGISTRATION:
        return

    async with _visitor(platform, world.a.headers[Role.OFFICER]) as officer:
        assert (await officer.send(method, url)).status_code == 403, url

    async with _visitor(platform, world.a.headers[Role.APPLICANT]) as applicant:
        if method == "POST":
            assert (await applicant.send(method, url, with_token=False)).status_code == 400, url
        answer = await applicant.send(method, url)
        if any(f"{{{name}}}" in path for name in RECORDS):
            assert answer.status_code == 404, url  # another enterprise's record
            return
        # Pages open; a form posted empty is refused with its fields named, never a 500.
        assert answer.status_code in (200, 303, 409, 422), (url, answer.status_code)
        leaked = sorted(i for i in world.b.foreign_ids() if i in answer.text)
        assert leaked == [], (url, leaked)
