"""The applicant portal's steps in the browser, each written once: the registration, the
verification, the origination and the loan tests call them, and the whole-journey test
(tests/browser/test_portal_journey.py) calls them all in a row. Each step takes the page and a
``Shots`` that saves its screenshots (numbered in order), checks the page fits the screen and
collects axe-core's serious or critical findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from playwright.async_api import FilePayload, Page, ViewportSize, expect

from domain.calendar import business_today
from tests.browser.conftest import Workbench, serious_violations
from tests.integration import test_onboarding_api as onboarding
from tests.integration.material_files import STATEMENTS
from tests.integration.origination_support import Lender, answer_demand, approve, ask
from tests.integration.test_application_api import ACCOUNT
from tests.integration.test_onboarding_api import JPEG, PASSWORD, PDF, latest_code
from tests.materials_support import PDF as MATERIAL_PDF
from tests.support import SandboxProcess

VIEWPORTS: dict[str, ViewportSize] = {
    "mobile": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
DOCUMENTS = ("id_front", "id_back", "id_handheld", "business_licence")
PDF_TYPE = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUESTION = "请说明第三季度营收下降的原因"
VERIFIED = "认证已通过，现可发布融资需求"
REJECTED = "法定代表人姓名与身份证号码不一致"


async def portal_page(workbench: Workbench, viewport: str) -> Page:
    context = await workbench.browser.new_context(
        base_url=workbench.base_url,
        viewport=VIEWPORTS[viewport],
        locale="zh-CN",
    )
    return await context.new_page()


async def fits(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


@dataclass
class Shots:
    """Screenshots as tests/browser/artifacts/<prefix>-<nn>-<step>.png; each page fits the
    screen; axe-core's serious or critical findings by step (``found`` stays empty)."""

    workbench: Workbench
    page: Page
    prefix: str
    found: dict[str, list[str]] = field(default_factory=dict)
    taken: int = 0

    async def __call__(self, step: str) -> None:
        self.taken += 1
        await self.workbench.shot(self.page, f"{self.prefix}-{self.taken:02d}-{step}")
        await fits(self.page)
        if problems := await serious_violations(self.page):
            self.found[step] = problems


async def reload_until(page: Page, words: str, attempts: int = 60) -> None:
    """Reload until the page says ``words`` (the workflows move on in the background)."""
    for _ in range(attempts):
        if await page.get_by_text(words).count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(page.get_by_text(words).first).to_be_visible()


# ---- registration and verification --------------------------------------------------------


async def log_in(page: Page, username: str) -> None:
    await page.goto("/portal/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="登录").click()


def new_registration() -> dict[str, Any]:
    """A registration of a new enterprise (USCC, legal representative, mobile, account)."""
    return onboarding.registration_body(
        onboarding.new_uscc(), onboarding.new_id_number(), onboarding.new_mobile()
    )


async def register(page: Page, shot: Shots, sandbox: SandboxProcess, body: dict[str, Any]) -> None:
    """From the login page: register (a USCC refused as typed, then corrected), enter the SMS
    code, log in and land on the enterprise's home."""
    enterprise, rep, account = body["enterprise"], body["legal_representative"], body["account"]
    uscc = enterprise["uscc"]
    await page.goto("/portal/")
    await expect(page).to_have_url(f"{shot.workbench.base_url}/portal/login")
    await shot("login")
    await page.get_by_role("link", name="注册企业").click()
    await expect(page.locator("#password-rules")).to_contain_text("至少三类")

    await page.fill("#enterprise-name", enterprise["name"])
    await page.fill("#enterprise-uscc", uscc[:-1] + ("0" if uscc[-1] != "0" else "1"))
    await page.locator("#enterprise-uscc").blur()
    await expect(page.locator("#enterprise-uscc-error")).not_to_be_empty()  # as they type
    await shot("register-inline-error")
    await page.fill("#enterprise-uscc", uscc)
    await page.fill("#enterprise-registered_capital", enterprise["registered_capital"])
    await page.fill("#enterprise-founding_date", enterprise["founding_date"])
    await page.select_option("#enterprise-industry", enterprise["industry"])
    await page.fill("#enterprise-region", enterprise["region"])
    await page.fill("#legal_representative-name", rep["name"])
    await page.fill("#legal_representative-id_number", rep["id_number"])
    await page.fill("#legal_representative-mobile", rep["mobile"])
    await page.fill("#account-username", account["username"])
    await page.fill("#account-password", PASSWORD)
    await page.fill("#account-password_confirmation", PASSWORD)
    await page.locator("#account-password_confirmation").blur()
    await expect(page.locator("#enterprise-uscc-error")).to_be_empty()
    await shot("register-filled")
    await page.get_by_role("button", name="提交注册并发送验证码").click()

    await expect(page.get_by_role("heading", name="输入短信验证码")).to_be_visible()
    await shot("code")
    await page.fill("#code", await latest_code(sandbox, rep["mobile"]))
    await page.get_by_role("button", name="确认", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("注册已确认")
    await page.fill("#username", account["username"])
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name=enterprise["name"])).to_be_visible()
    await shot("home")


