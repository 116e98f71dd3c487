"""Materials as files, for real: each accepted type uploaded and judged on its bytes, bad
files refused on their field without a record, the checklist counting files only, and the
files opened by their enterprise and the credit officers of the case's institution only; the
officer's case page lists them, previews them and shows the statement read."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from db.models import CaseMaterial
from domain.materials import MAX_MATERIAL_BYTES
from tests.integration.conftest import Platform
from tests.integration.test_application_api import _applicant, _progress_until
from tests.integration.test_demand_api import (
    STAFF_PASSWORD,
    _lender,
    product_body,
    staff_account,
)
from tests.materials_support import (
    EXE,
    JPEG,
    PDF,
    PNG,
    balance_sheet_rows,
    csv_bytes,
    income_statement_rows,
    xlsx,
)
from tests.support import SandboxProcess

Headers = dict[str, str]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _upload(
    platform: Platform, headers: Headers, kind: str, name: str, content: bytes, path: str = ""
) -> httpx.Response:
    return await platform.http.post(
        path or "/api/v1/materials",
        data={"kind": kind},
        files={"file": (name, content)},
        headers=headers,
    )


async def _count(platform: Platform) -> int:
    async with platform.sessions() as session:
        return await session.scalar(select(func.count()).select_from(CaseMaterial)) or 0


async def test_materials_as_files_end_to_end(platform: Platform, sandbox: SandboxProcess) -> None:
    inst_id, admin, _ = await _lender(platform)
    officer_name, officer = await staff_account(platform, "officer", inst_id)
    other_inst, _admin, other_officer = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("MAT-1", auto_approval_limit="0"), headers=admin
    )
    assert product.status_code == 201, product.text
    applicant = await _applicant(platform, sandbox, suffix="771")
    stranger = await _applicant(platform, sandbox, suffix="772")

    # Every accepted type, judged on its bytes whatever its name.
    statement = xlsx(balance_sheet_rows(), income_statement_rows())
    accepted = {
        "application/pdf": ("business_plan", "计划.pdf", PDF),
        "image/jpeg": ("guarantee_letter", "担保函.jpg", JPEG),
        "image/png": ("purpose_statement", "说明.png", PNG),
        "text/csv": ("bank_statements", "流水.csv", csv_bytes([["日期", "金额"], ["1", "2"]])),
    }
    for content_type, (kind, name, content) in accepted.items():
        uploaded = await _upload(platform, applicant, kind, name, content)
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["content_type"] == content_type
    plan_id = (await platform.http.get("/api/v1/materials", headers=applicant)).json()[0]["id"]

    # Refused on the field, never half written: a renamed .exe, too large, an unknown kind.
    before = await _count(platform)
    exe = await _upload(platform, applicant, "business_plan", "plan.pdf", EXE)
    assert exe.status_code == 415, exe.text
    assert exe.json()["error"]["code"] == "upload.unsupported_type"
    assert exe.json()["error"]["fields"][0]["field"] == "file"
    big = await _upload(
        platform,
        applicant,
        "business_plan",
        "big.pdf",
        b"%PDF-" + b"0" * MAX_MATERIAL_BYTES,
    )
    assert big.status_code == 413, big.text
    unknown = await _upload(platform, applicant, "tax_returns", "x.pdf", PDF)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"][0]["field"] == "kind"
    assert unknown.json()["error"]["fields"][0]["code"] == "material.unknown_kind"
    assert await _count(platform) == before

    # The checklist counts files only: ¥400,000 needs financial statements; a plan is no
    # statement, so they are asked for.
    body = {
        "product_id": product.json()["id"],
        "amount": "400000.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
        "material_ids": [plan_id],
    }
    submitted = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "mat-1"}
    )
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["id"]
    # The same command run again uploads the same file again (a new id): the same application.
    again = await _upload(platform, applicant, "business_plan", "计划.pdf", PDF)
    repeated = await platform.http.post(
        "/api/v1/applications",
        json={**body, "material_ids": [again.json()["id"]]},
        headers={**applicant, "Idempotency-Key": "mat-1"},
    )
    assert repeated.status_code == 201, repeated.text
    assert repeated.json()["id"] == app_id
    assert repeated.headers["Idempotent-Replayed"] == "true"
    asked = await _progress_until(platform, app_id, applicant, {"materials_requested"})
    assert asked["missing_materials"] == ["financial_statements"]
    # Another enterprise's file cannot be named; the stranger cannot upload to this case.
    theirs = await _upload(platform, stranger, "financial_statements", "s.xlsx", statement)
    foreign = await platform.http.post(
        f"/api/v1/applications/{app_id}/information",
        json={"material_ids": [theirs.json()["id"]]},
        headers=applicant,
    )
    assert foreign.status_code == 422
    assert foreign.json()["error"]["fields"][0]["field"] == "material_ids"
    path = f"/api/v1/applications/{app_id}/materials"
    assert (
        await _upload(platform, stranger, "business_plan", "p.pdf", PDF, path)
    ).status_code == 404

    # Provide information with the statement file: the workflow is told its kind.
    unbalanced = xlsx(balance_sheet_rows(equity="500000.00"), income_statement_rows())
    filed = await _upload(
        platform, applicant, "financial_statements", "报表.xlsx", unbalanced, path
    )
    assert filed.status_code == 201, filed.text
    read = filed.json()["statement"]
    assert read["parsed"] and read["figures"]["revenue"] == "1200000.00"
    assert [p["field"] for p in read["problems"]] == ["statement.liabilities_and_equity"]
    provided = await platform.http.post(
        f"/api/v1/applications/{app_id}/information",
        json={"answer": "报表已上传", "material_ids": [filed.json()["id"]]},
        headers=applicant,
    )
    assert provided.status_code == 200, provided.text
    moved = await _progress_until(platform, app_id, applicant, {"in_review", "declined"})
    assert moved["missing_materials"] == []

    # Listed for the parties; opened by the owner and the case's officers only.
    listed = (await platform.http.get(path, headers=officer)).json()
    assert {m["kind"] for m in listed} == {"business_plan", "financial_statements"}
    plan = f"/api/v1/materials/{plan_id}"
    own = await platform.http.get(plan, headers=applicant)
    assert own.status_code == 200 and own.content == PDF
    assert (await platform.http.get(plan, headers=officer)).content == PDF
    for outsider in (other_officer, stranger, admin):
        assert (await platform.http.get(plan, headers=outsider)).status_code in (403, 404)
    assert (await platform.http.get(path, headers=other_officer)).status_code == 404
    assert other_inst != inst_id

    # The officer's case page: the files in words, the preview, the statement read.
    async with httpx.AsyncClient(
        transport=platform.http._transport, base_url="http://api"
    ) as browser:
        page = await browser.get("/web/login")
        token = _CSRF.search(page.text)
        assert token
        login = await browser.post(
            "/web/login",
            data={
                "username": officer_name,
                "password": STAFF_PASSWORD,
                "csrf_token": token.group(1),
            },
            headers={"Origin": "http://api"},
        )
        assert login.status_code == 303, login.text
        browser.cookies.set("lb_lang", "zh")
        case = await browser.get(f"/web/applications/{app_id}")
        assert case.status_code == 200, case.text
        html = case.text
        assert "经营计划书" in html and "最近一期财务报表" in html and "报表.xlsx" in html
        preview = f"/web/applications/{app_id}/materials/{plan_id}"
        assert f'<iframe src="{preview}"' in html
        assert "1,200,000.00" in html  # the revenue read, in yuan
        assert 'data-field="statement.liabilities_and_equity"' in html
        assert "负债和所有者权益总计" in html
        shown = await browser.get(preview)
        assert shown.status_code == 200 and shown.content == PDF
        assert shown.headers["content-disposition"].startswith("inline")
        assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
