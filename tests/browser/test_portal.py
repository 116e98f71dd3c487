"""The applicant portal in headless Chromium, on a phone (390×844) and on a desktop: an owner
registers (a field refused as they type, then corrected), enters the SMS code, logs in, uploads
the four verification documents, sees the verification pass, reads the message centre and
grants and revokes a consent on the privacy page. Each step is saved as
tests/browser/artifacts/portal-<viewport>-<nn>-<step>.png and checked by axe-core (no serious or
critical violation). A rejected owner reads why in words and resubmits the corrected name."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from sandbox.registry import enterprise_record
from tests.browser.conftest import Workbench
from tests.browser.portal_steps import (
    VIEWPORTS,
    Shots,
    correct_and_resubmit,
    log_in,
    new_registration,
    portal_page,
    register,
    see_verified,
    upload_documents,
)
from tests.integration.test_onboarding_resubmission import rejected_for_a_typo
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_an_owner_goes_from_registration_to_privacy_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    body = new_registration()
    platform = workbench.platform
    institution = f"门户测试银行{uuid.uuid4().hex[:4]}"
    made = await platform.http.post(
        "/api/v1/institutions",
        json={"code": f"PTL-{uuid.uuid4().hex[:6].upper()}", "name": institution},
        headers=await platform.admin_headers(),
    )
    assert made.status_code == 201, made.text
    page = await portal_page(workbench, viewport)
    shot = Shots(workbench, page, f"portal-{viewport}")

    await register(page, shot, sandbox, body)
    await upload_documents(page, shot)
    await see_verified(page, shot)

    await page.get_by_role("link", name="消息中心").click()
    await expect(page.locator("li.message.unread").first).to_be_visible()
    await expect(page.locator("header .badge")).to_be_visible()
    await shot("messages")
    await page.locator("li.message.unread").first.get_by_role("button", name="标为已读").click()
    await page.get_by_role("button", name="全部标为已读").click()
    await expect(page.locator("li.message.unread")).to_have_count(0)
    await shot("messages-read")

    await page.get_by_role("link", name="隐私与授权").click()
    await page.select_option("#institution", label=institution)
    await page.select_option("#scope", "financials")
    await page.get_by_role("button", name="授权", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("已授权")
    await shot("privacy")
    await page.get_by_role("button", name="撤回授权").click()
    await expect(page.get_by_role("status")).to_contain_text("授权已撤回")
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Privacy and consent")).to_be_visible()
    await shot("privacy-english")
    await page.context.close()
    assert shot.found == {}, shot.found  # axe-core: no serious or critical violation on any step


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_a_rejected_owner_reads_why_and_resubmits_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    _, uscc, _, body = await rejected_for_a_typo(workbench.platform, sandbox)
    page = await portal_page(workbench, viewport)
    shot = Shots(workbench, page, f"portal-{viewport}-rejected")
    await log_in(page, body["account"]["username"])
    await page.get_by_role("link", name="企业认证").first.click()
    await correct_and_resubmit(page, shot, enterprise_record(uscc).legal_representative)
    await page.context.close()
    assert shot.found == {}, shot.found
