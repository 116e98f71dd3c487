"""The applicant portal's origination journey in headless Chromium, on a phone (390×844) and on a
desktop (1280×900): an owner posts a financing demand (a field refused as they type, then
corrected), sees the lender's product matched with its reasons and the lender's answer, compares
the offers, applies for the product with its statements as a file, answers the credit
officer's question with a file, reads the offer letter in the page, accepts it — by keyboard
alone — with the signing code texted to the legal representative and sees the disbursement.
The lender's side is driven through the API. Each step is saved as
tests/browser/artifacts/origination-<viewport>-<step>.png
and checked by axe-core (no serious or critical violation) and for sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.async_api import FilePayload, Page, expect

from tests.browser.conftest import Workbench, serious_violations
from tests.browser.test_portal import VIEWPORTS, _fits, _portal_page
from tests.integration.material_files import STATEMENTS
from tests.integration.origination_support import (
    answer_demand,
    approve,
    ask,
    lender_and_applicant,
)
from tests.integration.test_application_api import ACCOUNT
from tests.integration.test_onboarding_api import PASSWORD, latest_code
from tests.materials_support import PDF
from tests.support import SandboxProcess

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

pytestmark = pytest.mark.integration

QUESTION = "请说明第三季度营收下降的原因"


async def _reload_until(page: Page, words: str) -> None:
    """Reload until the page says ``words`` (the workflows move on in the background)."""
    for _ in range(60):
        if await page.get_by_text(words).count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(page.get_by_text(words).first).to_be_visible()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_an_owner_goes_from_a_demand_to_the_money_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    platform = workbench.platform
    case = await lender_and_applicant(platform, sandbox)
    page = await _portal_page(workbench, viewport)
    found: dict[str, list[str]] = {}

    async def shot(step: str) -> None:
        await workbench.shot(page, f"origination-{viewport}-{step}")
        await _fits(page)
        if problems := await serious_violations(page):
            found[step] = problems

    await page.goto("/portal/login")
    await page.fill("#username", case.username)
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("link", name="发布融资需求").first.click()

    await page.fill("#amount", "0")
    await page.locator("#amount").blur()
    await expect(page.locator("#amount-error")).not_to_be_empty()  # as they type
    await shot("1-demand-inline-error")
    await page.fill("#amount", "400000")
    await page.fill("#term_months", "12")
    await page.fill("#purpose", "采购原材料")
    await page.select_option("#financing_type", "credit")
    await page.select_option("#repayment_method", "equal_installment")
    await page.locator("#repayment_method").blur()
    await expect(page.locator("#amount-error")).to_be_empty()
    await shot("2-demand-filled")
    await page.get_by_role("button", name="发布需求").click()
    await expect(page.get_by_role("status")).to_contain_text("需求已发布")
    demand_id = page.url.partition("?")[0].rsplit("/", 1)[1]

    await _reload_until(page, case.product_name)
    await answer_demand(platform, case, demand_id)
    await _reload_until(page, "有意向：参考年利率 3.95%")
    await page.locator("li.match.eligible details summary").first.click()
    await shot("3-demand-matched")

    await page.get_by_role("link", name="比较报价").click()
    await expect(page.get_by_role("heading", name="报价比较")).to_be_visible()
    await expect(page.get_by_text("补贴后净成本").first).to_be_visible()
    await shot("4-compare")

    await page.get_by_role("link", name=f"申请「{case.product_name}」").click()
    await expect(page.get_by_text("必需").first).to_be_visible()
    await page.locator("#material-financial_statements").set_input_files(
        files=[FilePayload(name="2025年报表.xlsx", mimeType=XLSX, buffer=STATEMENTS)]
    )
    await shot("5-apply")
    await page.get_by_role("button", name="提交申请").click()
    await expect(page.get_by_role("status")).to_contain_text("申请已提交")
    app_id = page.url.partition("?")[0].rsplit("/", 1)[1]
    await _reload_until(page, "人工审批中")
    await shot("6-in-review")

    await ask(platform, case, app_id, QUESTION)
    await _reload_until(page, QUESTION)
    await page.fill("#answer-text", "原材料涨价，已签新合同")
    # The answer carries a file: the purpose statement with the new purchase contract.
    await page.locator("#material-purpose_statement").set_input_files(
        files=[FilePayload(name="新采购合同说明.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    await shot("7-question")
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("已提交给审批人员")
    await expect(page.locator("#materials")).to_contain_text("新采购合同说明.pdf")

    await approve(platform, case, app_id)
    await _reload_until(page, "获取签约验证码")
    await _reload_until(page, "下载要约函")  # the letter's PDF follows the offer
    if viewport == "desktop":  # the letter in the page; a phone opens it on its own
        await expect(page.locator("iframe.letter")).to_be_visible()
    else:
        await expect(page.get_by_role("link", name="打开要约函")).to_be_visible()
    await expect(page.get_by_text("4.20%").first).to_be_visible()
    await shot("8-offer-letter")

    # Signing by keyboard alone: the button by focus and Enter, the form by Enter in its field.
    await page.get_by_role("button", name="获取签约验证码").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("验证码已发送至")
    code = await latest_code(sandbox, case.mobile, template="signing_code")
    await page.fill("#signer_name", case.legal_rep_name)
    await page.fill("#code", code)
    await page.fill("#account", ACCOUNT)
    await shot("9-sign")
    await page.locator("#account").press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("已签署接受要约")

    await _reload_until(page, "放款时间")
    await expect(page.locator("#disbursement")).to_contain_text(ACCOUNT[-4:])
    await expect(page.locator("#disbursement")).not_to_contain_text(ACCOUNT)
    await shot("10-disbursed")
    await page.context.close()
    assert found == {}, found  # axe-core: no serious or critical violation on any step
