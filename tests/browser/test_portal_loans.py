"""The applicant portal's loan pages in headless Chromium, on a phone (390×844) and on a
desktop (1280×900), on a loan disbursed through the real workflows: the owner opens the loan,
pays an installment (confirmed once, by keyboard), requests an extension and sees it pending,
sees it approved once the lender's officer decides, asks for a payoff quote, pays the loan off,
downloads the statement and rates the outcome. Each step is saved as
tests/browser/artifacts/portal-loans-<viewport>-<step>.png, fits the screen and is checked by
axe-core (no serious or critical violation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from domain.calendar import business_today
from gateway.deps import SESSION_COOKIE
from tests.browser.conftest import Workbench, serious_violations
from tests.browser.test_portal import VIEWPORTS, _fits
from tests.integration.test_portal_loans import _decide_extension, disbursed_loan
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_an_owner_services_a_loan_from_payment_to_rating_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    loan = await disbursed_loan(workbench.platform, sandbox, f"BRW-LOAN-{viewport[:3].upper()}")
    context = await workbench.browser.new_context(
        base_url=workbench.base_url, viewport=VIEWPORTS[viewport], locale="zh-CN"
    )
    token = loan.applicant["Authorization"].removeprefix("Bearer ")
    await context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": workbench.base_url}])
    page: Page = await context.new_page()
    found: dict[str, list[str]] = {}

    async def shot(step: str) -> None:
        await workbench.shot(page, f"portal-loans-{viewport}-{step}")
        await _fits(page)
        if problems := await serious_violations(page):
            found[step] = problems

    await page.goto("/portal/home")
    await page.get_by_role("link", name="我的贷款").click()
    await expect(page.get_by_role("heading", name="贷款", exact=False).first).to_be_visible()
    await shot("1-loans")
    await page.locator(f"#loan-{loan.loan_id} a").click()
    await expect(page.get_by_role("heading", name="还款计划")).to_be_visible()
    await expect(page.locator("table.schedule tbody tr")).to_have_count(12)
    await shot("2-loan")
    # The schedule scrolls inside its own box (reachable by keyboard), never the page.
    assert await page.locator(".table-wrap").first.get_attribute("tabindex") == "0"

    # Pay the next installment: the amount, then the confirmation (by keyboard), the status.
    await page.get_by_role("link", name="还款", exact=True).click()
    await expect(page.locator("#amount")).not_to_have_value("")
    await shot("3-pay")
    await page.get_by_role("button", name="下一步：确认").click()
    await expect(page.get_by_role("heading", name="请确认付款")).to_be_visible()
    await shot("4-pay-confirm")
    await page.get_by_role("button", name="确认支付").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("付款成功，已入账", timeout=30_000)
    await shot("5-paid")
    await page.get_by_role("link", name="返回贷款详情").click()

    # Request an extension; it waits for the lender's officer, who approves it.
    await page.get_by_role("link", name="申请展期").click()
    await page.fill("#extra_months", "3")
    await page.fill("#reason", "下游客户回款延迟，申请延长三个月")
    await shot("6-extension")
    await page.get_by_role("button", name="提交展期申请").click()
    await expect(page.get_by_role("status")).to_contain_text("展期申请已提交")
    await expect(page.locator("#extensions")).to_contain_text("待机构审批")
    await shot("7-extension-pending")
    await _decide_extension(workbench.platform, loan, True, "经营正常，同意展期")
    for _ in range(60):
        await page.reload()
        if await page.locator("#extensions").get_by_text("已批准").count():
            break
        await page.wait_for_timeout(250)
    await expect(page.locator("#extensions")).to_contain_text("已批准")
    await shot("8-extension-approved")

    # A payoff quote for a day ahead, then paying off today.
    await page.get_by_role("link", name="提前结清").click()
    day = (business_today() + timedelta(days=7)).isoformat()
    await page.fill("#valid_until", day)
    await page.get_by_role("button", name="查询报价").click()
    await expect(page.locator("dl.quote")).to_contain_text(f"至 {day} 24:00（北京时间）")
    await shot("9-payoff-quote")
    await page.get_by_role("button", name="下一步：确认结清").click()
    await expect(page.get_by_role("heading", name="请确认付款")).to_be_visible()
    await shot("10-payoff-confirm")
    await page.get_by_role("button", name="确认支付").click()
    await expect(page.get_by_role("status")).to_have_text("付款成功，已入账", timeout=30_000)
    await shot("11-paid-off")
    await page.get_by_role("link", name="返回贷款详情").click()
    await expect(page.locator("h1 .tag")).to_have_text("已结清")

    # The statement downloads as a PDF.
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载贷款对账单（PDF）").click()
    download = await downloading.value
    assert download.suggested_filename.endswith(".pdf")
    path = await download.path()
    assert path is not None and path.read_bytes().startswith(b"%PDF")
    await shot("12-settled")

    # Rate the outcome.
    await page.get_by_label("5 分 · 非常满意").check()
    await page.fill("#comment", "审批快，还款方便")
    await page.get_by_role("button", name="提交评价").click()
    await expect(page.get_by_role("status")).to_contain_text("感谢您的评价")
    await expect(page.locator("#rating")).to_contain_text("您的评分：5 / 5")
    await shot("13-rated")

    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Repayment schedule")).to_be_visible()
    await shot("14-english")
    await context.close()
    assert found == {}, found  # axe-core: no serious or critical violation on any step
