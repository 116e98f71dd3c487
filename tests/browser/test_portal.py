"""The applicant portal in headless Chromium, on a phone (390×844) and on a desktop: an owner
registers (a field refused as they type, then corrected), enters the SMS code, logs in, uploads
the four verification documents, sees the verification pass, reads the message centre and
grants and revokes a consent on the privacy page. Each step is saved as
tests/browser/artifacts/portal-<viewport>-<step>.png and checked by axe-core (no serious or
critical violation). A rejected owner reads why in words and resubmits the corrected name."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import FilePayload, Page, ViewportSize, expect

from sandbox.registry import enterprise_record
from tests.browser.conftest import Workbench, serious_violations
from tests.integration.test_onboarding_api import (
    JPEG,
    PASSWORD,
    PDF,
    latest_code,
    new_id_number,
    new_mobile,
    new_uscc,
    registration_body,
)
from tests.integration.test_onboarding_resubmission import rejected_for_a_typo
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration

VIEWPORTS: dict[str, ViewportSize] = {
    "mobile": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
DOCUMENTS = ("id_front", "id_back", "id_handheld", "business_licence")


async def _portal_page(workbench: Workbench, viewport: str) -> Page:
    context = await workbench.browser.new_context(
        base_url=workbench.base_url,
        viewport=VIEWPORTS[viewport],
        locale="zh-CN",
    )
    return await context.new_page()


async def _fits(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_an_owner_goes_from_registration_to_privacy_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    platform = workbench.platform
    institution = f"门户测试银行{uuid.uuid4().hex[:4]}"
    made = await platform.http.post(
        "/api/v1/institutions",
        json={"code": f"PTL-{uuid.uuid4().hex[:6].upper()}", "name": institution},
        headers=await platform.admin_headers(),
    )
    assert made.status_code == 201, made.text
    page = await _portal_page(workbench, viewport)

    found: dict[str, list[str]] = {}

    async def shot(step: str) -> None:
        await workbench.shot(page, f"portal-{viewport}-{step}")
        await _fits(page)
        if problems := await serious_violations(page):
            found[step] = problems

    await page.goto("/portal/")
    await expect(page).to_have_url(f"{workbench.base_url}/portal/login")
    await shot("1-login")
    await page.get_by_role("link", name="注册企业").click()
    await expect(page.locator("#password-rules")).to_contain_text("至少三类")

    enterprise, rep, account = body["enterprise"], body["legal_representative"], body["account"]
    await page.fill("#enterprise-name", enterprise["name"])
    await page.fill("#enterprise-uscc", uscc[:-1] + ("0" if uscc[-1] != "0" else "1"))
    await page.locator("#enterprise-uscc").blur()
    await expect(page.locator("#enterprise-uscc-error")).not_to_be_empty()  # as they type
    await shot("2-register-inline-error")
    await page.fill("#enterprise-uscc", uscc)
    await page.fill("#enterprise-registered_capital", enterprise["registered_capital"])
    await page.fill("#enterprise-founding_date", enterprise["founding_date"])
    await page.select_option("#enterprise-industry", enterprise["industry"])
    await page.fill("#enterprise-region", enterprise["region"])
    await page.fill("#legal_representative-name", rep["name"])
    await page.fill("#legal_representative-id_number", id_number)
    await page.fill("#legal_representative-mobile", mobile)
    await page.fill("#account-username", account["username"])
    await page.fill("#account-password", PASSWORD)
    await page.fill("#account-password_confirmation", PASSWORD)
    await page.locator("#account-password_confirmation").blur()
    await expect(page.locator("#enterprise-uscc-error")).to_be_empty()
    await shot("3-register-filled")
    await page.get_by_role("button", name="提交注册并发送验证码").click()

    await expect(page.get_by_role("heading", name="输入短信验证码")).to_be_visible()
    await shot("4-code")
    await page.fill("#code", await latest_code(sandbox, mobile))
    await page.get_by_role("button", name="确认", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("注册已确认")
    await page.fill("#username", account["username"])
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name=enterprise["name"])).to_be_visible()
    await shot("5-home")

    await page.get_by_role("link", name="企业认证").first.click()
    await shot("6-documents")
    for kind in DOCUMENTS:
        name = f"{kind}.pdf" if kind == "business_licence" else f"{kind}.jpg"
        content = PDF if kind == "business_licence" else JPEG + kind.encode()
        mime = "application/pdf" if kind == "business_licence" else "image/jpeg"
        upload: FilePayload = {"name": name, "mimeType": mime, "buffer": content}
        await page.set_input_files(f"#file-{kind}", files=[upload])
        async with page.expect_navigation():  # the script uploads, then opens the answer
            await page.locator(f"form:has(#file-{kind}) button").click()
        await expect(page.get_by_role("status")).to_contain_text("材料已上传")
    for _ in range(60):
        if await page.get_by_text("认证已通过，现可发布融资需求").count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(page.get_by_text("认证已通过，现可发布融资需求")).to_be_visible()
    await shot("7-verified")

    await page.get_by_role("link", name="消息中心").click()
    await expect(page.locator("li.message.unread").first).to_be_visible()
    await expect(page.locator("header .badge")).to_be_visible()
    await shot("8-messages")
    await page.locator("li.message.unread").first.get_by_role("button", name="标为已读").click()
    await page.get_by_role("button", name="全部标为已读").click()
    await expect(page.locator("li.message.unread")).to_have_count(0)
    await shot("9-messages-read")

    await page.get_by_role("link", name="隐私与授权").click()
    await page.select_option("#institution", label=institution)
    await page.select_option("#scope", "financials")
    await page.get_by_role("button", name="授权", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("已授权")
    await shot("10-privacy")
    await page.get_by_role("button", name="撤回授权").click()
    await expect(page.get_by_role("status")).to_contain_text("授权已撤回")
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Privacy and consent")).to_be_visible()
    await shot("11-privacy-english")
    await page.context.close()
    assert found == {}, found  # axe-core: no serious or critical violation on any step


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_a_rejected_owner_reads_why_and_resubmits_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    _, uscc, _, body = await rejected_for_a_typo(workbench.platform, sandbox)
    page = await _portal_page(workbench, viewport)
    await page.goto("/portal/login")
    await page.fill("#username", body["account"]["username"])
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("link", name="企业认证").first.click()
    await expect(page.get_by_text("法定代表人姓名与身份证号码不一致")).to_be_visible()
    await workbench.shot(page, f"portal-{viewport}-rejected")
    await _fits(page)
    assert await serious_violations(page) == []
    await page.fill("#rep-name", enterprise_record(uscc).legal_representative)
    await page.get_by_role("button", name="重新提交认证").click()
    await expect(page.get_by_role("status")).to_contain_text("已重新提交")
    await workbench.shot(page, f"portal-{viewport}-resubmitted")
    await page.context.close()
