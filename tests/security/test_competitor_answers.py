"""A demand is shared with many lenders; none sees another's answer (issue 28, finding 2):
the comparison, its PDF, the progress and the answer's own reply show a lender only its own
institution, while the enterprise sees every answer."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.integration.conftest import Platform
from tests.integration.test_demand_api import _user, _verified_applicant, product_body
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration


async def _bank(platform: Platform, name: str) -> tuple[str, dict[str, str], dict[str, str]]:
    created = await platform.http.post(
        "/api/v1/institutions",
        json={"code": f"CMP-{uuid.uuid4().hex[:6].upper()}", "name": name},
        headers=await platform.admin_headers(),
    )
    assert created.status_code == 201, created.text
    inst_id = created.json()["id"]
    admin = await _user(platform, "institution_admin", inst_id)
    product = await platform.http.post(
        "/api/v1/products",
        json=product_body(f"CMP-{uuid.uuid4().hex[:6].upper()}"),
        headers=admin,
    )
    assert product.status_code == 201, product.text
    return inst_id, admin, await _user(platform, "officer", inst_id)


async def post_demand(platform: Platform, applicant: dict[str, str]) -> Any:
    """A credit demand of ¥600,000 over 12 months, posted by ``applicant``: the demand."""
    posted = await platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "600000.00",
            "term_months": 12,
            "purpose": "采购原材料",
            "financing_type": "credit",
            "repayment_method": "equal_installment",
        },
        headers={**applicant, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert posted.status_code == 201, posted.text
    return posted.json()


async def _progress(platform: Platform, demand_id: str, headers: dict[str, str]) -> Any:
    for _ in range(100):
        progress = (
            await platform.http.get(f"/api/v1/demands/{demand_id}/progress", headers=headers)
        ).json()
        if progress.get("stage") not in (None, "matching"):
            return progress
        await asyncio.sleep(0.1)
    raise AssertionError(progress)


async def test_a_lender_never_sees_a_competitors_answer(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    suffix = uuid.uuid4().hex[:4]
    first_id, _, first_officer = await _bank(platform, f"甲银行{suffix}")
    second_id, _, second_officer = await _bank(platform, f"乙银行{suffix}")
    applicant = await _verified_applicant(platform, sandbox)
    demand_id = (await post_demand(platform, applicant))["id"]
    await _progress(platform, demand_id, applicant)
    answered = await platform.http.post(
        f"/api/v1/demands/{demand_id}/responses",
        json={"interested": True, "indicative_rate": "0.0365"},
        headers=first_officer,
    )
    assert answered.status_code == 200, answered.text
    assert {s["institution_id"] for s in answered.json()["institutions"]} == {first_id}

    # The comparison quotes the exact amount and names the enterprise: an institution the
    # demand is still anonymous to reads it once the enterprise grants it its profile (issue 20).
    anonymous = await platform.http.get(
        f"/api/v1/demands/{demand_id}/comparison", headers=second_officer
    )
    assert anonymous.status_code == 403
    assert anonymous.json()["error"]["code"] == "consent.required"
    granted = await platform.http.post(
        "/api/v1/enterprises/me/consents",
        json={"institution_id": second_id, "scope": "profile"},
        headers=applicant,
    )
    assert granted.status_code == 201, granted.text
    as_second = await platform.http.get(
        f"/api/v1/demands/{demand_id}/comparison", headers=second_officer
    )
    assert as_second.status_code == 200
    assert as_second.json() and all(
        q["institution_name"] == f"乙银行{suffix}" for q in as_second.json()
    )
    progress = await _progress(platform, demand_id, second_officer)
    assert [s["institution_id"] for s in progress["institutions"]] == [second_id]
    pdf = await platform.http.get(
        f"/api/v1/demands/{demand_id}/comparison.pdf", headers=second_officer
    )
    assert pdf.status_code == 200
    pdftotext = await asyncio.create_subprocess_exec(
        "pdftotext", "-", "-", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    text = (await pdftotext.communicate(pdf.content))[0].decode()
    assert f"乙银行{suffix}" in text and f"甲银行{suffix}" not in text

    # The enterprise compares every answer, the first bank's included.
    theirs = await platform.http.get(f"/api/v1/demands/{demand_id}/comparison", headers=applicant)
    names = {q["institution_name"] for q in theirs.json()}
    assert {f"甲银行{suffix}", f"乙银行{suffix}"} <= names
    everyone = await _progress(platform, demand_id, applicant)
    assert {first_id, second_id} <= {s["institution_id"] for s in everyone["institutions"]}
