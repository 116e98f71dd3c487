"""From posting a demand to a comparison: matching, institution answers, PDF, selection."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
    upload_all,
    wait_for_stage,
)
from tests.support import SandboxProcess

STAFF_PASSWORD = "Staff#Pass2026"


def product_body(code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": f"小微经营贷 {code}",
        "family": "working_capital",
        "financing_type": "credit",
        "amount_min": "100000.00",
        "amount_max": "3000000.00",
        "term_min_months": 6,
        "term_max_months": 36,
        "pricing": {"kind": "lpr", "lpr_tenor": "1Y", "spread_min_bp": 50, "spread_max_bp": 300},
        "repayment_methods": ["equal_installment", "interest_first"],
        "upfront_fee_rate": "0.005",
        "monthly_fee_rate": "0",
        "response_sla_hours": 48,
        "auto_approval_limit": "500000.00",
        "active_from": "2024-01-01",
    }
    body.update(overrides)
    return body


async def staff_account(
    platform: Platform, role: str, institution_id: str
) -> tuple[str, dict[str, str]]:
    """A new staff account of the institution: its username and bearer headers."""
    username = f"{role[:5]}{uuid.uuid4().hex[:6]}"
    created = await platform.http.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": STAFF_PASSWORD,
            "role": role,
            "institution_id": institution_id,
        },
        headers=await platform.admin_headers(),
    )
    assert created.status_code == 201, created.text
    return username, {"Authorization": f"Bearer {await platform.token(username, STAFF_PASSWORD)}"}


async def _user(platform: Platform, role: str, institution_id: str) -> dict[str, str]:
    return (await staff_account(platform, role, institution_id))[1]


async def _lender(platform: Platform) -> tuple[str, dict[str, str], dict[str, str]]:
    code = f"LEND-{uuid.uuid4().hex[:6].upper()}"
    inst = await platform.http.post(
        "/api/v1/institutions",
        json={"code": code, "name": "测试银行"},
        headers=await platform.admin_headers(),
    )
    assert inst.status_code == 201
    inst_id = inst.json()["id"]
    return (
        inst_id,
        await _user(platform, "institution_admin", inst_id),
        await _user(platform, "officer", inst_id),
    )


async def _verified_applicant(platform: Platform, sandbox: SandboxProcess) -> dict[str, str]:
    enterprise_id, headers = await onboard_to_documents(
        platform, sandbox, new_uscc(), new_mobile(), new_id_number()
    )
    await upload_all(platform, headers)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    return headers


async def test_bad_product_definitions_get_field_level_errors(platform: Platform) -> None:
    _, admin, officer = await _lender(platform)
    bad = product_body(
        "BAD-1",
        amount_min="5000000.00",
        term_min_months=48,
        pricing={"kind": "lpr", "lpr_tenor": "1Y", "spread_min_bp": -10, "spread_max_bp": 300},
        eligible_industries=["Z"],
    )
    response = await platform.http.post("/api/v1/products", json=bad, headers=admin)
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert {"amount_min", "term_min_months", "eligible_industries"} <= fields or len(fields) >= 3
    assert any(f.startswith("pricing") for f in fields)
    refused = await platform.http.post(
        "/api/v1/products", json=product_body("X-1"), headers=officer
    )
    assert refused.status_code == 403


async def test_demand_to_comparison(
    platform: Platform, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    inst_id, admin, officer = await _lender(platform)
    fitting = await platform.http.post(
        "/api/v1/products", json=product_body("FIT-1"), headers=admin
    )
    assert fitting.status_code == 201, fitting.text
    assert fitting.json()["institution_name"] == "测试银行"
    preview = fitting.json()["apr_preview"]
    assert preview and preview["apr_at_min_rate"] < preview["apr_at_max_rate"]
    farming_only = await platform.http.post(
        "/api/v1/products", json=product_body("AGRI-1", eligible_industries=["A"]), headers=admin
    )
    assert farming_only.status_code == 201
    revised = await platform.http.put(
        f"/api/v1/products/{fitting.json()['id']}",
        json=product_body("FIT-1", response_sla_hours=24),
        headers=admin,
    )
    assert revised.json()["version"] == 2

    policy = await platform.http.post(
        "/api/v1/policies",
        json={
            "title": "上海市小微企业贷款贴息",
            "issuer": "上海市财政局",
            "regions": ["31"],
            "industries": ["I"],
            "interest_subsidy_rate": "0.4",
            "subsidy_cap_per_year": "500000.00",
            "valid_from": "2024-01-01",
        },
        headers=await platform.admin_headers(),
    )
    assert policy.status_code == 201, policy.text

    applicant = await _verified_applicant(platform, sandbox)
    posted = await platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "800000.00",
            "term_months": 24,
            "purpose": "采购原材料",
            "financing_type": "credit",
            "repayment_method": "equal_installment",
        },
        headers={**applicant, "Idempotency-Key": "first-demand"},
    )
    assert posted.status_code == 201, posted.text
    assert "Idempotent-Replayed" not in posted.headers
    demand_id = posted.json()["id"]
    again = await platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "800000.00",
            "term_months": 24,
            "purpose": "采购原材料",
            "financing_type": "credit",
            "repayment_method": "equal_installment",
        },
        headers={**applicant, "Idempotency-Key": "first-demand"},
    )
    assert again.json()["id"] == demand_id
    assert again.headers["Idempotent-Replayed"] == "true"  # the client can say "already done"

    progress: dict[str, Any] = {}
    for _ in range(100):
        progress = (
            await platform.http.get(f"/api/v1/demands/{demand_id}/progress", headers=applicant)
        ).json()
        if progress.get("stage") not in (None, "matching"):
            break
        await asyncio.sleep(0.1)
    assert progress["stage"] == "awaiting_responses", progress
    detail = (await platform.http.get(f"/api/v1/demands/{demand_id}", headers=applicant)).json()
    ours = {m["product_id"]: m for m in detail["matches"] if m["institution_id"] == inst_id}
    # The demo's own Shanghai policy applies too when the demo shares this database.
    assert detail["applicable_policies"][policy.json()["id"]] == "上海市小微企业贷款贴息"
    assert ours[fitting.json()["id"]]["eligible"] is True
    assert ours[fitting.json()["id"]]["product_version"] == 2
    # Names, not ids: the product and its lender as people know them.
    assert ours[fitting.json()["id"]]["product_name"] == "小微经营贷 FIT-1"
    assert {m["institution_name"] for m in ours.values()} == {"测试银行"}
    answers = [r for r in detail["responses"] if r["institution_id"] == inst_id]
    assert [r["institution_name"] for r in answers] == ["测试银行"]
    agri = ours[farming_only.json()["id"]]
    assert agri["eligible"] is False
    assert any(not r["passed"] and r["rule"] == "industry" for r in agri["explanation"]["rules"])

    inbox = (await platform.http.get("/api/v1/tasks?kind=demand_response", headers=officer)).json()
    assert any(t["subject"] == f"demand-{demand_id}" for t in inbox)
    no_reason = await platform.http.post(
        f"/api/v1/demands/{demand_id}/responses", json={"interested": False}, headers=officer
    )
    assert no_reason.status_code == 422
    answered = await platform.http.post(
        f"/api/v1/demands/{demand_id}/responses",
        json={"interested": True, "indicative_rate": "0.0395", "indicative_amount": "800000.00"},
        headers=officer,
    )
    assert answered.status_code == 200, answered.text
    repeated = await platform.http.post(  # a retried request: the same answer, once
        f"/api/v1/demands/{demand_id}/responses",
        json={"interested": True, "indicative_rate": "0.0395", "indicative_amount": "800000.00"},
        headers=officer,
    )
    assert repeated.status_code == 200, repeated.text
    changed = await platform.http.post(  # another answer is refused, not taken for the first
        f"/api/v1/demands/{demand_id}/responses",
        json={"interested": False, "reason": "额度已满"},
        headers=officer,
    )
    assert changed.status_code == 409, changed.text
    assert changed.json()["error"]["code"] == "demand.already_answered"

    comparison = await platform.http.get(
        f"/api/v1/demands/{demand_id}/comparison", headers=applicant
    )
    assert comparison.status_code == 200
    quotes = comparison.json()
    mine = next(q for q in quotes if q["product_id"] == fitting.json()["id"])
    assert mine["institution_interested"] is True
    assert mine["rate"] == "0.039500"
    assert float(mine["apr"]) > 0.0395  # the upfront fee makes the APR exceed the rate
    # Each applicable policy pays its share of the interest (ours 40 %), per loan year, capped
    # at ¥500,000 a year: far below the cap here. The demo's own Shanghai policy applies too
    # when the demo shares this database.
    policies = (await platform.http.get("/api/v1/policies", headers=applicant)).json()
    shares = sum(
        (
            Decimal(p["terms"].get("interest_subsidy_rate", "0"))
            for p in policies
            if p["id"] in detail["applicable_policies"]
        ),
        Decimal(0),
    )
    assert shares >= Decimal("0.4")
    limit = Decimal(mine["total_interest"]) * shares
    years = (mine["term_months"] + 11) // 12  # each year is rounded to the fen on its own
    assert Decimal(0) < Decimal(mine["subsidy"]) <= limit + Decimal("0.01") * years
    assert Decimal(mine["net_cost"]) == Decimal(mine["total_cost"]) - Decimal(mine["subsidy"])

    pdf = await platform.http.get(f"/api/v1/demands/{demand_id}/comparison.pdf", headers=applicant)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    if shutil.which("pdffonts"):
        path = tmp_path / "comparison.pdf"
        path.write_bytes(pdf.content)
        proc = await asyncio.create_subprocess_exec(
            "pdffonts", str(path), stdout=asyncio.subprocess.PIPE
        )
        fonts = (await proc.communicate())[0].decode()
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk and all(" yes " in line for line in cjk), fonts

    chosen = await platform.http.post(
        f"/api/v1/demands/{demand_id}/selection",
        json={"product_ids": [fitting.json()["id"]]},
        headers=applicant,
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["stage"] == "selected"
    not_matched = await platform.http.post(
        f"/api/v1/demands/{demand_id}/withdraw", headers=applicant
    )
    assert not_matched.status_code == 409


@pytest.mark.parametrize("amount", ["0", "-5"])
async def test_demand_bad_amount_is_refused(
    platform: Platform, sandbox: SandboxProcess, amount: str
) -> None:
    applicant = await _verified_applicant(platform, sandbox)
    response = await platform.http.post(
        "/api/v1/demands",
        json={"amount": amount, "term_months": 12, "purpose": "周转", "financing_type": "credit"},
        headers=applicant,
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "amount"


async def test_published_policy_is_pushed_to_fitting_enterprises(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    mobile = new_mobile()
    enterprise_id, headers = await onboard_to_documents(
        platform, sandbox, new_uscc(), mobile, new_id_number()
    )
    await upload_all(platform, headers)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"

    title = f"信息技术企业贴息 {uuid.uuid4().hex[:4]}"
    policy = await platform.http.post(
        "/api/v1/policies",
        json={
            "title": title,
            "issuer": "上海市经信委",
            "regions": ["310101"],
            "industries": ["I"],
            "interest_subsidy_rate": "0.3",
            "valid_from": "2024-01-01",
        },
        headers=await platform.admin_headers(),
    )
    assert policy.status_code == 201, policy.text
    bad = await platform.http.post(
        "/api/v1/policies",
        json={
            "title": "坏政策",
            "issuer": "x",
            "interest_subsidy_rate": "1.5",
            "valid_from": "2024-01-01",
        },
        headers=await platform.admin_headers(),
    )
    assert bad.status_code == 422

    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        for _ in range(100):
            outbox = (await client.get("/sms/v1/messages", params={"limit": 1000})).json()
            pushed = [
                m
                for m in outbox["messages"]
                if m["to"] == mobile and m["template"] == "policy_published"
            ]
            if pushed:
                break
            await asyncio.sleep(0.1)
    assert pushed and title in pushed[0]["text"]
    export = (await platform.http.get("/api/v1/enterprises/me/export", headers=headers)).json()
    assert any(n["template"] == "policy_published" for n in export["notifications"])
