"""API → Temporal → worker → PostgreSQL → API: onboarding an institution end to end."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from db.models import Institution
from db.repositories import DecisionLog
from domain.decision_chain import verify_chain
from tests.integration.conftest import Platform


async def test_onboarding_runs_through_the_workflow_and_is_recorded(platform: Platform) -> None:
    headers = await platform.admin_headers()
    code = f"BANK-{uuid.uuid4().hex[:6].upper()}"

    response = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": "测试银行 Test Bank"}, headers=headers
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == code
    assert body["workflow_id"] == f"institution-{code}"
    async with platform.sessions() as session:
        row = await session.scalar(select(Institution).where(Institution.code == code))
        assert row is not None and str(row.id) == body["id"]
        assert row.workflow_id == f"institution-{code}"
        chain = await DecisionLog(session).chain()
    assert any(e.subject == f"institution-{code}" for e in chain)
    assert verify_chain(chain) is None

    listed = await platform.http.get("/api/v1/institutions?limit=200", headers=headers)
    assert code in {i["code"] for i in listed.json()}
    one = await platform.http.get(f"/api/v1/institutions/{body['id']}", headers=headers)
    assert one.json()["name"] == "测试银行 Test Bank"


async def test_second_onboarding_of_the_same_code_is_refused(platform: Platform) -> None:
    headers = await platform.admin_headers()
    code = f"DUP-{uuid.uuid4().hex[:6].upper()}"
    first = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": "First"}, headers=headers
    )
    second = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": "Second"}, headers=headers
    )
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "institution.duplicate_code"


async def test_readiness_checks_database_temporal_and_providers(platform: Platform) -> None:
    response = await platform.http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "providers": "ok", "temporal": "ok"}
    assert (await platform.http.get("/healthz")).json()["status"] == "ok"


async def test_workflow_history_holds_only_encrypted_payloads(
    platform: Platform, dev_env: WorkflowEnvironment
) -> None:
    headers = await platform.admin_headers()
    code = f"ENC-{uuid.uuid4().hex[:6].upper()}"
    name = "保密银行 Confidential Bank"
    response = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": name}, headers=headers
    )
    assert response.status_code == 201

    history = await dev_env.client.get_workflow_handle(f"institution-{code}").fetch_history()
    raw = history.to_json()
    assert "Confidential Bank" not in raw and "保密银行" not in raw
    assert "binary/encrypted" in raw or "YmluYXJ5L2VuY3J5cHRlZA" in raw  # base64 in JSON
