"""Consent-gated profile reads, privacy settings, data export and the compliance codec endpoint."""

from __future__ import annotations

import base64
import uuid

from temporalio.testing import WorkflowEnvironment

from config.codec import payloads_to_json
from gateway.deps import SESSION_COOKIE
from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
)
from tests.support import SandboxProcess

STAFF_PASSWORD = "Staff#Pass2026"


async def _staff(platform: Platform, role: str, institution_id: str | None) -> dict[str, str]:
    admin = await platform.admin_headers()
    username = f"{role[:4]}{uuid.uuid4().hex[:6]}"
    body = {
        "username": username,
        "password": STAFF_PASSWORD,
        "role": role,
        "institution_id": institution_id,
    }
    created = await platform.http.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {await platform.token(username, STAFF_PASSWORD)}"}


async def test_institution_reads_a_profile_only_with_consent(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    admin = await platform.admin_headers()
    code = f"CONS-{uuid.uuid4().hex[:6].upper()}"
    inst = (
        await platform.http.post(
            "/api/v1/institutions", json={"code": code, "name": "Bank"}, headers=admin
        )
    ).json()
    officer = await _staff(platform, "officer", inst["id"])
    mobile, id_number = new_mobile(), new_id_number()
    enterprise_id, applicant = await onboard_to_documents(
        platform, sandbox, new_uscc(), mobile, id_number
    )

    url = f"/api/v1/enterprises/{enterprise_id}"
    assert (await platform.http.get(url, headers=officer)).status_code == 404
    granted = await platform.http.post(
        "/api/v1/enterprises/me/consents",
        json={"institution_id": inst["id"], "scope": "profile"},
        headers=applicant,
    )
    assert granted.status_code == 201
    profile = await platform.http.get(url, headers=officer)
    assert profile.status_code == 200
    assert profile.json()["mobile"] == f"{mobile[:3]}****{mobile[-4:]}"
    assert id_number not in profile.text

    revoked = await platform.http.delete(
        f"/api/v1/enterprises/me/consents/{granted.json()['id']}", headers=applicant
    )
    assert revoked.json()["revoked_at"]
    assert (await platform.http.get(url, headers=officer)).status_code == 404

    privacy = await platform.http.put(
        "/api/v1/enterprises/me/privacy",
        json={"share_profile_with_matched": True},
        headers=applicant,
    )
    assert privacy.json() == {"share_profile_with_matched": True}
    export = (await platform.http.get("/api/v1/enterprises/me/export", headers=applicant)).json()
    assert export["enterprise"]["id"] == enterprise_id
    assert [c["scope"] for c in export["consents"]] == ["profile"]
    assert export["notifications"] and mobile not in str(export)


async def test_codec_endpoint_decodes_for_compliance_only(
    platform: Platform, dev_env: WorkflowEnvironment
) -> None:
    admin = await platform.admin_headers()
    code = f"CODEC-{uuid.uuid4().hex[:6].upper()}"
    created = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": "解码银行 Codec Bank"}, headers=admin
    )
    assert created.status_code == 201
    history = await dev_env.client.get_workflow_handle(f"institution-{code}").fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    body = payloads_to_json(list(started.input.payloads))

    compliance = await _staff(platform, "compliance", None)
    decoded = await platform.http.post("/codec/decode", json=body, headers=compliance)
    assert decoded.status_code == 200, decoded.text
    data = base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
    assert "Codec Bank" in data

    regulator = await _staff(platform, "regulator", None)
    refused = await platform.http.post("/codec/decode", json=body, headers=regulator)
    assert refused.status_code == 403
    assert (await platform.http.post("/codec/decode", json=body)).status_code == 401


async def test_codec_endpoint_takes_what_the_temporal_ui_sends(
    platform: Platform, dev_env: WorkflowEnvironment
) -> None:
    """The Web UI posts ``/codec/decode?preserveStorageRefs=true`` with ``X-Namespace`` from its
    own origin, with the workbench's session cookie: compliance decodes, other roles and other
    origins are refused."""
    admin = await platform.admin_headers()
    code = f"UI-{uuid.uuid4().hex[:6].upper()}"
    created = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": "界面银行 UI Bank"}, headers=admin
    )
    assert created.status_code == 201
    history = await dev_env.client.get_workflow_handle(f"institution-{code}").fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    body = payloads_to_json(list(started.input.payloads))
    ui_origin = platform.settings.codec_cors_origins[0]
    url = "/codec/decode?preserveStorageRefs=true"

    async def call(token: str | None, origin: str = ui_origin, **headers: str) -> int:
        if token:
            headers["Cookie"] = f"{SESSION_COOKIE}={token}"
        response = await platform.http.post(
            url, json=body, headers={"Origin": origin, "X-Namespace": "default", **headers}
        )
        if response.status_code == 200:
            data = base64.b64decode(response.json()["payloads"][0]["data"]).decode()
            assert "UI Bank" in data
        return response.status_code

    compliance = (await _staff(platform, "compliance", None))["Authorization"].split()[1]
    officer = (await _staff(platform, "officer", str(created.json()["id"])))["Authorization"]
    assert await call(compliance) == 200  # the workbench session, from the UI's origin
    assert await call(None, Authorization=f"Bearer {compliance}") == 200  # a token, as before
    assert await call(officer.split()[1]) == 403
    assert await call(None) == 401
    assert await call(compliance, origin="http://evil.example") == 403  # cookie, foreign page

    preflight = await platform.http.options(
        url,
        headers={
            "Origin": ui_origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == ui_origin
    assert preflight.headers["access-control-allow-credentials"] == "true"
    # Every other route still refuses unknown query parameters.
    typo = await platform.http.get("/api/v1/institutions?stat=open", headers=admin)
    assert typo.status_code == 422
