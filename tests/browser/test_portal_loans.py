"""The applicant portal's loan pages in headless Chromium, on a phone (390×844) and on a
desktop (1280×900), on a loan disbursed through the real workflows: the owner opens the loan,
pays an installment (confirmed once, by keyboard), requests an extension and sees it pending,
sees it approved once the lender's officer decides, asks for a payoff quote, pays the loan off,
downloads the statement and rates the outcome. Each step is saved as
tests/browser/artifacts/portal-loans-<viewport>-<nn>-<step>.png, fits the screen and is checked by
axe-core (no serious or critical violation)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from gateway.deps import SESSION_COOKIE
from tests.browser.conftest import Workbench
from tests.browser.portal_steps import (
    VIEWPORTS,
    Shots,
    open_loan,
    pay_installment,
    pay_off,
    request_extension,
    see_extension_approved,
)
from tests.integration.test_portal_loans import decide_extension, disbursed_loan
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
    shot = Shots(workbench, page, f"portal-loans-{viewport}")

    await page.goto("/portal/home")
    assert await open_loan(page, shot) == loan.loan_id
    await pay_installment(page, shot)
    await request_extension(page, shot)
    await decide_extension(
        workbench.platform, loan.officer, loan.loan_id, True, "经营正常，同意展期"
    )
    await see_extension_approved(page, shot)
    await pay_off(page, shot)

    # The statement downloads as a PDF.
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载贷款对账单（PDF）").click()
    download = await downloading.value
    assert download.suggested_filename.endswith(".pdf")
    path = await download.path()
    assert path is not None and path.read_bytes().startswith(b"%PDF")
    await shot("settled")

    # Rate the outcome.
    await page.get_by_label("5 分 · 非常满意").check()
    await page.fill("#comment", "审批快，还款方便")
    await page.get_by_role("button", name="提交评价").click()
    await expect(page.get_by_role("status")).to_contain_text("感谢您的评价")
    await expect(page.locator("#rating")).to_contain_text("您的评分：5 / 5")
    await shot("rated")

    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Repayment schedule")).to_be_visible()
    await shot("english")
    await context.close()
    assert shot.found == {}, shot.found  # axe-core: no serious or critical violation on any step
