"""An Idempotency-Key binds the request it first came with (issue 28, finding 9): a repeat
gets the first result and moves no money again; the same key with another body is refused
409 ``idempotency.conflict`` instead of silently answering with the first result."""

from __future__ import annotations

import uuid

import pytest

from domain.roles import Role
from tests.integration.conftest import Platform
from tests.integration.test_demand_api import product_body
from tests.security.conftest import World

pytestmark = pytest.mark.integration


async def test_a_reused_key_with_another_amount_is_a_conflict(
    platform: Platform, world: World
) -> None:
    applicant = world.a.headers[Role.APPLICANT]
    loan = world.a.ids["loan_id"]
    key = {"Idempotency-Key": f"idem-{uuid.uuid4().hex[:12]}"}
    first = await platform.http.post(
        f"/api/v1/loans/{loan}/payments", json={"amount": "1.00"}, headers={**applicant, **key}
    )
    assert first.status_code == 200, first.text
    again = await platform.http.post(
        f"/api/v1/loans/{loan}/payments", json={"amount": "1.00"}, headers={**applicant, **key}
    )
    assert again.status_code == 200
    assert again.json()["credit"] == first.json()["credit"]  # paid once
    other = await platform.http.post(
        f"/api/v1/loans/{loan}/payments", json={"amount": "2.00"}, headers={**applicant, **key}
    )
    assert other.status_code == 409
    error = other.json()["error"]
    assert error["code"] == "idempotency.conflict"
    assert error["message_zh"] and error["message_en"]
    fresh = await platform.http.post(
        f"/api/v1/loans/{loan}/payments",
        json={"amount": "2.00"},
        headers={**applicant, "Idempotency-Key": f"idem-{uuid.uuid4().hex[:12]}"},
    )
    assert fresh.status_code == 200


async def test_a_reused_key_with_another_application_or_demand_is_a_conflict(
    platform: Platform, world: World
) -> None:
    """An application for ¥999,000 silently became the earlier ¥280,000 one."""
    applicant = world.a.headers[Role.APPLICANT]
    key = {"Idempotency-Key": f"idem-{uuid.uuid4().hex[:12]}"}
    product = await platform.http.post(  # the shared product may have been retired by now
        "/api/v1/products",
        json=product_body(f"IDEM-{uuid.uuid4().hex[:6].upper()}"),
        headers=world.a.headers[Role.INSTITUTION_ADMIN],
    )
    assert product.status_code == 201, product.text
    body = {
        "product_id": product.json()["id"],
        "amount": "280000.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    first = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, **key}
    )
    assert first.status_code == 201, first.text
    again = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, **key}
    )
    assert again.status_code in (200, 201) and again.json()["id"] == first.json()["id"]
    other = await platform.http.post(
        "/api/v1/applications", json={**body, "amount": "999000.00"}, headers={**applicant, **key}
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency.conflict"

    demand = {
        "amount": "500000.00",
        "term_months": 12,
        "purpose": "补充流动资金",
        "financing_type": "credit",
    }
    posted = await platform.http.post("/api/v1/demands", json=demand, headers={**applicant, **key})
    assert posted.status_code == 201, posted.text  # another operation: the key is free there
    changed = await platform.http.post(
        "/api/v1/demands", json={**demand, "amount": "900000.00"}, headers={**applicant, **key}
    )
    assert changed.status_code == 409
