"""Authentication, roles, tenancy and the error envelope against the real database."""

from __future__ import annotations

import uuid

import httpx

from tests.integration.conftest import ADMIN_PASSWORD, Platform

STAFF_PASSWORD = "Officer#2026x"


async def _institution(platform: Platform, headers: dict[str, str]) -> str:
    code = f"AUTH-{uuid.uuid4().hex[:6].upper()}"
    response = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": "Auth Bank"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_login_refresh_rotation_and_reuse_detection(platform: Platform) -> None:
    login = await platform.http.post(
        "/api/v1/auth/token",
        json={"username": platform.admin_username, "password": ADMIN_PASSWORD},
    )
    pair = login.json()
    me = await platform.http.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert me.json()["role"] == "platform_admin"

    rotated = await platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200
    new_refresh = rotated.json()["refresh_token"]
    assert new_refresh != pair["refresh_token"]

    # The old token again: refused, and its whole family is revoked (stolen-token signal).
    reuse = await platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert reuse.status_code == 401
    after = await platform.http.post("/api/v1/auth/refresh", json={"refresh_token": new_refresh})
    assert after.status_code == 401


async def test_access_token_cannot_be_used_as_refresh_and_garbage_is_401(
    platform: Platform,
) -> None:
    token = await platform.token(platform.admin_username, ADMIN_PASSWORD)
    as_refresh = await platform.http.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert as_refresh.status_code == 401
    garbage = await platform.http.get(
        "/api/v1/auth/me", headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert garbage.status_code == 401
    assert garbage.json()["error"]["code"] == "auth.invalid_token"
    anonymous = await platform.http.get("/api/v1/institutions")
    assert anonymous.status_code == 401


async def test_failed_logins_are_rate_limited(platform: Platform) -> None:
    headers = await platform.admin_headers()
    username = f"victim{uuid.uuid4().hex[:6]}"
    created = await platform.http.post(
        "/api/v1/users",
        json={"username": username, "password": "Complianc3!x", "role": "compliance"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    for _ in range(platform.settings.login_max_attempts):
        wrong = await platform.http.post(
            "/api/v1/auth/token", json={"username": username, "password": "wrong-password"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["message_zh"] == "用户名或密码错误"
    blocked = await platform.http.post(
        "/api/v1/auth/token", json={"username": username, "password": "Complianc3!x"}
    )
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"]


async def test_roles_and_tenancy_for_staff_accounts(platform: Platform) -> None:
    admin = await platform.admin_headers()
    inst_a = await _institution(platform, admin)
    inst_b = await _institution(platform, admin)
    ia_name = f"ia{uuid.uuid4().hex[:6]}"
    created = await platform.http.post(
        "/api/v1/users",
        json={
            "username": ia_name,
            "password": STAFF_PASSWORD,
            "role": "institution_admin",
            "institution_id": inst_a,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    ia = {"Authorization": f"Bearer {await platform.token(ia_name, STAFF_PASSWORD)}"}

    own = await platform.http.post(
        "/api/v1/users",
        json={
            "username": f"of{uuid.uuid4().hex[:6]}",
            "password": STAFF_PASSWORD,
            "role": "officer",
            "institution_id": inst_a,
        },
        headers=ia,
    )
    assert own.status_code == 201
    other = await platform.http.post(
        "/api/v1/users",
        json={
            "username": f"of{uuid.uuid4().hex[:6]}",
            "password": STAFF_PASSWORD,
            "role": "officer",
            "institution_id": inst_b,
        },
        headers=ia,
    )
    assert other.status_code == 403
    onboard = await platform.http.post(
        "/api/v1/institutions", json={"code": "NOPE-1", "name": "Nope"}, headers=ia
    )
    assert onboard.status_code == 403
    assert onboard.json()["error"]["code"] == "auth.role_not_allowed"


async def test_bad_input_gets_field_level_bilingual_errors(platform: Platform) -> None:
    admin = await platform.admin_headers()
    response = await platform.http.post(
        "/api/v1/users",
        json={"username": "x", "password": "short", "role": "wizard"},
        headers=admin,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    fields = {f["field"]: f for f in error["fields"]}
    assert fields["username"]["code"] == "field.too_short"
    assert fields["role"]["code"] == "field.not_allowed"
    assert all(f["message_zh"] and f["message_en"] for f in error["fields"])

    weak = await platform.http.post(
        "/api/v1/users",
        json={"username": "weakling", "password": "alllowercase", "role": "regulator"},
        headers=admin,
    )
    assert weak.status_code == 422
    assert {f["code"] for f in weak.json()["error"]["fields"]} == {"password.too_simple"}

    malformed = await platform.http.post(
        "/api/v1/institutions",
        content=b"{not json",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["fields"][0]["code"] == "body.invalid_json"


async def test_officer_needs_an_existing_institution(platform: Platform) -> None:
    admin = await platform.admin_headers()
    response = await platform.http.post(
        "/api/v1/users",
        json={
            "username": f"lost{uuid.uuid4().hex[:6]}",
            "password": STAFF_PASSWORD,
            "role": "officer",
            "institution_id": str(uuid.uuid4()),
        },
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["code"] == "institution.unknown"


async def test_security_headers_and_request_id(platform: Platform) -> None:
    response = await platform.http.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_client_surfaces_api_errors() -> None:
    from client.api import LoanBridgeClient, LoanBridgeError

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422,
            json={
                "error": {
                    "code": "validation_failed",
                    "message_zh": "输入有误",
                    "message_en": "bad",
                    "fields": [
                        {
                            "field": "code",
                            "code": "field.bad_format",
                            "message_zh": "格式不正确",
                            "message_en": "bad format",
                        }
                    ],
                }
            },
        )

    with LoanBridgeClient("http://x", transport=httpx.MockTransport(handler)) as client:
        try:
            client.onboard_institution("bad code", "n")
        except LoanBridgeError as exc:
            assert exc.status == 422
            assert exc.fields[0].field == "code"
        else:
            raise AssertionError("expected LoanBridgeError")