async def upload_documents(page: Page, shot: Shots) -> None:
    """From the home: the verification page, and the four documents uploaded one by one."""
    await page.get_by_role("link", name="企业认证").first.click()
    await shot("documents")
    for kind in DOCUMENTS:
        name = f"{kind}.pdf" if kind == "business_licence" else f"{kind}.jpg"
        content = PDF if kind == "business_licence" else JPEG + kind.encode()
        mime = PDF_TYPE if kind == "business_licence" else "image/jpeg"
        upload: FilePayload = {"name": name, "mimeType": mime, "buffer": content}
        await page.set_input_files(f"#file-{kind}", files=[upload])
        async with page.expect_navigation():  # the script uploads, then opens the answer
            await page.locator(f"form:has(#file-{kind}) button").click()
        await expect(page.get_by_role("status")).to_contain_text("材料已上传")


async def see_verified(page: Page, shot: Shots) -> None:
    await reload_until(page, VERIFIED)
    await shot("verified")


async def correct_and_resubmit(page: Page, shot: Shots, corrected_name: str) -> None:
    """On the verification page of a rejected owner: the reason in words, the legal
    representative's name corrected and the verification asked for again."""
    await reload_until(page, REJECTED)
    await shot("rejected")
    await page.fill("#rep-name", corrected_name)
    await page.get_by_role("button", name="重新提交认证").click()
    await expect(page.get_by_role("status")).to_contain_text("已重新提交")
    await shot("resubmitted")


# ---- origination --------------------------------------------------------------------------


async def post_demand(page: Page, shot: Shots) -> str:
    """From the home: a demand for ¥400,000 over 12 months (a zero amount refused as typed,
    then corrected), posted; its id."""
    await page.get_by_role("link", name="发布融资需求").first.click()
    await page.fill("#amount", "0")
    await page.locator("#amount").blur()
    await expect(page.locator("#amount-error")).not_to_be_empty()  # as they type
    await shot("demand-inline-error")
    await page.fill("#amount", "400000")
    await page.fill("#term_months", "12")
    await page.fill("#purpose", "采购原材料")
    await page.select_option("#financing_type", "credit")
    await page.select_option("#repayment_method", "equal_installment")
    await page.locator("#repayment_method").blur()
    await expect(page.locator("#amount-error")).to_be_empty()
    await shot("demand-filled")
    await page.get_by_role("button", name="发布需求").click()
    await expect(page.get_by_role("status")).to_contain_text("需求已发布")
    return page.url.partition("?")[0].rsplit("/", 1)[1]


async def see_matched(page: Page, shot: Shots, lender: Lender, demand_id: str) -> None:
    """The lender's product matched with its reasons, and the lender's answer (through the
    API) shown on the demand."""
    await reload_until(page, lender.product_name)
    await answer_demand(shot.workbench.platform, lender, demand_id)
    await reload_until(page, "有意向：参考年利率 3.95%")
    await page.locator("li.match.eligible details summary").first.click()
    await shot("demand-matched")


async def compare(page: Page, shot: Shots) -> None:
    await page.get_by_role("link", name="比较报价").click()
    await expect(page.get_by_role("heading", name="报价比较")).to_be_visible()
    await expect(page.get_by_text("补贴后净成本").first).to_be_visible()
    await shot("compare")


async def apply_with_statements(page: Page, shot: Shots, lender: Lender) -> str:
    """From the comparison: apply for the lender's product with the financial statements as
    an XLSX file; the application's id once it waits for people."""
    await page.get_by_role("link", name=f"申请「{lender.product_name}」").click()
    await expect(page.get_by_text("必需").first).to_be_visible()
    await page.locator("#material-financial_statements").set_input_files(
        files=[FilePayload(name="2025年报表.xlsx", mimeType=XLSX, buffer=STATEMENTS)]
    )
    await shot("apply")
    await page.get_by_role("button", name="提交申请").click()
    await expect(page.get_by_role("status")).to_contain_text("申请已提交")
    app_id = page.url.partition("?")[0].rsplit("/", 1)[1]
    await reload_until(page, "人工审批中")
    await shot("in-review")
    return app_id


async def answer_with_a_file(page: Page, shot: Shots, lender: Lender, app_id: str) -> None:
    """The supervisor asks (through the API); the owner answers with a PDF."""
    await ask(shot.workbench.platform, lender, app_id, QUESTION)
    await reload_until(page, QUESTION)
    await page.fill("#answer-text", "原材料涨价，已签新合同")
    # The answer carries a file: the purpose statement with the new purchase contract.
    await page.locator("#material-purpose_statement").set_input_files(
        files=[FilePayload(name="新采购合同说明.pdf", mimeType=PDF_TYPE, buffer=MATERIAL_PDF)]
    )
    await shot("question")
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("已提交给审批人员")
    await expect(page.locator("#materials")).to_contain_text("新采购合同说明.pdf")


