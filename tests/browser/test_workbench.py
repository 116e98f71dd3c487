"""The workbench in headless Chromium: an officer is refused beyond their authority and then
approves within it (the workflow moves on), compliance reads that case's timeline, the
regulator's dashboard draws its charts, and nobody opens another tenant's case."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from db.models import DemandResponse, HumanTask, Loan, PortfolioSnapshot
from tests.browser.conftest import Workbench
from tests.integration.conftest import Platform
from tests.integration.material_files import uploaded
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import ACCOUNT, _progress_until
from tests.integration.test_demand_api import STAFF_PASSWORD, product_body
from tests.integration.test_onboarding_api import (
    PASSWORD,
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
    registration_body,
    upload_all,
    wait_for_stage,
)
from tests.support import SandboxProcess
from worker import ensure_schedules
from workflows.portfolio import SWEEP_SCHEDULE_ID

pytestmark = pytest.mark.integration


@dataclass
class Case:
    """Two referred applications of one enterprise at one institution, and their people."""

    institution_id: str
    officer: str
    applicant: str
    applicant_headers: dict[str, str]
    large_id: str  # ¥1,200,000: needs a supervisor
    small_id: str  # ¥400,000: within an officer's authority


async def _submit(
    platform: Platform, headers: dict[str, str], product_id: str, amount: str, materials: list[str]
) -> str:
    submitted = await platform.http.post(
        "/api/v1/applications",
        json={
            "product_id": product_id,
            "amount": amount,
            "term_months": 12,
            "repayment_method": "equal_installment",
            "material_ids": await uploaded(platform, headers, *materials),
            # two open applications of one product need purposes of their own (issue 21)
            "purpose": f"经营周转（¥{amount}）",
        },
        headers=headers,
    )
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["id"])


@pytest.fixture(scope="module")
async def case(workbench: Workbench, sandbox: SandboxProcess) -> Case:
    platform = workbench.platform
    created = await platform.http.post(
        "/api/v1/institutions",
        json={"code": f"WEB-{uuid.uuid4().hex[:6].upper()}", "name": "工作台测试银行"},
        headers=await platform.admin_headers(),
    )
    assert created.status_code == 201, created.text
    inst_id = str(created.json()["id"])
    admin = await workbench.staff("institution_admin", inst_id)
    officer = await workbench.staff("officer", inst_id)
    admin_headers = {"Authorization": f"Bearer {await platform.token(admin, STAFF_PASSWORD)}"}
    product = await platform.http.post(
        "/api/v1/products",
        json=product_body("WEB-1", auto_approval_limit="0"),  # every case goes to people
        headers=admin_headers,
    )
    assert product.status_code == 201, product.text
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    enterprise_id, applicant_headers = await onboard_to_documents(
        platform, sandbox, uscc, mobile, id_number
    )
    await upload_all(platform, applicant_headers)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    product_id = str(product.json()["id"])
    large = await _submit(
        platform,
        applicant_headers,
        product_id,
        "1200000.00",
        ["financial_statements", "bank_statements"],
    )
    small = await _submit(
        platform, applicant_headers, product_id, "400000.00", ["financial_statements"]
    )
    for app_id in (large, small):
        progress = await _progress_until(
            platform, app_id, applicant_headers, {"in_review", "declined", "offered"}
        )
        assert progress["stage"] == "in_review", progress
    username = registration_body(uscc, id_number, mobile)["account"]["username"]
    return Case(inst_id, officer, username, applicant_headers, large, small)


INBOX_APPROVALS = "/web/inbox?kind=credit_approval"


async def _open_from_inbox(page: Page, application_id: str) -> None:
    row = page.locator(f'#tasks tr[data-subject="application-{application_id}"]')
    await row.get_by_role("link", name=re.compile("打开|Open")).click()
    await page.wait_for_url(f"**/web/applications/{application_id}")


async def test_officer_refused_beyond_authority_then_approves_within_it(
    workbench: Workbench, case: Case
) -> None:
    page = await workbench.login(case.officer)
    await page.wait_for_url("**/web/inbox")
    # The credit approvals: demands other tests post are published to this institution too,
    # and on a busy day their answer tasks can fill the inbox's first page.
    await page.goto(INBOX_APPROVALS)
    # Rows name the enterprise, the product and the amount (never the workflow id).
    large_row = page.locator(f'#tasks tr[data-subject="application-{case.large_id}"]')
    await expect(large_row).to_contain_text("¥1,200,000.00")
    await expect(
        page.locator(f'#tasks tr[data-subject="application-{case.small_id}"]')
    ).to_have_count(1)
    assert f"application-{case.large_id}" not in await page.locator("#tasks").inner_text()
    await expect(page.locator(".countdown").first).to_have_text(re.compile(r"\d+d \d\d:\d\d"))
    await workbench.shot(page, "01-officer-inbox")
    await large_row.get_by_role("button", name="认领").click()
    await expect(page.locator(".alert.ok")).to_contain_text("任务已认领")
    await expect(large_row).to_contain_text("已认领 ✓")
    await page.goto("/web/inbox?state=claimed")
    await expect(page.locator("#tasks tbody tr")).to_have_count(1)
    await page.goto("/web/inbox?sla=overdue")
    await expect(page.locator("#tasks")).to_have_count(0)  # both are due in 48 hours
    await page.goto(INBOX_APPROVALS)

    # ¥1,200,000 needs a supervisor: the workflow's validator refuses the officer.
    await _open_from_inbox(page, case.large_id)
    await expect(page.locator("#score")).to_contain_text("主管")
    await expect(page.locator("#financials table")).to_be_visible()
    await expect(page.locator("#bureau")).to_contain_text("征信评分")
    await workbench.shot(page, "02-review-large")
    licence = page.locator("#documents a", has_text="营业执照")
    document = await page.request.get(await licence.get_attribute("href") or "")
    assert document.status == 200 and (await document.body()).startswith(b"%PDF")
    assert document.headers["content-type"] == "application/pdf"
    # An uploaded PDF may carry script: a download, sandboxed (issue 28, finding 11).
    assert document.headers["content-disposition"].startswith("attachment;")
    assert document.headers["content-security-policy"].startswith("sandbox")
    await page.select_option("#action", "approve")
    await page.fill("#reason", "经营稳定，同意")
    await page.click("#submit-decision")
    refusal = page.locator("#refusal")
    await expect(refusal).to_contain_text("超出您的审批权限")
    await expect(refusal).not_to_contain_text("credit.beyond_authority")  # words, not codes
    await workbench.shot(page, "03-refused-beyond-authority")
    progress = await _progress_until(
        workbench.platform, case.large_id, case.applicant_headers, {"in_review"}
    )
    assert progress["stage"] == "in_review"  # nothing reached the workflow's history

    # ¥400,000 is within the officer's authority: approved at 4.20 %, the workflow moves on.
    await page.goto(INBOX_APPROVALS)
    await _open_from_inbox(page, case.small_id)
    await page.select_option("#action", "approve")
    await page.fill("#rate", "4.20")
    await page.fill("#reason", "经营稳定，按 4.20% 批准")
    await page.click("#submit-decision")
    await expect(page.locator("#flash")).to_be_visible()
    offered = await _progress_until(
        workbench.platform, case.small_id, case.applicant_headers, {"offered"}
    )
    assert offered["offer"]["rate"] in ("0.042", "0.0420", "0.042000")
    await page.reload()
    await expect(page.locator("#stage")).to_have_text("待接受要约")
    await expect(page.locator("#no-task")).to_be_visible()
    await expect(page.locator("#timeline")).to_contain_text("贷款申请：待接受要约")
    await workbench.shot(page, "04-approved-offered")


async def test_compliance_reads_the_case_timeline(workbench: Workbench, case: Case) -> None:
    auditor = await workbench.staff("compliance", None)
    page = await workbench.login(auditor)
    await page.wait_for_url("**/web/compliance")
    await page.fill("#q", case.small_id)
    await page.click("#search-submit")  # an application id leads straight to its workflow
    await page.wait_for_url(
        re.compile(rf".*/web/compliance/timeline\?workflow_id=application-{case.small_id}")
    )
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("决策记录：信用评估")
    await expect(timeline).to_contain_text("决策记录：贷款申请：待接受要约")
    await expect(page.locator("#chain-status")).to_be_visible()
    await workbench.shot(page, "05-compliance-timeline")


@pytest.fixture(scope="module")
async def loan_id(
    workbench: Workbench, dev_env: WorkflowEnvironment, case: Case, sandbox: SandboxProcess
) -> str:
    """The approved case is accepted and paid out; the daily sweep snapshots the portfolio."""
    platform = workbench.platform
    headers = case.applicant_headers
    progress = await _progress_until(platform, case.small_id, headers, {"in_review", "offered"})
    if progress["stage"] == "in_review":  # run alone: the officer's approval, through the API
        officer = {"Authorization": f"Bearer {await platform.token(case.officer, STAFF_PASSWORD)}"}
        tasks = (await platform.http.get("/api/v1/tasks", headers=officer)).json()
        task = next(t for t in tasks if t["subject"] == f"application-{case.small_id}")
        decided = await platform.http.post(
            f"/api/v1/tasks/{task['id']}/decision",
            json={"approve": True, "rate": "0.0420", "reason": "经营稳定"},
            headers=officer,
        )
        assert decided.status_code == 200, decided.text
        await _progress_until(platform, case.small_id, headers, {"offered"})
    accepted = await sign_and_accept(
        platform, sandbox, case.small_id, case.applicant_headers, ACCOUNT
    )
    assert accepted.status_code == 200, accepted.text
    done = await _progress_until(platform, case.small_id, case.applicant_headers, {"disbursed"})
    for _ in range(150):  # the loan workflow opens the account the sweep reads
        async with platform.sessions() as session:
            loan = await session.get(Loan, done["loan_id"])
            if loan is not None and loan.account_state:
                break
        await asyncio.sleep(0.1)
    await ensure_schedules(dev_env.client, platform.settings)
    await dev_env.client.get_schedule_handle(SWEEP_SCHEDULE_ID).trigger()
    for _ in range(150):
        async with platform.sessions() as session:
            if await session.scalar(select(PortfolioSnapshot.id).limit(1)) is not None:
                return str(done["loan_id"])
        await asyncio.sleep(0.1)
    raise AssertionError("no portfolio snapshot")


async def test_regulator_dashboard_draws_its_charts(workbench: Workbench, loan_id: str) -> None:
    regulator = await workbench.staff("regulator", None)
    page = await workbench.login(regulator)
    await page.wait_for_url("**/web/regulator")
    charts = page.locator("figure.chart svg")
    await expect(charts).to_have_count(5)
    # The ¥400,000 loan is in every chart (other tests of the session may add theirs): its
    # industry, its province, its APR band, the decision that approved it, and the NPL ratio
    # of the day's snapshot.
    for chart_id in ("by-industry", "by-region", "time-to-decision", "apr"):
        await expect(page.locator(f"#{chart_id} svg rect.bar").first).to_be_visible()
    await expect(page.locator("#by-industry svg")).to_contain_text("信息传输")
    await expect(page.locator("#by-region svg")).to_contain_text("上海市")
    assert await page.locator("#npl-trend svg circle.point").count() >= 1
    assert await page.locator("#time-to-decision svg rect.bar").count() >= 1
    await workbench.shot(page, "06-regulator-dashboard")
    await page.goto("/web/lang/en?next=/web/regulator")
    await expect(page.locator("h1")).to_contain_text("Regulator dashboard")
    await expect(page.locator("#by-industry svg")).to_contain_text("Information transmission")
    await workbench.shot(page, "07-regulator-dashboard-en")


async def _status_of(page: Page, path: str) -> tuple[int, str]:
    response = await page.goto(path)
    assert response is not None
    return response.status, await page.content()


async def test_no_one_opens_another_tenants_case(workbench: Workbench, case: Case) -> None:
    other = await workbench.platform.http.post(
        "/api/v1/institutions",
        json={"code": f"WEB-{uuid.uuid4().hex[:6].upper()}", "name": "另一家银行"},
        headers=await workbench.platform.admin_headers(),
    )
    assert other.status_code == 201, other.text
    stranger = await workbench.staff("officer", str(other.json()["id"]))
    page = await workbench.login(stranger)
    status, html = await _status_of(page, f"/web/applications/{case.large_id}")
    assert status == 404 and "资源不存在" in html and "1,200,000" not in html
    await workbench.shot(page, "08-other-institution-404")
    status, html = await _status_of(
        page, f"/web/compliance/timeline?workflow_id=application-{case.large_id}"
    )
    assert status == 403

    applicant = await workbench.login(case.applicant, PASSWORD)
    status, html = await _status_of(applicant, f"/web/applications/{case.large_id}")
    assert status == 404 and "1,200,000" not in html
    status, _ = await _status_of(applicant, "/web/inbox")
    assert status == 403

    # The forged decision of the stranger (with a valid form token of their own) is refused too.
    await page.goto("/web/inbox")
    token = await page.locator("form input[name=csrf_token]").first.get_attribute("value")
    async with workbench.platform.sessions() as session:
        task_id = await session.scalar(
            select(HumanTask.id).where(
                HumanTask.workflow_id == f"application-{case.large_id}",
                HumanTask.kind == "credit_approval",
            )
        )
    assert task_id is not None
    answer: Any = await page.request.post(
        f"/web/tasks/{task_id}/decision",
        form={"csrf_token": token or "", "action": "decline", "reason": "x"},
    )
    assert answer.status == 404


async def test_forms_need_the_csrf_token_and_cookies_are_locked_down(
    workbench: Workbench, case: Case
) -> None:
    page = await workbench.new_page()
    await page.goto("/web/inbox?kind=credit_approval")  # no session: the login page, then back
    await page.wait_for_url("**/web/login?next=*")
    await page.fill("#username", case.officer)
    await page.fill("#password", "not-the-password")
    await page.click("button[type=submit]")
    await expect(page.locator(".alert.error")).to_have_text("用户名或密码错误")
    await page.fill("#password", STAFF_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/web/inbox?kind=credit_approval")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["lb_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    response = await page.goto("/web/inbox")
    assert response is not None
    headers = await response.all_headers()
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    forged = await page.request.post(
        f"/web/tasks/{case.large_id}/claim", form={"csrf_token": "forged"}
    )
    assert forged.status == 400


async def test_admin_publishes_revises_and_retires_a_product_and_adds_staff(
    workbench: Workbench, case: Case
) -> None:
    admin = await workbench.staff("institution_admin", case.institution_id)
    page = await workbench.login(admin)
    await page.wait_for_url("**/web/admin/products")
    await expect(page.locator("#products")).to_contain_text("WEB-1")
    await page.click("text=发布新产品")
    form = page.locator("#product-form")
    await form.locator("input[name=code]").fill("WEB-2")
    await form.locator("input[name=name]").fill("科技贷")
    await form.locator("input[name=amount_min]").fill("100000")
    await form.locator("input[name=amount_max]").fill("2000000")
    await form.locator("input[name=term_min_months]").fill("6")
    await form.locator("input[name=term_max_months]").fill("24")
    await form.locator("input[name=spread_min_bp]").fill("50")
    await form.locator("input[name=spread_max_bp]").fill("250")
    await form.locator("input[name=upfront_fee_rate]").fill("0.5")
    await page.click("#preview-apr")
    preview = page.locator("#apr-preview")
    await expect(preview).to_contain_text("APR")
    await expect(preview).to_contain_text("¥1,050,000.00")  # mid amount, longest term
    await workbench.shot(page, "09-admin-apr-preview")
    await page.click("#save-product")
    await page.wait_for_url("**/web/admin/products?done=saved")
    row = page.locator("#products tr[data-code=WEB-2]")
    await expect(row).to_contain_text("v1")

    # A bad definition is refused field by field, in the page's language.
    await row.get_by_role("link").click()
    await page.locator("#product-form input[name=term_max_months]").fill("3")
    await page.click("#save-product")
    await expect(page.locator("#field-errors")).to_be_visible()
    await page.locator("#product-form input[name=term_max_months]").fill("36")
    await page.locator("#product-form input[name=name]").fill("科技贷（第二版）")
    await page.click("#save-product")
    await page.wait_for_url("**/web/admin/products?done=saved")
    await expect(row).to_contain_text("v2")
    await expect(row).to_contain_text("科技贷（第二版）")
    await row.get_by_role("button", name="下架").click()
    await expect(page.locator("#products tr[data-code=WEB-2]")).to_contain_text("已下架")
    await workbench.shot(page, "10-admin-products")

    await page.goto("/web/admin/officers")
    await expect(page.locator("#staff")).to_contain_text(case.officer)
    await expect(page.locator("#staff")).to_contain_text("¥1,000,000")
    newcomer = f"web-officer-{uuid.uuid4().hex[:6]}"
    await page.fill("input[name=username]", newcomer)
    await page.fill("input[name=password]", "weak")
    await page.click("form.stack button[type=submit]")
    await expect(page.locator(".alert.error").first).to_be_visible()
    await page.fill("input[name=password]", "Str0ng#Officer26")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/web/admin/officers?done=created")
    await expect(page.locator("#staff")).to_contain_text(newcomer)
    await workbench.shot(page, "11-admin-officers")


async def test_officer_approves_an_extension_on_the_loan_page(
    workbench: Workbench, case: Case, loan_id: str
) -> None:
    requested = await workbench.platform.http.post(
        f"/api/v1/loans/{loan_id}/extensions",
        json={"extra_months": 6, "reason": "下游回款延迟"},
        headers=case.applicant_headers,
    )
    assert requested.status_code == 200, requested.text
    page = await workbench.login(case.officer)
    await page.goto("/web/extensions")
    await page.wait_for_url("**/web/inbox?kind=extension_approval")
    row = page.locator(f'#tasks tr[data-subject="loan-{loan_id}"]')
    await row.get_by_role("link", name=re.compile("打开|Open")).click()
    await page.wait_for_url(f"**/web/loans/{loan_id}")
    await expect(page.locator("main")).to_contain_text("下游回款延迟")
    await workbench.shot(page, "12-extension-request")
    await page.select_option("select[name=action]", "approve")
    await page.fill("textarea[name=reason]", "回款凭证齐全，同意展期 6 个月")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url(f"**/web/loans/{loan_id}?done=decision")
    async with workbench.platform.sessions() as session:
        task = await session.scalar(
            select(HumanTask).where(
                HumanTask.workflow_id == f"loan-{loan_id}", HumanTask.kind == "extension_approval"
            )
        )
    assert task is not None and task.state == "done" and task.outcome == "approved"


async def test_officer_answers_a_published_demand(workbench: Workbench, case: Case) -> None:
    posted = await workbench.platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "800000.00",
            "term_months": 24,
            "purpose": "工作台测试：采购原材料",
            "financing_type": "credit",
            "repayment_method": "equal_installment",
        },
        headers=case.applicant_headers,
    )
    assert posted.status_code == 201, posted.text
    demand_id = posted.json()["id"]
    page = await workbench.login(case.officer)
    for _ in range(100):  # matched and published to the institution's inbox
        await page.goto("/web/demands")
        if await page.locator(f"form[action$='/demands/{demand_id}/answer']").count():
            break
        await asyncio.sleep(0.2)
    card = page.locator("section.demand", has_text="工作台测试：采购原材料")
    await expect(card).to_contain_text("¥800,000.00")
    await card.locator("input[name=rate]").fill("4.5")
    await card.locator("input[name=amount]").fill("800000")
    await workbench.shot(page, "13-demand-to-answer")
    await card.get_by_role("button").click()
    await page.wait_for_url("**/web/demands?done=answered")
    async with workbench.platform.sessions() as session:
        answer = await session.scalar(
            select(DemandResponse).where(
                DemandResponse.demand_id == uuid.UUID(demand_id),
                DemandResponse.institution_id == uuid.UUID(case.institution_id),
            )
        )
    assert answer is not None and answer.status == "interested"
    assert answer.indicative_rate == Decimal("0.045")
