"""Abuse resistance through the real API: login limits per account and per address, lockout and
its unlock (API and CLI), OTP limits, token expiry and tampering, refresh rotation, password
policy, upload and request size limits, and the security headers."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from sqlalchemy import select
from typer.testing import CliRunner

from api.hardening import MULTIPART_ALLOWANCE
from cli.main import app as cli_app
from db.models import AppUser, LoginAttempt
from db.models_security import AccountLockEvent
from domain.onboarding import MAX_UPLOAD_BYTES
from domain.roles import Role
from server import create_app
from services.credentials import issue_token
from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import (
    JPEG,
    latest_code,
    new_id_number,
    new_mobile,
    new_uscc,
    register,
    registration_body,
    secret_headers,
)
from tests.security.conftest import World
from tests.support import SandboxProcess

PASSWORD = "Auditor#2026x"


async def _account(platform: Platform) -> tuple[str, str]:
    username = f"abuse{uuid.uuid4().hex[:8]}"
    created = await platform.http.post(
        "/api/v1/users",
        json={"username": username, "password": PASSWORD, "role": "compliance"},
        headers=await platform.admin_headers(),
    )
    assert created.status_code == 201, created.text
    return username, str(created.json()["id"])


async def _login(platform: Platform, username: str, password: str) -> httpx.Response:
    return await platform.http.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )


async def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(
    platform: Platform,
) -> None:
    settings = platform.settings
    username, user_id = await _account(platform)
    statuses = [
        (await _login(platform, username, "wrong-password")).status_code
        for _ in range(settings.login_lockout_threshold)
    ]
    # The per-account limit answers 429 first; refused tries keep counting towards the lock.
    assert statuses[: settings.login_max_attempts] == [401] * settings.login_max_attempts
    assert set(statuses[settings.login_max_attempts :]) == {429}
    async with platform.sessions() as session:
        user = await session.get(AppUser, uuid.UUID(user_id))
        assert user is not None and user.locked_until is not None
        assert user.locked_until > datetime.now(UTC) + timedelta(minutes=20)
        events = list(
            await session.scalars(
                select(AccountLockEvent).where(AccountLockEvent.user_id == user.id)
            )
        )
        assert [e.kind for e in events] == ["locked"] and events[0].actor == "login"

    admin = await platform.admin_headers()
    status = await platform.http.get(f"/api/v1/users/{user_id}/lock", headers=admin)
    assert status.json()["locked"] is True
    assert status.json()["recent_failures"] == settings.login_lockout_threshold
    still = await _login(platform, username, PASSWORD)
    assert still.status_code == 429  # the right password does not get through a lock

    unlocked = await platform.http.post(f"/api/v1/users/{user_id}/unlock", headers=admin)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["locked"] is False and unlocked.json()["recent_failures"] == 0
    assert (await _login(platform, username, PASSWORD)).status_code == 200
    async with platform.sessions() as session:
        attempts = await session.scalars(
            select(LoginAttempt).where(LoginAttempt.username == username)
        )
        # Unlocking resets the counters, not the record: every attempt is still there (the
        # failures, the refused right password during the lock, the success after it).
        assert len(list(attempts)) == settings.login_lockout_threshold + 2


async def test_a_locked_account_refuses_the_right_password_like_a_wrong_one(
    platform: Platform,
) -> None:
    username, user_id = await _account(platform)
    async with platform.sessions() as session:
        user = await session.get(AppUser, uuid.UUID(user_id))
        assert user is not None
        user.locked_until = datetime.now(UTC) + timedelta(minutes=5)
        await session.commit()
    refused = await _login(platform, username, PASSWORD)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "auth.bad_credentials"  # no hint that it exists

    result = await asyncio.to_thread(  # the command runs its own event loop
        CliRunner().invoke,
        cli_app,
        ["admin", "unlock", username],
        env={"DATABASE_URL": platform.settings.database_url or ""},
    )
    assert result.exit_code == 0, result.output
    assert f"{username} is unlocked" in result.output
    assert (await _login(platform, username, PASSWORD)).status_code == 200
    missing = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["admin", "unlock", "nobody-at-all"],
        env={"DATABASE_URL": platform.settings.database_url or ""},
    )
    assert missing.exit_code == 2 and "no account named nobody-at-all" in missing.output


async def test_an_institution_admin_unlocks_only_its_own_staff(
    platform: Platform, world: World
) -> None:

    admin_a = world.a.headers[Role.INSTITUTION_ADMIN]
    own = await platform.http.post(
        f"/api/v1/users/{world.a.ids['user_id']}/unlock", headers=admin_a
    )
    assert own.status_code == 200, own.text
    other = await platform.http.post(
        f"/api/v1/users/{world.b.ids['user_id']}/unlock", headers=admin_a
    )
    assert other.status_code == 404
    officer = await platform.http.post(
        f"/api/v1/users/{world.a.ids['user_id']}/unlock", headers=world.a.headers[Role.OFFICER]
    )
    assert officer.status_code == 403


@asynccontextmanager
async def _client_from(
    platform: Platform, address: str, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    """Another API instance (own settings) whose requests come from another address."""
    app = create_app(platform.settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def test_failures_from_one_address_are_limited_across_usernames(
    platform: Platform,
) -> None:
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    username, _ = await _account(platform)
    async with _client_from(platform, address, login_max_attempts_per_ip=3) as client:
        for n in range(3):
            sprayed = await client.post(
                "/api/v1/auth/token",
                json={"username": f"spray{n}{uuid.uuid4().hex[:4]}", "password": "Guess#2026"},
            )
            assert sprayed.status_code == 401
        blocked = await client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "auth.too_many_attempts"
        assert blocked.headers["Retry-After"] == str(platform.settings.login_window_s)
    # The same account from another address is not affected.
    assert (await _login(platform, username, PASSWORD)).status_code == 200


async def _texts_to(sandbox: SandboxProcess, mobile: str) -> int:
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        reply = await client.get("/sms/v1/messages", params={"limit": 1000})
    return sum(1 for m in reply.json()["messages"] if m["to"] == mobile)


async def test_registrations_and_codes_are_throttled_per_address_and_per_mobile(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    window = str(platform.settings.registration_window_s)

    def form(mobile: str) -> dict[str, object]:
        return registration_body(new_uscc(), new_id_number(), mobile)

    # Per address: distinct companies and mobiles, one sender.
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    async with _client_from(platform, address, registration_max_per_ip=2) as client:
        for _ in range(2):
            assert (await register(client, form(new_mobile()))).status_code == 201
        mobile = new_mobile()
        blocked = await client.post("/api/v1/registrations", json=form(mobile))
    assert blocked.status_code == 429, blocked.text
    assert blocked.headers["Retry-After"] == window
    error = blocked.json()["error"]
    assert error["code"] == "registration.too_many_from_address"
    assert [f["field"] for f in error["fields"]] == ["client_address"]
    assert error["message_zh"] and error["message_en"]
    assert await _texts_to(sandbox, mobile) == 0  # refused before any code was texted

    # Per mobile: one phone, whatever the address.
    mobile = new_mobile()
    address = f"198.18.0.{uuid.uuid4().int % 250 + 1}"
    async with _client_from(platform, address, registration_max_per_mobile=1) as client:
        assert (await register(client, form(mobile))).status_code == 201
        again = await client.post("/api/v1/registrations", json=form(mobile))
    assert again.status_code == 429, again.text
    assert again.headers["Retry-After"] == window
    error = again.json()["error"]
    assert error["code"] == "registration.too_many_for_mobile"
    assert [f["field"] for f in error["fields"]] == ["legal_representative.mobile"]

    # Codes texted to one mobile: a registration's first code and each resend count.
    mobile = new_mobile()
    address = f"198.18.1.{uuid.uuid4().int % 250 + 1}"
    async with _client_from(platform, address, otp_send_max_per_mobile=1) as client:
        registered = await register(client, form(mobile))
        assert registered.status_code == 201, registered.text
        enterprise_id = registered.json()["enterprise_id"]
        resend = await client.post(
            f"/api/v1/registrations/{enterprise_id}/otp/resend",
            headers=secret_headers(enterprise_id),
        )
    assert resend.status_code == 429, resend.text
    assert resend.headers["Retry-After"] == window
    assert resend.json()["error"]["fields"][0]["field"] == "legal_representative.mobile"
    assert await _texts_to(sandbox, mobile) == 1


async def test_expired_tampered_and_unsigned_tokens_are_refused(platform: Platform) -> None:
    username, user_id = await _account(platform)
    settings = platform.settings
    expired, _ = issue_token(
        settings.model_copy(update={"jwt_access_ttl_s": -5}),
        user_id=uuid.UUID(user_id),
        role="compliance",
        enterprise_id=None,
        institution_id=None,
        token_type="access",
    )
    valid = (await _login(platform, username, PASSWORD)).json()["access_token"]
    header, payload, signature = valid.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "platform_admin"  # privilege escalation by editing the claims
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    unsigned = jwt.encode(claims, key="", algorithm="none")
    other_key = jwt.encode(claims, "not-our-secret-but-long-enough-for-hs256", algorithm="HS256")
    for token in (expired, f"{header}.{forged_payload}.{signature}", unsigned, other_key):
        refused = await platform.http.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 401, token
        assert refused.json()["error"]["code"] == "auth.invalid_token"
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    ok = await platform.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {valid}"})
    assert ok.status_code == 200 and ok.json()["role"] == "compliance"


async def test_expired_refresh_token_and_logout_end_the_session(platform: Platform) -> None:
    username, user_id = await _account(platform)
    expired, _ = issue_token(
        platform.settings.model_copy(update={"jwt_refresh_ttl_s": -5}),
        user_id=uuid.UUID(user_id),
        role="compliance",
        enterprise_id=None,
        institution_id=None,
        token_type="refresh",
    )
    old = await platform.http.post("/api/v1/auth/refresh", json={"refresh_token": expired})
    assert old.status_code == 401
    pair = (await _login(platform, username, PASSWORD)).json()
    rotated = await platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200
    fresh = rotated.json()
    out = await platform.http.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    )
    assert out.status_code == 204
    after = await platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert after.status_code == 401  # logout revoked the family


async def test_access_tokens_die_with_their_session(platform: Platform) -> None:
    """Issue 28, finding 7: an access token outlived logout and the revocation of its refresh
    family (valid until it expired, 15 minutes later)."""
    username, _ = await _account(platform)

    async def me(token: str) -> int:
        return (
            await platform.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        ).status_code

    first = (await _login(platform, username, PASSWORD)).json()
    assert await me(first["access_token"]) == 200
    out = await platform.http.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert out.status_code == 204
    assert await me(first["access_token"]) == 401  # logged out: dead at once

    second = (await _login(platform, username, PASSWORD)).json()
    rotated = await platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert rotated.status_code == 200
    stolen = await platform.http.post(  # a used refresh token again: the family is revoked
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert stolen.status_code == 401
    assert await me(second["access_token"]) == 401
    assert await me(rotated.json()["access_token"]) == 401
    assert await me((await _login(platform, username, PASSWORD)).json()["access_token"]) == 200


async def test_weak_passwords_are_refused_field_by_field(platform: Platform) -> None:
    admin = await platform.admin_headers()
    for weak in ("short1!", "alllowercaseletters", "Password123"):
        refused = await platform.http.post(
            "/api/v1/users",
            json={"username": f"weak{uuid.uuid4().hex[:6]}", "password": weak, "role": "regulator"},
            headers=admin,
        )
        assert refused.status_code == 422, (weak, refused.text)
        fields = refused.json()["error"]["fields"]
        assert fields and all(f["field"] == "password" for f in fields), fields
        assert all(f["message_zh"] and f["message_en"] for f in fields)


async def test_wrong_codes_and_early_resends_are_limited(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, mobile = new_uscc(), new_mobile()
    registered = await register(platform.http, registration_body(uscc, new_id_number(), mobile))
    assert registered.status_code == 201, registered.text
    enterprise_id = registered.json()["enterprise_id"]
    code = await latest_code(sandbox, mobile)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    url = f"/api/v1/registrations/{enterprise_id}/otp"
    mine = secret_headers(enterprise_id)
    statuses = [
        (await platform.http.post(url, json={"code": wrong}, headers=mine)).status_code
        for _ in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    blocked = await platform.http.post(url, json={"code": code}, headers=mine)
    assert blocked.status_code == 429  # even the right code, once the attempts are used up
    assert blocked.json()["error"]["code"] == "otp.too_many_attempts"
    early = await platform.http.post(f"{url}/resend", headers=mine)
    assert early.status_code == 429 and early.json()["error"]["code"] == "otp.too_soon"


async def test_oversized_requests_are_refused_before_they_are_read(
    platform: Platform, world: World
) -> None:

    applicant = world.a.headers[Role.APPLICANT]
    limit = platform.settings.max_request_bytes
    big_json = b'{"username": "' + b"x" * limit + b'", "password": "x"}'
    declared = await platform.http.post(
        "/api/v1/auth/token", content=big_json, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "request.too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    chunked = await platform.http.post(
        "/api/v1/auth/token", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413  # no Content-Length: counted while read
    assert chunked.headers["X-Content-Type-Options"] == "nosniff"

    # An upload just over the file limit reaches the route, which names the field...
    over_file = JPEG + b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(JPEG))
    too_big = await platform.http.post(
        "/api/v1/enterprises/me/documents",
        headers=applicant,
        data={"kind": "id_front"},
        files={"file": ("id.jpg", over_file)},
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "upload.too_large"
    # ... one far beyond it is refused by its declared length, unread.
    huge = await platform.http.post(
        "/api/v1/enterprises/me/documents",
        headers=applicant,
        data={"kind": "id_front"},
        files={"file": ("id.jpg", b"\x00" * (MULTIPART_ALLOWANCE + 1))},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request.too_large"


async def test_every_kind_of_response_carries_the_security_headers(platform: Platform) -> None:
    responses = {
        "ok": await platform.http.get("/healthz"),
        "unauthenticated": await platform.http.get("/api/v1/loans"),
        "not found": await platform.http.get("/api/v1/no-such-thing"),
        "method": await platform.http.delete("/healthz"),
        "invalid": await platform.http.post("/api/v1/auth/token", json={"username": ""}),
        "openapi": await platform.http.get("/openapi.json"),
    }
    for what, response in responses.items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", what
        assert headers["X-Frame-Options"] == "DENY", what
        assert headers["Referrer-Policy"] == "no-referrer", what
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], what
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), what
        assert "Strict-Transport-Security" not in headers, what  # plain HTTP: no HSTS
    docs = await platform.http.get("/docs")
    assert "script-src 'self' 'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert "https:" not in docs.headers["Content-Security-Policy"]  # nothing from a CDN
    behind_tls = await platform.http.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert behind_tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    https = httpx.AsyncClient(transport=platform.http._transport, base_url="https://api")
    async with https:
        direct = await https.get("/healthz")
    assert "includeSubDomains" in direct.headers["Strict-Transport-Security"]


async def test_nul_characters_are_bad_input_not_a_server_error(
    platform: Platform, world: World
) -> None:
    body = await platform.http.post(
        "/api/v1/auth/token", json={"username": "admin\u0000", "password": "x"}
    )
    assert body.status_code == 422
    assert body.json()["error"]["fields"][0] == {
        "field": "username",
        "code": "field.nul_character",
        "message_zh": "不允许包含空字符 (NUL)",
        "message_en": "NUL characters are not allowed",
    }
    query = await platform.http.get(
        "/api/v1/tasks?kind=%00credit", headers=world.a.headers[Role.OFFICER]
    )
    assert query.status_code == 422
    assert query.json()["error"]["code"] == "request.nul_character"


async def test_unknown_query_parameters_are_refused_like_unknown_fields(
    platform: Platform, world: World
) -> None:
    officer = world.a.headers[Role.OFFICER]
    typo = await platform.http.get("/api/v1/tasks?stat=done", headers=officer)
    assert typo.status_code == 422  # not every open task, silently
    assert typo.json()["error"]["fields"] == [
        {
            "field": "stat",
            "code": "field.unknown",
            "message_zh": "不认识的查询参数",
            "message_en": "Unknown query parameter",
        }
    ]
    known = await platform.http.get("/api/v1/tasks?state=done&limit=5", headers=officer)
    assert known.status_code == 200
