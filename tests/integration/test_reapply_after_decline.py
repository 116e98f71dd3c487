"""After a declined application the way forward is a new application: the decline notice says
so, and a new one is accepted (issue 18, defect 8). Real worker, activities and sandbox."""

from __future__ import annotations

import asyncio

import httpx

from tests.integration.conftest import Platform
from tests.integration.test_application_api import _applicant, _progress_until
from tests.integration.test_demand_api import _lender, product_body
from tests.support import SandboxProcess


async def test_a_declined_applicant_is_told_to_apply_again_and_can(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    _, admin, _ = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("AGAIN-1"), headers=admin
    )
    assert product.status_code == 201, product.text
    applicant = await _applicant(platform, sandbox, suffix="990")  # sandbox: current overdue
    me = (await platform.http.get("/api/v1/enterprises/me", headers=applicant)).json()
    body = {
        "product_id": product.json()["id"],
        "amount": "200000.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    first = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "try-1"}
    )
    assert first.status_code == 201, first.text
    declined = await _progress_until(
        platform, first.json()["id"], applicant, {"declined", "offered", "in_review"}
    )
    assert declined["stage"] == "declined"

    notice = ""
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        for _ in range(100):
            reply = await client.get("/sms/v1/messages", params={"limit": 1000})
            texts = [
                m["text"]
                for m in reply.json()["messages"]
                if m.get("template") == "application_declined" and me["name"] in m["text"]
            ]
            if texts:
                notice = texts[-1]
                break
            await asyncio.sleep(0.1)
    assert "新的申请" in notice, notice

    second = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "try-2"}
    )
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    replay = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "try-1"}
    )
    assert replay.json()["id"] == first.json()["id"]  # the same key is the same application