async def read_the_offer(page: Page, shot: Shots, lender: Lender, app_id: str) -> None:
    """The supervisor approves at 4.20 % (through the API); the offer letter in the page on a
    desktop, a link to open it on a phone."""
    await approve(shot.workbench.platform, lender, app_id)
    await reload_until(page, "获取签约验证码")
    await reload_until(page, "下载要约函")  # the letter's PDF follows the offer
    if page.viewport_size and page.viewport_size["width"] >= 1000:
        await expect(page.locator("iframe.letter")).to_be_visible()
    else:
        await expect(page.get_by_role("link", name="打开要约函")).to_be_visible()
    await expect(page.get_by_text("4.20%").first).to_be_visible()
    await shot("offer-letter")


async def accept_by_keyboard(
    page: Page, shot: Shots, sandbox: SandboxProcess, mobile: str, signer: str
) -> None:
    """Signing by keyboard alone: the button by focus and Enter, the form by Enter in its
    field, with the code texted to the legal representative."""
    await page.get_by_role("button", name="获取签约验证码").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("验证码已发送至")
    code = await latest_code(sandbox, mobile, template="signing_code")
    await page.fill("#signer_name", signer)
    await page.fill("#code", code)
    await page.fill("#account", ACCOUNT)
    await shot("sign")
    await page.locator("#account").press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("已签署接受要约")


async def see_disbursement(page: Page, shot: Shots) -> None:
    """The money on its way to the account, shown by its last four digits only."""
    await reload_until(page, "放款时间")
    await expect(page.locator("#disbursement")).to_contain_text(ACCOUNT[-4:])
    await expect(page.locator("#disbursement")).not_to_contain_text(ACCOUNT)
    await shot("disbursed")


# ---- the loan -----------------------------------------------------------------------------


async def open_loan(page: Page, shot: Shots, installments: int = 12) -> str:
    """From any portal page: the loans, the enterprise's (only or newest) loan and its
    schedule; the loan's id."""
    await page.get_by_role("link", name="我的贷款").first.click()
    await expect(page.get_by_role("heading", name="贷款", exact=False).first).to_be_visible()
    await shot("loans")
    await page.locator("article[id^=loan-] a").first.click()
    await expect(page.get_by_role("heading", name="还款计划")).to_be_visible()
    await expect(page.locator("table.schedule tbody tr")).to_have_count(installments)
    await shot("loan")
    # The schedule scrolls inside its own box (reachable by keyboard), never the page.
    assert await page.locator(".table-wrap").first.get_attribute("tabindex") == "0"
    return page.url.partition("?")[0].rsplit("/", 1)[1]


async def pay_installment(page: Page, shot: Shots) -> None:
    """The next installment: the amount, the confirmation (by keyboard), the status; back on
    the loan."""
    await page.get_by_role("link", name="还款", exact=True).click()
    await expect(page.locator("#amount")).not_to_have_value("")
    await shot("pay")
    await page.get_by_role("button", name="下一步：确认").click()
    await expect(page.get_by_role("heading", name="请确认付款")).to_be_visible()
    await shot("pay-confirm")
    await page.get_by_role("button", name="确认支付").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("付款成功，已入账", timeout=30_000)
    await shot("paid")
    await page.get_by_role("link", name="返回贷款详情").click()


async def request_extension(page: Page, shot: Shots) -> None:
    """Three more months asked for; pending with the lender."""
    await page.get_by_role("link", name="申请展期").click()
    await page.fill("#extra_months", "3")
    await page.fill("#reason", "下游客户回款延迟，申请延长三个月")
    await shot("extension")
    await page.get_by_role("button", name="提交展期申请").click()
    await expect(page.get_by_role("status")).to_contain_text("展期申请已提交")
    await expect(page.locator("#extensions")).to_contain_text("待机构审批")
    await shot("extension-pending")


async def see_extension_approved(page: Page, shot: Shots) -> None:
    """After the lender's officer approved it."""
    for _ in range(60):
        await page.reload()
        if await page.locator("#extensions").get_by_text("已批准").count():
            break
        await page.wait_for_timeout(250)
    await expect(page.locator("#extensions")).to_contain_text("已批准")
    await shot("extension-approved")


async def pay_off(page: Page, shot: Shots) -> None:
    """A payoff quote for a week ahead, then paying it off today: the loan is closed."""
    await page.get_by_role("link", name="提前结清").click()
    day = (business_today() + timedelta(days=7)).isoformat()
    await page.fill("#valid_until", day)
    await page.get_by_role("button", name="查询报价").click()
    await expect(page.locator("dl.quote")).to_contain_text(f"至 {day} 24:00（北京时间）")
    await shot("payoff-quote")
    await page.get_by_role("button", name="下一步：确认结清").click()
    await expect(page.get_by_role("heading", name="请确认付款")).to_be_visible()
    await shot("payoff-confirm")
    await page.get_by_role("button", name="确认支付").click()
    await expect(page.get_by_role("status")).to_have_text("付款成功，已入账", timeout=30_000)
    await shot("paid-off")
    await page.get_by_role("link", name="返回贷款详情").click()
    await expect(page.locator("h1 .tag")).to_have_text("已结清")
